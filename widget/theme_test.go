package widget_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

var update = flag.Bool("update", false, "rewrite dist/theme.css from a real Dart Sass compile")

// sassPath finds Dart Sass for the tests: PARLEY_SASS, or the npm package
// in the repository. Outside CI a missing Dart Sass skips the test; under
// CI=true it fails it.
func sassPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PARLEY_SASS"); p != "" {
		if _, err := widget.SassVersion(p); err != nil {
			tb.Fatalf("PARLEY_SASS: %v", err)
		}
		return p
	}
	p, err := widget.FindSass("..")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%v (.ci/run installs it)", err)
	}
	tb.Skipf("%v", err)
	return ""
}

// newThemes returns a Themes with real Dart Sass, closed when the test ends.
func newThemes(tb testing.TB, o widget.ThemeOptions) *widget.Themes {
	tb.Helper()
	if !o.NoSass {
		o.Sass = sassPath(tb)
	}
	th := widget.NewThemes(&o)
	tb.Cleanup(func() {
		if err := th.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return th
}

func TestThemeDefaultGolden(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{})
	got, err := th.Compile(parley.DefaultWidget(0).Appearance)
	if err != nil {
		t.Fatal(err)
	}
	if n := th.Stats().Warnings; n != 0 {
		t.Errorf("dart sass gave %d warnings on theme.scss", n)
	}
	golden := filepath.Join("dist", "theme.css")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("dist/theme.css is stale: run go generate ./widget (or go test -run TestThemeDefaultGolden -update)\ngot  %s\nwant %s", got, want)
	}
	if def := th.Default(); !bytes.Equal(def.Body, want) || def.ContentType != "text/css; charset=utf-8" || len(def.Hash) != 16 {
		t.Errorf("Default()=%q %q %q, want the embedded dist/theme.css", def.Body, def.ContentType, def.Hash)
	}
	if st := th.Stats(); st.Compiles != 1 {
		t.Errorf("compiles=%d, want 1", st.Compiles)
	}
}

// props reads the custom properties the theme sets on .pw.
func props(t *testing.T, css []byte) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`\.pw\{([^}]*)\}`).FindAllSubmatch(css, -1)
	if len(m) == 0 {
		t.Fatalf("no .pw block in %s", css)
	}
	out := map[string]string{}
	for _, blk := range m {
		for _, decl := range strings.Split(string(blk[1]), ";") {
			name, val, ok := strings.Cut(decl, ":")
			if ok && strings.HasPrefix(name, "--") {
				out[name] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "!important"))
			}
		}
	}
	return out
}

// hexOf turns #rgb, #rrggbb or rgb(r, g, b) into #rrggbb.
func hexOf(t *testing.T, v string) string {
	t.Helper()
	v = strings.TrimSpace(v)
	if m := regexp.MustCompile(`^rgb\((\d+), ?(\d+), ?(\d+)\)$`).FindStringSubmatch(v); m != nil {
		var b strings.Builder
		b.WriteByte('#')
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			fmt.Fprintf(&b, "%02x", n)
		}
		return b.String()
	}
	if len(v) == 4 && v[0] == '#' {
		return "#" + strings.Repeat(v[1:2], 2) + strings.Repeat(v[2:3], 2) + strings.Repeat(v[3:4], 2)
	}
	if parley.IsHexColor(v) {
		return strings.ToLower(v)
	}
	t.Fatalf("colour %q: not rgb() or hex", v)
	return ""
}

// mix is pct percent of a mixed into b, per sRGB channel (Sass's color.mix).
func mix(a, b string, pct float64) string {
	var out strings.Builder
	out.WriteByte('#')
	for i := 1; i < 7; i += 2 {
		ca, _ := strconv.ParseUint(a[i:i+2], 16, 8)
		cb, _ := strconv.ParseUint(b[i:i+2], 16, 8)
		fmt.Fprintf(&out, "%02x", int(math.Round((float64(ca)*pct+float64(cb)*(100-pct))/100)))
	}
	return out.String()
}

func ratio(t *testing.T, a, b string) float64 {
	t.Helper()
	r, err := parley.ContrastRatio(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// onAccent is the text colour the theme must pick: white or ink, whichever
// contrasts more with the accent (parley.ContrastRatio).
func onAccent(t *testing.T, accent string) string {
	if ratio(t, accent, "#111827") > ratio(t, accent, "#ffffff") {
		return "#111827"
	}
	return "#ffffff"
}

func TestThemeCompile(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{})
	tests := []struct {
		name       string
		appearance parley.Appearance
		side       string
		fontPx     string
		dark       bool // very dark accent: lighter hover
	}{
		{"red left large", parley.Appearance{AccentColor: "#b91c1c", Position: "left", FontSize: "large"}, "left", "17px", false},
		{"upper case accent", parley.Appearance{AccentColor: "#B91C1C", Position: "right", FontSize: "small"}, "right", "13px", false},
		{"yellow needs ink", parley.Appearance{AccentColor: "#facc15"}, "right", "15px", false},
		{"orange", parley.Appearance{AccentColor: "#f97316", FontSize: "medium"}, "right", "15px", false},
		{"near black", parley.Appearance{AccentColor: "#111111", Position: "left"}, "left", "15px", true},
		{"label and avatar are no theme input", parley.Appearance{AccentColor: "#0f766e", LauncherLabel: `"}</style><script>x</script>`, AvatarURL: "https://a.example/a.png"}, "right", "15px", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := th.CSS(context.Background(), tt.appearance)
			if err != nil {
				t.Fatal(err)
			}
			if a.ContentType != "text/css; charset=utf-8" || len(a.Hash) != 16 || len(a.Gzip) == 0 {
				t.Errorf("asset %q %q gzip %d", a.ContentType, a.Hash, len(a.Gzip))
			}
			if a.Hash == th.Default().Hash {
				t.Error("custom appearance got the default theme")
			}
			accent := strings.ToLower(tt.appearance.AccentColor)
			p := props(t, a.Body)
			if got := hexOf(t, p["--a"]); got != accent {
				t.Errorf("--a=%s, want %s", got, accent)
			}
			if got, want := hexOf(t, p["--f"]), onAccent(t, accent); got != want {
				t.Errorf("--f=%s, want %s (the better WCAG contrast)", got, want)
			}
			shift, hover, active := "#000000", 12.0, 22.0
			if tt.dark {
				shift, hover, active = "#ffffff", 18, 30
			}
			for _, c := range []struct {
				prop, want string
			}{
				{"--a-hover", mix(shift, accent, hover)},
				{"--a-active", mix(shift, accent, active)},
				{"--a-soft", mix(accent, "#ffffff", 14)},
			} {
				if got := hexOf(t, p[c.prop]); got != c.want {
					t.Errorf("%s=%s, want %s", c.prop, got, c.want)
				}
			}
			ring := hexOf(t, p["--a-ring"])
			if r := ratio(t, ring, "#ffffff"); r < 3 {
				t.Errorf("--a-ring=%s has %.2f:1 on white, want >= 3", ring, r)
			}
			if ratio(t, accent, "#ffffff") >= 3 && ring != accent {
				t.Errorf("--a-ring=%s, want the accent %s itself", ring, accent)
			}
			if got := p["--fs"]; got != tt.fontPx {
				t.Errorf("--fs=%q, want %s", got, tt.fontPx)
			}
			other := map[string]string{"left": "right", "right": "left"}[tt.side]
			if want := ".pw .l{" + tt.side + ":20px;" + other + ":auto}"; !bytes.Contains(a.Body, []byte(want)) {
				t.Errorf("no %s in %s", want, a.Body)
			}
			if bytes.Contains(a.Body, []byte("script")) || bytes.Contains(a.Body, []byte("a.example")) {
				t.Errorf("admin text reached the stylesheet: %s", a.Body)
			}
		})
	}
	if n := th.Stats().Warnings; n != 0 {
		t.Errorf("dart sass gave %d warnings", n)
	}
}

func TestThemeInvalid(t *testing.T) {
	th := widget.NewThemes(&widget.ThemeOptions{Sass: filepath.Join(t.TempDir(), "no-sass")})
	defer th.Close()
	tests := []struct {
		name string
		a    parley.Appearance
		msg  string
	}{
		{"colour name", parley.Appearance{AccentColor: "red"}, "appearance.accentColor must be #rrggbb"},
		{"short hex", parley.Appearance{AccentColor: "#f00"}, "appearance.accentColor must be #rrggbb"},
		{"long hex", parley.Appearance{AccentColor: "#ff00001"}, "appearance.accentColor must be #rrggbb"},
		{"not hex", parley.Appearance{AccentColor: "#gg0000"}, "appearance.accentColor must be #rrggbb"},
		{"scss injection", parley.Appearance{AccentColor: "#fff);@import'x"}, "appearance.accentColor must be #rrggbb"},
		{"css injection", parley.Appearance{AccentColor: "#ffffff}body{display:none"}, "appearance.accentColor must be #rrggbb"},
		{"position", parley.Appearance{Position: "top"}, "appearance.position must be left or right"},
		{"position injection", parley.Appearance{Position: "left;}x{"}, "appearance.position must be left or right"},
		{"font size", parley.Appearance{FontSize: "15px"}, "appearance.fontSize must be small, medium or large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, call := range map[string]func() error{
				"CSS":      func() error { _, err := th.CSS(context.Background(), tt.a); return err },
				"Fallback": func() error { _, err := th.Fallback(tt.a); return err },
				"Compile":  func() error { _, err := th.Compile(tt.a); return err },
			} {
				err := call()
				if code := parley.ErrorCode(err); code != parley.EINVALID {
					t.Errorf("%s: code=%q (%v), want %q", name, code, err, parley.EINVALID)
				}
				if got := parley.ErrorMessage(err); got != tt.msg {
					t.Errorf("%s: message=%q, want %q", name, got, tt.msg)
				}
			}
		})
	}
	if st := th.Stats(); st.Compiles != 0 || st.Starts != 0 || st.Cached != 0 {
		t.Errorf("stats=%+v after invalid input, want nothing compiled or cached", st)
	}
}

func TestThemeCache(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{CacheSize: 2})
	ctx := context.Background()
	red := parley.Appearance{AccentColor: "#b91c1c"}
	a1, err := th.CSS(ctx, red)
	if err != nil {
		t.Fatal(err)
	}
	// The same theme: other case, defaults spelt out, non-theme fields differ.
	a2, err := th.CSS(ctx, parley.Appearance{AccentColor: "#B91C1C", Position: "right", FontSize: "medium", LauncherLabel: "Chat"})
	if err != nil {
		t.Fatal(err)
	}
	if a1.Hash != a2.Hash {
		t.Errorf("hash %s then %s for one theme", a1.Hash, a2.Hash)
	}
	if st := th.Stats(); st.Compiles != 1 || st.Hits != 1 || st.Starts != 1 {
		t.Errorf("stats=%+v, want 1 compile, 1 hit, 1 start", st)
	}
	if got, ok := th.Lookup(a1.Hash); !ok || !bytes.Equal(got.Body, a1.Body) {
		t.Errorf("Lookup(%s)=%v", a1.Hash, ok)
	}
	// The default appearance is never compiled.
	def, err := th.CSS(ctx, parley.Appearance{})
	if err != nil || def.Hash != th.Default().Hash {
		t.Errorf("default appearance: %v %s, want the precompiled default %s", err, def.Hash, th.Default().Hash)
	}
	if st := th.Stats(); st.Compiles != 1 {
		t.Errorf("compiles=%d after the default, want 1", st.Compiles)
	}
	// Two more themes evict the least recently used (red).
	for _, c := range []string{"#0f766e", "#7c3aed"} {
		if _, err := th.CSS(ctx, parley.Appearance{AccentColor: c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := th.Lookup(a1.Hash); ok {
		t.Error("the least recently used theme is still cached past CacheSize")
	}
	if _, ok := th.Lookup(th.Default().Hash); !ok {
		t.Error("the default theme is not found")
	}
	if st := th.Stats(); st.Cached != 2 || st.Compiles != 3 {
		t.Errorf("stats=%+v, want 2 cached, 3 compiles", st)
	}
	// Recompiling gives the same bytes, so URLs stay valid across restarts.
	a3, err := th.CSS(ctx, red)
	if err != nil || a3.Hash != a1.Hash {
		t.Errorf("recompile: %v, hash %s, want %s", err, a3.Hash, a1.Hash)
	}
	if _, ok := th.Lookup("0123456789abcdef"); ok {
		t.Error("Lookup of an unknown hash succeeded")
	}
}

// sassProcesses returns the ids of this process's Dart Sass children.
func sassProcesses(t *testing.T) map[int]bool {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	out := map[int]bool{}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
		i := bytes.LastIndexByte(b, ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(me) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "cmdline"))
		if bytes.Contains(cmd, []byte("sass")) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out[pid] = true
		}
	}
	return out
}

func TestThemeRestartsDeadSass(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("finding the Dart Sass process needs /proc: %v", err)
	}
	before := sassProcesses(t)
	th := newThemes(t, widget.ThemeOptions{})
	ctx := context.Background()
	if _, err := th.CSS(ctx, parley.Appearance{AccentColor: "#b91c1c"}); err != nil {
		t.Fatal(err)
	}
	var mine []int
	for pid := range sassProcesses(t) {
		if !before[pid] {
			mine = append(mine, pid)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("found %d new Dart Sass processes, want 1", len(mine))
	}
	if err := syscall.Kill(mine[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Give godartsass time to see its pipe close, then compile again: the
	// compile fails on the dead process and is retried on a new one.
	deadline := time.Now().Add(5 * time.Second)
	for sassProcesses(t)[mine[0]] && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a, err := th.CSS(ctx, parley.Appearance{AccentColor: "#0f766e"})
	if err != nil {
		t.Fatalf("compile after Dart Sass died: %v", err)
	}
	if !bytes.Contains(a.Body, []byte("#0f766e")) {
		t.Errorf("css=%s, want the accent", a.Body)
	}
	if st := th.Stats(); st.Starts != 2 {
		t.Errorf("starts=%d, want 2 (one restart)", st.Starts)
	}
	// Close stops the new process; nothing is left behind.
	if err := th.Close(); err != nil {
		t.Fatal(err)
	}
	for pid := range sassProcesses(t) {
		if !before[pid] {
			t.Errorf("Dart Sass process %d still runs after Close", pid)
		}
	}
	// After Close, themes still come, without Dart Sass.
	fb, err := th.CSS(ctx, parley.Appearance{AccentColor: "#7c3aed"})
	if err != nil || !bytes.Contains(fb.Body, []byte("--a: #7c3aed !important")) {
		t.Errorf("after Close: %v %s", err, fb.Body)
	}
}

// A Dart Sass that dies at once: the compile fails with a clear error after
// one retry, and for a while that appearance gets the fallback without
// another try.
func TestThemeBrokenSass(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sass")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	th := widget.NewThemes(&widget.ThemeOptions{Sass: bin, Timeout: 5 * time.Second})
	defer th.Close()
	ctx := context.Background()
	red := parley.Appearance{AccentColor: "#b91c1c"}
	if _, err := th.CSS(ctx, red); err == nil || !strings.Contains(err.Error(), "dart sass") {
		t.Fatalf("err=%v, want a dart sass error", err)
	}
	if st := th.Stats(); st.Starts != 2 || st.Compiles != 2 {
		t.Errorf("stats=%+v, want 2 starts and 2 compiles (one retry)", st)
	}
	a, err := th.CSS(ctx, red)
	if err != nil || !bytes.Contains(a.Body, []byte("--a: #b91c1c !important")) {
		t.Fatalf("after a failed compile: %v, want the fallback", err)
	}
	if st := th.Stats(); st.Starts != 2 {
		t.Errorf("starts=%d, want no new try within the retry delay", st.Starts)
	}
}

func TestThemeConcurrent(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{})
	accents := []string{"#b91c1c", "#0f766e", "#7c3aed", "#be185d", "#2563eb"}
	const callers = 16
	hashes := make([][]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range accents {
				c := accents[(i+j)%len(accents)]
				a, err := th.CSS(context.Background(), parley.Appearance{AccentColor: c})
				if err != nil {
					t.Errorf("CSS(%s): %v", c, err)
					return
				}
				hashes[i] = append(hashes[i], c+"="+a.Hash)
			}
		}()
	}
	wg.Wait()
	seen := map[string]string{}
	for _, hs := range hashes {
		for _, h := range hs {
			c, hash, _ := strings.Cut(h, "=")
			if prev, ok := seen[c]; ok && prev != hash {
				t.Errorf("%s: hashes %s and %s", c, prev, hash)
			}
			seen[c] = hash
		}
	}
	// #2563eb is the default: precompiled. Each other accent compiles once.
	if st := th.Stats(); st.Compiles != len(accents)-1 || st.Starts != 1 {
		t.Errorf("stats=%+v, want %d compiles and 1 start", st, len(accents)-1)
	}
}

func TestThemeWaitEndsWithContext(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := th.CSS(ctx, parley.Appearance{AccentColor: "#b91c1c"}); err != context.Canceled {
		t.Errorf("err=%v, want context.Canceled", err)
	}
	// The compile went on; the next caller gets it.
	a, err := th.CSS(context.Background(), parley.Appearance{AccentColor: "#b91c1c"})
	if err != nil || !bytes.Contains(a.Body, []byte("#b91c1c")) {
		t.Errorf("after a cancelled wait: %v", err)
	}
	if st := th.Stats(); st.Compiles != 1 {
		t.Errorf("compiles=%d, want 1", st.Compiles)
	}
}

func TestThemeWithoutSass(t *testing.T) {
	for _, o := range []struct {
		name string
		opts widget.ThemeOptions
	}{
		{"missing binary", widget.ThemeOptions{Sass: filepath.Join(t.TempDir(), "sass")}},
		{"turned off", widget.ThemeOptions{NoSass: true}},
	} {
		t.Run(o.name, func(t *testing.T) {
			th := widget.NewThemes(&o.opts)
			defer th.Close()
			if th.SassError() == nil || th.Sass() != "" {
				t.Fatalf("SassError()=nil, Sass()=%q without Dart Sass", th.Sass())
			}
			ctx := context.Background()
			def, err := th.CSS(ctx, parley.Appearance{})
			if err != nil || def.Hash != th.Default().Hash {
				t.Errorf("default: %v %s", err, def.Hash)
			}
			a, err := th.CSS(ctx, parley.Appearance{AccentColor: "#FACC15", Position: "left", FontSize: "small"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(a.Body, th.Default().Body) {
				t.Error("the fallback does not start with the precompiled default theme")
			}
			p := props(t, a.Body)
			if p["--a"] != "#facc15" || p["--f"] != "#111827" || p["--fs"] != "13px" {
				t.Errorf("fallback props=%v, want accent #facc15, ink text, 13px", p)
			}
			if r := ratio(t, hexOf(t, p["--a-ring"]), "#ffffff"); r < 3 {
				t.Errorf("--a-ring %s has %.2f:1 on white", p["--a-ring"], r)
			}
			if !bytes.Contains(a.Body, []byte(".pw .l{left:20px;right:auto}")) {
				t.Errorf("fallback has no left side: %s", a.Body)
			}
			if got, ok := th.Lookup(a.Hash); !ok || got.Hash != a.Hash {
				t.Error("the fallback theme is not found by its hash")
			}
			if _, err := th.Compile(parley.Appearance{AccentColor: "#facc15"}); err == nil {
				t.Error("Compile without Dart Sass succeeded")
			}
			if st := th.Stats(); st.Compiles != 0 || st.Starts != 0 {
				t.Errorf("stats=%+v, want no compile", st)
			}
		})
	}
}

// The fallback approximates the compiled theme: same accent, text colour and
// shades for an accent that is not very dark.
func TestThemeFallbackAgreesWithCompile(t *testing.T) {
	th := newThemes(t, widget.ThemeOptions{})
	for _, c := range []string{"#b91c1c", "#f97316", "#0f766e"} {
		ap := parley.Appearance{AccentColor: c, Position: "left", FontSize: "large"}
		compiled, err := th.Compile(ap)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := th.Fallback(ap)
		if err != nil {
			t.Fatal(err)
		}
		pc, pf := props(t, compiled), props(t, fb.Body)
		for _, name := range []string{"--a", "--f", "--a-hover", "--a-active", "--a-soft", "--a-ring"} {
			if got, want := hexOf(t, pf[name]), hexOf(t, pc[name]); got != want {
				t.Errorf("%s: fallback %s=%s, compiled %s", c, name, got, want)
			}
		}
		if pf["--fs"] != pc["--fs"] {
			t.Errorf("%s: fallback --fs=%s, compiled %s", c, pf["--fs"], pc["--fs"])
		}
	}
}

func TestSizeBudgetTheme(t *testing.T) {
	a := mustLoad(t)
	th := widget.NewThemes(&widget.ThemeOptions{NoSass: true})
	defer th.Close()
	def := th.Default()
	fb, err := th.Fallback(parley.Appearance{AccentColor: "#b91c1c", Position: "left", FontSize: "large"})
	if err != nil {
		t.Fatal(err)
	}
	total := len(a.Loader.Gzip) + len(a.ChatJS.Gzip) + len(a.ChatCSS.Gzip) + len(def.Gzip)
	t.Logf("theme.css %5d bytes, %4d gzip (fallback theme %d gzip)", len(def.Body), len(def.Gzip), len(fb.Gzip))
	t.Logf("total with the theme %5d gzip (budget %d)", total, totalBudget)
	if len(def.Gzip) > 1<<10 {
		t.Errorf("theme gzip=%d bytes, want <= 1 KB", len(def.Gzip))
	}
	if total > totalBudget {
		t.Errorf("loader+chat+theme gzip=%d bytes, want <= %d", total, totalBudget)
	}
}

// BenchmarkThemeCompile is a compile that misses the cache: Dart Sass is
// running, each iteration compiles theme.scss. Compare BenchmarkThemeCached,
// the answer every later boot of that widget gets, and BenchmarkThemeFirst,
// the very first compile (Dart Sass starting).
func BenchmarkThemeCompile(b *testing.B) {
	th := newThemes(b, widget.ThemeOptions{})
	ap := parley.Appearance{AccentColor: "#b91c1c"}
	if _, err := th.Compile(ap); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := th.Compile(ap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThemeFirst starts Dart Sass and compiles once per iteration.
func BenchmarkThemeFirst(b *testing.B) {
	sass := sassPath(b)
	ap := parley.Appearance{AccentColor: "#b91c1c"}
	for b.Loop() {
		th := widget.NewThemes(&widget.ThemeOptions{Sass: sass})
		if _, err := th.CSS(context.Background(), ap); err != nil {
			b.Fatal(err)
		}
		if err := th.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThemeCached is the cache hit: the baseline for the two above.
func BenchmarkThemeCached(b *testing.B) {
	th := newThemes(b, widget.ThemeOptions{})
	ap := parley.Appearance{AccentColor: "#b91c1c"}
	ctx := context.Background()
	if _, err := th.CSS(ctx, ap); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := th.CSS(ctx, ap); err != nil {
			b.Fatal(err)
		}
	}
}
