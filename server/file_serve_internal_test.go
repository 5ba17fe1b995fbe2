package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/blob"
)

func TestServeFile(t *testing.T) {
	ctx := context.Background()
	d, err := blob.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>`
	key, _, err := d.Put(ctx, strings.NewReader(svg), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		f         servedFile
		typ, disp string
		corp      string
		wantName  string
	}{
		{"hostile svg claiming to be an image", servedFile{Name: "cat.svg", Type: "image/svg+xml"}, "application/octet-stream", "attachment", "same-site", "cat.svg"},
		{"html", servedFile{Name: "page.html", Type: "text/html"}, "application/octet-stream", "attachment", "same-site", "page.html"},
		{"inline image", servedFile{Name: "shot.png", Type: "image/png", Inline: true}, "image/png", "inline", "cross-origin", "shot.png"},
		{"german name", servedFile{Name: "Rechnung März.pdf"}, "application/octet-stream", "attachment", "same-site", "Rechnung März.pdf"},
		{"quote in name", servedFile{Name: `a"b.txt`}, "application/octet-stream", "attachment", "same-site", `a"b.txt`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := d.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			tt.f.Modified = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			rec := httptest.NewRecorder()
			serveFile(rec, httptest.NewRequest("GET", "/f", nil), b, tt.f)
			res := rec.Result()
			h := res.Header
			if got := h.Get("Content-Type"); got != tt.typ {
				t.Errorf("Content-Type=%q, want %q", got, tt.typ)
			}
			disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			if err != nil || disp != tt.disp || params["filename"] != tt.wantName {
				t.Errorf("Content-Disposition=%q (%v): %s %q, want %s %q", h.Get("Content-Disposition"), err, disp, params["filename"], tt.disp, tt.wantName)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options=%q", got)
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
				t.Errorf("Content-Security-Policy=%q: want a sandbox that runs nothing", csp)
			}
			if got := h.Get("Cross-Origin-Resource-Policy"); got != tt.corp {
				t.Errorf("Cross-Origin-Resource-Policy=%q, want %q", got, tt.corp)
			}
			if got := h.Get("Cache-Control"); !strings.HasPrefix(got, "private") {
				t.Errorf("Cache-Control=%q, want private", got)
			}
			body, _ := io.ReadAll(res.Body)
			if string(body) != svg {
				t.Errorf("body=%q, want the stored bytes", body)
			}
		})
	}

	t.Run("range", func(t *testing.T) {
		b, err := d.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		req := httptest.NewRequest("GET", "/f", nil)
		req.Header.Set("Range", "bytes=0-3")
		rec := httptest.NewRecorder()
		serveFile(rec, req, b, servedFile{Name: "x"})
		if rec.Code != http.StatusPartialContent || rec.Body.String() != "<svg" {
			t.Errorf("status=%d body=%q, want 206 %q", rec.Code, rec.Body.String(), "<svg")
		}
	})
}
