package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
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

// nodeWithHubSpot finds Node and HubSpot's official client in the module's
// node_modules (npm ci). Outside CI a missing one skips the test; in CI
// (CI=true) it fails it.
func nodeWithHubSpot(t *testing.T) (node, modules string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	modules = filepath.Join(root, "node_modules")
	node, err = exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "@hubspot", "api-client", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node or @hubspot/api-client is missing (%v); .ci/run installs them", err)
		}
		t.Skipf("node or @hubspot/api-client is missing (%v): npm ci", err)
	}
	return node, modules
}

// TestHubSpotClientWebhooks: an integration written for HubSpot works
// against Parley unchanged. testdata/webhooks_contract.js configures
// settings and subscriptions with HubSpot's Node client (settingsApi,
// subscriptionsApi, the developer API key as hapikey) against a running
// Parley, and validates every request it receives with the client's
// Signature.isValid (v3); the events this test causes through Parley's
// API arrive, every request valid.
func TestHubSpotClientWebhooks(t *testing.T) {
	node, modules := nodeWithHubSpot(t)
	p := startProc(t, t.TempDir(), "PARLEY_WEBHOOK_ALLOW_PRIVATE=true")
	base := p.base()
	cookie := signIn(t, base)
	call := func(method, path string, body any, auth string) map[string]any {
		t.Helper()
		var out map[string]any
		callAPI(t, base, cookie, method, path, body, auth, &out)
		return out
	}
	token := call("POST", "/api/v1/tokens", map[string]string{"name": "HubSpot integration"}, "")["token"].(string)

	next := runNode(t, node, "webhooks_contract.js", "PARLEY_URL="+base, "PARLEY_TOKEN="+token, "APP_ID=31", "NODE_PATH="+modules)
	if line := next("ready"); line["ready"] == nil {
		t.Fatalf("first line %v, want ready", line)
	}

	// A visitor starts a conversation; an admin answers, closes it and
	// archives it (conversation.deletion was subscribed to and removed
	// again by the script: nothing comes of it).
	v, _ := dialVisitor(t, base, "")
	defer v.c.CloseNow()
	v.write(t, map[string]any{"type": "message.send", "clientId": "m1", "text": "Do you ship to Switzerland?"})
	var tid string
	for tid == "" {
		for _, ev := range nextEvents(t, v) {
			if ev["type"] == "message.ack" {
				tid = ev["message"].(map[string]any)["threadId"].(string)
			}
		}
	}
	const v3 = "/conversations/v3/conversations/threads/"
	call("POST", v3+tid+"/messages", map[string]any{"type": "MESSAGE", "text": "We do."}, token)
	call("PATCH", v3+tid, map[string]any{"status": "CLOSED"}, token)
	call("DELETE", v3+tid, nil, token)

	want := map[string]int{"conversation.creation": 1, "conversation.newMessage": 2, "conversation.propertyChange": 1}
	got := map[string]int{}
	for total := 0; total < 4; {
		d, _ := next("delivery")["delivery"].(map[string]any)
		if d["valid"] != true || d["version"] != "v3" {
			t.Fatalf("Signature.isValid refused a request: %v", d)
		}
		for _, e := range d["events"].([]any) {
			ev := e.(map[string]any)
			got[ev["subscriptionType"].(string)]++
			total++
			if ev["appId"] != float64(31) || strings.TrimSpace(tid) != jsonNumber(ev["objectId"]) {
				t.Errorf("event %v: want app 31 and objectId %s", ev, tid)
			}
			if ev["subscriptionType"] == "conversation.propertyChange" && (ev["propertyName"] != "status" || ev["propertyValue"] != "CLOSED") {
				t.Errorf("property change %v, want status CLOSED", ev)
			}
		}
	}
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d events, want %d (all: %v)", typ, got[typ], n, got)
		}
	}
}

// callAPI calls Parley at base, as the admin signed in with cookie, or
// with bearer (an API token) when it is set, fails the test on an answer
// that is not 2xx, and decodes the answer into out.
func callAPI(t *testing.T, base, cookie, method, path string, body any, bearer string, out any) {
	t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	} else {
		req.Header.Set("Origin", base)
		req.AddCookie(&http.Cookie{Name: "parley_session", Value: cookie})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %s %s", method, path, res.Status, b)
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// runNode runs testdata/script with node and env until the test ends
// (it closes the script's standard input and waits for it), and returns
// next, which reads the script's next JSON line: it fails the test when
// the script reports {"failed": …}, ends, or says nothing for 20
// seconds.
func runNode(t *testing.T, node, script string, env ...string) (next func(what string) map[string]any) {
	t.Helper()
	cmd := exec.Command(node, filepath.Join("testdata", script))
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("node %s: %v\n%s", script, err, stderr.String())
		}
	})
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				lines <- line
			}
		}
	}()
	return func(what string) map[string]any {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the script ended waiting for %s: %s", what, stderr.String())
			}
			if line["failed"] != nil {
				t.Fatalf("the script failed: %v", line["failed"])
			}
			return line
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s from the script within 20s: %s", what, stderr.String())
		}
		return nil
	}
}

// jsonNumber prints a decoded JSON number as an integer.
func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBrowserWebhooks: an admin creates a subscriber in Settings →
// Webhooks from the keyboard, sees its signing secret once (gone after a
// reload), sends a test event that the target receives signed with that
// secret, and sees it in the delivery log.
func TestBrowserWebhooks(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcessWith(t, map[string]string{"PARLEY_WEBHOOK_ALLOW_PRIVATE": "true"})
	type delivery struct{ url, body, ts, sig string }
	got := make(chan delivery, 10)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{"http://" + r.Host + r.URL.RequestURI(), string(b), r.Header.Get("X-HubSpot-Request-Timestamp"), r.Header.Get("X-HubSpot-Signature-v3")}
	}))
	defer target.Close()

	signInConsole(t, browser, base)
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/settings/webhooks")); err != nil {
		t.Fatal(err)
	}
	appID := byName("document", "input", "App ID")
	if err := waitJS(browser, appID+" !== null", liveWait); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(browser, appID, "12"); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(browser, byName("document", "input", "Target URL"), target.URL+"/hooks"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(browser, chromedp.KeyEvent("\r")); err != nil { // Enter submits the form
		t.Fatal(err)
	}
	secretBox := byName("document", "input", "Signing secret of app 12")
	if err := waitJS(browser, secretBox+" !== null", liveWait); err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(browser, chromedp.Evaluate[string](secretBox+".value"))
	if err != nil || len(secret) < 32 {
		t.Fatalf("secret %q (%v)", secret, err)
	}
	if err := chromedp.Do(browser, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(browser, byName("document", "summary", "App 12"+target.URL+"/hooks")+" !== null", liveWait); err != nil {
		t.Fatal(err)
	}
	if shown, _ := chromedp.Run(browser, chromedp.Evaluate[bool](`document.body.innerHTML.includes(`+jsString(secret)+`)`)); shown {
		t.Fatal("the secret is shown again after a reload")
	}
	if err := click(browser, `document.querySelector('details.group-card summary')`); err != nil {
		t.Fatal(err)
	}
	if err := click(browser, byName("document", "button", "Send test event")); err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(liveWait):
		t.Fatal("the target got no test event")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("POST" + d.url + d.body + d.ts))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); d.sig != want || !strings.Contains(d.body, `"appId":12`) {
		t.Errorf("test event %s signed %q, want a signature with the secret shown (%q)", d.body, d.sig, want)
	}
	if err := waitJS(browser, `[...document.querySelectorAll('[role=status]')].some(e => e.textContent.startsWith('Test event delivered: status 200'))`, liveWait); err != nil {
		t.Error(err)
	}
	if err := waitJS(browser, `[...document.querySelectorAll('table tbody tr')].some(r => r.cells[1].textContent === 'Test' && r.cells[2].textContent === 'Delivered' && r.cells[3].textContent === '200')`, liveWait); err != nil {
		t.Error(err)
	}
}
