package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserAuditLog: an admin opens Settings → Audit log and sees who
// changed what, in words, with the address; "Load more" (from the
// keyboard) brings older entries; the kind filter (from the keyboard)
// shows only sign-ins.
func TestBrowserAuditLog(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	cookie := signIn(t, base)
	var widgets struct{ Results []struct{ ID string } }
	callAPI(t, base, cookie, "GET", "/api/v1/widgets", nil, "", &widgets)
	if len(widgets.Results) == 0 {
		t.Fatal("no widget")
	}
	const renames = 55 // more than a page of 50
	for i := range renames {
		callAPI(t, base, cookie, "PATCH", "/api/v1/widgets/"+widgets.Results[0].ID, map[string]any{"name": fmt.Sprintf("Chat %d", i)}, "", &map[string]any{})
	}

	signInConsole(t, browser, base)
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/settings/audit")); err != nil {
		t.Fatal(err)
	}
	rows := `document.querySelectorAll('.audit-table tbody tr')`
	if err := waitJS(browser, rows+`.length === 50`, liveWait); err != nil {
		t.Fatal(err)
	}
	// Newest first: the console's own sign-in and its saving the browser's
	// language come before the last rename.
	first := `[...` + rows + `].find(r => r.cells[2].textContent === 'Changed a chat widget').cells`
	if err := waitJS(browser, first+`[1].textContent === 'admin@example.com' && `+first+`[3].textContent === 'widget `+widgets.Results[0].ID+`' && `+
		first+`[4].textContent === 'name' && `+first+`[5].textContent === '127.0.0.1' && `+first+`[0].querySelector('time').getAttribute('datetime') !== ''`, liveWait); err != nil {
		got, _ := chromedp.Run(browser, chromedp.Evaluate[[]string](`[...`+rows+`].slice(0, 3).map(r => r.innerText)`))
		t.Fatalf("%v; rows %q", err, got)
	}

	// Load more, from the keyboard.
	more := byName("document.querySelector('.settings-main')", "button", "Load more")
	if ok, err := chromedp.Run(browser, chromedp.Evaluate[bool](`(function(){ const b = `+more+`; if (!b) return false; b.focus(); return document.activeElement === b })()`)); err != nil || !ok {
		t.Fatalf("no Load more button to focus (%v)", err)
	}
	if err := chromedp.Do(browser, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	// 55 renames, two sign-ins and the console's language: everything,
	// and no button any more.
	if err := waitJS(browser, rows+`.length === `+fmt.Sprint(renames+3)+` && `+more+` === null`, liveWait); err != nil {
		n, _ := chromedp.Run(browser, chromedp.Evaluate[[]any](`[`+rows+`.length, `+more+` !== null, document.activeElement.outerHTML]`))
		t.Fatalf("%v; rows, button, focus: %v", err, n)
	}

	// Only sign-ins, chosen from the keyboard.
	kind := byName("document.querySelector('.settings-main')", "select", "What")
	if ok, err := chromedp.Run(browser, chromedp.Evaluate[bool](`(function(){ const s = `+kind+`; if (!s) return false; s.focus(); return true })()`)); err != nil || !ok {
		t.Fatalf("no kind filter (%v)", err)
	}
	if err := chromedp.Do(browser, chromedp.KeyEvent(kb.End)); err != nil { // the last kind: sign-ins
		t.Fatal(err)
	}
	if err := waitJS(browser, rows+`.length === 2 && [...`+rows+`].every(r => r.cells[2].textContent === 'Signed in')`, liveWait); err != nil {
		t.Fatal(err)
	}
}
