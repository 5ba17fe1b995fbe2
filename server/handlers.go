package server

import "net/http"

// apiHandler adapts fn, a handler that returns its error instead of
// answering it, to an http.Handler: a non-nil error is answered with
// writeError, in the API's error shape (and logged there if internal). So a
// handler cannot forget to stop after an error, and each error exit is one
// line. fn must not have written an answer when it returns an error; when
// it has answered by other means (a helper that wrote the error, say), it
// returns nil.
func (s *Server) apiHandler(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}
