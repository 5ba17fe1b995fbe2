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
	item, err := a.transcript(ctx, t, w, c)
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

// transcript builds the transcript email of chat t on widget w for contact
// c: every MESSAGE (no internal notes, no system events) with its time,
// in the widget's time zone, and its sender's name, and the page the chat
// started on. It comes from PARLEY_MAIL_FROM with a Reply-To of the
// inbox's first email address, if it has one, so that an answer lands in
// the inbox as a new email thread. It returns nil when the chat has no
// messages.
func (a *App) transcript(ctx context.Context, t *parley.Thread, w *parley.Widget, c *parley.Contact) (*parley.OutboxItem, error) {
	loc := time.UTC
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
	title := locale.Lookup(lang, "mail.transcript.title", "inbox", in.Name)
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
		To:            []parley.Address{{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Email: c.Email}},
		Subject:       limitString(title, 250),
		Text:          text.String(),
		HTML:          html.String(),
		MessageID:     ownMessageID(key, "t", t.ID, domainOf(a.cfg.MailFrom)),
		Date:          a.Now(),
		AutoSubmitted: parley.AutoGenerated,
	}}, nil
}
