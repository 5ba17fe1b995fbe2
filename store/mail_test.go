package store

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestInboxMailboxes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	a := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "Support@Shop.example"}}}
	if err := db.CreateInbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	w := &parley.Widget{Name: "w", InboxID: a.ID}
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if a.Mailboxes[0].ID == 0 || a.Mailboxes[0].ID == w.ID {
		t.Fatalf("mailbox id %d, widget id %d: want distinct channel account ids", a.Mailboxes[0].ID, w.ID)
	}
	first := a.Mailboxes[0].ID
	b := &parley.Inbox{Name: "Sales"}
	if err := db.CreateInbox(ctx, b); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		inbox    uint64
		set      []parley.Mailbox
		wantCode string
	}{
		{"address of another inbox", b.ID, []parley.Mailbox{{Address: "support@shop.example"}}, parley.ECONFLICT},
		{"twice in one inbox", b.ID, []parley.Mailbox{{Address: "s@shop.example"}, {Address: "S@shop.example"}}, parley.EINVALID},
		{"add one, keep one", a.ID, []parley.Mailbox{{Address: "support@shop.example"}, {Address: "help@shop.example"}}, ""},
		{"the second inbox's own", b.ID, []parley.Mailbox{{Address: "sales@shop.example"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UpdateInbox(ctx, tt.inbox, func(in *parley.Inbox) error { in.Mailboxes = tt.set; return nil })
			wantCode(t, err, tt.wantCode)
		})
	}
	a, _ = db.Inbox(ctx, a.ID)
	if len(a.Mailboxes) != 2 || a.Mailboxes[0].ID != first || a.Mailboxes[1].ID == 0 || a.Mailboxes[1].ID == first {
		t.Fatalf("mailboxes %+v: want the first id %d kept and a new one", a.Mailboxes, first)
	}
	for _, tt := range []struct {
		addr          string
		inbox, mailbx uint64
		code          string
	}{
		{"SUPPORT@shop.example", a.ID, first, ""},
		{"help@shop.example", a.ID, a.Mailboxes[1].ID, ""},
		{"sales@shop.example", b.ID, 0, ""},
		{"nobody@shop.example", 0, 0, parley.ENOTFOUND},
	} {
		in, mb, err := db.Mailbox(ctx, tt.addr)
		wantCode(t, err, tt.code)
		if err == nil && (in != tt.inbox || tt.mailbx != 0 && mb != tt.mailbx) {
			t.Errorf("Mailbox(%s)=%d/%d, want %d/%d", tt.addr, in, mb, tt.inbox, tt.mailbx)
		}
	}

	// Removing an address frees it; deleting the inbox frees the rest.
	if _, err := db.UpdateInbox(ctx, a.ID, func(in *parley.Inbox) error { in.Mailboxes = in.Mailboxes[1:]; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Mailbox(ctx, "support@shop.example"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("removed address still found: %v", err)
	}
	if err := db.DeleteInbox(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Mailbox(ctx, "help@shop.example"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("address of a deleted inbox still found: %v", err)
	}
}

func inboundMsg(text string) *parley.Message {
	return &parley.Message{Type: parley.TypeMessage, Text: text, SenderID: "V-1", Direction: parley.Incoming, ChannelID: parley.ChannelEmail}
}

func TestAppendMailThreading(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "support@shop.example"}}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	other := &parley.Inbox{Name: "Other"}
	if err := db.CreateInbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	newThread := func(inbox uint64) *parley.Thread {
		return &parley.Thread{InboxID: inbox, ChannelID: parley.ChannelEmail, ChannelAccountID: in.Mailboxes[0].ID, ContactID: 1, Subject: "Order"}
	}

	first, err := db.AppendMail(ctx, inboundMsg("first"), parley.MailAppend{InboxID: in.ID, MessageID: "m1@c", NewThread: newThread(in.ID)})
	if err != nil || !first.ThreadCreated {
		t.Fatalf("first mail: %+v, %v", first, err)
	}
	th := first.Thread.ID

	// An agent's reply is queued with the message, in one commit.
	reply := &parley.Message{ThreadID: th, Type: parley.TypeMessage, Text: "answer", SenderID: "A-1", Direction: parley.Outgoing}
	res, item, err := db.AppendMailReply(ctx, reply, nil, func(m *parley.Message, t *parley.Thread) (*parley.OutboxItem, error) {
		return &parley.OutboxItem{Kind: parley.OutboxReply, Email: parley.Email{MessageID: "parley-r1@shop.example", To: []parley.Address{{Email: "c@x"}}, Text: m.Text}}, nil
	})
	if err != nil || res.Duplicate || item == nil || item.MessageID != reply.ID || item.ThreadID != th {
		t.Fatalf("reply: %+v %+v %v", res, item, err)
	}
	if d, err := db.Delivery(ctx, th, reply.ID); err != nil || d == nil || d.Status != parley.DeliveryPending {
		t.Fatalf("delivery %+v, %v: want PENDING", d, err)
	}

	tests := []struct {
		name       string
		inbox      uint64
		messageID  string
		refs       []string
		wantThread uint64 // 0: a new thread
		wantDup    bool
	}{
		{"answer to our reply", in.ID, "m2@c", []string{"parley-r1@shop.example"}, th, false},
		{"answer to the first mail", in.ID, "m3@c", []string{"unknown@c", "m1@c"}, th, false},
		{"same Message-ID again", in.ID, "m2@c", nil, th, true},
		{"unknown references", in.ID, "m4@c", []string{"nope@c"}, 0, false},
		{"same id in another inbox is another mail", other.ID, "m2@c", []string{"parley-r1@shop.example"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := db.AppendMail(ctx, inboundMsg(tt.name), parley.MailAppend{InboxID: tt.inbox, MessageID: tt.messageID, References: tt.refs, NewThread: newThread(tt.inbox)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate != tt.wantDup {
				t.Errorf("duplicate=%v, want %v", res.Duplicate, tt.wantDup)
			}
			if tt.wantThread == 0 && (!res.ThreadCreated || res.Thread.ID == th) {
				t.Errorf("thread %d (created %v), want a new thread", res.Thread.ID, res.ThreadCreated)
			}
			if tt.wantThread != 0 && res.Thread.ID != tt.wantThread {
				t.Errorf("thread %d, want %d", res.Thread.ID, tt.wantThread)
			}
			if res.Thread.InboxID != tt.inbox {
				t.Errorf("thread in inbox %d, want %d", res.Thread.InboxID, tt.inbox)
			}
		})
	}
	ids, err := db.ThreadMailIDs(ctx, th)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m1@c", "parley-r1@shop.example", "m2@c", "m3@c"}; len(ids) != len(want) || ids[0] != want[0] || ids[1] != want[1] || ids[3] != want[3] {
		t.Errorf("thread mail ids %q, want %q", ids, want)
	}
	msgs, _, _ := db.Messages(ctx, th, 0, 0)
	if len(msgs) != 4 {
		t.Errorf("%d messages in the thread, want 4 (one per Message-ID)", len(msgs))
	}

	// Deleting the inbox deletes the thread's mail ids and queued mail.
	if err := db.DeleteInbox(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if ids, _ := db.ThreadMailIDs(ctx, th); len(ids) != 0 {
		t.Errorf("mail ids of a deleted thread: %q", ids)
	}
	if due, _, _ := db.DueMail(ctx, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("%d queued mails of a deleted thread", len(due))
	}
}

func TestAppendMailRefusal(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	nt := &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail}
	_, err := db.AppendMail(ctx, inboundMsg("x"), parley.MailAppend{InboxID: in.ID, NewThread: nt})
	wantCode(t, err, parley.EINVALID)
	_, err = db.AppendMail(ctx, inboundMsg("x"), parley.MailAppend{InboxID: in.ID + 1, MessageID: "a@b", NewThread: nt})
	wantCode(t, err, parley.EINVALID)
	// An Update error writes nothing, not even the Message-ID.
	_, err = db.AppendMail(ctx, inboundMsg("x"), parley.MailAppend{InboxID: in.ID, MessageID: "a@b", NewThread: nt, Update: func(*parley.Thread) error { return errTest }})
	if err != errTest {
		t.Fatalf("err=%v, want the Update's", err)
	}
	res, err := db.AppendMail(ctx, inboundMsg("x"), parley.MailAppend{InboxID: in.ID, MessageID: "a@b", NewThread: nt})
	if err != nil || res.Duplicate || !res.ThreadCreated {
		t.Fatalf("after a refusal: %+v, %v; want a fresh thread", res, err)
	}
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	mk := func(id string) *parley.OutboxItem {
		return &parley.OutboxItem{Kind: parley.OutboxNotification, Email: parley.Email{MessageID: id, To: []parley.Address{{Email: "a@x"}}, Text: "t"}}
	}
	wantCode(t, db.QueueMail(ctx, &parley.OutboxItem{}), parley.EINVALID)
	a, b := mk("a@x"), mk("b@x")
	if err := db.QueueMail(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueMail(ctx, b); err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	due, next, err := db.DueMail(ctx, now, 10)
	if err != nil || len(due) != 2 || !next.IsZero() {
		t.Fatalf("due %d, next %v, %v: want both now", len(due), next, err)
	}
	// a fails for now, b is sent.
	if _, d, err := db.MailDone(ctx, a.ID, "421 busy", false, now.Add(time.Minute)); err != nil || d.Status != parley.DeliveryPending {
		t.Fatalf("retry: %+v %v", d, err)
	}
	if _, d, err := db.MailDone(ctx, b.ID, "", false, time.Time{}); err != nil || d.Status != parley.DeliverySent {
		t.Fatalf("sent: %+v %v", d, err)
	}
	due, next, _ = db.DueMail(ctx, now, 10)
	if len(due) != 0 || !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("due %d next %v: want none until the retry", len(due), next)
	}
	due, _, _ = db.DueMail(ctx, now.Add(time.Minute), 10)
	if len(due) != 1 || due[0].ID != a.ID || due[0].Attempts != 1 || due[0].LastError != "421 busy" {
		t.Fatalf("due %+v: want a once more", due)
	}
	if _, d, err := db.MailDone(ctx, a.ID, "550 no", true, time.Time{}); err != nil || d.Status != parley.DeliveryFailed || d.Attempts != 2 {
		t.Fatalf("failed: %+v %v", d, err)
	}
	if _, _, err := db.MailDone(ctx, a.ID, "", false, time.Time{}); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("done twice: %v, want ENOTFOUND", err)
	}
	if due, next, _ := db.DueMail(ctx, now.Add(time.Hour), 10); len(due) != 0 || !next.IsZero() {
		t.Errorf("outbox not empty: %d, %v", len(due), next)
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	it := &parley.OutboxItem{Kind: parley.OutboxTranscript, Email: parley.Email{MessageID: "t@x", To: []parley.Address{{Email: "a@x"}}, Text: "t"}}
	if err := db.QueueMail(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpenDir(t, dir, nil)
	due, _, err := db.DueMail(ctx, time.Now().Add(time.Second), 10)
	if err != nil || len(due) != 1 || due[0].Email.MessageID != "t@x" {
		t.Fatalf("after restart: %+v, %v", due, err)
	}
}

// TestAppendMailJoin: Join decides whether mail joins the thread its
// references name or starts its own; an Automatic thread is Filtered.
func TestAppendMailJoin(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	nt := func(contact uint64) *parley.Thread {
		return &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelEmail, ContactID: contact, Status: parley.StatusOpen}
	}
	first, err := db.AppendMail(ctx, inboundMsg("a"), parley.MailAppend{InboxID: in.ID, MessageID: "a1@c", NewThread: nt(1)})
	if err != nil {
		t.Fatal(err)
	}
	var asked *parley.Thread
	refuse := func(t *parley.Thread) bool { asked = t; return false }
	res, err := db.AppendMail(ctx, inboundMsg("b"), parley.MailAppend{InboxID: in.ID, MessageID: "b1@c", References: []string{"a1@c"}, NewThread: nt(2), Join: refuse})
	if err != nil || !res.ThreadCreated || res.Thread.ID == first.Thread.ID || res.Thread.ContactID != 2 {
		t.Fatalf("refused join: %+v, %v; want a new thread of contact 2", res, err)
	}
	if asked == nil || asked.ID != first.Thread.ID || asked.ContactID != 1 {
		t.Errorf("Join was asked about %+v, want thread %d", asked, first.Thread.ID)
	}
	res, err = db.AppendMail(ctx, inboundMsg("c"), parley.MailAppend{InboxID: in.ID, MessageID: "c1@c", References: []string{"a1@c"}, NewThread: nt(3),
		Join: func(*parley.Thread) bool { return true }})
	if err != nil || res.ThreadCreated || res.Thread.ID != first.Thread.ID || res.Thread.ContactID != 1 {
		t.Fatalf("allowed join: %+v, %v; want thread %d of contact 1", res, err, first.Thread.ID)
	}

	auto := nt(4)
	auto.Automatic = true
	if _, err := db.AppendMail(ctx, inboundMsg("d"), parley.MailAppend{InboxID: in.ID, MessageID: "d1@c", NewThread: auto}); err != nil {
		t.Fatal(err)
	}
	yes := true
	ts, _, err := db.Threads(ctx, parley.ThreadFilter{Filtered: &yes})
	if err != nil || len(ts) != 1 || !ts[0].Automatic {
		t.Fatalf("filtered threads %+v, %v; want the automatic one", ts, err)
	}
	counts, err := db.CountThreads(ctx, []uint64{in.ID}, 0)
	if err != nil || counts.Filtered != 1 {
		t.Errorf("counts %+v, %v; want 1 filtered", counts, err)
	}
}

// TestRetryMail: a reply that failed for good keeps its email; RetryMail
// queues it again, once; LatestDelivery follows the thread's latest reply.
func TestRetryMail(t *testing.T) {
	db := MustOpen(t, &Options{NoSync: true})
	ctx := context.Background()
	item := &parley.OutboxItem{Kind: parley.OutboxReply, ThreadID: 7, MessageID: 70, Email: parley.Email{
		MessageID: "<r@parley.test>", To: []parley.Address{{Email: "ann@customer.example"}}, Subject: "Re: x", Text: "hello"}}
	if err := db.QueueMail(ctx, item); err != nil {
		t.Fatal(err)
	}
	if d, err := db.LatestDelivery(ctx, 7); err != nil || d != nil {
		t.Fatalf("LatestDelivery before any record: %v, %v", d, err)
	}
	if _, _, err := db.RetryMail(ctx, 7, 70); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("retry of a message without a status: %v, want ENOTFOUND", err)
	}
	if _, _, err := db.MailDone(ctx, item.ID, "550 no", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, err := db.LatestDelivery(ctx, 7); err != nil || d == nil || d.Status != parley.DeliveryFailed {
		t.Fatalf("LatestDelivery after the failure: %v, %v", d, err)
	}
	again, d, err := db.RetryMail(ctx, 7, 70)
	if err != nil || d.Status != parley.DeliveryPending || again.ID == item.ID || again.Attempts != 0 || again.Email.Text != "hello" {
		t.Fatalf("RetryMail: %+v %+v %v", again, d, err)
	}
	if _, _, err := db.RetryMail(ctx, 7, 70); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("a second retry while pending: %v, want ECONFLICT", err)
	}
	due, _, err := db.DueMail(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].ID != again.ID {
		t.Fatalf("due after the retry: %v, %v", due, err)
	}
}
