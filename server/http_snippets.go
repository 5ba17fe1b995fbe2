package server

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
)

// ----- Snippets (R1) -----

type snippetJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
	authoredJSON
}

func toSnippetJSON(sn *parley.Snippet) snippetJSON {
	return snippetJSON{ID: idString(sn.ID), Name: sn.Name, Shortcut: sn.Shortcut, Body: sn.Body, authoredJSON: toAuthoredJSON(sn.Authored)}
}

// snippetRequest is the body of POST and PATCH: PATCH changes the fields
// given.
type snippetRequest struct {
	Name     *string `json:"name"`
	Shortcut *string `json:"shortcut"`
	Body     *string `json:"body"`
}

// apply sets the given fields on sn (the name trimmed) and validates the
// result.
func (req snippetRequest) apply(sn *parley.Snippet) error {
	if req.Name != nil {
		sn.Name = strings.TrimSpace(*req.Name)
	}
	if req.Shortcut != nil {
		sn.Shortcut = *req.Shortcut
	}
	if req.Body != nil {
		sn.Body = *req.Body
	}
	return sn.Validate()
}

func (req snippetRequest) empty() error {
	if req.Name == nil && req.Shortcut == nil && req.Body == nil {
		return parley.Errorf(parley.EINVALID, "nothing to change: send name, shortcut or body")
	}
	return nil
}

// mayEditSnippet: its author and admins may change or delete a snippet;
// everyone may use it.
func mayEditSnippet(u *parley.User, sn *parley.Snippet) error {
	if u.IsAdmin() || sn.CreatedBy == u.ID {
		return nil
	}
	return parley.Errorf(parley.EFORBIDDEN, "only its author or an admin may change this snippet")
}

// snippets is the library of snippets, ordered by shortcut.
func (s *Server) snippets() library[parley.Snippet, snippetJSON, snippetRequest] {
	return library[parley.Snippet, snippetJSON, snippetRequest]{
		s: s, toJSON: toSnippetJSON, authored: func(sn *parley.Snippet) *parley.Authored { return &sn.Authored },
		mayEdit: mayEditSnippet,
		all:     s.db.Snippets, insert: s.db.CreateSnippet, get: s.db.Snippet, update: s.db.UpdateSnippet, delete: s.db.DeleteSnippet,
	}
}

func (s *Server) handleSnippets() http.Handler      { return s.snippets().listHandler() }
func (s *Server) handleSnippetCreate() http.Handler { return s.snippets().createHandler() }
func (s *Server) handleSnippetGet() http.Handler    { return s.snippets().readHandler() }
func (s *Server) handleSnippetUpdate() http.Handler { return s.snippets().changeHandler() }
func (s *Server) handleSnippetDelete() http.Handler { return s.snippets().removeHandler() }
