package server

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/richtext"
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

// meJSON is the caller's own user: userJSON and their notification settings
// (R6), which nobody else sees.
type meJSON struct {
	userJSON
	Notify parley.Notify `json:"notify"`
	// ReassignWhileAway: replies on the user's conversations go to a
	// teammate while they are away (I10).
	ReassignWhileAway bool `json:"reassignWhileAway"`
	// Language is the language of the user's console ("" until it says);
	// Parley's mails to the user are written in it.
	Language string `json:"language"`
	// Signature is added to the user's email replies (rich text).
	Signature string `json:"signature"`
}

func (s *Server) toMeJSON(u *parley.User) meJSON {
	return meJSON{userJSON: s.toUserJSON(u, true), Notify: u.Notify, ReassignWhileAway: u.ReassignWhileAway, Language: u.Language, Signature: u.Signature}
}

// cleanSignature is a signature as it is kept: rich text through
// richtext.Clean, checked.
func cleanSignature(field string, s *string) error {
	if s == nil {
		return nil
	}
	if len(*s) > 4*parley.MaxSignatureBytes {
		return parley.Errorf(parley.ETOOLARGE, "%s is %d bytes; the limit is %d", field, len(*s), parley.MaxSignatureBytes)
	}
	c := richtext.Clean(*s)
	if strings.TrimSpace(richtext.Text(c)) == "" && !strings.Contains(c, "<img") {
		c = ""
	}
	*s = c
	return parley.ValidateSignature(field, c)
}

func (s *Server) handleMe() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		s.writeJSON(w, http.StatusOK, s.toMeJSON(userFrom(r.Context())))
		return nil
	})
}

// handleMeUpdate changes the caller's own settings: away mode, reassigning
// replies while away, the cap of open chats routing gives them, name,
// notification settings (each of muted and desktop optional) and the
// language of their console, which their mails follow.
func (s *Server) handleMeUpdate() http.Handler {
	type request struct {
		Away              *bool   `json:"away"`
		ReassignWhileAway *bool   `json:"reassignWhileAway"`
		MaxOpenChats      *int    `json:"maxOpenChats"`
		Name              *string `json:"name"`
		Language          *string `json:"language"`
		Signature         *string `json:"signature"`
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
		if err := cleanSignature("signature", req.Signature); err != nil {
			return err
		}
		if req.Language != nil && !locale.Has(*req.Language) {
			return parley.Errorf(parley.EINVALID, "language must be one of %s", strings.Join(locale.Languages(), ", "))
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
			if req.Language != nil {
				u.Language = *req.Language
			}
			if req.Signature != nil {
				u.Signature = *req.Signature
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

// publishUser announces a committed change of a user to every console.
func (s *Server) publishUser(u *parley.User) {
	s.hub.Publish(mustJSON(evUser{Type: "user.updated", User: s.toUserJSON(u, true)}), presenceTopic)
}

func (s *Server) handleUserGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		u, err := s.db.User(r.Context(), id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toUserJSON(u, true))
		return nil
	})
}

// handleUserPatch changes a user's name, role, routing seat, cap of open
// chats, away mode (I10: an admin may set a teammate away) or whether they
// are deactivated.
// Deactivation ends their sessions, tokens and open consoles at once; their
// history stays. A role change closes their open consoles, which reconnect
// with the new rights.
func (s *Server) handleUserPatch() http.Handler {
	type request struct {
		Name        *string `json:"name"`
		Role        *string `json:"role"`
		RoutingSeat *bool   `json:"routingSeat"`
		Deactivated *bool   `json:"deactivated"`
		Away        *bool   `json:"away"`
		// MaxOpenChats: 0 (no cap) to parley.MaxOpenChatsLimit.
		MaxOpenChats *int `json:"maxOpenChats"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		var name string
		var role parley.Role
		if req.Name != nil {
			if name, err = cleanName("name", *req.Name); err != nil {
				return err
			}
		}
		if req.Role != nil {
			if role, err = parseRole(*req.Role); err != nil {
				return err
			}
		}
		if req.MaxOpenChats != nil {
			if err := parley.ValidateMaxOpenChats(*req.MaxOpenChats); err != nil {
				return err
			}
		}
		var before parley.User
		u, err := s.db.UpdateUserAccess(ctx, id, func(u *parley.User) error {
			before = *u
			if req.Name != nil {
				u.Name = name
			}
			if req.Role != nil {
				u.Role = role
			}
			if req.RoutingSeat != nil {
				u.RoutingSeat = *req.RoutingSeat
			}
			if req.Deactivated != nil {
				u.Deactivated = *req.Deactivated
			}
			if req.Away != nil {
				u.Away = *req.Away
			}
			if req.MaxOpenChats != nil {
				u.MaxOpenChats = *req.MaxOpenChats
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.userChanged(&before, u, req.Away != nil)
		s.writeJSON(w, http.StatusOK, s.toUserJSON(u, true))
		return nil
	})
}

// userChanged follows an admin's committed change of user before into u:
// it closes the user's connections that lost their rights, sets their away
// mode in presence when awaySet, announces the user and tells the app what
// routing depends on.
func (s *Server) userChanged(before, u *parley.User, awaySet bool) {
	if u.Deactivated && !before.Deactivated {
		s.closeAgents(u.ID, kindOf(parley.EUNAUTHORIZED).close, "account deactivated")
	} else if u.Role != before.Role {
		// The connections hold the user as they were: they reconnect
		// with the new rights (a demoted admin's tokens have lost the
		// admin scope in the same commit).
		s.closeAgents(u.ID, closeRightsChanged, "role changed")
	}
	if awaySet {
		s.presence.SetAway(u.ID, u.Away) // availability and presence follow
	}
	s.publishUser(u)
	if u.Deactivated != before.Deactivated || u.RoutingSeat != before.RoutingSeat {
		s.app.PeopleChanged()
	}
	if u.MaxOpenChats != before.MaxOpenChats {
		s.app.KickRouting() // a higher cap may make room for a waiting conversation
	}
}
