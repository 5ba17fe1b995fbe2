package store

import (
	"context"
	"testing"
	"time"

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

// TestQueueMailEvent: the event and the queued email are one commit; a
// check that refuses writes neither; the event's delivery starts PENDING
// and follows MailDone; the email's Message-ID joins no thread.
func TestQueueMailEvent(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	first, err := db.AppendMail(ctx, inboundMsg("a"), parley.MailAppend{InboxID: in.ID, MessageID: "a1@c",
		NewThread: &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail, ContactID: 1, Status: parley.StatusOpen}})
	if err != nil {
		t.Fatal(err)
	}
	th := first.Thread
	item := func() *parley.OutboxItem {
		return &parley.OutboxItem{Kind: parley.OutboxTranscript, ThreadID: th.ID, Email: parley.Email{
			To: []parley.Address{{Email: "vera@customer.example"}}, Subject: "s", Text: "t", MessageID: "parley-t1.x@parley.test"}}
	}
	event := func() *parley.Message {
		return &parley.Message{Type: parley.TypeSystem, Event: parley.EventTranscriptSent, Text: "vera@customer.example", SenderID: "A-1", Direction: parley.Outgoing}
	}
	refused := parley.Errorf(parley.ECONFLICT, "open")
	if _, err := db.QueueMailEvent(ctx, item(), event(), func(*parley.Thread) error { return refused }); err != refused {
		t.Fatalf("err=%v, want the check's", err)
	}
	if due, _, _ := db.DueMail(ctx, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("a refused check queued %d emails", len(due))
	}
	if msgs, _, _ := db.Messages(ctx, th.ID, 0, 10); len(msgs) != 1 {
		t.Fatalf("a refused check appended: %d messages", len(msgs))
	}

	it, ev := item(), event()
	res, err := db.QueueMailEvent(ctx, it, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID == 0 || ev.ThreadID != th.ID || res.Message != ev || it.ID == 0 || it.MessageID != ev.ID {
		t.Fatalf("event %+v, item %+v", ev, it)
	}
	if d, _ := db.Delivery(ctx, th.ID, ev.ID); d == nil || d.Status != parley.DeliveryPending {
		t.Fatalf("delivery %+v, want PENDING", d)
	}
	if ids, _ := db.ThreadMailIDs(ctx, th.ID); len(ids) != 1 {
		t.Errorf("the transcript's Message-ID was recorded for the thread: %v", ids)
	}
	if _, d, err := db.MailDone(ctx, it.ID, "", false, time.Time{}); err != nil || d.Status != parley.DeliverySent {
		t.Fatalf("MailDone: %+v, %v", d, err)
	}
	if d, _ := db.Delivery(ctx, th.ID, ev.ID); d == nil || d.Status != parley.DeliverySent {
		t.Errorf("delivery %+v, want SENT", d)
	}
}

// TestAppendMailNewRecord: a record asked for with a new thread is created
// in its commit, of its contact and associated with it, its event right
// after the message; a reply, a filtered new thread and the same mail
// again, also after the store is reopened, create none.
func TestAppendMailNewRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	c := &parley.Contact{Email: "ann@customer.example"}
	if err := db.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	appendMail := func(db *DB, msgID string, refs []string, role bool) parley.AppendResult {
		t.Helper()
		res, err := db.AppendMail(ctx, inboundMsg("hi"), parley.MailAppend{
			InboxID: in.ID, MessageID: msgID, References: refs,
			NewThread: &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail, ContactID: c.ID, Status: parley.StatusOpen, RoleSender: role},
			NewRecord: &parley.Record{Kind: parley.RecordTicket, Name: "Help", Stage: parley.TicketNew},
			RecordEvent: &parley.Message{Type: parley.TypeSystem, Event: parley.EventRecordCreated, Text: "ticket: Help",
				SenderID: parley.SystemActorID, Direction: parley.Outgoing, ChannelID: parley.ChannelEmail},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := appendMail(db, "a1@c", nil, false)
	if first.Record == nil || first.Record.ContactID != c.ID || len(first.Record.ThreadIDs) != 1 || first.Record.ThreadIDs[0] != first.Thread.ID {
		t.Fatalf("record %+v", first.Record)
	}
	if first.RecordEvent == nil || first.RecordEvent.Seq != first.Message.Seq+1 || first.Thread.LastSeq != first.RecordEvent.Seq {
		t.Fatalf("event %+v after message %+v, thread at %d", first.RecordEvent, first.Message, first.Thread.LastSeq)
	}
	if r := appendMail(db, "a2@c", []string{"a1@c"}, false); r.Record != nil || r.ThreadCreated {
		t.Errorf("a reply created a record: %+v", r.Record)
	}
	if r := appendMail(db, "r1@c", nil, true); r.Record != nil || !r.ThreadCreated {
		t.Errorf("a filtered thread got a record: %+v", r.Record)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpenDir(t, dir, &Options{NoSync: true})
	if r := appendMail(db, "a1@c", nil, false); !r.Duplicate || r.Record != nil {
		t.Errorf("the same mail after a restart: duplicate=%v record=%+v", r.Duplicate, r.Record)
	}
	recs, err := db.ContactRecords(ctx, c.ID)
	if err != nil || len(recs) != 1 {
		t.Errorf("contact records %d, %v; want 1", len(recs), err)
	}
}
