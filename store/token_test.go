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

func TestTokens(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	admin := &parley.User{Email: "a@example.com", Role: parley.RoleAdmin}
	other := &parley.User{Email: "b@example.com", Role: parley.RoleAdmin}
	for _, u := range []*parley.User{admin, other} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	all := parley.RoleScopes(parley.RoleAdmin)
	mk := func(hash string, user uint64, kind string, scopes parley.Scopes) *parley.Session {
		t.Helper()
		s := &parley.Session{Hash: hash, UserID: user, Kind: kind, Name: hash, Scopes: scopes}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	cookie := mk("c1", admin.ID, parley.SessionCookie, nil)
	t1 := mk("t1", admin.ID, parley.SessionToken, all)
	t2 := mk("t2", other.ID, parley.SessionToken, all)
	t3 := mk("t3", admin.ID, parley.SessionToken, parley.Scopes{parley.ScopeRead})
	if cookie.ID != 0 || t1.ID != 1 || t2.ID != 2 || t3.ID != 3 {
		t.Fatalf("ids: cookie %d, tokens %d %d %d; want 0, 1 2 3", cookie.ID, t1.ID, t2.ID, t3.ID)
	}
	wantCode(t, db.CreateSession(ctx, &parley.Session{Hash: "t1", Kind: parley.SessionToken}), parley.ECONFLICT)
	wantCode(t, db.CreateSession(ctx, &parley.Session{Kind: parley.SessionToken}), parley.EINVALID)

	list := func(user uint64) string {
		t.Helper()
		ts, err := db.Tokens(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return tokenSummary(ts)
	}
	if got, want := list(0), "[1:1:t1:[read write admin] 2:2:t2:[read write admin] 3:1:t3:[read]]"; got != want {
		t.Errorf("all tokens=%s, want %s", got, want)
	}
	if got, want := list(admin.ID), "[1:1:t1:[read write admin] 3:1:t3:[read]]"; got != want {
		t.Errorf("admin's tokens=%s, want %s", got, want)
	}
	if s, err := db.Token(ctx, 2); err != nil || s.Hash != "t2" || !s.LastUsedAt.IsZero() {
		t.Errorf("Token(2)=%+v, %v", s, err)
	}
	used := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{used, used.Add(-time.Minute)} { // never backwards
		if err := db.TouchToken(ctx, "t2", at); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := db.Token(ctx, 2); err != nil || !s.LastUsedAt.Equal(used) {
		t.Errorf("LastUsedAt=%v, %v; want %v", s.LastUsedAt, err, used)
	}
	if err := db.TouchToken(ctx, "c1", used); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Session(ctx, "c1"); !s.LastUsedAt.IsZero() {
		t.Errorf("a console session got LastUsedAt %v", s.LastUsedAt)
	}
	_, err := db.Token(ctx, 99)
	wantCode(t, err, parley.ENOTFOUND)

	// Revoked by id: gone from both buckets; the hash it returns closes sockets.
	s, err := db.DeleteToken(ctx, 2)
	if err != nil || s.Hash != "t2" {
		t.Fatalf("DeleteToken(2)=%+v, %v", s, err)
	}
	_, err = db.Session(ctx, "t2")
	wantCode(t, err, parley.ENOTFOUND)
	_, err = db.DeleteToken(ctx, 2)
	wantCode(t, err, parley.ENOTFOUND)
	if err := db.TouchToken(ctx, "t2", used.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = db.Session(ctx, "t2")
	wantCode(t, err, parley.ENOTFOUND) // touching does not bring it back
	// Signed out by hash: its id goes too.
	if err := db.DeleteSession(ctx, "t3"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Token(ctx, 3)
	wantCode(t, err, parley.ENOTFOUND)
	if got, want := list(0), "[1:1:t1:[read write admin]]"; got != want {
		t.Errorf("tokens after deletes=%s, want %s", got, want)
	}

	// Demoting drops the admin scope for good; deactivating deletes all.
	mk("t4", other.ID, parley.SessionToken, all)
	if _, err := db.UpdateUserAccess(ctx, admin.ID, func(u *parley.User) error { u.Role = parley.RoleAgent; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUserAccess(ctx, admin.ID, func(u *parley.User) error { u.Role = parley.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := list(0), "[1:1:t1:[read write] 4:2:t4:[read write admin]]"; got != want {
		t.Errorf("tokens after demotion=%s, want %s", got, want)
	}
	if _, err := db.UpdateUserAccess(ctx, other.ID, func(u *parley.User) error { u.Deactivated = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := list(0), "[1:1:t1:[read write]]"; got != want {
		t.Errorf("tokens after deactivation=%s, want %s", got, want)
	}
	if s := mk("t5", admin.ID, parley.SessionToken, all); s.ID != 5 {
		t.Errorf("a new token after deletes got id %d, want 5 (ids are never reused)", s.ID)
	}
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
