package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley"
)

// Browser tests of the details of HubSpot's SDK (CONTRACT §3): a strict
// Content-Security-Policy with avoidInlineStyles, the cookie notice,
// widget.refresh({openToNewThread: true}), and a page that passes odd
// values everywhere.

// TestBrowserWidgetStrictCSP: a page whose policy allows styles and scripts
// from Parley's origin only (no 'unsafe-inline') gets a launcher and a chat
// that look right, and the browser reports no violation.
func TestBrowserWidgetStrictCSP(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/settings.js" {
			// The page's own script: settings, and a record of every
			// violation the browser reports.
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(`window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));
window.hsConversationsSettings = { avoidInlineStyles: true };`))
			return
		}
		w.Header().Set("Content-Security-Policy", "style-src "+e.base+"; script-src 'self' "+e.base)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Strict</title>
<script src="/settings.js"></script></head><body><h1>A strict site</h1>
<script async src="` + e.base + `/embed.js"></script></body></html>`))
	}))
	t.Cleanup(host.Close)

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/")); err != nil {
		t.Fatal(err)
	}
	launcher := widgetRoot + `.querySelector('.l')`
	step(t, tab, "the launcher, styled", ``, launcher+` && (function(){ const s = getComputedStyle(`+launcher+`), r = `+launcher+`.getBoundingClientRect();
  return s.position === 'fixed' && s.backgroundColor === 'rgb(37, 99, 235)' && r.width === 60 && r.height === 60 &&
    Math.round(innerWidth - r.right) === 20 && Math.round(innerHeight - r.bottom) === 20 && s.borderTopLeftRadius === '30px'; })()`)
	// Style attributes set through the CSSOM (custom properties, the host's
	// box) are allowed; <style> elements are not.
	step(t, tab, "no <style> in the widget", ``, widgetRoot+`.querySelectorAll('style').length === 0 && document.querySelectorAll('style').length === 0`)
	if err := click(tab, byName(widgetRoot, "button", "Open chat")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the chat, styled", ``, wopen+` && (function(){ const p = `+wpanel+`, s = getComputedStyle(p), r = p.getBoundingClientRect();
  return s.position === 'fixed' && r.width >= 300 && r.height >= 300 && getComputedStyle(`+widgetRoot+`.querySelector('.h')).backgroundColor === 'rgb(37, 99, 235)'; })()`)
	actVisitorSay(t, tab, "Hello from a strict page")
	if got, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.violations`)); err != nil || len(got) != 0 {
		t.Fatalf("violations=%q (%v), want none", got, err)
	}
}

// TestBrowserWidgetCookieBanner: with enableWidgetCookieBanner the widget
// asks before it stores anything. Accepted, the conversation is there after
// a reload; declined, the visitor token is never stored and a reload starts
// afresh. "ON_EXIT_INTENT" waits for the pointer to leave the page; German
// pages get German.
func TestBrowserWidgetCookieBanner(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{
		"/load": sdkPage(`lang="en"`, `{ enableWidgetCookieBanner: "ON_WIDGET_LOAD" }`, ``),
		"/true": sdkPage(`lang="en"`, `{ enableWidgetCookieBanner: true }`, ``),
		"/exit": sdkPage(`lang="de"`, `{ enableWidgetCookieBanner: "ON_EXIT_INTENT" }`, ``),
	})
	notice := widgetRoot + `.querySelector('section[aria-label="Cookie notice"]')`
	shown := `(` + widgetRoot + ` && ` + notice + ` && !` + notice + `.hidden && ` + notice + `.getClientRects().length > 0)`
	accept := byName(widgetRoot, "button", "Accept")
	decline := byName(widgetRoot, "button", "Decline")

	// Accepted, by keyboard.
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/load")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the notice on load, nothing stored", ``, shown+` && !`+wopen+` && `+notice+`.textContent.includes("browser’s storage") && `+storageEmpty)
	step(t, tab, "open", `window.HubSpotConversations.widget.open()`, wopen+` && `+shown+` && `+wpanel+`.contains(`+notice+`)`)
	actVisitorSay(t, tab, "Remember me")
	step(t, tab, "a conversation, still nothing stored", ``, hasEvent("conversationStarted", "")+` && `+storageEmpty)
	step(t, tab, "focus Accept", accept+`.focus()`, widgetRoot+`.activeElement === `+accept)
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "accepted: stored", ``, `localStorage.getItem('parley.cookies') === 'yes' && localStorage.getItem('parley.visitor') !== null && `+notice+`.hidden && `+
		widgetRoot+`.activeElement === `+byName(widgetRoot, "textarea", "Message"))
	if err := chromedp.Do(tab, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "after a reload: no notice, the conversation", `window.HubSpotConversations && window.HubSpotConversations.widget.open()`,
		wopen+` && `+wlog+`.textContent.includes('Remember me') && (!`+notice+` || `+notice+`.hidden)`)

	// Declined: the token lives only as long as the page.
	tab2, cancel2 := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel2()
	if err := chromedp.Do(tab2, chromedp.Navigate(host.URL+"/true")); err != nil {
		t.Fatal(err)
	}
	step(t, tab2, "the notice (true)", ``, shown)
	step(t, tab2, "open", `window.HubSpotConversations.widget.open()`, wopen)
	actVisitorSay(t, tab2, "Forget me")
	if err := click(tab2, decline); err != nil {
		t.Fatal(err)
	}
	step(t, tab2, "declined: only the answer is stored", ``, `localStorage.length === 1 && localStorage.getItem('parley.cookies') === 'no' && sessionStorage.length === 0 && document.cookie === '' && `+notice+`.hidden`)
	actVisitorSay(t, tab2, "Still here on this page")
	step(t, tab2, "still no token", ``, `localStorage.getItem('parley.visitor') === null`)
	if err := chromedp.Do(tab2, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	step(t, tab2, "after a reload: a fresh chat, no notice", `window.HubSpotConversations && window.HubSpotConversations.widget.open()`,
		wopen+` && !`+wlog+`.textContent.includes('Forget me') && (!`+notice+` || `+notice+`.hidden)`)
	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{Limit: 10})
	if err != nil || len(ts) != 2 {
		t.Fatalf("threads=%d (%v), want 2: the declined visitor kept its conversation while on the page", len(ts), err)
	}

	// On exit intent, in German.
	tab3, cancel3 := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel3()
	if err := chromedp.Do(tab3, chromedp.Navigate(host.URL+"/exit")); err != nil {
		t.Fatal(err)
	}
	deNotice := widgetRoot + `.querySelector('section[aria-label="Cookie-Hinweis"]')`
	step(t, tab3, "loaded, no notice yet", ``, `window.HubSpotConversations.widget.status().loaded && !!`+widgetRoot+`.querySelector('.p') && `+deNotice+`.hidden`)
	step(t, tab3, "the pointer leaves the page", `document.dispatchEvent(new MouseEvent('mouseout', {clientX: 300, clientY: -2, relatedTarget: null, bubbles: true}))`,
		`!`+deNotice+`.hidden && `+deNotice+`.textContent.includes('Konversation') && `+deNotice+`.textContent.includes('Ihres Browsers') && `+
			byName(widgetRoot, "button", "Akzeptieren")+` !== null && `+byName(widgetRoot, "button", "Ablehnen")+` !== null && `+storageEmpty)
}

// TestBrowserWidgetNewThread: widget.refresh({openToNewThread: true}) opens
// the widget on an empty conversation; the next message starts a new thread
// for the same visitor, and later messages and a reload stay in it.
func TestBrowserWidgetNewThread(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, `{}`, ``)})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/")); err != nil {
		t.Fatal(err)
	}
	sdk := `window.HubSpotConversations`
	step(t, tab, "open", sdk+`.widget.open()`, wopen)
	actVisitorSay(t, tab, "About my first order")
	step(t, tab, "close", sdk+`.widget.close()`, `!`+wopen+` && `+hasEvent("conversationStarted", ""))
	step(t, tab, "refresh to a new thread opens it, empty", sdk+`.widget.refresh({openToNewThread: true})`,
		wopen+` && !`+wlog+`.textContent.includes('About my first order')`)
	actVisitorSay(t, tab, "About my second order")
	actVisitorSay(t, tab, "And one more thing")
	step(t, tab, "a second conversationStarted", ``, `(function(){ const ids = window.parleyEvents.filter(e => e.name === 'conversationStarted').map(e => e.payload.conversation.conversationId);
  return ids.length === 2 && ids[0] !== ids[1]; })()`)

	ctx := context.Background()
	ts, _, err := e.db.Threads(ctx, parley.ThreadFilter{Limit: 10})
	if err != nil || len(ts) != 2 || ts[0].ContactID != ts[1].ContactID {
		t.Fatalf("threads=%+v (%v), want 2 of one contact", ts, err)
	}
	texts := map[uint64][]string{}
	for _, th := range ts {
		msgs, _, err := e.db.Messages(ctx, th.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Type == parley.TypeMessage {
				texts[th.ID] = append(texts[th.ID], m.Text)
			}
		}
	}
	first, second := ts[0].ID, ts[1].ID
	if first > second {
		first, second = second, first
	}
	if got := strings.Join(texts[first], "|"); got != "About my first order" {
		t.Errorf("first thread=%q", got)
	}
	if got := strings.Join(texts[second], "|"); got != "About my second order|And one more thing" {
		t.Errorf("second thread=%q", got)
	}

	if err := chromedp.Do(tab, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "a reload shows the new conversation", `window.HubSpotConversations && window.HubSpotConversations.widget.open()`,
		wopen+` && `+wlog+`.textContent.includes('And one more thing') && !`+wlog+`.textContent.includes('About my first order')`)
}

// TestBrowserWidgetHostileSettings: a page passing odd types for every
// setting and odd arguments to every call gets the defaults, a warning
// naming each thing Parley ignored, and no exception.
func TestBrowserWidgetHostileSettings(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	const settings = `{
    get loadImmediately() { throw new Error('boom'); },
    inlineEmbedSelector: '##not a selector((',
    disableAttachment: 'yes',
    identificationEmail: { toString() { throw new Error('boom'); } },
    identificationToken: 42,
    avoidInlineStyles: 'please',
    enableWidgetCookieBanner: 'SOMETIMES',
    isFullscreen: true
  }`
	const watch = `<script>
  window.pageErrors = []; window.warnings = [];
  addEventListener('error', (e) => window.pageErrors.push(String(e.message)));
  addEventListener('unhandledrejection', (e) => window.pageErrors.push(String(e.reason)));
  const warn = console.warn;
  console.warn = (...a) => { window.warnings.push(a.join(' ')); warn.apply(console, a); };
</script>`
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, settings, watch)})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/")); err != nil {
		t.Fatal(err)
	}
	sdk := `window.HubSpotConversations`
	step(t, tab, "loaded as by default, with the launcher", ``, sdk+`.widget.status().loaded === true && `+sdk+`.widget.status().pending === false && `+byName(widgetRoot, "button", "Open chat")+` !== null && `+
		`getComputedStyle(`+widgetRoot+`.querySelector('.l')).display !== 'none'`)
	calls := `(function(){
  const w = ` + sdk + `.widget;
  w.load('x'); w.load({ widgetOpen: 'yes' }); w.refresh(5); w.refresh({ openToNewThread: 'sure' });
  ` + sdk + `.clear(null); ` + sdk + `.clear({ resetWidget: 1 });
  ` + sdk + `.on('userSelectedThread', 7); ` + sdk + `.on(null, null); ` + sdk + `.off(1, 2); ` + sdk + `.on('widgetClosed', 'not a function');
  w.status(); ` + sdk + `.resetAndReloadWidget();
  return true; })()`
	step(t, tab, "odd calls do not throw", calls, sdk+`.widget.status().loaded === true && !`+wopen)
	step(t, tab, "open", sdk+`.widget.open()`, wopen+` && `+byName(widgetRoot, "button", "Attach file")+` !== null && !`+widgetRoot+`.querySelector('section[aria-label="Cookie notice"]:not([hidden])')`)
	actVisitorSay(t, tab, "Hello from a hostile page")
	step(t, tab, "closing still fires widgetClosed", sdk+`.widget.close()`, `!`+wopen+` && `+hasEvent("widgetClosed", ""))
	for _, name := range []string{"inlineEmbedSelector", "disableAttachment", "identificationToken", "enableWidgetCookieBanner", "userSelectedThread", "isFullscreen"} {
		step(t, tab, "a warning names "+name, ``, `window.warnings.some(w => w.startsWith('Parley chat: ') && w.includes(`+jsString(name)+`))`)
	}
	if got, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`window.pageErrors`)); err != nil || len(got) != 0 {
		t.Fatalf("page errors=%q (%v), want none", got, err)
	}
	c, err := e.db.ContactByEmail(context.Background(), "[object Object]")
	if err == nil {
		t.Errorf("an odd identificationEmail reached the store: %+v", c)
	}
}
