package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// Forwarding a thread: an agent emails a conversation, with a note, to
// addresses of their choice. The email leaves through the outbox as a
// reply does (its delivery status, retries, retry by hand), and the
// thread records who forwarded it to whom.

// Limits of forwarding.
const (
	// forwardsPerHour and forwardBurst bound the addresses one user
	// forwards to: forwardBurst at once, then forwardsPerHour an hour. A
	// stolen session cannot turn Parley into a mass mailer for the whole
	// mail history it can read.
	forwardsPerHour = 60
	forwardBurst    = 30
	// maxForwarders bounds the users the limit remembers.
	maxForwarders = 10_000
	// forwardMessages is how many of a thread's latest messages a forward
	// quotes; forwardBytes bounds the text quoted.
	forwardMessages = 200
	forwardBytes    = 512 << 10
)

// Forward is what an agent forwards a thread with: To are the addresses
// (1 to parley.MaxCopies), Note an optional text above the quoted thread,
// ClientID an optional idempotency key as a message's.
type Forward struct {
	To       []parley.Address
	Note     string
	ClientID string
}

// ForwardThread emails thread threadID, as user u, to f.To: one email from
// the inbox's address (an email thread's own mailbox; a chat's inbox's
// first address, else PARLEY_MAIL_FROM) with u's name, holding f.Note and
// the thread's messages quoted as mail clients forward (internal notes and
// events never; Bcc recipients never). It records a SYSTEM message with
// event parley.EventForwarded by u, whose Recipients are f.To and whose
// Text is f.Note, and queues the email in the same commit; the message's
// delivery status follows the email as a reply's does (RetryReply sends a
// failed one again). Only members of the thread's inbox may (others:
// ENOTFOUND). Bad addresses, line breaks in them, more than
// parley.MaxCopies or none are EINVALID; beyond the user's limit
// (forwardsPerHour addresses) it is ERATELIMIT; without outbound mail
// EUNAVAILABLE. The forward is written in u's language.
func (a *App) ForwardThread(ctx context.Context, u *parley.User, threadID uint64, f Forward) (*parley.Message, *parley.Thread, error) {
	if len(f.To) == 0 {
		return nil, nil, parley.Errorf(parley.EINVALID, "to needs at least one address")
	}
	if len(f.To) > parley.MaxCopies {
		return nil, nil, parley.Errorf(parley.EINVALID, "a thread may be forwarded to at most %d addresses at once, not %d", parley.MaxCopies, len(f.To))
	}
	var to []parley.Address
	seen := map[string]bool{}
	for i, x := range f.To {
		c, err := parley.CopyAddress("to["+idString(uint64(i))+"]", x)
		if err != nil {
			return nil, nil, err
		}
		if k := strings.ToLower(c.Email); !seen[k] {
			seen[k] = true
			to = append(to, c)
		}
	}
	note := strings.TrimSpace(f.Note)
	if note != "" {
		if err := parley.ValidateText(note); err != nil {
			return nil, nil, err
		}
	}
	if err := parley.ValidateClientID(f.ClientID); err != nil {
		return nil, nil, err
	}
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, nil, err
	}
	if a.cfg.Mailer == nil {
		return nil, nil, errNoMail()
	}
	for _, x := range to {
		if a.isOwnAddress(ctx, x.Email) {
			return nil, nil, parley.Errorf(parley.EINVALID, "%s is one of Parley's own addresses: the thread is there already", x.Email)
		}
	}
	from, err := a.forwardFrom(ctx, u, t)
	if err != nil {
		return nil, nil, err
	}
	after := uint64(0)
	if t.LastSeq > forwardMessages {
		after = t.LastSeq - forwardMessages
	}
	msgs, _, err := a.db.Messages(ctx, t.ID, after, forwardMessages)
	if err != nil {
		return nil, nil, err
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The limit counts addresses, taken only when all of them may go.
	if ok, wait := a.mail.forwards.AllowN(idString(u.ID), len(to)); !ok {
		return nil, nil, parley.Errorf(parley.ERATELIMIT, "too many addresses forwarded to; try again in %s", wait.Round(time.Second))
	}
	text := a.forwardText(ctx, u.Language, t, msgs, after, note)
	res, _, err := a.db.AppendMailReply(ctx, &parley.Message{
		ThreadID: t.ID, Type: parley.TypeSystem, Event: parley.EventForwarded, Text: note, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ClientID: f.ClientID, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
		Recipients: forwardRecipients(to),
	}, nil, func(m *parley.Message, th *parley.Thread) (*parley.OutboxItem, error) {
		return &parley.OutboxItem{Kind: parley.OutboxForward, Email: parley.Email{
			From:      from,
			To:        slices.Clone(to),
			Subject:   forwardSubject(u.Language, th, a.threadContactName(ctx, th, u.Language)),
			Text:      text,
			MessageID: ownMessageID(key, "f", m.ID, domainOf(from.Email)),
			Date:      m.CreatedAt,
		}}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if !res.Duplicate {
		a.log.Info().Uint64("threadId", t.ID).Uint64("userId", u.ID).Int("addresses", len(to)).Msg("thread forwarded")
		a.events.MessageCreated(ctx, res.Thread, res.Message)
		a.wakeOutbox()
	}
	return res.Message, res.Thread, nil
}

// forwardRecipients are the recipients a forward's event keeps: To.
func forwardRecipients(to []parley.Address) []parley.Recipient {
	rs := make([]parley.Recipient, len(to))
	for i, x := range to {
		rs[i] = parley.Recipient{Field: parley.RecipientTo, Name: x.Name, Email: x.Email}
	}
	return rs
}

// forwardFrom is who a forward of thread t by u comes from: u's name at
// the thread's mailbox (email) or the inbox's first address (chat), else
// PARLEY_MAIL_FROM.
func (a *App) forwardFrom(ctx context.Context, u *parley.User, t *parley.Thread) (parley.Address, error) {
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return parley.Address{}, err
	}
	if mb := in.MailboxByID(t.ChannelAccountID); t.ChannelID == parley.ChannelEmail && mb != nil {
		return parley.Address{Name: u.Name, Email: mb.Address}, nil
	}
	if t.ChannelID == parley.ChannelEmail {
		return parley.Address{}, parley.Errorf(parley.EINVALID, "this thread's email address (channel account %d) is no longer connected to inbox %q", t.ChannelAccountID, in.Name)
	}
	if len(in.Mailboxes) > 0 {
		return parley.Address{Name: u.Name, Email: in.Mailboxes[0].Address}, nil
	}
	if a.cfg.MailFrom != "" {
		return parley.Address{Name: u.Name, Email: a.cfg.MailFrom}, nil
	}
	return parley.Address{}, parley.Errorf(parley.EUNAVAILABLE, "inbox %q has no email address and PARLEY_MAIL_FROM is not set: there is nothing to forward from", in.Name)
}

// threadContactName is what lang calls t's contact.
func (a *App) threadContactName(ctx context.Context, t *parley.Thread, lang string) string {
	if c, err := a.db.Contact(ctx, t.ContactID); err == nil {
		return contactName(c, lang)
	}
	return ""
}

// forwardSubject is the subject of a forward of t: "Fwd: " and the
// thread's subject, or for a chat the contact's name, in lang.
func forwardSubject(lang string, t *parley.Thread, contact string) string {
	if t.ChannelID == parley.ChannelEmail {
		s := t.Subject
		if s == "" {
			s = locale.Lookup(lang, "mail.forward.noSubject")
		}
		return limitString(locale.Lookup(lang, "mail.forward.subject", "subject", s), 250)
	}
	return limitString(locale.Lookup(lang, "mail.forward.chatSubject", "contact", contact), 250)
}

// forwardText is the text of a forward in lang: the note, then each
// MESSAGE of msgs (oldest first) under a heading as mail clients forward,
// with its sender, date, subject and, for mail, To and Cc (never Bcc).
// skipped messages before msgs are said to be left out; so is what does
// not fit forwardBytes.
func (a *App) forwardText(ctx context.Context, lang string, t *parley.Thread, msgs []*parley.Message, skipped uint64, note string) string {
	var b strings.Builder
	if note != "" {
		b.WriteString(note)
		b.WriteString("\n\n")
	}
	if skipped > 0 {
		b.WriteString(locale.Lookup(lang, "mail.forward.omitted", "count", skipped))
		b.WriteString("\n\n")
	}
	names := map[string]string{}
	addrs := map[string]string{}
	var in *parley.Inbox
	if x, err := a.db.Inbox(ctx, t.InboxID); err == nil {
		in = x
	}
	who := func(m *parley.Message) string {
		n, ok := names[m.SenderID]
		if !ok {
			n = a.actorNameIn(ctx, m.SenderID, lang)
			names[m.SenderID] = n
		}
		addr, ok := addrs[m.SenderID]
		if !ok {
			addr = a.senderAddress(ctx, in, m)
			addrs[m.SenderID] = addr
		}
		if addr == "" {
			return n
		}
		return parley.Address{Name: n, Email: addr}.String()
	}
	list := func(as []parley.Address) string {
		s := make([]string, len(as))
		for i, x := range as {
			s[i] = x.String()
		}
		return strings.Join(s, ", ")
	}
	for _, m := range msgs {
		if m.Type != parley.TypeMessage {
			continue // notes and events stay inside
		}
		var p strings.Builder
		p.WriteString(locale.Lookup(lang, "mail.forward.heading"))
		p.WriteString("\n")
		p.WriteString(locale.Lookup(lang, "mail.forward.from", "from", who(m)) + "\n")
		p.WriteString(locale.Lookup(lang, "mail.forward.date", "date", m.CreatedAt.UTC().Format(time.RFC1123Z)) + "\n")
		if t.Subject != "" {
			p.WriteString(locale.Lookup(lang, "mail.forward.subjectLine", "subject", t.Subject) + "\n")
		}
		if to := parley.RecipientsIn(m.Recipients, parley.RecipientTo); len(to) > 0 {
			p.WriteString(locale.Lookup(lang, "mail.forward.to", "to", list(to)) + "\n")
		}
		if cc := parley.RecipientsIn(m.Recipients, parley.RecipientCc); len(cc) > 0 {
			p.WriteString(locale.Lookup(lang, "mail.forward.cc", "cc", list(cc)) + "\n")
		}
		p.WriteString("\n")
		p.WriteString(m.Text)
		p.WriteString("\n\n")
		if b.Len()+p.Len() > forwardBytes {
			b.WriteString(locale.Lookup(lang, "mail.forward.cut"))
			b.WriteString("\n")
			break
		}
		b.WriteString(p.String())
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// senderAddress is the address message m came from: a contact's email,
// or for an agent the mailbox of an email message; "" if none.
func (a *App) senderAddress(ctx context.Context, in *parley.Inbox, m *parley.Message) string {
	prefix, id, err := parley.ParseActorID(m.SenderID)
	if err != nil {
		return ""
	}
	switch prefix {
	case parley.ActorVisitor:
		if c, err := a.db.Contact(ctx, id); err == nil {
			return c.Email
		}
	case parley.ActorUser:
		if in != nil && m.ChannelID == parley.ChannelEmail {
			if mb := in.MailboxByID(m.ChannelAccountID); mb != nil {
				return mb.Address
			}
		}
	}
	return ""
}
