package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestMigrateMessages writes conversations, turns the file back into the
// layout of schema version 12 (every message as the JSON that version
// stored, search index version 2) and opens it again: the migration keeps
// every message as the API shows it, the dedup index, and every search's
// results, and leaves no message in JSON.
func TestMigrateMessages(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("", -5*3600)
	var threads []uint64
	for i := range 40 {
		th := &parley.Thread{InboxID: uint64(1 + i%2), ChannelID: parley.ChannelEmail, ContactID: uint64(i + 1), Subject: fmt.Sprintf("Order %d", 5000+i)}
		if err := db.CreateThread(ctx, th); err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th.ID)
		for j := range 12 {
			m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Direction: parley.Incoming, SenderID: parley.ContactActorID(uint64(i + 1)),
				Text: fmt.Sprintf("Hello, my parcel %d-%d is late. Müller Straße. delivery word%d", i, j, i*j), ClientID: fmt.Sprintf("c%d", j)}
			switch j % 4 {
			case 1:
				m.Type, m.Direction, m.SenderID, m.ClientID = parley.TypeComment, "", "A-1", ""
			case 2:
				m.Direction, m.SenderID, m.RichText = parley.Outgoing, "A-1", "<p>An answer</p>"
				m.Recipients = []parley.Recipient{{Field: "to", Name: "Grace", Email: "grace@example.com"}}
				m.CreatedAt = time.Date(2026, 3, 4, 5, 6, 7, 890000000, zone)
			case 3:
				m.Type, m.Text, m.SenderID, m.ClientID = parley.TypeSystem, "", "A-2", ""
				m.Event, m.Changes = "record.updated", &[]parley.Change{{Field: "stage", From: "new", To: "won"}}
			}
			if j == 6 {
				m.QuickReplies = []string{"Yes", "No"}
			}
			if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	queries := []string{"parcel", "late ", "muller", "strasse", "order 5012", "word12 ", "wor", "deliv", "hello", "my parcel 3"}
	snapshot := func(db *DB) (msgs string, found map[string][]uint64) {
		var all []*parley.Message
		for _, id := range threads {
			page, _, err := db.Messages(ctx, id, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
		}
		data, err := json.Marshal(all) // as the API shows them
		if err != nil {
			t.Fatal(err)
		}
		found = map[string][]uint64{}
		for _, q := range queries {
			hits, _, err := db.Search(ctx, parley.SearchQuery{Text: q, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				found[q] = append(found[q], h.Thread.ID, h.MessageID)
			}
		}
		return string(data), found
	}
	wantMsgs, wantFound := snapshot(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The layout of version 12.
	bdb, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketMessages)
		type kv struct{ k, v []byte }
		var old []kv
		err := b.ForEach(func(k, v []byte) error {
			if len(k) != 16 || k[8] == dedupPrefix {
				return nil
			}
			m, err := decodeMessage(k, v)
			if err != nil {
				return err
			}
			data, err := json.Marshal(m)
			old = append(old, kv{slices.Clone(k), data})
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range old {
			if err := b.Put(e.k, e.v); err != nil {
				return err
			}
		}
		if err := bucket(tx, bucketSearchMeta).Put(keySearchVersion, itob(2)); err != nil {
			return err
		}
		return bucket(tx, bucketMeta).Put([]byte(keySchemaVersion), itob(12))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db = MustOpenDir(t, dir, &Options{NoSync: true})
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	gotMsgs, gotFound := snapshot(db)
	if gotMsgs != wantMsgs {
		t.Errorf("messages after the migration:\n%s\nwant\n%s", gotMsgs, wantMsgs)
	}
	for _, q := range queries {
		if len(wantFound[q]) == 0 {
			t.Errorf("search %q finds nothing: the test wants hits", q)
		}
		if !slices.Equal(gotFound[q], wantFound[q]) {
			t.Errorf("search %q after the migration: %v, want %v", q, gotFound[q], wantFound[q])
		}
	}
	db.view(func(tx *bolt.Tx) error {
		return bucket(tx, bucketMessages).ForEach(func(k, v []byte) error {
			if k[8] != dedupPrefix && v[0] != messageFormat {
				t.Errorf("message %x left as %.30q", k, v)
			}
			return nil
		})
	})
	// The dedup index came along.
	res, err := db.AppendMessage(ctx, &parley.Message{ThreadID: threads[3], Type: parley.TypeMessage, Text: "again",
		SenderID: parley.ContactActorID(4), ClientID: "c4"}, parley.AppendOptions{})
	if err != nil || !res.Duplicate || res.Message.Seq != 5 {
		t.Errorf("a retried send after the migration: %+v, %v; want the duplicate of seq 5", res.Message, err)
	}
	checkSearchIndex(t, db)
}
