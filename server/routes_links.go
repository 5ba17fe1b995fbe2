package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// linksStore is what this area needs from the store beyond Store's core.
type linksStore interface {
	CreateKnowledgeLink(ctx context.Context, l *parley.KnowledgeLink) error
	KnowledgeLink(ctx context.Context, id uint64) (*parley.KnowledgeLink, error)
	KnowledgeLinks(ctx context.Context) ([]*parley.KnowledgeLink, error)
	UpdateKnowledgeLink(ctx context.Context, id uint64, fn func(*parley.KnowledgeLink) error) (*parley.KnowledgeLink, error)
	DeleteKnowledgeLink(ctx context.Context, id uint64) error
	MeetingLink(ctx context.Context, userID uint64) (string, error)
	SetMeetingLink(ctx context.Context, userID uint64, url string) error
}

// ----- knowledge links -----

type knowledgeLinkJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	CreatedBy string    `json:"createdBy,omitempty"` // actor id
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toKnowledgeLinkJSON(l *parley.KnowledgeLink) knowledgeLinkJSON {
	j := knowledgeLinkJSON{ID: idString(l.ID), Title: l.Title, URL: l.URL, CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
	if l.CreatedBy != 0 {
		j.CreatedBy = parley.UserActorID(l.CreatedBy)
	}
	return j
}

// knowledgeLinkRequest is the body of POST and PATCH: PATCH changes the
// fields given.
type knowledgeLinkRequest struct {
	Title *string `json:"title"`
	URL   *string `json:"url"`
}

// apply sets the given fields on l (trimmed) and validates the result.
func (req knowledgeLinkRequest) apply(l *parley.KnowledgeLink) error {
	if req.Title != nil {
		l.Title = strings.TrimSpace(*req.Title)
	}
	if req.URL != nil {
		l.URL = strings.TrimSpace(*req.URL)
	}
	return l.Validate()
}

// handleKnowledgeLinks lists the library, by title; with q, only the links
// whose title holds q (case-insensitively).
func (s *Server) handleKnowledgeLinks() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
		if len(q) > parley.MaxNameBytes {
			return parley.Errorf(parley.EINVALID, "q is longer than %d bytes", parley.MaxNameBytes)
		}
		all, err := s.db.KnowledgeLinks(r.Context())
		if err != nil {
			return err
		}
		out := []knowledgeLinkJSON{}
		for _, l := range all {
			if q == "" || strings.Contains(strings.ToLower(l.Title), q) {
				out = append(out, toKnowledgeLinkJSON(l))
			}
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleKnowledgeLinkCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req knowledgeLinkRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		l := &parley.KnowledgeLink{CreatedBy: userFrom(r.Context()).ID, CreatedAt: s.now()}
		err := req.apply(l)
		if err == nil {
			err = s.db.CreateKnowledgeLink(r.Context(), l)
		}
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toKnowledgeLinkJSON(l))
		return nil
	})
}

func (s *Server) handleKnowledgeLinkGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		var l *parley.KnowledgeLink
		if err == nil {
			l, err = s.db.KnowledgeLink(r.Context(), id)
		}
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toKnowledgeLinkJSON(l))
		return nil
	})
}

func (s *Server) handleKnowledgeLinkUpdate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req knowledgeLinkRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Title == nil && req.URL == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send title or url")
		}
		l, err := s.db.UpdateKnowledgeLink(r.Context(), id, req.apply)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toKnowledgeLinkJSON(l))
		return nil
	})
}

func (s *Server) handleKnowledgeLinkDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err == nil {
			err = s.db.DeleteKnowledgeLink(r.Context(), id)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// ----- the caller's meeting link -----

type meetingLinkJSON struct {
	URL string `json:"url"` // "" when none is set
}

func (s *Server) handleMeetingLinkGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		url, err := s.db.MeetingLink(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, meetingLinkJSON{URL: url})
		return nil
	})
}

// handleMeetingLinkPut saves the caller's meeting link; "" removes it.
func (s *Server) handleMeetingLinkPut() http.Handler {
	type request struct {
		URL *string `json:"url"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.URL == nil {
			return parley.Errorf(parley.EINVALID, `url is required ("" removes the link)`)
		}
		url := strings.TrimSpace(*req.URL)
		var err error
		if url != "" {
			err = parley.ValidateLinkURL("url", url)
		}
		if err == nil {
			err = s.db.SetMeetingLink(r.Context(), userFrom(r.Context()).ID, url)
		}
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, meetingLinkJSON{URL: url})
		return nil
	})
}
