package server

import (
	"html"
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/richtext"
)

// ----- Email templates (R4) -----

type templateJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	authoredJSON
}

func toTemplateJSON(t *parley.Template) templateJSON {
	return templateJSON{ID: idString(t.ID), Name: t.Name, Subject: t.Subject, Body: t.Body, authoredJSON: toAuthoredJSON(t.Authored)}
}

// templateRequest is the body of POST and PATCH: PATCH changes the fields
// given.
type templateRequest struct {
	Name    *string `json:"name"`
	Subject *string `json:"subject"`
	Body    *string `json:"body"`
}

// apply sets the given fields on t (name and subject trimmed, the body as
// richtext.Clean keeps rich text) and validates the result.
func (req templateRequest) apply(t *parley.Template) error {
	if req.Name != nil {
		t.Name = strings.TrimSpace(*req.Name)
	}
	if req.Subject != nil {
		t.Subject = strings.TrimSpace(*req.Subject)
	}
	if req.Body != nil {
		if len(*req.Body) > parley.MaxTemplateBytes {
			return parley.Errorf(parley.ETOOLARGE, "body is %d bytes; the limit is %d", len(*req.Body), parley.MaxTemplateBytes)
		}
		t.Body = richtext.Clean(*req.Body)
	}
	return t.Validate()
}

func (req templateRequest) empty() error {
	if req.Name == nil && req.Subject == nil && req.Body == nil {
		return parley.Errorf(parley.EINVALID, "nothing to change: send name, subject or body")
	}
	return nil
}

// templates is the library of email templates, ordered by name: admins
// write them (the routes say so), everyone uses them.
func (s *Server) templates() library[parley.Template, templateJSON, templateRequest] {
	return library[parley.Template, templateJSON, templateRequest]{
		s: s, toJSON: toTemplateJSON, authored: func(t *parley.Template) *parley.Authored { return &t.Authored },
		all: s.db.Templates, insert: s.db.CreateTemplate, get: s.db.Template, update: s.db.UpdateTemplate, delete: s.db.DeleteTemplate,
	}
}

func (s *Server) handleTemplates() http.Handler      { return s.templates().listHandler() }
func (s *Server) handleTemplateCreate() http.Handler { return s.templates().createHandler() }
func (s *Server) handleTemplateGet() http.Handler    { return s.templates().readHandler() }
func (s *Server) handleTemplateUpdate() http.Handler { return s.templates().changeHandler() }
func (s *Server) handleTemplateDelete() http.Handler { return s.templates().removeHandler() }

// handleTemplateRender fills template {id}'s placeholders for a reply on
// thread threadId (which the caller must be able to see) by the signed-in
// agent: {"subject", "body"}, the body HTML with every value escaped.
func (s *Server) handleTemplateRender() http.Handler {
	type request struct {
		ThreadID string `json:"threadId"`
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
		threadID, err := parseID(req.ThreadID)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "threadId must name a thread")
		}
		u := userFrom(ctx)
		t, err := s.app.ThreadForUser(ctx, u, threadID)
		if err != nil {
			return err
		}
		tpl, err := s.db.Template(ctx, id)
		if err != nil {
			return err
		}
		values := map[string]string{"agent.name": u.Name, "agent.firstName": firstName(u.Name), "agent.email": u.Email}
		if in, err := s.db.Inbox(ctx, t.InboxID); err == nil {
			values["inbox.name"] = in.Name
		}
		if t.ContactID != 0 {
			if c, err := s.db.Contact(ctx, t.ContactID); err == nil {
				values["contact.firstName"], values["contact.lastName"], values["contact.email"] = c.FirstName, c.LastName, c.Email
			} else if parley.ErrorCode(err) != parley.ENOTFOUND {
				return err
			}
		}
		s.writeJSON(w, http.StatusOK, map[string]string{
			"subject": parley.FillTemplate(tpl.Subject, values, func(v string) string { return v }),
			"body":    parley.FillTemplate(tpl.Body, values, html.EscapeString),
		})
		return nil
	})
}

// firstName is the first word of a full name.
func firstName(name string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	return first
}
