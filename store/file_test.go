package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func blobKey(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// fileFixture is two inboxes, each with a chat thread of the visitor V-1.
type fileFixture struct {
	db               *DB
	clk              *clock
	keep, doomed     *parley.Inbox
	thread, doomedTh *parley.Thread
}

func newFileFixture(t *testing.T) *fileFixture {
	t.Helper()
	ctx := t.Context()
	f := &fileFixture{clk: newClock()}
	f.db = MustOpen(t, &Options{NoSync: true, Now: f.clk.Now})
	f.keep, f.doomed = &parley.Inbox{Name: "Keep"}, &parley.Inbox{Name: "Doomed"}
	for _, in := range []*parley.Inbox{f.keep, f.doomed} {
		if err := f.db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	f.thread = &parley.Thread{InboxID: f.keep.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 5}
	f.doomedTh = &parley.Thread{InboxID: f.doomed.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 6}
	for _, th := range []*parley.Thread{f.thread, f.doomedTh} {
		if err := f.db.CreateThread(ctx, th); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fileFixture) upload(t *testing.T, by string, threadID uint64, content string) *parley.File {
	t.Helper()
	file := &parley.File{Key: blobKey(content), Name: "a.png", Type: "image/png", Size: int64(len(content)),
		Inline: true, Width: 2, Height: 1, UploadedBy: by, ThreadID: threadID}
	if err := f.db.CreateUpload(t.Context(), file); err != nil {
		t.Fatal(err)
	}
	return file
}

func (f *fileFixture) post(t *testing.T, threadID uint64, sender, clientID string, atts ...parley.Attachment) (parley.AppendResult, error) {
	m := &parley.Message{ThreadID: threadID, Type: parley.TypeMessage, Text: "see attached", SenderID: sender,
		Direction: parley.Incoming, ClientID: clientID, Attachments: atts}
	return f.db.AppendMessage(t.Context(), m, parley.AppendOptions{})
}

func TestCreateUploadRefusesBadFiles(t *testing.T) {
	f := newFileFixture(t)
	good := parley.File{Key: blobKey("x"), Name: "a.pdf", Type: "application/pdf", Size: 1, UploadedBy: "V-1"}
	for _, tt := range []struct {
		name string
		edit func(*parley.File)
		code string
	}{
		{"no key", func(x *parley.File) { x.Key = "" }, parley.EINVALID},
		{"path as key", func(x *parley.File) { x.Key = "../../etc/passwd" }, parley.EINVALID},
		{"uncleaned name", func(x *parley.File) { x.Name = "../a.pdf" }, parley.EINVALID},
		{"no name", func(x *parley.File) { x.Name = "" }, parley.EINVALID},
		{"too large", func(x *parley.File) { x.Size = parley.MaxFileBytes + 1 }, parley.EINVALID},
		{"no type", func(x *parley.File) { x.Type = "" }, parley.EINVALID},
		{"no sender", func(x *parley.File) { x.UploadedBy = "" }, parley.EINVALID},
		{"already a message's", func(x *parley.File) { x.MessageID = 3 }, parley.EINVALID},
		{"thread missing", func(x *parley.File) { x.ThreadID = 999 }, parley.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := good
			tt.edit(&x)
			wantCode(t, f.db.CreateUpload(t.Context(), &x), tt.code)
		})
	}
	keys, err := f.db.FileKeys(t.Context())
	if err != nil || len(keys) != 0 {
		t.Errorf("FileKeys=%v, %v after only refused uploads, want none", keys, err)
	}
}

func TestAppendClaimsUploads(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	up := f.upload(t, "V-1", 0, "first")
	forThread := f.upload(t, "V-1", f.thread.ID, "second")

	res, err := f.post(t, f.thread.ID, "V-1", "c1", parley.Attachment{FileID: up.ID}, parley.Attachment{FileID: forThread.ID})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Message
	if len(m.Attachments) != 2 || m.Attachments[0] != up.Attachment() || m.Attachments[1].FileID != forThread.ID || m.Attachments[1].Key != blobKey("second") {
		t.Fatalf("attachments=%+v, want the two uploads'", m.Attachments)
	}
	stored, err := f.db.Message(ctx, m.ID)
	if err != nil || len(stored.Attachments) != 2 || stored.Attachments[0].Name != "a.png" {
		t.Fatalf("stored message attachments=%+v, %v", stored.Attachments, err)
	}
	for _, id := range []uint64{up.ID, forThread.ID} {
		file, err := f.db.File(ctx, id)
		if err != nil || file.MessageID != m.ID || file.ThreadID != f.thread.ID {
			t.Errorf("file %d=%+v, %v; want message %d of thread %d", id, file, err, m.ID, f.thread.ID)
		}
	}

	// The same message again (its client id): nothing claimed twice, no error.
	again, err := f.post(t, f.thread.ID, "V-1", "c1", parley.Attachment{FileID: up.ID})
	if err != nil || !again.Duplicate || again.Message.ID != m.ID {
		t.Errorf("retry: %+v, %v; want the first copy", again, err)
	}

	// A claimed file is claimed for good, also after the uploads are swept.
	f.clk.Add(48 * time.Hour)
	if n, err := f.db.DeleteUploads(ctx, f.clk.Now()); err != nil || n != 0 {
		t.Errorf("DeleteUploads=%d, %v; want 0 (both files are a message's)", n, err)
	}
}

// TestAppendRefusesOthersUploads: a message may carry only its sender's
// uploads, not yet claimed, made for its thread or none; a refused append
// writes nothing.
func TestAppendRefusesOthersUploads(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	mine := f.upload(t, "V-1", 0, "mine")
	other := f.upload(t, "V-2", 0, "other")
	elsewhere := f.upload(t, "V-1", f.doomedTh.ID, "elsewhere")
	claimed := f.upload(t, "V-1", 0, "claimed")
	if _, err := f.post(t, f.thread.ID, "V-1", "", parley.Attachment{FileID: claimed.ID}); err != nil {
		t.Fatal(err)
	}
	before, err := f.db.Thread(ctx, f.thread.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		sender string
		atts   []parley.Attachment
		code   string
	}{
		{"another visitor's upload", "V-1", []parley.Attachment{{FileID: other.ID}}, parley.EINVALID},
		{"an agent claiming a visitor's upload", "A-1", []parley.Attachment{{FileID: mine.ID}}, parley.EINVALID},
		{"an upload made for another thread", "V-1", []parley.Attachment{{FileID: elsewhere.ID}}, parley.EINVALID},
		{"a file another message carries", "V-1", []parley.Attachment{{FileID: claimed.ID}}, parley.EINVALID},
		{"a file that does not exist", "V-1", []parley.Attachment{{FileID: 9999}}, parley.EINVALID},
		{"one good, one not", "V-1", []parley.Attachment{{FileID: mine.ID}, {FileID: other.ID}}, parley.EINVALID},
		{"the same upload twice", "V-1", []parley.Attachment{{FileID: mine.ID}, {FileID: mine.ID}}, parley.EINVALID},
		{"too many files", "V-1", func() []parley.Attachment {
			var out []parley.Attachment
			for i := range parley.MaxMessageFiles + 1 {
				out = append(out, parley.Attachment{Key: blobKey(fmt.Sprint(i)), Name: "x", Type: "text/plain", Size: 1})
			}
			return out
		}(), parley.EINVALID},
		{"files too large together", "V-1", []parley.Attachment{
			{Key: blobKey("big1"), Name: "a", Type: "application/pdf", Size: parley.MaxFileBytes},
			{Key: blobKey("big2"), Name: "b", Type: "application/pdf", Size: parley.MaxFileBytes},
		}, parley.ETOOLARGE},
		{"an email's file with a path for a key", "V-1", []parley.Attachment{{Key: "../x", Name: "x", Type: "text/plain"}}, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.post(t, f.thread.ID, tt.sender, "", tt.atts...)
			wantCode(t, err, tt.code)
		})
	}
	after, err := f.db.Thread(ctx, f.thread.ID)
	if err != nil || after.LastSeq != before.LastSeq {
		t.Errorf("thread LastSeq %d → %d (%v): a refused append wrote", before.LastSeq, after.LastSeq, err)
	}
	for _, id := range []uint64{mine.ID, other.ID, elsewhere.ID} {
		if file, err := f.db.File(ctx, id); err != nil || file.MessageID != 0 {
			t.Errorf("file %d=%+v, %v; want it still an upload", id, file, err)
		}
	}
}

func TestAppendRecordsEmailFiles(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	res, err := f.post(t, f.thread.ID, "E-ann@example.com", "", parley.Attachment{
		Key: blobKey("logo"), Name: "logo.png", Type: "image/png", Size: 4, Inline: true, Width: 1, Height: 1, ContentID: "logo@x"})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Message.Attachments[0]
	file, err := f.db.File(ctx, a.FileID)
	if err != nil || file.ContentID != "logo@x" || file.MessageID != res.Message.ID || file.UploadedBy != "E-ann@example.com" {
		t.Fatalf("file of the email=%+v, %v", file, err)
	}
}

func TestDeleteUploads(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	old := f.upload(t, "V-1", 0, "old")
	f.clk.Add(2 * time.Hour)
	cutoff := f.clk.Now()
	recent := f.upload(t, "V-1", f.thread.ID, "recent")
	n, err := f.db.DeleteUploads(ctx, cutoff)
	if err != nil || n != 1 {
		t.Fatalf("DeleteUploads=%d, %v; want 1", n, err)
	}
	_, err = f.db.File(ctx, old.ID)
	wantCode(t, err, parley.ENOTFOUND)
	if _, err := f.db.File(ctx, recent.ID); err != nil {
		t.Errorf("recent upload: %v", err)
	}
	keys, err := f.db.FileKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[blobKey("recent")] {
		t.Errorf("FileKeys=%v, %v; want only the recent upload's", keys, err)
	}
	// A swept upload can no longer be claimed.
	_, err = f.post(t, f.thread.ID, "V-1", "", parley.Attachment{FileID: old.ID})
	wantCode(t, err, parley.EINVALID)
}

func TestDeleteInboxDeletesFiles(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	kept := f.upload(t, "V-1", 0, "kept")
	if _, err := f.post(t, f.thread.ID, "V-1", "", parley.Attachment{FileID: kept.ID}); err != nil {
		t.Fatal(err)
	}
	gone := f.upload(t, "V-1", 0, "gone")
	if _, err := f.post(t, f.doomedTh.ID, "V-1", "", parley.Attachment{FileID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	pending := f.upload(t, "V-1", f.doomedTh.ID, "pending")
	if err := f.db.DeleteInbox(ctx, f.doomed.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{gone.ID, pending.ID} {
		_, err := f.db.File(ctx, id)
		wantCode(t, err, parley.ENOTFOUND)
	}
	keys, err := f.db.FileKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[blobKey("kept")] {
		t.Errorf("FileKeys=%v, %v; want only the kept inbox's file", keys, err)
	}
	// Nothing of the deleted thread is left in the file buckets.
	err = f.db.view(func(tx *bolt.Tx) error {
		for _, name := range []string{bucketThreadFiles, bucketUploads} {
			c := bucket(tx, name).Cursor()
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if name == bucketThreadFiles && btoi(k) == f.doomedTh.ID || name == bucketUploads {
					t.Errorf("bucket %s keeps key %x", name, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFileNamesStayText: what a file record holds is stored and returned as
// given, whatever it looks like.
func TestFileNamesStayText(t *testing.T) {
	f := newFileFixture(t)
	name := parley.CleanFileName(`<img src=x onerror=alert(1)>.png`)
	file := &parley.File{Key: blobKey("n"), Name: name, Type: "image/png", Size: 1, UploadedBy: "V-1"}
	if err := f.db.CreateUpload(t.Context(), file); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.File(t.Context(), file.ID)
	if err != nil || got.Name != name || !strings.Contains(got.Name, "<img") {
		t.Errorf("name=%q, %v; want %q", got.Name, err, name)
	}
}
