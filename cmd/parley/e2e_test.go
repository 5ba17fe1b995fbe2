package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startInProcess runs Parley's run function on a free port with a fresh data
// directory and returns its base URL. It stops when the test ends.
func startInProcess(t testing.TB) string { return startInProcessWith(t, nil) }

// startInProcessWith is startInProcess with more environment variables.
func startInProcessWith(t testing.TB, more map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	env := map[string]string{
		"PARLEY_DATA":           t.TempDir(),
		"PARLEY_ADMIN_EMAIL":    "admin@example.com",
		"PARLEY_ADMIN_PASSWORD": "correct horse battery",
	}
	maps.Copy(env, more)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--log-format", "json"}, func(k string) string { return env[k] }, io.Discard, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == "listening" {
				addr <- line["addr"].(string)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("run ended: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("parley did not listen")
	}
	return ""
}

// chromium finds the browser. Outside CI a missing browser skips the test;
// in CI (CI=true) it fails it.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// newBrowser starts headless Chromium that resolves no outside host.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser has exited, and TempDir fails
	// the test when its first RemoveAll meets them. This cleanup runs last.
	profile, err := os.MkdirTemp("", "parley-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for try := 0; ; try++ {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if try == 50 {
				t.Errorf("remove the browser profile: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// click clicks the middle of the element expr (a JS expression) with the mouse.
func click(ctx context.Context, expr string) error {
	xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(function(){ const el = `+expr+`;
  if (!el) return null; el.scrollIntoView({block:'center'}); const r = el.getBoundingClientRect();
  return [r.x + r.width/2, r.y + r.height/2]; })()`))
	if err != nil {
		return err
	}
	if len(xy) != 2 {
		return fmt.Errorf("click: no element %s", expr)
	}
	return chromedp.Do(ctx, chromedp.MouseClickXY(xy[0], xy[1]))
}

// typeInto focuses the element expr and types text with key events.
func typeInto(ctx context.Context, expr, text string) error {
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){ const el = `+expr+`; if (!el) return false; el.focus(); return true; })()`))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("type: no element %s", expr)
	}
	return chromedp.Do(ctx, chromedp.KeyEvent(text))
}

// byName is a JS expression for the first element matching selector under
// root (a JS expression) whose accessible name — aria-label, its label's
// text, or its own text — is name.
func byName(root, selector, name string) string {
	return fmt.Sprintf(`(function(){
  const root = %s; if (!root) return null;
  for (const el of root.querySelectorAll(%q)) {
    const n = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || '').trim();
    if (n === %q) return el;
  }
  return null; })()`, root, selector, name)
}

const widgetRoot = `(document.querySelector('#parley-chat') && document.querySelector('#parley-chat').shadowRoot)`

// liveWait bounds the wait for a change the page shows live (pushed over
// its socket, no reload). It arrives in milliseconds on an idle machine; the
// bound only ends a test that would otherwise hang, and leaves room for a
// loaded one running -race.
const liveWait = 10 * time.Second

// waitJS polls a JS boolean expression until it is true.
func waitJS(ctx context.Context, expr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestBrowserChat: a customer's page on another origin loads the snippet and
// opens the chat with #hs-chat-open; the visitor writes; an agent signs in to
// the console in the same browser, opens the conversation and replies; the
// visitor sees the agent typing and then the reply.
func TestBrowserChat(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)

	host := hostSite(t, base, "host.html")

	// The visitor.
	visitor, cancelV := chromedp.NewContext(browser)
	defer cancelV()
	const question = "Hello from the pricing page <b>not bold</b>"
	if err := chromedp.Do(visitor, chromedp.Navigate(host.URL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	messageBox := byName(widgetRoot, "textarea", "Message")
	if err := waitJS(visitor, messageBox+" !== null", 10*time.Second); err != nil {
		t.Fatalf("the chat did not open from #hs-chat-open: %v", err)
	}
	if err := waitJS(visitor, byName(widgetRoot, "button", "Close chat")+" !== null", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(visitor, messageBox, question); err != nil {
		t.Fatal(err)
	}
	if err := click(visitor, byName(widgetRoot, "button", "Send")); err != nil {
		t.Fatal(err)
	}
	visitorLog := widgetRoot + `.querySelector('[role=log]')`
	if err := waitJS(visitor, visitorLog+".textContent.includes("+jsString(question)+")", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(visitor, `window.parleyEvents.some(e => e.name === 'conversationStarted' && typeof e.payload.conversation.conversationId === 'number')`, 5*time.Second); err != nil {
		t.Fatalf("conversationStarted: %v", err)
	}

	// The agent.
	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, byName("document", "input", "Email")+" !== null", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, byName("document", "input", "Email"), "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, byName("document", "input", "Password"), "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName("document", "button", "Sign in")); err != nil {
		t.Fatal(err)
	}
	row := `[...document.querySelectorAll('a.thread-row')].find(a => a.textContent.includes('Hello from the pricing page'))`
	if err := waitJS(agent, "!!"+row, 10*time.Second); err != nil {
		t.Fatalf("the conversation did not appear in the console: %v", err)
	}
	if err := click(agent, row); err != nil {
		t.Fatal(err)
	}
	agentLog := `document.querySelector('main [role=log]')`
	if err := waitJS(agent, agentLog+" && "+agentLog+".textContent.includes("+jsString(question)+")", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// The visitor's HTML is text in the console too.
	if bolds, err := chromedp.Run(agent, chromedp.Evaluate[int](agentLog+".querySelectorAll('b').length")); err != nil || bolds != 0 {
		t.Fatalf("message HTML was rendered in the console (%d <b>, %v)", bolds, err)
	}
	replyBox := byName("document", "textarea", "Reply")
	const answer = "Hi! The pro plan is 20 € a month."
	if err := typeInto(agent, replyBox, "Hi! The pro plan"); err != nil {
		t.Fatal(err)
	}
	typing := "(" + widgetRoot + `.querySelector('.ty'))`
	if err := waitJS(visitor, typing+" && !"+typing+".hidden", 5*time.Second); err != nil {
		t.Fatalf("the visitor did not see the agent typing: %v", err)
	}
	if err := typeInto(agent, replyBox, " is 20 € a month."); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName("document", "button", "Send")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(visitor, visitorLog+".textContent.includes("+jsString(answer)+")", 5*time.Second); err != nil {
		t.Fatalf("the visitor did not get the reply: %v", err)
	}
	if shot, err := chromedp.Run(visitor, chromedp.FullScreenshot(100)); err == nil {
		dir := filepath.Join("..", "..", "testdata", "artifacts")
		if os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, "widget-open.png"), shot, 0o644)
		}
	}
	if shot, err := chromedp.Run(agent, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join("..", "..", "testdata", "artifacts", "console.png"), shot, 0o644)
	}
}

// hostSite serves testdata/e2e/<page> as a customer's website on its own
// origin, with {{BASE}} replaced by Parley's base URL.
func hostSite(t *testing.T, base, page string) *httptest.Server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", page))
	if err != nil {
		t.Fatal(err)
	}
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(strings.ReplaceAll(string(b), "{{BASE}}", base)))
	}))
	t.Cleanup(host.Close)
	if strings.HasPrefix(host.URL, base) {
		t.Fatal("the host page must be on another origin")
	}
	return host
}

// TestBrowserSDK drives the HubSpot-compatible SDK as a page written for
// HubSpot does: loadImmediately false, then load, open, close and status,
// with the events they fire; on a German page.
func TestBrowserSDK(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "sdk.html")
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/hilfe")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, `window.parleyReady === true`, 10*time.Second); err != nil {
		t.Fatalf("hsConversationsOnReady was not called: %v", err)
	}
	// Nothing is drawn before widget.load().
	if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`!document.querySelector('#parley-chat') && window.HubSpotConversations.widget.status().loaded === false && window.ParleyConversations === window.HubSpotConversations`)); err != nil || !ok {
		t.Fatalf("before load: ok=%v err=%v", ok, err)
	}
	steps := []struct{ name, do, until string }{
		{"load", `window.HubSpotConversations.widget.load()`,
			`window.HubSpotConversations.widget.status().loaded === true && window.parleyEvents.some(e => e.name === 'widgetLoaded' && e.payload.message === 'Widget has loaded')`},
		{"German launcher", ``, byName(widgetRoot, "button", "Chat öffnen") + ` !== null`},
		{"open", `window.HubSpotConversations.widget.open()`, byName(widgetRoot, "textarea", "Nachricht") + ` !== null && ` + byName(widgetRoot, "button", "Chat schließen") + ` !== null`},
		{"close", `window.HubSpotConversations.widget.close()`, `window.parleyEvents.some(e => e.name === 'widgetClosed') && ` + byName(widgetRoot, "button", "Chat öffnen") + ` !== null`},
		{"hashchange opens", `location.hash = '#HS-CHAT-OPEN'`, byName(widgetRoot, "button", "Chat schließen") + ` !== null`},
		{"remove", `window.HubSpotConversations.widget.remove()`, `!document.querySelector('#parley-chat') && window.HubSpotConversations.widget.status().loaded === false`},
	}
	for _, st := range steps {
		if st.do != "" {
			if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](st.do)); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if err := waitJS(tab, st.until, 5*time.Second); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
