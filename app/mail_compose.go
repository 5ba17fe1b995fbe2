package app

import (
	"context"
	"fmt"
	"html"
	"strconv"
	"strings"

	"slices"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/richtext"
)

// Composing an email reply (R4): what the agent wrote, their signature and
// the inbox's, then the message it answers, quoted as mail clients quote.
// The thread keeps what the agent wrote; the email carries the rest too.

// quoteScan bounds how far back a reply looks for the message it answers.
const quoteScan = 50

// answered returns the latest message of thread t that came in (the one a
// reply answers), or nil.
func (a *App) answered(ctx context.Context, t *parley.Thread) (*parley.Message, error) {
	after := uint64(0)
	if t.LastSeq > quoteScan {
		after = t.LastSeq - quoteScan
	}
	msgs, _, err := a.db.Messages(ctx, t.ID, after, quoteScan)
	if err != nil {
		return nil, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.Type == parley.TypeMessage && m.Direction == parley.Incoming {
			return m, nil
		}
	}
	return nil, nil
}

// composeReply returns the text and HTML parts of an email reply: body
// (text and, when the agent wrote rich text, its cleaned HTML), the
// user's and the inbox's signatures, and quoted, the message answered,
// from sender name. html is "" when nothing of the reply is rich text: the
// email is then plain text only.
func composeReply(lang, text, richHTML string, sigs []string, quoted *parley.Message, name string) (string, string) {
	var tb, hb strings.Builder
	tb.WriteString(strings.TrimRight(text, "\n"))
	if richHTML != "" {
		hb.WriteString(richHTML)
	} else {
		hb.WriteString(textHTML(text))
	}
	rich := richHTML != ""
	for i, sig := range sigs {
		if sig == "" {
			continue
		}
		rich = true
		if i == 0 || !strings.Contains(tb.String(), "\n-- \n") {
			tb.WriteString("\n\n-- \n")
		} else {
			tb.WriteString("\n\n")
		}
		tb.WriteString(richtext.Text(sig))
		hb.WriteString(`<div class="signature" style="margin-top:16px;color:#4b5563">` + sig + `</div>`)
	}
	if quoted != nil {
		header := locale.Lookup(lang, "mail.quoteHeader", "date", quoted.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), "name", name)
		tb.WriteString("\n\n" + header + "\n")
		for _, l := range strings.Split(strings.TrimRight(quoted.Text, "\n"), "\n") {
			tb.WriteString(">" + strings.TrimRightFunc(" "+l, func(r rune) bool { return r == ' ' }) + "\n")
		}
		qh := quoted.RichText
		if qh == "" {
			qh = textHTML(quoted.Text)
		} else {
			// What the console shows: no remote image loads from the
			// customer's mail, no cid: that the reply does not carry.
			qh = richtext.Sanitize(qh, false, nil).HTML
		}
		hb.WriteString(`<p style="margin:16px 0 4px">` + html.EscapeString(header) + `</p><blockquote style="margin:0 0 0 8px;padding-left:8px;border-left:2px solid #d1d5db">` + qh + `</blockquote>`)
	}
	if !rich {
		return tb.String(), ""
	}
	return tb.String(), `<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">` + hb.String() + `</body></html>`
}

// textHTML is plain text as HTML: escaped, paragraphs at blank lines,
// line breaks kept.
func textHTML(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>")
		}
	}
	return b.String()
}

// fileImage returns the id of the Parley file an image's src shows, "/files/{id}/{name}"
// as the editor writes it (richtext.Clean keeps nothing else of /files/), or 0.
func fileImage(src string) uint64 {
	rest, ok := strings.CutPrefix(src, "/files/")
	if !ok {
		return 0
	}
	digits, _, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// imageFiles returns the ids of the Parley files that rich text rich
// shows as images, each once, in order.
func imageFiles(rich string) []uint64 {
	var ids []uint64
	richtext.Images(rich, func(src string) (string, bool) {
		if id := fileImage(src); id != 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		return src, true
	})
	return ids
}

// fileContentID is the Content-ID of file id's part in an email sent from
// domain: an image of the reply's rich text points at it (cid:).
func fileContentID(id uint64, domain string) string {
	return fmt.Sprintf("file%d@%s", id, domain)
}

// embedImages returns rich text rich for an email sent from domain: its
// images of Parley files point at the email's parts that carry them.
func embedImages(rich, domain string) string {
	return richtext.Images(rich, func(src string) (string, bool) {
		if id := fileImage(src); id != 0 {
			return "cid:" + fileContentID(id, domain), true
		}
		return src, true
	})
}
