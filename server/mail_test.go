package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

const supportAddr = "support@parley.test"

// mailEnv is a server whose outbound mail goes to smtpAddr (if not empty),
// whose default inbox has the address support@parley.test and notifies
// the admin of new conversations and of messages assigned to them.
func mailEnv(t *testing.T, smtpAddr string) (*env, *client) {
	t.Helper()
	if smtpAddr == "" {
		return mailEnvWith(t, nil)
	}
	return mailEnvWith(t, newSender(t, smtpAddr))
}

func newSender(t *testing.T, smtpAddr string) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender("smtp://"+smtpAddr+"?tls=none", &mail.SenderOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mailEnvWith is mailEnv with outbound mail through mailer (nil: none).
func mailEnvWith(t *testing.T, mailer app.Mailer) (*env, *client) {
	t.Helper()
	cfg := app.Config{MailFrom: "parley@parley.test", MailRetry: 20 * time.Millisecond, MailAttempts: 3}
	if mailer != nil {
		cfg.Mailer = mailer
	}
	e := newEnv(t, &envOptions{app: cfg})
	admin := e.login("admin@example.com")
	res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{
		"emailAddresses": []string{"Support@Parley.test"},
		"notify":         map[string]any{"newConversation": []string{idStr(e.admin.ID)}, "assignedMessage": []string{idStr(e.admin.ID)}},
	}, nil)
	if res.status != 200 {
		t.Fatalf("set inbox address: %d %s", res.status, res.body)
	}
	var in map[string]any
	res.decode(t, &in)
	if addrs := in["emailAddresses"].([]any); len(addrs) != 1 || addrs[0] != "Support@parley.test" {
		t.Fatalf("emailAddresses=%v", in["emailAddresses"])
	}
	e.inbox, _ = e.db.Inbox(context.Background(), e.inbox.ID)
	return e, admin
}

func idStr(id uint64) string { return fmt.Sprint(id) }

// deliver hands raw, as the SMTP receiver would, to the server.
func deliver(t *testing.T, e *env, raw string, rcpts ...string) {
	t.Helper()
	if len(rcpts) == 0 {
		rcpts = []string{supportAddr}
	}
	m, err := mail.Parse(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	m.Recipients = rcpts
	if err := e.app.DeliverMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func rawMail(from, subject, msgID, inReplyTo, body string) string {
	s := "From: " + from + "\nTo: " + supportAddr + "\nSubject: " + subject + "\nMessage-ID: <" + msgID + ">\n"
	if inReplyTo != "" {
		s += "In-Reply-To: <" + inReplyTo + ">\nReferences: <" + inReplyTo + ">\n"
	}
	return s + "Content-Type: text/plain; charset=utf-8\n\n" + body + "\n"
}

// threadOf returns the one thread of the contact with email addr.
func threadOf(t *testing.T, e *env, addr string) *parley.Thread {
	t.Helper()
	c, err := e.db.ContactByEmail(context.Background(), addr)
	if err != nil {
		t.Fatalf("contact %s: %v", addr, err)
	}
	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: c.ID})
	if err != nil || len(ts) != 1 {
		t.Fatalf("threads of %s: %d, %v; want 1", addr, len(ts), err)
	}
	return ts[0]
}

func TestMailThreads(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	aws, _ := admin.agentWS()

	// The mailbox is a channel account of channel 1002.
	var cas struct{ Results []map[string]any }
	admin.do("GET", "/conversations/v3/conversations/channel-accounts", nil, nil).decode(t, &cas)
	mailboxID := idStr(e.inbox.Mailboxes[0].ID)
	found := false
	for _, ca := range cas.Results {
		if ca["id"] == mailboxID && ca["channelId"] == "1002" && ca["name"] == "Support@parley.test" {
			found = true
		}
		if ca["channelId"] == "1000" && ca["id"] == mailboxID {
			t.Errorf("widget and mailbox share id %s", mailboxID)
		}
	}
	if !found {
		t.Fatalf("channel accounts %v lack the mailbox %s", cas.Results, mailboxID)
	}

	// A new mail is a new email thread in the inbox, and notifies.
	deliver(t, e, rawMail("Ann Lee <ann@customer.example>", "Order 42", "c1@customer.example", "", "Where is my order?"))
	th := threadOf(t, e, "ann@customer.example")
	if th.ChannelID != parley.ChannelEmail || th.Subject != "Order 42" || th.InboxID != e.inbox.ID || idStr(th.ChannelAccountID) != mailboxID || th.IsFiltered() {
		t.Fatalf("thread %+v", th)
	}
	if ev := aws.next("thread.created"); ev["thread"].(map[string]any)["subject"] != "Order 42" {
		t.Errorf("thread.created=%v", ev)
	}
	mp.Wait(t, 5*time.Second, "notifying the new conversation", func(m *mailpit.Message) bool {
		return m.To[0].Address == "admin@example.com" && strings.Contains(m.Subject, "New email conversation from Ann Lee: Order 42") &&
			strings.Contains(m.Text, "Where is my order?") && strings.Contains(m.Text, e.base+"/threads/"+idStr(th.ID))
	})

	// The agent's reply goes out from the inbox address with threading headers.
	res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"type": "MESSAGE", "text": "It ships today."}, nil)
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	var msg map[string]any
	res.decode(t, &msg)
	reply := mp.Wait(t, 5*time.Second, "the reply", func(m *mailpit.Message) bool { return m.To[0].Address == "ann@customer.example" })
	if reply.Subject != "Re: Order 42" || reply.From.Address != "Support@parley.test" || reply.From.Name != "Ada Admin" || !strings.Contains(reply.Text, "It ships today.") {
		t.Errorf("reply %q from %+v: %q", reply.Subject, reply.From, reply.Text)
	}
	h, _ := mp.Headers(reply.ID)
	if got := strings.Join(h["In-Reply-To"], ""); got != "<c1@customer.example>" {
		t.Errorf("In-Reply-To=%q", got)
	}
	if got := strings.Join(h["References"], ""); !strings.Contains(got, "<c1@customer.example>") {
		t.Errorf("References=%q", got)
	}
	waitStatus(t, admin, th.ID, msg["id"].(string), "SENT")

	// Closed, then the customer answers our reply: the same thread reopens (R4).
	if res := admin.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID), map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	answer := rawMail("Ann Lee <ann@customer.example>", "Re: Order 42", "c2@customer.example", reply.MessageID, "Thanks!")
	deliver(t, e, answer)
	deliver(t, e, answer) // a retried delivery stores nothing new
	th2 := threadOf(t, e, "ann@customer.example")
	if th2.ID != th.ID || th2.Status != parley.StatusOpen {
		t.Fatalf("after the answer: thread %d status %s, want %d OPEN", th2.ID, th2.Status, th.ID)
	}
	msgs, _, _ := e.db.Messages(context.Background(), th.ID, 0, 0)
	var texts []string
	for _, m := range msgs {
		if m.Type == parley.TypeMessage {
			texts = append(texts, m.Text)
		}
	}
	if strings.Join(texts, "|") != "Where is my order?|It ships today.|Thanks!" {
		t.Errorf("messages %q", texts)
	}

	// Assigned to the admin: a new message notifies them.
	if res := admin.do("PUT", fmt.Sprintf("/conversations/v3/conversations/threads/%d/assignee", th.ID), map[string]any{"actorId": e.admin.ActorID()}, nil); res.status != 200 {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	deliver(t, e, rawMail("Ann Lee <ann@customer.example>", "Re: Order 42", "c3@customer.example", "c2@customer.example", "One more thing."))
	mp.Wait(t, 5*time.Second, "notifying the assigned message", func(m *mailpit.Message) bool {
		return strings.Contains(m.Subject, "New message from Ann Lee") && strings.Contains(m.Text, "One more thing.")
	})

	// Role addresses and blocked senders go to Filtered and never notify.
	deliver(t, e, rawMail("Shop <noreply@shop.example>", "Your receipt", "r1@shop.example", "", "Receipt attached."))
	role := threadOf(t, e, "noreply@shop.example")
	if !role.RoleSender || !role.IsFiltered() {
		t.Errorf("role sender thread %+v, want filtered", role)
	}
	deliver(t, e, rawMail("spam@bulk.example", "Buy now", "s1@bulk.example", "", "Cheap!"))
	spam := threadOf(t, e, "spam@bulk.example")
	if res := admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/block", spam.ID), nil, nil); res.status != 200 {
		t.Fatalf("block: %d %s", res.status, res.body)
	}
	deliver(t, e, rawMail("spam@bulk.example", "Buy again", "s2@bulk.example", "", "Cheaper!"))
	c, _ := e.db.ContactByEmail(context.Background(), "spam@bulk.example")
	ts, _, _ := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: c.ID})
	if len(ts) != 2 || !ts[1].Blocked || !ts[1].IsFiltered() {
		t.Fatalf("blocked sender's threads %+v, want a second, blocked one", ts)
	}
	var filtered, all struct{ Results []map[string]any }
	admin.do("GET", "/conversations/v3/conversations/threads?view=filtered", nil, nil).decode(t, &filtered)
	admin.do("GET", "/conversations/v3/conversations/threads?view=all", nil, nil).decode(t, &all)
	if n := len(filtered.Results); n != 3 {
		t.Errorf("filtered view has %d threads, want 3 (role, blocked twice)", n)
	}
	for _, r := range all.Results {
		if r["id"] == idStr(role.ID) || r["id"] == idStr(ts[1].ID) {
			t.Errorf("filtered thread %v in the All view", r["id"])
		}
	}
	if filtered.Results[0]["roleSender"] == nil {
		t.Errorf("thread JSON lacks roleSender: %v", filtered.Results[0])
	}
	deliver(t, e, rawMail("Zoe <zoe@customer.example>", "Hello", "z1@customer.example", "", "Hi there"))
	mp.Wait(t, 5*time.Second, "notifying Zoe's conversation", func(m *mailpit.Message) bool { return strings.Contains(m.Subject, "from Zoe") })
	list, _ := mp.Messages()
	for _, m := range list {
		if strings.Contains(m.Subject, "Shop") || strings.Contains(m.Subject, "Buy again") {
			t.Errorf("a filtered thread notified: %q", m.Subject)
		}
	}
}

// waitStatus waits until message id of thread has the delivery status want.
func waitStatus(t *testing.T, c *client, threadID uint64, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var m map[string]any
		c.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages/%s", threadID, id), nil, nil).decode(t, &m)
		st := m["status"].(map[string]any)
		if st["statusType"] == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s status %v, want %s", id, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMailAccess(t *testing.T) {
	e, admin := mailEnv(t, "")
	ctx := context.Background()
	agentB := e.addAgent("bea@example.com", false)
	other := &parley.Inbox{Name: "Sales", MemberIDs: []uint64{agentB.ID, e.admin.ID}}
	if err := e.db.CreateInbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	// An address of one inbox cannot be given to another.
	if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(other.ID), map[string]any{"emailAddresses": []string{"SUPPORT@parley.test"}}, nil); res.status != 409 {
		t.Errorf("taken address: %d %s, want 409", res.status, res.body)
	}
	for _, bad := range []any{[]string{"not an address"}, []string{"a@b.example, c@d.example"}, "x"} {
		if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(other.ID), map[string]any{"emailAddresses": bad}, nil); res.status != 400 {
			t.Errorf("emailAddresses %v: %d %s, want 400", bad, res.status, res.body)
		}
	}
	if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(other.ID), map[string]any{"notify": map[string]any{"newConversation": []string{"999"}}}, nil); res.status != 400 {
		t.Errorf("notify an unknown user: %d, want 400", res.status)
	}
	ag := e.addAgent("carl@example.com", false)
	if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(other.ID), map[string]any{"notify": map[string]any{"newConversation": []string{idStr(ag.ID)}}}, nil); res.status != 400 {
		t.Errorf("notify a non-member: %d, want 400", res.status)
	}

	deliver(t, e, rawMail("ann@customer.example", "Private", "p1@customer.example", "", "For support only"))
	th := threadOf(t, e, "ann@customer.example")
	b := e.login("bea@example.com")
	path := fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID)
	for _, r := range []struct{ method, path string }{
		{"GET", path}, {"GET", path + "/messages"}, {"POST", path + "/messages"},
	} {
		var body any
		if r.method == "POST" {
			body = map[string]any{"type": "MESSAGE", "text": "sneaky"}
		}
		if res := b.do(r.method, r.path, body, nil); res.status != 404 {
			t.Errorf("%s %s by a member of another inbox: %d, want 404", r.method, r.path, res.status)
		}
	}
	var list, cas struct{ Results []map[string]any }
	b.do("GET", "/conversations/v3/conversations/threads", nil, nil).decode(t, &list)
	b.do("GET", "/conversations/v3/conversations/channel-accounts", nil, nil).decode(t, &cas)
	for _, r := range list.Results {
		if r["id"] == idStr(th.ID) {
			t.Error("the other inbox's email thread is listed")
		}
	}
	for _, ca := range cas.Results {
		if ca["channelId"] == "1002" {
			t.Errorf("the other inbox's mailbox is listed: %v", ca)
		}
	}
	if res := b.do("GET", "/conversations/v3/conversations/channel-accounts/"+idStr(e.inbox.Mailboxes[0].ID), nil, nil); res.status != 404 {
		t.Errorf("other inbox's mailbox by id: %d, want 404", res.status)
	}
}

func TestMailWithoutOutbound(t *testing.T) {
	e, admin := mailEnv(t, "")
	deliver(t, e, rawMail("ann@customer.example", "Hi", "n1@customer.example", "", "Hello"))
	th := threadOf(t, e, "ann@customer.example")
	path := fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID)
	res := admin.do("POST", path, map[string]any{"type": "MESSAGE", "text": "answer"}, nil)
	if res.status != 503 || !strings.Contains(string(res.body), "email is not configured") {
		t.Errorf("reply without outbound mail: %d %s, want 503", res.status, res.body)
	}
	if res := admin.do("POST", path, map[string]any{"type": "COMMENT", "text": "note"}, nil); res.status != 201 {
		t.Errorf("internal note: %d %s, want 201", res.status, res.body)
	}
	msgs, _, _ := e.db.Messages(context.Background(), th.ID, 0, 0)
	if len(msgs) != 2 {
		t.Errorf("%d messages, want the mail and the note", len(msgs))
	}
	var st map[string]any
	admin.do("GET", "/api/v1/mail", nil, nil).decode(t, &st)
	if st["outbound"] != false || st["systemMail"] != false {
		t.Errorf("mail status %v", st)
	}
}

// startRefusing runs a real SMTP receiver for the tests of failures: while
// tempFails > 0 it answers 451 and counts down; then it accepts mail for
// ok@ addresses and refuses others with 550.
func startRefusing(t *testing.T, tempFails int32) (string, *atomic.Int32) {
	t.Helper()
	var left, got atomic.Int32
	left.Store(tempFails)
	rc, err := mail.NewReceiver(mail.ReceiverOptions{
		Recipient: func(ctx context.Context, addr string) error {
			if strings.HasPrefix(addr, "ok@") {
				return nil
			}
			return parley.Errorf(parley.ENOTFOUND, "no")
		},
		Deliver: func(ctx context.Context, e *parley.InboundEmail) error {
			if left.Add(-1) >= 0 {
				return errors.New("busy")
			}
			got.Add(1)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rc.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rc.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String(), &got
}

func TestMailDeliveryStatus(t *testing.T) {
	addr, got := startRefusing(t, 2)
	e, admin := mailEnv(t, addr)
	aws, _ := admin.agentWS()
	deliver(t, e, rawMail("ok@customer.example", "Retry", "d1@customer.example", "", "Hello"))
	deliver(t, e, rawMail("gone@customer.example", "Refused", "d2@customer.example", "", "Hello"))
	ok, gone := threadOf(t, e, "ok@customer.example"), threadOf(t, e, "gone@customer.example")

	// Two temporary failures, then accepted: SENT after retries.
	var m map[string]any
	admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", ok.ID), map[string]any{"text": "first"}, nil).decode(t, &m)
	if st := m["status"].(map[string]any)["statusType"]; st != "PENDING" && st != "SENT" {
		t.Errorf("status right after the reply: %v", st)
	}
	waitStatus(t, admin, ok.ID, m["id"].(string), "SENT")
	if got.Load() != 1 {
		t.Errorf("receiver got %d mails, want 1", got.Load())
	}
	for {
		ev := aws.next("message.delivery")
		if ev["messageId"] == m["id"] && ev["status"] == "SENT" {
			break
		}
	}

	// A 550 is for good: FAILED at once, with the reason.
	admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", gone.ID), map[string]any{"text": "second"}, nil).decode(t, &m)
	st := waitStatus(t, admin, gone.ID, m["id"].(string), "FAILED")
	if !strings.Contains(st["failureDetails"].(string), "550") {
		t.Errorf("failure details %q, want the 550", st["failureDetails"])
	}
}

func TestMailTranscript(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error {
		w.Options.Transcripts = true
		w.Availability.Timezone = "Europe/Berlin"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	chat := func(email, text string) *parley.Thread {
		v, _ := e.visitor("", 0)
		v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": text})
		ack := v.next("message.ack")
		var id uint64
		fmt.Sscan(msgOf(ack)["threadId"].(string), &id)
		th, err := e.db.Thread(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if email != "" {
			if _, err := e.db.UpdateContact(ctx, th.ContactID, func(c *parley.Contact) error { c.Email, c.FirstName = email, "Vera"; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		return th
	}
	post := func(th *parley.Thread, typ, text string) {
		if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"type": typ, "text": text}, nil); res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
	}
	closeThread := func(th *parley.Thread) {
		if res := admin.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID), map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
	}

	// A bot's chat that never reached an agent gets no transcript.
	bot := chat("bot@customer.example", "question for the bot")
	if _, err := e.db.UpdateThread(ctx, bot.ID, func(t *parley.Thread) error { t.Owner = parley.OwnerBot; return nil }); err != nil {
		t.Fatal(err)
	}
	// It cannot be closed by hand (I7); it closes itself, which sends none.
	if res := admin.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", bot.ID), map[string]any{"status": "CLOSED"}, nil); res.status != 409 {
		t.Fatalf("closing a bot's chat by hand: %d %s, want 409", res.status, res.body)
	}
	// A visitor without an email gets none.
	closeThread(chat("", "anonymous"))

	th := chat("vera@customer.example", "Do you ship to Norway?")
	post(th, "MESSAGE", "Yes, in 3 days.")
	post(th, "COMMENT", "secret internal note")
	closeThread(th)
	m := mp.Wait(t, 5*time.Second, "the transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera@customer.example" })
	if m.Subject != "Transcript of your chat with Support" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Started on: http://customer.example/pricing", "Vera:\nDo you ship to Norway?", "Ada Admin:\nYes, in 3 days.", time.Now().In(mustLoc(t, "Europe/Berlin")).Format("2006-01-02")} {
		if !strings.Contains(strings.ReplaceAll(m.Text, "\r\n", "\n"), want) {
			t.Errorf("transcript lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "secret") || strings.Contains(m.HTML, "secret") {
		t.Error("the transcript shows an internal note")
	}
	if !strings.Contains(m.HTML, `href="http://customer.example/pricing"`) {
		t.Errorf("HTML lacks the page link: %s", m.HTML)
	}
	list, _ := mp.Messages()
	for _, s := range list {
		if len(s.To) > 0 && s.To[0].Address == "bot@customer.example" {
			t.Error("a bot-only chat got a transcript")
		}
	}

	// Transcripts off: none.
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error { w.Options.Transcripts = false; return nil }); err != nil {
		t.Fatal(err)
	}
	off := chat("off@customer.example", "no transcript please")
	closeThread(off)
	time.Sleep(300 * time.Millisecond) // the outbox sends within milliseconds
	list, _ = mp.Messages()
	for _, s := range list {
		if len(s.To) > 0 && s.To[0].Address == "off@customer.example" {
			t.Error("a transcript went out with transcripts off")
		}
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("no time zone data: %v", err)
	}
	return l
}
