package store

import (
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley"
)

// TestMigrateWidgetTexts: texts no admin wrote become the defaults in the
// page's language; texts an admin wrote stay; a widget without a welcome
// keeps showing none.
func TestMigrateWidgetTexts(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, nil)
	put := func(w *parley.Widget) {
		t.Helper()
		if err := db.bolt.Update(func(tx *bolt.Tx) error {
			data, err := widgetTable().encode(w)
			if err != nil {
				return err
			}
			return bucket(tx, bucketWidgets).Put(itob(w.ID), data)
		}); err != nil {
			t.Fatal(err)
		}
	}
	old := &parley.Widget{ID: 101, Name: "old", InboxID: 1}
	old.Message.Welcome = "Hallo! Wie können wir helfen?"
	old.Message.EmailCapture.Message = "Leave your email so we can reach you if you go."
	old.Availability.AwayMessage = "We're away right now. Leave a message and we'll get back to you."
	own := &parley.Widget{ID: 102, Name: "own", InboxID: 1}
	own.Message.Welcome = "Moin! Was können wir tun?"
	own.Message.EmailCapture.Message = "Ihre Adresse, bitte."
	own.Availability.AwayMessage = "Gleich zurück."
	none := &parley.Widget{ID: 103, Name: "none", InboxID: 1}
	for _, w := range []*parley.Widget{old, own, none} {
		put(w)
	}
	if err := db.bolt.Update(migrateWidgetTexts); err != nil {
		t.Fatal(err)
	}
	get := func(id uint64) *parley.Widget {
		t.Helper()
		w, err := db.Widget(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := get(101); w.Message.Welcome != "" || w.Message.HideWelcome || w.Message.EmailCapture.Message != "" || w.Availability.AwayMessage != "" {
		t.Errorf("old defaults: %+v %+v", w.Message, w.Availability)
	}
	if w := get(102); w.Message.Welcome != own.Message.Welcome || w.Message.HideWelcome || w.Message.EmailCapture.Message != own.Message.EmailCapture.Message || w.Availability.AwayMessage != own.Availability.AwayMessage {
		t.Errorf("an admin's texts: %+v %+v", w.Message, w.Availability)
	}
	if w := get(103); w.Message.Welcome != "" || !w.Message.HideWelcome {
		t.Errorf("no welcome: %+v", w.Message)
	}
}
