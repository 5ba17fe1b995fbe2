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

// TestTranscriptsOnlyToVerifiedAddresses attacks transcripts as a spam
// relay: a visitor who types a stranger's address and has its chat closed
// gets nothing sent there; a verified address gets its transcript; and one
// address gets at most 5 transcripts an hour, however often its chat is
// closed.
func TestTranscriptsOnlyToVerifiedAddresses(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error { w.Options.Transcripts = true; return nil }); err != nil {
		t.Fatal(err)
	}
	closeChat := func(id string) {
		t.Helper()
		if res := admin.do("PATCH", "/conversations/v3/conversations/threads/"+id, map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
	}
	to := func(addr string) int {
		t.Helper()
		list, err := mp.Messages()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range list {
			if len(s.To) > 0 && s.To[0].Address == addr {
				n++
			}
		}
		return n
	}

	// Mallory types the victim's address and gets the chat closed.
	mallory, _ := e.visitor("", 0)
	mallory.send(map[string]any{"type": "message.send", "clientId": "m1", "text": "Buy cheap pills at spam.example"})
	malloryThread := msgOf(mallory.next("message.ack"))["threadId"].(string)
	mallory.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": "victim@corp.example"})
	mallory.next("contact.email")
	closeChat(malloryThread)

	// A visitor whose address is verified (an agent set it) gets one.
	vera, _ := e.visitor("", 0)
	vera.send(map[string]any{"type": "message.send", "clientId": "v0", "text": "Do you ship to Norway?"})
	veraThread := msgOf(vera.next("message.ack"))["threadId"].(string)
	var id uint64
	fmt.Sscan(veraThread, &id)
	th, err := e.db.Thread(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UpdateContact(ctx, th.ContactID, func(c *parley.Contact) error { c.Email = "vera@customer.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	closeChat(veraThread)
	mp.Wait(t, 5*time.Second, "the verified address's transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera@customer.example" })
	// The outbox sends in order: Mallory's would have gone out first.
	if n := to("victim@corp.example"); n != 0 {
		t.Fatalf("a typed, unverified address got %d transcripts", n)
	}

	// Five more closes within the hour: four more transcripts, the sixth
	// is dropped.
	for i := 1; i <= 5; i++ {
		vera.send(map[string]any{"type": "message.send", "clientId": fmt.Sprintf("v%d", i), "text": "One more question"})
		vera.next("message.ack")
		closeChat(veraThread)
	}
	deadline := time.Now().Add(5 * time.Second)
	for to("vera@customer.example") < 5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a sixth would arrive within milliseconds
	if n := to("vera@customer.example"); n != 5 {
		t.Errorf("one address got %d transcripts within an hour, want 5", n)
	}
}

// TestTranscriptAnswersReachTheInbox: a transcript comes from
// PARLEY_MAIL_FROM with a Reply-To of the inbox's own address, so that the
// visitor's answer lands in the inbox as an email thread; an inbox without
// an address sets none.
func TestTranscriptAnswersReachTheInbox(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	chat := func(addr string) {
		t.Helper()
		v, _ := e.visitor("", 0)
		v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Do you ship to Norway?"})
		id := msgOf(v.next("message.ack"))["threadId"].(string)
		var n uint64
		fmt.Sscan(id, &n)
		th, err := e.db.Thread(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.UpdateContact(ctx, th.ContactID, func(c *parley.Contact) error { c.Email = addr; return nil }); err != nil {
			t.Fatal(err)
		}
		if res := admin.do("PATCH", "/conversations/v3/conversations/threads/"+id, map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
	}

	// The widget of a new Parley sends transcripts without being told to.
	chat("vera@customer.example")
	tr := mp.Wait(t, 5*time.Second, "the transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "vera@customer.example" })
	h, err := mp.Headers(tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h["Reply-To"], ","); !strings.Contains(got, "<Support@parley.test>") {
		t.Errorf("Reply-To %q, want the inbox's address", got)
	}
	if tr.From.Address != "parley@parley.test" {
		t.Errorf("From %q, want PARLEY_MAIL_FROM", tr.From.Address)
	}

	// The visitor answers: a new email thread in the inbox.
	deliver(t, e, rawMail("Vera <vera@customer.example>", "Re: "+tr.Subject, "v1@customer.example", tr.MessageID, "One more question."))
	c, _ := e.db.ContactByEmail(ctx, "vera@customer.example")
	ts, _, _ := e.db.Threads(ctx, parley.ThreadFilter{ContactID: c.ID})
	found := false
	for _, x := range ts {
		if x.ChannelID == parley.ChannelEmail && x.InboxID == e.inbox.ID && !x.IsFiltered() {
			found = true
		}
	}
	if !found {
		t.Errorf("the answer to the transcript is in no email thread of the inbox: %+v", ts)
	}

	// An inbox without an address: no Reply-To.
	if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"emailAddresses": []string{}}, nil); res.status != 200 {
		t.Fatalf("remove the address: %d %s", res.status, res.body)
	}
	chat("walt@customer.example")
	tr = mp.Wait(t, 5*time.Second, "the second transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "walt@customer.example" })
	if h, _ := mp.Headers(tr.ID); len(h["Reply-To"]) != 0 {
		t.Errorf("Reply-To %q without an inbox address", h["Reply-To"])
	}
}
