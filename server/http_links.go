package server

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
)

// ----- knowledge links -----

type knowledgeLinkJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
	authoredJSON
}

func toKnowledgeLinkJSON(l *parley.KnowledgeLink) knowledgeLinkJSON {
	return knowledgeLinkJSON{ID: idString(l.ID), Title: l.Title, URL: l.URL, authoredJSON: toAuthoredJSON(l.Authored)}
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

func (req knowledgeLinkRequest) empty() error {
	if req.Title == nil && req.URL == nil {
		return parley.Errorf(parley.EINVALID, "nothing to change: send title or url")
	}
	return nil
}

// knowledgeLinks is the library of knowledge links, by title; its routes
// let only admins change it.
func (s *Server) knowledgeLinks() library[parley.KnowledgeLink, knowledgeLinkJSON, knowledgeLinkRequest] {
	return library[parley.KnowledgeLink, knowledgeLinkJSON, knowledgeLinkRequest]{
		s: s, toJSON: toKnowledgeLinkJSON, authored: func(l *parley.KnowledgeLink) *parley.Authored { return &l.Authored },
		filter: titleFilter,
		all:    s.db.KnowledgeLinks, insert: s.db.CreateKnowledgeLink, get: s.db.KnowledgeLink,
		update: s.db.UpdateKnowledgeLink, delete: s.db.DeleteKnowledgeLink,
	}
}

// titleFilter keeps, with ?q=, only the links whose title holds q
// (case-insensitively).
func titleFilter(r *http.Request) (func(*parley.KnowledgeLink) bool, error) {
	q := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("q")))
	if len(q) > parley.MaxNameBytes {
		return nil, parley.Errorf(parley.EINVALID, "q is longer than %d bytes", parley.MaxNameBytes)
	}
	return func(l *parley.KnowledgeLink) bool {
		return q == "" || strings.Contains(strings.ToLower(l.Title), q)
	}, nil
}

// handleKnowledgeLinks lists the library, by title; with q, only the links
// whose title holds q (case-insensitively).
func (s *Server) handleKnowledgeLinks() http.Handler      { return s.knowledgeLinks().listHandler() }
func (s *Server) handleKnowledgeLinkCreate() http.Handler { return s.knowledgeLinks().createHandler() }
func (s *Server) handleKnowledgeLinkGet() http.Handler    { return s.knowledgeLinks().readHandler() }
func (s *Server) handleKnowledgeLinkUpdate() http.Handler { return s.knowledgeLinks().changeHandler() }
func (s *Server) handleKnowledgeLinkDelete() http.Handler { return s.knowledgeLinks().removeHandler() }

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
		if url != "" {
			if err := parley.ValidateLinkURL("url", url); err != nil {
				return err
			}
		}
		if err := s.db.SetMeetingLink(r.Context(), userFrom(r.Context()).ID, url); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, meetingLinkJSON{URL: url})
		return nil
	})
}
