package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/store"
)

// fakeNow is a clock the test moves.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeNow) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestFileSweep: a blob nothing names (what a crash between storing the
// bytes and committing the record leaves) goes at the next start; an upload
// no message claimed goes after a day; a message's file stays.
func TestFileSweep(t *testing.T) {
	ctx := context.Background()
	dir, blobDir := t.TempDir(), t.TempDir()
	clk := &fakeNow{t: time.Now().UTC()}
	blobs, err := blob.Open(blobDir, &blob.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dir, &store.Options{NoSync: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	th := &parley.Thread{InboxID: in.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 1}
	if err := db.CreateThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{Now: clk.Now, Blobs: blobs}, db, hub.NewPresence())

	kept, err := a.Upload(ctx, "V-1", th.ID, "kept.txt", strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "x", SenderID: "V-1",
		Direction: parley.Incoming, Attachments: []parley.Attachment{{FileID: kept.ID}}}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	stale, err := a.Upload(ctx, "V-1", th.ID, "stale.txt", strings.NewReader("stale"))
	if err != nil {
		t.Fatal(err)
	}
	orphan, _, err := blobs.Put(ctx, strings.NewReader("orphan"), 100)
	if err != nil {
		t.Fatal(err)
	}
	present := func(key string) bool {
		b, err := blobs.Open(ctx, key)
		if err == nil {
			b.Close()
		}
		return err == nil
	}

	// The start's sweep takes the orphan at once (nothing can be being
	// uploaded before the start), and spares the day-young upload.
	clk.Add(time.Minute)
	a.Start()
	deadline := time.Now().Add(10 * time.Second)
	for present(orphan) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	if present(orphan) {
		t.Fatal("the start's sweep left a blob nothing names")
	}
	if !present(kept.Key) || !present(stale.Key) {
		t.Fatal("the start's sweep took a blob a file names")
	}

	// A day later the unclaimed upload goes, record and bytes.
	clk.Add(25 * time.Hour)
	n, err := a.SweepFiles(ctx, clk.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("SweepFiles=%d, %v; want 1 (the stale upload's blob)", n, err)
	}
	if _, err := db.File(ctx, stale.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("stale upload's record: %v, want not found", err)
	}
	if present(stale.Key) || !present(kept.Key) {
		t.Errorf("after the sweep: stale present=%v, kept present=%v; want false, true", present(stale.Key), present(kept.Key))
	}
}

func TestUploadWithoutBlobStore(t *testing.T) {
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := app.New(app.Config{}, db, hub.NewPresence())
	_, err = a.Upload(context.Background(), "A-1", 0, "a.txt", strings.NewReader("x"))
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("Upload without a BlobStore: %v, want %s", err, parley.EUNAVAILABLE)
	}
}

// TestUploadFailingReader: an upload whose body breaks off stores nothing.
func TestUploadFailingReader(t *testing.T) {
	ctx := context.Background()
	blobDir := t.TempDir()
	blobs, err := blob.Open(blobDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := app.New(app.Config{Blobs: blobs}, db, hub.NewPresence())
	broken := errors.New("connection reset")
	if _, err := a.Upload(ctx, "A-1", 0, "a.txt", &failingReader{err: broken}); !errors.Is(err, broken) {
		t.Errorf("Upload=%v, want the reader's error", err)
	}
	if keys, err := db.FileKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("FileKeys=%v, %v; want none", keys, err)
	}
	if n, err := blobs.Sweep(ctx, time.Now().Add(time.Hour), func(string) bool { return false }); err != nil || n != 0 {
		t.Errorf("blobs left: %d, %v; want none", n, err)
	}
}

type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 3 {
		return 0, r.err
	}
	r.n++
	return copy(p, "some bytes "), nil
}
