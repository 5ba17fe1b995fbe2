package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestInboxes(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

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
		{"missing", 7, func(in *parley.Inbox) error { return nil }, parley.ENOTFOUND, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := db.UpdateInbox(ctx, tt.id, tt.fn)
			wantCode(t, err, tt.code)
			if err == nil && !in.UpdatedAt.Equal(later) {
				t.Errorf("UpdatedAt=%v, want %v", in.UpdatedAt, later)
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

func TestWidgets(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)

	w := parley.DefaultWidget(1)
	w.Targeting.Rules = []parley.TargetRule{{Kind: "url", Op: "contains", Value: "/pricing"}}
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if w.ID != 1 {
		t.Errorf("ID=%d, want 1", w.ID)
	}
	// The store took a copy: changing w now changes nothing stored.
	w.Targeting.Rules[0].Value = "/changed"
	got, err := db.Widget(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Targeting.Rules[0].Value; v != "/pricing" {
		t.Errorf("stored rule value=%q, want \"/pricing\"", v)
	}

	updated, err := db.UpdateWidget(ctx, 1, func(w *parley.Widget) error {
		w.Enabled = false
		w.Availability.Mode = parley.AvailabilityAlways
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Widget(ctx, 1); !reflect.DeepEqual(got, updated) || got.Enabled || got.Availability.Mode != parley.AvailabilityAlways {
		t.Errorf("Widget(1)=%+v after update, want %+v", got, updated)
	}
	if _, err := db.UpdateWidget(ctx, 1, func(*parley.Widget) error { return errTest }); !errors.Is(err, errTest) {
		t.Errorf("UpdateWidget error=%v, want fn's", err)
	}

	second := parley.DefaultWidget(2)
	if err := db.CreateWidget(ctx, second); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		id   uint64
		code string
	}{
		{"delete", 1, ""},
		{"delete again", 1, parley.ENOTFOUND},
		{"delete missing", 9, parley.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, db.DeleteWidget(ctx, tt.id), tt.code)
		})
	}
	_, err = db.Widget(ctx, 1)
	wantCode(t, err, parley.ENOTFOUND)
	all, err := db.Widgets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != second.ID {
		t.Errorf("Widgets=%+v, want only widget %d", all, second.ID)
	}
}
