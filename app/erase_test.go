package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/store"
)

// uploadWhileErasing is the lock an erasure holds while it commits; taking
// it, it stores bytes the erased contact also sent, as another visitor's
// upload would at that moment, before that upload's record commits.
type uploadWhileErasing struct {
	t     *testing.T
	clk   *fakeNow
	blobs *blob.Dir
	held  bool
}

func (u *uploadWhileErasing) Lock() {
	u.held = true
	u.clk.Add(time.Second)
	if _, _, err := u.blobs.Put(context.Background(), strings.NewReader("also uploaded by someone else right now"), 100); err != nil {
		u.t.Error(err)
	}
}

func (u *uploadWhileErasing) Unlock() { u.held = false }

// TestEraseContactFiles: erasing a contact deletes the blobs of its files
// at once, but not a blob another contact's file names, nor one stored
// again while the erasure ran (someone else's upload of the same bytes,
// whose record has not committed yet); its conversation is announced as
// deleted, and the lock is held while the store commits.
func TestEraseContactFiles(t *testing.T) {
	ctx := context.Background()
	clk := &fakeNow{t: time.Now().UTC()}
	blobs, err := blob.Open(t.TempDir(), &blob.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := app.New(app.Config{Now: clk.Now, Blobs: blobs}, db, hub.NewPresence())
	ev := &recorder{}
	a.SetEvents(ev)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	send := func(c *parley.Contact, contents ...string) {
		t.Helper()
		th := &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: c.ID}
		if err := db.CreateThread(ctx, th); err != nil {
			t.Fatal(err)
		}
		var atts []parley.Attachment
		for _, s := range contents {
			f, err := a.Upload(ctx, c.ActorID(), th.ID, "f.txt", strings.NewReader(s))
			if err != nil {
				t.Fatal(err)
			}
			atts = append(atts, parley.Attachment{FileID: f.ID})
		}
		if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "files", SenderID: c.ActorID(),
			Direction: parley.Incoming, Attachments: atts}, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	gone, stays := &parley.Contact{}, &parley.Contact{}
	for _, c := range []*parley.Contact{gone, stays} {
		if err := db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	send(gone, "only the erased contact's", "the same bytes twice", "also uploaded by someone else right now")
	send(stays, "the same bytes twice")
	key := func(s string) string {
		k, _, err := blobs.Put(ctx, strings.NewReader(s), 100) // the same key; renews nothing that matters
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	only, shared, racing := key("only the erased contact's"), key("the same bytes twice"), key("also uploaded by someone else right now")
	present := func(k string) bool {
		b, err := blobs.Open(ctx, k)
		if err == nil {
			b.Close()
		}
		return err == nil
	}
	clk.Add(time.Minute)
	ev.reset()

	lock := &uploadWhileErasing{t: t, clk: clk, blobs: blobs}
	e, err := a.EraseContact(ctx, &parley.User{ID: 1}, gone.ID, lock)
	if err != nil {
		t.Fatal(err)
	}
	if lock.held {
		t.Error("the lock is still held after the erasure")
	}
	if len(e.Threads) != 1 || len(e.FileKeys) != 3 {
		t.Errorf("erased %d threads and %d files, want 1 and 3", len(e.Threads), len(e.FileKeys))
	}
	ev.want(t, "erasure", "thread deleted")
	if present(only) {
		t.Error("the erased contact's own file is still stored")
	}
	if !present(shared) {
		t.Error("the file another contact sent with the same bytes was deleted")
	}
	if !present(racing) {
		t.Error("bytes stored again during the erasure were deleted")
	}
	_, err = a.EraseContact(ctx, &parley.User{ID: 1}, gone.ID, nil)
	if parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("erasing it again: %v, want ENOTFOUND", err)
	}
}
