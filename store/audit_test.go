package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func auditNote(action string) *parley.AuditNote {
	return &parley.AuditNote{Entry: parley.AuditEntry{
		Actor:   parley.AuditActor{Kind: parley.AuditActorUser, ID: 1, Name: "ada@example.com"},
		Address: "192.0.2.7",
		Action:  action,
	}}
}

// An entry exists if and only if its change committed: a failed write, in a
// group with others that commit, leaves none; a write that commits leaves
// exactly one, with the record's id and the fields it changed, and a later
// write under the same context adds no second.
func TestAudit_EntryIffCommit(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

	release := holdWriter(t, db)
	okNote, badNote, failNote := auditNote(parley.AuditUserInvite), auditNote(parley.AuditUserInvite), auditNote(parley.AuditUserUpdate)
	a := &parley.User{Email: "a@example.com", PasswordHash: "$argon2id$secret-hash"}
	clash := &parley.User{Email: "A@example.com"}
	results := queue(t, db,
		func() error { return db.CreateUser(parley.WithAudit(ctx, okNote), a) },
		func() error { return db.CreateUser(parley.WithAudit(ctx, badNote), clash) }, // ECONFLICT
		func() error {
			_, err := db.UpdateUser(parley.WithAudit(ctx, failNote), 1, func(u *parley.User) error {
				u.Name = "Changed"
				return errTest
			})
			return err
		},
	)
	release()
	if err := <-results[0]; err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-results[1], parley.ECONFLICT)
	if err := <-results[2]; err != errTest {
		t.Fatalf("update error=%v, want errTest", err)
	}
	if badNote.Pending() != true || failNote.Pending() != true {
		t.Errorf("the notes of failed writes are marked written")
	}
	if okNote.Pending() {
		t.Errorf("the note of the committed write is still pending")
	}

	// A second write under the same context adds nothing.
	uctx := parley.WithAudit(ctx, auditNote(parley.AuditUserUpdate))
	clk.Add(time.Minute)
	if _, err := db.UpdateUser(uctx, a.ID, func(u *parley.User) error { u.Name = "Ada"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUser(uctx, a.ID, func(u *parley.User) error { u.Name = "Ada L."; return nil }); err != nil {
		t.Fatal(err)
	}

	got, err := db.AuditLog(ctx, parley.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("entries=%d, want 2: %s", len(got), dump(got))
	}
	upd, inv := got[0], got[1]
	if inv.Action != parley.AuditUserInvite || inv.ObjectType != "user" || inv.ObjectID != fmt.Sprint(a.ID) || inv.Address != "192.0.2.7" || inv.Actor.Name != "ada@example.com" {
		t.Errorf("create entry=%s", dump(inv))
	}
	if !inv.Time.Equal(clk.Add(-time.Minute)) {
		t.Errorf("create entry time=%v, want the store's clock", inv.Time)
	}
	if upd.Action != parley.AuditUserUpdate || len(upd.Changes) != 1 || upd.Changes[0].Field != "name" ||
		upd.Changes[0].Old != nil || string(upd.Changes[0].New) != `"Ada"` {
		t.Errorf("update entry=%s, want name \"\" → \"Ada\"", dump(upd))
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), "secret-hash") {
		t.Errorf("the audit log holds a password hash: %s", b)
	}
	var sawSecret bool
	for _, c := range inv.Changes {
		if c.Field == "passwordHash" {
			sawSecret = c.Secret && c.Old == nil && c.New == nil
		}
	}
	if !sawSecret {
		t.Errorf("create entry does not name passwordHash as a secret: %s", dump(inv))
	}
}

// AuditLog lists newest first, pages with Before, and filters.
func TestAudit_Paging(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	for i := range 25 {
		clk.Add(time.Second)
		e := &parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorUser, ID: uint64(1 + i%2)}, Action: parley.AuditWidgetUpdate, ObjectType: "widget", ObjectID: fmt.Sprint(i % 3)}
		if i%5 == 0 {
			e.Action, e.ObjectType = parley.AuditTokenCreate, "token"
		}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID != uint64(i+1) || !e.Time.Equal(clk.Now()) {
			t.Fatalf("entry %d: id=%d time=%v", i, e.ID, e.Time)
		}
	}
	var ids []uint64
	f := parley.AuditFilter{Limit: 10}
	for page := 0; ; page++ {
		got, err := db.AuditLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if len(got) < f.Limit {
			break
		}
		f.Before = got[len(got)-1].ID
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != 25 {
		t.Fatalf("paged ids=%v, want 25", ids)
	}
	for i, id := range ids {
		if id != uint64(25-i) {
			t.Fatalf("ids=%v, want 25…1", ids)
		}
	}

	for _, tc := range []struct {
		name string
		f    parley.AuditFilter
		want int
	}{
		{"actor", parley.AuditFilter{Actor: "user:2"}, 12},
		{"action prefix", parley.AuditFilter{Action: "token."}, 5},
		{"action", parley.AuditFilter{Action: parley.AuditWidgetUpdate}, 20},
		{"not a prefix without its dot", parley.AuditFilter{Action: "widget"}, 0},
		{"object", parley.AuditFilter{ObjectType: "widget", ObjectID: "0"}, 7},
		{"since and until", parley.AuditFilter{Since: newClock().Now().Add(5 * time.Second), Until: newClock().Now().Add(9 * time.Second)}, 5},
		{"before", parley.AuditFilter{Before: 3}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.AuditLog(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("entries=%d, want %d: %s", len(got), tc.want, dump(got))
			}
			for _, e := range got {
				if !tc.f.Match(e) {
					t.Errorf("entry %s does not match", dump(e))
				}
			}
		})
	}
}

// A write without a note, or a note without an action, adds no entry.
func TestAudit_NoNote(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	if err := db.CreateUser(ctx, &parley.User{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(parley.WithAudit(ctx, &parley.AuditNote{}), &parley.User{Email: "b@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.AuditLog(context.Background(), parley.AuditFilter{}); err != nil || len(got) != 0 {
		t.Errorf("entries=%s, %v, want none", dump(got), err)
	}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A note about a part of a record (an inbox's mailbox) gets that part's
// changes, even when the update changes it in place, in the slice the
// record's copy shares with the stored one.
func TestAudit_PartOfRecord(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "help@example.com"}}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	n := auditNote(parley.AuditMailboxUpdate)
	mb := fmt.Sprint(in.Mailboxes[0].ID) // the store gives mailboxes their ids
	n.Entry.ObjectType, n.Entry.ObjectID = "mailbox", mb
	_, err := db.UpdateInbox(parley.WithAudit(ctx, n), in.ID, func(in *parley.Inbox) error {
		in.Mailboxes[0].Connection = &parley.MailConnection{IMAP: parley.MailServer{Host: "imap.example.com", Password: "sealed-pw"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.AuditLog(ctx, parley.AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("entries=%s, %v, want 1", dump(got), err)
	}
	c := got[0].Changes
	if got[0].ObjectType != "mailbox" || got[0].ObjectID != mb || len(c) != 1 || c[0].Field != "connection" ||
		c[0].Old != nil || string(c[0].New) != `{"imap":{"host":"imap.example.com"}}` {
		t.Errorf("entry=%s, want the mailbox's connection without its password", dump(got[0]))
	}
}
