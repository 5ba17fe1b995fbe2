package server

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/parley-chat/parley/locale"
)

// invitePage is where an invited person creates their account: the form
// posts to /api/v1/invites/accept (console/src/invite.js), which signs them in.
var invitePage = template.Must(template.New("invite").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{t .Lang "page.invite.title"}}</title><link rel="stylesheet" href="{{console "app.css"}}"></head>
<body class="setup"><main class="setup-card">
{{if .Email}}<h1>{{t .Lang "page.invite.heading"}}</h1>
<p>{{t .Lang "page.invite.invitedAs"}} <strong>{{.Email}}</strong>. {{t .Lang "page.invite.choose"}}</p>
<form id="invite" data-token="{{.Token}}" data-failed="{{t .Lang "page.invite.failed"}}" data-offline="{{t .Lang "page.offline"}}">
<label>{{t .Lang "page.invite.name"}} <input name="name" autocomplete="name" required maxlength="256"></label>
<label>{{t .Lang "page.invite.password"}} <input name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="256" aria-describedby="invite-pw-hint"></label>
<p class="muted small" id="invite-pw-hint">{{t .Lang "page.invite.passwordHint"}}</p>
<button type="submit">{{t .Lang "page.invite.submit"}}</button>
<p role="alert" id="invite-error"></p>
</form>
<script src="{{console "invite.js"}}"></script>
{{else}}<h1>{{t .Lang "page.invite.invalidHeading"}}</h1>
<p>{{t .Lang "page.invite.invalid"}}</p>
<p><a href="/">{{t .Lang "page.invite.signIn"}}</a></p>
{{end}}</main></body></html>`))

// handleInvitePage serves the page of an invitation link, /invite?token=…
func (s *Server) handleInvitePage() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Vary", "Accept-Language")
		data := struct{ Lang, Email, Token string }{Lang: locale.Match(r.Header.Get("Accept-Language"))}
		if token := r.URL.Query().Get("token"); token != "" {
			if inv, err := s.db.Invite(r.Context(), hashSecret(token)); err == nil {
				data.Email, data.Token = inv.Email, token
			}
		}
		status := http.StatusOK
		if data.Email == "" {
			status = http.StatusNotFound
		}
		var buf bytes.Buffer
		if err := invitePage.Execute(&buf, data); err != nil {
			return err
		}
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
		return nil
	})
}
