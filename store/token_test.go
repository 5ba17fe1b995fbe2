package store

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// tokenSummary lists tokens as "id:user:name:scopes" for comparison.
func tokenSummary(ts []*parley.Session) string {
	var out []string
	for _, s := range ts {
		out = append(out, fmt.Sprintf("%d:%d:%s:%v", s.ID, s.UserID, s.Name, s.Scopes))
	}
	return fmt.Sprint(out)
}

// TestMigrateTokens opens a file of schema version 4 with tokens made before
// they had ids and scopes: each gets an id in the order they were made and
// the scopes of its user's role; console sessions get neither.
func TestMigrateTokens(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := migrate(bdb, migrations()[:4]); err != nil || v != 4 {
		t.Fatalf("migrate to 4: %d, %v", v, err)
	}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	users := []parley.User{{ID: 1, Email: "a@example.com", Role: parley.RoleAdmin}, {ID: 2, Email: "b@example.com", Role: parley.RoleAgent}}
	old := []parley.Session{
		{Hash: "aaa", UserID: 2, Kind: parley.SessionToken, Name: "later", CreatedAt: t0.Add(time.Hour)},
		{Hash: "bbb", UserID: 1, Kind: parley.SessionToken, Name: "first", CreatedAt: t0},
		{Hash: "ccc", UserID: 1, Kind: parley.SessionCookie, CreatedAt: t0, ExpiresAt: t0.Add(24000 * time.Hour)},
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, u := range users {
			if err := putJSON(bucket(tx, bucketUsers), itob(u.ID), u); err != nil {
				return err
			}
		}
		for _, s := range old {
			data, _ := json.Marshal(s)
			if err := bucket(tx, bucketSessions).Put([]byte(s.Hash), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db := MustOpenDir(t, dir, nil)
	ts, err := db.Tokens(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokenSummary(ts), "[1:1:first:[read write admin] 2:2:later:[read write]]"; got != want {
		t.Errorf("tokens after the migration=%s, want %s", got, want)
	}
	if s, err := db.Session(t.Context(), "ccc"); err != nil || s.ID != 0 || s.Scopes != nil {
		t.Errorf("console session after the migration=%+v, %v", s, err)
	}
}
