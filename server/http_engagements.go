package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// Engagements: the calls, emails and notes logged on a contact.

// engagementJSON is an engagement in the API. Unlike parley.Engagement it
// writes ids as strings and the author as an actor id, and leaves out a
// thread the caller may not see.
type engagementJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	ContactID string    `json:"contactId"`
	ThreadID  string    `json:"threadId,omitempty"` // absent too when the caller may not see it
	CreatedBy string    `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *Server) handleEngagementCreate() http.Handler {
	type request struct {
		Kind     string  `json:"kind"`
		Body     string  `json:"body"`
		ThreadID *string `json:"threadId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req request
		v, c, err := s.contactBody(w, r, &req)
		if err != nil {
			return err
		}
		e := &parley.Engagement{Kind: req.Kind, Body: req.Body, ContactID: c.ID, CreatedBy: v.u.ID}
		if err := e.Validate(); err != nil {
			return err
		}
		err = v.createOnContact(ctx, c, req.ThreadID, func(t *parley.Thread) *parley.Message {
			e.ThreadID = t.ID
			return s.contactEvent(v.u, t, parley.EventEngagementAdded, e.Kind+": "+parley.Preview(e.Body))
		}, func(event *parley.Message) (parley.AppendResult, error) {
			return s.db.CreateEngagement(ctx, e, event)
		})
		if err != nil {
			return err
		}
		s.publishContact(ctx, c)
		s.writeJSON(w, http.StatusCreated, v.engagement(ctx, e))
		return nil
	})
}

func (s *Server) handleEngagementsList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v, c, err := s.contactParam(r)
		if err != nil {
			return err
		}
		limit, err := queryLimit(r, 100, 500)
		if err != nil {
			return err
		}
		before, err := queryCursor(r, 1)
		if err != nil {
			return err
		}
		es, more, err := s.db.ContactEngagements(ctx, c.ID, before, limit)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, listPage(es, more,
			func(e *parley.Engagement) engagementJSON { return v.engagement(ctx, e) },
			func(e *parley.Engagement) string { return idString(e.ID) }))
		return nil
	})
}
