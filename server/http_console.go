package server

import (
	"html/template"
	"net/http"

	"github.com/parley-chat/parley/locale"
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

// pageFuncs are the functions of the pages served outside the console:
// {{console "app.css"}} links to the console's built file of that source
// name, and {{t .Lang "page.setup.title"}} is a text of the message catalogs
// in the page's language.
var pageFuncs = template.FuncMap{
	"console": console.URL,
	"t":       func(lang, key string) string { return locale.Lookup(lang, key) },
}
