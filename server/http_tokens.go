package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// API tokens: a user's long-lived credentials for the APIs.

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
