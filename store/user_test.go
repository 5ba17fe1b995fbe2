package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestMeta(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	for _, tt := range []struct {
		name     string
		key      string
		val      []byte // nil: delete
		wantSet  string // error code of SetMeta
		want     []byte
		wantCode string // error code of Meta after SetMeta
	}{
		{"missing", "nothing", nil, "", nil, parley.ENOTFOUND},
		{"set", "setup", []byte("hash1"), "", []byte("hash1"), ""},
		{"overwrite", "setup", []byte("hash2"), "", []byte("hash2"), ""},
		{"empty value", "empty", []byte{}, "", []byte{}, ""},
		{"delete", "setup", nil, "", nil, parley.ENOTFOUND},
		{"delete missing", "never", nil, "", nil, parley.ENOTFOUND},
		{"empty key", "", []byte("x"), parley.EINVALID, nil, parley.ENOTFOUND},
		{"schema version is not a meta key", "schemaVersion", nil, "", nil, parley.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "missing" {
				wantCode(t, db.SetMeta(ctx, tt.key, tt.val), tt.wantSet)
			}
			got, err := db.Meta(ctx, tt.key)
			wantCode(t, err, tt.wantCode)
			if tt.wantCode == "" && (string(got) != string(tt.want) || got == nil) {
				t.Errorf("Meta(%q)=%q, want %q", tt.key, got, tt.want)
			}
		})
	}
	if db.SchemaVersion() != len(migrations()) {
		t.Errorf("schema version changed")
	}

	// The value is the caller's copy, both ways.
	val := []byte("abc")
	if err := db.SetMeta(ctx, "copy", val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X'
	got, _ := db.Meta(ctx, "copy")
	got[1] = 'Y'
	if got, _ := db.Meta(ctx, "copy"); string(got) != "abc" {
		t.Errorf("Meta(copy)=%q, want \"abc\"", got)
	}
}

func TestUsers(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

	created := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tt := range []struct {
		name   string
		user   parley.User
		wantID uint64
		code   string
	}{
		{"first", parley.User{Email: "Ada@Example.com", Name: "Ada", Role: parley.RoleAdmin}, 1, ""},
		{"second", parley.User{Email: "bob@example.com", Name: "Bob", Role: parley.RoleAgent, CreatedAt: created}, 2, ""},
		{"email taken in another case", parley.User{Email: "ADA@example.COM"}, 0, parley.ECONFLICT},
		{"no email", parley.User{Name: "Nobody"}, 0, parley.EINVALID},
		{"third", parley.User{Email: "cy@example.com"}, 3, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			err := db.CreateUser(ctx, &u)
			wantCode(t, err, tt.code)
			if err != nil {
				if u != tt.user {
					t.Errorf("failed CreateUser changed its argument: %+v", u)
				}
				return
			}
			if u.ID != tt.wantID {
				t.Errorf("ID=%d, want %d", u.ID, tt.wantID)
			}
			wantCreated := tt.user.CreatedAt
			if wantCreated.IsZero() {
				wantCreated = clk.Now()
			}
			if !u.CreatedAt.Equal(wantCreated) {
				t.Errorf("CreatedAt=%v, want %v", u.CreatedAt, wantCreated)
			}
			got, err := db.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, u) {
				t.Errorf("User(%d)=%+v, want %+v", u.ID, *got, u)
			}
		})
	}

	for _, tt := range []struct {
		email  string
		wantID uint64
	}{
		{"ada@example.com", 1},
		{"ADA@EXAMPLE.COM", 1},
		{"bob@example.com", 2},
		{"nobody@example.com", 0},
		{"", 0},
	} {
		t.Run("by email "+tt.email, func(t *testing.T) {
			u, err := db.UserByEmail(ctx, tt.email)
			if tt.wantID == 0 {
				wantCode(t, err, parley.ENOTFOUND)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != tt.wantID {
				t.Errorf("UserByEmail(%q).ID=%d, want %d", tt.email, u.ID, tt.wantID)
			}
		})
	}

	_, err := db.User(ctx, 99)
	wantCode(t, err, parley.ENOTFOUND)

	users, err := db.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if want := []uint64{1, 2, 3}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Users ids=%v, want %v", ids, want)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers=%d, %v, want 3", n, err)
	}
}

func TestUpdateUser(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		if err := db.CreateUser(ctx, &parley.User{Email: email}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		name      string
		id        uint64
		fn        func(u *parley.User) error
		code      string
		wantEmail string // of user id afterwards
	}{
		{"change name", 1, func(u *parley.User) error { u.Name = "Ada L."; return nil }, "", "ada@example.com"},
		{"change email case", 1, func(u *parley.User) error { u.Email = "Ada@Example.com"; return nil }, "", "Ada@Example.com"},
		{"take another's email", 1, func(u *parley.User) error { u.Email = "BOB@example.com"; return nil }, parley.ECONFLICT, "Ada@Example.com"},
		{"clear email", 1, func(u *parley.User) error { u.Email = ""; return nil }, parley.EINVALID, "Ada@Example.com"},
		{"fn error aborts", 1, func(u *parley.User) error { u.Name = "changed"; return errTest }, parley.EINTERNAL, "Ada@Example.com"},
		{"change email", 1, func(u *parley.User) error { u.Email = "ada@new.example"; return nil }, "", "ada@new.example"},
		{"id change undone", 2, func(u *parley.User) error { u.ID = 1; u.Away = true; return nil }, "", "bob@example.com"},
		{"missing", 9, func(u *parley.User) error { return nil }, parley.ENOTFOUND, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := db.User(ctx, tt.id)
			got, err := db.UpdateUser(ctx, tt.id, tt.fn)
			wantCode(t, err, tt.code)
			if tt.name == "fn error aborts" && !errors.Is(err, errTest) {
				t.Errorf("error=%v, want fn's error as it is", err)
			}
			if tt.code == parley.ENOTFOUND {
				return
			}
			stored, err := db.User(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Email != tt.wantEmail {
				t.Errorf("email=%q, want %q", stored.Email, tt.wantEmail)
			}
			if tt.code != "" {
				if !reflect.DeepEqual(stored, before) {
					t.Errorf("failed update wrote %+v, want %+v", stored, before)
				}
				return
			}
			if !reflect.DeepEqual(got, stored) {
				t.Errorf("UpdateUser returned %+v, stored %+v", got, stored)
			}
			if byEmail, err := db.UserByEmail(ctx, tt.wantEmail); err != nil || byEmail.ID != tt.id {
				t.Errorf("UserByEmail(%q)=%v, %v, want user %d", tt.wantEmail, byEmail, err, tt.id)
			}
		})
	}

	// The old email of user 1 is free again.
	if _, err := db.UserByEmail(ctx, "ada@example.com"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("UserByEmail(old email) error=%v, want ENOTFOUND", err)
	}
	if err := db.CreateUser(ctx, &parley.User{Email: "ada@example.com"}); err != nil {
		t.Errorf("CreateUser with a freed email: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

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

// TestClaimMeta: of many concurrent claims of one meta value, exactly one
// creates its user (a member of every inbox) and uses the value up; the
// others, a wrong value and a claim after it is gone create nothing.
func TestClaimMeta(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	in := &parley.Inbox{Name: "Support"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta(ctx, "setup", []byte("hash")); err != nil {
		t.Fatal(err)
	}
	u := &parley.User{Email: "wrong@example.com", Role: parley.RoleAdmin}
	if err := db.ClaimMeta(ctx, "setup", []byte("other"), u, true); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("wrong value: err=%v, want ENOTFOUND", err)
	}
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() {
			u := &parley.User{Email: fmt.Sprintf("admin%d@example.com", i), Role: parley.RoleAdmin}
			errs <- db.ClaimMeta(ctx, "setup", []byte("hash"), u, true)
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; parley.ErrorCode(err) {
		case "":
			won++
		case parley.ENOTFOUND:
		default:
			t.Errorf("claim: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims succeeded, want 1", won)
	}
	if got, _ := db.CountUsers(ctx); got != 1 {
		t.Fatalf("users=%d, want 1", got)
	}
	users, _ := db.Users(ctx)
	if in, _ = db.Inbox(ctx, in.ID); !in.HasMember(users[0].ID) {
		t.Fatalf("inbox members %v lack the new user %d", in.MemberIDs, users[0].ID)
	}
	if _, err := db.Meta(ctx, "setup"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("meta after the claim: err=%v, want ENOTFOUND", err)
	}
}
