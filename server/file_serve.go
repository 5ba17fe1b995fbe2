package server

import (
	"mime"
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// fileCSP is the Content-Security-Policy of every served file: a file
// opened on its own (a PDF, an HTML or SVG document someone uploaded) may
// load nothing and run nothing, and sandbox gives it an opaque origin, so
// even a browser that renders it cannot reach Parley's cookies or API.
const fileCSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"

// servedFile is how a stored file goes out.
type servedFile struct {
	Name string // as CleanFileName keeps it
	// Type is the inline image's media type; for anything not Inline it
	// is not used: such files go out as application/octet-stream.
	Type     string
	Inline   bool // an image sniffing decoded (see app's sniffFile)
	Modified time.Time
}

// serveFile writes blob b as f says, with Range and conditional requests
// (http.ServeContent). Only inline images go out as what they are and are
// shown in the page; everything else, whatever it claims or sniffs as, is
// application/octet-stream and a download (Content-Disposition:
// attachment). The caller has checked that the requester may read the
// file, so caches may keep it only for that requester.
func serveFile(w http.ResponseWriter, r *http.Request, b parley.Blob, f servedFile) {
	h := w.Header()
	disposition, typ, corp := "attachment", "application/octet-stream", "same-site"
	if f.Inline && f.Type != "" {
		// The widget shows images in a shadow root of the customer's own
		// page, another site than Parley's.
		disposition, typ, corp = "inline", f.Type, "cross-origin"
	}
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("Cross-Origin-Resource-Policy", corp)
	h.Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", f.Modified, b)
}
