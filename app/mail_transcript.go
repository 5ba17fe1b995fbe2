package app

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// Chat transcripts (R2, C5): closing a chat emails its transcript to the
// contact when the widget says so.

// maxTranscriptMessages bounds a transcript; a longer chat is cut, with a
// note, at its end.
const maxTranscriptMessages = 2000

// transcriptsPerHour is how many transcripts one address gets at most in
// an hour (and at once); more are dropped. Only a verified address gets
// them at all, but its chat may still be closed and reopened many times.
const (
	transcriptsPerHour = 5
	// maxTranscriptRecipients bounds the addresses remembered.
	maxTranscriptRecipients = 10000
)

// transcriptLine is one message of a transcript.
type transcriptLine struct {
	At   string
	Name string
	Text string
}

var transcriptHTML = template.Must(template.New("transcript").Parse(`<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.4">
<h1 style="font-size:18px">{{.Title}}</h1>
{{if .PageURL}}<p>{{.StartedOn}} <a href="{{.PageURL}}">{{.PageURL}}</a></p>{{end}}
<table style="border-collapse:collapse">
{{range .Lines}}<tr><td style="color:#555;padding:4px 8px 4px 0;vertical-align:top;white-space:nowrap">{{.At}}</td><td style="padding:4px 8px 4px 0;vertical-align:top;font-weight:bold">{{.Name}}</td><td style="padding:4px 0;white-space:pre-wrap">{{.Text}}</td></tr>
{{end}}</table>
{{if .Cut}}<p>{{.Shortened}}</p>{{end}}
</body></html>
`))

// afterThreadClosed sends the transcript of chat thread t, just closed, to
// its contact if its widget has Options.Transcripts on, the contact has a
// verified email (Contact.Email), and the chat was not a bot's that never
// reached an agent. Filtered chats get none. Failures are logged: the close
// has happened.
//
// An address a visitor only typed (Contact.UnverifiedEmail) gets no
// transcript: anyone can type anyone's address, and Parley would mail a
// stranger on a visitor's say-so. A visitor gets transcripts once its
// address is verified: when the site identifies it (visitor
// identification), when it emails the inbox itself, or when an agent sets
// the contact's email. Each address gets at most transcriptsPerHour
// transcripts an hour; the rest are dropped with a log line.
func (a *App) afterThreadClosed(ctx context.Context, t *parley.Thread) {
	if t.ChannelID != parley.ChannelChat || t.BotOnly() || t.IsFiltered() || !a.canSendSystemMail() {
		return
	}
	w, err := a.db.Widget(ctx, t.ChannelAccountID)
	if err != nil || !w.Options.Transcripts {
		return
	}
	c, err := a.db.Contact(ctx, t.ContactID)
	if err != nil || c.Email == "" {
		return
	}
	if ok, _ := a.mail.transcripts.Allow(senderKey(c.Email)); !ok {
		a.log.Warn().Uint64("threadId", t.ID).Str("to", c.Email).Msg("chat transcript dropped: too many to this address within an hour")
		return
	}
	item, err := a.transcript(ctx, t, w, c, parley.Address{Name: contactFullName(c), Email: c.Email}, "")
	if err == nil && item == nil {
		return // nothing was said
	}
	if err == nil {
		err = a.db.QueueMail(ctx, item)
	}
	if err != nil {
		a.log.Error().Err(err).Uint64("threadId", t.ID).Msg("queue chat transcript")
		return
	}
	a.wakeOutbox()
}

// transcript builds the transcript email of chat t on widget w (nil if it
// was deleted: times in UTC) with contact c, to address to, under subject
// ("": the default, transcriptSubject): every MESSAGE (no internal notes,
// no system events) with its time, in the widget's time zone, and its
// sender's name, and the page the chat started on. It comes from
// PARLEY_MAIL_FROM with a Reply-To of the inbox's first email address, if
// it has one, so that an answer lands in the inbox as a new email thread.
// It returns nil when the chat has no messages.
func (a *App) transcript(ctx context.Context, t *parley.Thread, w *parley.Widget, c *parley.Contact, to parley.Address, subject string) (*parley.OutboxItem, error) {
	loc := time.UTC
	if w == nil {
		w = &parley.Widget{}
	}
	if tz := w.Availability.Timezone; tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	names := map[string]string{}
	var lines []transcriptLine
	cut := false
	for after := uint64(0); ; {
		msgs, more, err := a.db.Messages(ctx, t.ID, after, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			after = m.Seq
			if m.Type != parley.TypeMessage {
				continue
			}
			if len(lines) == maxTranscriptMessages {
				cut = true
				break
			}
			name, ok := names[m.SenderID]
			if !ok {
				if name = a.ActorName(ctx, m.SenderID); name == "" {
					name = "Parley"
				}
				if m.SenderID == c.ActorID() {
					name = contactName(c, t.Language)
				}
				names[m.SenderID] = name
			}
			lines = append(lines, transcriptLine{At: m.CreatedAt.In(loc).Format("2006-01-02 15:04 MST"), Name: name, Text: m.Text})
		}
		if !more || cut {
			break
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return nil, err
	}
	lang := t.Language // the visitor's
	title := transcriptSubject(t, in)
	if subject == "" {
		subject = title
	}
	shortened := locale.Lookup(lang, "mail.transcript.shortened")
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n", title)
	if t.PageURL != "" {
		fmt.Fprintf(&text, "%s\n\n", locale.Lookup(lang, "mail.transcript.startedOnText", "url", t.PageURL))
	}
	for _, l := range lines {
		fmt.Fprintf(&text, "[%s] %s:\n%s\n\n", l.At, l.Name, l.Text)
	}
	if cut {
		text.WriteString(shortened + "\n")
	}
	var html strings.Builder
	// Only http(s) page URLs become links; html/template refuses others.
	if err := transcriptHTML.Execute(&html, map[string]any{
		"Title": title, "PageURL": t.PageURL, "Lines": lines, "Cut": cut,
		"StartedOn": locale.Lookup(lang, "mail.transcript.startedOn"), "Shortened": shortened,
	}); err != nil {
		return nil, err
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return nil, err
	}
	// Answers go to the inbox, not to PARLEY_MAIL_FROM: its first address,
	// if it has one.
	var replyTo parley.Address
	if len(in.Mailboxes) > 0 {
		replyTo = parley.Address{Name: in.Name, Email: in.Mailboxes[0].Address}
	}
	return &parley.OutboxItem{Kind: parley.OutboxTranscript, ThreadID: t.ID, Email: parley.Email{
		From:          parley.Address{Name: in.Name, Email: a.cfg.MailFrom},
		ReplyTo:       replyTo,
		To:            []parley.Address{to},
		Subject:       subject,
		Text:          text.String(),
		HTML:          html.String(),
		MessageID:     ownMessageID(key, "t", t.ID, domainOf(a.cfg.MailFrom)),
		Date:          a.Now(),
		AutoSubmitted: parley.AutoGenerated,
	}}, nil
}

// transcriptSubject is the default subject of the transcript of chat t of
// inbox in, in the thread's language; it is also the transcript's title.
func transcriptSubject(t *parley.Thread, in *parley.Inbox) string {
	return limitString(locale.Lookup(t.Language, "mail.transcript.title", "inbox", in.Name), MaxTranscriptSubject)
}

func contactFullName(c *parley.Contact) string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// ----- sending a transcript by hand (R3) -----

// MaxTranscriptSubject bounds the subject of a transcript, in bytes.
const MaxTranscriptSubject = 250

// TranscriptAddress is an address a transcript may go to: one of the
// contact's.
type TranscriptAddress struct {
	Email string `json:"email"`
	// Verified is false for the address a visitor only typed
	// (Contact.UnverifiedEmail).
	Verified bool `json:"verified"`
}

// TranscriptDraft is what the console offers for a transcript sent by
// hand: the addresses it may go to, the verified first, and the default
// subject, in the thread's language.
type TranscriptDraft struct {
	To      []TranscriptAddress `json:"to"`
	Subject string              `json:"subject"`
}

// RateLimitError is an ERATELIMIT error that says when to try again.
type RateLimitError struct {
	Err   error
	After time.Duration
}

func (e *RateLimitError) Error() string { return e.Err.Error() }
func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryAfter is how long until the limit lets the request through.
func (e *RateLimitError) RetryAfter() time.Duration { return e.After }

// manualTranscript checks that user u may send the transcript of thread
// threadID by hand and returns the thread, its contact and inbox: u is a
// member of its inbox (else ENOTFOUND, as for any thread u may not read),
// it is a chat (EINVALID), closed (ECONFLICT), not a bot's that never
// reached an agent and not Filtered (the rules of the automatic transcript;
// EINVALID), and Parley can send mail of its own (EUNAVAILABLE).
func (a *App) manualTranscript(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, *parley.Contact, *parley.Inbox, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case t.ChannelID != parley.ChannelChat:
		return nil, nil, nil, parley.Errorf(parley.EINVALID, "only chats have transcripts: conversation %d is an email thread", t.ID)
	case t.BotOnly():
		return nil, nil, nil, parley.Errorf(parley.EINVALID, "conversation %d was answered only by a bot: it has no transcript", t.ID)
	case t.IsFiltered():
		return nil, nil, nil, parley.Errorf(parley.EINVALID, "conversation %d is in Filtered (spam or blocked): it gets no transcript", t.ID)
	case t.Status != parley.StatusClosed:
		return nil, nil, nil, parley.Errorf(parley.ECONFLICT, "conversation %d is open: close it before sending its transcript", t.ID)
	case !a.canSendSystemMail():
		return nil, nil, nil, parley.Errorf(parley.EUNAVAILABLE, "email is not configured on this Parley (set PARLEY_SMTP_URL and PARLEY_MAIL_FROM): transcripts cannot be sent")
	}
	c, err := a.db.Contact(ctx, t.ContactID)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, c, in, nil
}

// transcriptAddresses lists the addresses of c a transcript may go to.
func transcriptAddresses(c *parley.Contact) []TranscriptAddress {
	out := []TranscriptAddress{}
	if c.Email != "" {
		out = append(out, TranscriptAddress{Email: c.Email, Verified: true})
	}
	if c.UnverifiedEmail != "" && !strings.EqualFold(c.UnverifiedEmail, c.Email) {
		out = append(out, TranscriptAddress{Email: c.UnverifiedEmail})
	}
	return out
}

// TranscriptDraft returns the addresses and default subject of a
// transcript of thread threadID that u may send by hand, with the errors
// of SendTranscript when u may not.
func (a *App) TranscriptDraft(ctx context.Context, u *parley.User, threadID uint64) (*TranscriptDraft, error) {
	t, c, in, err := a.manualTranscript(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	return &TranscriptDraft{To: transcriptAddresses(c), Subject: transcriptSubject(t, in)}, nil
}

// SendTranscript emails the transcript of closed chat threadID, sent by
// hand by member u (R3), to address to, one of the contact's: its
// verified email or the address the visitor only typed. An agent who sends
// to the unverified one does so deliberately: the console marks it "not
// verified". subject is one line of at most MaxTranscriptSubject bytes.
//
// The email goes through the outbox and is recorded on the thread, in the
// same commit, as a SYSTEM message EventTranscriptSent by u naming the
// address, whose delivery status follows the sending. It is returned with
// the thread. Errors: those of manualTranscript; EINVALID for an address
// that is not the contact's, a bad subject or a chat with nothing said;
// ERATELIMIT (a *RateLimitError) when the address had its transcripts for
// the hour: automatic and manual transcripts share one limit per address.
func (a *App) SendTranscript(ctx context.Context, u *parley.User, threadID uint64, to, subject string) (*parley.Message, *parley.Thread, error) {
	t, c, _, err := a.manualTranscript(ctx, u, threadID)
	if err != nil {
		return nil, nil, err
	}
	if strings.ContainsAny(subject, "\r\n") {
		return nil, nil, parley.Errorf(parley.EINVALID, "subject must be one line")
	}
	subject = strings.TrimSpace(subject)
	if len(subject) > MaxTranscriptSubject {
		return nil, nil, parley.Errorf(parley.EINVALID, "subject is longer than %d bytes", MaxTranscriptSubject)
	}
	if err := parley.ValidateLine("subject", subject, true); err != nil {
		return nil, nil, err
	}
	addr := ""
	for _, ta := range transcriptAddresses(c) {
		if strings.EqualFold(ta.Email, strings.TrimSpace(to)) {
			addr = ta.Email
		}
	}
	if addr == "" {
		return nil, nil, parley.Errorf(parley.EINVALID, "to must be one of the contact's email addresses")
	}
	w, err := a.db.Widget(ctx, t.ChannelAccountID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		w = nil
	} else if err != nil {
		return nil, nil, err
	}
	item, err := a.transcript(ctx, t, w, c, parley.Address{Name: contactFullName(c), Email: addr}, subject)
	if err != nil {
		return nil, nil, err
	}
	if item == nil {
		return nil, nil, parley.Errorf(parley.EINVALID, "nothing was said in conversation %d: there is no transcript to send", t.ID)
	}
	undo, ok, after := a.mail.transcripts.Reserve(senderKey(addr))
	if !ok {
		return nil, nil, &RateLimitError{Err: parley.Errorf(parley.ERATELIMIT, "%s has had %d transcripts within the hour: try again later", addr, transcriptsPerHour), After: after}
	}
	event := &parley.Message{
		Type: parley.TypeSystem, Event: parley.EventTranscriptSent, Text: addr, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID, CreatedAt: a.Now(),
	}
	contactID := t.ContactID
	res, err := a.db.QueueMailEvent(ctx, item, event, func(th *parley.Thread) error {
		switch {
		case th.ContactID != contactID:
			return parley.Errorf(parley.ECONFLICT, "conversation %d changed its contact meanwhile", th.ID)
		case th.Status != parley.StatusClosed:
			return parley.Errorf(parley.ECONFLICT, "conversation %d is open: close it before sending its transcript", th.ID)
		}
		return nil
	})
	if err != nil {
		undo()
		return nil, nil, err
	}
	a.log.Info().Uint64("threadId", t.ID).Uint64("userId", u.ID).Uint64("outboxId", item.ID).Bool("verified", strings.EqualFold(addr, c.Email)).Msg("transcript queued by hand")
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	a.wakeOutbox()
	return res.Message, res.Thread, nil
}
