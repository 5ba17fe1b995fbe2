package server

import (
	"html/template"
	"net/http"

	"github.com/parley-chat/parley/server/console"
)

// The console: its page, deep links into it, and its built files.

const consoleCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func (s *Server) handleConsolePage() http.Handler {
	page := console.Page()
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
		return nil
	})
}

// handleConsoleFiles serves the console's built files, whose names change
// with their content: cached for good, gzipped, with ETags.
func (s *Server) handleConsoleFiles() http.Handler {
	return http.StripPrefix("/console/", console.Handler())
}

// consoleFiles lets a page's template link to the console's built files by
// their source names: {{console "app.css"}}.
var consoleFiles = template.FuncMap{"console": console.URL}
