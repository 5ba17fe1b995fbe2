package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

// TestBrowserCopiesAndForward: the email reply box has Cc and Bcc fields
// with labels, Cc filled with the customer's Cc; the agent adds a Cc and a
// Bcc with the keyboard and sends: the mail carries both as it should,
// the message lists To, Cc and Bcc, Bcc empties and Cc stays. Then Forward
// sends the conversation with a note, and the thread records it, sent.
func TestBrowserCopiesAndForward(t *testing.T) {
	browser := newBrowser(t)
	mp := mailpit.Start(t)
	base, a := startWithMailer(t, smtpSender(t, mp.SMTPAddr))
	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxes.Results[0]["id"].(string), map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	raw := "From: Vera Muster <vera@customer.example>\nTo: support@parley.test\nCc: Bob <bob@customer.example>\nSubject: Invoice 8\nMessage-ID: <cp-1@customer.example>\n\nWhere is invoice 8?\n"
	m, err := mail.Parse(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	m.Recipients = []string{"support@parley.test"}
	if err := a.DeliverMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('.toast, [role=alert], .msg-system, .msg-rcpts')].map(e => e.textContent).join(' | ')`))
			t.Logf("page says: %s", state)
			t.Fatalf("%s: %v", what, err)
		}
	}
	key := func(what, k string) { t.Helper(); must(what, chromedp.Do(tab, chromedp.KeyEvent(k))) }
	listSignIn(t, tab, base)
	must("the thread is listed", waitJS(tab, "!!"+actRow("Invoice 8"), 10*time.Second))
	must("open the thread", click(tab, actRow("Invoice 8")))
	// It reads like mail: the subject heads it; each message is a card
	// across the pane with the sender's address, its recipients and its
	// full date, not a chat bubble.
	must("mail layout", waitJS(tab, `(() => { const ol = document.querySelector('ol.messages.mail');
		const li = ol && [...ol.querySelectorAll('li.msg')].find(li => li.textContent.includes('Where is invoice 8?'));
		return document.querySelector('.conv-subject')?.textContent === 'Invoice 8' && !!li &&
			li.getBoundingClientRect().width > ol.getBoundingClientRect().width * 0.9 &&
			li.querySelector('.msg-address')?.textContent === '<vera@customer.example>' &&
			li.querySelector('.msg-rcpt-cc')?.textContent === 'Cc: Bob <bob@customer.example>' &&
			/\d{4}/.test(li.querySelector('.msg-time').textContent); })()`, 10*time.Second))

	cc := byName("document", "input", "Cc")
	bcc := byName("document", "input", "Bcc")
	must("Cc filled with the customer's Cc", waitJS(tab, cc+"?.value === 'bob@customer.example' && "+cc+".checkVisibility()", 10*time.Second))
	must("Bcc empty", waitJS(tab, bcc+"?.value === ''", time.Second))

	// Keyboard only: to the end of Cc, add one; Tab to Bcc, add one.
	must("focus Cc", typeInto(tab, cc, ""))
	key("end", kb.End)
	key("type Cc", ", dan@partner.example")
	key("tab", "\t")
	must("Tab goes to Bcc", waitJS(tab, "document.activeElement === "+bcc, time.Second))
	key("type Bcc", "audit@books.example")
	reply := byName("document", "textarea", "Reply")
	must("type the reply", typeInto(tab, reply, "Invoice 8 is attached."))
	must("send", pressEnter(tab))

	got := mp.Wait(t, 15*time.Second, "the reply", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "Invoice 8 is attached.") })
	addrs := func(as []mailpit.Address) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Address)
		}
		return out
	}
	if !slices.Equal(addrs(got.To), []string{"vera@customer.example"}) || !slices.Equal(addrs(got.Cc), []string{"bob@customer.example", "dan@partner.example"}) ||
		!slices.Equal(addrs(got.Bcc), []string{"audit@books.example"}) {
		t.Errorf("To %v Cc %v Bcc %v", got.To, got.Cc, got.Bcc)
	}
	sent := `[...document.querySelectorAll('li.msg')].find(li => li.textContent.includes('Invoice 8 is attached.'))`
	must("the message lists To, Cc and Bcc", waitJS(tab, `(() => { const li = `+sent+`; return !!li &&
		li.querySelector('.msg-rcpt-to')?.textContent === 'To: Vera Muster <vera@customer.example>' &&
		li.querySelector('.msg-rcpt-cc')?.textContent === 'Cc: Bob <bob@customer.example>, dan@partner.example' &&
		li.querySelector('.msg-rcpt-bcc')?.textContent === 'Bcc: audit@books.example'; })()`, 10*time.Second))
	must("Bcc empties, Cc stays", waitJS(tab, bcc+".value === '' && "+cc+".value === 'bob@customer.example, dan@partner.example'", 5*time.Second))

	// Forward, with the keyboard: the dialog's To takes focus, Enter sends.
	fwd := byName("document", "button", "Forward")
	must("Forward button", waitJS(tab, fwd+" !== null", 5*time.Second))
	openMore(t, tab)
	must("open Forward", click(tab, fwd))
	dlg := `document.querySelector('dialog[open]')`
	to := byName(dlg, "input", "To")
	must("the dialog's To has focus", waitJS(tab, "document.activeElement === "+to, 5*time.Second))
	must("note", typeInto(tab, byName(dlg, "textarea", "Note (optional)"), "Please check the amount."))
	must("to", typeInto(tab, to, "repair@vendor.example"))
	must("submit", pressEnter(tab))
	must("closed and told", waitJS(tab, `!document.querySelector('dialog[open]') && document.body.textContent.includes('Conversation forwarded to repair@vendor.example.')`, 10*time.Second))
	must("recorded and sent", waitJS(tab, `(() => { const li = document.querySelector('li.msg-forward'); return !!li &&
		li.textContent.includes('Ada forwarded the conversation to repair@vendor.example') &&
		li.textContent.includes('Please check the amount.') && li.querySelector('.msg-delivery')?.textContent === 'Sent'; })()`, 15*time.Second))
	fw := mp.Wait(t, 10*time.Second, "the forward", func(m *mailpit.Message) bool { return m.Subject == "Fwd: Invoice 8" })
	for _, want := range []string{"Please check the amount.", "---------- Forwarded message ----------", "Where is invoice 8?", "Invoice 8 is attached."} {
		if !strings.Contains(fw.Text, want) {
			t.Errorf("forward lacks %q:\n%s", want, fw.Text)
		}
	}
	if strings.Contains(fw.Text, "audit@books.example") {
		t.Errorf("the forward names the Bcc:\n%s", fw.Text)
	}
	actScreenshot(tab, "console-copies-forward.png")
}
