package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestSharedRecords: a shared read of an unchanged record costs no decode
// (the same record comes back), every change is seen by the next read
// however it was written, and an erased contact is neither found nor kept.
// (TestSharedGen checks when a read needs no transaction.)
func TestSharedRecords(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	c := &parley.Contact{FirstName: "Ada Lovelace"}
	if err := db.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	first, err := db.SharedContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.SharedContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Fatal("an unchanged contact was decoded again")
	}
	if first.FirstName != "Ada Lovelace" {
		t.Fatalf("name %q", first.FirstName)
	}

	if _, err := db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
		c.FirstName = "Ada King"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	changed, err := db.SharedContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if changed.FirstName != "Ada King" {
		t.Fatalf("after the update the shared read says %q", changed.FirstName)
	}
	if first.FirstName != "Ada Lovelace" {
		t.Fatal("the update changed a record an earlier reader holds")
	}

	// A write the cache was never told of, through no table's write path:
	// a commit is all it takes.
	if err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := contactTable().get(tx, c.ID)
		if err != nil {
			return err
		}
		old.FirstName = "Countess of Lovelace"
		return contactTable().put(tx, bucket(tx, bucketContacts), old, nil)
	}); err != nil {
		t.Fatal(err)
	}
	raw, err := db.SharedContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.FirstName != "Countess of Lovelace" {
		t.Fatalf("after a direct write the shared read says %q", raw.FirstName)
	}

	if _, err := db.EraseContact(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SharedContact(ctx, c.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("an erased contact: %v", err)
	}
	db.shared.contacts.mu.Lock()
	_, kept := db.shared.contacts.m[c.ID]
	db.shared.contacts.mu.Unlock()
	if kept {
		t.Fatal("memory still holds the erased contact")
	}
}

// TestSharedBound: the cache holds at most maxShared records however many
// are read.
func TestSharedBound(t *testing.T) {
	var c sharedCache[parley.Contact]
	for id := range uint64(maxShared + 100) {
		c.put(id+1, sharedEntry[parley.Contact]{raw: []byte("{}"), v: &parley.Contact{}})
	}
	if n := len(c.m); n != maxShared {
		t.Fatalf("%d entries, want %d", n, maxShared)
	}
}

// TestThreadMemo: threads read again come from memory as copies of their
// own, so a caller changing one changes neither the stored thread nor what
// the next reader gets; every message moves the thread on; a thread
// pointing at a bot's state is decoded afresh; a deleted thread leaves
// memory.
func TestThreadMemo(t *testing.T) {
	// Other tests' stores share threadMemo: look for this test's words.
	const memoText = "words only TestThreadMemo writes"
	ctx := t.Context()
	db := MustOpen(t, nil)
	th := mustCreateThread(t, db, 1, 2, 3)
	a, err := db.Thread(ctx, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Thread(ctx, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two readers got the same thread to change")
	}
	a.Subject, a.LastSeq = "changed by a reader", 99
	for i := range 3 {
		if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: memoText}, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		c, err := db.Thread(ctx, th.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != "" || c.LastSeq != uint64(i+1) || c.Preview != memoText {
			t.Fatalf("after message %d: subject %q, lastSeq %d, preview %q", i+1, c.Subject, c.LastSeq, c.Preview)
		}
	}
	if !memoHolds(memoText) {
		t.Fatal("the thread was not kept in memory")
	}

	bot := botThread(t, db, 7, time.Now())
	x, _ := db.Thread(ctx, bot.ID)
	y, err := db.Thread(ctx, bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if x.Bot == nil || x.Bot == y.Bot {
		t.Fatal("a bot's state was shared between readers")
	}

	if _, err := db.DeleteThread(ctx, th.ID, func(*parley.Thread) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if memoHolds(memoText) {
		t.Fatal("memory still holds the deleted thread")
	}
}

// memoHolds reports whether threadMemo keeps a thread whose stored bytes
// contain text.
func memoHolds(text string) bool {
	threadMemo.mu.Lock()
	defer threadMemo.mu.Unlock()
	for _, e := range threadMemo.m {
		if bytes.Contains(e.raw, []byte(text)) {
			return true
		}
	}
	return false
}

// TestSharedGen: with nothing committed to a record's bucket since it was
// last found stored, a shared read needs no transaction; a commit of other
// records leaves it so, one that changes the bucket (any record in it)
// makes the next read look again, and one under way makes every read look.
// Small buckets (kept inside their parent) and large ones alike.
func TestSharedGen(t *testing.T) {
	for _, n := range []int{1, 300} {
		t.Run(fmt.Sprint(n, " contacts"), func(t *testing.T) {
			ctx := t.Context()
			db := MustOpen(t, nil)
			var c *parley.Contact
			for i := range n {
				c = &parley.Contact{FirstName: fmt.Sprint("Grace ", i)}
				if err := db.CreateContact(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			other := c.ID - 1
			if n == 1 {
				o := &parley.Contact{FirstName: "Other"}
				if err := db.CreateContact(ctx, o); err != nil {
					t.Fatal(err)
				}
				other = o.ID
			}
			// The search indexer commits contact changes in the
			// background: let it finish, so that only the test commits.
			if err := db.WaitIndexed(ctx, 0); err != nil {
				t.Fatal(err)
			}
			inline := db.view(func(tx *bolt.Tx) error {
				if bucket(tx, bucketContacts).Root() == 0 {
					return errTest
				}
				return nil
			}) != nil
			if inline != (n == 1) {
				t.Fatalf("contacts bucket inline: %v, want %v", inline, n == 1)
			}
			stamp := func() uint64 {
				db.shared.contacts.mu.Lock()
				defer db.shared.contacts.mu.Unlock()
				return db.shared.contacts.m[c.ID].gen
			}
			first, err := db.SharedContact(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			g := db.gen.Load()
			if g&1 != 0 || stamp() != g {
				t.Fatalf("gen %d, entry stamped %d: want the entry stamped with the even gen", g, stamp())
			}

			// Another bucket: the read needs no transaction.
			if err := db.SetMeta(ctx, "unrelated", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if db.gen.Load() != g+2 {
				t.Fatalf("gen %d after one commit, want %d", db.gen.Load(), g+2)
			}
			again, err := db.SharedContact(ctx, c.ID)
			if err != nil || again != first || stamp() != g {
				t.Errorf("after a commit elsewhere: %p (want %p), stamped %d (want %d, not looked at)", again, first, stamp(), g)
			}

			// Another contact: the bucket changed, the next read looks.
			if _, err := db.UpdateContact(ctx, other, func(o *parley.Contact) error { o.LastName = "changed"; return nil }); err != nil {
				t.Fatal(err)
			}
			if err := db.WaitIndexed(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SharedContact(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if stamp() != db.gen.Load() {
				t.Errorf("entry stamped %d after its bucket changed, want it looked at and stamped %d", stamp(), db.gen.Load())
			}

			// A commit under way: the read looks, and stamps nothing it
			// could match later.
			db.gen.Add(1)
			got, err := db.SharedContact(ctx, c.ID)
			db.gen.Add(1)
			if err != nil || got.FirstName != c.FirstName {
				t.Fatalf("read during a commit: %v, %v", got, err)
			}
			if stamp() != noGen {
				t.Errorf("entry stamped %d during a commit, want noGen", stamp())
			}

			// The record itself changed: every read after the commit has it.
			if _, err := db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error { c.FirstName = "Grace Hopper"; return nil }); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := db.SharedContact(ctx, c.ID)
				if err != nil || got.FirstName != "Grace Hopper" {
					t.Fatalf("after the update: %v, %v", got, err)
				}
			}
		})
	}
}
