package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserInsertLinks: the reply editor's Insert menu, by keyboard, finds
// a knowledge link by title and inserts it; the meeting link, not set yet,
// is asked for, saved and inserted; Enter sends both, and the visitor gets
// them as links (R1). Then a deal's stage change shows on the conversation
// (R5).
func TestBrowserInsertLinks(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")
	agent, cancel := chromedp.NewContext(browser)
	defer cancel()
	actSignIn(t, agent, base, "admin@example.com")
	if status, body := actFetch(t, agent, "POST", "/api/v1/knowledge-links", `{"title":"Shipping times","url":"https://help.example.test/shipping"}`); status != 201 {
		t.Fatalf("create a knowledge link: %d %s", status, body)
	}
	// Another, made in the Links dialog.
	dlg := `document.querySelector('dialog[open]')`
	if err := click(agent, byName("document", "button.nav-item", "Links")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+` && `+dlg+`.textContent.includes('Shipping times')`, 5*time.Second); err != nil {
		t.Fatalf("the Links dialog does not list the library: %v", err)
	}
	if err := click(agent, byName(dlg, "button", "New knowledge link")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ label, text string }{
		{"Title", "Reset your password"},
		{"Address (URL)", "https://help.example.test/reset?from=chat"},
	} {
		if err := typeInto(agent, byName(dlg, "input", f.label), f.text); err != nil {
			t.Fatalf("%s: %v", f.label, err)
		}
	}
	if err := click(agent, byName(dlg, "button", "Save knowledge link")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, byName(dlg, "button", "Edit knowledge link Reset your password")+` !== null`, 5*time.Second); err != nil {
		t.Fatalf("the new link is not listed: %v", err)
	}
	actScreenshot(agent, "console-links-dialog.png")
	if err := chromedp.Do(agent, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `!document.querySelector('dialog[open]')`, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	visitor := actVisitor(t, browser, host.URL, "How do I reset my password?")
	if err := click(agent, actRow("reset my password")); err != nil {
		t.Fatal(err)
	}
	reply := byName("document", "textarea", "Reply")
	if err := waitJS(agent, reply+" !== null", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	key := func(k string) {
		t.Helper()
		if err := chromedp.Do(agent, chromedp.KeyEvent(k)); err != nil {
			t.Fatal(err)
		}
	}
	focused := `(document.activeElement.getAttribute('aria-label') || (document.activeElement.labels && document.activeElement.labels[0] && document.activeElement.labels[0].textContent) || document.activeElement.textContent).trim()`

	// The keyboard: the menu button, Down into the menu, Down to the
	// knowledge link, Enter; a search by title, Enter.
	insert := byName(`document.querySelector('.composer')`, "button", "Insert")
	if ok, err := chromedp.Run(agent, chromedp.Evaluate[bool](`(() => { const b = `+insert+`; b.focus(); return b.getAttribute('aria-haspopup') === 'menu'; })()`)); err != nil || !ok {
		t.Fatalf("no Insert menu button: %v", err)
	}
	key(kb.ArrowDown)
	if err := waitJS(agent, focused+` === 'Snippet…' && `+insert+`.getAttribute('aria-expanded') === 'true'`, 5*time.Second); err != nil {
		t.Fatalf("the menu did not open on its first item: %v", err)
	}
	key(kb.ArrowDown)
	if err := waitJS(agent, focused+` === 'Knowledge link…' && document.activeElement.getAttribute('role') === 'menuitem'`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	actScreenshot(agent, "console-insert-menu.png")
	if err := pressEnter(agent); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+` && `+focused+` === 'Search by title' && `+dlg+`.textContent.includes('Shipping times')`, 5*time.Second); err != nil {
		t.Fatalf("the knowledge link picker did not open: %v", err)
	}
	key("pass")
	option := dlg + `.querySelector('[role=option][aria-selected=true]')`
	if err := waitJS(agent, option+` && `+option+`.textContent.includes('Reset your password') && `+dlg+`.querySelectorAll('[role=option]').length === 1`, 5*time.Second); err != nil {
		t.Fatalf("the search by title did not find the link: %v", err)
	}
	actScreenshot(agent, "console-knowledge-link-picker.png")
	if err := pressEnter(agent); err != nil {
		t.Fatal(err)
	}
	const kl = "Reset your password: https://help.example.test/reset?from=chat"
	if err := waitJS(agent, `!document.querySelector('dialog[open]') && `+reply+`.value === `+jsString(kl)+` && document.activeElement === `+reply, 5*time.Second); err != nil {
		v, _ := chromedp.Run(agent, chromedp.Evaluate[string](reply+".value"))
		t.Fatalf("the knowledge link was not inserted (reply box: %q): %v", v, err)
	}

	// The meeting link: none yet, so the console asks for it first.
	if err := click(agent, insert); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName(`document.querySelector('[role=menu]')`, "button", "Meeting link")); err != nil {
		t.Fatal(err)
	}
	meeting := byName(dlg, "input", "Meeting link")
	if err := waitJS(agent, meeting+" !== null", 5*time.Second); err != nil {
		t.Fatalf("no meeting link form: %v", err)
	}
	const ml = "https://meet.example.test/admin/30min"
	if err := typeInto(agent, meeting, "javascript:alert(1)"); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName(dlg, "button", "Save and insert")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+`.querySelector('[role=alert]:not([hidden])') !== null`, 5*time.Second); err != nil {
		t.Fatalf("a bad address was not refused: %v", err)
	}
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](meeting+`.value = '', true`)); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, meeting, ml); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName(dlg, "button", "Save and insert")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `!document.querySelector('dialog[open]') && `+reply+`.value === `+jsString(kl+" "+ml), 5*time.Second); err != nil {
		v, _ := chromedp.Run(agent, chromedp.Evaluate[string](reply+".value"))
		t.Fatalf("the meeting link was not inserted (reply box: %q): %v", v, err)
	}
	if status, body := actFetch(t, agent, "GET", "/api/v1/users/me/meeting-link", ""); status != 200 || jsonField(t, body, "url") != ml {
		t.Errorf("meeting link stored: %d %s", status, body)
	}

	// Enter sends; the visitor gets both addresses as links.
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](reply+`.focus(), true`)); err != nil {
		t.Fatal(err)
	}
	if err := pressEnter(agent); err != nil {
		t.Fatal(err)
	}
	links := `(() => { const hrefs = [...` + widgetRoot + `.querySelectorAll('[role=log] a')].map(a => a.href);
		return hrefs.includes('https://help.example.test/reset?from=chat') && hrefs.includes(` + jsString(ml) + `); })()`
	if err := waitJS(visitor, links, 10*time.Second); err != nil {
		t.Fatalf("the visitor did not get the links: %v", err)
	}
	log := `document.querySelector('[role=log]')`
	if err := waitJS(agent, `[...`+log+`.querySelectorAll('a')].some(a => a.href === `+jsString(ml)+`)`, 5*time.Second); err != nil {
		t.Fatalf("the console does not show the sent link: %v", err)
	}

	// R5: a deal of the conversation changes stage; the conversation says so.
	threadID, err := chromedp.Run(agent, chromedp.Evaluate[string](`location.pathname.split('/').pop()`))
	if err != nil {
		t.Fatal(err)
	}
	status, th := actFetch(t, agent, "GET", "/conversations/v3/conversations/threads/"+threadID, "")
	if status != 200 {
		t.Fatalf("thread: %d %s", status, th)
	}
	status, deal := actFetch(t, agent, "POST", "/api/v1/contacts/"+jsonField(t, th, "associatedContactId")+"/records",
		`{"kind":"deal","name":"Pro plan","stage":"qualified","threadId":`+jsString(threadID)+`}`)
	if status != 201 {
		t.Fatalf("create a deal: %d %s", status, deal)
	}
	if status, body := actFetch(t, agent, "PATCH", "/api/v1/records/"+jsonField(t, deal, "id"), `{"stage":"won"}`); status != 200 {
		t.Fatalf("change the deal: %d %s", status, body)
	}
	const line = "admin changed Deal “Pro plan”: Stage Qualified to buy → Closed won"
	if err := waitJS(agent, log+`.textContent.includes(`+jsString(line)+`)`, 5*time.Second); err != nil {
		text, _ := chromedp.Run(agent, chromedp.Evaluate[string](log+`.textContent`))
		t.Fatalf("the stage change is not shown (log: %q): %v", text, err)
	}
	actScreenshot(agent, "console-insert-links.png")
}
