package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Browser tests of the conversation list: search, views and their live
// counts (FEATURES I2–I5).

// listVisitorSays starts a chat as a new visitor and waits until the message
// is stored.
func listVisitorSays(t *testing.T, base, text string) {
	t.Helper()
	v, _ := dialVisitor(t, base, "")
	defer v.c.CloseNow()
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": text})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("no ack for %q: %v", text, err)
		}
		for _, ev := range evs {
			if ev["type"] == "message.ack" {
				return
			}
		}
	}
}

// listSignIn signs the admin in to the console in tab.
func listSignIn(t *testing.T, tab context.Context, base string) {
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
}

// TestBrowserSearch: an agent finds a conversation among others by typing
// "/" and the start of two words, sees the matched words marked (as text:
// the visitor's markup stays text), opens it from the hits; the sidebar's
// counts follow a new conversation live, without a reload.
func TestBrowserSearch(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	for _, text := range []string{
		"Hello, my parcel tracking number is 8841.",
		"Question about last month's invoices.",
		"Where is the refund for order 5512? <b>urgent</b>",
		"Refund please, wrong size.",
	} {
		listVisitorSays(t, base, text)
	}

	agent, cancel := chromedp.NewContext(browser)
	defer cancel()
	listSignIn(t, agent, base)
	rows := `document.querySelectorAll('.thread-list:not([hidden]) a.thread-row')`
	if err := waitJS(agent, rows+".length === 4", 10*time.Second); err != nil {
		t.Fatalf("the list did not show 4 conversations: %v", err)
	}
	allCount := byName("document", "nav button", "All conversations, 4 open")
	if err := waitJS(agent, allCount+" !== null", 5*time.Second); err != nil {
		t.Fatalf("the view count: %v", err)
	}

	// "/" focuses the search box from anywhere but a text field.
	if err := chromedp.Do(agent, chromedp.KeyEvent("/")); err != nil {
		t.Fatal(err)
	}
	box := byName("document", "input", "Search conversations")
	if err := waitJS(agent, "document.activeElement === "+box, liveWait); err != nil {
		t.Fatalf("/ did not focus the search box: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent("refund 55")); err != nil {
		t.Fatal(err)
	}
	hits := `document.querySelectorAll('.search-hits a.thread-row')`
	if err := waitJS(agent, hits+".length === 1", 5*time.Second); err != nil {
		n, _ := chromedp.Run(agent, chromedp.Evaluate[int](hits+".length"))
		t.Fatalf("search hits: %v (%d hits)", err, n)
	}
	if v, err := chromedp.Run(agent, chromedp.Evaluate[string](box+".value")); err != nil || v != "refund 55" {
		t.Errorf("search box holds %q (%v), want the typed text without the /", v, err)
	}
	marks, err := chromedp.Run(agent, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.search-hits a.thread-row mark')].map(m => m.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(marks) != "[refund 5512]" {
		t.Errorf("marked words %q, want refund and 5512", marks)
	}
	hitText, _ := chromedp.Run(agent, chromedp.Evaluate[string](hits+"[0].textContent"))
	if bolds, err := chromedp.Run(agent, chromedp.Evaluate[int](`document.querySelectorAll('.search-hits b').length`)); err != nil || bolds != 0 {
		t.Errorf("the visitor's markup was rendered in a hit (%d <b>, %v): %q", bolds, err, hitText)
	}
	if err := click(agent, hits+"[0]"); err != nil {
		t.Fatal(err)
	}
	log := `document.querySelector('main [role=log]')`
	if err := waitJS(agent, log+" && "+log+".textContent.includes('refund for order 5512')", 5*time.Second); err != nil {
		t.Fatalf("the conversation did not open from the hit: %v", err)
	}

	// Escape in the box leaves the search; the view is back.
	if err := typeInto(agent, box, ""); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, rows+".length === 4 && "+box+".value === ''", 5*time.Second); err != nil {
		t.Fatalf("Escape did not bring the list back: %v", err)
	}

	// A new conversation reaches the list and the counts live.
	listVisitorSays(t, base, "Do you ship to Switzerland?")
	if err := waitJS(agent, byName("document", "nav button", "All conversations, 5 open")+" !== null", 5*time.Second); err != nil {
		t.Fatalf("the count did not follow the new conversation: %v", err)
	}
	if err := waitJS(agent, rows+".length === 5 && "+rows+"[0].textContent.includes('Switzerland')", 5*time.Second); err != nil {
		t.Fatalf("the new conversation did not move to the top: %v", err)
	}
}
