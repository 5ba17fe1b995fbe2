package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// Inboxes: the conversations API's read-only view (HubSpot v3 shape) and
// the settings API that creates and changes them.

type inboxJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Archived  bool      `json:"archived"`
}

func toInboxJSON(in *parley.Inbox) inboxJSON {
	return inboxJSON{ID: idString(in.ID), Name: in.Name, CreatedAt: in.CreatedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC()}
}

func (s *Server) handleInboxes() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		inboxes, err := s.db.Inboxes(r.Context())
		if err != nil {
			return err
		}
		out := []inboxJSON{}
		for _, in := range inboxes {
			if in.HasMember(u.ID) {
				out = append(out, toInboxJSON(in))
			}
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleInboxGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "inboxId")
		if err != nil {
			return err
		}
		in, err := s.db.Inbox(r.Context(), id)
		if err != nil {
			return err
		} else if !in.HasMember(userFrom(r.Context()).ID) {
			return parley.Errorf(parley.ENOTFOUND, "inbox not found")
		}
		s.writeJSON(w, http.StatusOK, toInboxJSON(in))
		return nil
	})
}
