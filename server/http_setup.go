package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// First-run setup: the page and the endpoint that create the first admin
// with the one-time setup token.

// MetaSetupToken is the store key of the hashed one-time setup token.
const MetaSetupToken = "setupTokenHash"

var setupPage = template.Must(template.New("setup").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{t .Lang "page.setup.title"}}</title><link rel="stylesheet" href="{{console "app.css"}}"></head>
<body class="setup"><main class="setup-card">
{{if .Valid}}<h1>{{t .Lang "page.setup.title"}}</h1>
<p>{{t .Lang "page.setup.intro"}}</p>
<form id="setup" data-token="{{.Token}}" data-failed="{{t .Lang "page.setup.failed"}}" data-offline="{{t .Lang "page.offline"}}">
<label>{{t .Lang "page.setup.name"}} <input name="name" autocomplete="name" required maxlength="256"></label>
<label>{{t .Lang "page.setup.email"}} <input name="email" type="email" autocomplete="email" required maxlength="256"></label>
<label>{{t .Lang "page.setup.password"}} <input name="password" type="password" autocomplete="new-password" required minlength="10"></label>
<button type="submit">{{t .Lang "page.setup.submit"}}</button>
<p role="alert" id="setup-error"></p>
</form>
<script src="{{console "setup.js"}}"></script>
{{else}}<h1>{{t .Lang "page.setup.invalidHeading"}}</h1>
<p>{{t .Lang "page.setup.invalid"}}</p>
<p><a href="/">{{t .Lang "page.invite.signIn"}}</a></p>
{{end}}</main></body></html>`))

func (s *Server) handleSetupPage() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Security-Policy", consoleCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Vary", "Accept-Language")
		token := r.URL.Query().Get("token")
		valid, err := s.setupTokenValid(r, token)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := setupPage.Execute(&buf, struct {
			Token, Lang string
			Valid       bool
		}{token, locale.Match(r.Header.Get("Accept-Language")), valid}); err != nil {
			return err
		}
		if !valid {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write(buf.Bytes())
		return nil
	})
}

// setupTokenValid reports whether token is the current setup token, so
// that the page says at once that a used or replaced link no longer works
// rather than failing on submit. A wrong token counts as a failed attempt of
// r's client, as it does on submit (beginAttempt): the page is no oracle for
// guessing.
func (s *Server) setupTokenValid(r *http.Request, token string) (bool, error) {
	got, err := s.db.Meta(r.Context(), MetaSetupToken)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil // set up already: nothing to guess
	} else if err != nil {
		return false, err
	}
	done, err := s.beginAttempt(r, "")
	if err != nil {
		return false, err
	}
	ok := token != "" && subtle.ConstantTimeCompare(got, []byte(hashSecret(token))) == 1
	done(!ok)
	return ok, nil
}

// handleSetup creates the first admin with the one-time setup token that the
// first start printed, signs them in, and makes them a member of every inbox.
// The token is used up in the transaction that creates the admin, so of
// setups racing with one token exactly one succeeds; the others, like a
// wrong or used token, get 403 and create nothing. Wrong tokens count as
// failed attempts of the client (beginAttempt).
func (s *Server) handleSetup() http.Handler {
	type request struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return signInHandler(s, http.StatusCreated, func(r *http.Request, req *request) (*parley.User, error) {
		return s.setup(r, req.Token, req.Email, req.Name, req.Password)
	})
}

// setup checks the setup token and creates the first admin with it.
func (s *Server) setup(r *http.Request, token, email, name, password string) (*parley.User, error) {
	ctx := r.Context()
	done, err := s.beginAttempt(r, "")
	if err != nil {
		return nil, err
	}
	failed := false
	defer func() { done(failed) }()
	want := []byte(hashSecret(token))
	got, err := s.db.Meta(ctx, MetaSetupToken)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && subtle.ConstantTimeCompare(got, want) != 1 {
		failed = true
		return nil, errSetupUsed()
	} else if err != nil {
		return nil, err
	}
	u, err := newAdmin(email, name, password, s.now())
	if err != nil {
		return nil, err
	}
	if u.PasswordHash, err = s.hashPassword(ctx, password); err != nil {
		return nil, err
	}
	err = s.db.ClaimMeta(ctx, MetaSetupToken, want, u, true)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		failed = true
		return nil, errSetupUsed()
	}
	return u, err
}

func errSetupUsed() error {
	return parley.Errorf(parley.EFORBIDDEN, "this setup link is not valid or was already used")
}

// AdminStore is what CreateAdmin needs.
type AdminStore interface {
	CreateUser(ctx context.Context, u *parley.User) error
	Inboxes(ctx context.Context) ([]*parley.Inbox, error)
	UpdateInbox(ctx context.Context, id uint64, fn func(*parley.Inbox) error) (*parley.Inbox, error)
}

// CreateAdmin validates and creates an admin with a routing seat and makes
// them a member of every inbox. It returns EINVALID for a bad email, name or
// password and ECONFLICT if the email is taken.
func CreateAdmin(ctx context.Context, db AdminStore, email, name, password string, now time.Time) (*parley.User, error) {
	u, err := newAdmin(email, name, password, now)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash, err = HashPassword(password); err != nil {
		return nil, err
	}
	if err := db.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	inboxes, err := db.Inboxes(ctx)
	if err != nil {
		return nil, err
	}
	for _, in := range inboxes {
		if _, err := db.UpdateInbox(ctx, in.ID, func(in *parley.Inbox) error {
			if !in.HasMember(u.ID) {
				in.MemberIDs = append(in.MemberIDs, u.ID)
				in.UpdatedAt = now
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// newAdmin validates an admin's email, name and password and returns the
// admin with a routing seat, the password not yet hashed. It returns
// EINVALID for a bad email, name or password.
func newAdmin(email, name, password string, now time.Time) (*parley.User, error) {
	email = strings.TrimSpace(email)
	if len(email) > parley.MaxNameBytes || !strings.Contains(email, "@") || strings.ContainsAny(email, " <>\"") {
		return nil, parley.Errorf(parley.EINVALID, "email %q is not a valid address", truncateForError(email))
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if err := parley.ValidateLine("name", name, true); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	return &parley.User{Email: email, Name: name, Role: parley.RoleAdmin, RoutingSeat: true, CreatedAt: now}, nil
}

// MetaStore is what NewSetupToken needs.
type MetaStore interface {
	SetMeta(ctx context.Context, key string, val []byte) error
}

// NewSetupToken makes a new one-time setup token, replacing any earlier one,
// and returns it. Only its hash is stored.
func NewSetupToken(ctx context.Context, db MetaStore) (string, error) {
	token, hash := newSecret("setup_")
	return token, db.SetMeta(ctx, MetaSetupToken, []byte(hash))
}
