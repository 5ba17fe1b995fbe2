package server

import "net/http"

// routesList registers the endpoints for views, filters, counts and search over conversations (I2–I5).
func (s *Server) routesList(mux *http.ServeMux) {
	_ = mux
}

// listStore is what this area needs from the store beyond Store's core.
type listStore interface{}
