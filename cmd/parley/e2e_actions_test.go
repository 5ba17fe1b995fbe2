package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Browser tests of conversation actions, the reply editor and notifications
// (FEATURES I6, I9, R1, R6).

const actPassword = "correct horse battery"

// actVisitor opens the customer's page in a new tab, opens the chat and
// sends text; it returns the tab.
func actVisitor(t *testing.T, browser context.Context, hostURL, text string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.Navigate(hostURL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	box := byName(widgetRoot, "textarea", "Message")
	if err := waitJS(tab, box+" !== null", 10*time.Second); err != nil {
		t.Fatalf("the chat did not open: %v", err)
	}
	actVisitorSay(t, tab, text)
	return tab
}

func actVisitorSay(t *testing.T, tab context.Context, text string) {
	t.Helper()
	if err := typeInto(tab, byName(widgetRoot, "textarea", "Message"), text); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName(widgetRoot, "button", "Send")); err != nil {
		t.Fatal(err)
	}
	// Sent once it no longer waits in the outbox.
	if err := waitJS(tab, widgetRoot+`.querySelector('[role=log]').textContent.includes(`+jsString(text)+`) && !`+widgetRoot+`.querySelector('.pe')`, 10*time.Second); err != nil {
		t.Fatalf("the visitor's message was not sent: %v", err)
	}
}

// actSignIn signs in to the console in tab.
func actSignIn(t *testing.T, tab context.Context, base, email string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, byName("document", "input", "Email")+" !== null", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Email"), email); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Password"), actPassword); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Sign in")); err != nil {
		t.Fatal(err)
	}
	// Wait for the inbox and the list, so that nothing moves under a click.
	if err := waitJS(tab, `!!document.querySelector('.nav-inbox > *') && !document.querySelector('.list-note [aria-busy], .thread-list[aria-busy=true]') && !(document.querySelector('.list-note') || {}).textContent.includes('Loading')`, 10*time.Second); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// actFetch runs a same-origin API call in a console tab and returns the
// answer's status; body is JSON or "".
func actFetch(t *testing.T, tab context.Context, method, path, body string) (int, string) {
	t.Helper()
	js := fmt.Sprintf(`(async () => {
  const init = { method: %q, headers: { 'Content-Type': 'application/json' } };
  if (%q) init.body = %q;
  const r = await fetch(%q, init);
  return [String(r.status), await r.text()];
})()`, method, body, body, path)
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]string](js, chromedp.EvalAwaitPromise))
	if err != nil || len(out) != 2 {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var status int
	fmt.Sscan(out[0], &status)
	return status, out[1]
}

// actScreenshot saves a PNG of tab under testdata/artifacts.
func actScreenshot(tab context.Context, name string) {
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	dir := filepath.Join("..", "..", "testdata", "artifacts")
	if os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, name), shot, 0o644)
	}
}

// openMore opens the open conversation's "More actions" menu (forward,
// transcript, delete, block, spam), unless it is open.
func openMore(t *testing.T, tab context.Context) {
	t.Helper()
	more := byName("document", "button", "More actions")
	if err := waitJS(tab, more+` !== null`, liveWait); err != nil {
		t.Fatalf("no More actions button: %v", err)
	}
	if open, _ := chromedp.Run(tab, chromedp.Evaluate[bool](more+`.getAttribute('aria-expanded') === 'true'`)); open {
		return
	}
	if err := click(tab, more); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, more+`.getAttribute('aria-expanded') === 'true' && !document.querySelector('.more-menu').hidden && document.querySelector('.more-menu').contains(document.activeElement)`, liveWait); err != nil {
		t.Fatalf("the More actions menu did not open: %v", err)
	}
}

// actDismissToasts closes the notification toasts with their Dismiss buttons.
func actDismissToasts(t *testing.T, tab context.Context) {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`[...document.querySelectorAll('.notify-toast')].forEach(el => [...el.querySelectorAll('button')].at(-1).click()), true`)); err != nil {
		t.Fatal(err)
	}
}

// actRow is a JS expression for the list row whose text contains s.
func actRow(s string) string {
	return `[...document.querySelectorAll('a.thread-row')].find(a => a.textContent.includes(` + jsString(s) + `))`
}

// TestBrowserBlockSender: an agent blocks a chat's sender from the console;
// the conversation leaves All and shows in Filtered, marked in its header and
// recorded in it; the visitor still writes; unblocking brings it back. The
// visitor's HTML and script payloads, in a message and in their name, show as
// text, and an address in the message is a safe link.
func TestBrowserBlockSender(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")

	const payload = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> Docs: https://docs.example.test/a_(b).`
	visitor := actVisitor(t, browser, host.URL, payload)

	agent, cancel := chromedp.NewContext(browser)
	defer cancel()
	actSignIn(t, agent, base, "admin@example.com")
	if err := waitJS(agent, "!!"+actRow("Docs:"), 10*time.Second); err != nil {
		t.Fatalf("the conversation did not appear: %v", err)
	}

	// Give the contact a hostile name, the way an agent or an import could.
	threadID, err := chromedp.Run(agent, chromedp.Evaluate[string](actRow("Docs:")+".dataset.id"))
	if err != nil {
		t.Fatal(err)
	}
	_, th := actFetch(t, agent, "GET", "/conversations/v3/conversations/threads/"+threadID, "")
	contactID := jsonField(t, th, "associatedContactId")
	const hostileName = `<img src=y onerror="window.pwned=3">Eve`
	if status, body := actFetch(t, agent, "PATCH", "/api/v1/contacts/"+contactID, `{"firstName":`+jsString(hostileName)+`}`); status != 200 {
		t.Fatalf("rename contact: %d %s", status, body)
	}

	if err := chromedp.Do(agent, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	log := `document.querySelector('main [role=log]')`
	if err := waitJS(agent, log+" && "+log+".textContent.includes("+jsString(payload)+")", 10*time.Second); err != nil {
		t.Fatalf("the payload is not shown as text: %v", err)
	}
	if err := waitJS(agent, `document.querySelector('.conv-name').textContent === `+jsString(hostileName)+` && `+actRow("Docs:")+`.textContent.includes(`+jsString(hostileName)+`)`, 5*time.Second); err != nil {
		t.Fatalf("the hostile name is not shown as text: %v", err)
	}
	checks := map[string]string{
		"no element from the payload": `document.querySelectorAll('.shell img, .shell script:not([type])').length === 0`,
		"no script ran":               `window.pwned === undefined`,
		"the address is a safe link": `(() => { const a = ` + log + `.querySelector('a'); return !!a && a.href === 'https://docs.example.test/a_(b)' &&
			a.textContent === 'https://docs.example.test/a_(b)' && a.rel === 'noopener noreferrer nofollow' && a.target === '_blank'; })()`,
	}
	for name, js := range checks {
		if ok, err := chromedp.Run(agent, chromedp.Evaluate[bool](js)); err != nil || !ok {
			t.Errorf("%s: ok=%v err=%v", name, ok, err)
		}
	}

	// Assigned to the agent, the conversation would notify of each visitor
	// message (TestBrowserReplyTools shows it does); blocked, it must not.
	if status, body := actFetch(t, agent, "PUT", "/conversations/v3/conversations/threads/"+threadID+"/assignee", `{"actorId":"A-1"}`); status != 200 {
		t.Fatalf("assign: %d %s", status, body)
	}

	// Block the sender, from the conversation's "More actions" menu.
	openMore(t, agent)
	if err := click(agent, byName(`document.querySelector('.conv-tools')`, "button", "Block sender")); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, until string }{
		{"header badge", `[...document.querySelectorAll('.conv-sub .chip')].some(c => c.textContent === 'Filtered: blocked sender')`},
		{"system event", log + `.textContent.includes('admin blocked the sender')`},
		{"toast", `[...document.querySelectorAll('.notify-toast')].some(el => el.textContent.includes('Sender blocked'))`},
		{"button flips", byName("document", "button", "Unblock sender") + ` !== null`},
		{"gone from All", `!` + actRow("Docs:")},
	}
	for _, st := range steps {
		if err := waitJS(agent, st.until, 5*time.Second); err != nil {
			text, _ := chromedp.Run(agent, chromedp.Evaluate[string](`document.querySelector('main').textContent`))
			t.Fatalf("after blocking, %s: %v\nconversation: %s", st.name, err, text)
		}
	}
	actDismissToasts(t, agent)
	if err := click(agent, "document.querySelector('button.nav-item[data-view=filtered]')"); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, "!!"+actRow("Docs:"), 5*time.Second); err != nil {
		t.Fatalf("the blocked conversation is not in Filtered: %v", err)
	}
	actScreenshot(agent, "console-blocked.png")

	// The visitor still chats; the message is kept, in Filtered only, and
	// does not notify, though the conversation is assigned to the agent, who
	// looks at the list (Filtered, the view chosen last).
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, "!!"+actRow("Docs:")+` && document.querySelector('.list-title').textContent === 'Filtered'`, 10*time.Second); err != nil {
		t.Fatalf("the Filtered list after a reload: %v", err)
	}
	actVisitorSay(t, visitor, "Are you there?")
	if err := waitJS(agent, "!!"+actRow("Are you there?"), 5*time.Second); err != nil {
		t.Fatalf("the blocked visitor's message: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // a notification would follow the message at once
	if n, _ := chromedp.Run(agent, chromedp.Evaluate[int](`document.querySelectorAll('.notify-toast').length`)); n != 0 {
		t.Errorf("a filtered conversation notified (%d toasts)", n)
	}
	if err := click(agent, "document.querySelector('button.nav-item[data-view=all]')"); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `!`+actRow("Are you there?")+` && document.querySelector('.list-title').textContent === 'All conversations'`, 5*time.Second); err != nil {
		t.Fatalf("the blocked visitor's message reached All: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, log+" && "+log+".textContent.includes('Are you there?')", 10*time.Second); err != nil {
		t.Fatalf("the blocked visitor's message is not in the conversation: %v", err)
	}

	// Unblock: back in All.
	openMore(t, agent)
	if err := click(agent, byName(`document.querySelector('.conv-tools')`, "button", "Unblock sender")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, "!!"+actRow("Are you there?")+` && !document.querySelector('.conv-sub .chip-filtered') && `+log+`.textContent.includes('admin unblocked the sender')`, 5*time.Second); err != nil {
		t.Fatalf("after unblocking: %v", err)
	}
}

// TestBrowserReplyTools: snippets (created in the console, inserted with #
// and the keyboard), links reaching the visitor, the e and a shortcuts,
// delete and restore from the Trash, "also viewing" between two agents, and
// a notification when a visitor starts a chat.
func TestBrowserReplyTools(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")

	agent, cancel := chromedp.NewContext(browser)
	defer cancel()
	actSignIn(t, agent, base, "admin@example.com")

	// A snippet, made in the Snippets dialog.
	if err := click(agent, byName("document", "button.nav-item", "Snippets")); err != nil {
		t.Fatal(err)
	}
	dlg := `document.querySelector('dialog[open]')`
	if err := waitJS(agent, byName(dlg, "button", "New snippet")+" !== null", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName(dlg, "button", "New snippet")); err != nil {
		t.Fatal(err)
	}
	const body = "Thanks for waiting! The guide: https://docs.example.test/start"
	for _, f := range []struct{ sel, label, text string }{
		{"input", "Name", "Thanks"},
		{"input", "Shortcut", "thanks"},
		{"textarea", "Text", body},
	} {
		if err := typeInto(agent, byName(dlg, f.sel, f.label), f.text); err != nil {
			t.Fatalf("%s: %v", f.label, err)
		}
	}
	if err := click(agent, byName(dlg, "button", "Save snippet")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+` && `+dlg+`.textContent.includes('#thanks')`, 5*time.Second); err != nil {
		t.Fatalf("the snippet is not listed: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `!document.querySelector('dialog[open]')`, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// A visitor starts a chat: the agent is told.
	visitor := actVisitor(t, browser, host.URL, "Hello, I need the guide")
	if err := waitJS(agent, `[...document.querySelectorAll('.notify-toast')].some(el => el.textContent.includes('New chat from'))`, 10*time.Second); err != nil {
		t.Fatalf("no notification of the new chat: %v", err)
	}
	if err := click(agent, actRow("I need the guide")); err != nil {
		t.Fatal(err)
	}
	reply := byName("document", "textarea", "Reply")
	if err := waitJS(agent, reply+" !== null", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// A second agent opens the same conversation: each sees the other.
	second := secondAgent(t, browser, agent, base)
	threadID, _ := chromedp.Run(agent, chromedp.Evaluate[string](`location.pathname.split('/').pop()`))
	if err := chromedp.Do(second, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	also := `(document.querySelector('.also-viewing') || {}).textContent`
	if err := waitJS(agent, also+` === 'Also viewing: Bea'`, 10*time.Second); err != nil {
		t.Fatalf("the first agent does not see Bea: %v", err)
	}
	if err := waitJS(second, also+` === 'Also viewing: admin'`, 10*time.Second); err != nil {
		t.Fatalf("Bea does not see the first agent: %v", err)
	}
	actScreenshot(agent, "console-also-viewing.png")
	if err := chromedp.Do(second, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `document.querySelector('.also-viewing').hidden`, 5*time.Second); err != nil {
		t.Fatalf("Bea left but is still shown: %v", err)
	}

	// "#" and the keyboard insert the snippet; Enter sends it.
	if err := typeInto(agent, reply, "#tha"); err != nil {
		t.Fatal(err)
	}
	picker := `document.querySelector('[role=listbox]')`
	if err := waitJS(agent, picker+` && !`+picker+`.hidden && `+picker+`.querySelector('[role=option][aria-selected=true]').textContent.includes('#thanks') && `+reply+`.getAttribute('aria-activedescendant') === `+picker+`.querySelector('[aria-selected=true]').id`, 5*time.Second); err != nil {
		t.Fatalf("the snippet picker did not open: %v", err)
	}
	actScreenshot(agent, "console-snippet-picker.png")
	if err := pressEnter(agent); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, reply+`.value === `+jsString(body)+` && `+picker+`.hidden`, 5*time.Second); err != nil {
		v, _ := chromedp.Run(agent, chromedp.Evaluate[string](reply+".value"))
		t.Fatalf("the snippet was not inserted (reply box: %q): %v", v, err)
	}
	if err := pressEnter(agent); err != nil {
		t.Fatal(err)
	}
	vlink := `(() => { const a = [...` + widgetRoot + `.querySelectorAll('[role=log] a')].find(a => a.href === 'https://docs.example.test/start');
		return !!a && a.rel === 'noopener noreferrer nofollow' && a.target === '_blank'; })()`
	if err := waitJS(visitor, vlink, 10*time.Second); err != nil {
		t.Fatalf("the visitor did not get the snippet with its link: %v", err)
	}

	// Keyboard: Escape leaves the reply box, a assigns to me, e closes.
	for _, key := range []string{kb.Escape, "a"} {
		if err := chromedp.Do(agent, chromedp.KeyEvent(key)); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitJS(agent, byName(`document.querySelector('.conv-head')`, "select", "Assignee")+`.value === 'A-1'`, 5*time.Second); err != nil {
		t.Fatalf("a did not assign: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent("e")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, byName("document", "button", "Reopen conversation")+` !== null`, 5*time.Second); err != nil {
		t.Fatalf("e did not close: %v", err)
	}

	// Delete to the trash and restore from the Trash dialog.
	openMore(t, agent)
	if err := click(agent, byName("document", "button", "Delete")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `[...document.querySelectorAll('.conv-sub .chip')].some(c => c.textContent === 'In the trash') && `+byName("document", "button", "Restore")+` !== null`, 5*time.Second); err != nil {
		t.Fatalf("delete: %v", err)
	}
	actDismissToasts(t, agent) // they sit over the sidebar's bottom
	if err := click(agent, byName("document", "button.nav-item", "Trash")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+` && `+dlg+`.textContent.includes('Thanks for waiting')`, 5*time.Second); err != nil {
		t.Fatalf("the trash does not list it: %v", err)
	}
	actScreenshot(agent, "console-trash.png")
	if err := click(agent, byName(dlg, "button", "Restore")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+`.textContent.includes('The trash is empty.') && !document.querySelector('.conv-sub .chip-trash')`, 5*time.Second); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}

	// Bea hands the conversation to the first agent, who is told.
	actDismissToasts(t, agent)
	for _, actor := range []string{"A-2", "A-1"} {
		if status, body := actFetch(t, second, "PUT", "/conversations/v3/conversations/threads/"+threadID+"/assignee", `{"actorId":"`+actor+`"}`); status != 200 {
			t.Fatalf("assign to %s: %d %s", actor, status, body)
		}
	}
	if err := waitJS(agent, `[...document.querySelectorAll('.notify-toast')].some(el => el.textContent.includes('Bea assigned a conversation to you'))`, 5*time.Second); err != nil {
		t.Fatalf("no notification of the assignment: %v", err)
	}

	// A visitor's message in a conversation assigned to the agent, who looks
	// elsewhere, notifies.
	actDismissToasts(t, agent)
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, `!!document.querySelector('.nav-inbox > *')`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	actVisitorSay(t, visitor, "One more question")
	if err := waitJS(agent, `[...document.querySelectorAll('.notify-toast')].some(el => el.textContent.includes('New message from') && el.textContent.includes('One more question'))`, 10*time.Second); err != nil {
		t.Fatalf("no notification of the visitor's message: %v", err)
	}

	// Sound off, in the Notifications dialog; kept on the server.
	actDismissToasts(t, agent)
	if err := click(agent, byName("document", "button.nav-item", "Notifications")); err != nil {
		t.Fatal(err)
	}
	sound := byName(dlg, "input", "Play a sound")
	if err := waitJS(agent, sound+` !== null && `+sound+`.checked`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	actScreenshot(agent, "console-notify-settings.png")
	if err := click(agent, sound); err != nil {
		t.Fatal(err)
	}
	waitMuted := func() error {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, me := actFetch(t, agent, "GET", "/api/v1/users/me", ""); strings.Contains(me, `"muted":true`) {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("users/me still not muted")
	}
	if err := waitMuted(); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(agent, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}

	// Deleted for good from the Trash, after a second press: gone for the
	// console and for the visitor, whose widget starts over.
	if err := chromedp.Do(agent, chromedp.Navigate(base+"/threads/"+threadID)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, byName("document", "button", "Delete")+` !== null`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	openMore(t, agent)
	if err := click(agent, byName("document", "button", "Delete")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, byName("document", "button", "Restore")+` !== null`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	actDismissToasts(t, agent)
	if err := click(agent, byName("document", "button.nav-item", "Trash")); err != nil {
		t.Fatal(err)
	}
	forever := byName(dlg, "button", "Delete forever")
	if err := waitJS(agent, `!!(`+dlg+` && `+forever+`)`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, forever); err != nil {
		t.Fatal(err)
	}
	confirm := byName(dlg, "button", "Confirm: delete forever")
	if err := waitJS(agent, `!!(`+confirm+`) && `+dlg+`.textContent.includes('Press again to confirm')`, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if status, _ := actFetch(t, agent, "GET", "/conversations/v3/conversations/threads/"+threadID, ""); status != 200 {
		t.Fatalf("one press deleted: %d", status)
	}
	if err := click(agent, confirm); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, dlg+`.textContent.includes('The trash is empty.') && document.body.textContent.includes('This conversation could not be found.')`, 5*time.Second); err != nil {
		t.Fatalf("delete forever: %v", err)
	}
	if status, _ := actFetch(t, agent, "GET", "/conversations/v3/conversations/threads/"+threadID, ""); status != 404 {
		t.Fatalf("after delete forever: %d, want 404", status)
	}
	if err := waitJS(visitor, `!`+wlog+`.textContent.includes('One more question')`, 5*time.Second); err != nil {
		t.Fatalf("the widget still shows the deleted conversation: %v", err)
	}
}

// secondAgent invites Bea (through the admin's tab), accepts in a separate
// browser context and returns her signed-in console tab.
func secondAgent(t *testing.T, browser, admin context.Context, base string) context.Context {
	t.Helper()
	status, inv := actFetch(t, admin, "POST", "/api/v1/invites", `{"email":"bea@example.com","inboxIds":["1"]}`)
	if status != 201 {
		t.Fatalf("invite: %d %s", status, inv)
	}
	_, token, ok := strings.Cut(jsonField(t, inv, "url"), "token=")
	if !ok {
		t.Fatalf("invite without a token link: %s", inv)
	}
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if status, body := actFetch(t, tab, "POST", "/api/v1/invites/accept", `{"token":`+jsString(token)+`,"name":"Bea","password":`+jsString(actPassword)+`}`); status/100 != 2 {
		t.Fatalf("accept: %d %s", status, body)
	}
	return tab
}

// jsonField returns the string field name of a JSON object.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	v, ok := m[name].(string)
	if !ok || v == "" {
		t.Fatalf("%s has no %s", body, name)
	}
	return v
}

// pressEnter presses Enter as a keyboard does: the keydown carries the
// text, so that a handler that prevents the keydown also prevents the new
// line. (chromedp.KeyEvent alone sends the text as a separate char event,
// which no keydown handler can stop.)
func pressEnter(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter, func(p *input.DispatchKeyEventParams) {
		switch p.Type {
		case kb.KeyDown:
			p.Text, p.UnmodifiedText = "\r", "\r"
		case kb.KeyChar:
			p.Type, p.Text, p.UnmodifiedText = kb.KeyUp, "", ""
		}
	}))
}

// TestBrowserLinkify runs the console's link finder (links.js) in Chromium
// over a table: which parts of a text become links, and which stay text.
func TestBrowserLinkify(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"plain text", "no links here", "no links here"},
		{"https", "see https://docs.example.test/a?b=1#c now", "see [https://docs.example.test/a?b=1#c] now"},
		{"http and mailto", "http://a.test or mailto:ada@example.test", "[http://a.test] or [mailto:ada@example.test]"},
		{"sentence end", "Read https://a.test/x.", "Read [https://a.test/x]."},
		{"in brackets", "(see https://a.test/wiki/Foo_(bar)), ok", "(see [https://a.test/wiki/Foo_(bar)]), ok"},
		{"stops at markup", `https://a.test/<b>x</b>"y"`, `[https://a.test/]<b>x</b>"y"`},
		{"javascript is text", "javascript:alert(1)", "javascript:alert(1)"},
		{"data is text", "data:text/html,<script>x</script>", "data:text/html,<script>x</script>"},
		{"no host", "https:// and http:///x", "https:// and http:///x"},
		{"mailto without address", "mailto:nobody", "mailto:nobody"},
		{"scheme in a word", "xhttps://a.test", "xhttps://a.test"},
		{"upper case", "HTTPS://A.TEST/Path", "[HTTPS://A.TEST/Path]"},
		{"comma inside an address", "https://a.test/a,b, then", "[https://a.test/a,b], then"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := `(async () => {
  const { linkify } = await import(document.querySelector('script[type=module]').src);
  return linkify(` + jsString(tc.text) + `).map((n) => {
    if (n.nodeType === Node.TEXT_NODE) return n.data;
    const ok = n.tagName === 'A' && n.target === '_blank' && n.rel === 'noopener noreferrer nofollow' &&
      n.childNodes.length === 1 && n.firstChild.nodeType === Node.TEXT_NODE && n.getAttribute('href') === new URL(n.textContent).href;
    return ok ? '[' + n.textContent + ']' : '{bad link ' + n.outerHTML + '}';
  }).join('');
})()`
			got, err := chromedp.Run(tab, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("linkify(%q)=%q, want %q", tc.text, got, tc.want)
			}
		})
	}
}
