package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley"
)

// Accessibility of every screen, checked by axe-core (package.json) in a
// real Chromium: the console's screens with real content, the sign-in and
// setup pages, and the widget on a customer's page, in English and German.
// docs/accessibility.md says what is checked and how to run it.

// axeTags are the rule sets axe runs: WCAG 2.0, 2.1 and 2.2 at levels A and
// AA, and axe's best practices.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// axeSource reads axe-core's browser build from the module's node_modules.
// A missing file fails the test, in CI and outside it: the check must
// never pass by not running.
func axeSource(t *testing.T) string {
	t.Helper()
	path := filepath.Join(moduleRoot(t), "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core is missing (%v); `npm ci` installs it (package.json)", err)
	}
	return string(b)
}

// axeViolation is what the test reports of one axe violation.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeCheck runs axe on the page in tab (axeRun) and fails the test with
// every violation: rule, impact, the elements' selectors (a shadow root's
// host first) and what to do, keeping a screenshot.
func axeCheck(t *testing.T, tab context.Context, src, screen string) {
	t.Helper()
	found := axeRun(t, tab, src, screen)
	for _, v := range found {
		t.Errorf("%s: %s (%s): %s\n\t%s", screen, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
	}
	if len(found) > 0 {
		actScreenshot(tab, "axe-"+strings.NewReplacer(" ", "-", "/", "-", ":", "", ",", "").Replace(screen)+".png")
	}
}

// axeRun runs axe on the page in tab, once nothing on it moves, and
// returns its violations. The source goes in through the DevTools protocol
// (Runtime.evaluate), which the console's CSP does not govern.
func axeRun(t *testing.T, tab context.Context, src, screen string) []axeViolation {
	t.Helper()
	loaded, err := chromedp.Run(tab, chromedp.Evaluate[bool](`typeof window.axe === 'object' && typeof window.axe.run === 'function'`))
	if err != nil {
		t.Fatalf("%s: %v", screen, err)
	}
	if !loaded {
		if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](src+"\n;typeof window.axe.run === 'function'")); err != nil || !ok {
			t.Fatalf("%s: load axe: ok=%v err=%v", screen, ok, err)
		}
	}
	// Transitions and animations end first: a colour halfway through a
	// fade is no colour anyone reads.
	still := `(() => { const all = [...document.getAnimations()];
  for (const el of document.querySelectorAll('*')) if (el.shadowRoot) all.push(...el.shadowRoot.getAnimations());
  return all.every(a => a.playState !== 'running'); })()`
	if err := waitJS(tab, still, liveWait); err != nil {
		t.Fatalf("%s: %v", screen, err)
	}
	tags, _ := json.Marshal(axeTags)
	js := `axe.run(document, { runOnly: { type: 'tag', values: ` + string(tags) + ` }, resultTypes: ['violations'] })
  .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact || '', help: v.help,
    targets: v.nodes.map(n => n.target.map(s => [].concat(s).join(' >>> ')).join(' ')) })))`
	found, err := chromedp.Run(tab, chromedp.Evaluate[[]axeViolation](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", screen, err)
	}
	return found
}

// axeFaultyPage is a page with faults axe must find, one of them inside an
// open shadow root as the widget's UI is: it shows that the check sees
// what it is meant to.
const axeFaultyPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faults</title></head>
<body><main><h1>Faults</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
<p style="color:#999;background:#fff">Grey on white.</p><div id="host"></div></main>
<script>document.getElementById('host').attachShadow({mode: 'open'}).innerHTML = '<button type="button"></button>';</script>
</body></html>`

// catalog reads locale/<lang>.json, so that the test waits for what the
// screens say in either language.
func catalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "locale", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// englishOnly are the texts of Parley's English catalogs (the console's
// and the widget's) that the German ones say otherwise: sentences and
// phrases of two words or more, without placeholders. A German screen
// showing one has English left in it.
func englishOnly(t *testing.T) []string {
	t.Helper()
	read := func(path string) map[string]string {
		b, err := os.ReadFile(filepath.Join(moduleRoot(t), "locale", path))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var out []string
	for _, pair := range [][2]string{{"en.json", "de.json"}, {"widget/en.json", "widget/de.json"}} {
		en, de := read(pair[0]), read(pair[1])
		for k, v := range en {
			if de[k] != v && len(v) >= 10 && strings.Contains(v, " ") && !strings.Contains(v, "{") {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// noEnglish fails the test if the screen in tab, a German one, shows any of
// english: in the page, the widget's shadow root, or a frame's (the
// widget editor's preview).
func noEnglish(t *testing.T, tab context.Context, english []string, screen string) {
	t.Helper()
	words, _ := json.Marshal(english)
	found, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`(() => {
  const docs = [document, ...[...document.querySelectorAll('iframe')].map(f => { try { return f.contentDocument; } catch (e) { return null; } }).filter(Boolean)];
  const text = docs.map(d => (d.body ? d.body.innerText : '') + '\n' + (d.querySelector('#parley-chat')?.shadowRoot?.textContent || '')).join('\n');
  return `+string(words)+`.filter(w => text.includes(w)); })()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("%s: English on a German screen: %q", screen, found)
	}
}

// axeHostPage is a customer's page in lang with the landmarks a site has
// (banner, navigation, main, contentinfo), so that the widget must add none
// of its own, and the SDK's event log of sdkPage.
func axeHostPage(lang, text string) string {
	page := sdkPage(`lang="`+lang+`"`, `{}`, `<p>`+text+`</p>`)
	page = strings.Replace(page, "<body><main>", `<body><header><a href="/">Acme</a></header><nav aria-label="Acme"><a href="/pricing">Pricing</a></nav><main>`, 1)
	return strings.Replace(page, "</main>", "</main><footer><p>Acme Inc.</p></footer>", 1)
}

// TestBrowserAccessibility runs axe (WCAG 2.x A and AA, and best
// practices) over every screen with content on it, in English and German:
// the widget on a customer's page (open, with messages and the email form),
// the sign-in and setup pages, the inbox with conversations, a chat and an
// email conversation, the forward dialog, a contact's page, each settings
// section, each step of the widget editor and the bot editor. One Parley,
// one browser, the screens in turn; every violation is listed.
func TestBrowserAccessibility(t *testing.T) {
	src := axeSource(t)
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{
		"/en":     axeHostPage("en", "Prices, plans and help."),
		"/de":     axeHostPage("de", "Preise, Tarife und Hilfe."),
		"/faults": axeFaultyPage,
	})

	// The check finds what it should, in the page and in a shadow root.
	t.Run("faults found", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(browser)
		defer cancel()
		if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/faults")); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tab, `!!document.getElementById('host').shadowRoot`, liveWait); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, v := range axeRun(t, tab, src, "faults") {
			got[v.ID] = strings.Join(v.Targets, " ")
		}
		want := map[string]string{"image-alt": "img", "color-contrast": "p", "button-name": "#host >>> button"}
		for id, target := range want {
			if got[id] != target {
				t.Errorf("axe found %s at %q, want at %q (all: %v)", id, got[id], target, got)
			}
		}
	})
	ctx := context.Background()

	// What the screens show: a team, an agent and an invitation, a contact
	// list, a bot, an email template, a webhook subscriber, an email
	// conversation.
	mustCall := func(method, path string, body any, want int) []byte {
		t.Helper()
		st, b := e.call(method, path, body)
		if st != want {
			t.Fatalf("%s %s: %d %s", method, path, st, b)
		}
		return b
	}
	mustCall("POST", "/api/v1/teams", map[string]any{"name": "Night shift", "memberIds": []string{}}, 201)
	var invite struct{ URL string }
	if err := json.Unmarshal(mustCall("POST", "/api/v1/invites", map[string]any{"email": "cleo@example.com", "inboxIds": []string{"1"}}, 201), &invite); err != nil {
		t.Fatal(err)
	}
	token := invite.URL[strings.Index(invite.URL, "token=")+len("token="):]
	// Accepted in a client of its own: it signs Cleo in.
	cleo := &widgetEnv{t: t, base: e.base, api: &http.Client{Timeout: 10 * time.Second}}
	if st, b := cleo.call("POST", "/api/v1/invites/accept", map[string]string{"token": token, "name": "Cleo Agent", "password": actPassword}); st != 201 {
		t.Fatalf("accept: %d %s", st, b)
	}
	mustCall("POST", "/api/v1/invites", map[string]any{"email": "bea@example.com", "inboxIds": []string{"1"}}, 201)
	mustCall("POST", "/api/v1/lists", map[string]any{"name": "Acme staff", "match": "all",
		"criteria": []any{map[string]any{"property": "emailDomain", "op": "is", "value": "acme.example"}}}, 201)
	mustCall("PUT", fmt.Sprintf("/api/v1/widgets/%d/bot", e.widget.ID), json.RawMessage(`{"enabled":false,"name":"Acme Bot","steps":[
		{"id":"hi","kind":"message","text":"Hi! I'm the Acme bot."},
		{"id":"need","kind":"question","text":"What do you need?","options":["Sales","Support"],"property":"need"},
		{"id":"team","kind":"handoff","to":"routing","text":"Connecting you with a teammate."}]}`), 200)
	mustCall("POST", "/api/v1/templates", map[string]string{"name": "Order follow-up", "subject": "Your order", "body": "Your order is on its way."}, 201)
	mustCall("POST", "/api/v1/snippets", map[string]string{"name": "Thanks", "shortcut": "thanks", "body": "Thanks for your patience."}, 201)
	// In the store: the API would look the subscriber's host up.
	if err := e.db.PutWebhookSettings(ctx, &parley.WebhookSettings{AppID: 12, TargetURL: "https://hooks.acme.example/parley",
		Secret: "a-secret-of-the-subscriber-0123456789", Throttling: parley.WebhookThrottling{MaxConcurrentRequests: 5, Period: "SECONDLY"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 12, EventType: "conversation.creation", Active: true}); err != nil {
		t.Fatal(err)
	}
	supportMail(t, e.base, e.app)("From: Ann <ann@customer.example>\r\nTo: support@parley.test\r\nSubject: Parcel\r\n" +
		"Message-ID: <p1@customer.example>\r\n\r\nWhere is my parcel?\r\n")
	threads, _, err := e.db.Threads(ctx, parley.ThreadFilter{Limit: 10})
	if err != nil || len(threads) != 1 {
		t.Fatalf("threads: %d (%v), want the email", len(threads), err)
	}
	emailThread := fmt.Sprint(threads[0].ID)

	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			msg := catalog(t, lang)
			english := englishOnly(t)
			// A German screen is checked for English left in it too.
			check := func(tab context.Context, screen string) {
				t.Helper()
				axeCheck(t, tab, src, lang+" "+screen)
				if lang == "de" {
					noEnglish(t, tab, english, screen)
				}
			}
			ua, err := chromedp.Run(browser, chromedp.Evaluate[string](`navigator.userAgent`))
			if err != nil {
				t.Fatal(err)
			}

			// The widget on the customer's page, in the page's language.
			visitor, cancelV := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancelV()
			if err := chromedp.Do(visitor, chromedp.Navigate(host.URL+"/"+lang)); err != nil {
				t.Fatal(err)
			}
			launcher := `(` + widgetRoot + ` && ` + widgetRoot + `.querySelector('button'))`
			step(t, visitor, "widget closed", ``, `!!document.querySelector("body > header") && !!`+launcher+` && !`+wopen)
			check(visitor, "widget closed")
			box := widgetRoot + `.querySelector('.p textarea')`
			step(t, visitor, "widget open", `location.hash = '#hs-chat-open'`, wopen+` && !!`+box)
			check(visitor, "widget open")
			text := "Where is my order? " + lang
			if err := typeInto(visitor, box, text); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(visitor, chromedp.KeyEvent(kb.Enter)); err != nil {
				t.Fatal(err)
			}
			step(t, visitor, "conversation started", ``, hasEvent("conversationStarted", `typeof p.conversation.conversationId === 'number'`))
			id, err := chromedp.Run(visitor, chromedp.Evaluate[float64](`window.parleyEvents.find(e => e.name === 'conversationStarted').payload.conversation.conversationId`))
			if err != nil {
				t.Fatal(err)
			}
			chat := fmt.Sprint(int64(id))
			reply := "It left our warehouse today. " + lang
			mustCall("POST", "/conversations/v3/conversations/threads/"+chat+"/messages", map[string]string{"type": "MESSAGE", "text": reply}, 201)
			step(t, visitor, "messages and the email form", ``, wlog+`.textContent.includes(`+jsString(reply)+`) && `+wlog+`.querySelector('form input[type=email]') !== null`)
			check(visitor, "widget with messages and the email form")
			var th struct{ AssociatedContactID string }
			if err := json.Unmarshal(mustCall("GET", "/conversations/v3/conversations/threads/"+chat, nil, 200), &th); err != nil {
				t.Fatal(err)
			}
			mustCall("POST", "/api/v1/contacts/"+th.AssociatedContactID+"/records", map[string]any{"kind": "ticket", "name": "Lost parcel", "threadId": chat}, 201)
			mustCall("POST", "/api/v1/contacts/"+th.AssociatedContactID+"/engagements", map[string]any{"kind": "note", "body": "Called back about the parcel."}, 201)

			// The console, in the browser's language.
			tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			defer cancel()
			if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang}); err != nil {
				t.Fatal(err)
			}
			visit := func(screen, path, ready string) {
				t.Helper()
				if path != "" {
					if err := chromedp.Do(tab, chromedp.Navigate(e.base+path)); err != nil {
						t.Fatal(err)
					}
				}
				if err := waitJS(tab, ready, liveWait); err != nil {
					actScreenshot(tab, "axe-"+lang+"-not-ready.png")
					t.Fatalf("%s: %v", screen, err)
				}
				check(tab, screen)
				// One kind of on/off control: a lone checkbox is a switch;
				// checkboxes are for choices among several (in a group).
				lone, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[type=checkbox]:not([role=switch])')].filter(el => !el.closest('.check-list, table')).map(el => (el.labels && el.labels[0] ? el.labels[0].textContent : el.outerHTML).trim())`))
				if err != nil {
					t.Fatal(err)
				}
				if len(lone) > 0 {
					t.Errorf("%s %s: on/off checkboxes that are not switches: %q", lang, screen, lone)
				}
			}
			visit("sign-in", "/", `document.documentElement.lang === `+jsString(lang)+` && !!document.querySelector('form.signin-form input[type=password]')`)
			// This Parley's admin came from the environment: a setup link
			// is the page that says it no longer works.
			visit("setup link used", "/setup?token=x", `document.documentElement.lang === `+jsString(lang)+` && !!document.querySelector('h1') && !document.querySelector('form')`)
			if st, body := actFetch(t, tab, "POST", "/api/v1/session", `{"email":"admin@example.com","password":`+jsString(actPassword)+`}`); st != 200 {
				t.Fatalf("sign in: %d %s", st, body)
			}
			// notLoading: no part of the page says it is loading (the
			// catalog's *.loading texts).
			var loading []string
			for k, v := range msg {
				if strings.HasSuffix(k, ".loading") {
					loading = append(loading, v)
				}
			}
			loadingJSON, _ := json.Marshal(loading)
			notLoading := `!` + string(loadingJSON) + `.some(s => document.body.innerText.includes(s))`
			visit("inbox", "/", `document.querySelectorAll('a.thread-row').length >= 2 && `+notLoading)
			if err := click(tab, `document.querySelector('button.me')`); err != nil {
				t.Fatal(err)
			}
			visit("inbox, profile menu open", "", `!document.querySelector('.profile-menu').hidden`)
			if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
				t.Fatal(err)
			}
			// The tools in the sidebar, each a dialog.
			tools := `[...document.querySelectorAll('nav.nav [role=group]')].at(-1).querySelectorAll('button')`
			for i, name := range []string{"trash", "snippets", "knowledge links", "notification settings", "signature"} {
				// A click by script: a notification toast may cover the button.
				if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(`%s[%d].click(), true`, tools, i))); err != nil {
					t.Fatal(err)
				}
				visit(name+" dialog", "", `!!document.querySelector('dialog[open]') && `+notLoading)
				if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
					t.Fatal(err)
				}
				if err := waitJS(tab, `!document.querySelector('dialog[open]')`, liveWait); err != nil {
					t.Fatalf("%s dialog: %v", name, err)
				}
			}
			log := `document.querySelector('main [role=log]')`
			visit("chat conversation", "/threads/"+chat, `!!`+log+` && `+log+`.textContent.includes(`+jsString(reply)+`) && `+notLoading)
			// The snippet picker open under the reply box.
			if err := typeInto(tab, `document.querySelector('.conv-pane textarea')`, "#tha"); err != nil {
				t.Fatal(err)
			}
			visit("chat conversation, snippet picker", "", `!![...document.querySelectorAll('[role=listbox]')].find(l => !l.hidden && l.querySelector('[aria-selected=true]'))`)
			if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
				t.Fatal(err)
			}
			visit("email conversation", "/threads/"+emailThread, `!!`+log+` && `+log+`.textContent.includes('Where is my parcel?') && `+notLoading)
			if err := click(tab, `document.querySelector('.conv-pane button.more-btn')`); err != nil {
				t.Fatal(err)
			}
			visit("email conversation, More actions open", "", `!document.querySelector('.more-menu').hidden`)
			if err := click(tab, `document.querySelector('.more-menu button[aria-haspopup=dialog]')`); err != nil {
				t.Fatal(err)
			}
			visit("forward dialog", "", `!!document.querySelector('dialog[open]')`)
			if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
				t.Fatal(err)
			}
			visit("contact page", "/contacts/"+th.AssociatedContactID, `document.body.textContent.includes('Lost parcel') && document.body.textContent.includes('Called back about the parcel.')`)
			if err := click(tab, `document.querySelector('button.cp-erase')`); err != nil {
				t.Fatal(err)
			}
			visit("erase contact dialog", "", `!!document.querySelector('dialog[open] input') && document.querySelector('dialog[open]').textContent.includes(`+jsString(msg["ct.eraseForGood"])+`)`)
			if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
				t.Fatal(err)
			}
			if err := waitJS(tab, `!document.querySelector('dialog[open]')`, liveWait); err != nil {
				t.Fatalf("erase contact dialog: %v", err)
			}
			sections := []struct{ name, shows string }{
				{"users", "bea@example.com"},
				{"teams", "Night shift"},
				{"inboxes", "Support"},
				{"chat", msg["settings.chat"]},
				{"lists", "Acme staff"},
				{"bots", "What do you need?"},
				{"templates", "Order follow-up"},
				{"webhooks", "https://hooks.acme.example/parley"},
				{"audit", msg["audit.a.bot_update"]},
			}
			for _, s := range sections {
				visit("settings "+s.name, "/settings/"+s.name, `!!document.querySelector('.settings-h2') && document.body.innerText.includes(`+jsString(s.shows)+`) && `+notLoading)
				// Every card open (teams, inboxes, lists, subscribers).
				if n, err := chromedp.Run(tab, chromedp.Evaluate[int](`[...document.querySelectorAll('.settings-main details')].map(d => d.open = true).length`)); err != nil {
					t.Fatal(err)
				} else if n > 0 {
					visit(fmt.Sprintf("settings %s, %d cards open", s.name, n), "", notLoading)
				}
			}
			// The chat section's other tab.
			if err := chromedp.Do(tab, chromedp.Navigate(e.base+"/settings/chat")); err != nil {
				t.Fatal(err)
			}
			codeTab := byName("document", "[role=tab]", msg["wg.tabCode"])
			if err := waitJS(tab, codeTab+` !== null`, liveWait); err != nil {
				t.Fatal(err)
			}
			if err := click(tab, codeTab); err != nil {
				t.Fatal(err)
			}
			visit("settings chat, tracking code", "", `!!document.querySelector('.wg-code')`)
			visit("widget editor step 1", "/settings/chat/new", `!!document.querySelector('.wz-legend')`)
			for n := 2; ; n++ {
				next := `document.querySelector('[data-fk=wz-next]')`
				if ok, _ := chromedp.Run(tab, chromedp.Evaluate[bool](`!!`+next)); !ok {
					if n != 9 {
						t.Errorf("the widget editor has %d steps, want 8", n-1)
					}
					break
				}
				legend, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('.wz-legend').textContent`))
				if legend == msg["wz.step.targeting"] {
					// A rule, so that the step shows one.
					if err := click(tab, byName("document", "button", msg["wz.tg.addUrl"])); err != nil {
						t.Fatal(err)
					}
					visit("widget editor targeting with a rule", "", `!!document.querySelector('.wz-rule input')`)
				}
				if err := click(tab, next); err != nil {
					t.Fatal(err)
				}
				visit(fmt.Sprintf("widget editor step %d", n), "", `document.querySelector('.wz-legend')?.textContent !== `+jsString(legend))
			}
		})
	}
}
