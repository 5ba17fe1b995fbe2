package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserContactCompany: a contact with a company address shows its
// company among the conversation's associated records (R5); the agent
// renames the company (its name, made of markup, shows as text), changes
// the contact's company by domain and removes it, with the keyboard and
// the buttons' accessible names; a German console names it all in German.
func TestBrowserContactCompany(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)

	v, _ := dialVisitor(t, base, "")
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "Question about our licence"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for acked := false; !acked; {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("visitor: %v", err)
		}
		for _, ev := range evs {
			acked = acked || ev["type"] == "message.ack"
		}
	}

	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	dialogs := noDialogs(t, agent)
	crmSignIn(t, agent, base)
	st, list := crmFetch(t, agent, "GET", "/conversations/v3/conversations/threads?limit=10", nil)
	results, _ := list["results"].([]any)
	if st != 200 || len(results) != 1 {
		t.Fatalf("threads: %d %v", st, list)
	}
	threadID := results[0].(map[string]any)["id"].(string)
	contactID := results[0].(map[string]any)["associatedContactId"].(string)
	if st, _ := crmFetch(t, agent, "PATCH", "/api/v1/contacts/"+contactID, map[string]any{"email": "ada@initech.example"}); st != 200 {
		t.Fatalf("give the contact an email: %d", st)
	}
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	company := side + `.querySelector('.cv-company')`
	companyText := `((` + company + `) || {textContent: ''}).textContent`
	if err := waitJS(agent, companyText+`.includes('initech.example') && `+side+`.querySelector('.cv-card h3').textContent !== ''`, 10*time.Second); err != nil {
		t.Fatalf("the sidebar does not show the automatic company: %v", err)
	}
	if err := waitJS(agent, `[...`+side+`.querySelectorAll('.cv-card h3')].some(h => h.textContent === 'Associated records' && h.parentElement.contains(`+company+`))`, 5*time.Second); err != nil {
		t.Fatalf("the company is not among the associated records: %v", err)
	}

	// Rename it, typing and pressing Enter; markup stays text.
	const markup = `Initech <img src=x onerror=alert(1)>`
	if err := click(agent, byName(side, "button", "Rename company")); err != nil {
		t.Fatal(err)
	}
	nameBox := byName(side, "input", "Company name")
	if err := waitJS(agent, nameBox+` === document.activeElement && `+nameBox+`.value === 'initech.example'`, 5*time.Second); err != nil {
		t.Fatalf("the rename form did not take focus with the name: %v", err)
	}
	if _, err := chromedp.Run(agent, chromedp.Evaluate[bool](nameBox+`.select() || true`)); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, nameBox, markup+"\r"); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, company+` && `+company+`.querySelector('.cv-company-name') && `+company+`.querySelector('.cv-company-name').textContent === `+jsString(markup), 5*time.Second); err != nil {
		t.Fatalf("the renamed company: %v", err)
	}
	if err := waitJS(agent, `document.activeElement === `+byName(side, "button", "Rename company"), 5*time.Second); err != nil {
		t.Fatalf("focus did not return to the rename button: %v", err)
	}
	if n, err := chromedp.Run(agent, chromedp.Evaluate[int](`document.querySelectorAll('#app img').length`)); err != nil || n != 0 {
		t.Fatalf("the company's markup was parsed: %d img elements (%v)", n, err)
	}
	crmShot(agent, "contact-company.png")

	// Change it: a domain no company has makes a new one.
	if err := click(agent, byName(side, "button", "Change company")); err != nil {
		t.Fatal(err)
	}
	domainBox := byName(side, "input", "Company domain")
	if err := waitJS(agent, domainBox+` === document.activeElement`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, domainBox, "umbrella.example"); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(agent, byName(side, "input", "Company name"), "Umbrella\r"); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, companyText+`.includes('Umbrella') && `+companyText+`.includes('umbrella.example')`, 5*time.Second); err != nil {
		t.Fatalf("the changed company: %v", err)
	}
	st, c := crmFetch(t, agent, "GET", "/api/v1/contacts/"+contactID, nil)
	if co, _ := c["company"].(map[string]any); st != 200 || co["name"] != "Umbrella" || co["domain"] != "umbrella.example" {
		t.Fatalf("contact's company after the change: %d %v", st, c["company"])
	}

	// A German console says it in German.
	de, cancelD := chromedp.NewContext(browser)
	defer cancelD()
	if err := chromedp.Do(de, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(de, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36", AcceptLanguage: "de-DE,de"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(de, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(de, byName(side, "button", "Unternehmen ändern")+` !== null && `+byName(side, "button", "Unternehmen umbenennen")+` !== null && `+
		`[...`+side+`.querySelectorAll('.cv-card h3')].some(h => h.textContent === 'Verknüpfte Datensätze') && `+sideText+`.includes('Domain des Unternehmens')`, 10*time.Second); err != nil {
		t.Fatalf("German sidebar: %v", err)
	}

	// Remove it: the German console sees the change live.
	if err := click(agent, byName(side, "button", "Remove company")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, companyText+`.includes('No company') && document.activeElement === `+byName(side, "button", "Set company"), 5*time.Second); err != nil {
		t.Fatalf("after removing the company: %v", err)
	}
	if err := waitJS(de, sideText+`.includes('Kein Unternehmen') && `+byName(side, "button", "Unternehmen festlegen")+` !== null`, liveWait); err != nil {
		t.Fatalf("the German console did not see the removal: %v", err)
	}
	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened: injected markup ran", n)
	}
}
