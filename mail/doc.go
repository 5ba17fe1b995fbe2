// Package mail is Parley's email channel: a Sender that delivers outgoing
// mail (replies, outside notifications, transcripts) to an SMTP server, and
// a Receiver, an SMTP server of its own, that takes mail forwarded to the
// inboxes' addresses, parses it and hands it on. It is the one home of
// go-mail and go-smtp; it imports the root package and no other of
// Parley's.
//
// # Sending
//
// NewSender reads an SMTP URL: smtp://user:pass@host:port?tls=starttls.
// The tls option is the TLS policy: starttls (the default: STARTTLS is
// required), tls (implicit TLS, as on port 465; the scheme smtps means the
// same), opportunistic (STARTTLS when the server offers it) or none (plain
// text, allowed only for a loopback host). Every connection has a timeout.
// Send reports a refusal for good (an SMTP 5xx answer) as a parley error
// with code EINVALID, and anything worth retrying (no connection, 4xx) as
// any other error.
//
// # Receiving
//
// A Receiver accepts mail for the recipients its Recipient function knows
// (others get 550), bounded in size, recipients and time. Lines may be up
// to MaxLineBytes (64 KiB) long, far beyond RFC 5322's 998, since real
// mailers send HTML in long lines; a longer one is refused with 554. Each message is
// parsed (Parse) into a parley.InboundEmail and given to its Deliver
// function, whose error decides the SMTP answer: a parley error with code
// EINVALID is a permanent refusal (554), any other error a temporary one
// (451), so that the sending server retries; ERATELIMIT is a 451 that is
// not logged, ESTORAGE (the disk is full or failing) a 452 "insufficient
// system storage", not logged either. Mail that cannot be parsed is refused with 554 and nothing
// is delivered. The envelope's sender is passed on; an empty one
// (MAIL FROM:<>, a bounce) makes the mail automatic.
//
// # Connected mailboxes
//
// Accounts reaches the servers of a mailbox connected to an existing mail
// account (parley.MailAccounts): DialIMAP logs in to its IMAP server
// (go-imap v1) and gives a session that opens a folder read-only, lists
// UIDs, fetches a message without marking it seen (BODY.PEEK), waits with
// IDLE (or polls), finds the Sent folder (SPECIAL-USE \Sent, else "Sent")
// and appends to it; SendSMTP sends a rendered message through its SMTP
// server (go-smtp's client), so that the same bytes can be stored in the
// Sent folder. Every connection is checked where it really goes: unless
// AccountOptions.AllowPrivate, a dial to a loopback, private or otherwise
// non-public address fails (parley.PublicAddr), whatever the host name resolved
// to before; TLS mode none needs AccountOptions.AllowInsecure;
// certificates are always verified. Errors about a server are
// *parley.MailServerError with a kind (auth, tls, unreachable, …) and never
// hold the password.
//
// # Parsing
//
// Parse reads an RFC 5322 message with net/mail and mime/multipart. It
// decodes quoted-printable and base64 bodies and RFC 2047 encoded words,
// and every charset that golang.org/x/text implements (the WHATWG labels
// and the IANA registry's names; ISO-8859-1 is read as its superset
// Windows-1252, as browsers do) and UTF-7, in headers and in text/plain and
// text/html parts. Raw 8-bit headers, which name no charset, and text in
// no charset, US-ASCII or a charset unknown or unsupported are read as
// UTF-8 if they are valid UTF-8, else as Windows-1252; text that declares
// UTF-8 has invalid bytes replaced with U+FFFD. A charset never makes
// Parse fail. It takes the first text/plain part; a message with only HTML
// gets its HTML as text, read with the HTML tokenizer of golang.org/x/net:
// block elements end lines, lists keep their markers, scripts, styles and
// the head are dropped, and a link keeps its http, https or mailto target
// ("text <https://…>"). Attachments are skipped.
//
// Parse also tells mail that a machine sent (InboundEmail.Auto), so that
// Parley never answers it and two automatic systems cannot answer each
// other forever: an Auto-Submitted header with any value but "no" (RFC
// 3834), Precedence bulk, junk, list or auto_reply, X-Autoreply or
// X-Autorespond (as auto-responders set them), and a delivery report
// (Content-Type multipart/report).
package mail
