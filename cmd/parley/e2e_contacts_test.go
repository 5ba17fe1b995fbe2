package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser tests of the contact sidebar and the contact page (FEATURES I8, R5).

// crmFetch runs a same-origin API call in a signed-in console tab and
// returns the status and the decoded JSON answer.
func crmFetch(t *testing.T, tab context.Context, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b := ""
	if body != nil {
		j, _ := json.Marshal(body)
		b = string(j)
	}
	js := fmt.Sprintf(`(async () => {
  const init = { method: %q, headers: { 'Content-Type': 'application/json' } };
  if (%q) init.body = %q;
  const r = await fetch(%q, init);
  return [String(r.status), await r.text()];
})()`, method, b, b, path)
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	if err != nil || len(out) != 2 {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var status int
	fmt.Sscan(out[0], &status)
	var m map[string]any
	_ = json.Unmarshal([]byte(out[1]), &m)
	return status, m
}

// crmShot saves a PNG of tab under testdata/artifacts.
func crmShot(tab context.Context, name string) {
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	dir := filepath.Join("..", "..", "testdata", "artifacts")
	if os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, name), shot, 0o644)
	}
}

// crmSignIn signs the admin in to the console in tab and waits for the list.
func crmSignIn(t *testing.T, tab context.Context, base string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, byName("document", "input", "Email")+" !== null", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Email"), "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Password"), "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Sign in")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, `!!document.querySelector('.list-pane')`, 10*time.Second); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// noDialogs fails the test if tab ever opens a JavaScript dialog (an
// injected alert(1) that ran).
func noDialogs(t *testing.T, tab context.Context) *atomic.Int32 {
	var n atomic.Int32
	dialogs := chromedp.Events(tab, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &n
}

const (
	side      = `document.querySelector('aside.contact-side')`
	sideText  = `(document.querySelector('aside.contact-side') || {textContent: ''}).textContent`
	convLog   = `document.querySelector('main [role=log]')`
	xssName   = `<img src=x onerror=alert(1)>`
	ticketNam = "Refund order 1234"
)

// TestBrowserContactSidebar: an agent opens a chat, sees its contact beside
// it (a name made of markup shows as text), creates a ticket from the
// sidebar and sees it listed on the conversation and recorded in it; a deal
// made elsewhere appears live; the name opens the contact page; removing
// the contact from the chat gives it a fresh anonymous contact while the
// visitor keeps writing into it; a narrow window puts the sidebar below the
// conversation.
func TestBrowserContactSidebar(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")

	// The visitor starts a chat.
	visitor, cancelV := chromedp.NewContext(browser)
	defer cancelV()
	if err := chromedp.Do(visitor, chromedp.Navigate(host.URL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	say := func(text string) {
		t.Helper()
		box := byName(widgetRoot, "textarea", "Message")
		if err := waitJS(visitor, box+" !== null", 10*time.Second); err != nil {
			t.Fatalf("the chat did not open: %v", err)
		}
		if err := typeInto(visitor, box, text); err != nil {
			t.Fatal(err)
		}
		if err := click(visitor, byName(widgetRoot, "button", "Send")); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(visitor, widgetRoot+`.querySelector('[role=log]').textContent.includes(`+jsString(text)+`) && !`+widgetRoot+`.querySelector('.pe')`, 10*time.Second); err != nil {
			t.Fatalf("the visitor's message was not sent: %v", err)
		}
	}
	say("I was charged twice")

	// The agent signs in; the contact gets a name made of markup.
	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	dialogs := noDialogs(t, agent)
	crmSignIn(t, agent, base)
	st, list := crmFetch(t, agent, "GET", "/conversations/v3/conversations/threads?limit=10", nil)
	results, _ := list["results"].([]any)
	if st != 200 || len(results) != 1 {
		t.Fatalf("threads: %d %v", st, list)
	}
	thread := results[0].(map[string]any)
	threadID, contactID := thread["id"].(string), thread["associatedContactId"].(string)
	if st, _ := crmFetch(t, agent, "PATCH", "/api/v1/contacts/"+contactID, map[string]any{"firstName": xssName}); st != 200 {
		t.Fatalf("name the contact: %d", st)
	}
	row := `[...document.querySelectorAll('a.thread-row')].find(a => a.textContent.includes('I was charged twice'))`
	if err := waitJS(agent, "!!"+row, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, row); err != nil {
		t.Fatal(err)
	}

	// The sidebar shows the contact, its name as text.
	nameLink := side + `.querySelector('.cv-name a')`
	if err := waitJS(agent, nameLink+` && `+nameLink+`.textContent === `+jsString(xssName), 10*time.Second); err != nil {
		t.Fatalf("the sidebar does not show the contact's name as text: %v", err)
	}
	if n, err := chromedp.Run(agent, chromedp.Evaluate[int](`document.querySelectorAll('#app img').length`)); err != nil || n != 0 {
		t.Fatalf("the name's markup was parsed: %d img elements (%v)", n, err)
	}
	// The conversation's header and the list row show it as text too.
	if err := waitJS(agent, `document.querySelector('.conv-name').textContent === `+jsString(xssName)+` && `+row+`.textContent.includes(`+jsString(xssName)+`)`, 5*time.Second); err != nil {
		t.Fatalf("header or row: %v", err)
	}

	// Create a ticket from the sidebar, with the keyboard for the name.
	if err := click(agent, byName(side, "button", "Create ticket")); err != nil {
		t.Fatal(err)
	}
	nameBox := byName(side, "input", "Name")
	if err := waitJS(agent, nameBox+` === document.activeElement`, 5*time.Second); err != nil {
		t.Fatalf("the form did not take focus: %v", err)
	}
	if err := typeInto(agent, nameBox, ticketNam); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, side+`.querySelector('form.cv-form button[type=submit]')`); err != nil {
		t.Fatal(err)
	}
	ticketOnThread := side + `.querySelector('.cv-record-name') && ` + side + `.querySelector('.cv-record-name').textContent === ` + jsString(ticketNam)
	if err := waitJS(agent, ticketOnThread, 5*time.Second); err != nil {
		t.Fatalf("the ticket is not listed on the thread: %v", err)
	}
	if err := waitJS(agent, convLog+`.textContent.includes(`+jsString("ticket: "+ticketNam)+`)`, 5*time.Second); err != nil {
		t.Fatalf("the ticket is not recorded in the conversation: %v", err)
	}
	st, recs := crmFetch(t, agent, "GET", "/api/v1/threads/"+threadID+"/records", nil)
	if rs, _ := recs["results"].([]any); st != 200 || len(rs) != 1 || rs[0].(map[string]any)["stage"] != "new" || rs[0].(map[string]any)["ownerId"] != "1" {
		t.Fatalf("thread records: %d %v", st, recs)
	}
	crmShot(agent, "contact-sidebar.png")

	// A deal made elsewhere (another console, a script) shows up live.
	other, cancelO := chromedp.NewContext(browser)
	defer cancelO()
	if err := chromedp.Do(other, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(other, sideText+`.includes(`+jsString(ticketNam)+`)`, 10*time.Second); err != nil {
		t.Fatalf("second console: %v", err)
	}
	// The first agent is typing in a form meanwhile: the live update keeps it.
	if err := click(agent, byName(side, "button", "Log activity")); err != nil {
		t.Fatal(err)
	}
	draft := byName(side, "textarea", "What happened")
	if err := waitJS(agent, byName(side, "select", "Type")+` === document.activeElement && `+draft+` !== null`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, draft, "Half typed"); err != nil {
		t.Fatal(err)
	}
	if st, _ := crmFetch(t, other, "POST", "/api/v1/contacts/"+contactID+"/records",
		map[string]any{"kind": "deal", "name": "Pro plan upgrade", "amount": "1200", "threadId": threadID}); st != 201 {
		t.Fatalf("create deal: %d", st)
	}
	if err := waitJS(agent, sideText+`.includes('Pro plan upgrade') && `+sideText+`.includes('1,200')`, 5*time.Second); err != nil {
		t.Fatalf("the deal did not appear live: %v", err)
	}
	if err := waitJS(agent, draft+` === document.activeElement && `+draft+`.value === 'Half typed'`, liveWait); err != nil {
		t.Fatalf("the live update lost the form being typed in: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent("\u001b")); err != nil { // Escape closes the form
		t.Fatal(err)
	}
	if err := waitJS(agent, `!`+side+`.querySelector('form.cv-form') && document.activeElement === `+byName(side, "button", "Log activity"), liveWait); err != nil {
		t.Fatalf("Escape: %v", err)
	}
	// Log a call from the other console's sidebar; the first sees it.
	if err := click(other, byName(side, "button", "Log activity")); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(other, byName(side, "textarea", "What happened"), "Called about the double charge"); err != nil {
		t.Fatal(err)
	}
	if err := click(other, byName(side, "button", "Log")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, sideText+`.includes('Called about the double charge')`, 5*time.Second); err != nil {
		t.Fatalf("the logged activity did not appear live: %v", err)
	}

	// The name opens the contact page, with everything about the contact.
	if err := click(agent, nameLink); err != nil {
		t.Fatal(err)
	}
	pageEl := `document.querySelector('.contact-page')`
	if err := waitJS(agent, `location.pathname === '/contacts/`+contactID+`' && !`+pageEl+`.hidden && `+pageEl+`.querySelector('.cp-title').textContent === `+jsString(xssName)+
		` && `+pageEl+`.textContent.includes(`+jsString(ticketNam)+`) && `+pageEl+`.textContent.includes('Pro plan upgrade') && `+pageEl+`.textContent.includes('Called about the double charge')`, 5*time.Second); err != nil {
		dbg, _ := chromedp.Run(agent, chromedp.Evaluate[string](`JSON.stringify([location.pathname, document.querySelector('.contact-page').hidden, document.querySelector('.contact-page').textContent.slice(0, 400), document.querySelector('.shell').className])`))
		crmShot(agent, "contact-page-fail.png")
		t.Fatalf("contact page: %v\n%s", err, dbg)
	}
	crmShot(agent, "contact-page.png")
	// A deep link opens it too.
	if err := chromedp.Do(other, chromedp.Navigate(base+"/contacts/"+contactID)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(other, `!document.querySelector('.contact-page').hidden && document.querySelector('.cp-title').textContent === `+jsString(xssName), 10*time.Second); err != nil {
		t.Fatalf("deep link: %v", err)
	}
	// Back to the conversation.
	if err := click(agent, byName(pageEl, "button", "Back")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `location.pathname === '/threads/`+threadID+`' && `+pageEl+`.hidden && !!`+nameLink, 5*time.Second); err != nil {
		t.Fatalf("back: %v", err)
	}

	// Remove the contact from the chat, confirmed.
	if err := click(agent, byName(side, "button", "Remove contact from this chat")); err != nil {
		t.Fatal(err)
	}
	confirm := byName(`document.querySelector('dialog.cv-dialog')`, "button", "Remove contact")
	if err := waitJS(agent, confirm+` !== null`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, confirm); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, nameLink+` && /^Visitor #\d+$/.test(`+nameLink+`.textContent) && !document.querySelector('dialog.cv-dialog')`, 5*time.Second); err != nil {
		t.Fatalf("after removing the contact: %v", err)
	}
	// The tickets stay on the conversation; the visitor keeps writing into it.
	if err := waitJS(agent, sideText+`.includes(`+jsString(ticketNam)+`)`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	say("Are you still there?")
	if err := waitJS(agent, convLog+`.textContent.includes('Are you still there?')`, 5*time.Second); err != nil {
		t.Fatalf("the visitor's next message is not in the conversation: %v", err)
	}

	// A narrow window: the sidebar sits below the conversation.
	if err := chromedp.Do(agent, chromedp.EmulateViewport(600, 900)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, side+`.getBoundingClientRect().top >= document.querySelector('main.conv-pane').getBoundingClientRect().bottom - 1 && `+side+`.getBoundingClientRect().width > 500`, 5*time.Second); err != nil {
		t.Fatalf("narrow layout: %v", err)
	}
	if err := click(agent, side+`.querySelector('.cs-toggle')`); err != nil {
		t.Fatal(err)
	}
	crmShot(agent, "contact-sidebar-narrow.png")
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened: injected markup ran", n)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1") {
		t.Fatalf("base %s", base)
	}
}
