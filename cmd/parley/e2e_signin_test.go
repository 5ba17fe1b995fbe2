package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/server"
)

// TestBrowserSignInLimited: someone guessing passwords in a German console
// is told, in German, that there were too many attempts and how long to
// wait, and the form stays usable.
func TestBrowserSignInLimited(t *testing.T) {
	browser := newBrowser(t)
	// The default burst of failures with hardly any refill: on a slow
	// machine the guesses take long enough to earn another try each.
	e := startWidgetEnvWith(t, server.Config{LoginAddrPerMinute: 0.01}, nil)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36", AcceptLanguage: "de-DE,de"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(e.base+"/")); err != nil {
		t.Fatal(err)
	}
	email, password := byName("document", "input", "E-Mail"), byName("document", "input", "Passwort")
	if err := waitJS(tab, email+" !== null", 10*time.Second); err != nil {
		t.Fatalf("German sign-in form: %v", err)
	}
	alert := `((document.querySelector('[role=alert]') || {}).textContent || '')`
	if err := typeInto(tab, email, "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	var last string
	for i := range 12 {
		if err := typeInto(tab, password, "wrong guess number "+strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
		if err := click(tab, byName("document", "button", "Anmelden")); err != nil {
			t.Fatal(err)
		}
		// Each answer clears the password field; wait for it.
		if err := waitJS(tab, password+`.value === '' && `+alert+` !== ''`, 10*time.Second); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		var err error
		if last, err = chromedp.Run(tab, chromedp.Evaluate[string](alert)); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(last, "Zu viele") {
			break
		}
		if last != "E-Mail oder Passwort ist falsch." {
			t.Fatalf("attempt %d: alert %q", i+1, last)
		}
	}
	if !strings.HasPrefix(last, "Zu viele fehlgeschlagene Versuche. Bitte in ") || !strings.HasSuffix(last, " Sekunden erneut versuchen.") {
		t.Fatalf("after the guesses: alert %q, want the German rate-limit message with seconds", last)
	}
}
