package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// The console's session: signing in and out.

// handleSessionCreate signs in with email and password. Failed sign-ins
// are limited per client address and per email (beginAttempt); password
// checks wait for a hashing turn (hashSlot).
func (s *Server) handleSessionCreate() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return signInHandler(s, http.StatusOK, func(r *http.Request, req *request) (*parley.User, error) {
		return s.signIn(r, strings.TrimSpace(req.Email), req.Password)
	})
}

// signIn returns the active user with this email and password: 401 for a
// wrong email or password, 429 when r's client or the email has failed too
// often, 503 when no hashing turn came in time.
func (s *Server) signIn(r *http.Request, email, password string) (*parley.User, error) {
	done, err := s.beginAttempt(r, email)
	if err != nil {
		return nil, err
	}
	failed := false
	defer func() { done(failed) }()
	u, err := s.db.UserByEmail(r.Context(), email)
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	release, err := s.hashSlot(r.Context())
	if err != nil {
		return nil, err
	}
	defer release()
	if u == nil || u.Deactivated || u.PasswordHash == "" {
		checkPassword(s.cfg.argon2, dummyHash(), password)
		failed = true
		s.auditFailedSignIn(r, u)
		return nil, errWrongLogin()
	}
	if !checkPassword(s.cfg.argon2, u.PasswordHash, password) {
		failed = true
		s.auditFailedSignIn(r, u)
		return nil, errWrongLogin()
	}
	s.signedIn(r, email)
	return u, nil
}

// signInHandler answers a same-origin form (decodeSameOrigin) that finds or
// makes a user: signing in, the first-run setup, accepting an invitation.
// fn reads the form, req, and returns the user, who is then signed in with
// a new console session and its cookie; the answer is status with {"user"}.
func signInHandler[Req any](s *Server, status int, fn func(r *http.Request, req *Req) (*parley.User, error)) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req Req
		if err := s.decodeSameOrigin(w, r, &req); err != nil {
			return err
		}
		u, err := fn(r, &req)
		if err != nil {
			return err
		}
		return s.startSession(w, r, status, u)
	})
}

// startSession signs u in, with a new console session and its cookie, and
// answers status with {"user"}.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, status int, u *parley.User) error {
	secret, hash := newSecret("ps_")
	now := s.now()
	r = s.withSignIn(r, u)
	err := s.db.CreateSession(r.Context(), &parley.Session{
		Hash: hash, UserID: u.ID, Kind: parley.SessionCookie, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL),
	})
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, secret, int(s.cfg.SessionTTL/time.Second))
	s.writeJSON(w, status, map[string]any{"user": s.toUserJSON(u, false)})
	return nil
}

// handleSessionDelete signs out: the session (or the API token the request
// came with) is deleted, the sockets it opened are closed before the answer,
// and the cookie is cleared.
func (s *Server) handleSessionDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a := authFrom(r.Context())
		if err := s.db.DeleteSession(r.Context(), a.hash); err != nil {
			return err
		}
		s.closeCredential(a.hash, "signed out")
		if a.cookie {
			s.setSessionCookie(w, r, "", -1)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
