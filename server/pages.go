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
	"github.com/parley-chat/parley/server/console"
	"github.com/parley-chat/parley/widget"
)

// MetaSetupToken is the store key of the hashed one-time setup token.
const MetaSetupToken = "setupTokenHash"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if s.ctx.Err() != nil {
			return parley.Errorf(parley.EUNAVAILABLE, "shutting down")
		}
		s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
}

func (s *Server) handleNotFound() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		return parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})
}

type assetRef = *widget.Asset

func (s *Server) assetLoader() assetRef  { return s.assets.File("embed.js") }
func (s *Server) assetChatJS() assetRef  { return s.assets.File("chat.js") }
func (s *Server) assetChatCSS() assetRef { return s.assets.File("chat.css") }

// handleAsset serves a widget file to any origin, gzipped when the browser
// takes it. Versioned URLs (?v=hash) are cached for a year.
func (s *Server) handleAsset(get func() assetRef) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a := get()
		v := r.URL.Query().Get("v")
		s.serveAsset(w, r, a, v != "" && v == a.Hash)
		return nil
	})
}

// serveAsset writes a widget file for any origin, gzipped when the browser
// takes it; immutable (the URL names the content) means cached for a year,
// otherwise for five minutes.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, a assetRef, immutable bool) {
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("ETag", `"`+a.Hash+`"`)
	h.Set("Vary", "Accept-Encoding")
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if match := r.Header.Get("If-None-Match"); match == `"`+a.Hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.Body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.Gzip
	}
	_, _ = w.Write(body)
}

// handleBoot tells the loader which widget, if any, a page gets: per
// targeting and audience (bootWidget), for the visitor that the optional
// ie/it or vt parameters name (bootContact).
func (s *Server) handleBoot() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		pageURL := r.URL.Query().Get("url")
		if len(pageURL) > 4096 {
			return parley.Errorf(parley.EINVALID, "url is longer than 4096 bytes")
		}
		c, err := s.bootContact(r)
		if err != nil {
			// Audiences then see an anonymous visitor; the page still loads.
			s.log.Error().Err(err).Str("correlationId", correlationID(r)).Msg("boot: look up visitor")
			c = nil
		}
		wd, err := s.bootWidget(r.Context(), pageURL, c)
		if err != nil {
			return err
		}
		if wd == nil {
			s.writeJSON(w, http.StatusOK, widget.NewBoot(nil, parley.WidgetStatus{}, "", "", ""))
			return nil
		}
		base := s.baseURL(r)
		b := widget.NewBoot(wd, s.app.WidgetStatus(r.Context(), wd),
			base+"/widget/v1/chat.js?v="+s.assetChatJS().Hash,
			base+"/widget/v1/chat.css?v="+s.assetChatCSS().Hash,
			"ws"+strings.TrimPrefix(base, "http")+"/widget/v1/ws?widgetId="+idString(wd.ID))
		b.Assets.Theme = s.themeURL(r, wd)
		s.dressBoot(r.Context(), wd, c, &b)
		s.writeJSON(w, http.StatusOK, b)
		return nil
	})
}

// baseURL is the configured public URL, or this request's own origin.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

const consoleCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func (s *Server) handleConsolePage() http.Handler {
	page := console.Page()
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
		return nil
	})
}

// handleConsoleFiles serves the console's built files, whose names change
// with their content: cached for good, gzipped, with ETags.
func (s *Server) handleConsoleFiles() http.Handler {
	return http.StripPrefix("/console/", console.Handler())
}

// consoleFiles lets a page's template link to the console's built files by
// their source names: {{console "app.css"}}.
var consoleFiles = template.FuncMap{"console": console.URL}

var setupPage = template.Must(template.New("setup").Funcs(consoleFiles).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Set up Parley</title><link rel="stylesheet" href="{{console "app.css"}}"></head>
<body class="setup"><main class="setup-card">
<h1>Set up Parley</h1>
<p>Create the first admin account.</p>
<form id="setup" data-token="{{.Token}}">
<label>Name <input name="name" autocomplete="name" required maxlength="256"></label>
<label>Email <input name="email" type="email" autocomplete="email" required maxlength="256"></label>
<label>Password <input name="password" type="password" autocomplete="new-password" required minlength="10"></label>
<button type="submit">Create admin</button>
<p role="alert" id="setup-error"></p>
</form></main>
<script src="{{console "setup.js"}}"></script></body></html>`))

func (s *Server) handleSetupPage() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Security-Policy", consoleCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var buf bytes.Buffer
		_ = setupPage.Execute(&buf, map[string]string{"Token": r.URL.Query().Get("token")})
		_, _ = w.Write(buf.Bytes())
		return nil
	})
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
