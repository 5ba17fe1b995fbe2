package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserBot: an admin gives the widget a bot and walks it in the
// editor's preview; a visitor on a customer's page is greeted by the bot,
// clicks a quick reply (the page gets quickReplyButtonClick with HubSpot's
// payload), and the bot
// hands off to a team that nobody can answer for; the agent takes the
// conversation over in the console and replies; the visitor sees the reply.
func TestBrowserBot(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")

	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	actSignIn(t, agent, base, "admin@example.com")
	status, body := actFetch(t, agent, "POST", "/api/v1/teams", `{"name":"Night shift","memberIds":[]}`)
	if status != 201 {
		t.Fatalf("create team: %d %s", status, body)
	}
	var team struct{ ID string }
	_ = json.Unmarshal([]byte(body), &team)
	_, body = actFetch(t, agent, "GET", "/api/v1/widgets", "")
	var widgets struct{ Results []struct{ ID string } }
	if json.Unmarshal([]byte(body), &widgets) != nil || len(widgets.Results) == 0 {
		t.Fatalf("widgets: %s", body)
	}
	flow := fmt.Sprintf(`{"enabled":true,"name":"Acme Bot","steps":[
		{"id":"hi","kind":"message","text":"Hi! I'm the Acme bot."},
		{"id":"need","kind":"question","text":"What do you need?","options":["Sales","Support"],"property":"need"},
		{"id":"team","kind":"handoff","to":"team","teamId":%q,"text":"Connecting you with a teammate."}]}`, team.ID)
	if status, body := actFetch(t, agent, "PUT", "/api/v1/widgets/"+widgets.Results[0].ID+"/bot", flow); status != 200 {
		t.Fatalf("PUT bot: %d %s", status, body)
	}

	// The editor shows the steps, and its preview walks them.
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/settings/bots")); err != nil {
		t.Fatal(err)
	}
	preview := `document.querySelector('.bots-pv-log')`
	if err := waitJS(agent, `document.querySelectorAll('.bots-step').length === 3 && !!`+preview+` && `+preview+`.textContent.includes('What do you need?')`, 10*time.Second); err != nil {
		t.Fatalf("bot editor: %v", err)
	}
	if err := click(agent, byName("document", ".bots-pv-replies button", "Support")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, preview+`.textContent.includes('Handed off to the team Night shift') && `+preview+`.textContent.includes('need = Support')`, 5*time.Second); err != nil {
		t.Fatalf("preview after a quick reply: %v", err)
	}
	actScreenshot(agent, "bot-editor.png")

	// The visitor.
	visitor := actVisitor(t, browser, host.URL, "Hello")
	if _, err := chromedp.Run(visitor, chromedp.Evaluate[bool](`window.HubSpotConversations.on('quickReplyButtonClick', (p) => window.parleyEvents.push({ name: 'quickReplyButtonClick', payload: p })), true`)); err != nil {
		t.Fatal(err)
	}
	support := byName(widgetRoot, ".qr button", "Support")
	if err := waitJS(visitor, support+" !== null", 5*time.Second); err != nil {
		t.Fatalf("no quick replies in the widget: %v", err)
	}
	if err := click(visitor, support); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(visitor, `window.parleyEvents.some(e => e.name === 'quickReplyButtonClick' && e.payload.name === 'QUICK_REPLIES' && e.payload.multiSelect === false && e.payload.value.length === 1 && e.payload.value[0] === 'Support')`, 5*time.Second); err != nil {
		t.Fatalf("quickReplyButtonClick: %v", err)
	}
	visitorLog := widgetRoot + `.querySelector('[role=log]')`
	if err := waitJS(visitor, visitorLog+`.textContent.includes('Connecting you with a teammate.') && !`+widgetRoot+`.querySelector('.qr')`, 5*time.Second); err != nil {
		t.Fatalf("the bot did not hand off: %v", err)
	}

	// The agent takes over and replies.
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	row := actRow("Connecting you with a teammate.")
	if err := waitJS(agent, "!!"+row, 10*time.Second); err != nil {
		t.Fatalf("the handed-off conversation is not in the list: %v", err)
	}
	if err := click(agent, row); err != nil {
		t.Fatal(err)
	}
	take := byName("document", "button", "Take over")
	if err := waitJS(agent, take+" !== null && "+take+".checkVisibility()", 5*time.Second); err != nil {
		t.Fatalf("no Take over: %v", err)
	}
	if err := click(agent, take); err != nil {
		t.Fatal(err)
	}
	agentLog := `document.querySelector('main [role=log]')`
	if err := waitJS(agent, agentLog+".textContent.includes('took the conversation over from the bot') && "+take+".hidden", 5*time.Second); err != nil {
		t.Fatalf("take over: %v", err)
	}
	const answer = "Ada here. How can I help?"
	if err := typeInto(agent, byName("document", "textarea", "Reply"), answer); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName("document", "button", "Send")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(visitor, visitorLog+".textContent.includes("+jsString(answer)+")", 5*time.Second); err != nil {
		t.Fatalf("the visitor did not get the reply: %v", err)
	}
	if text, err := chromedp.Run(agent, chromedp.Evaluate[string](agentLog+".textContent")); err != nil || !strings.Contains(text, "Acme Bot") {
		t.Errorf("the console does not show the bot's messages as the bot's: %q, %v", text, err)
	}
	actScreenshot(agent, "bot-takeover.png")
}
