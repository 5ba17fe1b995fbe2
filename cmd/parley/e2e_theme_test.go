package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

// sassForTest finds Dart Sass (PARLEY_SASS, or the npm package in the
// repository). Outside CI a missing Dart Sass skips the test; under CI=true
// it fails it.
func sassForTest(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PARLEY_SASS"); p != "" {
		return p
	}
	p, err := widget.FindSass(filepath.Join("..", ".."))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (.ci/run installs it)", err)
		}
		t.Skipf("%v", err)
	}
	abs, _ := filepath.Abs(p)
	return abs
}

// TestBrowserTheme: a widget whose admin chose accent #b91c1c on the left.
// On a customer's page the launcher is that red, the theme compiled by Dart
// Sass is linked in the shadow root (its hover shade reaches the launcher),
// and the open panel's header is red too.
func TestBrowserTheme(t *testing.T) {
	sass := sassForTest(t)
	browser := newBrowser(t)

	dir := t.TempDir()
	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	w.Appearance = parley.Appearance{AccentColor: "#b91c1c", Position: parley.PositionLeft}
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, dir, "PARLEY_SASS="+sass)
	host := hostSite(t, p.base(), "host.html")

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/pricing")); err != nil {
		t.Fatal(err)
	}
	launcher := widgetRoot + `.querySelector('button.l')`
	themeLoaded := `(function(){ const r = ` + widgetRoot + `; if (!r) return false;
  return [...r.querySelectorAll('link')].some(l => /\/widget\/v1\/theme\/[0-9a-f]{16}\.css$/.test(l.href) && l.sheet); })()`
	if err := waitJS(tab, themeLoaded, 10*time.Second); err != nil {
		t.Fatalf("the theme stylesheet was not linked: %v", err)
	}
	style := func(expr, prop string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](`getComputedStyle(`+expr+`).getPropertyValue(`+jsString(prop)+`).trim()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := style(launcher, "background-color"); got != "rgb(185, 28, 28)" {
		t.Errorf("launcher background=%q, want rgb(185, 28, 28)", got)
	}
	// Shades only the compiled theme has: 12% black mixed into the accent.
	wrap := widgetRoot + `.querySelector('.pw')`
	if got := style(wrap, "--a-hover"); got != "rgb(163, 25, 25)" {
		t.Errorf("--a-hover=%q, want rgb(163, 25, 25) from the compiled theme", got)
	}
	if got := style(launcher, "left"); got != "20px" {
		t.Errorf("launcher left=%q, want 20px (position left)", got)
	}
	xy, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`(function(){ const r = `+launcher+`.getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
	if err != nil || len(xy) != 2 {
		t.Fatalf("launcher position: %v %v", xy, err)
	}
	if err := chromedp.Do(tab, chromedp.MouseEvent("mouseMoved", xy[0], xy[1])); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, `getComputedStyle(`+launcher+`).backgroundColor === 'rgb(163, 25, 25)'`, liveWait); err != nil {
		t.Errorf("hovered launcher: %v (background %s)", err, style(launcher, "background-color"))
	}

	if err := click(tab, launcher); err != nil {
		t.Fatal(err)
	}
	header := widgetRoot + `.querySelector('.p .h')`
	if err := waitJS(tab, `!!`+header+` && !`+widgetRoot+`.querySelector('.p').hidden`, 10*time.Second); err != nil {
		t.Fatalf("the panel did not open: %v", err)
	}
	if got := style(header, "background-color"); got != "rgb(185, 28, 28)" {
		t.Errorf("panel header background=%q, want rgb(185, 28, 28)", got)
	}
	if got := style(header, "color"); got != "rgb(255, 255, 255)" {
		t.Errorf("panel header text=%q, want white (the better contrast on #b91c1c)", got)
	}
	if got := style(widgetRoot+`.querySelector('.p')`, "left"); got != "20px" {
		t.Errorf("panel left=%q, want 20px", got)
	}
	time.Sleep(300 * time.Millisecond) // the panel's opening animation
	if shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
		dir := filepath.Join("..", "..", "testdata", "artifacts")
		if os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, "widget-theme.png"), shot, 0o644)
		}
	}
	// The process compiled with Dart Sass rather than falling back.
	for {
		select {
		case line, ok := <-p.logs:
			if !ok {
				return
			}
			msg, _ := line["message"].(string)
			if strings.Contains(msg, "Dart Sass is missing") || strings.Contains(msg, "fallback") {
				t.Errorf("log: %v", line)
			}
		default:
			return
		}
	}
}
