package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/richtext"
)

// Team email (E1–E4, I4, I9, M3, R2): mail that arrives for an inbox's
// addresses becomes email threads; agents' replies, outside notifications
// and chat transcripts leave through a durable outbox.

// Defaults of the outbox.
const (
	defaultMailRetry    = 30 * time.Second // first retry; doubles up to maxMailRetry
	maxMailRetry        = time.Hour
	defaultMailAttempts = 10 // about 8 hours of retries in all
	// assignedMailGap is how often a member is emailed at most about new
	// chat messages in one conversation assigned to them.
	assignedMailGap = 5 * time.Minute
)

// mailState is the app's email channel: the outbox's wake-up call and
// the throttle of chat notifications.
type mailState struct {
	wake chan struct{}

	mu       sync.Mutex
	notified map[[2]uint64]time.Time // (user, thread) → last notification about a chat message

	senders     *Limiter // new threads per sender (Config.MailNewThreadsPerHour)
	transcripts *Limiter // transcripts per recipient address (transcriptsPerHour)
	forwards    *Limiter // addresses forwarded to per user (forward.go)
}

// initMail readies the email channel: the outbox's wake-up call, the
// notification throttle and the senders' limits.
func (a *App) initMail() {
	a.mail.wake = make(chan struct{}, 1)
	a.mail.notified = map[[2]uint64]time.Time{}
	a.mail.senders = newSenderLimits(a.cfg.MailNewThreadsPerHour, a.cfg.MailNewThreadBurst, maxMailSenders, a.Now)
	a.mail.transcripts = newSenderLimits(transcriptsPerHour, transcriptsPerHour, maxTranscriptRecipients, a.Now)
	a.mail.forwards = newSenderLimits(forwardsPerHour, forwardBurst, maxForwarders, a.Now)
}

// startMail starts the outbox when outbound mail is configured. Close
// waits for it.
func (a *App) startMail() {
	if a.cfg.Mailer == nil && a.cfg.Accounts == nil {
		return
	}
	a.wg.Add(1)
	go a.runOutbox()
}

// wakeOutbox tells the outbox that mail is waiting.
func (a *App) wakeOutbox() {
	select {
	case a.mail.wake <- struct{}{}:
	default:
	}
}

// errNoMail is the answer where outbound mail is needed but not configured.
func errNoMail() error {
	return parley.Errorf(parley.EUNAVAILABLE, "email is not configured on this Parley (set PARLEY_SMTP_URL and PARLEY_MAIL_FROM): email threads cannot be replied to")
}

// ----- receiving -----

// MailRecipient reports whether mail for addr is taken: nil when an inbox
// has the address, ENOTFOUND otherwise. The SMTP receiver asks it for each
// RCPT TO.
func (a *App) MailRecipient(ctx context.Context, addr string) error {
	_, _, err := a.db.Mailbox(ctx, addr)
	return err
}

// DeliverMail stores an email that arrived for the inboxes' addresses in
// e.Recipients: one email thread message per inbox (E2). A retried
// delivery of the same Message-ID stores nothing new. Its error decides
// the SMTP answer (see mail.ReceiverOptions.Deliver); mail that would
// start a thread beyond the sender's limit (Config.MailNewThreadsPerHour)
// is ERATELIMIT, a temporary refusal.
//
// Automatic mail (see automaticMail) is stored but never answered: it
// notifies nobody, never reopens a thread, and a thread it starts is
// Automatic, in the Filtered view, where nothing Parley sends by itself
// ever goes out for it. So Parley's own notification, come back through a
// forwarding alias, stops there instead of starting a mail loop.
func (a *App) DeliverMail(ctx context.Context, e *parley.InboundEmail) error {
	auto := a.automaticMail(ctx, e)
	done := map[uint64]bool{}
	for _, rcpt := range e.Recipients {
		inboxID, mailboxID, err := a.db.Mailbox(ctx, rcpt)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue // removed since RCPT TO
		} else if err != nil {
			return err
		}
		if done[inboxID] {
			continue
		}
		done[inboxID] = true
		if err := a.receiveMail(ctx, inboxID, mailboxID, e, auto != ""); err != nil {
			return err
		}
	}
	if auto != "" {
		a.log.Info().Str("from", e.From.Email).Str("messageId", e.MessageID).Str("reason", auto).Msg("automatic mail: stored, not answered")
	}
	return nil
}

// automaticMail returns why e was sent by a machine rather than a person,
// or "": its headers say so (e.Auto: Auto-Submitted, Precedence, a
// delivery report…), it is a bounce (empty envelope sender, or from
// mailer-daemon@ or postmaster@), it is Parley's own mail come back
// (From PARLEY_MAIL_FROM or an inbox's address, or with a Message-ID that
// this Parley made), or it answers one of Parley's notifications.
func (a *App) automaticMail(ctx context.Context, e *parley.InboundEmail) string {
	if e.Auto != "" {
		return e.Auto
	}
	if e.EnvelopeFrom == parley.NullSender {
		return "empty envelope sender"
	}
	env, _ := parley.NormalizeEmail(e.EnvelopeFrom)
	for _, addr := range []string{e.From.Email, env} {
		if addr != "" && parley.IsMailSystemAddress(addr) {
			return "sent by a mail system (" + addr + ")"
		}
	}
	// The From header only: a forwarder may well put the inbox's own
	// address in the envelope of every customer's mail it passes on.
	if a.isOwnAddress(ctx, e.From.Email) {
		return "sent by Parley (" + e.From.Email + ")"
	}
	if _, own := a.ownMessageKind(ctx, e.MessageID); own {
		return "Parley's own Message-ID"
	}
	// An answer to a notification is an auto-responder's (or a member's):
	// not a conversation, and answering it might never end.
	for _, id := range append([]string{e.InReplyTo}, e.References...) {
		if kind, own := a.ownMessageKind(ctx, id); own && kind == "n" {
			return "answers a Parley notification"
		}
	}
	return ""
}

// isOwnAddress reports whether addr is one Parley sends from: the sender
// of notifications and transcripts, or an inbox's address.
func (a *App) isOwnAddress(ctx context.Context, addr string) bool {
	if a.cfg.MailFrom != "" && strings.EqualFold(addr, a.cfg.MailFrom) {
		return true
	}
	_, _, err := a.db.Mailbox(ctx, addr)
	return err == nil
}

// mailContact returns the contact with the sender's email, creating it if
// there is none.
func (a *App) mailContact(ctx context.Context, from parley.Address) (*parley.Contact, error) {
	for range 2 {
		c, err := a.db.ContactByEmail(ctx, from.Email)
		if err == nil {
			return c, nil
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
		first, last, _ := strings.Cut(from.Name, " ")
		c = &parley.Contact{Email: from.Email, FirstName: strings.TrimSpace(first), LastName: strings.TrimSpace(last), CreatedAt: a.Now()}
		err = a.db.CreateContact(ctx, c)
		if err == nil {
			return c, nil
		} else if parley.ErrorCode(err) != parley.ECONFLICT {
			return nil, err
		}
		// Another delivery created it just now: read it.
	}
	return nil, fmt.Errorf("contact for %s: created and missing", from.Email)
}

// receiveMail stores e in inbox inboxID (received by mailbox mailboxID):
// in the thread its references name, or in a new one. Mail from a blocked
// contact or a role address lands in Filtered (I4, I9) and never
// notifies; so does automatic mail (auto; see DeliverMail).
//
// Mail only ever changes a thread of its own sender's contact: reopens it
// if closed (R4), recording a THREAD_STATUS_CHANGE by the contact in the
// commit of the message, and marks it Blocked when the sender is blocked. Someone
// else who answers in a thread (a colleague in CC, as HubSpot shows them)
// joins it as themselves, their own contact the message's sender, and
// changes nothing of the thread: not its contact, not its status, not its
// Filtered flags. A blocked sender never joins another contact's thread:
// their mail starts a Filtered thread of their own, so that citing a
// Message-ID in References cannot push someone else's conversation into
// Filtered.
//
// A new thread is routed as its mailbox's routing says (E3, routingOf); it
// waits in the routing queue when nobody can take it. Replies into a thread
// are not routed, nor is a filtered thread (routable).
//
// A new thread counts against the sender's limit (Config.
// MailNewThreadsPerHour); beyond it the mail is ERATELIMIT and nothing is
// stored.
func (a *App) receiveMail(ctx context.Context, inboxID, mailboxID uint64, e *parley.InboundEmail, auto bool) error {
	// A sender over its limit with no contact yet is refused before one is
	// made, so a refused mail leaves nothing behind.
	if ok, _ := a.mail.senders.Check(senderKey(e.From.Email)); !ok {
		if _, err := a.db.ContactByEmail(ctx, e.From.Email); parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Errorf(parley.ERATELIMIT, "too many new conversations from %s", e.From.Email)
		}
	}
	c, err := a.mailContact(ctx, e.From)
	if err != nil {
		return err
	}
	atts, leftOut, err := a.mailFiles(ctx, e)
	if err != nil {
		return err
	}
	text := e.Text
	switch {
	case leftOut != "" && strings.TrimSpace(text) == "":
		text = limitString(leftOut, parley.MaxTextBytes)
	case leftOut != "":
		text = limitString(text, parley.MaxTextBytes-len(leftOut)-2) + "\n\n" + leftOut
	case strings.TrimSpace(text) == "" && len(atts) > 0:
		text = "" // the files are the message
	case strings.TrimSpace(text) == "":
		text = "(no text)"
	}
	if err := validBody(text, len(atts)); err != nil {
		return err
	}
	refs := make([]string, 0, len(e.References)+1)
	if e.InReplyTo != "" {
		refs = append(refs, e.InReplyTo)
	}
	for i := len(e.References) - 1; i >= 0; i-- {
		refs = append(refs, e.References[i])
	}
	blocked, role := c.Blocked, parley.IsRoleAddress(e.From.Email)
	reopened, filtered := false, false
	// The store may run Update more than once: the first answer of the
	// limiter holds for all runs.
	decided, allowed := false, false
	// A new thread of a mailbox that routes waits in the routing queue from
	// the commit that creates it until routed (as a chat does).
	routes := false
	var ticket *parley.TicketPreset
	if in, err := a.db.Inbox(ctx, inboxID); err == nil {
		if mb := in.MailboxByID(mailboxID); mb != nil {
			routes = mb.Routing.Mode != "" && mb.Routing.Mode != parley.RoutingNone
			ticket = mb.CreateTicket
		}
	}
	// A new thread of a mailbox that creates tickets gets its ticket in
	// the commit that creates it (E3): a retried delivery finds the
	// Message-ID and creates neither again.
	var newTicket *parley.Record
	var ticketEvent *parley.Message
	if ticket != nil && !auto {
		newTicket, ticketEvent = a.newMailTicket(ticket, e.Subject, mailboxID)
	}
	res, err := a.db.AppendMail(ctx, &parley.Message{
		Type: parley.TypeMessage, Text: text, SenderID: c.ActorID(), Direction: parley.Incoming, Attachments: atts, RichText: mailHTML(e),
		ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, CreatedAt: a.Now(),
		Recipients: inboundRecipients(e), // its To and Cc, for the reply's Cc (copies.go)
	}, parley.MailAppend{
		InboxID: inboxID, MessageID: e.MessageID, References: refs, QueueNew: routes,
		NewRecord: newTicket, RecordEvent: ticketEvent,
		NewThread: &parley.Thread{
			InboxID: inboxID, ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, ContactID: c.ID,
			Status: parley.StatusOpen, Subject: e.Subject, Blocked: blocked, RoleSender: role, Automatic: auto,
		},
		Join: func(t *parley.Thread) bool { return t.ContactID == c.ID || !blocked },
		// A reopening is recorded as an agent's is (SetThreadStatus), by
		// the contact.
		Reopen: &parley.Message{
			SenderID: c.ActorID(), Direction: parley.Incoming,
			ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, CreatedAt: a.Now(),
		},
		Update: func(t *parley.Thread) error {
			reopened, filtered = false, false
			if t.LastSeq == 0 { // the new thread
				if !decided {
					decided = true
					allowed, _ = a.mail.senders.Allow(senderKey(e.From.Email))
				}
				if !allowed {
					return parley.Errorf(parley.ERATELIMIT, "too many new conversations from %s", e.From.Email)
				}
				return nil
			}
			if t.ContactID != c.ID {
				return nil // someone else's thread: joined, not changed
			}
			if t.Status == parley.StatusClosed && !auto {
				t.Status, t.ClosedAt, reopened = parley.StatusOpen, parley.Thread{}.ClosedAt, true
			}
			if blocked && !t.Blocked {
				t.Blocked, filtered = true, true
			}
			return nil
		},
	})
	if err != nil || res.Duplicate {
		return err
	}
	t := res.Thread
	if res.Reopened != nil {
		a.events.MessageCreated(ctx, t, res.Reopened)
	}
	switch {
	case res.ThreadCreated:
		a.events.ThreadCreated(ctx, t)
	case reopened || filtered:
		a.events.ThreadUpdated(ctx, t, false)
	}
	a.events.MessageCreated(ctx, t, res.Message)
	if res.RecordEvent != nil {
		a.events.MessageCreated(ctx, t, res.RecordEvent)
		a.events.RecordChanged(ctx, res.Record)
		a.log.Info().Uint64("threadId", t.ID).Uint64("recordId", res.Record.ID).Msg("ticket created for a new email thread")
	}
	if res.ThreadCreated {
		if routed, err := a.routeThread(ctx, t); err != nil {
			a.log.Warn().Err(err).Uint64("threadId", t.ID).Msg("route email thread")
		} else if routed != nil {
			t = routed
		}
	}
	if !auto {
		a.notifyOutside(ctx, t, res.Message, res.ThreadCreated)
	}
	return nil
}

// ----- replying -----

// postEmailReply stores user u's reply on email thread t and queues it,
// in the same commit, to be sent from the thread's mailbox to the contact
// (E4: the caller's membership was checked with the thread). A reply on a
// closed thread reopens it (R4), recorded in that commit as the
// THREAD_STATUS_CHANGE of u that SetThreadStatus records. Without outbound
// mail it is EUNAVAILABLE.
//
// copies are its Cc and Bcc; nil means the thread's current Cc and no Bcc
// (replyCopies, copies.go).
func (a *App) postEmailReply(ctx context.Context, u *parley.User, t *parley.Thread, clientID, text, rich string, copies *ReplyCopies, atts []parley.Attachment) (*parley.Message, *parley.Thread, error) {
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return nil, nil, err
	}
	mb := in.MailboxByID(t.ChannelAccountID)
	if mb == nil {
		return nil, nil, parley.Errorf(parley.EINVALID, "this thread's email address (channel account %d) is no longer connected to inbox %q", t.ChannelAccountID, in.Name)
	}
	// A connected mailbox sends through its own account.
	if a.cfg.Mailer == nil && (mb.Connection == nil || a.cfg.Accounts == nil) {
		return nil, nil, errNoMail()
	}
	c, err := a.db.Contact(ctx, t.ContactID)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && c.ReplyEmail() == "" {
		return nil, nil, parley.Errorf(parley.EINVALID, "this thread has no contact with an email address to reply to")
	} else if err != nil {
		return nil, nil, err
	}
	to := parley.Address{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Email: c.Email}
	cc, bcc, err := a.replyCopies(ctx, t, c, copies)
	if err != nil {
		return nil, nil, err
	}
	refs, err := a.db.ThreadMailIDs(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...) // the first and the newest, as RFC 5322 suggests
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The email: what the agent wrote, the signatures, the message it
	// answers quoted. The signature as it is now (a socket's user may be
	// older).
	if fresh, err := a.db.User(ctx, u.ID); err == nil {
		u = fresh
	}
	quoted, err := a.answered(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	quotedName := ""
	if quoted != nil {
		quotedName = a.actorNameIn(ctx, quoted.SenderID, locale.Pick(u.Language, ""))
	}
	domain := domainOf(mb.Address)
	mailText, mailHTML := composeReply(locale.Pick(u.Language, ""), text, embedImages(rich, domain), []string{u.Signature, in.Signature}, quoted, quotedName)
	shown := imageFiles(rich)
	res, _, err := a.db.AppendMailReply(ctx, &parley.Message{
		ThreadID: t.ID, Type: parley.TypeMessage, Text: text, RichText: rich, SenderID: u.ActorID(), Direction: parley.Outgoing,
		ClientID: clientID, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
		Recipients: replyRecipients(to, cc, bcc), Attachments: atts,
	}, &parley.Message{
		SenderID: u.ActorID(), Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}, func(m *parley.Message, th *parley.Thread) (*parley.OutboxItem, error) {
		e := parley.Email{
			From:        parley.Address{Name: u.Name, Email: mb.Address},
			To:          []parley.Address{to},
			Cc:          slices.Clone(cc),
			Bcc:         slices.Clone(bcc),
			Subject:     parley.ReplySubject(th.Subject),
			Text:        mailText,
			HTML:        mailHTML,
			MessageID:   ownMessageID(key, "", m.ID, domain),
			Date:        m.CreatedAt,
			Attachments: slices.Clone(m.Attachments), // as recorded by the append
		}
		// The images the rich text shows go inline, as the parts its cid:
		// sources name.
		for i, at := range e.Attachments {
			if !slices.Contains(shown, at.FileID) {
				continue
			}
			if !at.Inline {
				return nil, parley.Errorf(parley.EINVALID, "richText shows file %q as an image, but it is no image; attach it instead", at.Name)
			}
			e.Attachments[i].ContentID = fileContentID(at.FileID, domain)
		}
		if len(refs) > 0 {
			e.InReplyTo, e.References = refs[len(refs)-1], slices.Clone(refs)
		}
		return &parley.OutboxItem{Kind: parley.OutboxReply, Email: e}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if !res.Duplicate {
		if res.Reopened != nil {
			a.events.MessageCreated(ctx, res.Thread, res.Reopened)
			a.events.ThreadUpdated(ctx, res.Thread, false)
		}
		a.events.MessageCreated(ctx, res.Thread, res.Message)
		a.wakeOutbox()
	}
	return res.Message, res.Thread, nil
}

// Parley's own Message-IDs: every email Parley sends has the Message-ID
// "parley-<kind><id>.<random>.<mac>@<domain>", where mac is a keyed hash
// (HMAC-SHA256 under the identification key, with a purpose string of its
// own) of what comes before it. Parley thus knows its own mail when it
// comes back (through a forwarding alias, say) without remembering every
// ID it sent, and never takes another's mail, not even another Parley's,
// for its own.

// ownMessageID returns a new Message-ID for the email about id of kind
// ("" for a reply, "n" for a notification, "t" for a transcript).
func ownMessageID(key []byte, kind string, id uint64, domain string) string {
	local := fmt.Sprintf("parley-%s%d.%s", kind, id, randomToken())
	return local + "." + messageIDMAC(key, local) + "@" + domain
}

func messageIDMAC(key []byte, local string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley message-id v1\x00"))
	m.Write([]byte(local))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// ownMessageKind reports whether id (without angle brackets) is a
// Message-ID that this Parley made, and of which kind (see ownMessageID).
func (a *App) ownMessageKind(ctx context.Context, id string) (kind string, ok bool) {
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.HasPrefix(id, "parley-") {
		return "", false
	}
	local := id[:at]
	dot := strings.LastIndexByte(local, '.')
	if dot < 0 {
		return "", false
	}
	key, err := a.identificationKey(ctx)
	if err != nil || !hmac.Equal([]byte(local[dot+1:]), []byte(messageIDMAC(key, local[:dot]))) {
		return "", false
	}
	kind = strings.TrimPrefix(local[:dot], "parley-")
	return kind[:strings.IndexAny(kind+".", "0123456789.")], true
}

func randomToken() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// domainOf is the domain of an address, for Message-IDs.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return strings.ToLower(addr[i+1:])
	}
	return "parley.invalid"
}

// ----- the outbox -----

// runOutbox sends what the outbox holds until the app closes: due items
// at once, the others when their retry time comes or when new mail wakes
// it. A restart resumes where it stopped. Close waits for a send under way
// (see sendItem), so a graceful stop never sends anything twice; mail whose
// sending was cut short is sent again at the next start (at least once,
// never lost).
func (a *App) runOutbox() {
	defer a.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	// A start tries everything queued at once, whatever its retry time:
	// restarts often follow a fix of the mail configuration.
	all := true
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-timer.C:
		case <-a.mail.wake:
		}
		next := a.sendDue(all)
		all = false
		wait := time.Minute
		if !next.IsZero() {
			wait = min(max(next.Sub(a.Now()), 10*time.Millisecond), time.Minute)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// sendDue sends the items that are due (all: every item, once) and
// returns when the next one is.
func (a *App) sendDue(all bool) time.Time {
	horizon := a.Now()
	if all {
		horizon = horizon.Add(100 * 365 * 24 * time.Hour)
	}
	sent := map[uint64]bool{}
	for a.ctx.Err() == nil {
		due, next, err := a.db.DueMail(a.ctx, horizon, 20)
		if err != nil {
			a.log.Error().Err(err).Msg("read outbox")
			return a.Now().Add(a.cfg.MailRetry)
		}
		due = slices.DeleteFunc(due, func(it *parley.OutboxItem) bool { return sent[it.ID] })
		if len(due) == 0 {
			if all {
				_, next, err = a.db.DueMail(a.ctx, a.Now(), 0)
				if err != nil {
					return a.Now().Add(a.cfg.MailRetry)
				}
			}
			return next
		}
		for _, it := range due {
			if a.ctx.Err() != nil {
				return time.Time{}
			}
			sent[it.ID] = true
			a.sendItem(it)
		}
		horizon = a.Now()
	}
	return time.Time{}
}

// Bounds of one send (sendItem).
const (
	// mailSendTimeout bounds one SMTP dialogue.
	mailSendTimeout = 2 * time.Minute
	// defaultMailStopGrace is how long Close lets a send under way finish
	// before it cuts it short (Config.MailStopGrace).
	defaultMailStopGrace = 30 * time.Second
	// mailRecordTimeout bounds recording the outcome of a send.
	mailRecordTimeout = 10 * time.Second
)

// sendItem sends one outbox item and records the outcome.
//
// Close does not cut a send short at once: it lets it finish for up to
// Config.MailStopGrace and then records its outcome, with a context of its own
// that the shutdown does not cancel, so a graceful stop never leaves an
// email that the SMTP server accepted in the outbox to be sent again.
// Once the server has accepted an email, the first thing done is marking
// it sent in the outbox (one bbolt commit). Only a crash (kill -9, power
// loss) between the server's acceptance and that commit, or a send cut
// short after Config.MailStopGrace at the very moment the server accepted it,
// still sends the email again at the next start: SMTP cannot tell a
// client whether mail it lost the answer to was delivered. The copy has
// the same Message-ID, by which mail clients may recognise it.
func (a *App) sendItem(it *parley.OutboxItem) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), mailSendTimeout)
	defer cancel()
	stop := context.AfterFunc(a.ctx, func() {
		// Shutting down: the send has MailStopGrace to finish.
		t := time.NewTimer(a.cfg.MailStopGrace)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			cancel()
		}
	})
	defer stop()
	mb, raw, err := a.sendOutboxItem(ctx, it)
	cut := err != nil && ctx.Err() != nil && a.ctx.Err() != nil
	cancel()
	if cut {
		return // cut short by the shutdown: the item stays for the next start
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(a.ctx), mailRecordTimeout)
	defer rcancel()
	if err == nil {
		// Accepted: marked sent before anything else.
		a.recordMail(rctx, it, "", false, time.Time{})
		if mb != nil {
			a.wg.Add(1)
			go a.storeSent(mb, raw, it.Email.Date, it.ID)
		}
		return
	}
	errText := limitString(parley.ErrorMessage(err), 500)
	if parley.ErrorCode(err) == parley.EINTERNAL {
		errText = limitString(err.Error(), 500)
	}
	final := parley.ErrorCode(err) == parley.EINVALID || it.Attempts+1 >= a.cfg.MailAttempts
	backoff := a.cfg.MailRetry << min(it.Attempts, 20)
	retryAt := a.Now().Add(min(backoff, maxMailRetry))
	a.log.Warn().Err(err).Uint64("outboxId", it.ID).Str("kind", it.Kind).Int("attempt", it.Attempts+1).Bool("final", final).Msg("send mail")
	a.recordMail(rctx, it, errText, final, retryAt)
}

// recordMail records the outcome of sending it (see store MailDone) and
// announces a reply's delivery status.
func (a *App) recordMail(ctx context.Context, it *parley.OutboxItem, errText string, final bool, retryAt time.Time) {
	item, d, err := a.db.MailDone(ctx, it.ID, errText, final, retryAt)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return // its thread was deleted meanwhile
	} else if err != nil {
		a.log.Error().Err(err).Uint64("outboxId", it.ID).Bool("sent", errText == "").Msg("record mail outcome")
		return
	}
	if item.MessageID != 0 && item.ThreadID != 0 {
		if t, err := a.db.Thread(ctx, item.ThreadID); err == nil {
			a.events.Delivery(t, item.MessageID, d)
		}
	}
}

// ----- outside notifications (M3) -----

// canSendSystemMail reports whether Parley can send mail of its own:
// notifications and transcripts need a Mailer and PARLEY_MAIL_FROM.
func (a *App) canSendSystemMail() bool { return a.cfg.Mailer != nil && a.cfg.MailFrom != "" }

// notifyOutside emails the members that the inbox's outside notifications
// name: about a new conversation (created) or about a contact's message in
// a conversation assigned to them. Filtered threads never notify, nor does
// automatic mail (its callers do not call it). Chat messages notify an
// assignee at most every assignedMailGap per conversation. Failures are
// logged: the message is stored already.
func (a *App) notifyOutside(ctx context.Context, t *parley.Thread, m *parley.Message, created bool) {
	if !a.canSendSystemMail() || t.IsFiltered() || m.Direction != parley.Incoming || m.Type != parley.TypeMessage {
		return
	}
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil || (len(in.Notify.NewConversation) == 0 && len(in.Notify.AssignedMessage) == 0) {
		return
	}
	var to []uint64
	if created {
		to = in.Notify.NewConversation
	}
	if !created && t.AssigneeID != 0 && slices.Contains(in.Notify.AssignedMessage, t.AssigneeID) && a.mayNotifyAssigned(t) {
		to = []uint64{t.AssigneeID}
	}
	link := strings.TrimRight(a.cfg.BaseURL, "/") + "/threads/" + idString(t.ID)
	if len(to) == 0 {
		return
	}
	key, err := a.identificationKey(ctx) // for the Message-IDs
	if err != nil {
		a.log.Error().Err(err).Uint64("threadId", t.ID).Msg("queue notification")
		return
	}
	for _, id := range to {
		u, err := a.db.User(ctx, id)
		if err != nil || u.Deactivated || !in.HasMember(u.ID) || u.Email == "" {
			continue
		}
		subject, text := notification(u, in, t, m, a.actorNameIn(ctx, m.SenderID, u.Language), created, link)
		item := &parley.OutboxItem{Kind: parley.OutboxNotification, ThreadID: t.ID, Email: parley.Email{
			From:    parley.Address{Name: "Parley", Email: a.cfg.MailFrom},
			To:      []parley.Address{{Name: u.Name, Email: u.Email}},
			Subject: subject, Text: text,
			MessageID:     ownMessageID(key, "n", t.ID, domainOf(a.cfg.MailFrom)),
			Date:          a.Now(),
			AutoSubmitted: parley.AutoGenerated,
		}}
		if err := a.db.QueueMail(ctx, item); err != nil {
			a.log.Error().Err(err).Uint64("threadId", t.ID).Msg("queue notification")
			continue
		}
		a.wakeOutbox()
	}
}

// notification writes the subject and text of the mail that tells user u
// about message m of thread t in inbox in, from contact (the thread's
// contact, or a colleague in CC), in u's language: a new conversation when
// created, else a message in a conversation assigned to u.
func notification(u *parley.User, in *parley.Inbox, t *parley.Thread, m *parley.Message, contact string, created bool, link string) (subject, text string) {
	lang := u.Language
	var intro string
	switch {
	case created && t.ChannelID == parley.ChannelEmail:
		subject = locale.Lookup(lang, "mail.notify.newEmailSubject", "contact", contact)
		intro = locale.Lookup(lang, "mail.notify.newEmailIntro", "contact", contact, "inbox", in.Name)
	case created:
		subject = locale.Lookup(lang, "mail.notify.newChatSubject", "contact", contact)
		intro = locale.Lookup(lang, "mail.notify.newChatIntro", "contact", contact, "inbox", in.Name)
	default:
		subject = locale.Lookup(lang, "mail.notify.messageSubject", "contact", contact)
		intro = locale.Lookup(lang, "mail.notify.messageIntro", "contact", contact, "inbox", in.Name)
	}
	if t.Subject != "" {
		subject += ": " + t.Subject
	}
	text = locale.Lookup(lang, "mail.notify.body", "name", u.Name, "intro", intro, "quote", quote(m.Text), "link", link)
	return limitString(subject, 250), text
}

// mayNotifyAssigned throttles notifications about chat messages: one per
// assignee and conversation every assignedMailGap. Email messages always
// notify.
func (a *App) mayNotifyAssigned(t *parley.Thread) bool {
	if t.ChannelID == parley.ChannelEmail {
		return true
	}
	now := a.Now()
	key := [2]uint64{t.AssigneeID, t.ID}
	a.mail.mu.Lock()
	defer a.mail.mu.Unlock()
	if last, ok := a.mail.notified[key]; ok && now.Sub(last) < assignedMailGap {
		return false
	}
	for k, at := range a.mail.notified { // keep the map small
		if now.Sub(at) >= assignedMailGap {
			delete(a.mail.notified, k)
		}
	}
	a.mail.notified[key] = now
	return true
}

// quote returns text as an email quote: "> " before each line, at most
// 40 lines.
func quote(text string) string {
	lines := strings.Split(text, "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "…")
	}
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// RetryReply queues email reply messageID of thread threadID, whose
// sending failed for good, again and announces it PENDING. Only a member
// of the thread's inbox may (others: ENOTFOUND); a reply that has not
// failed is ECONFLICT.
func (a *App) RetryReply(ctx context.Context, u *parley.User, threadID, messageID uint64) (*parley.Delivery, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	item, d, err := a.db.RetryMail(ctx, t.ID, messageID) // a reply, a forward, a transcript sent by hand
	if err != nil {
		return nil, err
	}
	a.log.Info().Uint64("outboxId", item.ID).Uint64("threadId", t.ID).Uint64("messageId", messageID).Uint64("userId", u.ID).Msg("retry mail")
	a.events.Delivery(t, messageID, d)
	a.wakeOutbox()
	return d, nil
}

// mailHTML is what Parley keeps of email e's HTML to show it formatted
// (richtext.Keep), "" for none.
func mailHTML(e *parley.InboundEmail) string {
	if e.HTML == "" {
		return ""
	}
	return richtext.Keep(e.HTML)
}
