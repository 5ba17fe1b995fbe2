package server

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"

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

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// inviteJSON is an invitation in the settings API. Unlike parley.Invite it
// shows the hash as the id, ids as strings and times in UTC, and the link
// only to the invitation's maker.
type inviteJSON struct {
	ID          string    `json:"id"` // the hash of the link's secret
	URL         string    `json:"url,omitempty"`
	Email       string    `json:"email"`
	Role        string    `json:"role"`
	RoutingSeat bool      `json:"routingSeat"`
	InboxIDs    []flexID  `json:"inboxIds"`
	InvitedBy   string    `json:"invitedBy"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func toInviteJSON(inv *parley.Invite) inviteJSON {
	return inviteJSON{ID: inv.Hash, Email: inv.Email, Role: string(inv.Role), RoutingSeat: inv.RoutingSeat,
		InboxIDs: flexIDs(inv.InboxIDs), InvitedBy: idString(inv.InvitedBy), CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC()}
}

func (s *Server) handleInvites() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.db.Invites(r.Context())
		if err != nil {
			return err
		}
		out := make([]inviteJSON, len(list))
		for i, inv := range list {
			out[i] = toInviteJSON(inv)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// handleInviteCreate makes an invitation link for one email address. The
// link is shown once (only its hash is stored); a new link for the same
// address replaces the older one.
func (s *Server) handleInviteCreate() http.Handler {
	type request struct {
		Email       string `json:"email"`
		Role        string `json:"role"`
		RoutingSeat bool   `json:"routingSeat"`
		InboxIDs    idList `json:"inboxIds"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		email, err := cleanEmail(req.Email)
		if err != nil {
			return err
		}
		if req.Role == "" {
			req.Role = string(parley.RoleAgent)
		}
		role, err := parseRole(req.Role)
		if err != nil {
			return err
		}
		inboxIDs := []uint64{}
		for _, id := range req.InboxIDs {
			if slices.Contains(inboxIDs, id) {
				continue
			}
			if _, err := s.db.Inbox(ctx, id); parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.EINVALID, "inboxIds: inbox %d does not exist", id)
			} else if err != nil {
				return err
			}
			inboxIDs = append(inboxIDs, id)
		}
		if _, err := s.db.UserByEmail(ctx, email); err == nil {
			return parley.Errorf(parley.ECONFLICT, "a user with email %s already exists", email)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		token, hash := newSecret("pi_")
		now := s.now()
		inv := &parley.Invite{Hash: hash, Email: email, Role: role, RoutingSeat: req.RoutingSeat, InboxIDs: inboxIDs,
			InvitedBy: userFrom(ctx).ID, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
		if err := s.db.CreateInvite(ctx, inv); err != nil {
			return err
		}
		out := toInviteJSON(inv)
		out.URL = s.baseURL(r) + "/invite?token=" + token
		s.writeJSON(w, http.StatusCreated, out)
		return nil
	})
}

func (s *Server) handleInviteDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.db.DeleteInvite(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleInviteAccept creates the invited user with a name and password,
// makes them a member of the invitation's inboxes, consumes the invitation
// and signs them in.
func (s *Server) handleInviteAccept() http.Handler {
	type request struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	return signInHandler(s, http.StatusCreated, func(r *http.Request, req *request) (*parley.User, error) {
		u, inv, err := s.acceptInvite(r, req.Token, req.Name, req.Password)
		if err != nil {
			return nil, err
		}
		s.publishUser(u)
		for _, id := range inv.InboxIDs {
			if in, err := s.db.Inbox(r.Context(), id); err == nil {
				s.publishInbox("inbox.updated", in)
			}
		}
		s.app.PeopleChanged()
		return u, nil
	})
}

// acceptInvite creates the user that the invitation with this token
// invites and returns them and the invitation. An unknown, expired or used
// token counts as a failed attempt of r's client (beginAttempt).
func (s *Server) acceptInvite(r *http.Request, token, name, password string) (*parley.User, *parley.Invite, error) {
	ctx := r.Context()
	done, err := s.beginAttempt(r, "")
	if err != nil {
		return nil, nil, err
	}
	failed := false
	defer func() { done(failed) }()
	hash := hashSecret(token)
	inv, err := s.db.Invite(ctx, hash)
	if parley.ErrorCode(err) == parley.ENOTFOUND || token == "" {
		failed = true
		return nil, nil, errInviteGone()
	} else if err != nil {
		return nil, nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(inv.Email, "@")
	}
	if name, err = cleanName("name", name); err != nil {
		return nil, nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, nil, err
	}
	pw, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, nil, err
	}
	u := &parley.User{Name: name, PasswordHash: pw, CreatedAt: s.now()}
	inv, err = s.db.AcceptInvite(ctx, hash, u)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		failed = true
		return nil, nil, errInviteGone()
	} else if err != nil {
		return nil, nil, err
	}
	return u, inv, nil
}

func errInviteGone() error {
	return parley.Errorf(parley.ENOTFOUND, "this invitation is not valid: it has expired or was already used")
}
