package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Contact lists: the lists of contacts a widget's audience rules name.

func (s *Server) handleLists() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		lists, err := s.db.ContactLists(ctx)
		if err != nil {
			return err
		}
		widgets, err := s.db.Widgets(ctx)
		if err != nil {
			return err
		}
		out := make([]listJSON, len(lists))
		for i, l := range lists {
			out[i] = toListJSON(l, widgets)
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

// writeList answers with list l and the widgets that use it.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, status int, l *parley.ContactList) error {
	widgets, err := s.db.Widgets(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, status, toListJSON(l, widgets))
	return nil
}

func (s *Server) handleListGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		l, err := s.db.ContactList(r.Context(), id)
		if err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusOK, l)
	})
}

func (s *Server) handleListCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req listRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		l := &parley.ContactList{Match: parley.MatchAll}
		req.apply(l)
		if err := l.Validate(); err != nil {
			return err
		}
		if err := s.db.CreateContactList(r.Context(), l); err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusCreated, l)
	})
}

func (s *Server) handleListPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req listRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Name == nil && req.Match == nil && req.Criteria == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send name, match or criteria")
		}
		l, err := s.db.UpdateContactList(r.Context(), id, func(l *parley.ContactList) error {
			req.apply(l)
			return l.Validate()
		})
		if err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusOK, l)
	})
}

// handleListDelete deletes a list that no widget's audience uses (else 409
// naming the widget).
func (s *Server) handleListDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteContactList(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// listJSON is a contact list in the settings API: parley.ContactList with
// the id as a string, criteria always a list, and the widgets using it.
type listJSON struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Match     string                 `json:"match"`
	Criteria  []parley.ListCriterion `json:"criteria"`
	UsedBy    []string               `json:"usedBy"` // ids of the widgets whose audience it is
	CreatedAt time.Time              `json:"createdAt"`
	UpdatedAt time.Time              `json:"updatedAt"`
}

func toListJSON(l *parley.ContactList, widgets []*parley.Widget) listJSON {
	crit := l.Criteria
	if crit == nil {
		crit = []parley.ListCriterion{}
	}
	used := []string{}
	for _, w := range widgets {
		if (w.Audience.Mode == parley.AudienceList || w.Audience.Mode == parley.AudienceNotList) && w.Audience.ListID == l.ID {
			used = append(used, idString(w.ID))
		}
	}
	return listJSON{ID: idString(l.ID), Name: l.Name, Match: l.Match, Criteria: crit, UsedBy: used,
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
}

// listRequest is the body of POST and PATCH /lists; PATCH changes the fields
// given.
type listRequest struct {
	Name     *string                 `json:"name"`
	Match    *string                 `json:"match"`
	Criteria *[]parley.ListCriterion `json:"criteria"`
}

func (req listRequest) apply(l *parley.ContactList) {
	if req.Name != nil {
		l.Name = strings.TrimSpace(*req.Name)
	}
	if req.Match != nil {
		l.Match = *req.Match
	}
	if req.Criteria != nil {
		l.Criteria = make([]parley.ListCriterion, len(*req.Criteria))
		for i, c := range *req.Criteria {
			c.Property, c.Op = strings.TrimSpace(c.Property), strings.TrimSpace(c.Op)
			l.Criteria[i] = c
		}
	}
}
