package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// checkThreadContacts fails the test unless thread_contacts holds exactly
// (contact, thread) for every stored thread that has a contact.
func checkThreadContacts(t *testing.T, db *DB) {
	t.Helper()
	var want, got [][2]uint64
	err := db.view(func(tx *bolt.Tx) error {
		err := bucket(tx, bucketThreads).ForEach(func(k, v []byte) error {
			r, err := threadRow(btoi(k), v)
			if err == nil && r.contact() != 0 {
				want = append(want, [2]uint64{r.contact(), btoi(k)})
			}
			return err
		})
		if err != nil {
			return err
		}
		return bucket(tx, bucketThreadContacts).ForEach(func(k, _ []byte) error {
			if len(k) != 16 {
				return fmt.Errorf("bad key %x", k)
			}
			got = append(got, [2]uint64{btoi(k), btoi(k[8:])})
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b [2]uint64) int {
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		return int(a[1]) - int(b[1])
	})
	if len(want) == 0 {
		want = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thread_contacts=%v, want %v", got, want)
	}
}

// threadsByScan is what Threads with a ContactID must answer: every thread
// read with the same filter but without the contact, then kept by contact,
// in the same order.
func threadsByScan(t *testing.T, db *DB, f parley.ThreadFilter) []uint64 {
	t.Helper()
	contact := f.ContactID
	f.ContactID, f.AfterID, f.Limit = 0, 0, parley.MaxLimit
	var ids []uint64
	for {
		page, more, err := db.Threads(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range page {
			if th.ContactID == contact {
				ids = append(ids, th.ID)
			}
		}
		if !more {
			return ids
		}
		f.AfterID = page[len(page)-1].ID
	}
}

func threadIDs(ts []*parley.Thread) []uint64 {
	var ids []uint64
	for _, th := range ts {
		ids = append(ids, th.ID)
	}
	return ids
}

// TestThreadContactIndex: the index of threads by contact follows every
// thread write (creation with and without a first message, a contact
// changed by UpdateThread or DisassociateContact, deletion of the inbox),
// and Threads with a ContactID answers from it exactly what a scan of all
// threads answers, in both orders and across pages.
func TestThreadContactIndex(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	r := rand.New(rand.NewPCG(1, 2))

	keep, doomed := &parley.Inbox{Name: "Keep"}, &parley.Inbox{Name: "Doomed"}
	for _, in := range []*parley.Inbox{keep, doomed} {
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	contacts := make([]*parley.Contact, 4)
	for i := range contacts {
		contacts[i] = &parley.Contact{FirstName: fmt.Sprintf("C%d", i)}
		if err := db.CreateContact(ctx, contacts[i]); err != nil {
			t.Fatal(err)
		}
	}
	// 60 threads: chats with messages (some in the same minute), emails,
	// threads without a message, some closed or in the trash, in two inboxes.
	for i := range 60 {
		c := contacts[r.IntN(len(contacts))]
		inbox := keep.ID
		if i%3 == 0 {
			inbox = doomed.ID
		}
		switch i % 4 {
		case 0, 1:
			for j := range 1 + r.IntN(3) {
				_, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: c.ActorID(),
					Direction: parley.Incoming, CreatedAt: clk.Now().Add(time.Duration(r.IntN(30)) * time.Minute)},
					parley.AppendOptions{NewThread: &parley.Thread{InboxID: inbox, ChannelID: parley.ChannelEmail, ContactID: c.ID, Subject: fmt.Sprint(i, j)}})
				if err != nil {
					t.Fatal(err)
				}
			}
		case 2:
			_, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "chat", SenderID: c.ActorID(),
				Direction: parley.Incoming, CreatedAt: clk.Now().Add(time.Duration(r.IntN(30)) * time.Minute)},
				parley.AppendOptions{NewThread: &parley.Thread{InboxID: inbox, ChannelID: parley.ChannelChat, ChannelAccountID: uint64(100 + i), ContactID: c.ID}})
			if err != nil {
				t.Fatal(err)
			}
		default:
			th := &parley.Thread{InboxID: inbox, ChannelID: parley.ChannelChat, ChannelAccountID: uint64(100 + i), ContactID: c.ID,
				Archived: r.IntN(3) == 0}
			if r.IntN(2) == 0 {
				th.Status = parley.StatusClosed
			}
			if err := db.CreateThread(ctx, th); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.CreateThread(ctx, &parley.Thread{InboxID: keep.ID, ChannelID: parley.ChannelEmail}); err != nil { // no contact
		t.Fatal(err)
	}
	checkThreadContacts(t, db)

	compare := func(t *testing.T) {
		t.Helper()
		yes := true
		for _, c := range contacts {
			for _, f := range []parley.ThreadFilter{
				{ContactID: c.ID},
				{ContactID: c.ID, Sort: parley.SortByLatest},
				{ContactID: c.ID, Sort: parley.SortByLatest, Archived: &yes},
				{ContactID: c.ID, Sort: parley.SortByLatest, InboxIDs: []uint64{keep.ID}, Status: parley.StatusOpen},
				{ContactID: c.ID, Sort: parley.SortByLatest, LatestAfter: clk.Now().Add(10 * time.Minute)},
				{ContactID: c.ID, InboxIDs: []uint64{doomed.ID}, ChannelID: parley.ChannelChat},
			} {
				want := threadsByScan(t, db, f)
				// Pages of 2, then one page.
				var got []uint64
				page := f
				page.Limit = 2
				for {
					ts, more, err := db.Threads(ctx, page)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, threadIDs(ts)...)
					if !more {
						break
					}
					if len(ts) != 2 {
						t.Fatalf("%+v: a page of %d with more to come", page, len(ts))
					}
					page.AfterID = ts[1].ID
				}
				if !slices.Equal(got, want) {
					t.Errorf("%+v in pages: %v, want %v", f, got, want)
				}
				ts, _, err := db.Threads(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if got := threadIDs(ts); !slices.Equal(got, want) {
					t.Errorf("%+v: %v, want %v", f, got, want)
				}
			}
		}
	}
	t.Run("created", compare)

	// A contact changed by UpdateThread, and a chat disassociated.
	var moved, detached *parley.Thread
	all, _, err := db.Threads(ctx, parley.ThreadFilter{Limit: parley.MaxLimit, ContactID: contacts[0].ID})
	if err != nil || len(all) < 2 {
		t.Fatalf("contact 0 has threads %v, %v; want two or more", threadIDs(all), err)
	}
	for _, th := range all {
		switch {
		case moved == nil && th.ChannelID == parley.ChannelEmail:
			moved = th
		case detached == nil && th.ChannelID == parley.ChannelChat:
			detached = th
		}
	}
	if moved == nil || detached == nil {
		t.Fatalf("contact 0 lacks an email or a chat: %v", threadIDs(all))
	}
	if _, err := db.UpdateThread(ctx, moved.ID, func(th *parley.Thread) error {
		th.ContactID = contacts[1].ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	d, err := db.DisassociateContact(ctx, detached.ID, contacts[0].ID, sysEvent(parley.EventContactRemoved, "C0", detached.ID))
	if err != nil {
		t.Fatal(err)
	}
	checkThreadContacts(t, db)
	ts, _, err := db.Threads(ctx, parley.ThreadFilter{ContactID: d.Contact.ID})
	if got := threadIDs(ts); err != nil || !slices.Equal(got, []uint64{detached.ID}) {
		t.Errorf("threads of the new contact: %v, %v; want [%d]", got, err, detached.ID)
	}
	for _, id := range threadsByScan(t, db, parley.ThreadFilter{ContactID: contacts[0].ID}) {
		if id == moved.ID || id == detached.ID {
			t.Errorf("thread %d is still contact 0's", id)
		}
	}
	t.Run("moved", compare)

	// An inbox deleted for good takes its threads out of the index.
	if err := db.DeleteInbox(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	checkThreadContacts(t, db)
	t.Run("deleted", compare)

	// A paging cursor that names no thread is refused, as without a contact.
	_, _, err = db.Threads(ctx, parley.ThreadFilter{ContactID: contacts[1].ID, Sort: parley.SortByLatest, AfterID: 1 << 40})
	wantCode(t, err, parley.EINVALID)
	ts, _, err = db.Threads(ctx, parley.ThreadFilter{ContactID: contacts[1].ID, AfterID: 1<<64 - 1})
	if err != nil || len(ts) != 0 {
		t.Errorf("after the largest id: %v, %v; want none", threadIDs(ts), err)
	}
}

// TestThreadContactMigration: threads stored under schema version 3, before
// the index existed, are indexed by the migration to version 4.
func TestThreadContactMigration(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := migrate(bdb, migrations()[:3]); err != nil || v != 3 {
		t.Fatalf("migrate to 3: %d, %v", v, err)
	}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	old := []parley.Thread{
		{ID: 1, InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 7, Status: parley.StatusOpen, LatestMessageAt: t0},
		{ID: 2, InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 8, Status: parley.StatusOpen, LatestMessageAt: t0.Add(time.Minute)},
		{ID: 3, InboxID: 2, ChannelID: parley.ChannelEmail, ContactID: 7, Status: parley.StatusClosed, LatestMessageAt: t0.Add(2 * time.Minute)},
		{ID: 4, InboxID: 1, ChannelID: parley.ChannelEmail, Status: parley.StatusOpen}, // no contact
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for i := range old {
			th := &old[i]
			r := newRow(th) // rows of version 3 are those of today
			data, err := json.Marshal(th)
			if err != nil {
				return err
			}
			if err := bucket(tx, bucketThreads).Put(itob(th.ID), append(slices.Clone(r), data...)); err != nil {
				return err
			}
			if err := bucket(tx, bucketThreadLatest).Put(key2(timeKey(th.LatestMessageAt), th.ID), slices.Clone(r)); err != nil {
				return err
			}
		}
		return bucket(tx, bucketThreads).SetSequence(uint64(len(old)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db := MustOpenDir(t, dir, nil)
	if v := db.SchemaVersion(); v < 4 {
		t.Fatalf("schema version %d, want at least 4", v)
	}
	checkThreadContacts(t, db)
	for _, tt := range []struct {
		name string
		f    parley.ThreadFilter
		want []uint64
	}{
		{"contact 7 by id", parley.ThreadFilter{ContactID: 7}, []uint64{1, 3}},
		{"contact 7 by latest", parley.ThreadFilter{ContactID: 7, Sort: parley.SortByLatest}, []uint64{3, 1}},
		{"contact 7 in inbox 1", parley.ThreadFilter{ContactID: 7, InboxIDs: []uint64{1}}, []uint64{1}},
		{"contact 8", parley.ThreadFilter{ContactID: 8}, []uint64{2}},
		{"unknown contact", parley.ThreadFilter{ContactID: 9}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, _, err := db.Threads(t.Context(), tt.f)
			if got := threadIDs(ts); err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("threads=%v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
