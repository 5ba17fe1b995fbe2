package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
)

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
