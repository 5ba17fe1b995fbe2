package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

// TestBrowserSendTranscript: on an open chat there is no "Send
// transcript"; once the agent closes it, the action opens a dialog with
// the contact's addresses (the typed one marked "not verified") and the
// prefilled subject; Escape closes it and focus returns to the action; the
// agent picks the unverified address, edits the subject and sends; the
// conversation records it, then shows it sent, and Mailpit gets it.
func TestBrowserSendTranscript(t *testing.T) {
	browser := newBrowser(t)
	mp := mailpit.Start(t)
	base, _ := startWithMailer(t, smtpSender(t, mp.SMTPAddr))
	api := newMailAPI(t, base)

	// A visitor chats and types an address; an agent knows the real one.
	v, _ := dialVisitor(t, base, "")
	defer v.c.CloseNow()
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "Do you ship to Norway?"})
	v.write(t, map[string]any{"type": "contact.email", "clientId": "e1", "email": "vera.home@customer.example"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for got := false; !got; {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("no answer to the address: %v", err)
		}
		for _, ev := range evs {
			got = got || ev["type"] == "contact.email"
		}
	}
	var threads struct{ Results []map[string]any }
	api.do("GET", "/conversations/v3/conversations/threads", nil, &threads)
	if len(threads.Results) != 1 {
		t.Fatalf("threads %v", threads.Results)
	}
	contactID := threads.Results[0]["associatedContactId"].(string)
	if st, body := api.do("PATCH", "/api/v1/contacts/"+contactID, map[string]any{"email": "vera@customer.example", "firstName": "Vera"}, nil); st != 200 {
		t.Fatalf("set email: %d %s", st, body)
	}

	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancelTab()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('dialog, .toast, [role=alert]')].map(e => e.textContent).join(' | ')`))
			t.Logf("page: %s", state)
			t.Fatalf("%s: %v", what, err)
		}
	}
	key := func(what, k string) { t.Helper(); must(what, chromedp.Do(tab, chromedp.KeyEvent(k))) }
	listSignIn(t, tab, base)
	must("the chat is listed", waitJS(tab, "!!"+actRow("Do you ship to Norway?"), 10*time.Second))
	must("open it", click(tab, actRow("Do you ship to Norway?")))
	action := byName("document", "button", "Send transcript")
	closeBtn := byName("document", "button", "Close conversation")
	must("close button", waitJS(tab, closeBtn+" !== null", 10*time.Second))
	openMore(t, tab)
	must("no transcript on an open chat", waitJS(tab, `(`+action+`)?.checkVisibility() !== true`, time.Second))
	must("close the chat", click(tab, closeBtn))
	openMore(t, tab)
	must("the action appears", waitJS(tab, `(`+action+`)?.checkVisibility() === true`, liveWait))

	dlg := `document.querySelector('dialog[open]')`
	to := byName(dlg, "select", "Send to")
	subject := byName(dlg, "input", "Subject")
	must("open the dialog", click(tab, action))
	must("the dialog is filled", waitJS(tab, `(() => { const s = `+to+`; const i = `+subject+`;
		return !!s && !!i && s.options.length === 2 && s.options[0].textContent === 'vera@customer.example' &&
		s.options[1].textContent === 'vera.home@customer.example (not verified)' &&
		i.value === 'Transcript of your chat with Support' && document.activeElement === s; })()`, 10*time.Second))
	must("its title", waitJS(tab, `document.getElementById(`+dlg+`.getAttribute('aria-labelledby')).textContent === 'Send the chat transcript'`, time.Second))
	key("escape", kb.Escape)
	must("Escape closes, focus returns", waitJS(tab, `!`+dlg+` && document.activeElement === `+byName("document", "button", "More actions"), 5*time.Second))

	openMore(t, tab)
	must("open it again", click(tab, action))
	must("filled again", waitJS(tab, `(`+to+`)?.options.length === 2 && document.activeElement === `+to, 10*time.Second))
	key("the typed address", kb.ArrowDown)
	must("picked", waitJS(tab, `(`+to+`).value === 'vera.home@customer.example'`, 5*time.Second))
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const i = `+subject+`; i.focus(); i.select(); return true; })()`))
	must("select the subject", err)
	key("type the subject", "Our chat about Norway")
	must("send", click(tab, byName(dlg, "button", "Send")))
	must("the dialog closes", waitJS(tab, `!`+dlg+` && document.activeElement === `+byName("document", "button", "More actions"), 10*time.Second))
	must("recorded in the conversation", waitJS(tab, `[...document.querySelectorAll('li.msg-system')].some(el => el.textContent.startsWith('Transcript sent to vera.home@customer.example by Ada'))`, liveWait))
	must("its sending is shown", waitJS(tab, `[...document.querySelectorAll('li.msg-system')].find(el => el.textContent.startsWith('Transcript sent to vera.home'))?.querySelector('.msg-delivery')?.textContent === 'Sent'`, liveWait))
	actScreenshot(tab, "console-transcript-sent.png")

	m := mp.Wait(t, 10*time.Second, "the transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera.home@customer.example" })
	if m.Subject != "Our chat about Norway" || !strings.Contains(m.Text, "Do you ship to Norway?") {
		t.Errorf("transcript %q:\n%s", m.Subject, m.Text)
	}
}

// TestBrowserMailTicket: an admin turns on "Create a ticket for every new
// email" for an address with a stage and an owner, from the keyboard; the
// setting is stored, and new mail gets its ticket.
func TestBrowserMailTicket(t *testing.T) {
	browser := newBrowser(t)
	base, a := startWithMailer(t, nil)
	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	inboxID := inboxes.Results[0]["id"].(string)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxID, map[string]any{"emailAddresses": []string{"help@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	var me map[string]any
	api.do("GET", "/api/v1/users/me", nil, &me)

	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	key := func(what, k string) { t.Helper(); must(what, chromedp.Do(tab, chromedp.KeyEvent(k))) }
	focus := func(what, expr string) {
		t.Helper()
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){ const el = `+expr+`; if (!el) return false; el.focus(); return document.activeElement === el; })()`))
		if err != nil || !ok {
			t.Fatalf("focus %s: %v", what, err)
		}
	}
	listSignIn(t, tab, base)
	must("signed in", waitJS(tab, byName("document", "a", "Settings")+" !== null", 10*time.Second))
	must("settings", chromedp.Do(tab, chromedp.Navigate(base+"/settings/inboxes")))
	card := `[...document.querySelectorAll('details.group-card')].find(d => d.querySelector('.group-name').textContent === 'Support')`
	must("inbox card", waitJS(tab, "!!"+card, 10*time.Second))
	must("open card", click(tab, card+".querySelector('summary')"))
	form := card + ".querySelector('form.inbox-mail')"
	routing := form + `.querySelector('fieldset.mail-routing')`
	box := byName(routing, "input", "Create a ticket for every new email")
	stage := byName(routing, "select", "Stage of the new ticket")
	owner := byName(routing, "select", "Owner of the new ticket")
	must("the checkbox", waitJS(tab, "!!"+box+" && !("+box+").checked", 5*time.Second))
	must("pickers hidden", waitJS(tab, "!("+stage+").checkVisibility() && !("+owner+").checkVisibility()", 5*time.Second))

	focus("the checkbox", box)
	key("check", " ")
	must("pickers shown", waitJS(tab, "("+box+").checked && ("+stage+").checkVisibility() && ("+owner+").checkVisibility()", 5*time.Second))
	must("stage options", waitJS(tab, `[...(`+stage+`).options].map(o => o.textContent).join('|') === 'New|Waiting on contact|Closed'`, time.Second))
	focus("stage", stage)
	key("waiting", kb.ArrowDown)
	must("stage waiting", waitJS(tab, "("+stage+").value === 'waiting'", 5*time.Second))
	focus("owner", owner)
	key("assignee", kb.ArrowDown)
	key("the admin", kb.ArrowDown)
	must("owner the admin", waitJS(tab, fmt.Sprintf("(%s).value === %q", owner, me["id"]), 5*time.Second))
	focus("save", byName(form, "button", "Save email settings"))
	key("save", kb.Enter)
	must("saved", waitJS(tab, `document.body.textContent.includes('Email settings of Support saved.')`, 5*time.Second))

	var in struct {
		Mailboxes []struct {
			Routing struct {
				CreateTicket map[string]any
			}
		}
	}
	api.do("GET", "/api/v1/inboxes/"+inboxID, nil, &in)
	if ct := in.Mailboxes[0].Routing.CreateTicket; ct["stage"] != "waiting" || ct["owner"] != "user" || ct["ownerId"] != me["id"] {
		t.Fatalf("stored createTicket %v", ct)
	}
	must("reloaded", waitJS(tab, "("+box+").checked && ("+stage+").value === 'waiting'", 5*time.Second))

	// A new email gets its ticket.
	deliverTo(t, a, "help@parley.test", "From: Ann <ann@customer.example>\nTo: help@parley.test\nSubject: Broken parcel\nMessage-ID: <bt-1@customer.example>\n\nIt arrived broken.\n")
	var threads struct{ Results []map[string]any }
	api.do("GET", "/conversations/v3/conversations/threads", nil, &threads)
	if len(threads.Results) != 1 {
		t.Fatalf("threads %v", threads.Results)
	}
	var recs struct{ Results []map[string]any }
	api.do("GET", "/api/v1/threads/"+threads.Results[0]["id"].(string)+"/records", nil, &recs)
	if len(recs.Results) != 1 || recs.Results[0]["name"] != "Broken parcel" || recs.Results[0]["stage"] != "waiting" || recs.Results[0]["ownerId"] != me["id"] {
		t.Errorf("tickets %v", recs.Results)
	}
}

// deliverTo hands raw (with \n line ends) to the app as mail for rcpt.
func deliverTo(t *testing.T, a *app.App, rcpt, raw string) {
	t.Helper()
	m, err := mail.Parse(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	m.Recipients = []string{rcpt}
	if err := a.DeliverMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}
