package parley

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Team email (E1–E4): the types and rules that the mail package, the store
// and the server share.

// roleLocalParts are the local parts (before the "@") that name a role or a
// machine rather than a person. Mail from them is not a business
// conversation and goes to the Filtered view (I4). The list follows the
// role addresses that hosted inboxes filter:
//
//   - machines that never read a reply: noreply, no-reply, no_reply,
//     donotreply, do-not-reply, do_not_reply, mailer-daemon, postmaster,
//     bounce, bounces, daemon, auto-reply, autoreply, notifications,
//     notification, alerts, notify;
//   - bulk senders: marketing, newsletter, newsletters, news, promotions,
//     offers, mailings, campaigns;
//   - team roles that write to many at once: sales, webmaster, hostmaster,
//     abuse, root, list, listserv, majordomo, unsubscribe, devnull.
//
// Deliberately not in it: info@, support@, admin@, billing@ and the like.
// Small businesses write from those as people, and their mail is a
// business conversation.
//
// A local part matches in any case, also with a "+tag" (noreply+42@) or a
// suffix after "-" or "." that starts with a digit (bounce-7@,
// mailer-daemon.2@).
var roleLocalParts = map[string]bool{
	"noreply": true, "no-reply": true, "no_reply": true, "donotreply": true, "do-not-reply": true, "do_not_reply": true,
	"mailer-daemon": true, "postmaster": true, "bounce": true, "bounces": true, "daemon": true,
	"auto-reply": true, "autoreply": true, "notifications": true, "notification": true, "alerts": true, "notify": true,
	"marketing": true, "newsletter": true, "newsletters": true, "news": true, "promotions": true, "offers": true,
	"mailings": true, "campaigns": true,
	"sales": true, "webmaster": true, "hostmaster": true, "abuse": true, "root": true,
	"list": true, "listserv": true, "majordomo": true, "unsubscribe": true, "devnull": true,
}

// IsRoleAddress reports whether email is a role-based address such as
// noreply@, marketing@ or sales@ (see roleLocalParts for the whole list):
// mail from it goes to the Filtered view (I4). Anything that is not an
// address is not a role address.
func IsRoleAddress(email string) bool {
	local, suffixed, ok := localPart(email)
	return ok && (roleLocalParts[local] || roleLocalParts[suffixed])
}

// IsMailSystemAddress reports whether email is the address of a mail
// system rather than a person: mailer-daemon@ or postmaster@, in any case,
// also with a "+tag" or a numbered suffix as IsRoleAddress reads them. Mail
// from them is a bounce or a report, never answered.
func IsMailSystemAddress(email string) bool {
	local, suffixed, ok := localPart(email)
	system := func(l string) bool { return l == "mailer-daemon" || l == "postmaster" }
	return ok && (system(local) || system(suffixed))
}

// localPart returns the lower-cased local part of email without a "+tag",
// and the same without a numbered suffix (bounce-1234, mailer-daemon.2:
// "bounce", "mailer-daemon"; "" when there is none). ok is false when
// email is not an address.
func localPart(email string) (local, suffixed string, ok bool) {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", "", false
	}
	local = strings.ToLower(email[:at])
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if i := strings.LastIndexAny(local, "-."); i > 0 && i < len(local)-1 && local[i+1] >= '0' && local[i+1] <= '9' {
		suffixed = local[:i]
	}
	return local, suffixed, true
}

// NormalizeEmail returns the bare address of s ("Ann <ann@x.org>" and
// " ann@x.org " give "ann@x.org") with its domain in lower case, or
// EINVALID when s is not one address of at most MaxNameBytes.
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || len(a.Address) > MaxNameBytes || strings.ContainsAny(a.Address, " \t\r\n<>\"") {
		return "", Errorf(EINVALID, "%q is not a valid email address", truncate(s, 80))
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return "", Errorf(EINVALID, "%q is not a valid email address", truncate(s, 80))
	}
	return a.Address[:at] + "@" + strings.ToLower(a.Address[at+1:]), nil
}

// Mailbox is one team email address of an inbox (E1, a "hosted address":
// mail forwarded to it lands in the inbox). Its ID is the channel account id
// of the email threads it receives; mailboxes and chat widgets share one id
// sequence, so a channel account id names one of them.
type Mailbox struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"` // as entered; matched case-insensitively
	// Routing gives new email threads arriving at the address to an agent
	// (E3): mode none (or empty: they stay unassigned), owner, users or
	// teams, as chat routes (ChooseAgent).
	Routing Routing `json:"routing,omitzero"`
	// Connection, when set, connects the address to an existing mail
	// account (mailconn.go): its mail is imported over IMAP and replies
	// leave through its SMTP server.
	Connection *MailConnection `json:"connection,omitempty"`
	// CreateTicket, when set, creates a ticket for every new email thread
	// arriving at the address (E3); nil creates none.
	CreateTicket *TicketPreset `json:"createTicket,omitempty"`
}

// Owners of a ticket created for a new email thread (TicketPreset.Owner).
const (
	TicketOwnerNone     = "none"     // no owner
	TicketOwnerAssignee = "assignee" // the agent routing assigns the thread to, when it does
	TicketOwnerUser     = "user"     // TicketPreset.OwnerID
)

// TicketPreset is what the ticket created for each new email thread of a
// mailbox starts with (E3): its stage and its owner.
type TicketPreset struct {
	Stage   string `json:"stage"` // one of RecordStages(RecordTicket)
	Owner   string `json:"owner"` // TicketOwnerNone, TicketOwnerAssignee or TicketOwnerUser
	OwnerID uint64 `json:"ownerId,omitempty"`
	// Language is the language of the admin who set it: a thread without
	// a subject names its ticket "(no subject)" in it.
	Language string `json:"language,omitempty"`
}

// Validate checks p as an admin saves it, naming field in errors: a ticket
// stage, an owner mode, and an owner id exactly for TicketOwnerUser. Whether
// that user is an active member of the inbox is the caller's to check.
func (p *TicketPreset) Validate(field string) error {
	stages := RecordStages(RecordTicket)
	ok := false
	for _, s := range stages {
		ok = ok || s == p.Stage
	}
	if !ok {
		return Errorf(EINVALID, "%s.stage must be one of %s", field, strings.Join(stages, ", "))
	}
	switch p.Owner {
	case TicketOwnerNone, TicketOwnerAssignee:
		if p.OwnerID != 0 {
			return Errorf(EINVALID, "%s.ownerId is only for owner %q", field, TicketOwnerUser)
		}
	case TicketOwnerUser:
		if p.OwnerID == 0 {
			return Errorf(EINVALID, "%s.ownerId is required with owner %q", field, TicketOwnerUser)
		}
	default:
		return Errorf(EINVALID, "%s.owner must be none, assignee or user", field)
	}
	return nil
}

// TicketName returns the name of a ticket for an email with subject: the
// subject on one line (control characters and runs of space become one
// space), cut to MaxNameBytes at a character boundary, or empty when
// nothing is left, so that it passes ValidateLine when not empty.
func TicketName(subject string) string {
	s := strings.Map(func(r rune) rune {
		if _, bad := lineBreaker(string(r)); bad || r == utf8.RuneError {
			return ' '
		}
		return r
	}, subject)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > MaxNameBytes {
		cut := MaxNameBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// ValidateMailRouting checks a mailbox's routing as an admin saves it (E3):
// mode none (or empty), owner, users or teams, and what ValidateRouting and a
// widget's routing require besides (no id twice, a bounded cap). field names
// the setting in errors. Whether the users are active members of the inbox
// and the teams exist is the caller's to check.
func ValidateMailRouting(field string, r Routing) error {
	switch r.Mode {
	case "", RoutingNone, RoutingOwner, RoutingUsers, RoutingTeams:
	default:
		return Errorf(EINVALID, "%s.mode must be none, owner, users or teams", field)
	}
	if r.Mode == RoutingUsers && len(r.UserIDs) == 0 {
		return Errorf(EINVALID, "%s.userIds needs at least one user in mode users", field)
	}
	if r.Mode == RoutingTeams && len(r.TeamIDs) == 0 {
		return Errorf(EINVALID, "%s.teamIds needs at least one team in mode teams", field)
	}
	if len(r.UserIDs) > MaxWidgetPicks || len(r.TeamIDs) > MaxWidgetPicks {
		return Errorf(EINVALID, "%s names more than %d users or teams", field, MaxWidgetPicks)
	}
	if err := uniqueIDs(field+".userIds", r.UserIDs); err != nil {
		return err
	}
	if err := uniqueIDs(field+".teamIds", r.TeamIDs); err != nil {
		return err
	}
	if r.MaxOpenPerAgent < 0 || r.MaxOpenPerAgent > MaxOpenPerAgentLimit {
		return Errorf(EINVALID, "%s.maxOpenPerAgent must be from 0 (no cap) to %d", field, MaxOpenPerAgentLimit)
	}
	return nil
}

// NormalizeMailRouting drops what r's mode does not use, so that what is
// stored is what routes.
func NormalizeMailRouting(r Routing) Routing {
	if r.Mode == "" {
		r.Mode = RoutingNone
	}
	if r.Mode != RoutingUsers {
		r.UserIDs = nil
	}
	if r.Mode != RoutingTeams {
		r.TeamIDs = nil
	}
	if r.Mode != RoutingOwner {
		r.FallbackUserID = 0
	}
	if r.Mode == RoutingNone {
		r.MaxOpenPerAgent = 0
	}
	return r
}

// InboxNotify are an inbox's outside notifications (M3): which members get
// an email about what. Members not listed get none; Filtered threads never
// notify.
type InboxNotify struct {
	// NewConversation lists the members emailed when a conversation starts.
	NewConversation []uint64 `json:"newConversation,omitempty"`
	// AssignedMessage lists the members emailed when a contact writes in a
	// conversation assigned to them.
	AssignedMessage []uint64 `json:"assignedMessage,omitempty"`
}

// MailboxByID returns the inbox's mailbox id, or nil.
func (in *Inbox) MailboxByID(id uint64) *Mailbox {
	for i := range in.Mailboxes {
		if in.Mailboxes[i].ID == id {
			return &in.Mailboxes[i]
		}
	}
	return nil
}

// Address is a mail address with an optional display name.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// String returns the address in RFC 5322 form, "Name <email>".
func (a Address) String() string {
	return (&mail.Address{Name: a.Name, Address: a.Email}).String()
}

// Email is one message that Parley sends: a reply, a notification or a
// transcript. Text is required; HTML, if set, is its alternative. MessageID
// is without angle brackets; InReplyTo and References name the messages
// it answers, oldest reference first.
type Email struct {
	From Address   `json:"from"`
	To   []Address `json:"to"`
	// Cc are copies named in the Cc header; Bcc are blind copies, sent to
	// but never named in any header.
	Cc         []Address `json:"cc,omitempty"`
	Bcc        []Address `json:"bcc,omitempty"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	HTML       string    `json:"html,omitempty"`
	MessageID  string    `json:"messageId"`
	InReplyTo  string    `json:"inReplyTo,omitempty"`
	References []string  `json:"references,omitempty"`
	// ReplyTo, if set, is where answers should go instead of From (a
	// transcript's: the inbox's own address).
	ReplyTo Address   `json:"replyTo,omitzero"`
	Date    time.Time `json:"date"`
	// AutoSubmitted is the email's Auto-Submitted header (RFC 3834): ""
	// for mail a person wrote (an agent's reply), AutoGenerated for what
	// Parley sends by itself (notifications, transcripts), AutoReplied for
	// an automatic answer to a mail. Other systems do not answer such mail
	// automatically, so that two of them never answer each other forever.
	AutoSubmitted AutoSubmitted `json:"autoSubmitted,omitempty"`
	// Attachments are files sent with the email, read from the BlobStore
	// when it is built; an inline image with a ContentID is embedded for
	// the HTML to name.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// AutoSubmitted is a value of the Auto-Submitted header (RFC 3834).
type AutoSubmitted string

// Values of AutoSubmitted.
const (
	AutoGenerated AutoSubmitted = "auto-generated" // sent by itself, not answering a mail
	AutoReplied   AutoSubmitted = "auto-replied"   // an automatic answer to a mail
)

// UnmarshalJSON reads an AutoSubmitted, and also the true of outbox items
// queued before it was a string, which meant AutoGenerated.
func (a *AutoSubmitted) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*a = AutoGenerated
		return nil
	case "false", "null":
		*a = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*a = AutoSubmitted(s)
	return nil
}

// InboundEmail is a parsed email that arrived for one of the inboxes'
// addresses. MessageID, InReplyTo and References are without angle
// brackets; Text is the message's plain text (or its HTML as text).
type InboundEmail struct {
	From       Address  `json:"from"`
	Recipients []string `json:"recipients"` // the envelope's RCPT TO, as given
	// To and Cc are the addresses of the To and Cc headers, in order, at
	// most MaxKeptRecipients of both together (the first ones).
	To []Address `json:"to,omitempty"`
	Cc []Address `json:"cc,omitempty"`
	// EnvelopeFrom is the envelope's sender (SMTP MAIL FROM) as given:
	// NullSender for the empty sender <> of bounces and other delivery
	// reports, "" when unknown (the mail did not come over SMTP).
	EnvelopeFrom string `json:"envelopeFrom,omitempty"`
	// Auto, when not empty, says why the mail's own headers mark it as sent
	// by a machine rather than a person, e.g. "Auto-Submitted: auto-replied"
	// (see mail.Parse).
	Auto       string    `json:"auto,omitempty"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	MessageID  string    `json:"messageId"`
	InReplyTo  string    `json:"inReplyTo,omitempty"`
	References []string  `json:"references,omitempty"`
	Date       time.Time `json:"date,omitzero"`
	// HTML is the mail's HTML body as it came (at most MaxMailHTMLBytes;
	// a larger one is left out), "" for none. It is never shown as it is:
	// the richtext package decides what of it the console shows.
	HTML string `json:"-"`
	// Files are the mail's attachments and inline images, in the order of
	// the message, as many as one message carries (MaxMessageFiles, each
	// at most MaxFileBytes, MaxMessageFileBytes together).
	Files []InboundFile `json:"-"`
	// FilesLeftOut names the files that were not kept, each with why
	// ("big.zip: larger than 15 MB"): they are noted in the message.
	FilesLeftOut []string `json:"filesLeftOut,omitempty"`
}

// MaxMailHTMLBytes bounds the HTML body of an incoming mail that Parley
// keeps to show it formatted; its text is kept either way.
const MaxMailHTMLBytes = 512 << 10

// InboundFile is a file that came with an email: an attachment, or an
// image inside it (ContentID, named by its HTML as "cid:…").
type InboundFile struct {
	Name      string `json:"name"`      // as the mail names it (CleanFileName makes it safe)
	ContentID string `json:"contentId"` // without angle brackets; "" for none
	Data      []byte `json:"-"`
}

// NullSender is InboundEmail.EnvelopeFrom for the empty envelope sender
// (MAIL FROM:<>) of bounces and other delivery reports (RFC 5321 4.5.5).
const NullSender = "<>"

// Outbox kinds: why a queued email is sent.
const (
	OutboxReply        = "reply"        // an agent's reply on an email thread (E4)
	OutboxNotification = "notification" // an outside notification (M3)
	OutboxTranscript   = "transcript"   // a chat transcript on close (R2)
	OutboxForward      = "forward"      // a thread forwarded by an agent
)

// Delivery statuses of an outgoing email, shown as a message's status.
const (
	DeliveryPending = "PENDING" // queued, not yet accepted by the SMTP server
	DeliverySent    = "SENT"    // accepted by the SMTP server
	DeliveryFailed  = "FAILED"  // refused for good, or retries exhausted
)

// OutboxItem is an email waiting in the durable outbox. The outbox sends it,
// retrying with backoff until the SMTP server accepts it or refuses it for
// good.
type OutboxItem struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`                // OutboxReply, …
	MessageID uint64    `json:"messageId,omitempty"` // the reply's message, whose status this is
	ThreadID  uint64    `json:"threadId,omitempty"`
	Email     Email     `json:"email"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"nextAt"` // not before
	LastError string    `json:"lastError,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// Delivery is the sending status of an outgoing email message.
type Delivery struct {
	Status   string    `json:"status"` // DeliveryPending, DeliverySent or DeliveryFailed
	Attempts int       `json:"attempts,omitempty"`
	Error    string    `json:"error,omitempty"` // the last failure, for FAILED and retries
	At       time.Time `json:"at"`
}

// ReplySubject returns the subject of a reply to subject: "Re: " in front,
// once.
func ReplySubject(subject string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		return "Re: (no subject)"
	}
	if len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		return s
	}
	return "Re: " + s
}
