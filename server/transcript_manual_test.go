package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/mailpit"
)

// manualChat starts a chat on e's widget from the page
// http://customer.example/pricing, in which the visitor says text and the
// admin answers, and gives its contact the addresses email (verified) and
// typed (only typed); empty ones are left out.
func manualChat(t *testing.T, e *env, admin *client, email, typed, text string) *parley.Thread {
	t.Helper()
	ctx := context.Background()
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": text})
	var id uint64
	fmt.Sscan(msgOf(v.next("message.ack"))["threadId"].(string), &id)
	th, err := e.db.Thread(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", id), map[string]any{"type": "MESSAGE", "text": "Yes, in 3 days."}, nil); res.status != 201 {
		t.Fatalf("answer: %d %s", res.status, res.body)
	}
	if _, err := e.db.UpdateContact(ctx, th.ContactID, func(c *parley.Contact) error {
		c.Email, c.UnverifiedEmail, c.FirstName = email, typed, "Vera"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return th
}

func setStatus(t *testing.T, c *client, id uint64, status string) {
	t.Helper()
	if res := c.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", id), map[string]any{"status": status}, nil); res.status != 200 {
		t.Fatalf("set status %s: %d %s", status, res.status, res.body)
	}
}

func transcriptPath(id uint64) string { return fmt.Sprintf("/api/v1/threads/%d/transcript", id) }

// TestManualTranscript sends a closed chat's transcript by hand (R3) to
// each of the contact's addresses, through Mailpit: the agent's subject,
// each message's time, the page the chat started on, and the record on the
// thread, whose status follows the delivery.
func TestManualTranscript(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	// Automatic transcripts off: what arrives was sent by hand.
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error {
		w.Options.Transcripts = false
		w.Availability.Timezone = "Europe/Berlin"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	th := manualChat(t, e, admin, "vera@customer.example", "vera.home@customer.example", "Do you ship to Norway?")
	setStatus(t, admin, th.ID, "CLOSED")

	var draft struct {
		To []struct {
			Email    string
			Verified bool
		}
		Subject string
	}
	res := admin.do("GET", transcriptPath(th.ID), nil, nil)
	if res.status != 200 {
		t.Fatalf("draft: %d %s", res.status, res.body)
	}
	res.decode(t, &draft)
	if len(draft.To) != 2 || draft.To[0].Email != "vera@customer.example" || !draft.To[0].Verified ||
		draft.To[1].Email != "vera.home@customer.example" || draft.To[1].Verified {
		t.Errorf("draft addresses %+v, want the verified one first, then the typed one", draft.To)
	}
	if draft.Subject != "Transcript of your chat with Support" {
		t.Errorf("draft subject %q", draft.Subject)
	}

	// To the address the visitor only typed: the agent's deliberate choice.
	aws, _ := admin.agentWS()
	res = admin.do("POST", transcriptPath(th.ID), map[string]any{"to": "Vera.Home@customer.example", "subject": "Our chat about Norway"}, nil)
	if res.status != 201 {
		t.Fatalf("send: %d %s", res.status, res.body)
	}
	var ev map[string]any
	res.decode(t, &ev)
	if ev["type"] != "SYSTEM" || ev["event"] != "transcript_sent" || ev["text"] != "vera.home@customer.example" || ev["createdBy"] != e.admin.ActorID() {
		t.Errorf("recorded event %v", ev)
	}
	// The consoles hear of it, then of its sending.
	if created := msgOf(aws.next("message.created")); created["event"] != "transcript_sent" || created["delivery"].(map[string]any)["status"] != "PENDING" {
		t.Errorf("message.created %v", created)
	}
	if d := aws.next("message.delivery"); d["messageId"] != ev["id"] || d["status"] != "SENT" {
		t.Errorf("message.delivery %v", d)
	}
	m := mp.Wait(t, 5*time.Second, "the transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera.home@customer.example" })
	if m.Subject != "Our chat about Norway" {
		t.Errorf("subject %q", m.Subject)
	}
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	day := time.Now().In(mustLoc(t, "Europe/Berlin")).Format("2006-01-02")
	for _, want := range []string{"Started on: http://customer.example/pricing", "Vera:\nDo you ship to Norway?", "Ada Admin:\nYes, in 3 days.", "[" + day + " "} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(m.HTML, `href="http://customer.example/pricing"`) {
		t.Errorf("HTML lacks the page link: %s", m.HTML)
	}

	// The record on the thread, in the v3 messages API, turns SENT.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var list struct{ Results []map[string]any }
		admin.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), nil, nil).decode(t, &list)
		var got map[string]any
		for _, x := range list.Results {
			if x["event"] == "transcript_sent" {
				got = x
			}
		}
		if got == nil {
			t.Fatal("no transcript_sent event in the thread's messages")
		}
		if st := got["status"].(map[string]any)["statusType"]; st == "SENT" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the transcript's status stays %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// To the verified address, with the prefilled subject, in the chat's
	// language.
	if _, err := e.db.UpdateThread(ctx, th.ID, func(t *parley.Thread) error { t.Language = "de"; return nil }); err != nil {
		t.Fatal(err)
	}
	admin.do("GET", transcriptPath(th.ID), nil, nil).decode(t, &draft)
	if !strings.Contains(draft.Subject, "Support") || draft.Subject == "Transcript of your chat with Support" {
		t.Errorf("German draft subject %q", draft.Subject)
	}
	if res := admin.do("POST", transcriptPath(th.ID), map[string]any{"to": "vera@customer.example", "subject": draft.Subject}, nil); res.status != 201 {
		t.Fatalf("send to the verified address: %d %s", res.status, res.body)
	}
	m = mp.Wait(t, 5*time.Second, "the German transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera@customer.example" })
	if m.Subject != draft.Subject {
		t.Errorf("subject %q, want %q", m.Subject, draft.Subject)
	}
	if !strings.Contains(strings.ReplaceAll(m.Text, "\r\n", "\n"), "http://customer.example/pricing") {
		t.Errorf("German transcript lacks the page link:\n%s", m.Text)
	}
}

// TestManualTranscriptAttacks tries what a transcript sent by hand must
// refuse.
func TestManualTranscriptAttacks(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	th := manualChat(t, e, admin, "vera@customer.example", "vera.home@customer.example", "Do you ship to Norway?")
	send := func(c *client, id uint64, to, subject string) response {
		t.Helper()
		return c.do("POST", transcriptPath(id), map[string]any{"to": to, "subject": subject}, nil)
	}
	want := func(res response, status int, contains string) {
		t.Helper()
		if res.status != status || !strings.Contains(string(res.body), contains) {
			t.Errorf("status=%d body=%s, want %d mentioning %q", res.status, res.body, status, contains)
		}
	}

	// The chat is open.
	want(send(admin, th.ID, "vera@customer.example", "Hi"), 409, "close it")
	want(admin.do("GET", transcriptPath(th.ID), nil, nil), 409, "close it")
	setStatus(t, admin, th.ID, "CLOSED") // the widget's automatic transcript: the first of the hour for vera@

	// An address that is not the contact's.
	want(send(admin, th.ID, "victim@corp.example", "Hi"), 400, "one of the contact's email addresses")
	want(send(admin, th.ID, "", "Hi"), 400, "to is required")
	// Subjects that would smuggle headers, or are too long or empty.
	want(send(admin, th.ID, "vera@customer.example", "Hi\r\nBcc: victim@corp.example"), 400, "one line")
	want(send(admin, th.ID, "vera@customer.example", "Hi\nthere"), 400, "one line")
	want(send(admin, th.ID, "vera@customer.example", strings.Repeat("x", 251)), 400, "longer than 250")
	want(send(admin, th.ID, "vera@customer.example", "  "), 400, "subject is required")

	// An agent of another inbox gets what any thread they may not read
	// answers, here and on the thread itself.
	other := e.addAgent("sam@example.com", false)
	if err := e.db.CreateInbox(ctx, &parley.Inbox{Name: "Sales", MemberIDs: []uint64{other.ID}}); err != nil {
		t.Fatal(err)
	}
	sam := e.login("sam@example.com")
	thread := sam.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID), nil, nil)
	missing := sam.do("POST", transcriptPath(999999), map[string]any{"to": "vera@customer.example", "subject": "Hi"}, nil)
	for _, res := range []response{send(sam, th.ID, "vera@customer.example", "Hi"), sam.do("GET", transcriptPath(th.ID), nil, nil), missing} {
		if res.status != thread.status || res.status != 404 {
			t.Errorf("another inbox's agent: %d %s; the thread itself answers %d", res.status, res.body, thread.status)
		}
	}

	// A bot's chat that never reached an agent.
	bot := manualChat(t, e, admin, "bot@customer.example", "", "question for the bot")
	if _, err := e.db.UpdateThread(ctx, bot.ID, func(t *parley.Thread) error {
		t.Owner, t.Status = parley.OwnerBot, parley.StatusClosed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want(send(admin, bot.ID, "bot@customer.example", "Hi"), 400, "only by a bot")

	// A chat marked as spam (Filtered) gets none, as automatically.
	spam := manualChat(t, e, admin, "spam@customer.example", "", "Buy cheap pills")
	setStatus(t, admin, spam.ID, "CLOSED")
	if res := admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/spam", spam.ID), nil, nil); res.status != 200 {
		t.Fatalf("spam: %d %s", res.status, res.body)
	}
	want(send(admin, spam.ID, "spam@customer.example", "Hi"), 400, "Filtered")

	// An email thread has no transcript.
	deliver(t, e, rawMail("Erin <erin@customer.example>", "Hello", "e1@customer.example", "", "Hi there"))
	mailThread := threadOf(t, e, "erin@customer.example")
	setStatus(t, admin, mailThread.ID, "CLOSED")
	want(send(admin, mailThread.ID, "erin@customer.example", "Hi"), 400, "only chats")

	// One address gets 5 transcripts an hour, automatic and by hand
	// together: the close sent one, so four more, then 429.
	for i := range 4 {
		if res := send(admin, th.ID, "vera@customer.example", "Copy"); res.status != 201 {
			t.Fatalf("transcript %d: %d %s", i+2, res.status, res.body)
		}
	}
	res := send(admin, th.ID, "VERA@customer.example", "Copy")
	want(res, 429, "within the hour")
	if res.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The other address has its own limit.
	if res := send(admin, th.ID, "vera.home@customer.example", "Copy"); res.status != 201 {
		t.Errorf("the typed address: %d %s", res.status, res.body)
	}

	// Without outbound mail: a clear error.
	e2, admin2 := mailEnv(t, "")
	th2 := manualChat(t, e2, admin2, "vera@customer.example", "", "Hello")
	setStatus(t, admin2, th2.ID, "CLOSED")
	want(send(admin2, th2.ID, "vera@customer.example", "Hi"), 503, "email is not configured")
}
