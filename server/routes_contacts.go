package server

import "net/http"

// routesContacts registers the endpoints for contacts, their tickets, deals and engagements (I8, R5).
func (s *Server) routesContacts(mux *http.ServeMux) {
	_ = mux
}

// contactsStore is what this area needs from the store beyond Store's core.
type contactsStore interface{}
