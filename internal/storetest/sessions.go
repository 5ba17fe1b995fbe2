package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunSessions: sessions by hash, expiry by the store's clock, deletion that
// forgives what is missing.
func RunSessions(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)

	cookie := &parley.Session{Hash: "h1", UserID: 1, Kind: parley.SessionCookie, ExpiresAt: clk.Now().Add(time.Hour)}
	token := &parley.Session{Hash: "h2", UserID: 1, Kind: parley.SessionToken, Name: "ci"}
	for _, s := range []*parley.Session{cookie, token} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if !s.CreatedAt.Equal(clk.Now()) {
			t.Errorf("CreatedAt=%v, want %v", s.CreatedAt, clk.Now())
		}
	}
	wantCode(t, db.CreateSession(ctx, &parley.Session{Hash: "h1"}), parley.ECONFLICT)
	wantCode(t, db.CreateSession(ctx, &parley.Session{}), parley.EINVALID)

	check := func(t *testing.T, hash string, want *parley.Session) {
		t.Helper()
		got, err := db.Session(ctx, hash)
		if want == nil {
			wantCode(t, err, parley.ENOTFOUND)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Session(%s)=%+v, want %+v", hash, got, want)
		}
	}
	t.Run("valid", func(t *testing.T) {
		check(t, "h1", cookie)
		check(t, "h2", token)
		check(t, "nope", nil)
		check(t, "", nil)
	})
	t.Run("expired", func(t *testing.T) {
		clk.Add(time.Hour)
		check(t, "h1", nil)
		check(t, "h2", token)
	})
	t.Run("delete", func(t *testing.T) {
		for _, hash := range []string{"h2", "h2", "missing", ""} {
			if err := db.DeleteSession(ctx, hash); err != nil {
				t.Errorf("DeleteSession(%q): %v", hash, err)
			}
		}
		check(t, "h2", nil)
	})
}

// tokenSummary lists tokens as "id:user:name:scopes" for comparison.
func tokenSummary(ts []*parley.Session) string {
	var out []string
	for _, s := range ts {
		out = append(out, fmt.Sprintf("%d:%d:%s:%v", s.ID, s.UserID, s.Name, s.Scopes))
	}
	return fmt.Sprint(out)
}

// RunTokens: API tokens get ids that are never reused, are listed oldest
// first, touched forwards only, revoked by id or hash, and lose the admin
// scope with their user's.
func RunTokens(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
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
	_, err = db.Token(ctx, 0)
	wantCode(t, err, parley.ENOTFOUND)

	// Revoked by id: gone for good; the hash it returns closes sockets.
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
	// A token with only the admin scope goes when its user is demoted.
	if err := db.CreateUser(ctx, &parley.User{Email: "c@example.com", Role: parley.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	mk("t6", admin.ID, parley.SessionToken, parley.Scopes{parley.ScopeAdmin})
	if _, err := db.UpdateUserAccess(ctx, admin.ID, func(u *parley.User) error { u.Role = parley.RoleAgent; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := list(admin.ID), "[1:1:t1:[read write] 5:1:t5:[read write]]"; got != want {
		t.Errorf("tokens after a second demotion=%s, want %s", got, want)
	}
}
