package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCustomChannel: an SMS integration written for HubSpot's
// custom channels API (testdata/custom_channel.js, with HubSpot's Node
// client) registers its channel in a running Parley and publishes a
// customer's text; the agent finds it in the console marked as the SMS
// channel and answers there; the integration's webhook gets the answer
// with the customer's number, the request valid by the client's own
// Signature.isValid; the integration reports it read, and the console
// shows "Read" under the answer.
func TestBrowserCustomChannel(t *testing.T) {
	node, modules := nodeWithHubSpot(t)
	browser := newBrowser(t)
	base := startInProcessWith(t, map[string]string{"PARLEY_WEBHOOK_ALLOW_PRIVATE": "true"})
	cookie := signIn(t, base)
	call := func(method, path string, body any, bearer string, out any) {
		t.Helper()
		callAPI(t, base, cookie, method, path, body, bearer, out)
	}
	var tok struct{ Token string }
	call("POST", "/api/v1/tokens", map[string]string{"name": "SMS integration"}, "", &tok)
	var inboxes struct{ Results []struct{ ID string } }
	call("GET", "/conversations/v3/conversations/inboxes", nil, tok.Token, &inboxes)

	next := runNode(t, node, "custom_channel.js", "PARLEY_URL="+base, "PARLEY_TOKEN="+tok.Token, "APP_ID=8",
		"INBOX_ID="+inboxes.Results[0].ID, "NODE_PATH="+modules)
	ready, _ := next("ready")["ready"].(map[string]any)
	threadID, _ := ready["threadId"].(string)
	if threadID == "" {
		t.Fatalf("ready %v: want the thread the text started", ready)
	}

	signInConsole(t, browser, base)
	if err := chromedp.Do(browser, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	agentLog := `document.querySelector('main [role=log]')`
	if err := waitJS(browser, agentLog+" && "+agentLog+".textContent.includes('my parcel 4711')", liveWait); err != nil {
		t.Fatalf("the text did not show in the console: %v", err)
	}
	if err := waitJS(browser, `[...document.querySelectorAll('.chip')].some(c => c.textContent === 'SMS')`, liveWait); err != nil {
		t.Errorf("the conversation is not marked as the SMS channel's: %v", err)
	}
	const answer = "Sorry! It leaves our warehouse today."
	if err := typeInto(browser, byName("document", "textarea", "Reply"), answer); err != nil {
		t.Fatal(err)
	}
	if err := click(browser, byName("document", "button", "Send")); err != nil {
		t.Fatal(err)
	}
	reply, _ := next("reply")["reply"].(map[string]any)
	if reply["text"] != answer || reply["to"] != "+4915112345678" || reply["from"] != "+4930123456" {
		t.Errorf("the integration got %v: want the answer, to the customer's number, from the account's", reply)
	}
	if err := waitJS(browser, `[...document.querySelectorAll('.msg-delivery')].some(e => e.textContent === 'Read')`, liveWait); err != nil {
		t.Errorf("the console does not show the answer read: %v", err)
	}
}
