package store

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestSharedRecords: a shared read of an unchanged record costs no decode
// (the same record comes back), every change is seen by the next read
// however it was written, and an erased contact is neither found nor kept.
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

	// A write the cache was never told of: only the stored bytes count.
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
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
