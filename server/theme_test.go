package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/widget"
)

// sassThemes returns a widget.Themes with real Dart Sass (PARLEY_SASS, or
// the npm package in the repository), closed when the test ends. Outside CI
// a missing Dart Sass skips the test; under CI=true it fails it.
func sassThemes(tb testing.TB) *widget.Themes {
	tb.Helper()
	p := os.Getenv("PARLEY_SASS")
	if p == "" {
		var err error
		if p, err = widget.FindSass(".."); err != nil {
			if os.Getenv("CI") != "" {
				tb.Fatalf("%v (.ci/run installs it)", err)
			}
			tb.Skipf("%v", err)
		}
	}
	th := widget.NewThemes(&widget.ThemeOptions{Sass: p})
	if err := th.SassError(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = th.Close() })
	return th
}

// rawGet fetches url without the client's transparent gzip.
func rawGet(tb testing.TB, url string, header map[string]string) response {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: b, header: res.Header}
}

// bootTheme asks for the boot of a page and returns its theme URL.
func bootTheme(t *testing.T, e *env) string {
	t.Helper()
	res := rawGet(t, e.base+"/widget/v1/boot?url=https%3A%2F%2Fshop.example%2F", nil)
	var boot struct {
		Assets struct{ Theme string } `json:"assets"`
	}
	if err := json.Unmarshal(res.body, &boot); err != nil || res.status != 200 {
		t.Fatalf("boot: status=%d body=%s", res.status, res.body)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(e.base) + `/widget/v1/theme/[0-9a-f]{16}\.css$`).MatchString(boot.Assets.Theme) {
		t.Fatalf("boot theme URL=%q, want %s/widget/v1/theme/<hash>.css", boot.Assets.Theme, e.base)
	}
	return boot.Assets.Theme
}

func setAppearance(t *testing.T, e *env, a parley.Appearance) {
	t.Helper()
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Appearance = a
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestThemeServed(t *testing.T) {
	th := sassThemes(t)
	e := newEnv(t, &envOptions{cfg: server.Config{Themes: th}})

	// The default widget gets the precompiled default theme.
	if got, want := bootTheme(t, e), e.base+"/widget/v1/theme/"+th.Default().Hash+".css"; got != want {
		t.Errorf("default theme URL=%s, want %s", got, want)
	}

	// A red widget: compiled on its first boot (the cache is empty, as after
	// a restart), then served by hash.
	setAppearance(t, e, parley.Appearance{AccentColor: "#b91c1c", Position: "left"})
	url := bootTheme(t, e)
	hash := strings.TrimSuffix(url[strings.LastIndexByte(url, '/')+1:], ".css")
	if st := th.Stats(); st.Compiles != 1 {
		t.Errorf("compiles=%d after the first boot, want 1", st.Compiles)
	}
	if again := bootTheme(t, e); again != url {
		t.Errorf("second boot: %s, want %s", again, url)
	}
	if st := th.Stats(); st.Compiles != 1 {
		t.Errorf("compiles=%d after the second boot, want 1 (cached)", st.Compiles)
	}

	res := rawGet(t, url, nil)
	if res.status != 200 {
		t.Fatalf("GET theme: status=%d body=%s", res.status, res.body)
	}
	for k, want := range map[string]string{
		"Content-Type":                "text/css; charset=utf-8",
		"Cache-Control":               "public, max-age=31536000, immutable",
		"ETag":                        `"` + hash + `"`,
		"Access-Control-Allow-Origin": "*",
		"Vary":                        "Accept-Encoding",
	} {
		if got := res.header.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if !bytes.Contains(res.body, []byte("--a: #b91c1c !important")) || !bytes.Contains(res.body, []byte(".pw .l{left:20px;right:auto}")) {
		t.Errorf("theme body=%s, want the red accent on the left", res.body)
	}

	gz := rawGet(t, url, map[string]string{"Accept-Encoding": "gzip, deflate"})
	if gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding=%q, want gzip", gz.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, res.body) {
		t.Error("gzipped theme differs from the plain one")
	}
	if nm := rawGet(t, url, map[string]string{"If-None-Match": `"` + hash + `"`}); nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("If-None-Match: status=%d body=%q, want 304", nm.status, nm.body)
	}
}

func TestThemeNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct{ name, path string }{
		{"unknown hash", "/widget/v1/theme/0123456789abcdef.css"},
		{"no suffix", "/widget/v1/theme/0123456789abcdef"},
		{"other suffix", "/widget/v1/theme/0123456789abcdef.js"},
		{"short", "/widget/v1/theme/abc.css"},
		{"upper case", "/widget/v1/theme/0123456789ABCDEF.css"},
		{"dots", "/widget/v1/theme/..%2Fchat.css"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := rawGet(t, e.base+tt.path, nil)
			var body struct{ Category, Code, Message string }
			_ = json.Unmarshal(res.body, &body)
			if res.status != 404 || body.Code != parley.ENOTFOUND || body.Message == "" {
				t.Errorf("status=%d body=%s, want 404 %s", res.status, res.body, parley.ENOTFOUND)
			}
		})
	}
}

// Without Dart Sass (the server's default) a custom widget still gets its
// accent: the precompiled theme followed by its colours.
func TestThemeWithoutSass(t *testing.T) {
	e := newEnv(t, nil)
	setAppearance(t, e, parley.Appearance{AccentColor: "#b91c1c", FontSize: "large"})
	res := rawGet(t, bootTheme(t, e), nil)
	if res.status != 200 || !bytes.Contains(res.body, []byte("--a: #b91c1c !important")) || !bytes.Contains(res.body, []byte("--fs: 17px !important")) {
		t.Errorf("status=%d body=%s, want the fallback theme with the accent", res.status, res.body)
	}
	// A stored appearance that does not validate gets the default theme.
	setAppearance(t, e, parley.Appearance{AccentColor: "tomato"})
	if got, want := bootTheme(t, e), e.base+"/widget/v1/theme/"+widget.NewThemes(&widget.ThemeOptions{NoSass: true}).Default().Hash+".css"; got != want {
		t.Errorf("invalid stored appearance: theme %s, want the default %s", got, want)
	}
}
