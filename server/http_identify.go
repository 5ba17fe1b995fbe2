package server

import (
	"net/http"
	"strings"
)

// Visitor identification (CONTRACT §4): package app signs and checks the
// tokens; this is the endpoint a site's back end asks for one.

// handleIdentificationToken is POST /visitor-identification/v3/tokens/create
// with {"email","firstName","lastName"}: it finds the contact with that email
// (any case) or creates it, sets the names given, and answers {"token"}. Its
// route lets only an admin's API token with the admin scope through: a token
// opens the contact's conversations to whoever holds it.
func (s *Server) handleIdentificationToken() http.Handler {
	type request struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		c, err := s.app.IdentifyContact(r.Context(), req.Email, strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName))
		if err != nil {
			return err
		}
		token, err := s.app.NewIdentificationToken(r.Context(), c)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, map[string]string{"token": token})
		return nil
	})
}
