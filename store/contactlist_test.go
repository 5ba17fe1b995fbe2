package store

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestContactLists(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)

	vip := &parley.ContactList{Name: "VIP", Match: "all", Criteria: []parley.ListCriterion{{Property: "emailDomain", Op: "is", Value: "vip.example"}}}
	if err := db.CreateContactList(ctx, vip); err != nil {
		t.Fatal(err)
	}
	if vip.ID == 0 || vip.CreatedAt.IsZero() {
		t.Fatalf("created=%+v", vip)
	}
	got, err := db.UpdateContactList(ctx, vip.ID, func(l *parley.ContactList) error {
		l.Name = "VIPs"
		return nil
	})
	if err != nil || got.Name != "VIPs" {
		t.Fatalf("update=%+v, %v", got, err)
	}
	if all, err := db.ContactLists(ctx); err != nil || len(all) != 1 || all[0].Name != "VIPs" {
		t.Fatalf("lists=%+v, %v", all, err)
	}

	// A widget may use only an existing list; a list in use stays.
	w := parley.DefaultWidget(1)
	w.Audience = parley.Audience{Mode: parley.AudienceNotList, ListID: 99}
	wantCode(t, db.CreateWidget(ctx, w), parley.EINVALID)
	w.Audience.ListID = vip.ID
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	err = db.DeleteContactList(ctx, vip.ID)
	wantCode(t, err, parley.ECONFLICT)
	if msg := parley.ErrorMessage(err); msg == "" || !strings.Contains(msg, `"Website chat"`) {
		t.Errorf("conflict message %q does not name the widget", msg)
	}
	if _, err := db.UpdateWidget(ctx, w.ID, func(w *parley.Widget) error {
		w.Audience = parley.Audience{Mode: parley.AudienceKnown, ListID: vip.ID}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Mode "known" does not use the list, whatever id it still carries.
	wantCode(t, db.DeleteContactList(ctx, vip.ID), "")
	wantCode(t, db.DeleteContactList(ctx, vip.ID), parley.ENOTFOUND)
	if _, err := db.ContactList(ctx, vip.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("deleted list: %v", err)
	}
	if _, err := db.UpdateWidget(ctx, w.ID, func(w *parley.Widget) error {
		w.Audience.Mode = parley.AudienceList
		return nil
	}); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("widget with a deleted list: %v, want EINVALID", err)
	}
}
