package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

// Browser tests of the visitor's side of the widget (FEATURES W4, A1, G1, G2,
// CONTRACT §3 and §4), each on a customer's page served from another
// loopback origin.

// widgetEnv is a Parley whose store the test can change while it runs, so
// that it can set a widget up the way the admin would.
type widgetEnv struct {
	t      *testing.T
	base   string
	db     *store.DB
	app    *app.App
	widget *parley.Widget
	api    *http.Client // signed in as the admin
	token  string       // an API token of the admin, for what a site's back end does
}

func startWidgetEnv(t *testing.T) *widgetEnv {
	t.Helper()
	return startWidgetEnvWith(t, server.Config{}, nil)
}

// startWidgetEnvWith is startWidgetEnv with a server configuration (its
// BaseURL is set here) and, unless nil, a wrapper around the server's
// handler.
func startWidgetEnvWith(t *testing.T, cfg server.Config, wrap func(http.Handler) http.Handler) *widgetEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := server.CreateAdmin(ctx, db, "admin@example.com", "Ada Admin", actPassword, time.Now()); err != nil {
		t.Fatal(err)
	}
	assets, err := widget.Load()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	h := hub.New(nil)
	cfg.BaseURL = base
	p := hub.NewPresence()
	blobs, err := blob.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{BaseURL: base, Blobs: blobs}, db, p)
	srv := server.New(cfg, a, db, h, p, assets)
	a.Start()
	var handler http.Handler = srv
	if wrap != nil {
		handler = wrap(srv)
	}
	hs := srv.HTTPServer() // the timeouts main serves with
	hs.Handler = handler
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		_ = hs.Close()
		h.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	jar, _ := cookiejar.New(nil)
	e := &widgetEnv{t: t, base: base, db: db, app: a, widget: w, api: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if st, body := e.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": actPassword}); st != 200 {
		t.Fatalf("sign in: %d %s", st, body)
	}
	st, body := e.call("POST", "/api/v1/tokens", map[string]string{"name": "site back end"})
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); st != 201 || err != nil {
		t.Fatalf("API token: %d %s", st, body)
	}
	e.token = tok.Token
	return e
}

// identify asks for a visitor identification token as a site's back end
// does: with the admin's API token.
func (e *widgetEnv) identify(body any) (int, []byte) {
	e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.base+"/visitor-identification/v3/tokens/create", bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// call sends an API request as the signed-in admin.
func (e *widgetEnv) call(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.base)
	res, err := e.api.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (e *widgetEnv) edit(id uint64, fn func(w *parley.Widget)) {
	e.t.Helper()
	if _, err := e.db.UpdateWidget(context.Background(), id, func(w *parley.Widget) error { fn(w); return nil }); err != nil {
		e.t.Fatal(err)
	}
}

// hostPages serves a customer's website on its own origin: pages[path] for
// a path, pages["*"] for any other.
func hostPages(t *testing.T, base string, pages map[string]string) *httptest.Server {
	t.Helper()
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			page, ok = pages["*"]
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(strings.ReplaceAll(page, "{{BASE}}", base)))
	}))
	t.Cleanup(host.Close)
	if strings.HasPrefix(host.URL, base) {
		t.Fatal("the host page must be on another origin")
	}
	return host
}

// sdkPage is a page written for HubSpot's SDK: settings, hsConversationsOnReady
// recording every event with its payload in window.parleyEvents, the snippet.
func sdkPage(htmlAttrs, settings, body string) string {
	return `<!doctype html><html ` + htmlAttrs + `><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Acme</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem;background:#f6f7fb;color:#1b1f2a}</style></head>
<body><main><h1>Acme</h1><p>A customer's website.</p>` + body + `</main>
<script>
  window.hsConversationsSettings = ` + settings + `;
  window.parleyEvents = [];
  window.hsConversationsOnReady = [function () {
    window.parleyReady = true;
    ["widgetLoaded", "widgetClosed", "conversationStarted", "conversationClosed", "unreadConversationCountChanged",
     "userInteractedWithWidget", "contactAssociated", "quickReplyButtonClick"].forEach(function (name) {
      window.HubSpotConversations.on(name, function (payload) {
        window.parleyEvents.push({ name: name, payload: payload });
      });
    });
  }];
</script>
<script async src="{{BASE}}/embed.js"></script>
</body></html>`
}

// hasEvent is a JS expression: an event name was fired with a payload for
// which cond (a JS expression over p) holds.
func hasEvent(name, cond string) string {
	if cond == "" {
		cond = "true"
	}
	return `window.parleyEvents.some(e => e.name === ` + jsString(name) + ` && (p => ` + cond + `)(e.payload))`
}

// storageEmpty is a JS expression: the page's origin holds nothing of ours.
const storageEmpty = `(localStorage.length === 0 && sessionStorage.length === 0 && document.cookie === '')`

// step runs a JS action (may be empty) and waits for until.
func step(t *testing.T, tab context.Context, name, do, until string) {
	t.Helper()
	if do != "" {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](do)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := waitJS(tab, until, 8*time.Second); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

const (
	wlog    = widgetRoot + `.querySelector('[role=log]')`
	wpanel  = widgetRoot + `.querySelector('.p')`
	wopen   = `(` + widgetRoot + ` && ` + widgetRoot + `.querySelector('.p') && !` + widgetRoot + `.querySelector('.p').hidden)`
	gone    = `!document.querySelector('#parley-chat')`
	heading = widgetRoot + `.querySelector('h2').textContent`
)

// widgetShot keeps a PNG of tab as a test artefact in testdata/artifacts
// (not committed; CI lists the directory) and logs where it is.
func widgetShot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	// After the panel's opening animation.
	if err := waitJS(tab, `!`+widgetRoot+` || [...`+widgetRoot+`.querySelectorAll('*')].every(el => el.getAnimations().every(a => a.playState !== 'running'))`, liveWait); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path, _ := filepath.Abs(filepath.Join(dir, name))
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the open widget: %s", path)
}

// TestBrowserWidgetSDK drives the whole SDK as a single-page app written for
// HubSpot does: load, open, close, events with their payloads, refresh after
// pushState onto pages targeted at another widget and at none, remove, and
// clear with resetWidget. Nothing is stored before the visitor interacts.
func TestBrowserWidgetSDK(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, `{ loadImmediately: false }`, ``)})
	shop := &parley.Widget{Name: "Shop chat", InboxID: e.widget.InboxID, Enabled: true,
		Message:   parley.WidgetMessage{Heading: parley.Heading{Mode: parley.HeadingCustom, Name: "Shop chat"}},
		Targeting: parley.Targeting{Rules: []parley.TargetRule{{Kind: "url", Op: "startsWith", Value: host.URL + "/shop"}}}}
	if err := e.db.CreateWidget(context.Background(), shop); err != nil {
		t.Fatal(err)
	}
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Targeting.Rules = []parley.TargetRule{{Kind: "url", Op: "startsWith", Value: host.URL + "/app"}}
	})

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/app/home")); err != nil {
		t.Fatal(err)
	}
	sdk := `window.HubSpotConversations`
	steps := []struct{ name, do, until string }{
		{"ready, nothing drawn", ``, `window.parleyReady === true && ` + gone + ` && ` + sdk + `.widget.status().loaded === false`},
		{"load", sdk + `.widget.load()`, sdk + `.widget.status().loaded === true && ` + hasEvent("widgetLoaded", `p.message === 'Widget has loaded'`)},
		{"open", sdk + `.widget.open()`, wopen + ` && ` + heading + ` === 'Chat with us' && ` + byName(widgetRoot, "button", "Close chat") + ` !== null`},
		{"no storage before interaction", ``, storageEmpty},
		{"close", sdk + `.widget.close()`, `!` + wopen + ` && ` + hasEvent("widgetClosed", `p.message === 'Widget has been closed'`)},
		{"load with widgetOpen", sdk + `.widget.load({widgetOpen: true})`, wopen},
		{"still no storage", ``, storageEmpty + ` && !window.parleyEvents.some(e => e.name === 'userInteractedWithWidget')`},
	}
	for _, s := range steps {
		step(t, tab, s.name, s.do, s.until)
	}

	// The visitor writes: interaction, a conversation, then storage.
	actVisitorSay(t, tab, "Hello from the app")
	step(t, tab, "conversationStarted", ``, hasEvent("conversationStarted", `typeof p.conversation.conversationId === 'number'`)+` && `+
		hasEvent("userInteractedWithWidget", `p.message === 'User has interacted with widget'`)+` && localStorage.getItem('parley.visitor') !== null`)
	var threadID float64
	if v, err := chromedp.Run(tab, chromedp.Evaluate[float64](`window.parleyEvents.find(e => e.name === 'conversationStarted').payload.conversation.conversationId`)); err != nil {
		t.Fatal(err)
	} else {
		threadID = v
	}
	tid := fmt.Sprint(int64(threadID))
	// Email capture "after" (the default widget): asked once the first message is in.
	step(t, tab, "email asked after the first message", ``, wlog+`.querySelector('form') !== null && `+wlog+`.textContent.includes('Leave your email so we can reach you if you go.') && `+byName(widgetRoot, "input", "Email")+` !== null`)

	// An agent answers while the panel is closed: unread count and badge.
	step(t, tab, "close again", sdk+`.widget.close()`, `!`+wopen)
	if st, body := e.call("POST", "/conversations/v3/conversations/threads/"+tid+"/messages", map[string]string{"type": "MESSAGE", "text": "We are here!"}); st != 201 {
		t.Fatalf("reply: %d %s", st, body)
	}
	step(t, tab, "unreadConversationCountChanged", ``, hasEvent("unreadConversationCountChanged", `p.unreadCount === 1`)+` && `+widgetRoot+`.querySelector('.bd').textContent === '1'`)
	step(t, tab, "reading resets it", sdk+`.widget.open()`, hasEvent("unreadConversationCountChanged", `p.unreadCount === 0`)+` && `+wlog+`.textContent.includes('We are here!')`)
	step(t, tab, "the reply comes after the email form", ``, `(function(){ const kids = [...`+wlog+`.children];
  const f = kids.indexOf(`+wlog+`.querySelector('form')); const r = kids.findIndex(n => n.textContent.includes('We are here!'));
  return f >= 0 && r > f; })()`)
	if err := typeInto(tab, byName(widgetRoot, "input", "Email"), "ada@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName(widgetRoot, "button", "Continue")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "email taken in the conversation", ``, hasEvent("contactAssociated", `typeof p.message === 'string'`)+` && `+
		wlog+`.textContent.includes("Thanks! We’ll reply to ada@example.org.") && !`+wlog+`.querySelector('form')`)
	if st, body := e.call("PATCH", "/conversations/v3/conversations/threads/"+tid, map[string]string{"status": "CLOSED"}); st != 200 {
		t.Fatalf("close thread: %d %s", st, body)
	}
	step(t, tab, "conversationClosed", ``, hasEvent("conversationClosed", `p.conversation.conversationId === `+tid))

	// off() stops a handler.
	step(t, tab, "off", `window.offCalls = 0; window.offFn = () => window.offCalls++; `+sdk+`.on('widgetClosed', window.offFn); `+sdk+`.off('widgetClosed', window.offFn); `+sdk+`.widget.close()`,
		`window.offCalls === 0 && !`+wopen)

	// A single-page app changes its URL and asks for a refresh.
	spa := []struct{ name, do, until string }{
		{"refresh to another widget", `history.pushState({}, '', '/shop/cart'); ` + sdk + `.widget.refresh()`,
			`!!document.querySelector('#parley-chat') && ` + sdk + `.widget.status().loaded === true && (` + sdk + `.widget.open(), true) && ` + wopen + ` && ` + heading + ` === 'Shop chat'`},
		{"refresh to a page without a widget", `history.pushState({}, '', '/about'); ` + sdk + `.widget.refresh()`,
			gone + ` && ` + sdk + `.widget.status().loaded === false`},
		{"refresh back", `history.pushState({}, '', '/app/home'); ` + sdk + `.widget.refresh()`,
			`!!document.querySelector('#parley-chat') && ` + sdk + `.widget.status().loaded === true`},
		{"remove", sdk + `.widget.remove()`, gone + ` && ` + sdk + `.widget.status().loaded === false`},
		{"load after remove resumes the conversation", sdk + `.widget.load({widgetOpen: true})`, wopen + ` && ` + wlog + `.textContent.includes('Hello from the app')`},
		{"clear with resetWidget", sdk + `.clear({resetWidget: true})`, storageEmpty},
		{"a fresh widget", sdk + `.widget.open()`, wopen + ` && ` + sdk + `.widget.status().loaded === true && !` + wlog + `.textContent.includes('Hello from the app')`},
	}
	for _, s := range spa {
		step(t, tab, s.name, s.do, s.until)
	}
}

// TestBrowserWidgetConsentAndEmail: explicit consent blocks sending until "I
// agree"; then email capture "before" asks for a valid email; the consent
// and the email land on the contact.
func TestBrowserWidgetConsentAndEmail(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	const privacy = "We store what you write to answer you."
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Consent = parley.Consent{Process: parley.ConsentExplicit, ProcessText: privacy,
			Communicate: true, SubscriptionType: "Support updates", CommunicateText: "We may email you about this request."}
		w.Message.EmailCapture = parley.EmailCapture{When: parley.EmailCaptureBefore, Message: "Your email, please, so we can answer."}
	})
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, `{}`, ``)})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/contact#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	message := byName(widgetRoot, "textarea", "Message")
	agree := byName(widgetRoot, "button", "I agree")
	email := byName(widgetRoot, "input", "Email")
	step(t, tab, "consent first", ``, wopen+` && `+agree+` !== null && `+message+`.disabled && `+byName(widgetRoot, "button", "Send")+`.disabled && `+
		widgetRoot+`.querySelector('.cs').textContent.includes(`+jsString(privacy)+`) && `+widgetRoot+`.querySelector('.cs').textContent.includes('We may email you')`)
	step(t, tab, "nothing stored yet", ``, storageEmpty)
	widgetShot(t, tab, "widget-visitor-consent.png")
	if err := click(tab, agree); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "then the email", ``, widgetRoot+`.querySelector('.cs').hidden && `+email+` !== null && `+message+`.disabled && `+
		widgetRoot+`.querySelector('.ef').textContent.includes('Your email, please')`)
	if err := typeInto(tab, email, "ada@"); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName(widgetRoot, "button", "Continue")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "invalid email refused", ``, widgetRoot+`.querySelector('.ee').textContent === 'Please enter a valid email address.' && `+email+`.getAttribute('aria-invalid') === 'true'`)
	if err := typeInto(tab, email, "lovelace.example.org"); err != nil { // now "ada@lovelace.example.org"
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "composer open", ``, `!`+message+`.disabled && `+widgetRoot+`.querySelector('.ef').hidden && `+hasEvent("contactAssociated", `typeof p.message === 'string'`))
	actVisitorSay(t, tab, "Hello, I agreed")

	// A typed email is the visitor's unverified one, on the contact of its
	// thread.
	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{Limit: 10})
	if err != nil || len(ts) != 1 {
		t.Fatalf("threads: %d (%v), want 1", len(ts), err)
	}
	c, err := e.db.Contact(context.Background(), ts[0].ContactID)
	if err != nil || c.Email != "" || c.UnverifiedEmail != "ada@lovelace.example.org" {
		t.Fatalf("contact %+v (%v): want the typed email as its unverified one", c, err)
	}
	if len(c.Consents) != 2 || c.Consents[0].Kind != "process" || c.Consents[0].Mode != "explicit" ||
		c.Consents[0].Version != parley.ConsentVersion(privacy) || !strings.HasPrefix(c.Consents[0].PageURL, host.URL+"/contact") ||
		c.Consents[1].Kind != "communicate" || c.Consents[1].SubscriptionType != "Support updates" {
		t.Fatalf("consents=%+v", c.Consents)
	}

	// The agent sees them in the contact sidebar.
	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	actSignIn(t, agent, e.base, "admin@example.com")
	if err := click(agent, actRow("Hello, I agreed")); err != nil {
		t.Fatal(err)
	}
	card := `[...document.querySelectorAll('.cv-card')].find(c => c.querySelector('h3') && c.querySelector('h3').textContent === 'Consents')`
	step(t, agent, "consents in the sidebar", ``, `!!`+card+` && `+card+`.textContent.includes('Data processing: agreed') && `+
		card+`.textContent.includes('Subscribed: Support updates') && `+card+`.textContent.includes(`+jsString(host.URL+"/contact")+`)`)
	step(t, agent, "the typed email, marked unverified", ``, `[...document.querySelectorAll('.cv-facts dd')].some(d => d.textContent === 'ada@lovelace.example.org (unverified)')`)
}

// TestBrowserWidgetIdentification: a page that identifies its signed-in
// user chats as that contact, is not asked for an email, and sees one
// history in two browsers; a wrong token chats anonymously.
func TestBrowserWidgetIdentification(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Message.EmailCapture = parley.EmailCapture{When: parley.EmailCaptureBefore}
	})
	st, body := e.identify(map[string]string{"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper"})
	if st != 200 {
		t.Fatalf("token: %d %s", st, body)
	}
	var tok struct{ Token string }
	_ = json.Unmarshal(body, &tok)
	page := func(token string) string {
		return sdkPage(`lang="en"`, `{ loadImmediately: false, identificationEmail: "grace@example.com", identificationToken: `+jsString(token)+` }`, ``)
	}
	host := hostPages(t, e.base, map[string]string{"/good": page(tok.Token), "/bad": page(tok.Token[:len(tok.Token)-3] + "xyz")})
	message := byName(widgetRoot, "textarea", "Message")

	device := func(path string) context.Context {
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(tab, chromedp.Navigate(host.URL+path)); err != nil {
			t.Fatal(err)
		}
		// As HubSpot documents it: identify, then load.
		step(t, tab, "ready", ``, `window.parleyReady === true`)
		step(t, tab, "load", `window.HubSpotConversations.widget.load({widgetOpen: true})`, wopen)
		return tab
	}
	laptop := device("/good")
	step(t, laptop, "identified, not asked", ``, `!`+message+`.disabled && `+widgetRoot+`.querySelector('.ef').hidden && `+hasEvent("contactAssociated", `typeof p.message === 'string'`))
	actVisitorSay(t, laptop, "Sent from my laptop")
	phone := device("/good")
	step(t, phone, "one history", ``, wlog+`.textContent.includes('Sent from my laptop') && !`+message+`.disabled`)
	actVisitorSay(t, phone, "And from my phone")

	c, err := e.db.ContactByEmail(context.Background(), "grace@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: c.ID, Limit: 10})
	if err != nil || len(ts) != 1 {
		t.Fatalf("threads of the identified contact: %d (%v), want 1", len(ts), err)
	}
	msgs, _, _ := e.db.Messages(context.Background(), ts[0].ID, 0, 10)
	if len(msgs) != 2 {
		t.Fatalf("messages=%d, want 2 in one thread", len(msgs))
	}

	stranger := device("/bad")
	step(t, stranger, "anonymous with a wrong token", ``, message+`.disabled && `+byName(widgetRoot, "input", "Email")+` !== null && !`+
		wlog+`.textContent.includes('Sent from my laptop') && !window.parleyEvents.some(e => e.name === 'contactAssociated')`)
}

// TestBrowserWidgetKeyboardGerman: on a German page the widget speaks
// German; the keyboard opens it, focus moves in and is trapped while it is
// open, Escape closes it and gives focus back to the launcher.
func TestBrowserWidgetKeyboardGerman(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Message.Welcome = "Hallo! Wie können wir helfen?"
		w.Appearance.LauncherLabel = "Fragen?"
	})
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="de"`, `{}`, `<p><a href="#x">Ein Link der Seite</a></p>`)})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/hilfe")); err != nil {
		t.Fatal(err)
	}
	launcher := byName(widgetRoot, "button", "Chat öffnen")
	step(t, tab, "German launcher with its label", ``, launcher+` !== null && `+launcher+`.textContent.includes('Fragen?')`)
	step(t, tab, "focus the launcher", launcher+`.focus()`, widgetRoot+`.activeElement === `+launcher)
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	box := byName(widgetRoot, "textarea", "Nachricht")
	step(t, tab, "opened, focus in the message box", ``, wopen+` && `+widgetRoot+`.activeElement === `+box+` && `+byName(widgetRoot, "button", "Chat schließen")+` !== null && `+
		byName(widgetRoot, "button", "Senden")+` !== null && `+wlog+`.getAttribute('aria-live') === 'polite' && `+wlog+`.textContent.includes('Wie können wir helfen?')`)
	seen := map[string]bool{}
	for i := 0; i < 7; i++ {
		// Five times forwards, then backwards, across the ends of the panel.
		var opts []chromedp.KeyOption
		if i >= 5 {
			opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
		}
		if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Tab, opts...)); err != nil {
			t.Fatal(err)
		}
		where, err := chromedp.Run(tab, chromedp.Evaluate[string](`(function(){ const a = `+widgetRoot+`.activeElement;
  return a && `+wpanel+`.contains(a) ? (a.getAttribute('aria-label') || a.tagName) : 'outside:' + (document.activeElement && document.activeElement.tagName); })()`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(where, "outside:") {
			t.Fatalf("Tab %d left the open chat: focus on %s", i+1, where)
		}
		seen[where] = true
	}
	if !seen["Chat minimieren"] || !seen["TEXTAREA"] {
		t.Errorf("Tab visited %v, want the minimize button and the message box among them", seen)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "Escape closes and returns focus", ``, `!`+wopen+` && `+widgetRoot+`.activeElement === `+launcher)
}

// TestBrowserWidgetLayouts: a widget that opens by default opens; a
// right-to-left page mirrors the widget and shows Arabic text right to left; inlineEmbedSelector puts the panel in the
// page's element without a launcher; on a small screen the welcome message
// is a prompt instead (open by default or not) and the launcher can be
// hidden. A screenshot of the open
// widget is kept.
func TestBrowserWidgetLayouts(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Message.Welcome = "Hi! How can we help?"
		w.Message.OpenByDefault = true
		w.Message.Mobile = parley.MobileOptions{WelcomeAsPrompt: true, HideLauncher: true}
		w.Appearance.FontSize = parley.FontLarge
	})
	host := hostPages(t, e.base, map[string]string{
		"/ar":     sdkPage(`lang="ar" dir="rtl"`, `{}`, ``),
		"/inline": sdkPage(`lang="en"`, `{ inlineEmbedSelector: '#chatbox' }`, `<div id="chatbox" style="width:380px;height:520px;border:1px solid #ccc"></div>`),
		"/m":      sdkPage(`lang="en"`, `{}`, ``),
	})

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/ar")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "open by default", ``, wopen+` && `+wlog+`.textContent.includes('How can we help?')`)
	const arabic = "مرحبا، هل يمكنكم مساعدتي؟"
	step(t, tab, "mirrored", ``, wopen+` && `+widgetRoot+`.querySelector('.pw').dir === 'rtl' && `+
		wpanel+`.getBoundingClientRect().left < 100 && `+widgetRoot+`.querySelector('.l').getBoundingClientRect().left < 100`)
	actVisitorSay(t, tab, arabic)
	step(t, tab, "Arabic shown right to left", ``, `(function(){ const b = [...`+wlog+`.querySelectorAll('.me .b')].find(b => b.textContent === `+jsString(arabic)+`);
  return !!b && b.dir === 'auto' && getComputedStyle(b).direction === 'rtl'; })()`)
	step(t, tab, "font size large", ``, `getComputedStyle(`+wpanel+`).fontSize === '17px'`)
	widgetShot(t, tab, "widget-visitor-rtl.png")

	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/inline")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "inline", ``, `(function(){ const box = document.querySelector('#chatbox'); const host = box.querySelector('#parley-chat');
  if (!host || !host.shadowRoot) return false; const p = host.shadowRoot.querySelector('.p'); if (!p || p.hidden) return false;
  const a = box.getBoundingClientRect(), b = p.getBoundingClientRect();
  return Math.abs(a.width - b.width) < 4 && Math.abs(a.height - b.height) < 4 && getComputedStyle(host.shadowRoot.querySelector('.l')).display === 'none'; })()`)
	step(t, tab, "inline chat works", ``, byName(widgetRoot, "textarea", "Message")+` !== null`)

	if err := chromedp.Do(tab, chromedp.EmulateViewport(400, 760)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/m")); err != nil {
		t.Fatal(err)
	}
	prompt := widgetRoot + `.querySelector('.pr')`
	step(t, tab, "welcome prompt, no launcher", ``, widgetRoot+` && `+prompt+` && `+prompt+`.textContent.includes('How can we help?') && getComputedStyle(`+widgetRoot+`.querySelector('.l')).display === 'none'`)
	if err := click(tab, prompt+`.querySelector('.po')`); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the prompt opens the chat", ``, wopen+` && !`+prompt)
}
