package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunWidgets: a widget is stored as given with the store's id and times,
// read back as a copy of its own, listed by id, changed by fn alone, and
// deleted once. Widgets and mailboxes share one kind of ids.
func RunWidgets(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)
	in := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "help@example.com"}}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := &parley.Widget{Name: "Site", InboxID: in.ID, Enabled: true,
		Targeting: parley.Targeting{Rules: []parley.TargetRule{{Kind: "path", Op: "prefix", Value: "/help"}}}}
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if w.ID != in.Mailboxes[0].ID+1 || !w.CreatedAt.Equal(clk.Now()) || !w.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("widget id=%d createdAt=%v updatedAt=%v, want id %d after the mailbox's and the store's clock", w.ID, w.CreatedAt, w.UpdatedAt, in.Mailboxes[0].ID+1)
	}
	other := &parley.Widget{Name: "Shop", InboxID: in.ID}
	if err := db.CreateWidget(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func() (*parley.Widget, error){
		func() (*parley.Widget, error) { return db.Widget(ctx, w.ID) },
		func() (*parley.Widget, error) { return db.SharedWidget(ctx, w.ID) },
	} {
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("widget=%+v, want %+v", got, w)
		}
	}
	got, _ := db.Widget(ctx, w.ID)
	got.Targeting.Rules[0].Value = "/changed"
	if again, _ := db.Widget(ctx, w.ID); again.Targeting.Rules[0].Value != "/help" {
		t.Errorf("changing a read widget changed the stored one")
	}
	for _, id := range []uint64{0, 99} {
		_, err := db.Widget(ctx, id)
		wantCode(t, err, parley.ENOTFOUND)
		_, err = db.UpdateWidget(ctx, id, func(*parley.Widget) error { return nil })
		wantCode(t, err, parley.ENOTFOUND)
		wantCode(t, db.DeleteWidget(ctx, id), parley.ENOTFOUND)
	}

	clk.Add(time.Minute)
	upd, err := db.UpdateWidget(ctx, w.ID, func(v *parley.Widget) error {
		v.ID, v.UpdatedAt = 77, time.Time{}
		v.Name = "Site 2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.ID != w.ID || upd.Name != "Site 2" || !upd.CreatedAt.Equal(w.CreatedAt) || !upd.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("updated widget=%+v, want its id and createdAt kept, updatedAt now", upd)
	}
	_, err = db.UpdateWidget(ctx, w.ID, func(v *parley.Widget) error {
		v.Name = "lost"
		return errTest
	})
	if err != errTest {
		t.Fatalf("update error=%v, want errTest", err)
	}
	if got, _ := db.Widget(ctx, w.ID); got.Name != "Site 2" {
		t.Errorf("a failed update wrote name %q", got.Name)
	}

	if err := db.DeleteWidget(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteWidget(ctx, other.ID), parley.ENOTFOUND)
	all, err := db.Widgets(ctx)
	if err != nil || len(all) != 1 || all[0].ID != w.ID {
		t.Errorf("widgets=%+v, %v, want widget %d alone", all, err, w.ID)
	}
	// An id is never given twice, whether its widget was deleted or not.
	next := &parley.Widget{Name: "Next", InboxID: in.ID}
	if err := db.CreateWidget(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.ID != other.ID+1 {
		t.Errorf("widget after a delete got id %d, want %d", next.ID, other.ID+1)
	}
}

// RunWidgetAudience: an audience naming a list that does not exist is
// EINVALID naming audience.listId, on create and update, and writes nothing
// (no list exists in a store that keeps no lists yet).
func RunWidgetAudience(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	for _, mode := range []string{parley.AudienceList, parley.AudienceNotList} {
		err := db.CreateWidget(ctx, &parley.Widget{Name: "Members", InboxID: 1, Audience: parley.Audience{Mode: mode, ListID: 5}})
		wantCode(t, err, parley.EINVALID)
		if !strings.Contains(err.Error(), "audience.listId") {
			t.Errorf("error %q does not name audience.listId", err)
		}
	}
	if all, _ := db.Widgets(ctx); len(all) != 0 {
		t.Errorf("refused creates left widgets: %+v", all)
	}
	w := &parley.Widget{Name: "All", InboxID: 1, Audience: parley.Audience{Mode: parley.AudienceEveryone, ListID: 5}}
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatalf("a list id outside a list audience: %v", err)
	}
	if w.ID != 1 {
		t.Errorf("widget id=%d, want 1: refused creates give their ids back", w.ID)
	}
	_, err := db.UpdateWidget(ctx, w.ID, func(v *parley.Widget) error {
		v.Name = "lost"
		v.Audience.Mode = parley.AudienceList
		return nil
	})
	wantCode(t, err, parley.EINVALID)
	if got, _ := db.Widget(ctx, w.ID); got.Name != "All" || got.Audience.Mode != parley.AudienceEveryone {
		t.Errorf("a refused update wrote %+v", got)
	}
}

// RunDeleteInboxWidgets: deleting an inbox deletes its widgets, and only
// its own, in the same write; a widget of another inbox keeps its id.
func RunDeleteInboxWidgets(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	keep, doomed := &parley.Inbox{Name: "Keep"}, &parley.Inbox{Name: "Doomed"}
	for _, in := range []*parley.Inbox{keep, doomed} {
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var kept []uint64
	for i := range 6 {
		w := &parley.Widget{Name: fmt.Sprint("w", i), InboxID: []uint64{keep.ID, doomed.ID}[i%2]}
		if err := db.CreateWidget(ctx, w); err != nil {
			t.Fatal(err)
		}
		if w.InboxID == keep.ID {
			kept = append(kept, w.ID)
		}
	}
	if err := db.DeleteInbox(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	all, err := db.Widgets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, w := range all {
		ids = append(ids, w.ID)
	}
	if !slices.Equal(ids, kept) {
		t.Errorf("widgets=%v, want %v", ids, kept)
	}
	// A refused deletion (the last inbox) keeps its widgets.
	wantCode(t, db.DeleteInbox(ctx, keep.ID), parley.ECONFLICT)
	if all, _ := db.Widgets(ctx); len(all) != len(kept) {
		t.Errorf("a refused inbox deletion left %d widgets, want %d", len(all), len(kept))
	}
}

// RunWidgetAudit: a widget's create and update fill their notes, and a note
// about its bot gets the bot's changes alone.
func RunWidgetAudit(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	w := &parley.Widget{Name: "Site", InboxID: 1}
	if err := db.CreateWidget(parley.WithAudit(ctx, auditNote(parley.AuditWidgetCreate)), w); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateWidget(parley.WithAudit(ctx, auditNote(parley.AuditWidgetUpdate)), w.ID, func(v *parley.Widget) error {
		v.Name = "Site 2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n := auditNote(parley.AuditBotUpdate)
	n.Entry.ObjectType, n.Entry.ObjectID = "bot", fmt.Sprint(w.ID)
	if _, err := db.UpdateWidget(parley.WithAudit(ctx, n), w.ID, func(v *parley.Widget) error {
		v.Name = "Site 3" // not the bot: not in the bot's entry
		v.Bot = &parley.BotFlow{Enabled: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := db.AuditLog(ctx, parley.AuditFilter{})
	if err != nil || len(got) != 3 {
		t.Fatalf("entries=%s, %v, want 3", dump(got), err)
	}
	id := fmt.Sprint(w.ID)
	if e := got[2]; e.ObjectType != "widget" || e.ObjectID != id || len(e.Changes) == 0 {
		t.Errorf("create entry=%s", dump(e))
	}
	if e := got[1]; e.ObjectType != "widget" || e.ObjectID != id || len(e.Changes) != 1 || string(e.Changes[0].New) != `"Site 2"` {
		t.Errorf("update entry=%s", dump(e))
	}
	if e := got[0]; e.ObjectType != "bot" || e.ObjectID != id || len(e.Changes) != 1 || e.Changes[0].Field != "enabled" {
		t.Errorf("bot entry=%s, want the bot's enabled alone", dump(e))
	}
}

// RunWidgetHostile: names with SQL metacharacters, NUL bytes and a megabyte
// of text are stored as given; concurrent writers of one widget all land,
// and concurrent creators get distinct ids.
func RunWidgetHostile(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	for _, name := range []string{"'); DELETE FROM widgets; --", "a\x00b", `\x00`, "ünï\u2028", strings.Repeat("w", 1<<20)} {
		w := &parley.Widget{Name: name, InboxID: 1}
		if err := db.CreateWidget(ctx, w); err != nil {
			t.Fatalf("CreateWidget(%.40q): %v", name, err)
		}
		if got, err := db.Widget(ctx, w.ID); err != nil || got.Name != name {
			t.Errorf("widget %d name=%.40q, %v, want %.40q", w.ID, got.Name, err, name)
		}
	}
	const writers = 8
	var wg sync.WaitGroup
	ids := make(chan uint64, writers)
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Go(func() {
			_, err := db.UpdateWidget(ctx, 1, func(v *parley.Widget) error {
				v.Targeting.Rules = append(v.Targeting.Rules, parley.TargetRule{Kind: "path", Value: fmt.Sprint(i)})
				return nil
			})
			errs <- err
		})
		wg.Go(func() {
			w := &parley.Widget{Name: fmt.Sprint("c", i), InboxID: 1}
			errs <- db.CreateWidget(ctx, w)
			ids <- w.ID
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Widget(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, r := range got.Targeting.Rules {
		values = append(values, r.Value)
	}
	slices.Sort(values)
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7"}; !slices.Equal(values, want) {
		t.Errorf("rules after concurrent updates=%v, want %v", values, want)
	}
	var created []uint64
	for id := range ids {
		created = append(created, id)
	}
	slices.Sort(created)
	if len(slices.Compact(created)) != writers || created[0] != 6 || created[writers-1] != 5+writers {
		t.Errorf("concurrent creates got ids %v, want 6…%d", created, 5+writers)
	}
}
