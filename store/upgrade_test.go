package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestUpgradeFixtures opens the data file of every schema version Parley
// has released (testdata/schema/vN.db, written by the store of that
// version's commit; testdata/schema/make rebuilds them) with today's store:
// each is migrated to the newest version and keeps its admin, inbox,
// widget, contact and conversation, which takes new messages and is found
// by search. Version 1 as first written (v1.db) is refused, unchanged: its
// layout changed within version 1 without a migration.
func TestUpgradeFixtures(t *testing.T) {
	paths, err := filepath.Glob("testdata/schema/v*.db")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, path := range paths {
		version, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "v"), ".db"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		seen[version] = true
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx := context.Background()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := CheckFile(filepath.Join(dir, FileName)); err != nil || got != version {
				t.Fatalf("CheckFile=%d, %v; the fixture is of version %d", got, err, version)
			}
			if version == 1 {
				// The first layout of version 1, dropped without a
				// migration: refused, and the file left as it was.
				_, err := Open(dir, &Options{NoSync: true})
				if err == nil || !strings.Contains(err.Error(), "development build") {
					t.Fatalf("Open=%v, want the first layout refused", err)
				}
				if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(after, b) {
					t.Fatal("the refused file was changed")
				}
				return
			}
			db := MustOpenDir(t, dir, &Options{NoSync: true})
			if db.SchemaVersion() != SchemaVersion() {
				t.Fatalf("SchemaVersion=%d, want %d", db.SchemaVersion(), SchemaVersion())
			}
			u, err := db.UserByEmail(ctx, "ada@example.com")
			if err != nil || u.Name != "Ada Admin" || u.Role != parley.RoleAdmin {
				t.Errorf("the admin: %+v, %v", u, err)
			}
			inboxes, err := db.Inboxes(ctx)
			if err != nil || len(inboxes) != 1 || inboxes[0].Name != "Support" {
				t.Fatalf("inboxes: %v, %v", inboxes, err)
			}
			if ws, err := db.Widgets(ctx); err != nil || len(ws) != 1 || ws[0].InboxID != inboxes[0].ID {
				t.Errorf("widgets: %v, %v", ws, err)
			} else if m := ws[0].Message; m.Welcome != "" || m.HideWelcome || m.EmailCapture.Message != "" || ws[0].Availability.AwayMessage != "" {
				// The first start's English texts now follow the page's
				// language (migrateWidgetTexts).
				t.Errorf("the default widget's texts after the upgrade: %+v, away %q; want the defaults", m, ws[0].Availability.AwayMessage)
			}
			c, err := db.ContactByEmail(ctx, "grace@example.com")
			if err != nil || c.FirstName != "Grace" {
				t.Fatalf("the contact: %+v, %v", c, err)
			}
			th, err := db.Thread(ctx, 1)
			if err != nil || th.ContactID != c.ID || th.InboxID != inboxes[0].ID || th.ChannelID != parley.ChannelChat {
				t.Fatalf("the thread: %+v, %v", th, err)
			}
			msgs, _, err := db.Messages(ctx, th.ID, 0, 10)
			if err != nil || len(msgs) != 2 {
				t.Fatalf("messages: %v, %v", msgs, err)
			}
			if want := fmt.Sprintf("hello from schema version %d", version); msgs[0].Text != want || msgs[1].Text != "an agent's answer" {
				t.Errorf("messages %q, %q; want %q and the answer", msgs[0].Text, msgs[1].Text, want)
			}
			// Every message is in the binary form of version 13 now.
			db.view(func(tx *bolt.Tx) error {
				return bucket(tx, bucketMessages).ForEach(func(k, v []byte) error {
					if len(k) == 16 && k[8] != dedupPrefix && (len(v) == 0 || v[0] != messageFormat) {
						t.Errorf("message %x stored as %.20q", k, v)
					}
					return nil
				})
			})
			res, err := db.AppendMessage(ctx, &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "written after the upgrade", SenderID: "V-1"}, parley.AppendOptions{})
			if err != nil || res.Message.Seq != msgs[1].Seq+1 {
				t.Fatalf("append after the upgrade: %+v, %v", res, err)
			}
			if err := db.WaitIndexed(ctx, res.Message.ID); err != nil {
				t.Fatal(err)
			}
			hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "schema"})
			if err != nil || len(hits) != 1 {
				t.Errorf("search after the upgrade: %+v, %v", hits, err)
			}
		})
	}
	// Every released version but 2, which no commit had as its newest.
	for v := 1; v < SchemaVersion(); v++ {
		if v != 2 && !seen[v] {
			t.Errorf("no fixture of schema version %d: run testdata/schema/make", v)
		}
	}
}
