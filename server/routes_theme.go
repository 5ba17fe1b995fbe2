package server

import "net/http"

// routesTheme serves the widget's theme stylesheets (C2), public and
// cross-origin like the other widget files.
func (s *Server) routesTheme(mux *http.ServeMux) {
	mux.Handle("GET "+themePath+"{file}", s.handleTheme())
}
