package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRetention: an admin sets an inbox to delete closed
// conversations after 30 days in Settings → Inboxes, first counting what
// that would delete (the dry run), then saving it; the API shows the
// inbox's retention.
func TestBrowserRetention(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	listSignIn(t, tab, base)
	must("signed in", waitJS(tab, byName("document", "a", "Settings")+" !== null", 10*time.Second))
	must("settings", chromedp.Do(tab, chromedp.Navigate(base+"/settings/inboxes")))
	card := `[...document.querySelectorAll('details.group-card')].find(d => d.querySelector('.group-name').textContent === 'Support')`
	must("inbox card", waitJS(tab, "!!"+card, 10*time.Second))
	must("open card", click(tab, card+".querySelector('summary')"))
	form := card + ".querySelector('form.inbox-retention')"
	must("retention form", waitJS(tab, "!!"+form+" && "+form+".checkVisibility()", 5*time.Second))
	must("days", typeInto(tab, byName(form, "input", "Delete closed conversations after (days)"), "30"))
	must("count", click(tab, byName(form, "button", "Count what it would delete")))
	must("counted", waitJS(tab, `document.body.textContent.includes('0 conversations are older than 30 days and would be deleted now.')`, 5*time.Second))
	must("save", click(tab, byName(form, "button", "Save retention")))
	must("saved", waitJS(tab, `document.body.textContent.includes('Support deletes closed conversations after 30 days.')`, 5*time.Second))

	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if got := inboxes.Results[0]["retentionDays"]; got != float64(30) {
		t.Errorf("retentionDays %v, want 30", got)
	}
}
