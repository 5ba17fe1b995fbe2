package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// userJSON is a user as the settings API shows it. It is not parley.User's
// JSON (the store's) on purpose: it hides the password hash and the
// notification settings, and writes the id as a string.
type userJSON struct {
	ID      string `json:"id"`
	ActorID string `json:"actorId"`
	Email   string `json:"email"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Away    bool   `json:"away"`
	State   string `json:"state,omitempty"` // online, away, offline
	// RoutingSeat: may receive automatic routing (I1). Deactivated users
	// keep their history but cannot sign in.
	RoutingSeat bool `json:"routingSeat"`
	Deactivated bool `json:"deactivated"`
	// MaxOpenChats caps the open chats routing gives the user; 0 is no cap.
	MaxOpenChats int `json:"maxOpenChats"`
}

func (s *Server) toUserJSON(u *parley.User, withState bool) userJSON {
	j := userJSON{ID: idString(u.ID), ActorID: u.ActorID(), Email: u.Email, Name: u.Name, Role: string(u.Role), Away: u.Away,
		RoutingSeat: u.RoutingSeat, Deactivated: u.Deactivated, MaxOpenChats: u.MaxOpenChats}
	if withState {
		j.State = s.userState(u)
	}
	return j
}

// userState is "online" while a console is connected and away mode is off,
// "away" while connected in away mode, and "offline" otherwise.
func (s *Server) userState(u *parley.User) string {
	st := s.presence.State(u.ID)
	switch {
	case !st.Online:
		return "offline"
	case u.Away:
		return "away"
	}
	return "online"
}

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
		return nil, errWrongLogin()
	}
	if !checkPassword(s.cfg.argon2, u.PasswordHash, password) {
		failed = true
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

// tokenJSON is an API token as the settings API lists it: never its secret
// nor its hash.
type tokenJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Scopes    parley.Scopes `json:"scopes"`
	UserID    string        `json:"userId"`
	CreatedAt time.Time     `json:"createdAt"`
	// LastUsedAt is when the token was last used, to the hour; absent if
	// never.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// Token is the secret, in the answer that made the token only.
	Token string `json:"token,omitempty"`
}

func toTokenJSON(t *parley.Session, owner *parley.User) tokenJSON {
	scopes := t.Scopes
	if owner != nil {
		scopes = t.Rights(owner)
	}
	if scopes == nil {
		scopes = parley.Scopes{}
	}
	return tokenJSON{ID: idString(t.ID), Name: t.Name, Scopes: scopes, UserID: idString(t.UserID), CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt}
}

// handleTokenCreate makes an API token. Its scopes are those asked for, each
// of which the caller's own credential must carry (else 403); without
// "scopes" it gets every right of the caller's credential, which for a
// console session is every right of the user's role.
func (s *Server) handleTokenCreate() http.Handler {
	type request struct {
		Name   string    `json:"name"`
		Scopes *[]string `json:"scopes"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.limitTokenCreate(r); err != nil {
			return err
		}
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		var err error
		if req.Name, err = parley.CleanLine("name", req.Name, true); err != nil {
			return err
		}
		a := authFrom(r.Context())
		scopes := a.rights
		if req.Scopes != nil {
			asked, err := parley.ParseScopes(*req.Scopes)
			if err != nil {
				return err
			}
			for _, sc := range asked {
				if !a.can(sc) {
					return parley.Errorf(parley.EFORBIDDEN, "scopes: you may not grant %q: a token gets only rights its maker has", sc)
				}
			}
			scopes = asked
		}
		secret, hash := newSecret("pat_")
		t := &parley.Session{Hash: hash, UserID: a.user.ID, Kind: parley.SessionToken, Name: req.Name, CreatedAt: s.now(), Scopes: scopes}
		if err := s.db.CreateSession(r.Context(), t); err != nil {
			return err
		}
		out := toTokenJSON(t, nil)
		out.Token = secret
		s.writeJSON(w, http.StatusCreated, out)
		return nil
	})
}

// handleTokens lists API tokens, oldest first: the caller's own, or, for an
// admin with the admin scope, everyone's.
func (s *Server) handleTokens() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a := authFrom(r.Context())
		owner := a.user.ID
		if a.user.IsAdmin() && a.can(parley.ScopeAdmin) {
			owner = 0
		}
		list, err := s.db.Tokens(r.Context(), owner)
		if err != nil {
			return err
		}
		users := map[uint64]*parley.User{a.user.ID: a.user}
		out := make([]tokenJSON, 0, len(list))
		for _, t := range list {
			u, ok := users[t.UserID]
			if !ok {
				if u, err = s.db.User(r.Context(), t.UserID); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
					return err
				}
				users[t.UserID] = u
			}
			out = append(out, toTokenJSON(t, u))
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// handleTokenDelete revokes an API token at once, the sockets it opened
// included, for its owner or an admin with the admin scope; to anyone else
// it does not exist (404).
func (s *Server) handleTokenDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a := authFrom(r.Context())
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		t, err := s.db.Token(r.Context(), id)
		if err != nil {
			return err
		}
		if t.UserID != a.user.ID && !(a.user.IsAdmin() && a.can(parley.ScopeAdmin)) {
			return parley.Errorf(parley.ENOTFOUND, "token not found")
		}
		if t, err = s.db.DeleteToken(r.Context(), id); err != nil {
			return err
		}
		s.closeCredential(t.Hash, "token revoked")
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// meJSON is the caller's own user: userJSON and their notification settings
// (R6), which nobody else sees.
type meJSON struct {
	userJSON
	Notify parley.Notify `json:"notify"`
	// ReassignWhileAway: replies on the user's conversations go to a
	// teammate while they are away (I10).
	ReassignWhileAway bool `json:"reassignWhileAway"`
}

func (s *Server) toMeJSON(u *parley.User) meJSON {
	return meJSON{userJSON: s.toUserJSON(u, true), Notify: u.Notify, ReassignWhileAway: u.ReassignWhileAway}
}

func (s *Server) handleMe() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		s.writeJSON(w, http.StatusOK, s.toMeJSON(userFrom(r.Context())))
		return nil
	})
}

// handleMeUpdate changes the caller's own settings: away mode, reassigning
// replies while away, the cap of open chats routing gives them, name and
// notification settings (each of muted and desktop optional).
func (s *Server) handleMeUpdate() http.Handler {
	type request struct {
		Away              *bool   `json:"away"`
		ReassignWhileAway *bool   `json:"reassignWhileAway"`
		MaxOpenChats      *int    `json:"maxOpenChats"`
		Name              *string `json:"name"`
		Notify            *struct {
			Muted   *bool `json:"muted"`
			Desktop *bool `json:"desktop"`
		} `json:"notify"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Name != nil {
			n, err := parley.CleanLine("name", *req.Name, true)
			if err != nil {
				return err
			}
			req.Name = &n
		}
		if req.MaxOpenChats != nil {
			if err := parley.ValidateMaxOpenChats(*req.MaxOpenChats); err != nil {
				return err
			}
		}
		before := userFrom(r.Context()).MaxOpenChats
		u, err := s.db.UpdateUser(r.Context(), userFrom(r.Context()).ID, func(u *parley.User) error {
			if req.Away != nil {
				u.Away = *req.Away
			}
			if req.ReassignWhileAway != nil {
				u.ReassignWhileAway = *req.ReassignWhileAway
			}
			if req.MaxOpenChats != nil {
				u.MaxOpenChats = *req.MaxOpenChats
			}
			if req.Name != nil {
				u.Name = *req.Name
			}
			if n := req.Notify; n != nil {
				if n.Muted != nil {
					u.Notify.Muted = *n.Muted
				}
				if n.Desktop != nil {
					u.Notify.Desktop = *n.Desktop
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if req.Away != nil {
			s.presence.SetAway(u.ID, u.Away)
		}
		if u.MaxOpenChats != before {
			s.publishUser(u)
			s.app.KickRouting() // a higher cap may make room for a waiting conversation
		}
		s.writeJSON(w, http.StatusOK, s.toMeJSON(u))
		return nil
	})
}

// handleUsers lists every user with presence: active ones for assignee
// pickers, deactivated ones (marked so) for the names in history.
func (s *Server) handleUsers() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		users, err := s.db.Users(r.Context())
		if err != nil {
			return err
		}
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			out = append(out, s.toUserJSON(u, true))
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}
