package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley/internal/mailpit"
)

// mailAPI is a signed-in API client of a Parley process.
type mailAPI struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newMailAPI(t *testing.T, base string) *mailAPI {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &mailAPI{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if st, body := a.do("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "correct horse battery"}, nil); st != 200 {
		t.Fatalf("sign in: %d %s", st, body)
	}
	return a
}

func (a *mailAPI) do(method, path string, body, out any) (int, string) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode, string(b)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sendSMTP delivers raw (with \n line ends) to Parley's SMTP receiver.
func sendSMTP(addr, from, to, raw string) error {
	return smtp.SendMail(addr, nil, from, []string{to}, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

// emailThreads lists the email threads of the admin's inboxes.
func (a *mailAPI) emailThreads() []map[string]any {
	var page struct{ Results []map[string]any }
	a.do("GET", "/conversations/v3/conversations/threads?view=email", nil, &page)
	return page.Results
}

// TestMailEndToEnd runs the binary with inbound and outbound mail: mail in
// over SMTP becomes a thread; the agent's reply, accepted while the SMTP
// server is down, is sent after a restart with working SMTP, with
// threading headers; the customer's answer joins the same thread.
func TestMailEndToEnd(t *testing.T) {
	mp := mailpit.Start(t)
	dir := t.TempDir()
	smtpIn := freePort(t)
	dead := freePort(t) // nothing listens here
	env := []string{"PARLEY_MAIL_FROM=parley@parley.test", "PARLEY_SMTP_LISTEN=" + smtpIn}

	p := startProc(t, dir, append(env, "PARLEY_SMTP_URL=smtp://"+dead+"?tls=none")...)
	api := newMailAPI(t, p.base())
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	inboxID := inboxes.Results[0]["id"].(string)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxID, map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}

	if err := sendSMTP(smtpIn, "x@customer.example", "nobody@parley.test", "From: x@customer.example\n\nhi\n"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("mail for an unknown address: %v, want 550", err)
	}
	first := "From: Ann Lee <ann@customer.example>\nTo: support@parley.test\nSubject: =?UTF-8?Q?Bestellung_42_f=C3=BCr_M=C3=BCnchen?=\nMessage-ID: <e2e-1@customer.example>\nContent-Type: text/plain; charset=utf-8\n\nWo bleibt meine Bestellung?\n"
	if err := sendSMTP(smtpIn, "ann@customer.example", "support@parley.test", first); err != nil {
		t.Fatal(err)
	}
	threads := api.emailThreads()
	if len(threads) != 1 || threads[0]["subject"] != "Bestellung 42 für München" || threads[0]["originalChannelId"] != "1002" {
		t.Fatalf("email threads %v", threads)
	}
	id := threads[0]["id"].(string)
	var msg map[string]any
	if st, body := api.do("POST", "/conversations/v3/conversations/threads/"+id+"/messages", map[string]any{"type": "MESSAGE", "text": "Sie ist unterwegs."}, &msg); st != 201 {
		t.Fatalf("reply: %d %s", st, body)
	}

	// Stop while the reply waits in the outbox; start again with a working
	// SMTP server.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p = startProc(t, dir, append(env, "PARLEY_SMTP_URL=smtp://"+mp.SMTPAddr+"?tls=none")...)
	api = newMailAPI(t, p.base())
	reply := mp.Wait(t, 10*time.Second, "the reply after the restart", func(m *mailpit.Message) bool {
		return len(m.To) == 1 && m.To[0].Address == "ann@customer.example"
	})
	if reply.Subject != "Re: Bestellung 42 für München" || !strings.Contains(reply.Text, "Sie ist unterwegs.") || reply.From.Address != "support@parley.test" {
		t.Errorf("reply %q from %v: %q", reply.Subject, reply.From, reply.Text)
	}
	h, err := mp.Headers(reply.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h["In-Reply-To"], ""); got != "<e2e-1@customer.example>" {
		t.Errorf("In-Reply-To %q", got)
	}

	// The customer answers the reply: it joins the thread.
	answer := fmt.Sprintf("From: Ann Lee <ann@customer.example>\nTo: support@parley.test\nSubject: Re: Bestellung 42\nMessage-ID: <e2e-2@customer.example>\nIn-Reply-To: <%s>\nReferences: <e2e-1@customer.example> <%s>\n\nDanke!\n", reply.MessageID, reply.MessageID)
	if err := sendSMTP(smtpIn, "ann@customer.example", "support@parley.test", answer); err != nil {
		t.Fatal(err)
	}
	if threads := api.emailThreads(); len(threads) != 1 || threads[0]["id"] != id {
		t.Fatalf("after the answer: threads %v, want only %s", threads, id)
	}
	var msgs struct{ Results []map[string]any }
	api.do("GET", "/conversations/v3/conversations/threads/"+id+"/messages", nil, &msgs)
	var texts []string
	for _, m := range msgs.Results {
		if m["type"] == "MESSAGE" {
			texts = append(texts, m["text"].(string))
		}
		if m["id"] == msg["id"] && m["status"].(map[string]any)["statusType"] != "SENT" {
			t.Errorf("reply status %v, want SENT", m["status"])
		}
	}
	if strings.Join(texts, "|") != "Wo bleibt meine Bestellung?|Sie ist unterwegs.|Danke!" {
		t.Errorf("messages %q", texts)
	}
}

// TestMailConfig: bad mail settings stop the start with a clear error.
func TestMailConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"tls none off loopback", map[string]string{"PARLEY_SMTP_URL": "smtp://mail.example.com?tls=none"}, "only for a loopback host"},
		{"bad scheme", map[string]string{"PARLEY_SMTP_URL": "ftp://mail.example.com"}, "PARLEY_SMTP_URL"},
		{"bad sender", map[string]string{"PARLEY_MAIL_FROM": "not-an-address"}, "PARLEY_MAIL_FROM"},
		{"bad listen address", map[string]string{"PARLEY_SMTP_LISTEN": "127.0.0.1:99999"}, "smtp listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PARLEY_DATA": t.TempDir(), "PARLEY_ADMIN_EMAIL": "admin@example.com", "PARLEY_ADMIN_PASSWORD": "correct horse battery"}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(t.Context(), []string{"--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("run: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestBrowserInboxEmail: an admin gives the inbox an email address and
// picks who gets outside notifications in the inbox's settings card, with
// real controls; the API then shows both.
func TestBrowserInboxEmail(t *testing.T) {
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
	form := card + ".querySelector('form.inbox-mail')"
	must("email form", waitJS(tab, "!!"+form+" && "+form+".checkVisibility()", 5*time.Second))
	must("address", typeInto(tab, byName(form, "textarea", "Email addresses"), "Help@Parley.test"))
	check := func(legend string) string {
		return `[...` + form + `.querySelectorAll('fieldset')].find(f => f.querySelector('legend').textContent === ` + jsString(legend) + `).querySelector('input[type=checkbox]')`
	}
	must("notify new", click(tab, check("Email these members about every new conversation")))
	must("signature", typeInto(tab, byName(form, "textarea", "Email signature of the inbox"), "ACME Support"))
	must("save", click(tab, byName(form, "button", "Save email settings")))
	must("saved", waitJS(tab, `document.body.textContent.includes('Email settings of Support saved.')`, 5*time.Second))

	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	in := inboxes.Results[0]
	addrs, _ := in["emailAddresses"].([]any)
	notify, _ := in["notify"].(map[string]any)
	if len(addrs) != 1 || addrs[0] != "Help@parley.test" {
		t.Errorf("emailAddresses=%v", in["emailAddresses"])
	}
	if ids, _ := notify["newConversation"].([]any); len(ids) != 1 {
		t.Errorf("notify=%v, want the admin for new conversations", notify)
	}
	if in["signature"] != "<p>ACME Support</p>" {
		t.Errorf("signature=%v, want the typed text as a paragraph", in["signature"])
	}
	// After the save the card shows what is stored.
	must("reloaded", waitJS(tab, byName(form, "textarea", "Email addresses")+".value === 'Help@parley.test'", 5*time.Second))
}

// TestMailLoopEndToEnd runs the binary with its SMTP receiver and Mailpit
// and plays a forwarding alias: the admin's notification about a new
// conversation is sent back, byte for byte, to the inbox's address, round
// after round. Parley stores it once, Filtered and marked automatic, and
// never notifies again; the notification says Auto-Submitted.
func TestMailLoopEndToEnd(t *testing.T) {
	mp := mailpit.Start(t)
	smtpIn := freePort(t)
	p := startProc(t, t.TempDir(), "PARLEY_MAIL_FROM=parley@parley.test", "PARLEY_SMTP_LISTEN="+smtpIn,
		"PARLEY_SMTP_URL=smtp://"+mp.SMTPAddr+"?tls=none")
	api := newMailAPI(t, p.base())
	var me map[string]any
	api.do("GET", "/api/v1/users/me", nil, &me)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxes.Results[0]["id"].(string), map[string]any{
		"emailAddresses": []string{"support@parley.test"},
		"notify":         map[string]any{"newConversation": []any{me["id"]}},
	}, nil); st != 200 {
		t.Fatalf("set address and notifications: %d %s", st, body)
	}

	first := "From: Ann Lee <ann@customer.example>\nTo: support@parley.test\nSubject: Order 42\nMessage-ID: <e2e-loop-1@customer.example>\n\nWhere is my order?\n"
	if err := sendSMTP(smtpIn, "ann@customer.example", "support@parley.test", first); err != nil {
		t.Fatal(err)
	}
	note := mp.Wait(t, 10*time.Second, "the notification", func(m *mailpit.Message) bool { return m.To[0].Address == "admin@example.com" })
	if h, err := mp.Headers(note.ID); err != nil || strings.Join(h["Auto-Submitted"], "") != "auto-generated" {
		t.Errorf("notification headers %v, %v: want Auto-Submitted: auto-generated", h, err)
	}
	for round := range 4 {
		list, _ := mp.Messages()
		raw, err := mp.Raw(list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		// sendSMTP makes \n line ends \r\n again.
		if err := sendSMTP(smtpIn, "admin@example.com", "support@parley.test", strings.ReplaceAll(string(raw), "\r\n", "\n")); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if list, _ := mp.Messages(); len(list) != 1 {
		t.Errorf("%d mails went out, want the one notification", len(list))
	}
	var filtered struct{ Results []map[string]any }
	api.do("GET", "/conversations/v3/conversations/threads?view=filtered", nil, &filtered)
	if threads := api.emailThreads(); len(threads) != 1 || len(filtered.Results) != 1 || filtered.Results[0]["automatic"] != true {
		t.Errorf("email threads %d, filtered %v; want Ann's and one automatic", len(threads), filtered.Results)
	}
}

// TestBrowserInboxMailRouting: in an inbox's email settings the admin, with
// the keyboard alone, chooses that new email to an address goes to a chosen
// team member and saves; the settings API then holds that routing, and the
// card shows it after the save.
func TestBrowserInboxMailRouting(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
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
	must("routing of the address", waitJS(tab, "!!"+routing+" && "+routing+".querySelector('legend').textContent === 'New conversations to help@parley.test'", 5*time.Second))
	mode := byName(routing, "select", "Assign to")
	must("mode none", waitJS(tab, mode+".value === 'none'", 5*time.Second))
	users := `[...` + routing + `.querySelectorAll('fieldset')].find(f => f.querySelector('legend').textContent === 'Team members who get them')`
	must("users hidden", waitJS(tab, "!"+users+".checkVisibility()", 5*time.Second))

	focus("mode", mode)
	key("owner", kb.ArrowDown)
	key("users", kb.ArrowDown)
	must("mode users", waitJS(tab, mode+".value === 'users' && "+users+".checkVisibility()", 5*time.Second))
	focus("the admin", users+".querySelector('input[type=checkbox]')")
	key("check", " ")
	must("checked", waitJS(tab, users+".querySelector('input[type=checkbox]').checked", 5*time.Second))
	focus("save", byName(form, "button", "Save email settings"))
	key("save", kb.Enter)
	must("saved", waitJS(tab, `document.body.textContent.includes('Email settings of Support saved.')`, 5*time.Second))

	var in struct {
		Mailboxes []struct {
			Address string
			Routing struct {
				Mode    string
				UserIDs []string
			}
		}
	}
	api.do("GET", "/api/v1/inboxes/"+inboxID, nil, &in)
	if len(in.Mailboxes) != 1 || in.Mailboxes[0].Routing.Mode != "users" || fmt.Sprint(in.Mailboxes[0].Routing.UserIDs) != fmt.Sprintf("[%v]", me["id"]) {
		t.Errorf("stored %+v, want mode users to the admin %v", in.Mailboxes, me["id"])
	}
	must("reloaded", waitJS(tab, mode+".value === 'users'", 5*time.Second))
}
