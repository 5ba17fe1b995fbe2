package store

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func TestInvites(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	week := 7 * 24 * time.Hour
	inv := func(hash, email string, ttl time.Duration) *parley.Invite {
		return &parley.Invite{Hash: hash, Email: email, Role: parley.RoleAgent, RoutingSeat: true,
			InboxIDs: []uint64{1}, InvitedBy: 1, ExpiresAt: clk.Now().Add(ttl)}
	}
	hashes := func() []string {
		list, err := db.Invites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range list {
			out = append(out, i.Hash)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		run  func() error
		code string
		want []string // pending hashes afterwards, oldest first
	}{
		{"create", func() error { return db.CreateInvite(ctx, inv("h1", "bob@example.com", week)) }, "", []string{"h1"}},
		{"create another", func() error { clk.Add(time.Second); return db.CreateInvite(ctx, inv("h2", "cy@example.com", week)) }, "", []string{"h1", "h2"}},
		{"same hash", func() error { return db.CreateInvite(ctx, inv("h1", "dee@example.com", week)) }, parley.ECONFLICT, []string{"h1", "h2"}},
		{"no hash", func() error { return db.CreateInvite(ctx, inv("", "dee@example.com", week)) }, parley.EINVALID, []string{"h1", "h2"}},
		{"no email", func() error { return db.CreateInvite(ctx, inv("h9", "", week)) }, parley.EINVALID, []string{"h1", "h2"}},
		{"read", func() error {
			got, err := db.Invite(ctx, "h1")
			if err == nil && (got.Email != "bob@example.com" || !slices.Equal(got.InboxIDs, []uint64{1}) || got.CreatedAt.IsZero()) {
				return fmt.Errorf("Invite(h1)=%+v", got)
			}
			return err
		}, "", []string{"h1", "h2"}},
		{"read missing", func() error { _, err := db.Invite(ctx, "nope"); return err }, parley.ENOTFOUND, []string{"h1", "h2"}},
		{"read empty", func() error { _, err := db.Invite(ctx, ""); return err }, parley.ENOTFOUND, []string{"h1", "h2"}},
		{"new link for the same email replaces the old", func() error {
			clk.Add(time.Second)
			return db.CreateInvite(ctx, inv("h3", "BOB@example.com", week))
		}, "", []string{"h2", "h3"}},
		{"old link is gone", func() error { _, err := db.Invite(ctx, "h1"); return err }, parley.ENOTFOUND, []string{"h2", "h3"}},
		{"short-lived", func() error {
			clk.Add(time.Second)
			return db.CreateInvite(ctx, inv("h4", "eve@example.com", time.Hour))
		}, "", []string{"h2", "h3", "h4"}},
		{"expired is not found", func() error { clk.Add(time.Hour); _, err := db.Invite(ctx, "h4"); return err }, parley.ENOTFOUND, []string{"h2", "h3"}},
		{"delete", func() error { return db.DeleteInvite(ctx, "h2") }, "", []string{"h3"}},
		{"delete missing", func() error { return db.DeleteInvite(ctx, "h2") }, parley.ENOTFOUND, []string{"h3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.run(), tt.code)
			if got := hashes(); !slices.Equal(got, tt.want) {
				t.Errorf("pending=%v, want %v", got, tt.want)
			}
		})
	}
	// Creating an invite drops expired ones from the file.
	if err := db.CreateInvite(ctx, inv("h5", "fay@example.com", week)); err != nil {
		t.Fatal(err)
	}
	_ = db.view(func(tx *bolt.Tx) error {
		if bucket(tx, bucketInvites).Get([]byte("h4")) != nil {
			t.Error("expired invite h4 is still stored")
		}
		return nil
	})
}

// dumpBuckets returns every key of every bucket, nested ones included, as
// "path/key" → value (hex), and each bucket as "path/" → "bucket".
func dumpBuckets(t *testing.T, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(path string, b *bolt.Bucket) error
	walk = func(path string, b *bolt.Bucket) error {
		out[path+"/"] = "bucket"
		return b.ForEach(func(k, v []byte) error {
			p := path + "/" + hex.EncodeToString(k)
			if v == nil {
				return walk(p, b.Bucket(k))
			}
			out[p] = hex.EncodeToString(v)
			return nil
		})
	}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(string(name), b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeleteInbox(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

	only := &parley.Inbox{Name: "Only", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, only); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteInbox(ctx, only.ID), parley.ECONFLICT)
	wantCode(t, db.DeleteInbox(ctx, 42), parley.ENOTFOUND)

	// Inbox A and what lives beside inbox B: contacts are shared.
	contacts := make([]*parley.Contact, 3)
	for i := range contacts {
		contacts[i] = &parley.Contact{Email: fmt.Sprintf("c%d@example.com", i)}
		if err := db.CreateContact(ctx, contacts[i]); err != nil {
			t.Fatal(err)
		}
	}
	keepWidget := parley.DefaultWidget(only.ID)
	if err := db.CreateWidget(ctx, keepWidget); err != nil {
		t.Fatal(err)
	}
	fill := func(inboxID, widgetID uint64) {
		t.Helper()
		for i, c := range contacts {
			// A chat with messages that have client ids (dedup entries) and a
			// system event, then an email thread, then a thread with none.
			var threadID uint64
			for j := range 3 {
				m := &parley.Message{ThreadID: threadID, Type: parley.TypeMessage, Text: fmt.Sprintf("hello %d", j),
					SenderID: c.ActorID(), Direction: parley.Incoming, ClientID: fmt.Sprintf("c%d", j)}
				res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: &parley.Thread{InboxID: inboxID,
					ChannelID: parley.ChannelChat, ChannelAccountID: widgetID, ContactID: c.ID}})
				if err != nil {
					t.Fatal(err)
				}
				threadID = res.Thread.ID
				clk.Add(time.Second)
			}
			if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: threadID, Type: parley.TypeSystem, Event: parley.EventSpam,
				SenderID: parley.SystemActorID}, parley.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				if _, err := db.UpdateThread(ctx, threadID, func(t *parley.Thread) error {
					t.Status, t.Archived = parley.StatusClosed, true
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "mail", SenderID: c.ActorID(),
				Direction: parley.Incoming}, parley.AppendOptions{NewThread: &parley.Thread{InboxID: inboxID, ChannelID: parley.ChannelEmail,
				ContactID: c.ID, Subject: "Invoice"}}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateThread(ctx, &parley.Thread{InboxID: inboxID, ChannelID: parley.ChannelChat, ChannelAccountID: widgetID, ContactID: c.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Background work of the store (the search indexer) is done before each
	// look at the file.
	settle := func() {
		t.Helper()
		if err := db.WaitIndexed(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	fill(only.ID, keepWidget.ID)
	settle()
	before := dumpBuckets(t, db)
	keptThreads, _, err := db.Threads(ctx, parley.ThreadFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}

	doomed := &parley.Inbox{Name: "Doomed", MemberIDs: []uint64{1}}
	if err := db.CreateInbox(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	var doomedWidgets []uint64
	for range 2 {
		w := parley.DefaultWidget(doomed.ID)
		if err := db.CreateWidget(ctx, w); err != nil {
			t.Fatal(err)
		}
		doomedWidgets = append(doomedWidgets, w.ID)
	}
	fill(doomed.ID, doomedWidgets[0])
	fill(doomed.ID, doomedWidgets[1])
	// Archived threads of the inbox go too.
	doomedThreads, _, err := db.Threads(ctx, parley.ThreadFilter{InboxIDs: []uint64{doomed.ID}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	archived, _, err := db.Threads(ctx, parley.ThreadFilter{InboxIDs: []uint64{doomed.ID}, Limit: 500, Archived: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if len(doomedThreads) != 16 || len(archived) != 2 {
		t.Fatalf("inbox B has %d threads and %d archived, want 16 and 2", len(doomedThreads), len(archived))
	}
	var doomedMessages []uint64
	for _, th := range append(doomedThreads, archived...) {
		msgs, _, err := db.Messages(ctx, th.ID, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			doomedMessages = append(doomedMessages, m.ID)
		}
	}
	if len(doomedMessages) != 2*3*5 {
		t.Fatalf("inbox B has %d messages, want 30", len(doomedMessages))
	}

	settle() // so that inbox B is in the search index too
	if err := db.DeleteInbox(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	settle()

	// Every key and value is as it was before inbox B existed. Only
	// bookkeeping of the store's own (buckets named *meta, such as an
	// indexer's cursor) may have moved on.
	after := dumpBuckets(t, db)
	for _, k := range slices.Sorted(maps.Keys(after)) {
		old, ok := before[k]
		bucketName, _, _ := strings.Cut(k, "/")
		switch {
		case !ok:
			t.Errorf("left behind: %s = %s", k, after[k])
		case old != after[k] && !strings.HasSuffix(bucketName, "meta"):
			t.Errorf("changed: %s = %s, was %s", k, after[k], old)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			t.Errorf("removed too: %s", k)
		}
	}
	// And through the API.
	_, err = db.Inbox(ctx, doomed.ID)
	wantCode(t, err, parley.ENOTFOUND)
	for _, id := range doomedWidgets {
		_, err := db.Widget(ctx, id)
		wantCode(t, err, parley.ENOTFOUND)
	}
	for _, th := range append(doomedThreads, archived...) {
		_, err := db.Thread(ctx, th.ID)
		wantCode(t, err, parley.ENOTFOUND)
		_, _, err = db.Messages(ctx, th.ID, 0, 10)
		wantCode(t, err, parley.ENOTFOUND)
	}
	for _, id := range doomedMessages {
		_, err := db.Message(ctx, id)
		wantCode(t, err, parley.ENOTFOUND)
	}
	for _, c := range contacts {
		th, err := db.ChatThread(ctx, c.ID, doomedWidgets[0])
		if err == nil {
			t.Errorf("ChatThread(%d, widget B)=%d, want none", c.ID, th.ID)
		}
	}
	all, _, err := db.Threads(ctx, parley.ThreadFilter{Limit: 500, Sort: parley.SortByLatest})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(keptThreads) {
		t.Errorf("threads=%d after delete, want %d", len(all), len(keptThreads))
	}
	// A thread of a new inbox, written after the delete, still works: the
	// sequences and indexes are sound.
	next := &parley.Inbox{Name: "Next"}
	if err := db.CreateInbox(ctx, next); err != nil {
		t.Fatal(err)
	}
	res, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "again", SenderID: contacts[0].ActorID(), ClientID: "c0"},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: next.ID, ChannelID: parley.ChannelChat, ChannelAccountID: doomedWidgets[0], ContactID: contacts[0].ID}})
	if err != nil || res.Duplicate || !res.ThreadCreated {
		t.Fatalf("append after delete: %+v, %v", res, err)
	}
	for _, id := range doomedMessages {
		if res.Message.ID == id {
			t.Errorf("message id %d reused", id)
		}
	}
}

// TestDeleteThread: a thread deleted for good leaves the file as it was
// before the thread existed, whatever it held: messages with client ids,
// a visitor's files and an upload not yet sent, a place in the routing
// queue, a ticket's link and its search index entries. A check that
// refuses deletes nothing.
func TestDeleteThread(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	db := f.db
	contact := &parley.Contact{Email: "gone@example.com"}
	if err := db.CreateContact(ctx, contact); err != nil {
		t.Fatal(err)
	}
	settle := func() {
		t.Helper()
		if err := db.WaitIndexed(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	settle()
	before := dumpBuckets(t, db)

	var threadID uint64
	for i := range 3 {
		file := f.upload(t, contact.ActorID(), 0, fmt.Sprintf("picture %d", i))
		m := &parley.Message{ThreadID: threadID, Type: parley.TypeMessage, Text: fmt.Sprintf("unforgettable %d", i),
			SenderID: contact.ActorID(), Direction: parley.Incoming, ClientID: fmt.Sprintf("c%d", i),
			Attachments: []parley.Attachment{{FileID: file.ID}}}
		res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: &parley.Thread{InboxID: f.keep.ID,
			ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: contact.ID}})
		if err != nil {
			t.Fatal(err)
		}
		threadID = res.Thread.ID
		f.clk.Add(time.Second)
	}
	f.upload(t, contact.ActorID(), threadID, "not sent yet")
	if err := db.Enqueue(ctx, threadID, nil); err != nil {
		t.Fatal(err)
	}
	ticket := &parley.Record{Kind: parley.RecordTicket, Name: "Broken", Stage: "new", ContactID: contact.ID}
	if _, err := db.CreateRecord(ctx, ticket, sysEvent(parley.EventRecordCreated, "ticket: Broken", threadID)); err != nil {
		t.Fatal(err)
	}
	settle()
	if hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "unforgettable", Limit: 10}); err != nil || len(hits) != 1 {
		t.Fatalf("search before: %d hits, %v", len(hits), err)
	}
	withTicket := dumpBuckets(t, db)

	refused := parley.Errorf(parley.ECONFLICT, "not in the trash")
	_, err := db.DeleteThread(ctx, threadID, func(*parley.Thread) error { return refused })
	wantCode(t, err, parley.ECONFLICT)
	if after := dumpBuckets(t, db); !maps.Equal(after, withTicket) {
		t.Fatal("a refused deletion changed the file")
	}
	_, err = db.DeleteThread(ctx, 999, func(*parley.Thread) error { return nil })
	wantCode(t, err, parley.ENOTFOUND)

	got, err := db.DeleteThread(ctx, threadID, func(th *parley.Thread) error {
		if th.ID != threadID || th.ContactID != contact.ID {
			t.Errorf("check got thread %d of contact %d", th.ID, th.ContactID)
		}
		return nil
	})
	if err != nil || got.ID != threadID {
		t.Fatalf("DeleteThread=%v, %v", got, err)
	}
	settle()
	// The ticket stays, without the thread: only its record changed.
	after := dumpBuckets(t, db)
	for _, k := range slices.Sorted(maps.Keys(after)) {
		old, ok := before[k]
		bucketName, _, _ := strings.Cut(k, "/")
		switch {
		case bucketName == bucketRecords || bucketName == bucketRecordContacts:
		case !ok:
			t.Errorf("left behind: %s = %s", k, after[k])
		case old != after[k] && !strings.HasSuffix(bucketName, "meta"):
			t.Errorf("changed: %s = %s, was %s", k, after[k], old)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			t.Errorf("removed too: %s", k)
		}
	}
	_, err = db.Thread(ctx, threadID)
	wantCode(t, err, parley.ENOTFOUND)
	if keys, err := db.FileKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("FileKeys=%v, %v; want none", keys, err)
	}
	if q, err := db.Queue(ctx, 10); err != nil || len(q) != 0 {
		t.Errorf("queue=%v, %v; want empty", q, err)
	}
	r, err := db.Record(ctx, ticket.ID)
	if err != nil || len(r.ThreadIDs) != 0 {
		t.Errorf("ticket=%+v, %v; want it without the thread", r, err)
	}
	if hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "unforgettable", Limit: 10}); err != nil || len(hits) != 0 {
		t.Errorf("search after: %d hits, %v", len(hits), err)
	}
}
