package server

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
)

// Team email (E1–E4, I4, I9, M3, R2): mail that arrives for an inbox's
// addresses becomes email threads; agents' replies, outside notifications
// and chat transcripts leave through a durable outbox.

// Mailer sends one email and returns once an SMTP server accepted it. A
// parley error with code EINVALID is a refusal for good; any other error is
// worth a retry. *mail.Sender implements it.
type Mailer interface {
	Send(ctx context.Context, e *parley.Email) error
}

// Defaults of the outbox.
const (
	defaultMailRetry    = 30 * time.Second // first retry; doubles up to maxMailRetry
	maxMailRetry        = time.Hour
	defaultMailAttempts = 10 // about 8 hours of retries in all
	// assignedMailGap is how often a member is emailed at most about new
	// chat messages in one conversation assigned to them.
	assignedMailGap = 5 * time.Minute
)

// mailState is the server's email channel: the outbox's wake-up call and
// the throttle of chat notifications.
type mailState struct {
	wake chan struct{}

	mu       sync.Mutex
	notified map[[2]uint64]time.Time // (user, thread) → last notification about a chat message

	senders *keyedLimiter // new threads per sender (Config.MailNewThreadsPerHour)
}

// startMail starts the outbox when outbound mail is configured. The
// outbox's goroutine counts as a connection, so Close waits for it.
func (s *Server) startMail() {
	s.mail.wake = make(chan struct{}, 1)
	s.mail.notified = map[[2]uint64]time.Time{}
	if s.cfg.MailRetry <= 0 {
		s.cfg.MailRetry = defaultMailRetry
	}
	if s.cfg.MailAttempts <= 0 {
		s.cfg.MailAttempts = defaultMailAttempts
	}
	if s.cfg.MailNewThreadsPerHour == 0 {
		s.cfg.MailNewThreadsPerHour = defaultMailNewThreadsPerHour
	}
	if s.cfg.MailNewThreadBurst <= 0 {
		s.cfg.MailNewThreadBurst = defaultMailNewThreadBurst
	}
	s.mail.senders = newSenderLimits(s.cfg.MailNewThreadsPerHour, s.cfg.MailNewThreadBurst, maxMailSenders, s.now)
	if s.cfg.Mailer == nil {
		return
	}
	s.conns.Add(1)
	go s.runOutbox()
}

// wakeOutbox tells the outbox that mail is waiting.
func (s *Server) wakeOutbox() {
	select {
	case s.mail.wake <- struct{}{}:
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
func (s *Server) MailRecipient(ctx context.Context, addr string) error {
	_, _, err := s.db.Mailbox(ctx, addr)
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
func (s *Server) DeliverMail(ctx context.Context, e *parley.InboundEmail) error {
	auto := s.automaticMail(ctx, e)
	done := map[uint64]bool{}
	for _, rcpt := range e.Recipients {
		inboxID, mailboxID, err := s.db.Mailbox(ctx, rcpt)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue // removed since RCPT TO
		} else if err != nil {
			return err
		}
		if done[inboxID] {
			continue
		}
		done[inboxID] = true
		if err := s.receiveMail(ctx, inboxID, mailboxID, e, auto != ""); err != nil {
			return err
		}
	}
	if auto != "" {
		s.log.Info().Str("from", e.From.Email).Str("messageId", e.MessageID).Str("reason", auto).Msg("automatic mail: stored, not answered")
	}
	return nil
}

// automaticMail returns why e was sent by a machine rather than a person,
// or "": its headers say so (e.Auto: Auto-Submitted, Precedence, a
// delivery report…), it is a bounce (empty envelope sender, or from
// mailer-daemon@ or postmaster@), it is Parley's own mail come back
// (From PARLEY_MAIL_FROM or an inbox's address, or with a Message-ID that
// this Parley made), or it answers one of Parley's notifications.
func (s *Server) automaticMail(ctx context.Context, e *parley.InboundEmail) string {
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
	if s.isOwnAddress(ctx, e.From.Email) {
		return "sent by Parley (" + e.From.Email + ")"
	}
	if _, own := s.ownMessageKind(ctx, e.MessageID); own {
		return "Parley's own Message-ID"
	}
	// An answer to a notification is an auto-responder's (or a member's):
	// not a conversation, and answering it might never end.
	for _, id := range append([]string{e.InReplyTo}, e.References...) {
		if kind, own := s.ownMessageKind(ctx, id); own && kind == "n" {
			return "answers a Parley notification"
		}
	}
	return ""
}

// isOwnAddress reports whether addr is one Parley sends from: the sender
// of notifications and transcripts, or an inbox's address.
func (s *Server) isOwnAddress(ctx context.Context, addr string) bool {
	if s.cfg.MailFrom != "" && strings.EqualFold(addr, s.cfg.MailFrom) {
		return true
	}
	_, _, err := s.db.Mailbox(ctx, addr)
	return err == nil
}

// mailContact returns the contact with the sender's email, creating it if
// there is none.
func (s *Server) mailContact(ctx context.Context, from parley.Address) (*parley.Contact, error) {
	for range 2 {
		c, err := s.db.ContactByEmail(ctx, from.Email)
		if err == nil {
			return c, nil
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
		first, last, _ := strings.Cut(from.Name, " ")
		c = &parley.Contact{Email: from.Email, FirstName: strings.TrimSpace(first), LastName: strings.TrimSpace(last), CreatedAt: s.now()}
		err = s.db.CreateContact(ctx, c)
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
// if closed (R4) and marks it Blocked when the sender is blocked. Someone
// else who answers in a thread (a colleague in CC, as HubSpot shows them)
// joins it as themselves, their own contact the message's sender, and
// changes nothing of the thread: not its contact, not its status, not its
// Filtered flags. A blocked sender never joins another contact's thread:
// their mail starts a Filtered thread of their own, so that citing a
// Message-ID in References cannot push someone else's conversation into
// Filtered.
//
// A new thread counts against the sender's limit (Config.
// MailNewThreadsPerHour); beyond it the mail is ERATELIMIT and nothing is
// stored.
func (s *Server) receiveMail(ctx context.Context, inboxID, mailboxID uint64, e *parley.InboundEmail, auto bool) error {
	// A sender over its limit with no contact yet is refused before one is
	// made, so a refused mail leaves nothing behind.
	if ok, _ := s.mail.senders.check(senderKey(e.From.Email)); !ok {
		if _, err := s.db.ContactByEmail(ctx, e.From.Email); parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Errorf(parley.ERATELIMIT, "too many new conversations from %s", e.From.Email)
		}
	}
	c, err := s.mailContact(ctx, e.From)
	if err != nil {
		return err
	}
	text := e.Text
	if strings.TrimSpace(text) == "" {
		text = "(no text)"
	}
	if err := parley.ValidateText(text); err != nil {
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
	res, err := s.db.AppendMail(ctx, &parley.Message{
		Type: parley.TypeMessage, Text: text, SenderID: c.ActorID(), Direction: parley.Incoming,
		ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, CreatedAt: s.now(),
	}, parley.MailAppend{
		InboxID: inboxID, MessageID: e.MessageID, References: refs,
		NewThread: &parley.Thread{
			InboxID: inboxID, ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, ContactID: c.ID,
			Status: parley.StatusOpen, Subject: e.Subject, Blocked: blocked, RoleSender: role, Automatic: auto,
		},
		Join: func(t *parley.Thread) bool { return t.ContactID == c.ID || !blocked },
		Update: func(t *parley.Thread) error {
			reopened, filtered = false, false
			if t.LastSeq == 0 { // the new thread
				if !decided {
					decided = true
					allowed, _ = s.mail.senders.allow(senderKey(e.From.Email))
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
	switch {
	case res.ThreadCreated:
		s.publishThread(ctx, "thread.created", t, false)
	case reopened || filtered:
		s.publishThread(ctx, "thread.updated", t, false)
	}
	s.publishMessage(ctx, t, res.Message)
	if res.ThreadCreated {
		if routed, err := s.routeThread(ctx, t); err != nil {
			s.log.Warn().Err(err).Uint64("threadId", t.ID).Msg("route email thread")
		} else if routed != nil {
			t = routed
		}
	}
	if !auto {
		s.notifyOutside(ctx, t, res.Message, res.ThreadCreated)
	}
	return nil
}

// ----- replying -----

// postEmailReply stores user u's reply on email thread t and queues it,
// in the same commit, to be sent from the thread's mailbox to the contact
// (E4: the caller's membership was checked with the thread). Without
// outbound mail it is EUNAVAILABLE.
func (s *Server) postEmailReply(ctx context.Context, u *parley.User, t *parley.Thread, clientID, text string) (*parley.Message, *parley.Thread, error) {
	if s.cfg.Mailer == nil {
		return nil, nil, errNoMail()
	}
	in, err := s.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return nil, nil, err
	}
	mb := in.MailboxByID(t.ChannelAccountID)
	if mb == nil {
		return nil, nil, parley.Errorf(parley.EINVALID, "this thread's email address (channel account %d) is no longer connected to inbox %q", t.ChannelAccountID, in.Name)
	}
	c, err := s.db.Contact(ctx, t.ContactID)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && c.ReplyEmail() == "" {
		return nil, nil, parley.Errorf(parley.EINVALID, "this thread has no contact with an email address to reply to")
	} else if err != nil {
		return nil, nil, err
	}
	refs, err := s.db.ThreadMailIDs(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) > 20 {
		refs = append(refs[:1], refs[len(refs)-19:]...) // the first and the newest, as RFC 5322 suggests
	}
	key, err := s.identificationKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	domain := domainOf(mb.Address)
	res, _, err := s.db.AppendMailReply(ctx, &parley.Message{
		ThreadID: t.ID, Type: parley.TypeMessage, Text: text, SenderID: u.ActorID(), Direction: parley.Outgoing,
		ClientID: clientID, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}, func(m *parley.Message, th *parley.Thread) (*parley.OutboxItem, error) {
		e := parley.Email{
			From:      parley.Address{Name: u.Name, Email: mb.Address},
			To:        []parley.Address{{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Email: c.Email}},
			Subject:   parley.ReplySubject(th.Subject),
			Text:      m.Text,
			MessageID: ownMessageID(key, "", m.ID, domain),
			Date:      m.CreatedAt,
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
		s.publishMessage(ctx, res.Thread, res.Message)
		s.wakeOutbox()
	}
	return res.Message, res.Thread, nil
}

// messageStatus is a message's status in the v3 API: SENT for what Parley
// stored, and for email replies the state of their delivery (PENDING,
// SENT or FAILED, with the reason).
func (s *Server) messageStatus(ctx context.Context, t *parley.Thread, m *parley.Message) map[string]string {
	st := map[string]string{"statusType": parley.DeliverySent}
	if t.ChannelID != parley.ChannelEmail || m.Direction != parley.Outgoing || m.Type != parley.TypeMessage {
		return st
	}
	d, err := s.db.Delivery(ctx, t.ID, m.ID)
	if err != nil {
		s.log.Warn().Err(err).Uint64("messageId", m.ID).Msg("read delivery status")
		return st
	}
	if d != nil {
		st["statusType"] = d.Status
		if d.Error != "" {
			st["failureDetails"] = d.Error
		}
	}
	return st
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
func (s *Server) ownMessageKind(ctx context.Context, id string) (kind string, ok bool) {
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.HasPrefix(id, "parley-") {
		return "", false
	}
	local := id[:at]
	dot := strings.LastIndexByte(local, '.')
	if dot < 0 {
		return "", false
	}
	key, err := s.identificationKey(ctx)
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

// evDelivery tells consoles how sending a reply went (docs/websocket.md).
type evDelivery struct {
	Type      string `json:"type"` // message.delivery
	ThreadID  string `json:"threadId"`
	MessageID string `json:"messageId"`
	Status    string `json:"status"` // PENDING, SENT or FAILED
	Error     string `json:"error,omitempty"`
}

// runOutbox sends what the outbox holds until the server closes: due items
// at once, the others when their retry time comes or when new mail wakes
// it. A restart resumes where it stopped; mail whose sending was cut short
// by the shutdown is sent again (at least once, never lost).
func (s *Server) runOutbox() {
	defer s.conns.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	// A start tries everything queued at once, whatever its retry time:
	// restarts often follow a fix of the mail configuration.
	all := true
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
		case <-s.mail.wake:
		}
		next := s.sendDue(all)
		all = false
		wait := time.Minute
		if !next.IsZero() {
			wait = min(max(next.Sub(s.now()), 10*time.Millisecond), time.Minute)
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
func (s *Server) sendDue(all bool) time.Time {
	horizon := s.now()
	if all {
		horizon = horizon.Add(100 * 365 * 24 * time.Hour)
	}
	sent := map[uint64]bool{}
	for s.ctx.Err() == nil {
		due, next, err := s.db.DueMail(s.ctx, horizon, 20)
		if err != nil {
			s.log.Error().Err(err).Msg("read outbox")
			return s.now().Add(s.cfg.MailRetry)
		}
		due = slices.DeleteFunc(due, func(it *parley.OutboxItem) bool { return sent[it.ID] })
		if len(due) == 0 {
			if all {
				_, next, err = s.db.DueMail(s.ctx, s.now(), 0)
				if err != nil {
					return s.now().Add(s.cfg.MailRetry)
				}
			}
			return next
		}
		for _, it := range due {
			if s.ctx.Err() != nil {
				return time.Time{}
			}
			sent[it.ID] = true
			s.sendItem(it)
		}
		horizon = s.now()
	}
	return time.Time{}
}

// sendItem sends one outbox item and records the outcome.
func (s *Server) sendItem(it *parley.OutboxItem) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
	err := s.cfg.Mailer.Send(ctx, &it.Email)
	cancel()
	if err != nil && s.ctx.Err() != nil {
		return // shutting down: the item stays for the next start
	}
	var errText string
	final := false
	retryAt := time.Time{}
	if err != nil {
		errText = limitString(parley.ErrorMessage(err), 500)
		if parley.ErrorCode(err) == parley.EINTERNAL {
			errText = limitString(err.Error(), 500)
		}
		final = parley.ErrorCode(err) == parley.EINVALID || it.Attempts+1 >= s.cfg.MailAttempts
		backoff := s.cfg.MailRetry << min(it.Attempts, 20)
		retryAt = s.now().Add(min(backoff, maxMailRetry))
		s.log.Warn().Err(err).Uint64("outboxId", it.ID).Str("kind", it.Kind).Int("attempt", it.Attempts+1).Bool("final", final).Msg("send mail")
	}
	item, d, err := s.db.MailDone(s.ctx, it.ID, errText, final, retryAt)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return // its thread was deleted meanwhile
	} else if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error().Err(err).Uint64("outboxId", it.ID).Msg("record mail outcome")
		}
		return
	}
	if item.MessageID != 0 && item.ThreadID != 0 {
		if t, err := s.db.Thread(s.ctx, item.ThreadID); err == nil {
			s.hub.Publish(mustJSON(evDelivery{Type: "message.delivery", ThreadID: idString(t.ID), MessageID: idString(item.MessageID),
				Status: d.Status, Error: d.Error}), parley.InboxTopic(t.InboxID))
		}
	}
}

// ----- outside notifications (M3) -----

// canSendSystemMail reports whether Parley can send mail of its own:
// notifications and transcripts need a Mailer and PARLEY_MAIL_FROM.
func (s *Server) canSendSystemMail() bool { return s.cfg.Mailer != nil && s.cfg.MailFrom != "" }

// notifyOutside emails the members that the inbox's outside notifications
// name: about a new conversation (created) or about a contact's message in
// a conversation assigned to them. Filtered threads never notify, nor does
// automatic mail (its callers do not call it). Chat messages notify an
// assignee at most every assignedMailGap per conversation. Failures are
// logged: the message is stored already.
func (s *Server) notifyOutside(ctx context.Context, t *parley.Thread, m *parley.Message, created bool) {
	if !s.canSendSystemMail() || t.IsFiltered() || m.Direction != parley.Incoming || m.Type != parley.TypeMessage {
		return
	}
	in, err := s.db.Inbox(ctx, t.InboxID)
	if err != nil || (len(in.Notify.NewConversation) == 0 && len(in.Notify.AssignedMessage) == 0) {
		return
	}
	var to []uint64
	if created {
		to = in.Notify.NewConversation
	}
	if !created && t.AssigneeID != 0 && slices.Contains(in.Notify.AssignedMessage, t.AssigneeID) && s.mayNotifyAssigned(t) {
		to = []uint64{t.AssigneeID}
	}
	contact := s.actorName(ctx, m.SenderID) // the thread's contact, or a colleague in CC
	link := strings.TrimRight(s.cfg.BaseURL, "/") + "/threads/" + idString(t.ID)
	channel := "chat"
	if t.ChannelID == parley.ChannelEmail {
		channel = "email"
	}
	if len(to) == 0 {
		return
	}
	key, err := s.identificationKey(ctx) // for the Message-IDs
	if err != nil {
		s.log.Error().Err(err).Uint64("threadId", t.ID).Msg("queue notification")
		return
	}
	for _, id := range to {
		u, err := s.db.User(ctx, id)
		if err != nil || u.Deactivated || !in.HasMember(u.ID) || u.Email == "" {
			continue
		}
		var subject, intro string
		if created {
			subject = fmt.Sprintf("New %s conversation from %s", channel, contact)
			intro = fmt.Sprintf("%s started a new %s conversation in the inbox %s.", contact, channel, in.Name)
		} else {
			subject = fmt.Sprintf("New message from %s", contact)
			intro = fmt.Sprintf("%s wrote in a conversation assigned to you in the inbox %s.", contact, in.Name)
		}
		if t.Subject != "" {
			subject += ": " + t.Subject
		}
		text := fmt.Sprintf("Hello %s,\n\n%s\n\n%s\n\nOpen the conversation: %s\n\n-- \nParley outside notifications. An admin can change who gets them in the inbox settings.\n",
			u.Name, intro, quote(m.Text), link)
		item := &parley.OutboxItem{Kind: parley.OutboxNotification, ThreadID: t.ID, Email: parley.Email{
			From:    parley.Address{Name: "Parley", Email: s.cfg.MailFrom},
			To:      []parley.Address{{Name: u.Name, Email: u.Email}},
			Subject: limitString(subject, 250), Text: text,
			MessageID:     ownMessageID(key, "n", t.ID, domainOf(s.cfg.MailFrom)),
			Date:          s.now(),
			AutoSubmitted: parley.AutoGenerated,
		}}
		if err := s.db.QueueMail(ctx, item); err != nil {
			s.log.Error().Err(err).Uint64("threadId", t.ID).Msg("queue notification")
			continue
		}
		s.wakeOutbox()
	}
}

// mayNotifyAssigned throttles notifications about chat messages: one per
// assignee and conversation every assignedMailGap. Email messages always
// notify.
func (s *Server) mayNotifyAssigned(t *parley.Thread) bool {
	if t.ChannelID == parley.ChannelEmail {
		return true
	}
	now := s.now()
	key := [2]uint64{t.AssigneeID, t.ID}
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	if last, ok := s.mail.notified[key]; ok && now.Sub(last) < assignedMailGap {
		return false
	}
	for k, at := range s.mail.notified { // keep the map small
		if now.Sub(at) >= assignedMailGap {
			delete(s.mail.notified, k)
		}
	}
	s.mail.notified[key] = now
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
