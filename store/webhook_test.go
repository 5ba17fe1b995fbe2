package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// webhookApp stores settings for appID and subscriptions to the given
// event types (a "type/property" names a propertyChange subscription).
func webhookApp(tb testing.TB, db *DB, appID uint64, types ...string) {
	tb.Helper()
	ctx := tb.Context()
	if err := db.PutWebhookSettings(ctx, &parley.WebhookSettings{AppID: appID, TargetURL: "https://example.com/hook", Secret: "s"}); err != nil {
		tb.Fatal(err)
	}
	for _, typ := range types {
		sub := &parley.WebhookSubscription{AppID: appID, EventType: typ, Active: true}
		if typ == parley.WebhookPropertyChange+"/status" {
			sub.EventType, sub.PropertyName = parley.WebhookPropertyChange, parley.WebhookPropStatus
		}
		if err := db.CreateWebhookSubscription(ctx, sub); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkAppendWebhooks appends messages one after another without
// fsync (so that the work of the append itself shows, not the disk's):
// with no subscriber at all, with a subscriber to other events only, and
// with one that subscribed to new messages and gets an event queued per
// append. Run side by side with BenchmarkAppend, before and after
// webhooks, it shows that an append nobody subscribed to costs what it
// did; docs/webhooks.md has the figures.
func BenchmarkAppendWebhooks(b *testing.B) {
	for _, bb := range []struct {
		name  string
		types []string
	}{
		{"none", nil},
		{"otherEvents", []string{parley.WebhookCreation, parley.WebhookPropertyChange + "/status"}},
		{"newMessage", []string{parley.WebhookNewMessage}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			db := MustOpen(b, &Options{NoGroupCommit: true, NoSync: true})
			if bb.types != nil {
				webhookApp(b, db, 1, bb.types...)
			}
			benchAppendSerial(b, db)
		})
	}
}

// BenchmarkWebhookHook measures what webhooks add to every append: the
// look for subscribers to a new message and to a status change, inside one
// write transaction, with nobody subscribed and with subscribers to other
// events only. Set beside BenchmarkAppend's time per message, it is the
// share of an append that webhooks cost when nobody listens.
func BenchmarkWebhookHook(b *testing.B) {
	for _, bb := range []struct {
		name  string
		types []string
	}{
		{"none", nil},
		{"otherEvents", []string{parley.WebhookCreation, parley.WebhookPropertyChange + "/assignedTo"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			db := MustOpen(b, &Options{NoSync: true})
			if bb.types != nil {
				webhookApp(b, db, 1, bb.types...)
			}
			m := &parley.Message{ID: 1, ThreadID: 1, Type: parley.TypeMessage}
			old := &parley.Thread{ID: 1, Status: parley.StatusOpen}
			th := &parley.Thread{ID: 1, Status: parley.StatusClosed}
			now := time.Now()
			tx, err := db.bolt.Begin(true)
			if err != nil {
				b.Fatal(err)
			}
			defer tx.Rollback()
			for b.Loop() {
				if err := queueMessageWebhook(tx, m, now); err != nil {
					b.Fatal(err)
				}
				if err := queueThreadWebhooks(tx, th, old, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchAppendSerial(b *testing.B, db *DB) {
	ctx := b.Context()
	th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}
	if err := db.CreateThread(ctx, th); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m := &parley.Message{
			ThreadID: th.ID, Type: parley.TypeMessage, Direction: parley.Incoming,
			Text:     "Hello! Do you ship to Switzerland, and how long does it usually take?",
			SenderID: parley.ContactActorID(1), ClientID: strconv.Itoa(i),
		}
		if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWebhookQueue: each kind of change queues the events its active
// subscriptions ask for, in the transaction of the change, and nothing
// else; paused and deleted subscriptions queue nothing.
func TestWebhookQueue(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	webhookApp(t, db, 7, parley.WebhookCreation, parley.WebhookNewMessage, parley.WebhookDeletion, parley.WebhookPropertyChange+"/status")
	webhookApp(t, db, 9, parley.WebhookNewMessage)

	for _, name := range []string{"Main", "Other"} { // one inbox must remain
		if err := db.CreateInbox(ctx, &parley.Inbox{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	in := &parley.Inbox{ID: 2}
	newThread := parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}
	m := &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: parley.ContactActorID(1)}
	res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: &newThread})
	if err != nil {
		t.Fatal(err)
	}
	tid := res.Thread.ID
	if _, err := db.UpdateThread(ctx, tid, func(th *parley.Thread) error {
		th.Status, th.AssigneeID = parley.StatusClosed, 3 // assignedTo: nobody subscribed
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A system event is no message to HubSpot.
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: tid, Type: parley.TypeSystem, SenderID: "S-1"}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateThread(ctx, tid, func(th *parley.Thread) error { th.Archived = true; return nil }); err != nil {
		t.Fatal(err)
	}

	type got struct {
		typ, prop, value string
		msg              uint64
	}
	read := func(appID uint64) []got {
		t.Helper()
		evs, _, err := db.DueWebhookEvents(ctx, appID, time.Now().Add(time.Hour), 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []got
		for _, ev := range evs {
			if ev.ThreadID != tid || ev.AppID != appID || ev.SubscriptionID == 0 || ev.OccurredAt.IsZero() {
				t.Errorf("event %+v: want thread %d of app %d with a subscription and a time", ev, tid, appID)
			}
			out = append(out, got{ev.Type, ev.PropertyName, ev.PropertyValue, ev.MessageID})
		}
		return out
	}
	want7 := []got{
		{parley.WebhookCreation, "", "", 0},
		{parley.WebhookNewMessage, "", "", m.ID},
		{parley.WebhookPropertyChange, "status", "CLOSED", 0},
		{parley.WebhookDeletion, "", "", 0},
	}
	if g := read(7); !equalGot(g, want7) {
		t.Errorf("app 7 queued %v, want %v", g, want7)
	}
	if g, want := read(9), []got{{parley.WebhookNewMessage, "", "", m.ID}}; !equalGot(g, want) {
		t.Errorf("app 9 queued %v, want %v", g, want)
	}
	if n, err := db.WebhookQueueLen(ctx); err != nil || n != len(want7)+1 {
		t.Errorf("WebhookQueueLen=%d, %v; want %d", n, err, len(want7)+1)
	}

	// Paused: nothing more; deleting the thread for good with its inbox
	// queues privacyDeletion once subscribed to.
	subs, err := db.WebhookSubscriptions(ctx, 9)
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions of 9: %v, %v", subs, err)
	}
	if _, err := db.UpdateWebhookSubscription(ctx, 9, subs[0].ID, func(s *parley.WebhookSubscription) error { s.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: tid, Type: parley.TypeComment, Text: "note", SenderID: "A-1"}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := read(9); len(g) != 1 {
		t.Errorf("a paused subscription queued more: %v", g)
	}
	if err := db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 9, EventType: parley.WebhookPrivacyDeletion, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteInbox(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if g, want := read(9), []got{{parley.WebhookNewMessage, "", "", m.ID}, {parley.WebhookPrivacyDeletion, "", "", 0}}; !equalGot(g, want) {
		t.Errorf("app 9 after the inbox's deletion: %v, want %v", g, want)
	}
}

func equalGot[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWebhookSubscriptionRules: one subscription per event type and
// property, none without settings, and deleting the settings takes the
// subscriptions, the queue and the log along.
func TestWebhookSubscriptionRules(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	err := db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 5, EventType: parley.WebhookCreation})
	if code := parley.ErrorCode(err); code != parley.ENOTFOUND {
		t.Errorf("subscription without settings: %v, want ENOTFOUND", err)
	}
	webhookApp(t, db, 5, parley.WebhookCreation)
	err = db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 5, EventType: parley.WebhookCreation})
	if code := parley.ErrorCode(err); code != parley.ECONFLICT {
		t.Errorf("second creation subscription: %v, want ECONFLICT", err)
	}
	th := parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}
	if err := db.CreateThread(ctx, &th); err != nil {
		t.Fatal(err)
	}
	if err := db.LogWebhookAttempt(ctx, 5, parley.WebhookAttempt{Outcome: parley.WebhookDelivered}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWebhookSettings(ctx, 5); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := db.DueWebhookEvents(ctx, 5, time.Now().Add(time.Hour), 100, nil)
	subs, _ := db.WebhookSubscriptions(ctx, 5)
	log, _ := db.WebhookLog(ctx, 5)
	if len(evs)+len(subs)+len(log) != 0 {
		t.Errorf("after deleting app 5: %d events, %d subscriptions, %d log entries left", len(evs), len(subs), len(log))
	}
	// Its subscriptions are gone from the active index too.
	if err := db.CreateThread(ctx, &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 2}); err != nil {
		t.Fatal(err)
	}
	if evs, _, _ := db.DueWebhookEvents(ctx, 5, time.Now().Add(time.Hour), 100, nil); len(evs) != 0 {
		t.Errorf("a deleted app's subscription still queues: %v", evs)
	}
}

// TestWebhookDoneAndLog: a retry counts the attempt and waits; delivered
// events leave the queue; the log keeps the newest WebhookLogSize.
func TestWebhookDoneAndLog(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	webhookApp(t, db, 3, parley.WebhookCreation)
	for i := range 3 {
		if err := db.CreateThread(ctx, &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	evs, _, err := db.DueWebhookEvents(ctx, 3, now, 2, nil)
	if err != nil || len(evs) != 2 {
		t.Fatalf("due: %d events, %v; want 2 of 3 (limit)", len(evs), err)
	}
	retryAt := now.Add(time.Minute)
	if err := db.WebhookDone(ctx, 3, nil, []uint64{evs[0].ID}, parley.WebhookAttempt{Outcome: parley.WebhookRetrying}, retryAt); err != nil {
		t.Fatal(err)
	}
	if err := db.WebhookDone(ctx, 3, []uint64{evs[1].ID}, nil, parley.WebhookAttempt{Outcome: parley.WebhookDelivered}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	due, next, err := db.DueWebhookEvents(ctx, 3, now, 100, nil)
	if err != nil || len(due) != 1 || !next.Equal(retryAt) {
		t.Fatalf("due after: %v next %v (%v); want the third event and next at %v", due, next, err, retryAt)
	}
	due, _, _ = db.DueWebhookEvents(ctx, 3, retryAt, 100, func(id uint64) bool { return id == due[0].ID })
	if len(due) != 1 || due[0].ID != evs[0].ID || due[0].Attempts != 1 {
		t.Fatalf("at the retry: %+v; want event %d with 1 attempt", due, evs[0].ID)
	}
	for i := range parley.WebhookLogSize + 5 {
		if err := db.LogWebhookAttempt(ctx, 3, parley.WebhookAttempt{Attempt: i, Outcome: parley.WebhookFailed}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := db.WebhookLog(ctx, 3)
	if err != nil || len(log) != parley.WebhookLogSize || log[0].Attempt != parley.WebhookLogSize+4 {
		t.Fatalf("log: %d entries, newest %+v (%v); want %d, newest attempt %d", len(log), log[0], err, parley.WebhookLogSize, parley.WebhookLogSize+4)
	}
}
