package main

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserContactErase: on a contact's page an admin erases the
// contact from the keyboard: "Erase contact…" opens a dialog that names
// the contact and says it cannot be undone; "Erase for good" stays off
// until the contact's email is typed; Enter erases, and the console goes
// back to the list with a toast. The contact and its conversation are
// gone.
func TestBrowserContactErase(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	v, _ := dialVisitor(t, base, "")
	defer v.c.CloseNow()
	v.write(t, map[string]any{"type": "message.send", "clientId": "m1", "text": "Please erase me"})
	waitAck(t, v)
	cookie := signIn(t, base)
	var th struct{ ID, AssociatedContactID string }
	callAPI(t, base, cookie, "GET", "/conversations/v3/conversations/threads/1", nil, "", &th)
	id := th.AssociatedContactID
	callAPI(t, base, cookie, "PATCH", "/api/v1/contacts/"+id, map[string]any{"firstName": "Erna", "email": "erna@example.com"}, "", &struct{}{})

	signInConsole(t, browser, base)
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/contacts/"+id)); err != nil {
		t.Fatal(err)
	}
	button := `[...document.querySelectorAll('button.cp-erase')].find(b => !b.hidden && b.textContent === 'Erase contact…')`
	if err := waitJS(browser, "!!"+button+" && document.querySelector('.cp-title').textContent === 'Erna'", liveWait); err != nil {
		t.Fatalf("no Erase contact… button on Erna's page: %v", err)
	}
	if _, err := chromedp.Run(browser, chromedp.Evaluate[any](button+`.focus(); null`)); err != nil {
		t.Fatal(err)
	}
	if err := pressEnter(browser); err != nil {
		t.Fatal(err)
	}
	dialog := `document.querySelector('dialog[open]')`
	submit := dialog + `.querySelector('button[type=submit]')`
	if err := waitJS(browser, `!!`+dialog+` && `+dialog+`.querySelector('.dialog-title').textContent === 'Erase Erna for good?'`+
		` && `+dialog+`.textContent.includes('It cannot be undone.') && `+dialog+`.textContent.includes('Type erna@example.com to confirm')`+
		` && document.activeElement === `+dialog+`.querySelector('input') && `+submit+`.disabled && `+submit+`.textContent === 'Erase for good'`, liveWait); err != nil {
		got, _ := chromedp.Run(browser, chromedp.Evaluate[any](dialog+`?.textContent`))
		t.Fatalf("the erase dialog %v: %v", got, err)
	}
	if err := chromedp.Do(browser, chromedp.SendKeys(`dialog[open] input`, "erna@example.co")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(browser, submit+`.disabled`, liveWait); err != nil {
		t.Fatalf("Erase for good is on before the whole address is typed: %v", err)
	}
	if err := chromedp.Do(browser, chromedp.SendKeys(`dialog[open] input`, "m")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(browser, `!`+submit+`.disabled`, liveWait); err != nil {
		t.Fatalf("Erase for good stays off with the address typed: %v", err)
	}
	if err := pressEnter(browser); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(browser, `!document.querySelector('dialog[open]') && !location.pathname.startsWith('/contacts/')`+
		` && [...document.querySelectorAll('.toast')].some(el => el.textContent.includes('Erna was erased.') && el.textContent.includes('parley compact'))`, liveWait); err != nil {
		got, _ := chromedp.Run(browser, chromedp.Evaluate[any](`location.pathname + ' | ' + [...document.querySelectorAll('.toast, .form-alert')].map(el => el.textContent).join(' / ')`))
		t.Fatalf("after Erase for good: %v: %v", got, err)
	}
	for _, p := range []string{"/api/v1/contacts/" + id, "/conversations/v3/conversations/threads/1"} {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.AddCookie(&http.Cookie{Name: "parley_session", Value: cookie})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("GET %s after the erasure: %d, want 404", p, res.StatusCode)
		}
	}
}
