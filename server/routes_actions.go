package server

import "net/http"

// routesActions registers the endpoints for conversation actions: block, spam, trash, snippets, viewers, notifications (I6, I9, R1, R6).
func (s *Server) routesActions(mux *http.ServeMux) {
	_ = mux
}

// actionsStore is what this area needs from the store beyond Store's core.
type actionsStore interface{}
