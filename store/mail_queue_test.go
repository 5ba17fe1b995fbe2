package store

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
)

// TestAppendMailQueueNew: with QueueNew, a thread the mail creates enters
// the routing queue in the same commit; a reply into it, a filtered new
// thread and a new thread without QueueNew do not.
func TestAppendMailQueueNew(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	nt := func(contact uint64, role bool) *parley.Thread {
		return &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail, ContactID: contact, Status: parley.StatusOpen, RoleSender: role}
	}
	queued := func() []uint64 {
		t.Helper()
		q, err := db.Queue(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, e := range q {
			ids = append(ids, e.ThreadID)
		}
		return ids
	}
	first, err := db.AppendMail(ctx, inboundMsg("a"), parley.MailAppend{InboxID: in.ID, MessageID: "a1@c", NewThread: nt(1, false), QueueNew: true})
	if err != nil {
		t.Fatal(err)
	}
	if q := queued(); len(q) != 1 || q[0] != first.Thread.ID {
		t.Fatalf("queue=%v, want [%d]", q, first.Thread.ID)
	}
	if err := db.Dequeue(ctx, first.Thread.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMail(ctx, inboundMsg("b"), parley.MailAppend{InboxID: in.ID, MessageID: "a2@c", References: []string{"a1@c"}, NewThread: nt(1, false), QueueNew: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMail(ctx, inboundMsg("c"), parley.MailAppend{InboxID: in.ID, MessageID: "r1@c", NewThread: nt(2, true), QueueNew: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMail(ctx, inboundMsg("d"), parley.MailAppend{InboxID: in.ID, MessageID: "n1@c", NewThread: nt(3, false)}); err != nil {
		t.Fatal(err)
	}
	if q := queued(); len(q) != 0 {
		t.Errorf("queue=%v, want empty: a reply, a filtered thread, no QueueNew", q)
	}
}
