package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserInvite: an admin creates an inbox in Settings and invites a
// second agent to it with a link; the agent signs up through the link, is
// signed in and sees only that inbox and no settings. The agent's inbox
// picker then follows the admin's changes live: a rename, a new inbox, and
// its deletion confirmed by typing the name.
func TestBrowserInvite(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)

	// Two people, each in their own browser context (their own cookies).
	admin, cancelA := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelA()
	agent, cancelB := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelB()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(ctx context.Context, what, expr string) {
		t.Helper()
		must(what, waitJS(ctx, expr, 10*time.Second))
	}
	eval := func(ctx context.Context, what, expr string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](expr))
		must(what, err)
	}
	shot := func(ctx context.Context, name string) {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			dir := filepath.Join("..", "..", "testdata", "artifacts")
			if os.MkdirAll(dir, 0o755) == nil {
				_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
		}
	}

	// The admin signs in and opens Settings from the header.
	must("open console", chromedp.Do(admin, chromedp.Navigate(base+"/")))
	wait(admin, "sign-in form", byName("document", "input", "Email")+" !== null")
	must("email", typeInto(admin, byName("document", "input", "Email"), "admin@example.com"))
	must("password", typeInto(admin, byName("document", "input", "Password"), "correct horse battery"))
	must("sign in", click(admin, byName("document", "button", "Sign in")))
	settingsLink := byName("document", "a", "Settings")
	wait(admin, "settings link", settingsLink+" !== null && !"+settingsLink+".hidden")
	must("settings", click(admin, settingsLink))
	wait(admin, "users section", `location.pathname === '/settings/users' && !!document.querySelector('.settings-table')`)

	// A new inbox.
	must("inboxes tab", click(admin, byName("document", "a", "Inboxes")))
	wait(admin, "inboxes section", `location.pathname === '/settings/inboxes' && `+byName("document", "input", "Inbox name")+" !== null")
	must("inbox name", typeInto(admin, byName("document", "input", "Inbox name"), "Sales EU"))
	must("create inbox", click(admin, byName("document", "button", "Create inbox")))
	card := func(name string) string {
		return `[...document.querySelectorAll('details.group-card')].find(d => d.querySelector('.group-name').textContent === ` + jsString(name) + `)`
	}
	wait(admin, "inbox card", "!!"+card("Sales EU"))

	// An invitation to it.
	must("users tab", click(admin, byName("document", "a", "Users")))
	wait(admin, "invite form", byName("document", "button", "Create invitation link")+" !== null")
	must("invite email", typeInto(admin, byName("document", "input", "Email"), "nia@example.com"))
	checkIn := func(legend, label string) string {
		return `[...document.querySelectorAll('fieldset')].find(f => f.querySelector('legend').textContent === ` + jsString(legend) +
			`)?.querySelectorAll('label.check').values().find(l => l.textContent === ` + jsString(label) + `)`
	}
	// The form starts with the admin's own inboxes checked: Sales EU only.
	setCheck := func(label string, want bool) {
		t.Helper()
		on, err := chromedp.Run(admin, chromedp.Evaluate[bool](checkIn("Inboxes they join", label)+`.querySelector('input').checked`))
		must("read "+label, err)
		if on != want {
			must("toggle "+label, click(admin, checkIn("Inboxes they join", label)))
		}
	}
	setCheck("Support", false)
	setCheck("Sales EU", true)
	must("create link", click(admin, byName("document", "button", "Create invitation link")))
	wait(admin, "invitation link", `(document.querySelector('.invite-url')?.value ?? '').includes('/invite?token=pi_')`)
	wait(admin, "pending invitation", `document.querySelector('.pending')?.textContent.includes('nia@example.com')`)
	must("copy", click(admin, byName("document", "button", "Copy link")))
	wait(admin, "copy status", `/Copied|by hand/.test(document.querySelector('.invite-result [role=status]').textContent)`)
	link, err := chromedp.Run(admin, chromedp.Evaluate[string](`document.querySelector('.invite-url').value`))
	must("read link", err)
	if !strings.HasPrefix(link, base+"/invite?token=") {
		t.Fatalf("link=%q", link)
	}
	shot(admin, "settings-users.png")

	// The agent follows the link and signs up.
	must("open link", chromedp.Do(agent, chromedp.Navigate(link)))
	wait(agent, "invite page", `document.body.textContent.includes('nia@example.com')`)
	shot(agent, "invite-page.png")
	must("name", typeInto(agent, byName("document", "input", "Name"), "Nia New"))
	must("password", typeInto(agent, byName("document", "input", "Password"), "another good password"))
	must("create account", click(agent, byName("document", "button", "Create account")))
	inboxName := `(document.querySelector('.nav-inbox')?.textContent ?? '')`
	wait(agent, "console with the one inbox", `location.pathname === '/' && `+inboxName+`.includes('Sales EU') && !document.querySelector('.nav-inbox select')`)
	if ok, err := chromedp.Run(agent, chromedp.Evaluate[bool](`!`+inboxName+`.includes('Support') && document.querySelector('.settings-link').hidden`)); err != nil || !ok {
		t.Fatalf("the agent sees another inbox or the settings link (%v)", err)
	}
	// A settings link typed by hand falls back to the inbox.
	must("agent /settings", chromedp.Do(agent, chromedp.Navigate(base+"/settings/inboxes")))
	wait(agent, "back at the inbox", `location.pathname === '/' && `+inboxName+`.includes('Sales EU')`)

	// Live: a rename reaches the agent's picker.
	must("inboxes tab", click(admin, byName("document", "a", "Inboxes")))
	wait(admin, "card", "!!"+card("Sales EU"))
	must("open card", click(admin, card("Sales EU")+".querySelector('summary')"))
	eval(admin, "select name", card("Sales EU")+`.querySelector('input.input').select()`)
	must("type name", chromedp.Do(admin, chromedp.KeyEvent("Sales Europe")))
	must("save", click(admin, card("Sales EU")+`.querySelector('button[type=submit]')`))
	wait(agent, "renamed live", inboxName+`.includes('Sales Europe')`)

	// Live: a new inbox with the agent in it, then deleted for good.
	must("new inbox name", typeInto(admin, byName("document", "input", "Inbox name"), "Care"))
	must("member", click(admin, checkIn("Members", "Nia New")))
	must("create", click(admin, byName("document", "button", "Create inbox")))
	options := `[...(document.querySelector('.nav-inbox select')?.options ?? [])].map(o => o.textContent).join('|')`
	wait(agent, "new inbox live", options+` === 'Sales Europe|Care' || `+options+` === 'Care|Sales Europe'`)
	wait(admin, "care card", "!!"+card("Care"))
	must("open care", click(admin, card("Care")+".querySelector('summary')"))
	must("delete", click(admin, byName("document", "button", "Delete inbox Care")))
	confirm := byName("document", "input", "Type Care to confirm")
	wait(admin, "dialog", confirm+" !== null && "+byName("document", "button", "Delete for good")+".disabled")
	must("type wrong", typeInto(admin, confirm, "care"))
	if ok, _ := chromedp.Run(admin, chromedp.Evaluate[bool](byName("document", "button", "Delete for good")+".disabled")); !ok {
		t.Fatal("the delete button is enabled for a wrong name")
	}
	eval(admin, "clear", confirm+".select()")
	must("type name", chromedp.Do(admin, chromedp.KeyEvent("Care")))
	shot(admin, "settings-delete-inbox.png")
	must("delete for good", click(admin, byName("document", "button", "Delete for good")))
	wait(admin, "card gone", "!document.querySelector('dialog[open]') && !"+card("Care"))
	wait(agent, "deleted live", `!document.querySelector('.nav-inbox select') && `+inboxName+`.includes('Sales Europe') && document.querySelector('.toasts').textContent.includes('Care')`)
	shot(agent, "console-agent-invited.png")

	// The settings screen in a narrow window.
	must("narrow", chromedp.Do(admin, chromedp.EmulateViewport(420, 900)))
	must("users tab", click(admin, byName("document", "a", "Users")))
	wait(admin, "users", `!!document.querySelector('.settings-table')`)
	shot(admin, "settings-narrow.png")
}
