package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWidgetWizard: an admin creates a chat widget through the
// step-by-step editor for one path of a customer's site, with an accent
// colour that the live preview shows; publishes it; the customer's page on
// that path gets it, in that colour. Back in the list the admin switches it
// off and on with its switch, and copies the tracking code.
func TestBrowserWidgetWizard(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	start := time.Now()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			actScreenshot(tab, "widget-wizard-failed.png")
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		must(what, waitJS(tab, expr, 10*time.Second))
	}
	eval := func(what, expr string) {
		t.Helper()
		_, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](expr))
		must(what, err)
	}
	doc := "document"
	button := func(name string) string { return byName(doc, "button", name) }
	next := func(step string) {
		t.Helper()
		must("next", click(tab, button("Next")))
		wait("step "+step, `document.querySelector('.wz-legend')?.textContent === `+jsString(step))
	}

	// Sign in and open Settings → Chat by its deep link.
	actSignIn(t, tab, base, "admin@example.com")
	must("open chat settings", chromedp.Do(tab, chromedp.Navigate(base+"/settings/chat")))
	wait("widget list", button("Create widget")+` !== null && document.querySelectorAll('.wg-table tbody tr').length === 1`)
	must("create", click(tab, button("Create widget")))
	wait("editor", `location.pathname === '/settings/chat/new' && document.querySelector('.wz-legend')?.textContent === 'Audience'`)

	// Audience: everyone. Targeting: the pricing page of the host site.
	next("Targeting")
	must("add rule", click(tab, button("Add URL rule")))
	wait("rule row", byName(doc, "input", "Rule 1: URL")+` !== null`)
	eval("operator", `(() => { const s = `+byName(doc, "select", "Rule 1: operator")+`; s.value = 'startsWith'; s.dispatchEvent(new Event('change')); })()`)
	must("rule value", typeInto(tab, byName(doc, "input", "Rule 1: URL"), host.URL+"/pricing"))
	actScreenshot(tab, "widget-targeting.png")
	next("Message")
	// The preview is the widget itself (the bundle visitors get, in a
	// frame): open, with the default heading and welcome, then the
	// welcome as typed.
	pv := `(document.querySelector('.wzp-frame')?.contentDocument?.querySelector('#parley-chat')?.shadowRoot)`
	pvLog := pv + `?.querySelector('[role=log]')`
	wait("preview: the real widget, open", `!!`+pv+` && !`+pv+`.querySelector('.p').hidden && `+pv+`.querySelector('h2').textContent === 'Chat with us' && `+
		pvLog+`.textContent.includes('Hi! How can we help?') && !!`+byName(pv, "textarea", "Message"))
	must("welcome", typeInto(tab, byName(doc, "textarea", "Welcome message"), "Welcome to Acme pricing"))
	wait("preview welcome", pvLog+`?.textContent.includes('Welcome to Acme pricing') && !`+pvLog+`.textContent.includes('Hi! How can we help?')`)
	next("Routing")
	next("Availability")
	next("Appearance")

	// A teal accent colour in the hex box: the preview's launcher takes it,
	// and the contrast note says white text is readable on it.
	hex := byName(doc, "input", "Accent colour as #rrggbb")
	eval("select hex", hex+`.select()`)
	must("type colour", chromedp.Do(tab, chromedp.KeyEvent("#0f766e")))
	launcher := `getComputedStyle(` + pv + `.querySelector('button.l')).backgroundColor`
	wait("preview colour", launcher+` === 'rgb(15, 118, 110)'`)
	wait("contrast note", `document.querySelector('.wz-contrast').textContent.includes('readable')`)
	must("launcher label", typeInto(tab, byName(doc, "input", "Launcher label"), "Ask us"))
	wait("preview label", pv+`.querySelector('.lb').textContent === 'Ask us'`)
	// A yellow accent would be hard to read: the editor warns at once.
	eval("select hex", hex+`.select()`)
	must("type yellow", chromedp.Do(tab, chromedp.KeyEvent("#facc15")))
	wait("contrast warning", `document.querySelector('.wz-contrast.is-bad')?.textContent.includes('below the 4.5:1')`)
	eval("select hex", hex+`.select()`)
	must("type colour", chromedp.Do(tab, chromedp.KeyEvent("#0f766e")))
	wait("preview colour again", launcher+` === 'rgb(15, 118, 110)'`)
	next("Options")
	next("Review and publish")
	must("name", typeInto(tab, byName(doc, "input", "Widget name"), "Pricing chat"))
	actScreenshot(tab, "widget-wizard.png")
	must("publish", click(tab, button("Publish")))

	// Back in the list, in matching order: the pricing widget is more
	// specific than the default all-pages widget, so it ranks first.
	row := `[...document.querySelectorAll('.wg-table tbody tr')].find(r => r.textContent.includes('Pricing chat'))`
	wait("listed", `location.pathname === '/settings/chat' && !!`+row)
	wait("ranked first", row+`.querySelector('.wg-rank-n').textContent === '1'`)
	var list struct {
		Results []struct {
			ID, Name   string
			Enabled    bool
			Appearance struct{ AccentColor string }
			Targeting  struct {
				Rules []struct{ Kind, Op, Value string }
			}
		}
	}
	widgetsJSON := func() {
		t.Helper()
		status, body := actFetch(t, tab, "GET", "/api/v1/widgets", "")
		if status != 200 {
			t.Fatalf("GET widgets: %d %s", status, body)
		}
		must("decode", json.Unmarshal([]byte(body), &list))
	}
	widgetsJSON()
	if len(list.Results) != 2 {
		t.Fatalf("widgets=%+v", list.Results)
	}
	w := list.Results[1]
	if w.Name != "Pricing chat" || !w.Enabled || w.Appearance.AccentColor != "#0f766e" || len(w.Targeting.Rules) != 1 ||
		w.Targeting.Rules[0].Op != "startsWith" || w.Targeting.Rules[0].Value != host.URL+"/pricing" {
		t.Fatalf("created widget %+v", w)
	}

	// The customer's pricing page gets it, in its colour; the home page the
	// default widget.
	boot := func(page string) string {
		t.Helper()
		status, body := actFetch(t, tab, "GET", "/widget/v1/boot?url="+url.QueryEscape(page), "")
		var b struct{ Widget *struct{ ID string } }
		if status != 200 || json.Unmarshal([]byte(body), &b) != nil {
			t.Fatalf("boot %s: %d %s", page, status, body)
		}
		if b.Widget == nil {
			return ""
		}
		return b.Widget.ID
	}
	if got := boot(host.URL + "/pricing/plans"); got != w.ID {
		t.Fatalf("pricing page got widget %q, want %q", got, w.ID)
	}
	if got := boot(host.URL + "/"); got == w.ID || got == "" {
		t.Fatalf("home page got widget %q", got)
	}
	visitor, cancelV := chromedp.NewContext(browser)
	defer cancelV()
	must("host page", chromedp.Do(visitor, chromedp.Navigate(host.URL+"/pricing")))
	must("launcher in colour", waitJS(visitor, `(() => { const b = `+byName(widgetRoot, "button", "Open chat")+`; return !!b && getComputedStyle(b).backgroundColor === 'rgb(15, 118, 110)'; })()`, 10*time.Second))

	actScreenshot(tab, "widget-list.png")

	// Off and on with the switch.
	sw := row + `.querySelector('[role=switch]')`
	wait("switch on", sw+`.getAttribute('aria-checked') === 'true'`)
	enabled := func(want bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			widgetsJSON()
			if list.Results[1].Enabled == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("enabled=%v, want %v", list.Results[1].Enabled, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	must("switch off", click(tab, sw))
	wait("switched off", sw+`.getAttribute('aria-checked') === 'false'`)
	enabled(false)
	if got := boot(host.URL + "/pricing"); got == w.ID {
		t.Fatal("a switched-off widget still boots")
	}
	must("switch on", click(tab, sw))
	wait("switched on", sw+`.getAttribute('aria-checked') === 'true'`)
	enabled(true)

	// The tracking code, copied.
	must("code tab", click(tab, byName(doc, "button", "Tracking code")))
	wait("snippet", `(document.querySelector('.wg-code')?.value ?? '') === `+jsString(fmt.Sprintf(`<script async src="%s/embed.js"></script>`, base)))
	must("copy", click(tab, button("Copy")))
	wait("copied", `document.querySelector('.wg-panel [role=status]').textContent === 'Copied'`)
	actScreenshot(tab, "widget-code.png")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the test took %s; keep it under 30 s", d)
	}
}

// TestBrowserContactLists: an admin saves a contact list in Settings →
// Lists, makes it the default widget's audience in the editor, and cannot
// delete it while it is in use: the refusal names the widget.
func TestBrowserContactLists(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			actScreenshot(tab, "lists-failed.png")
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		must(what, waitJS(tab, expr, 10*time.Second))
	}
	eval := func(what, expr string) {
		t.Helper()
		_, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](expr))
		must(what, err)
	}
	doc := "document"
	pick := func(sel, value string) string {
		return `(() => { const s = ` + sel + `; s.value = ` + jsString(value) + `; s.dispatchEvent(new Event('change')); })()`
	}

	actSignIn(t, tab, base, "admin@example.com")
	must("lists", chromedp.Do(tab, chromedp.Navigate(base+"/settings/lists")))
	wait("new list form", byName(doc, "input", "List name")+` !== null`)
	must("name", typeInto(tab, byName(doc, "input", "List name"), "VIP customers"))
	eval("property", pick(byName(doc, "select", "Criterion 1: property"), "emailDomain"))
	must("value", typeInto(tab, byName(doc, "input", "Criterion 1: value"), "vip.example"))
	must("add", click(tab, byName(doc, "button", "Add criterion")))
	wait("second row", byName(doc, "select", "Criterion 2: property")+` !== null`)
	eval("custom property", pick(byName(doc, "select", "Criterion 2: property"), "custom"))
	wait("custom name box", byName(doc, "input", "Criterion 2: custom property name")+` !== null`)
	must("custom name", typeInto(tab, byName(doc, "input", "Criterion 2: custom property name"), "plan"))
	eval("known", pick(byName(doc, "select", "Criterion 2: operator"), "isKnown"))
	eval("any", byName(doc, "input", "Any criterion")+`.click()`)
	must("create", click(tab, byName(doc, "button", "Create list")))
	card := `[...document.querySelectorAll('details.group-card')].find(d => d.textContent.includes('VIP customers'))`
	wait("list saved", `!!`+card+` && `+card+`.querySelector('summary').textContent.includes('any of 2 criteria')`)
	status, body := actFetch(t, tab, "GET", "/api/v1/lists", "")
	var lists struct {
		Results []struct {
			ID, Match string
			Criteria  []struct{ Property, Op, Value string }
		}
	}
	if status != 200 || json.Unmarshal([]byte(body), &lists) != nil || len(lists.Results) != 1 || lists.Results[0].Match != "any" ||
		len(lists.Results[0].Criteria) != 2 || lists.Results[0].Criteria[1] != (struct{ Property, Op, Value string }{"plan", "isKnown", ""}) {
		t.Fatalf("lists: %d %s", status, body)
	}

	// The default widget's audience becomes that list, in the editor.
	must("chat", click(tab, byName(doc, "a", "Chat")))
	wait("widget list", `document.querySelectorAll('.wg-table tbody tr').length === 1`)
	must("edit", click(tab, byName(doc, "button", "Edit widget Website chat")))
	wait("editor", `document.querySelector('.wz-legend')?.textContent === 'Audience'`)
	eval("members of a list", byName(doc, "input", "Members of a list")+`.click()`)
	wait("list picker", byName(doc, "select", "Members of a list")+` !== null`)
	eval("pick list", pick(byName(doc, "select", "Members of a list"), lists.Results[0].ID))
	must("review", click(tab, byName(doc, "button", "8Review and publish")))
	wait("review step", `document.querySelector('.wz-legend')?.textContent === 'Review and publish'`)
	wait("summary", `document.querySelector('.wz-summary').textContent.includes('Members of a list: VIP customers')`)
	must("save", click(tab, byName(doc, "button", "Save and publish")))
	wait("saved", `location.pathname === '/settings/chat' && document.querySelector('.wg-table tbody tr').textContent.includes('Members of VIP customers')`)

	// In use: deleting it is refused, naming the widget.
	must("lists again", click(tab, byName(doc, "a", "Lists")))
	wait("card", `!!`+card+` && `+card+`.querySelector('summary').textContent.includes('audience of Website chat')`)
	must("open card", click(tab, card+`.querySelector('summary')`))
	must("delete", click(tab, byName(doc, "button", "Delete list VIP customers")))
	wait("confirm dialog", `!!document.querySelector('dialog[open]')`)
	must("confirm", click(tab, `document.querySelector('dialog[open] .btn-danger')`))
	wait("refused", `(document.querySelector('dialog[open] [role=alert]')?.textContent ?? '').includes('widget "Website chat"')`)
	actScreenshot(tab, "lists.png")
}
