package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunInboxes: create, read, update inboxes; UpdatedAt follows the clock.
func RunInboxes(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)

	sales := &parley.Inbox{Name: "Sales", MemberIDs: []uint64{1, 2}}
	support := &parley.Inbox{Name: "Support"}
	for _, in := range []*parley.Inbox{sales, support} {
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if sales.ID != 1 || support.ID != 2 {
		t.Errorf("ids=%d, %d, want 1, 2", sales.ID, support.ID)
	}
	if !sales.CreatedAt.Equal(clk.Now()) || !sales.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("times=%v, %v, want %v", sales.CreatedAt, sales.UpdatedAt, clk.Now())
	}

	got, err := db.Inbox(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sales) {
		t.Errorf("Inbox(1)=%+v, want %+v", got, sales)
	}
	_, err = db.Inbox(ctx, 3)
	wantCode(t, err, parley.ENOTFOUND)

	later := clk.Add(time.Minute)
	for _, tt := range []struct {
		name    string
		id      uint64
		fn      func(*parley.Inbox) error
		code    string
		members []uint64
	}{
		{"add member", 1, func(in *parley.Inbox) error { in.MemberIDs = append(in.MemberIDs, 3); return nil }, "", []uint64{1, 2, 3}},
		{"fn error", 1, func(in *parley.Inbox) error { in.MemberIDs[0] = 9; return errTest }, parley.EINTERNAL, []uint64{1, 2, 3}},
		{"id change undone", 1, func(in *parley.Inbox) error { in.ID = 2; return nil }, "", []uint64{1, 2, 3}},
		{"missing", 7, func(in *parley.Inbox) error { return nil }, parley.ENOTFOUND, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := db.UpdateInbox(ctx, tt.id, tt.fn)
			wantCode(t, err, tt.code)
			if tt.code == parley.EINTERNAL && !errors.Is(err, errTest) {
				t.Errorf("error=%v, want fn's error as it is", err)
			}
			if err == nil && (!in.UpdatedAt.Equal(later) || in.ID != tt.id) {
				t.Errorf("UpdatedAt=%v, ID %d, want %v, %d", in.UpdatedAt, in.ID, later, tt.id)
			}
			if tt.members != nil {
				stored, _ := db.Inbox(ctx, tt.id)
				if !reflect.DeepEqual(stored.MemberIDs, tt.members) {
					t.Errorf("members=%v, want %v", stored.MemberIDs, tt.members)
				}
			}
		})
	}

	all, err := db.Inboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "Sales" || all[1].Name != "Support" {
		t.Errorf("Inboxes=%+v, want Sales, Support", all)
	}
}

// RunInboxAddresses: an inbox's email addresses are unique across inboxes
// in any case, keep their mailbox ids while they stay, and are freed when
// removed or when their inbox is deleted.
func RunInboxAddresses(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	a := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "Support@Shop.example"}}}
	if err := db.CreateInbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	first := a.Mailboxes[0].ID
	if first == 0 {
		t.Fatalf("mailbox without an id: %+v", a.Mailboxes)
	}
	b := &parley.Inbox{Name: "Sales"}
	if err := db.CreateInbox(ctx, b); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateInbox(ctx, &parley.Inbox{Name: "Copy", Mailboxes: []parley.Mailbox{{Address: "SUPPORT@shop.example"}}}), parley.ECONFLICT)
	wantCode(t, db.CreateInbox(ctx, &parley.Inbox{Name: "Blank", Mailboxes: []parley.Mailbox{{Address: ""}}}), parley.EINVALID)

	for _, tt := range []struct {
		name     string
		inbox    uint64
		set      []parley.Mailbox
		wantCode string
	}{
		{"address of another inbox", b.ID, []parley.Mailbox{{Address: "support@shop.example"}}, parley.ECONFLICT},
		{"twice in one inbox", b.ID, []parley.Mailbox{{Address: "s@shop.example"}, {Address: "S@shop.example"}}, parley.EINVALID},
		{"add one, keep one", a.ID, []parley.Mailbox{{Address: "support@shop.example"}, {Address: "help@shop.example"}}, ""},
		{"the second inbox's own", b.ID, []parley.Mailbox{{Address: "sales@shop.example"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UpdateInbox(ctx, tt.inbox, func(in *parley.Inbox) error { in.Mailboxes = tt.set; return nil })
			wantCode(t, err, tt.wantCode)
		})
	}
	a, _ = db.Inbox(ctx, a.ID)
	if len(a.Mailboxes) != 2 || a.Mailboxes[0].ID != first || a.Mailboxes[1].ID == 0 || a.Mailboxes[1].ID == first {
		t.Fatalf("mailboxes %+v: want the first id %d kept and a new one", a.Mailboxes, first)
	}
	if b, _ := db.Inbox(ctx, b.ID); len(b.Mailboxes) != 1 || b.Mailboxes[0].Address != "sales@shop.example" {
		t.Fatalf("second inbox's mailboxes %+v", b.Mailboxes)
	}

	// Removing an address frees it; deleting the inbox frees the rest.
	if _, err := db.UpdateInbox(ctx, a.ID, func(in *parley.Inbox) error { in.Mailboxes = in.Mailboxes[1:]; return nil }); err != nil {
		t.Fatal(err)
	}
	take := func(addr string) error {
		_, err := db.UpdateInbox(ctx, b.ID, func(in *parley.Inbox) error {
			in.Mailboxes = append(in.Mailboxes, parley.Mailbox{Address: addr})
			return nil
		})
		return err
	}
	wantCode(t, take("help@shop.example"), parley.ECONFLICT)
	wantCode(t, take("support@shop.example"), "")
	if err := db.DeleteInbox(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, take("HELP@shop.example"), "")
}

// RunDeleteInbox: the only inbox stays, a missing one is ENOTFOUND, a
// deleted one is gone with its addresses and its id is not given again.
func RunDeleteInbox(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	only := &parley.Inbox{Name: "Only", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, only); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteInbox(ctx, only.ID), parley.ECONFLICT)
	wantCode(t, db.DeleteInbox(ctx, 42), parley.ENOTFOUND)
	doomed := &parley.Inbox{Name: "Doomed", Mailboxes: []parley.Mailbox{{Address: "doomed@example.com"}}}
	if err := db.CreateInbox(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteInbox(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	_, err := db.Inbox(ctx, doomed.ID)
	wantCode(t, err, parley.ENOTFOUND)
	wantCode(t, db.DeleteInbox(ctx, doomed.ID), parley.ENOTFOUND)
	wantCode(t, db.DeleteInbox(ctx, only.ID), parley.ECONFLICT)
	next := &parley.Inbox{Name: "Next", Mailboxes: []parley.Mailbox{{Address: "doomed@example.com"}}}
	if err := db.CreateInbox(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.ID != 3 {
		t.Errorf("inbox after a delete got id %d, want 3", next.ID)
	}
	if all, _ := db.Inboxes(ctx); len(all) != 2 || all[0].ID != only.ID || all[1].ID != next.ID {
		t.Errorf("inboxes=%+v", all)
	}
}
