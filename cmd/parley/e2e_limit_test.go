package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// TestBrowserMaxOpenChats: the signed-in user sets their own cap of open
// chats in the Team panel with the keyboard; a value the server would
// refuse is marked invalid with a message and not saved; a good one is.
func TestBrowserMaxOpenChats(t *testing.T) {
	browser := newBrowser(t)
	var db *store.DB
	base := startWithClock(t, nil, func(*parley.Widget) {}, func(d *store.DB) { db = d })
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	signInConsole(t, tab, base)

	// One's own settings are in the profile menu, behind one's name.
	profile := `document.querySelector('button.me')`
	if err := waitJS(tab, profile+` !== null && `+profile+`.getAttribute('aria-expanded') === 'false'`, 5*time.Second); err != nil {
		t.Fatalf("no profile button: %v", err)
	}
	if err := click(tab, profile); err != nil {
		t.Fatal(err)
	}
	field := byName("document", "input", "Max. open chats")
	if err := waitJS(tab, profile+`.getAttribute('aria-expanded') === 'true' && `+field+` !== null && `+field+`.value === '0' && document.activeElement.closest('.profile-menu') !== null`, 5*time.Second); err != nil {
		t.Fatalf("no cap field showing 0: %v", err)
	}
	enter := func(text string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){ const el = `+field+`; el.value = ''; return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if err := typeInto(tab, field, text+"\t"); err != nil { // Tab leaves the field: it saves
			t.Fatal(err)
		}
	}
	stored := func() int {
		u, err := db.User(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return u.MaxOpenChats
	}

	enter("1001")
	if err := waitJS(tab, field+`.getAttribute('aria-invalid') === 'true' && [...document.querySelectorAll('[role=alert]')].some(el => !el.hidden && el.textContent === 'Enter a whole number from 0 to 1,000.')`, 2*time.Second); err != nil {
		t.Fatalf("1001 not refused: %v", err)
	}
	if n := stored(); n != 0 {
		t.Fatalf("refused value stored: %d", n)
	}

	enter("3")
	deadline := time.Now().Add(2 * time.Second)
	for stored() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("cap stored %d, want 3", stored())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := waitJS(tab, field+`.getAttribute('aria-invalid') === null`, 2*time.Second); err != nil {
		t.Fatalf("still marked invalid: %v", err)
	}
	// Escape closes the menu and gives the focus back to its button; the
	// rail holds navigation only.
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, `document.querySelector('.profile-menu').hidden && document.activeElement === `+profile+` && `+profile+`.getAttribute('aria-expanded') === 'false' && !document.querySelector('nav.nav input')`, 2*time.Second); err != nil {
		t.Fatalf("Escape: %v", err)
	}
}
