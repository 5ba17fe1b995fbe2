package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/crypto/bcrypt"

	"github.com/parley-chat/parley/internal/imaptest"
	"github.com/parley-chat/parley/internal/mailpit"
)

// The connected-mailbox tests run Parley as a process against a real
// Dovecot (IMAP) and a real Mailpit (the account's SMTP server, with a
// password).

const (
	teamAddr     = "team@parley.test"
	imapPassword = "imap-Secret-9f3c"
	smtpPassword = "smtp-Secret-71ad"
	secretKeyHex = "8f2b6f4e0d1c3a5b7e9f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
)

// mailAccount is a Dovecot and a Mailpit that make one mail account.
type mailAccount struct {
	imap *imaptest.Server
	smtp *mailpit.Server
}

func startMailAccount(t *testing.T, opts *imaptest.Options) *mailAccount {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(smtpPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(t.TempDir(), "smtp-auth")
	if err := os.WriteFile(auth, []byte(teamAddr+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &mailAccount{
		imap: imaptest.Start(t, map[string]string{teamAddr: imapPassword}, opts),
		smtp: mailpit.Start(t, "--smtp-auth-file", auth, "--smtp-auth-allow-insecure"),
	}
}

// connection is the body that connects the account.
func (m *mailAccount) connection(imapPass, smtpPass string) map[string]any {
	host := func(addr string) (string, int) {
		h, p, _ := strings.Cut(addr, ":")
		var port int
		fmt.Sscan(p, &port)
		return h, port
	}
	ih, ip := host(m.imap.Addr)
	sh, sp := host(m.smtp.SMTPAddr)
	c := map[string]any{
		"imap": map[string]any{"host": ih, "port": ip, "tls": "none", "username": teamAddr},
		"smtp": map[string]any{"host": sh, "port": sp, "tls": "none", "username": teamAddr},
	}
	if imapPass != "" {
		c["imap"].(map[string]any)["password"] = imapPass
	}
	if smtpPass != "" {
		c["smtp"].(map[string]any)["password"] = smtpPass
	}
	return c
}

// mailEnv is what a Parley with connected mailboxes on loopback needs.
func mailEnv(extra ...string) []string {
	return append([]string{"PARLEY_SECRET_KEY=" + secretKeyHex, "PARLEY_ALLOW_PRIVATE_MAIL_HOSTS=true",
		"PARLEY_MAIL_ALLOW_INSECURE=true"}, extra...)
}

// teamMailbox gives the first inbox the address teamAddr and returns the
// inbox and mailbox ids.
func teamMailbox(t *testing.T, api *mailAPI) (inboxID, mailboxID string) {
	t.Helper()
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	inboxID = inboxes.Results[0]["id"].(string)
	var in struct {
		Mailboxes []struct{ ID, Address string }
	}
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxID, map[string]any{"emailAddresses": []string{teamAddr}}, &in); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	return inboxID, in.Mailboxes[0].ID
}

// connectionState returns the mailbox's connection as the API shows it,
// and the raw answer.
func connectionState(t *testing.T, api *mailAPI, inboxID string) (map[string]any, string) {
	t.Helper()
	var in struct{ Mailboxes []map[string]any }
	_, body := api.do("GET", "/api/v1/inboxes/"+inboxID, nil, &in)
	if len(in.Mailboxes) == 0 {
		return nil, body
	}
	c, _ := in.Mailboxes[0]["connection"].(map[string]any)
	return c, body
}

// waitState waits until the mailbox's connection state is status.
func waitState(t *testing.T, api *mailAPI, inboxID, status string) map[string]any {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, body := connectionState(t, api, inboxID)
		if st, _ := c["state"].(map[string]any); st != nil && st["status"] == status {
			return st
		}
		last = body
	}
	t.Fatalf("connection state never %q: %s", status, last)
	return nil
}

// waitThreads waits until the inbox has n email threads and returns them.
func waitThreads(t *testing.T, api *mailAPI, n int, what string) []map[string]any {
	t.Helper()
	var threads []map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if threads = api.emailThreads(); len(threads) >= n {
			break
		}
	}
	if len(threads) != n {
		t.Fatalf("%s: %d email threads, want %d", what, len(threads), n)
	}
	return threads
}

func subjects(threads []map[string]any) []string {
	var out []string
	for _, th := range threads {
		out = append(out, fmt.Sprint(th["subject"]))
	}
	slices.Sort(out)
	return out
}

func customerMail(n int) []byte {
	return []byte(fmt.Sprintf("From: Ann Lee <ann@customer.example>\r\nTo: %s\r\nSubject: Order %d\r\nMessage-ID: <order-%d@customer.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nWhere is order %d?\r\n", teamAddr, n, n, n))
}

// drainLogs returns the log lines p wrote so far.
func drainLogs(p *proc) []string {
	var out []string
	for {
		select {
		case line, ok := <-p.logs:
			if !ok {
				return out
			}
			out = append(out, fmt.Sprint(line))
		default:
			return out
		}
	}
}

func checkNoSecrets(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range []string{imapPassword, smtpPassword, secretKeyHex} {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds a secret: %s", what, s)
			}
		}
	}
}

// TestConnectedMailbox connects an inbox address to a Dovecot account with
// IDLE and Mailpit as its SMTP server: mail stored in the account's INBOX
// becomes threads, each once, across a restart of Parley, an outage of the
// IMAP server and a new UIDVALIDITY; a malformed message is skipped; an
// agent's reply leaves through the account's SMTP server and lands in its
// Sent folder; passwords never show.
func TestConnectedMailbox(t *testing.T) {
	acct := startMailAccount(t, nil)
	dir := t.TempDir()
	p := startProc(t, dir, mailEnv()...)
	api := newMailAPI(t, p.base())
	inboxID, mailboxID := teamMailbox(t, api)
	connPath := "/api/v1/inboxes/" + inboxID + "/mailboxes/" + mailboxID + "/connection"

	// Tests that fail precisely, and store nothing.
	tests := []struct {
		name           string
		body           map[string]any
		server, kind   string
		wantImapPassed bool
	}{
		{"wrong imap password", acct.connection("wrong", smtpPassword), "imap", "auth", false},
		{"wrong smtp password", acct.connection(imapPassword, "wrong"), "smtp", "auth", true},
		{"imap unreachable", func() map[string]any {
			c := acct.connection(imapPassword, smtpPassword)
			c["imap"].(map[string]any)["port"] = 1
			return c
		}(), "imap", "unreachable", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res map[string]map[string]any
			st, body := api.do("POST", connPath+"/test", tc.body, nil)
			decodeCheck(t, body, &res)
			if st != 200 {
				t.Fatalf("test: %d %s", st, body)
			}
			if got := res[tc.server]["kind"]; got != tc.kind || res[tc.server]["ok"] != false {
				t.Errorf("%s: %s, want kind %s", tc.server, body, tc.kind)
			}
			if got := res["imap"]["ok"] == true; got != tc.wantImapPassed {
				t.Errorf("imap ok=%v, want %v: %s", got, tc.wantImapPassed, body)
			}
			checkNoSecrets(t, "test answer", body)
		})
	}
	if c, _ := connectionState(t, api, inboxID); c != nil {
		t.Fatalf("a test stored a connection: %v", c)
	}
	var ok map[string]any
	if st, body := api.do("POST", connPath+"/test", acct.connection(imapPassword, smtpPassword), &ok); st != 200 || ok["ok"] != true {
		t.Fatalf("test with the right passwords: %d %s", st, body)
	}
	if st, body := api.do("PUT", connPath, map[string]any{"imap": map[string]any{"host": "x"}, "smtpServer": 1}, nil); st != 400 || !strings.Contains(body, "smtpServer") {
		t.Errorf("unknown field: %d %s", st, body)
	}
	if st, body := api.do("PUT", connPath, acct.connection(imapPassword, "wrong"), nil); st != 400 || !strings.Contains(body, "authentication failed") {
		t.Errorf("connect with a wrong password: %d %s", st, body)
	}

	// Mail already there when connecting stays out.
	acct.imap.Append(teamAddr, imapPassword, "INBOX", []byte("From: old@customer.example\r\nSubject: Old\r\nMessage-ID: <old@customer.example>\r\n\r\nold\r\n"))
	if st, body := api.do("PUT", connPath, acct.connection(imapPassword, smtpPassword), nil); st != 200 {
		t.Fatalf("connect: %d %s", st, body)
	}
	st := waitState(t, api, inboxID, "connected")
	if st["idle"] != true {
		t.Errorf("state %v, want idle", st)
	}
	c, body := connectionState(t, api, inboxID)
	checkNoSecrets(t, "inbox", body)
	// The audit log has the connection, once (the attempt with a wrong
	// password changed nothing), naming what changed without a password.
	var audit struct {
		Results []struct {
			ObjectID string
			Changes  []struct{ Field string }
		}
	}
	if st, body := api.do("GET", "/api/v1/audit?action=mailbox.", nil, &audit); st != 200 || len(audit.Results) != 1 ||
		audit.Results[0].ObjectID != mailboxID || len(audit.Results[0].Changes) == 0 || audit.Results[0].Changes[0].Field != "connection" {
		t.Errorf("audit log of the connection: %d %s", st, body)
	} else {
		checkNoSecrets(t, "the audit log", body)
	}
	if strings.Contains(body, `"password"`) || c["imap"].(map[string]any)["passwordSet"] != true || c["smtp"].(map[string]any)["passwordSet"] != true {
		t.Errorf("connection %s, want passwordSet and no password", body)
	}

	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(1))
	threads := waitThreads(t, api, 1, "after the first mail")
	if threads[0]["subject"] != "Order 1" {
		t.Fatalf("thread %v", threads[0])
	}
	threadID := threads[0]["id"].(string)

	// The reply leaves through the account's SMTP server (this Parley has
	// no PARLEY_SMTP_URL) and is stored in its Sent folder.
	var reply map[string]any
	if st, body := api.do("POST", "/conversations/v3/conversations/threads/"+threadID+"/messages", map[string]any{"type": "MESSAGE", "text": "It ships today.", "recipients": []map[string]any{
		{"actorId": "V-" + fmt.Sprint(threads[0]["associatedContactId"]), "recipientField": "TO"},
		{"recipientField": "CC", "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "dave@partner.example"}}},
		{"recipientField": "BCC", "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "eve@audit.example"}}},
	}}, &reply); st != 201 {
		t.Fatalf("reply: %d %s", st, body)
	}
	sent := acct.smtp.Wait(t, 20*time.Second, "the reply", func(m *mailpit.Message) bool {
		return len(m.To) == 1 && m.To[0].Address == "ann@customer.example"
	})
	if sent.From.Address != teamAddr || !strings.Contains(sent.Text, "It ships today.") {
		t.Errorf("reply from %v: %q", sent.From, sent.Text)
	}
	if len(sent.Cc) != 1 || sent.Cc[0].Address != "dave@partner.example" || len(sent.Bcc) != 1 || sent.Bcc[0].Address != "eve@audit.example" {
		t.Errorf("reply Cc=%v Bcc=%v, want dave and eve", sent.Cc, sent.Bcc)
	}
	var inSent []imaptest.Message
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(inSent) == 0; time.Sleep(100 * time.Millisecond) {
		inSent = acct.imap.Messages(teamAddr, imapPassword, "Sent")
	}
	if len(inSent) != 1 {
		t.Fatalf("Sent folder holds %d messages, want 1", len(inSent))
	}
	if strings.Contains(string(inSent[0].Raw), "eve@audit.example") {
		t.Errorf("the Sent copy names the Bcc:\n%s", inSent[0].Raw)
	}
	if !strings.Contains(string(inSent[0].Raw), "<"+sent.MessageID+">") || !slices.Contains(inSent[0].Flags, `\Seen`) {
		t.Errorf("Sent copy flags %v, want \\Seen and Message-ID %s:\n%s", inSent[0].Flags, sent.MessageID, inSent[0].Raw)
	}
	if msgs, _ := acct.smtp.Messages(); len(msgs) != 1 {
		t.Errorf("mailpit got %d messages, want the reply once", len(msgs))
	}

	// A restart imports nothing twice, and what arrives meanwhile once.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	checkNoSecrets(t, "the log", drainLogs(p)...)
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(2))
	p = startProc(t, dir, mailEnv()...)
	api = newMailAPI(t, p.base())
	waitThreads(t, api, 2, "after the restart")

	// The IMAP server goes away: the state says so; it comes back: the
	// import resumes.
	acct.imap.Stop()
	st = waitState(t, api, inboxID, "error")
	if st["errorKind"] != "unreachable" {
		t.Errorf("state while dovecot is down: %v", st)
	}
	acct.imap.Start()
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(3))
	waitState(t, api, inboxID, "connected")
	waitThreads(t, api, 3, "after the outage")

	// A new UIDVALIDITY: the mail is read again and stored once.
	acct.imap.ChangeUIDValidity(teamAddr, "INBOX")
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(4))
	waitThreads(t, api, 4, "after the new UIDVALIDITY")

	// Hostile mail is skipped, and the mail after it still comes in.
	acct.imap.Append(teamAddr, imapPassword, "INBOX", []byte("Subject: no sender\r\n\r\nx\r\n"))
	acct.imap.Append(teamAddr, imapPassword, "INBOX", []byte("From: \xff\xfe<<@@\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\x00\x01\x80 garbage"))
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(5))
	waitThreads(t, api, 5, "after the hostile mail")

	// Saving the connection again without passwords keeps them, and the
	// import where it was.
	if st, body := api.do("PUT", connPath, acct.connection("", ""), nil); st != 200 {
		t.Fatalf("save again without passwords: %d %s", st, body)
	}
	waitState(t, api, inboxID, "connected")
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(6))
	threads = waitThreads(t, api, 6, "after saving again")
	if got, want := subjects(threads), []string{"Order 1", "Order 2", "Order 3", "Order 4", "Order 5", "Order 6"}; !slices.Equal(got, want) {
		t.Errorf("threads %v, want %v", got, want)
	}
	var msgs struct{ Results []map[string]any }
	api.do("GET", "/conversations/v3/conversations/threads/"+threadID+"/messages", nil, &msgs)
	if len(msgs.Results) != 2 {
		t.Errorf("thread of order 1 has %d messages, want the mail and the reply", len(msgs.Results))
	}
	// The team's mail client finds the mail as it was: nothing deleted,
	// nothing marked read.
	for _, m := range acct.imap.Messages(teamAddr, imapPassword, "INBOX") {
		if slices.Contains(m.Flags, `\Seen`) || slices.Contains(m.Flags, `\Deleted`) {
			t.Errorf("uid %d flags %v", m.UID, m.Flags)
		}
	}

	logs := strings.Join(drainLogs(p), "\n")
	for _, want := range []string{"UIDVALIDITY changed", "connected mailbox: message skipped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q", want)
		}
	}
	checkNoSecrets(t, "the log", logs)

	// Disconnecting keeps the address and forgets the account.
	if st, body := api.do("DELETE", connPath, nil, nil); st != 204 {
		t.Fatalf("disconnect: %d %s", st, body)
	}
	if c, body := connectionState(t, api, inboxID); c != nil || !strings.Contains(body, teamAddr) {
		t.Errorf("after disconnecting: %s", body)
	}
	checkNoSecrets(t, "the log", drainLogs(p)...)
}

// TestConnectedMailboxPolling: a server without IDLE is polled at
// --imap-poll-interval.
func TestConnectedMailboxPolling(t *testing.T) {
	acct := startMailAccount(t, &imaptest.Options{NoIdle: true})
	p := startProc(t, t.TempDir(), mailEnv("PARLEY_IMAP_POLL_INTERVAL=300ms")...)
	api := newMailAPI(t, p.base())
	inboxID, mailboxID := teamMailbox(t, api)
	if st, body := api.do("PUT", "/api/v1/inboxes/"+inboxID+"/mailboxes/"+mailboxID+"/connection", acct.connection(imapPassword, smtpPassword), nil); st != 200 {
		t.Fatalf("connect: %d %s", st, body)
	}
	if st := waitState(t, api, inboxID, "connected"); st["idle"] != false {
		t.Errorf("state %v, want no idle", st)
	}
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(1))
	acct.imap.Append(teamAddr, imapPassword, "INBOX", customerMail(2))
	waitThreads(t, api, 2, "polled")
}

// TestConnectedMailboxRefusals: what an admin may not connect, and who may
// not connect at all.
func TestConnectedMailboxRefusals(t *testing.T) {
	acct := startMailAccount(t, nil)
	dir := t.TempDir()
	// No secret key, no private hosts, no plain text.
	p := startProc(t, dir)
	api := newMailAPI(t, p.base())
	inboxID, mailboxID := teamMailbox(t, api)
	connPath := "/api/v1/inboxes/" + inboxID + "/mailboxes/" + mailboxID + "/connection"
	if st, body := api.do("PUT", connPath, acct.connection(imapPassword, smtpPassword), nil); st != 400 || !strings.Contains(body, "PARLEY_SECRET_KEY") {
		t.Errorf("without a key: %d %s", st, body)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	p = startProc(t, dir, "PARLEY_SECRET_KEY="+secretKeyHex, "PARLEY_MAIL_ALLOW_INSECURE=true")
	api = newMailAPI(t, p.base())
	ssrf := []struct{ name, host string }{{"loopback address", "127.0.0.1"}, {"name resolving to loopback", "localhost"}, {"private address", "10.1.2.3"}, {"ipv6 loopback", "::1"}}
	for _, tc := range ssrf {
		t.Run(tc.name, func(t *testing.T) {
			c := acct.connection(imapPassword, smtpPassword)
			c["imap"].(map[string]any)["host"] = tc.host
			if st, body := api.do("PUT", connPath, c, nil); st != 400 || !strings.Contains(body, "allow-private-mail-hosts") {
				t.Errorf("connect: %d %s", st, body)
			}
			var res map[string]map[string]any
			_, body := api.do("POST", connPath+"/test", c, nil)
			if decodeCheck(t, body, &res); res["imap"]["kind"] != "refused" {
				t.Errorf("test: %s", body)
			}
		})
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	p = startProc(t, dir, "PARLEY_SECRET_KEY="+secretKeyHex, "PARLEY_ALLOW_PRIVATE_MAIL_HOSTS=true")
	api = newMailAPI(t, p.base())
	if st, body := api.do("PUT", connPath, acct.connection(imapPassword, smtpPassword), nil); st != 400 || !strings.Contains(body, "mail-allow-insecure") {
		t.Errorf("plain text without the flag: %d %s", st, body)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	p = startProc(t, dir, mailEnv()...)
	api = newMailAPI(t, p.base())
	if st, body := api.do("PUT", connPath, acct.connection(imapPassword, smtpPassword), nil); st != 200 {
		t.Fatalf("connect: %d %s", st, body)
	}
	// An agent may neither connect, test nor disconnect.
	agent := newAgentAPI(t, api, p.base())
	for _, r := range []struct{ method, path string }{{"PUT", connPath}, {"POST", connPath + "/test"}, {"DELETE", connPath}} {
		if st, body := agent.do(r.method, r.path, acct.connection(imapPassword, smtpPassword), nil); st != 403 {
			t.Errorf("agent %s %s: %d %s", r.method, r.path, st, body)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	// Another key: the passwords cannot be read; the mailbox says so and
	// Parley runs on.
	p = startProc(t, dir, "PARLEY_SECRET_KEY="+strings.Repeat("ab", 32), "PARLEY_ALLOW_PRIVATE_MAIL_HOSTS=true", "PARLEY_MAIL_ALLOW_INSECURE=true")
	api = newMailAPI(t, p.base())
	if st := waitState(t, api, inboxID, "error"); st["errorKind"] != "key" || !strings.Contains(fmt.Sprint(st["error"]), "PARLEY_SECRET_KEY") {
		t.Errorf("state with another key: %v", st)
	}
	if res, err := http.Get(p.base() + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Errorf("healthz: %v %v", res, err)
	}
	checkNoSecrets(t, "the log", drainLogs(p)...)
}

// decodeCheck decodes the imap and smtp parts of a test's answer.
func decodeCheck(t *testing.T, body string, res *map[string]map[string]any) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	*res = map[string]map[string]any{}
	for _, k := range []string{"imap", "smtp"} {
		var m map[string]any
		_ = json.Unmarshal(raw[k], &m)
		(*res)[k] = m
	}
}

// newAgentAPI invites an agent into the first inbox and returns their
// signed-in client.
func newAgentAPI(t *testing.T, admin *mailAPI, base string) *mailAPI {
	t.Helper()
	var inv map[string]any
	if st, body := admin.do("POST", "/api/v1/invites", map[string]any{"email": "bea@example.com", "inboxIds": []string{"1"}}, &inv); st != 201 {
		t.Fatalf("invite: %d %s", st, body)
	}
	_, token, _ := strings.Cut(fmt.Sprint(inv["url"]), "token=")
	jar, _ := cookiejar.New(nil)
	agent := &mailAPI{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	if st, body := agent.do("POST", "/api/v1/invites/accept", map[string]any{"token": token, "name": "Bea", "password": "another horse battery"}, nil); st/100 != 2 {
		t.Fatalf("accept: %d %s", st, body)
	}
	if st, body := agent.do("POST", "/api/v1/session", map[string]string{"email": "bea@example.com", "password": "another horse battery"}, nil); st != 200 {
		t.Fatalf("agent sign in: %d %s", st, body)
	}
	return agent
}

// TestBrowserMailboxConnection: an admin connects an inbox address to a
// mail account in the console with the keyboard: tests the connection,
// connects, and sees it connected.
func TestBrowserMailboxConnection(t *testing.T) {
	browser := newBrowser(t)
	acct := startMailAccount(t, nil)
	p := startProc(t, t.TempDir(), mailEnv()...)
	api := newMailAPI(t, p.base())
	inboxID, _ := teamMailbox(t, api)

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
	listSignIn(t, tab, p.base())
	must("signed in", waitJS(tab, byName("document", "a", "Settings")+" !== null", 10*time.Second))
	must("settings", chromedp.Do(tab, chromedp.Navigate(p.base()+"/settings/inboxes")))
	card := `[...document.querySelectorAll('details.group-card')].find(d => d.querySelector('.group-name').textContent === 'Support')`
	must("inbox card", waitJS(tab, "!!"+card, 10*time.Second))
	must("open card", click(tab, card+".querySelector('summary')"))
	form := card + `.querySelector('form[aria-label="Mailbox connection of ` + teamAddr + `"]')`
	must("connection form", waitJS(tab, "!!"+form, 5*time.Second))
	must("not connected", waitJS(tab, form+".querySelector('.mailbox-state').textContent.startsWith('Not connected')", 5*time.Second))

	for i, srv := range []struct {
		addr, pass string
	}{{acct.imap.Addr, imapPassword}, {acct.smtp.SMTPAddr, smtpPassword}} {
		fs := fmt.Sprintf(`%s.querySelectorAll('fieldset.mail-server')[%d]`, form, i)
		host, port, _ := strings.Cut(srv.addr, ":")
		must("host", typeInto(tab, byName(fs, "input", "Server"), host))
		must("port", typeInto(tab, byName(fs, "input", "Port"), port))
		focus("security", byName(fs, "select", "Security"))
		key("starttls", kb.ArrowDown)
		key("none", kb.ArrowDown)
		must("security none", waitJS(tab, byName(fs, "select", "Security")+".value === 'none'", 5*time.Second))
		must("user name", waitJS(tab, byName(fs, "input", "User name")+".value === '"+teamAddr+"'", 5*time.Second))
		must("password", typeInto(tab, byName(fs, "input", "Password"), srv.pass))
	}
	focus("test", byName(form, "button", "Test connection"))
	key("test", kb.Enter)
	must("tested", waitJS(tab, form+".querySelector('li[data-server=imap]')?.textContent === 'IMAP: signed in.' && "+form+".querySelector('li[data-server=smtp]')?.textContent === 'SMTP: signed in.'", 15*time.Second))
	if c, _ := connectionState(t, api, inboxID); c != nil {
		t.Fatalf("the test stored a connection: %v", c)
	}
	focus("connect", byName(form, "button", "Connect mailbox"))
	key("connect", kb.Enter)
	must("connected", waitJS(tab, form+"?.querySelector('.mailbox-state').textContent === 'Connected: new mail arrives at once (IDLE).'", 20*time.Second))
	actScreenshot(tab, "mailbox-connected.png")
	must("password kept", waitJS(tab, form+".querySelector('input[type=password]').value === '' && "+form+".textContent.includes('A password is stored.')", 5*time.Second))
	if c, body := connectionState(t, api, inboxID); c == nil || c["imap"].(map[string]any)["passwordSet"] != true {
		t.Errorf("stored connection: %s", body)
	}
}

// TestMailboxConfig: the flags of connected mailboxes and their
// environment twins.
func TestMailboxConfig(t *testing.T) {
	key32 := strings.Repeat("\x01", 32)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*config) bool
	}{
		{"defaults", nil, nil, "", func(c *config) bool {
			return c.SecretKey == "" && !c.AllowPrivateHosts && !c.MailAllowInsecure && c.IMAPPollInterval == time.Minute
		}},
		{"hex key", nil, map[string]string{"PARLEY_SECRET_KEY": secretKeyHex}, "", nil},
		{"base64 key", []string{"--secret-key", base64.StdEncoding.EncodeToString([]byte(key32))}, nil, "", nil},
		{"short key", nil, map[string]string{"PARLEY_SECRET_KEY": "abcd"}, "PARLEY_SECRET_KEY", nil},
		{"flags", []string{"--allow-private-mail-hosts", "--mail-allow-insecure", "--imap-poll-interval", "5s"}, nil, "", func(c *config) bool {
			return c.AllowPrivateHosts && c.MailAllowInsecure && c.IMAPPollInterval == 5*time.Second
		}},
		{"env twins", nil, map[string]string{"PARLEY_ALLOW_PRIVATE_MAIL_HOSTS": "true", "PARLEY_MAIL_ALLOW_INSECURE": "1", "PARLEY_IMAP_POLL_INTERVAL": "30s"}, "", func(c *config) bool {
			return c.AllowPrivateHosts && c.MailAllowInsecure && c.IMAPPollInterval == 30*time.Second
		}},
		{"bad bool", nil, map[string]string{"PARLEY_MAIL_ALLOW_INSECURE": "maybe"}, "PARLEY_MAIL_ALLOW_INSECURE", nil},
		{"bad interval", []string{"--imap-poll-interval", "0s"}, nil, "imap-poll-interval", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err=%v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("config %+v", c)
			}
			if key, err := parseSecretKey(c.SecretKey); err != nil || c.SecretKey != "" && len(key) != 32 {
				t.Errorf("key %d bytes, %v", len(key), err)
			}
		})
	}
}
