package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestRoutingQueue: conversations enter the queue in the commit that creates
// them, leave it in the commit that assigns them, keep their place when
// queued again, and come out oldest first.
func TestRoutingQueue(t *testing.T) {
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	ctx := context.Background()

	visitorMsg := func(contact uint64, clientID string) *parley.Message {
		return &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: parley.ContactActorID(contact), ClientID: clientID, Direction: parley.Incoming}
	}
	newChat := func(contact uint64) parley.AppendOptions {
		return parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: contact}}
	}
	var ids []uint64
	for c := uint64(1); c <= 3; c++ {
		clk.Add(time.Second)
		res, err := db.AppendRouted(ctx, visitorMsg(c, "a"), newChat(c), parley.RouteOptions{QueueNew: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.ThreadCreated || !res.Queued {
			t.Fatalf("created=%v queued=%v, want both", res.ThreadCreated, res.Queued)
		}
		ids = append(ids, res.Thread.ID)
	}
	// A second message on an existing thread does not queue it again, and a
	// retry of the first writes nothing.
	clk.Add(time.Second)
	if res, err := db.AppendRouted(ctx, visitorMsg(1, "b"), newChat(1), parley.RouteOptions{QueueNew: true}); err != nil || res.ThreadCreated {
		t.Fatalf("created=%v err=%v", res.ThreadCreated, err)
	}
	if res, err := db.AppendRouted(ctx, visitorMsg(2, "a"), newChat(2), parley.RouteOptions{QueueNew: true}); err != nil || !res.Duplicate {
		t.Fatalf("duplicate=%v err=%v", res.Duplicate, err)
	}
	// Queued again: keeps its place.
	if err := db.Enqueue(ctx, ids[0], nil); err != nil {
		t.Fatal(err)
	}
	wantQueue := func(want ...uint64) {
		t.Helper()
		q, err := db.Queue(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, e := range q {
			got = append(got, e.ThreadID)
		}
		if len(got) != len(want) {
			t.Fatalf("queue %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("queue %v, want %v", got, want)
			}
		}
	}
	wantQueue(ids...)

	// Routing assigns the second: assignment, note and unqueue in one
	// commit, and the assignee's last routed time.
	clk.Add(time.Minute)
	note := &parley.Message{Type: parley.TypeSystem, Event: "routed", Text: "why", SenderID: parley.SystemActorID, Direction: parley.Outgoing}
	assign := &parley.Message{ThreadID: ids[1], Type: parley.TypeAssignment, AssigneeID: 7, SenderID: parley.SystemActorID, Direction: parley.Outgoing}
	res, err := db.AppendRouted(ctx, assign, parley.AppendOptions{Update: func(t *parley.Thread) error { t.AssigneeID = 7; return nil }},
		parley.RouteOptions{Note: note, Unqueue: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued || res.Note == nil || res.Note.Seq+1 != res.Message.Seq || res.Thread.AssigneeID != 7 {
		t.Fatalf("queued=%v note=%+v message seq %d assignee %d", res.Queued, res.Note, res.Message.Seq, res.Thread.AssigneeID)
	}
	wantQueue(ids[0], ids[2])
	last, err := db.LastRouted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := last[7]; !got.Equal(clk.Now()) {
		t.Errorf("last routed %v, want %v", got, clk.Now())
	}
	counts, err := db.OpenAssigned(ctx, parley.ChannelChat)
	if err != nil {
		t.Fatal(err)
	}
	if counts[7] != 1 || len(counts) != 1 {
		t.Errorf("open assigned %v, want 7:1", counts)
	}
	if counts, _ := db.OpenAssigned(ctx, parley.ChannelEmail); len(counts) != 0 {
		t.Errorf("open assigned on email %v, want none", counts)
	}

	// A failing update writes nothing: not the note, not the unqueue.
	failing := &parley.Message{ThreadID: ids[0], Type: parley.TypeAssignment, AssigneeID: 8, SenderID: parley.SystemActorID, Direction: parley.Outgoing}
	before, _ := db.Thread(ctx, ids[0])
	_, err = db.AppendRouted(ctx, failing, parley.AppendOptions{Update: func(*parley.Thread) error { return errTest }},
		parley.RouteOptions{Note: &parley.Message{Type: parley.TypeSystem, Text: "x", SenderID: parley.SystemActorID}, Unqueue: true})
	if !errors.Is(err, errTest) {
		t.Fatalf("err=%v, want the update's", err)
	}
	after, _ := db.Thread(ctx, ids[0])
	if after.LastSeq != before.LastSeq {
		t.Errorf("LastSeq %d → %d after a failed routing", before.LastSeq, after.LastSeq)
	}
	wantQueue(ids[0], ids[2])

	if err := db.Dequeue(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if err := db.Dequeue(ctx, 999); err != nil {
		t.Fatal(err)
	}
	wantQueue(ids[0])
	wantCode(t, db.Enqueue(ctx, 999, nil), parley.ENOTFOUND)

	// A queued hand-off keeps its own routing.
	if err := db.Enqueue(ctx, ids[2], &parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{3}}); err != nil {
		t.Fatal(err)
	}
	q, err := db.Queue(ctx, 1)
	if err != nil || len(q) != 1 || q[0].ThreadID != ids[0] {
		t.Fatalf("limit 1: %v %v", q, err)
	}
	q, _ = db.Queue(ctx, 0)
	if r := q[1].Routing; r == nil || r.Mode != parley.RoutingUsers || len(r.UserIDs) != 1 || r.UserIDs[0] != 3 {
		t.Errorf("queued routing %+v", r)
	}
}
