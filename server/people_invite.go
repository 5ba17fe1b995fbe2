package server

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
)

// invitePage is where an invited person creates their account: the form
// posts to /api/v1/invites/accept (console/src/invite.js), which signs them in.
var invitePage = template.Must(template.New("invite").Funcs(consoleFiles).Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.T.Title}}</title><link rel="stylesheet" href="{{console "app.css"}}"></head>
<body class="setup"><main class="setup-card">
{{if .Email}}<h1>{{.T.Heading}}</h1>
<p>{{.T.InvitedAs}} <strong>{{.Email}}</strong>. {{.T.Choose}}</p>
<form id="invite" data-token="{{.Token}}" data-failed="{{.T.Failed}}" data-offline="{{.T.Offline}}">
<label>{{.T.Name}} <input name="name" autocomplete="name" required maxlength="256"></label>
<label>{{.T.Password}} <input name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="256" aria-describedby="invite-pw-hint"></label>
<p class="muted small" id="invite-pw-hint">{{.T.PasswordHint}}</p>
<button type="submit">{{.T.Submit}}</button>
<p role="alert" id="invite-error"></p>
</form>
<script src="{{console "invite.js"}}"></script>
{{else}}<h1>{{.T.InvalidHeading}}</h1>
<p>{{.T.Invalid}}</p>
<p><a href="/">{{.T.SignIn}}</a></p>
{{end}}</main></body></html>`))

// inviteText is the invitation page's text in one language.
type inviteText struct {
	Lang, Title, Heading, InvitedAs, Choose, Name, Password, PasswordHint, Submit string
	Failed, Offline, InvalidHeading, Invalid, SignIn                              string
}

var inviteTexts = map[string]inviteText{
	"en": {
		Lang: "en", Title: "Join Parley", Heading: "Join your team on Parley", InvitedAs: "You were invited as",
		Choose: "Choose your name and a password.", Name: "Name", Password: "Password", PasswordHint: "At least 10 characters.",
		Submit: "Create account", Failed: "The account could not be created.",
		Offline:        "Parley cannot be reached. Check the connection and try again.",
		InvalidHeading: "This invitation is not valid", Invalid: "It has expired or was already used. Ask an admin of your team for a new link.",
		SignIn: "Go to the sign-in page",
	},
	"de": {
		Lang: "de", Title: "Parley beitreten", Heading: "Treten Sie Ihrem Team bei Parley bei", InvitedAs: "Sie wurden eingeladen als",
		Choose: "Wählen Sie Ihren Namen und ein Passwort.", Name: "Name", Password: "Passwort", PasswordHint: "Mindestens 10 Zeichen.",
		Submit: "Konto erstellen", Failed: "Das Konto konnte nicht erstellt werden.",
		Offline:        "Parley ist nicht erreichbar. Prüfen Sie die Verbindung und versuchen Sie es erneut.",
		InvalidHeading: "Diese Einladung ist nicht gültig", Invalid: "Sie ist abgelaufen oder wurde schon benutzt. Bitten Sie einen Admin Ihres Teams um einen neuen Link.",
		SignIn: "Zur Anmeldung",
	},
}

// pageLanguage picks "de" when the browser's first language is German, as
// the console does, and "en" otherwise.
func pageLanguage(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "de") {
		return "de"
	}
	return "en"
}

// handleInvitePage serves the page of an invitation link, /invite?token=…
func (s *Server) handleInvitePage() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Vary", "Accept-Language")
		data := struct {
			T            inviteText
			Email, Token string
		}{T: inviteTexts[pageLanguage(r)]}
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
