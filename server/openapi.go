package server

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 document of every route that routes
// registers. Tests hold it to the routes and to real answers: a route
// added without its description fails them.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIETag names the document's content.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// handleOpenAPI serves the OpenAPI document to anyone: it describes the
// API, not data. Caches keep it and revalidate it with its ETag.
func (s *Server) handleOpenAPI() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "public, no-cache")
		h.Set("ETag", openAPIETag)
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Header.Get("If-None-Match") == openAPIETag {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		_, _ = w.Write(openAPIDocument)
		return nil
	})
}
