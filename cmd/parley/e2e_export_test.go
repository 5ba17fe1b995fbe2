package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserContactExport: on a contact's page an admin finds "Export
// data", whose link downloads the contact's conversations as JSON.
func TestBrowserContactExport(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	v, _ := dialVisitor(t, base, "")
	defer v.c.CloseNow()
	v.write(t, map[string]any{"type": "message.send", "clientId": "m1", "text": "Please send me my data"})
	var tid string
	for tid == "" {
		for _, ev := range nextEvents(t, v) {
			if ev["type"] == "message.ack" {
				tid = ev["message"].(map[string]any)["threadId"].(string)
			}
		}
	}
	cookie := signIn(t, base)
	var th struct{ AssociatedContactID string }
	callAPI(t, base, cookie, "GET", "/conversations/v3/conversations/threads/"+tid, nil, "", &th)

	signInConsole(t, browser, base)
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/contacts/"+th.AssociatedContactID)); err != nil {
		t.Fatal(err)
	}
	link := `[...document.querySelectorAll('a.cp-export')].find(a => !a.hidden && a.textContent === 'Export data')`
	if err := waitJS(browser, "!!"+link, liveWait); err != nil {
		t.Fatalf("no Export data link on the contact page: %v", err)
	}
	if _, err := chromedp.Run(browser, chromedp.Evaluate[any](`window.exported = null; fetch(`+link+`.href).then(r => r.json()).then(j => { window.exported = j.threads.map(x => x.messages.map(m => m.text).join('|')).join('/'); }); null`)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(browser, `typeof window.exported === 'string' && window.exported.split('|').includes('Please send me my data')`, liveWait); err != nil {
		got, _ := chromedp.Run(browser, chromedp.Evaluate[any](`window.exported`))
		t.Errorf("the export holds %v: %v", got, err)
	}
}
