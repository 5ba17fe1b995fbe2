package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Actors in the conversations API, HubSpot v3 shape: who sent a message.

type actorJSON struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// actor resolves an actor id the caller may see: any user, a contact only
// if it has a thread in one of the caller's inboxes.
func (s *Server) actor(ctx context.Context, u *parley.User, actorID string) (actorJSON, error) {
	prefix, id, err := parley.ParseActorID(actorID)
	if err != nil {
		return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
	}
	switch prefix {
	case parley.ActorUser:
		a, err := s.db.User(ctx, id)
		if err != nil {
			return actorJSON{}, err
		}
		return actorJSON{ID: actorID, Type: "AGENT", Name: a.Name, Email: a.Email}, nil
	case parley.ActorVisitor:
		c, err := s.db.Contact(ctx, id)
		if err != nil {
			return actorJSON{}, err
		}
		inboxes, err := s.app.UserInboxIDs(ctx, u)
		if err != nil {
			return actorJSON{}, err
		}
		ts, _, err := s.db.Threads(ctx, parley.ThreadFilter{InboxIDs: inboxes, ContactID: id, Limit: 1, Archived: ptr(false)})
		if err != nil {
			return actorJSON{}, err
		}
		if len(ts) == 0 {
			archived, _, err := s.db.Threads(ctx, parley.ThreadFilter{InboxIDs: inboxes, ContactID: id, Limit: 1, Archived: ptr(true)})
			if err != nil {
				return actorJSON{}, err
			}
			if len(archived) == 0 {
				return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
			}
		}
		return actorJSON{ID: actorID, Type: "VISITOR", Name: c.DisplayName(), Email: c.Email}, nil
	case parley.ActorSystem:
		return actorJSON{ID: actorID, Type: "SYSTEM", Name: "Parley"}, nil
	case parley.ActorBot:
		return s.botActor(ctx, u, actorID, id)
	}
	return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
}

func ptr[T any](v T) *T { return &v }

func (s *Server) handleActorGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.actor(r.Context(), userFrom(r.Context()), r.PathValue("actorId"))
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleActorsBatch() http.Handler {
	type request struct {
		Inputs []string `json:"inputs"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if len(req.Inputs) > 100 {
			return parley.Errorf(parley.EINVALID, "inputs holds at most 100 actor ids")
		}
		started := time.Now()
		out := []actorJSON{}
		var missing []string
		for _, id := range req.Inputs {
			a, err := s.actor(r.Context(), userFrom(r.Context()), id)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				missing = append(missing, id)
				continue
			} else if err != nil {
				return err
			}
			out = append(out, a)
		}
		res := batchJSON{Status: "COMPLETE", Results: out, StartedAt: msTime(started), CompletedAt: msTime(time.Now())}
		if len(missing) == 0 {
			s.writeJSON(w, http.StatusOK, res)
			return nil
		}
		// As HubSpot answers a batch with failures: 207, and one error
		// naming the ids that were not found (or not visible).
		res.NumErrors = len(missing)
		res.Errors = []batchErrorJSON{{
			Status: "error", Category: "OBJECT_NOT_FOUND", Message: "actors not found: " + strings.Join(missing, ", "),
			Context: map[string][]string{"ids": missing},
		}}
		s.writeJSON(w, http.StatusMultiStatus, res)
		return nil
	})
}

// batchJSON is HubSpot's answer to a batch read; with errors, its
// BatchResponseWithErrors.
type batchJSON struct {
	Status      string           `json:"status"`
	Results     any              `json:"results"`
	NumErrors   int              `json:"numErrors,omitempty"`
	Errors      []batchErrorJSON `json:"errors,omitempty"`
	StartedAt   msTime           `json:"startedAt"`
	CompletedAt msTime           `json:"completedAt"`
}

// batchErrorJSON is HubSpot's StandardError of a batch.
type batchErrorJSON struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

// botActor is the actor of widget id's bot, for a user who is a member of
// the widget's inbox.
func (s *Server) botActor(ctx context.Context, u *parley.User, actorID string, widgetID uint64) (actorJSON, error) {
	wd, err := s.db.Widget(ctx, widgetID)
	if err != nil {
		return actorJSON{}, err
	}
	if ok, err := s.app.IsMember(ctx, u, wd.InboxID); err != nil {
		return actorJSON{}, err
	} else if !ok {
		return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
	}
	return actorJSON{ID: actorID, Type: "BOT", Name: wd.Bot.DisplayName()}, nil
}
