package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-chat/parley"
)

// TestMailReopen: mail into a closed thread whose Update opens it appends
// the Reopen event right before the message, in one commit; mail whose
// Update leaves it closed, mail into an open thread, and a duplicate reply
// append none. A reply with reopen reopens a closed thread.
func TestMailReopen(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	nt := &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail, ContactID: 1, Status: parley.StatusOpen}
	first, err := db.AppendMail(ctx, inboundMsg("a"), parley.MailAppend{InboxID: in.ID, MessageID: "a1@c", NewThread: nt})
	if err != nil {
		t.Fatal(err)
	}
	th := first.Thread.ID
	closeIt := func() {
		t.Helper()
		if _, err := db.UpdateThread(ctx, th, func(t *parley.Thread) error { t.Status = parley.StatusClosed; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	open := func(t *parley.Thread) error { t.Status = parley.StatusOpen; return nil }
	keep := func(*parley.Thread) error { return nil }
	ev := &parley.Message{SenderID: "V-1", Direction: parley.Incoming}
	mail := func(id string, update func(*parley.Thread) error) parley.AppendResult {
		t.Helper()
		res, err := db.AppendMail(ctx, inboundMsg(id), parley.MailAppend{InboxID: in.ID, MessageID: id, References: []string{"a1@c"}, NewThread: nt, Update: update, Reopen: ev})
		if err != nil || res.Thread.ID != th {
			t.Fatalf("mail %s: %+v, %v", id, res, err)
		}
		return res
	}

	if res := mail("open@c", open); res.Reopened != nil {
		t.Errorf("mail into an open thread recorded a reopening: %+v", res.Reopened)
	}
	closeIt()
	if res := mail("kept@c", keep); res.Reopened != nil || res.Thread.Status != parley.StatusClosed {
		t.Errorf("mail that leaves the thread closed: %+v, reopened %+v", res.Thread, res.Reopened)
	}
	res := mail("reopen@c", open)
	if r := res.Reopened; r == nil || r.Type != parley.TypeStatusChange || r.NewStatus != parley.StatusOpen || r.SenderID != "V-1" || r.Seq+1 != res.Message.Seq {
		t.Fatalf("reopening %+v before message seq %d", r, res.Message.Seq)
	}
	if res.Thread.Status != parley.StatusOpen {
		t.Errorf("thread %s after the reopening", res.Thread.Status)
	}

	closeIt()
	reply := func() parley.AppendResult {
		t.Helper()
		m := &parley.Message{ThreadID: th, Type: parley.TypeMessage, Text: "answer", SenderID: "A-1", Direction: parley.Outgoing, ClientID: "r1"}
		res, _, err := db.AppendMailReply(ctx, m, &parley.Message{SenderID: "A-1", Direction: parley.Outgoing}, func(m *parley.Message, t *parley.Thread) (*parley.OutboxItem, error) {
			return &parley.OutboxItem{Kind: parley.OutboxReply, Email: parley.Email{MessageID: fmt.Sprintf("parley-%d@shop.example", m.ID), To: []parley.Address{{Email: "c@x"}}, Text: m.Text}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res = reply()
	if r := res.Reopened; r == nil || r.SenderID != "A-1" || r.Seq+1 != res.Message.Seq || res.Thread.Status != parley.StatusOpen || !res.Thread.ClosedAt.IsZero() {
		t.Fatalf("reply on a closed thread: %+v, reopened %+v", res.Thread, r)
	}
	closeIt()
	if res := reply(); !res.Duplicate || res.Reopened != nil {
		t.Fatalf("a duplicate reply: %+v", res)
	}
	if got, _ := db.Thread(ctx, th); got.Status != parley.StatusClosed {
		t.Errorf("a duplicate reply reopened the thread")
	}
}
