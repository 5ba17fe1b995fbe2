package store

import (
	"encoding/json"
	"errors"
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
// results, and leaves no message in JSON. Stopped after a few chunks (as
// by a crash), the conversion leaves a file of version 13 with messages in
// both forms, which the next Open converts to the end.
func TestMigrateMessages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      convertSize
		stopAfter int // chunks; 0: not stopped
	}{
		{name: "in one chunk"},
		{name: "in chunks of 40 keys", size: convertSize{keys: 40}},
		{name: "in chunks of 2 KB", size: convertSize{keys: 5000, bytes: 2048}},
		{name: "stopped after 3 chunks", size: convertSize{keys: 40}, stopAfter: 3},
		{name: "stopped after the first chunk", size: convertSize{keys: 1}, stopAfter: 1},
	} {
		t.Run(tc.name, func(t *testing.T) { testMigrateMessages(t, tc.size, tc.stopAfter) })
	}
}

func testMigrateMessages(t *testing.T, size convertSize, stopAfter int) {
	ctx := t.Context()
	dir := t.TempDir()
	db, err := Open(dir, &Options{NoSync: true, ObserveConversion: func(int, bool) { t.Error("a new file converts messages") }})
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

	// Every message is converted once, over both opens if stopped.
	converted, last, dones := 0, 0, 0
	observe := func(n int, done bool) {
		if n < last {
			t.Errorf("converted %d after %d", n, last)
		}
		converted += n - last
		last = n
		if done {
			dones++
		}
	}
	if stopAfter > 0 {
		errStop := errors.New("stopped")
		chunks := 0
		_, err := Open(dir, &Options{NoSync: true, convertSize: size, ObserveConversion: observe, afterConvertChunk: func(n int) error {
			chunks = n
			if n == stopAfter {
				return errStop
			}
			return nil
		}})
		if !errors.Is(err, errStop) || chunks != stopAfter {
			t.Fatalf("open stopped after chunk %d: %v; want %v after chunk %d", chunks, err, errStop, stopAfter)
		}
		forms := map[byte]int{}
		version := 0
		err = viewFile(t, dir, func(tx *bolt.Tx) (err error) {
			if version, err = readSchemaVersion(tx); err != nil {
				return err
			}
			if bucket(tx, bucketMeta).Get(keyMessagesFrom) == nil {
				t.Error("no conversion pending after a stop")
			}
			return bucket(tx, bucketMessages).ForEach(func(k, v []byte) error {
				if k[8] != dedupPrefix {
					forms[v[0]]++
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if version != 13 || forms['{'] == 0 || forms[messageFormat] == 0 || forms['{']+forms[messageFormat] != len(threads)*12 {
			t.Fatalf("after the stop: schema version %d, messages by first byte %v; want 13 and both forms", version, forms)
		}
	}
	last = 0
	db = MustOpenDir(t, dir, &Options{NoSync: true, convertSize: size, ObserveConversion: observe})
	if converted != len(threads)*12 || dones != 1 {
		t.Errorf("converted %d messages, done %d times; want %d, once", converted, dones, len(threads)*12)
	}
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
	db.view(func(tx *bolt.Tx) error {
		if v := bucket(tx, bucketMeta).Get(keyMessagesFrom); v != nil {
			t.Errorf("conversion still pending at %x after Open", v)
		}
		return nil
	})
}

// viewFile runs fn in a read transaction of the bbolt file in dir, opened
// without the store.
func viewFile(tb testing.TB, dir string, fn func(*bolt.Tx) error) error {
	tb.Helper()
	bdb, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer bdb.Close()
	return bdb.View(fn)
}
