package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/server/console/internal/bundle"
)

// src are the console's sources, dist what the browser gets.
var src = os.DirFS("src")

func readFile(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// scripts are the console's scripts, in src and as built.
func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range []struct {
		dir  string
		fsys fs.FS
	}{{"src", src}, {"dist", Files()}} {
		names, err := fs.Glob(f.fsys, "*.js")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 0 {
			t.Fatalf("no scripts in %s", f.dir)
		}
		for _, name := range names {
			out[f.dir+"/"+name] = readFile(t, f.fsys, name)
		}
	}
	return out
}

// TestDistIsFresh rebuilds the console in memory and fails when the
// committed dist/ differs: run "go generate ./server/console".
func TestDistIsFresh(t *testing.T) {
	res, err := bundle.Build("src")
	if err != nil {
		t.Fatal(err)
	}
	var built []string
	for name, b := range res.Files {
		built = append(built, name)
		got, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Errorf("dist/%s is missing: run go generate ./server/console", name)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("dist/%s is stale: run go generate ./server/console", name)
		}
	}
	entries, err := fs.ReadDir(Files(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := res.Files[e.Name()]; !ok {
			t.Errorf("dist/%s is not built any more: run go generate ./server/console", e.Name())
		}
	}
	slices.Sort(built)
	if len(built) < 6 {
		t.Errorf("built %v, want index.html, manifest.json and the files they name", built)
	}
}

func TestIndexReferencesEmbeddedFiles(t *testing.T) {
	index := string(Page())
	refs := regexp.MustCompile(`(?:src|href)="/console/([^"]+)"`).FindAllStringSubmatch(index, -1)
	var got []string
	for _, m := range refs {
		got = append(got, "/console/"+m[1])
		if _, err := fs.Stat(Files(), m[1]); err != nil {
			t.Errorf("index.html refers to /console/%s: %v", m[1], err)
		}
	}
	for _, want := range []string{URL("app.js"), URL("app.css"), URL("icon.svg")} {
		if !slices.Contains(got, want) {
			t.Errorf("index.html refs=%v, want %s among them", got, want)
		}
	}
	// Every served name but the page's carries a hash of its content.
	hashed := regexp.MustCompile(`^/console/[a-z]+\.[A-Z0-9]{8}\.(js|css|svg)$`)
	for _, name := range []string{"app.js", "app.css", "icon.svg", "setup.js", "invite.js", "de.js"} {
		if u := URL(name); !hashed.MatchString(u) {
			t.Errorf("URL(%q)=%q, want a hashed name", name, u)
		}
	}
}

// TestImportsResolve: every relative import of a source names a file, in
// src/ or, for the catalogs, in locale/.
func TestImportsResolve(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^import .* from '(\.\.?/[^']+)';$`)
	for name, js := range scripts(t) {
		if !strings.HasPrefix(name, "src/") {
			continue
		}
		for _, m := range imp.FindAllStringSubmatch(js, -1) {
			if _, err := os.Stat(filepath.Join("src", m[1])); err != nil {
				t.Errorf("%s imports %s: %v", name, m[1], err)
			}
		}
	}
}

// TestNoMarkupFromData keeps visitor-controlled text out of the HTML parser:
// the console builds every node with createElement and textContent.
func TestNoMarkupFromData(t *testing.T) {
	banned := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}
	for name, js := range scripts(t) {
		for _, b := range banned {
			if strings.Contains(js, b) {
				t.Errorf("%s uses %s", name, b)
			}
		}
	}
}

func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	for _, dir := range []fs.FS{src, Files()} {
		err := fs.WalkDir(dir, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			text := strings.ReplaceAll(readFile(t, dir, name), "http://www.w3.org/2000/svg", "")
			for _, m := range url.FindAllString(text, -1) {
				t.Errorf("%s refers to %s", name, m)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestHandler: the built files are served gzipped when the browser takes
// it, with an ETag, and cached for a year; anything else is not found.
func TestHandler(t *testing.T) {
	ts := httptest.NewServer(http.StripPrefix("/console/", Handler()))
	defer ts.Close()
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	for _, tc := range []struct{ name, ctype string }{
		{"app.js", "text/javascript; charset=utf-8"},
		{"app.css", "text/css; charset=utf-8"},
		{"icon.svg", "image/svg+xml"},
		{"invite.js", "text/javascript; charset=utf-8"},
	} {
		want := readFile(t, Files(), strings.TrimPrefix(URL(tc.name), "/console/"))
		res := get(URL(tc.name), "Accept-Encoding", "gzip, br")
		h := res.Header
		if res.StatusCode != 200 || h.Get("Content-Type") != tc.ctype || h.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			h.Get("ETag") == "" || h.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("GET %s: %d %v", URL(tc.name), res.StatusCode, h)
		}
		body, _ := io.ReadAll(res.Body)
		if h.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		} else if len(want) > 1000 {
			t.Errorf("GET %s: not gzipped", URL(tc.name))
		}
		if string(body) != want {
			t.Errorf("GET %s: body differs from dist", URL(tc.name))
		}
		plain := get(URL(tc.name))
		if b, _ := io.ReadAll(plain.Body); plain.Header.Get("Content-Encoding") != "" || string(b) != want {
			t.Errorf("GET %s without gzip: %v", URL(tc.name), plain.Header)
		}
		if again := get(URL(tc.name), "If-None-Match", h.Get("ETag")); again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", URL(tc.name), again.StatusCode)
		}
	}
	for _, path := range []string{"/console/app.js", "/console/index.html", "/console/manifest.json", "/console/", "/console/../console.go"} {
		if res := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}
