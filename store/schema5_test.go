package store

import (
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley"
)

// TestMigrateTypedEmails opens a file of schema version 4 in which a
// visitor's typed email became its contact's email, and another visitor's
// sits in the old capturedEmail property: after the migration both are
// unverified and the typed address finds no contact, while an email
// sender's and an identified contact's emails are untouched.
func TestMigrateTypedEmails(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(bdb, migrations()[:4]); err != nil {
		t.Fatal(err)
	}
	typist := &parley.Contact{Email: "victim@corp.example"}
	captured := &parley.Contact{FirstName: "Eve", Properties: map[string]string{parley.PropertyCapturedEmail: "boss@corp.example", "plan": "pro"}}
	sender := &parley.Contact{Email: "sender@mail.example"}
	identified := &parley.Contact{Email: "known@site.example"}
	err = bdb.Update(func(tx *bolt.Tx) error {
		tb := contactTable()
		for _, c := range []*parley.Contact{typist, captured, sender, identified} {
			if err := tb.insert(tx, c, parley.Thread{}.CreatedAt); err != nil {
				return err
			}
		}
		for i, c := range []*parley.Contact{typist, captured} {
			v := &parley.Visitor{Hash: string(rune('a' + i)), ContactID: c.ID}
			if err := putJSON(bucket(tx, bucketVisitors), []byte(v.Hash), v); err != nil {
				return err
			}
			if err := indexVisitor(tx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db := MustOpenDir(t, dir, &Options{NoSync: true})
	ctx := context.Background()
	got := func(id uint64) *parley.Contact {
		t.Helper()
		c, err := db.Contact(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := got(typist.ID); c.Email != "" || c.UnverifiedEmail != "victim@corp.example" {
		t.Errorf("typist: email %q unverified %q, want \"\" and victim@corp.example", c.Email, c.UnverifiedEmail)
	}
	if _, err := db.ContactByEmail(ctx, "victim@corp.example"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("ContactByEmail(typed address): %v, want ENOTFOUND", err)
	}
	c := got(captured.ID)
	if c.UnverifiedEmail != "boss@corp.example" || len(c.Properties) != 1 || c.Properties["plan"] != "pro" {
		t.Errorf("captured: unverified %q properties %v", c.UnverifiedEmail, c.Properties)
	}
	for _, want := range []*parley.Contact{sender, identified} {
		c, err := db.ContactByEmail(ctx, want.Email)
		if err != nil || c.ID != want.ID || c.UnverifiedEmail != "" {
			t.Errorf("ContactByEmail(%s): %+v, %v; want contact %d unchanged", want.Email, c, err, want.ID)
		}
	}
	// The real owner can now have the address as a contact of their own.
	owner := &parley.Contact{Email: "victim@corp.example"}
	if err := db.CreateContact(ctx, owner); err != nil || owner.ID == typist.ID {
		t.Fatalf("create the owner's contact: %v (id %d, typist %d)", err, owner.ID, typist.ID)
	}
}
