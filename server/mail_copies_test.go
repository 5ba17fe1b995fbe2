package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/mailpit"
)

// mailAddrs are the lower-cased addresses of a Mailpit list.
func mailAddrs(as []mailpit.Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = strings.ToLower(a.Address)
	}
	return out
}

// recipientsOf returns "FIELD addr" of each of a message's recipients.
func recipientsOf(m map[string]any) []string {
	var out []string
	rs, _ := m["recipients"].([]any)
	for _, r := range rs {
		r := r.(map[string]any)
		di, _ := r["deliveryIdentifier"].(map[string]any)
		out = append(out, fmt.Sprint(r["recipientField"], " ", di["value"]))
	}
	return out
}

// replyCc is the Cc the next reply on thread id copies by default.
func replyCc(t *testing.T, c *client, id uint64) []string {
	t.Helper()
	var got struct {
		To struct{ Email string }
		Cc []struct{ Name, Email string }
	}
	res := c.do("GET", fmt.Sprintf("/api/v1/threads/%d/reply-recipients", id), nil, nil)
	if res.status != 200 {
		t.Fatalf("reply-recipients: %d %s", res.status, res.body)
	}
	res.decode(t, &got)
	out := []string{}
	for _, a := range got.Cc {
		out = append(out, a.Email)
	}
	return out
}

// TestMailCcKept: the Cc (and other To) of a customer's mail are kept on
// the message and stay on Cc of the agent's reply, without the inbox's own
// address, the customer, machines that never read and second copies.
func TestMailCcKept(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	raw := "From: Ann <ann@customer.example>\nTo: support@parley.test, Dan <dan@customer.example>\n" +
		"Cc: bob@customer.example, \"Carol C\" <carol@customer.example>, SUPPORT@Parley.test, ann@CUSTOMER.example,\n noreply@customer.example, BOB@customer.example, sales@customer.example\n" +
		"Subject: Invoice\nMessage-ID: <cc1@customer.example>\nContent-Type: text/plain; charset=utf-8\n\nPlease check the invoice.\n"
	deliver(t, e, raw)
	th := threadOf(t, e, "ann@customer.example")
	msgs := messagesOf(t, admin, idStr(th.ID))
	want := []string{"TO support@parley.test", "TO dan@customer.example", "CC bob@customer.example", "CC carol@customer.example",
		"CC SUPPORT@parley.test", "CC ann@customer.example", "CC noreply@customer.example", "CC BOB@customer.example", "CC sales@customer.example"}
	if got := recipientsOf(msgs[0]); !slices.Equal(got, want) {
		t.Errorf("incoming recipients=%v, want %v", got, want)
	}
	wantCc := []string{"dan@customer.example", "bob@customer.example", "carol@customer.example", "sales@customer.example"}
	if got := replyCc(t, admin, th.ID); !slices.Equal(got, wantCc) {
		t.Errorf("default Cc=%v, want %v", got, wantCc)
	}

	res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"text": "Checked, it is right."}, nil)
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	var m map[string]any
	res.decode(t, &m)
	wantR := []string{"TO ann@customer.example", "CC dan@customer.example", "CC bob@customer.example", "CC carol@customer.example", "CC sales@customer.example"}
	if got := recipientsOf(m); !slices.Equal(got, wantR) {
		t.Errorf("reply recipients=%v, want %v", got, wantR)
	}
	if rs := m["recipients"].([]any); rs[0].(map[string]any)["actorId"] != fmt.Sprintf("V-%d", th.ContactID) {
		t.Errorf("the contact's recipient has actorId %v", rs[0].(map[string]any)["actorId"])
	}
	got := mp.Wait(t, 10*time.Second, "the reply", func(m *mailpit.Message) bool { return m.Subject == "Re: Invoice" })
	if to := mailAddrs(got.To); !slices.Equal(to, []string{"ann@customer.example"}) {
		t.Errorf("To=%v", to)
	}
	if cc := mailAddrs(got.Cc); !slices.Equal(cc, wantCc) {
		t.Errorf("Cc=%v, want %v", cc, wantCc)
	}
	if len(got.Bcc) != 0 {
		t.Errorf("Bcc=%v, want none", got.Bcc)
	}
	if got.Cc[2].Name != "Carol C" {
		t.Errorf("Cc name=%q, want Carol C", got.Cc[2].Name)
	}
}

// TestMailAgentCcBcc: an agent's Cc goes into the header and the
// envelope, Bcc only into the envelope; the message lists both for agents,
// and the agent's Cc becomes the thread's current Cc.
func TestMailAgentCcBcc(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	deliver(t, e, "From: ann@customer.example\nTo: support@parley.test\nCc: bob@customer.example\nSubject: Order\nMessage-ID: <o1@customer.example>\n\nWhere is it?\n")
	th := threadOf(t, e, "ann@customer.example")
	aws, _ := admin.agentWS()

	path := fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID)
	res := admin.do("POST", path, map[string]any{"text": "Shipped today.", "recipients": []map[string]any{
		{"actorId": fmt.Sprintf("V-%d", th.ContactID), "recipientField": "TO"},
		{"recipientField": "CC", "name": "Dave", "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "dave@partner.example"}}},
		{"recipientField": "BCC", "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "eve@audit.example"}}},
	}}, nil)
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	var m map[string]any
	res.decode(t, &m)
	want := []string{"TO ann@customer.example", "CC dave@partner.example", "BCC eve@audit.example"}
	if got := recipientsOf(m); !slices.Equal(got, want) {
		t.Errorf("recipients=%v, want %v", got, want)
	}
	ev := msgOf(aws.next("message.created"))
	if rs := fmt.Sprint(ev["recipients"]); !strings.Contains(rs, "eve@audit.example") || !strings.Contains(rs, "BCC") {
		t.Errorf("the consoles' message lacks the Bcc: %v", ev["recipients"])
	}

	got := mp.Wait(t, 10*time.Second, "the reply", func(m *mailpit.Message) bool { return m.Subject == "Re: Order" })
	if cc := mailAddrs(got.Cc); !slices.Equal(cc, []string{"dave@partner.example"}) {
		t.Errorf("Cc=%v", cc)
	}
	if bcc := mailAddrs(got.Bcc); !slices.Equal(bcc, []string{"eve@audit.example"}) {
		t.Errorf("Bcc (envelope only)=%v", bcc)
	}
	rawMsg, err := mp.Raw(got.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Mailpit puts a Bcc header of its own, and Return-Path and Received,
	// in front of what it received: look at what Parley sent.
	sent := string(rawMsg)
	if i := strings.Index(sent, "\r\nReceived:"); i >= 0 {
		sent = sent[i+2:]
		for j := strings.Index(sent, "\r\n"); j >= 0 && j+2 < len(sent) && (sent[j+2] == ' ' || sent[j+2] == '\t'); j = strings.Index(sent, "\r\n") {
			sent = sent[j+2:]
		}
	} else {
		t.Fatalf("no Received header from Mailpit:\n%s", rawMsg)
	}
	if strings.Contains(strings.ToLower(sent), "eve@audit.example") || !strings.Contains(sent, "Shipped today.") {
		t.Errorf("the Bcc address is in the sent mail:\n%s", rawMsg)
	}
	// The agent's Cc is the thread's now (Bcc never carries over).
	if got := replyCc(t, admin, th.ID); !slices.Equal(got, []string{"dave@partner.example"}) {
		t.Errorf("current Cc=%v, want [dave@partner.example]", got)
	}

	// The console's socket: cc and bcc lists replace the thread's.
	aws.send(map[string]any{"type": "message.send", "threadId": idStr(th.ID), "clientId": "ws-1", "text": "One more thing.",
		"cc": []string{"fay@partner.example"}, "bcc": []string{"gus@audit.example"}})
	ack := msgOf(aws.next("message.ack"))
	if rs := fmt.Sprint(ack["recipients"]); !strings.Contains(rs, "fay@partner.example") || !strings.Contains(rs, "gus@audit.example") {
		t.Errorf("ack recipients=%v", ack["recipients"])
	}
	got = mp.Wait(t, 10*time.Second, "the second reply", func(m *mailpit.Message) bool {
		return strings.Contains(m.Text, "One more thing.")
	})
	if cc, bcc := mailAddrs(got.Cc), mailAddrs(got.Bcc); !slices.Equal(cc, []string{"fay@partner.example"}) || !slices.Equal(bcc, []string{"gus@audit.example"}) {
		t.Errorf("Cc=%v Bcc=%v", cc, bcc)
	}
}

// TestMailCopiesRefused: what an agent may not send, each a 400 naming
// it, and a member of another inbox gets 404 as for any reply.
func TestMailCopiesRefused(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	deliver(t, e, rawMail("ann@customer.example", "Help", "h1@customer.example", "", "Hi"))
	th := threadOf(t, e, "ann@customer.example")
	path := fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID)
	rcpt := func(field, addr string) map[string]any {
		return map[string]any{"recipientField": field, "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": addr}}}
	}
	many := []map[string]any{}
	for i := range 21 {
		field := "CC"
		if i%2 == 1 {
			field = "BCC"
		}
		many = append(many, rcpt(field, fmt.Sprintf("p%d@many.example", i)))
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"21 copies", map[string]any{"text": "x", "recipients": many}, "at most 20"},
		{"not an address", map[string]any{"text": "x", "recipients": []any{rcpt("CC", "not an address")}}, "recipients[0]"},
		{"two addresses in one", map[string]any{"text": "x", "recipients": []any{rcpt("CC", "a@x.example, b@y.example")}}, "recipients[0]"},
		{"line break in the address", map[string]any{"text": "x", "recipients": []any{rcpt("BCC", "a@x.example\r\nBcc: evil@z.example")}}, "control characters"},
		{"line break in the name", map[string]any{"text": "x", "recipients": []any{map[string]any{"recipientField": "CC", "name": "Eve\r\nBcc: evil@z.example",
			"deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "eve@z.example"}}}}}, "control characters"},
		{"unknown field name", map[string]any{"text": "x", "recipients": []any{rcpt("REPLY_TO", "a@x.example")}}, "recipientField"},
		{"TO someone else", map[string]any{"text": "x", "recipients": []any{rcpt("TO", "mallory@x.example")}}, "TO the thread's contact"},
		{"phone number", map[string]any{"text": "x", "recipients": []any{map[string]any{"recipientField": "CC", "deliveryIdentifiers": []map[string]string{{"type": "HS_PHONE_NUMBER", "value": "+1555"}}}}}, "HS_EMAIL_ADDRESS"},
		{"attachments", map[string]any{"text": "x", "attachments": []any{map[string]any{"type": "FILE", "fileId": "1"}}}, "attachments"},
		{"another subject", map[string]any{"text": "x", "subject": "Other"}, "subject"},
		{"unknown field", map[string]any{"text": "x", "cc": []string{"a@x.example"}}, `unknown field`},
		{"copies on a note", map[string]any{"type": "COMMENT", "text": "x", "recipients": []any{rcpt("CC", "a@x.example")}}, "email reply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.do("POST", path, tc.body, nil)
			if res.status != 400 || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("status=%d %s, want 400 naming %q", res.status, res.body, tc.want)
			}
		})
	}
	if msgs := messagesOf(t, admin, idStr(th.ID)); len(msgs) != 1 {
		t.Errorf("%d messages after refusals, want 1", len(msgs))
	}
	// The thread's own subject, as HubSpot clients send it, is fine.
	if res := admin.do("POST", path, map[string]any{"text": "Answer", "subject": "Re: Help"}, nil); res.status != 201 {
		t.Errorf("the thread's subject: %d %s, want 201", res.status, res.body)
	}

	// Cc on a chat thread.
	chat := startChat(t, e, "Chat here")
	res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%s/messages", chat), map[string]any{"text": "x", "recipients": []any{rcpt("CC", "a@x.example")}}, nil)
	if res.status != 400 {
		t.Errorf("Cc on a chat: %d %s, want 400", res.status, res.body)
	}

	// E4: a member of another inbox neither replies with copies nor
	// forwards nor reads the defaults.
	e.addAgent("bea@example.com", false)
	b := e.login("bea@example.com")
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"POST", path, map[string]any{"text": "x", "recipients": []any{rcpt("CC", "bea@x.example")}}},
		{"POST", fmt.Sprintf("/api/v1/threads/%d/forward", th.ID), map[string]any{"to": []string{"bea@x.example"}}},
		{"GET", fmt.Sprintf("/api/v1/threads/%d/reply-recipients", th.ID), nil},
	} {
		if res := b.do(r.method, r.path, r.body, nil); res.status != 404 {
			t.Errorf("%s %s by a non-member: %d, want 404", r.method, r.path, res.status)
		}
	}
}

// TestMailHostileCc: a mail with a thousand Cc addresses keeps only the
// first parley.MaxKeptRecipients, and the reply copies at most
// parley.MaxCopies of them.
func TestMailHostileCc(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	var cc []string
	for i := range 1000 {
		cc = append(cc, fmt.Sprintf("victim%d@spam.example", i))
	}
	deliver(t, e, "From: ann@customer.example\nTo: support@parley.test\nCc: "+strings.Join(cc, ",\n ")+"\nSubject: Flood\nMessage-ID: <f1@customer.example>\n\nHi\n")
	th := threadOf(t, e, "ann@customer.example")
	msgs := messagesOf(t, admin, idStr(th.ID))
	if n := len(recipientsOf(msgs[0])); n != 50 {
		t.Errorf("kept %d recipients, want 50", n)
	}
	if got := replyCc(t, admin, th.ID); len(got) != 20 || got[0] != "victim0@spam.example" {
		t.Errorf("default Cc has %d: %v, want the first 20", len(got), got)
	}
	if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"text": "Hello"}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	got := mp.Wait(t, 10*time.Second, "the reply", func(m *mailpit.Message) bool { return m.Subject == "Re: Flood" })
	if len(got.Cc) != 20 {
		t.Errorf("the reply copies %d, want 20", len(got.Cc))
	}
}

// TestMailForward: a forward holds the note and the thread's messages as
// mail clients quote them, never notes or Bcc, in the agent's language;
// the thread records it with its delivery status.
func TestMailForward(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	deliver(t, e, "From: Ann <ann@customer.example>\nTo: support@parley.test\nCc: bob@customer.example\nSubject: Broken lamp\nMessage-ID: <l1@customer.example>\n\nThe lamp flickers.\n")
	th := threadOf(t, e, "ann@customer.example")
	path := fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID)
	admin.do("POST", path, map[string]any{"text": "Please send a photo.", "recipients": []any{
		map[string]any{"recipientField": "BCC", "deliveryIdentifiers": []map[string]string{{"type": "HS_EMAIL_ADDRESS", "value": "secret@audit.example"}}},
	}}, nil)
	admin.do("POST", path, map[string]any{"type": "COMMENT", "text": "Internal: supplier batch 7."}, nil)
	aws, _ := admin.agentWS()

	res := admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/forward", th.ID), map[string]any{"to": []string{"Repair@Vendor.example"}, "note": "Can you look at this?", "clientId": "fw-1"}, nil)
	if res.status != 201 {
		t.Fatalf("forward: %d %s", res.status, res.body)
	}
	var ev map[string]any
	res.decode(t, &ev)
	if ev["type"] != "SYSTEM" || ev["event"] != "forwarded" || ev["text"] != "Can you look at this?" || ev["createdBy"] != e.admin.ActorID() {
		t.Errorf("recorded %v", ev)
	}
	if got := recipientsOf(ev); !slices.Equal(got, []string{"TO Repair@vendor.example"}) {
		t.Errorf("forward recipients=%v", got)
	}
	if live := msgOf(aws.next("message.created")); live["event"] != "forwarded" {
		t.Errorf("consoles got %v", live)
	}
	// The same clientId is the same forward.
	res = admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/forward", th.ID), map[string]any{"to": []string{"repair@vendor.example"}, "note": "Can you look at this?", "clientId": "fw-1"}, nil)
	var again map[string]any
	if res.decode(t, &again); again["id"] != ev["id"] {
		t.Errorf("a retried forward made %v, want %v", again["id"], ev["id"])
	}

	got := mp.Wait(t, 10*time.Second, "the forward", func(m *mailpit.Message) bool { return m.Subject == "Fwd: Broken lamp" })
	if to := mailAddrs(got.To); !slices.Equal(to, []string{"repair@vendor.example"}) || len(got.Cc) != 0 || len(got.Bcc) != 0 {
		t.Errorf("To=%v Cc=%v Bcc=%v", to, got.Cc, got.Bcc)
	}
	if got.From.Address != supportAddr && !strings.EqualFold(got.From.Address, supportAddr) {
		t.Errorf("From=%v", got.From)
	}
	for _, want := range []string{"Can you look at this?", "---------- Forwarded message ----------", "From: \"Ann\" <ann@customer.example>",
		"Subject: Broken lamp", "Cc: <bob@customer.example>", "The lamp flickers.", "Please send a photo."} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("forward lacks %q:\n%s", want, got.Text)
		}
	}
	for _, never := range []string{"supplier batch", "secret@audit.example"} {
		if strings.Contains(got.Text, never) {
			t.Errorf("forward has %q:\n%s", never, got.Text)
		}
	}
	if strings.Index(got.Text, "Can you look") > strings.Index(got.Text, "The lamp") || strings.Index(got.Text, "The lamp") > strings.Index(got.Text, "Please send") {
		t.Errorf("note first, then the messages oldest first:\n%s", got.Text)
	}
	// The forward's status follows its email.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var m map[string]any
		admin.do("GET", fmt.Sprintf("%s/%s", path, ev["id"]), nil, nil).decode(t, &m)
		if st, _ := m["status"].(map[string]any); st["statusType"] == "SENT" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("forward status=%v, want SENT", m["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}

	// In the agent's language.
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"language": "de"}, nil); res.status != 200 {
		t.Fatalf("language: %d", res.status)
	}
	admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/forward", th.ID), map[string]any{"to": []string{"werkstatt@vendor.example"}}, nil)
	got = mp.Wait(t, 10*time.Second, "the German forward", func(m *mailpit.Message) bool { return m.Subject == "WG: Broken lamp" })
	if !strings.Contains(got.Text, "---------- Weitergeleitete Nachricht ----------") || !strings.Contains(got.Text, "Von: ") {
		t.Errorf("German forward:\n%s", got.Text)
	}
}

// TestForwardRefused: bad, too many and header-injecting addresses are
// 400s; forwarding to many addresses hits the user's limit (429).
func TestForwardRefused(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	deliver(t, e, rawMail("ann@customer.example", "Help", "h1@customer.example", "", "Hi"))
	th := threadOf(t, e, "ann@customer.example")
	path := fmt.Sprintf("/api/v1/threads/%d/forward", th.ID)
	addrs := func(n, from int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("r%d@many.example", from+i))
		}
		return out
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"no address", map[string]any{"note": "x"}, "at least one"},
		{"21 addresses", map[string]any{"to": addrs(21, 0)}, "at most 20"},
		{"not an address", map[string]any{"to": []string{"nobody"}}, "to[0]"},
		{"named address", map[string]any{"to": []string{"Eve <eve@x.example>"}}, "to[0]"},
		{"line break", map[string]any{"to": []string{"eve@x.example\r\nBcc: all@x.example"}}, "control characters"},
		{"own address", map[string]any{"to": []string{"support@parley.test"}}, "own addresses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.do("POST", path, tc.body, nil)
			if res.status != 400 || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("status=%d %s, want 400 naming %q", res.status, res.body, tc.want)
			}
		})
	}
	// 30 addresses at once, then the limit: the refused forward records
	// and sends nothing.
	if res := admin.do("POST", path, map[string]any{"to": addrs(20, 0)}, nil); res.status != 201 {
		t.Fatalf("forward to 20: %d %s", res.status, res.body)
	}
	if res := admin.do("POST", path, map[string]any{"to": addrs(20, 20)}, nil); res.status != 429 {
		t.Errorf("forward to 20 more: %d %s, want 429", res.status, res.body)
	}
	if res := admin.do("POST", path, map[string]any{"to": addrs(10, 40)}, nil); res.status != 201 {
		t.Errorf("forward within what is left: %d %s, want 201", res.status, res.body)
	}
	n := 0
	for _, m := range messagesOf(t, admin, idStr(th.ID)) {
		if m["event"] == "forwarded" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d forwards recorded, want 2", n)
	}
}

// TestForwardChat: a chat forwards too, from the inbox's address, and a
// chat's reply takes no copies.
func TestForwardChat(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	chat := startChat(t, e, "My parcel is late")
	admin.do("POST", "/conversations/v3/conversations/threads/"+chat+"/messages", map[string]any{"text": "Let me check."}, nil)
	admin.do("POST", "/conversations/v3/conversations/threads/"+chat+"/messages", map[string]any{"type": "COMMENT", "text": "Courier again."}, nil)
	res := admin.do("POST", "/api/v1/threads/"+chat+"/forward", map[string]any{"to": []string{"courier@logistics.example"}}, nil)
	if res.status != 201 {
		t.Fatalf("forward a chat: %d %s", res.status, res.body)
	}
	got := mp.Wait(t, 10*time.Second, "the chat's forward", func(m *mailpit.Message) bool { return strings.HasPrefix(m.Subject, "Fwd: Chat with ") })
	if !strings.EqualFold(got.From.Address, supportAddr) || !strings.Contains(got.Text, "My parcel is late") || !strings.Contains(got.Text, "Let me check.") || strings.Contains(got.Text, "Courier again.") {
		t.Errorf("from %v:\n%s", got.From, got.Text)
	}
}

// TestForwardRetry: a forward the SMTP server never took fails as a
// reply does, and Retry sends it once the server is back.
func TestForwardRetry(t *testing.T) {
	mp := mailpit.Start(t)
	sw := &switchMailer{}
	sw.set(newSender(t, closedAddr(t)))
	e, admin := mailEnvWith(t, sw)
	deliver(t, e, rawMail("Vera Muster <vera@customer.example>", "Invoice", "fr1@customer.example", "", "Hello"))
	th := threadOf(t, e, "vera@customer.example")
	var m map[string]any
	admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/forward", th.ID), map[string]any{"to": []string{"books@partner.example"}}, nil).decode(t, &m)
	id := m["id"].(string)
	waitStatus(t, admin, th.ID, id, "FAILED")
	sw.set(newSender(t, mp.SMTPAddr))
	if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages/%s/retry", th.ID, id), nil, nil); res.status != 200 {
		t.Fatalf("retry the forward: %d %s", res.status, res.body)
	}
	waitStatus(t, admin, th.ID, id, "SENT")
	mp.Wait(t, 10*time.Second, "the retried forward", func(m *mailpit.Message) bool { return m.Subject == "Fwd: Invoice" })
}
