package server

import (
	"html"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/richtext"
)

// An email's HTML, shown in the console as its own document in a frame.

// mailHTMLCSP is the policy of an email's HTML document: nothing runs,
// nothing loads but Parley's own files and data: images (and, once the
// agent allows them, remote images), and the document is sandboxed even
// when opened on its own.
func mailHTMLCSP(remote bool) string {
	img := "'self' data:"
	if remote {
		img += " https: http:"
	}
	return "default-src 'none'; img-src " + img + "; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; " +
		"sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
}

// handleMessageHTML answers an email message's HTML as a document for a
// frame in the console: what richtext.Sanitize lets through, its inline
// images from the message's files, remote images only with
// ?remoteImages=true; while some are blocked, a line at the top says so, in
// the agent's language, with a link that loads them.
func (s *Server) handleMessageHTML() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, m, err := s.messageParam(r)
		if err != nil {
			return err
		}
		if m.RichText == "" {
			return parley.Errorf(parley.ENOTFOUND, "message %d has no HTML", m.ID)
		}
		remote, err := queryBool(r, "remoteImages")
		if err != nil {
			return err
		}
		ctx := r.Context()
		cids := map[string]parley.Attachment{}
		for _, at := range m.Attachments {
			if at.ContentID != "" && at.Inline {
				cids[at.ContentID] = at
			}
		}
		allow := remote != nil && *remote
		res := richtext.Sanitize(m.RichText, allow, func(id string) string {
			if at, ok := cids[id]; ok {
				return s.fileURL(ctx, at)
			}
			return ""
		})
		lang := locale.Pick(userFrom(ctx).Language, r.Header.Get("Accept-Language"))
		banner := ""
		if res.Blocked > 0 {
			banner = `<p class="parley-blocked">` + html.EscapeString(locale.Lookup(lang, "mailhtml.blocked", "n", strconv.Itoa(res.Blocked))) +
				` <a href="?remoteImages=true" target="_self">` + html.EscapeString(locale.Lookup(lang, "mailhtml.load")) + `</a></p>`
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", mailHTMLCSP(allow))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		h.Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write([]byte(`<!doctype html><html lang="` + html.EscapeString(lang) + `"><head><meta charset="utf-8"><base target="_blank">` +
			`<style>body{margin:0;padding:4px 2px;font:14px/1.5 system-ui,sans-serif;color:#1f2937;overflow-wrap:anywhere}img{max-width:100%;height:auto}` +
			`table{max-width:100%}.parley-blocked{margin:0 0 8px;padding:6px 10px;border-radius:6px;background:#fef3c7;color:#78350f;font-size:13px}` +
			`.parley-blocked a{color:inherit;font-weight:600}</style></head><body>` + banner + res.HTML + `</body></html>`))
		return nil
	})
}
