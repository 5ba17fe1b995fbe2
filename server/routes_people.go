package server

import "net/http"

// routesPeople registers the endpoints for users, invitations, teams and inboxes (FEATURES I1, M1–M4).
func (s *Server) routesPeople(mux *http.ServeMux) {
	_ = mux
}

// peopleStore is what this area needs from the store beyond Store's core.
type peopleStore interface{}
