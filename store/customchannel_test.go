package store

import (
	"sync"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestChannelFirstMessagesAtOnce: many first messages of one sender,
// published at once on a custom channel, make one contact and one
// thread; a retried message (same sender, same client id) is stored
// once; the agent's reply is queued for the channel's app in its commit,
// PENDING.
func TestChannelFirstMessagesAtOnce(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	webhookApp(t, db, 9)
	in := &parley.Inbox{Name: "SMS", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	ch := &parley.CustomChannel{AppID: 9, Name: "SMS", WebhookURL: "https://example.com/sms",
		Capabilities: parley.ChannelCapabilities{AllowOutgoingMessages: true}}
	if err := db.CreateCustomChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if ch.ID != parley.CustomChannelMin {
		t.Errorf("first channel id %d, want %d", ch.ID, parley.CustomChannelMin)
	}
	if err := db.CreateCustomChannel(ctx, &parley.CustomChannel{AppID: 10, Name: "x"}); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("channel of an app without settings: %v, want ENOTFOUND", err)
	}
	acc := &parley.ChannelAccount{ChannelID: ch.ID, InboxID: in.ID, Name: "Main", Authorized: true}
	if err := db.CreateChannelAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	who := parley.DeliveryIdentifier{Type: parley.DeliveryPhone, Value: "+491511"}
	const n = 20
	threads := make([]uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := db.ChannelContact(ctx, ch.ID, who, &parley.Contact{FirstName: "Mia"})
			if err != nil {
				t.Error(err)
				return
			}
			res, err := db.AppendChannelMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: c.ActorID(),
				Direction: parley.Incoming, ClientID: []string{"a", "b"}[i%2], ChannelID: int(ch.ID), ChannelAccountID: acc.ID},
				parley.ChannelAppend{AccountID: acc.ID, ThreadKey: parley.ChannelThreadKey(parley.ThreadByDeliveryIdentifier, "", who),
					NewThread: &parley.Thread{InboxID: in.ID, ChannelID: int(ch.ID), ChannelAccountID: acc.ID, ContactID: c.ID, Status: parley.StatusOpen}})
			if err != nil {
				t.Error(err)
				return
			}
			threads[i] = res.Thread.ID
		})
	}
	wg.Wait()
	for _, id := range threads {
		if id != threads[0] {
			t.Fatalf("threads %v: want one", threads)
		}
	}
	msgs, _, err := db.Messages(ctx, threads[0], 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Errorf("%d messages, want 2 (client ids a and b once each)", len(msgs))
	}
	contacts, _, err := db.Contacts(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 1 {
		t.Errorf("%d contacts, want 1", len(contacts))
	}

	// The reply: queued for app 9, PENDING, in the append's commit.
	res, err := db.AppendMessage(ctx, &parley.Message{ThreadID: threads[0], Type: parley.TypeMessage, Text: "hello", SenderID: "A-1", Direction: parley.Outgoing}, parley.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Delivery(ctx, threads[0], res.Message.ID)
	if err != nil || d == nil || d.Status != parley.DeliveryPending {
		t.Fatalf("delivery %+v, %v: want PENDING", d, err)
	}
	due, _, err := db.DueWebhookEvents(ctx, 9, res.Message.CreatedAt, 10, func(uint64) bool { return false })
	if err != nil || len(due) != 1 || due[0].Type != parley.WebhookChannelMessage || due[0].MessageID != res.Message.ID || due[0].ChannelID != ch.ID {
		t.Fatalf("queue %+v, %v: want the reply's event", due, err)
	}
	// A note is not sent; the sender's SENT does not undo what the
	// integration reported.
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: threads[0], Type: parley.TypeComment, Text: "note", SenderID: "A-1", Direction: parley.Outgoing}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetChannelDelivery(ctx, threads[0], res.Message.ID, parley.ChannelDelivery{Status: parley.DeliveryRead}); err != nil {
		t.Fatal(err)
	}
	if d, err := db.SetChannelDelivery(ctx, threads[0], res.Message.ID, parley.ChannelDelivery{Status: parley.DeliverySent, IfPending: true}); err != nil || d.Status != parley.DeliveryRead {
		t.Errorf("after READ, the sender's SENT gave %+v, %v; want READ kept", d, err)
	}
	due, _, _ = db.DueWebhookEvents(ctx, 9, res.Message.CreatedAt, 10, func(uint64) bool { return false })
	if len(due) != 1 {
		t.Errorf("%d events queued, want 1 (the note is not sent)", len(due))
	}
	if err := db.DeleteWebhookSettings(ctx, 9); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("delete the settings of an app with a channel: %v, want ECONFLICT", err)
	}
}

// TestDeleteChannelThread: a custom channel's thread deleted for good
// leaves no key naming it; the sender's next message starts a new one.
func TestDeleteChannelThread(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	webhookApp(t, db, 9)
	in := &parley.Inbox{Name: "SMS", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	ch := &parley.CustomChannel{AppID: 9, Name: "SMS"}
	if err := db.CreateCustomChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	acc := &parley.ChannelAccount{ChannelID: ch.ID, InboxID: in.ID, Name: "Main", Authorized: true}
	if err := db.CreateChannelAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	who := parley.DeliveryIdentifier{Type: parley.DeliveryPhone, Value: "+4915199887766"}
	publish := func() *parley.Thread {
		res, err := db.AppendChannelMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: "V-1", Direction: parley.Incoming},
			parley.ChannelAppend{AccountID: acc.ID, ThreadKey: parley.ChannelThreadKey(parley.ThreadByDeliveryIdentifier, "", who),
				NewThread: &parley.Thread{InboxID: in.ID, ChannelID: int(ch.ID), ChannelAccountID: acc.ID, ContactID: 1, Status: parley.StatusOpen,
					Integration: &parley.ThreadIntegration{Contact: who}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Thread
	}
	first := publish()
	if _, err := db.DeleteThread(ctx, first.ID, func(*parley.Thread) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.view(func(tx *bolt.Tx) error {
		return bucket(tx, bucketChannelThreads).ForEach(func(k, v []byte) error {
			t.Errorf("channel_threads keeps %q → %d after the deletion", k, btoi(v))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if again := publish(); again.ID == first.ID {
		t.Errorf("the next message joined the deleted thread")
	}
}
