// Package console holds Parley's agent console: a single-page app of plain
// HTML, CSS and ES modules in src/, which esbuild bundles and minifies into
// dist/ ("go generate ./server/console"; internal/bundle holds the options).
// The built files are committed, and a test fails when they are stale.
//
// The server serves dist/index.html for the base URL and for deep links
// (/threads/{id}), and the other files of dist/ under /console/. Their names
// carry a hash of their content ("app.QGSAPH3C.js"), so they are cached for
// good; index.html, which refers to them, is not. The console's strings come
// from the message catalogs of package locale, bundled at build time. The
// console speaks only the public REST API, the session endpoints and the
// agent WebSocket (docs/websocket.md).
package console

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed dist
var dist embed.FS

// Files returns the built console: index.html, manifest.json and the files
// they name, at the root of the returned file system. It is read-only and
// safe for concurrent use.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// Unreachable: "dist" is a valid path and embedded at build time.
		panic("console: " + err.Error())
	}
	return sub
}

// names maps each source name ("app.js") to the name it is served under,
// from the embedded manifest.json.
var names = func() map[string]string {
	m := map[string]string{}
	b, err := fs.ReadFile(Files(), "manifest.json")
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		// Unreachable: the generator writes a valid manifest.json.
		panic("console: manifest.json: " + err.Error())
	}
	return m
}()

// URL returns the path of the console file built from the source file src
// ("app.css", "setup.js", "invite.js", …), as pages other than the console
// link to it: "/console/app.BF6MU55W.css". An unknown name gives
// "/console/" + src, which is not found.
func URL(src string) string {
	if name, ok := names[src]; ok {
		return "/console/" + name
	}
	return "/console/" + src
}

// Page returns the console page, index.html. The server serves it without
// long-term caching: a new build changes the names it refers to.
func Page() []byte {
	b, err := fs.ReadFile(Files(), "index.html")
	if err != nil {
		// Unreachable: the generator writes index.html.
		panic("console: " + err.Error())
	}
	return b
}

// file is one built file, ready to serve.
type file struct {
	ctype string
	body  []byte
	etag  string

	once sync.Once
	gz   []byte // body gzipped at best compression, made on first use
}

// gzip returns the file gzipped, compressing it on the first call.
func (f *file) gzip() []byte {
	f.once.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		f.gz = buf.Bytes()
	})
	return f.gz
}

// Handler serves the built files by the names manifest.json gives them
// (strip the /console/ prefix first): gzipped when the browser takes it,
// with an ETag, and cached for a year, as the name changes with the content.
// Each handler compresses a file once, when it is first asked for.
func Handler() http.Handler {
	files := map[string]*file{}
	for _, name := range names {
		body, err := fs.ReadFile(Files(), name)
		if err != nil {
			// Unreachable: the generator writes every file it names.
			panic("console: " + err.Error())
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		// The name already holds a hash of the content.
		files[name] = &file{ctype: ctype, body: body, etag: `"` + name + `"`}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := files[r.URL.Path]
		if f == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", f.etag)
		h.Set("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := f.body
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			if gz := f.gzip(); len(gz) < len(body) {
				h.Set("Content-Encoding", "gzip")
				body = gz
			}
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
