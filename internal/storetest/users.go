package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunMeta: values under keys, a nil value deletes, an empty key is
// EINVALID, and values are copies both ways.
func RunMeta(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
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

// RunClaimMeta: of many concurrent claims of one meta value, exactly one
// creates its user (a member of every inbox) and uses the value up; the
// others, a wrong value and a claim after it is gone create nothing.
func RunClaimMeta(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	in := &parley.Inbox{Name: "Support"}
	other := &parley.Inbox{Name: "Sales", MemberIDs: []uint64{7}}
	for _, in := range []*parley.Inbox{in, other} {
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetMeta(ctx, "setup", []byte("hash")); err != nil {
		t.Fatal(err)
	}
	u := &parley.User{Email: "wrong@example.com", Role: parley.RoleAdmin}
	if err := db.ClaimMeta(ctx, "setup", []byte("other"), u, true); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("wrong value: err=%v, want ENOTFOUND", err)
	}
	if err := db.ClaimMeta(ctx, "setup", nil, u, true); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("no value: err=%v, want ENOTFOUND", err)
	}
	wantCode(t, db.ClaimMeta(ctx, "", []byte("hash"), u, true), parley.EINVALID)
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
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("users=%v, %v, want 1", users, err)
	}
	for _, id := range []uint64{in.ID, other.ID} {
		if in, _ := db.Inbox(ctx, id); !in.HasMember(users[0].ID) {
			t.Fatalf("inbox %d members %v lack the new user %d", id, in.MemberIDs, users[0].ID)
		}
	}
	if _, err := db.Meta(ctx, "setup"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("meta after the claim: err=%v, want ENOTFOUND", err)
	}

	// A claim whose email is taken writes nothing: the value stays.
	if err := db.SetMeta(ctx, "again", []byte("h")); err != nil {
		t.Fatal(err)
	}
	taken := &parley.User{Email: strings.ToUpper(users[0].Email)}
	wantCode(t, db.ClaimMeta(ctx, "again", []byte("h"), taken, false), parley.ECONFLICT)
	if got, err := db.Meta(ctx, "again"); err != nil || string(got) != "h" {
		t.Errorf("meta after a failed claim=%q, %v, want \"h\"", got, err)
	}
	if users, _ := db.Users(ctx); len(users) != 1 {
		t.Errorf("users after a failed claim=%d, want 1", len(users))
	}
}

// RunUsers: ids in order, CreatedAt defaults, emails unique in any case,
// lookups by email, a failed create leaves its argument alone.
func RunUsers(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)

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
			shared, err := db.SharedUser(ctx, u.ID)
			if err != nil || !reflect.DeepEqual(*shared, u) {
				t.Errorf("SharedUser(%d)=%+v, %v, want %+v", u.ID, shared, err, u)
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
	_, err = db.SharedUser(ctx, 99)
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
	// What a read returns is the caller's.
	users[0].Name = "changed"
	if u, _ := db.User(ctx, 1); u.Name != "Ada" {
		t.Errorf("a change to a returned user reached the store: %q", u.Name)
	}
}

// RunUpdateUser: fn's changes are written, or nothing is; emails stay
// unique and their index follows; the ID cannot change.
func RunUpdateUser(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
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

// RunUpdateUserAccess: the last active admin stays, a deactivated user
// loses their sessions and tokens.
func RunUpdateUserAccess(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	ann := &parley.User{Email: "ann@example.com", Name: "Ann", Role: parley.RoleAdmin}
	bob := &parley.User{Email: "bob@example.com", Name: "Bob", Role: parley.RoleAgent}
	cy := &parley.User{Email: "cy@example.com", Name: "Cy", Role: parley.RoleAdmin, Deactivated: true}
	for _, u := range []*parley.User{ann, bob, cy} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	sessions := map[string]uint64{"a1": ann.ID, "b1": bob.ID, "b2": bob.ID, "c1": cy.ID}
	for hash, uid := range sessions {
		if err := db.CreateSession(ctx, &parley.Session{Hash: hash, UserID: uid, Kind: parley.SessionToken}); err != nil {
			t.Fatal(err)
		}
	}
	set := func(f func(u *parley.User)) func(u *parley.User) error {
		return func(u *parley.User) error { f(u); return nil }
	}
	for _, tt := range []struct {
		name     string
		id       uint64
		fn       func(*parley.User) error
		code     string
		sessions []string // left afterwards
	}{
		{"demote the last admin", ann.ID, set(func(u *parley.User) { u.Role = parley.RoleAgent }), parley.ECONFLICT, []string{"a1", "b1", "b2", "c1"}},
		{"deactivate the last admin", ann.ID, set(func(u *parley.User) { u.Deactivated = true }), parley.ECONFLICT, []string{"a1", "b1", "b2", "c1"}},
		{"rename the last admin", ann.ID, set(func(u *parley.User) { u.Name = "Ann A." }), "", []string{"a1", "b1", "b2", "c1"}},
		{"seat", bob.ID, set(func(u *parley.User) { u.RoutingSeat = true }), "", []string{"a1", "b1", "b2", "c1"}},
		{"deactivate an agent ends their sessions", bob.ID, set(func(u *parley.User) { u.Deactivated = true }), "", []string{"a1", "c1"}},
		{"promote a deactivated user: still not an active admin", cy.ID, set(func(u *parley.User) { u.Role = parley.RoleAdmin }), "", []string{"a1", "c1"}},
		{"reactivate an admin", cy.ID, set(func(u *parley.User) { u.Deactivated = false }), "", []string{"a1", "c1"}},
		{"now the first admin may step down", ann.ID, set(func(u *parley.User) { u.Role = parley.RoleAgent }), "", []string{"a1", "c1"}},
		{"fn error", ann.ID, func(u *parley.User) error { u.Deactivated = true; return parley.Errorf(parley.EINVALID, "no") }, parley.EINVALID, []string{"a1", "c1"}},
		{"missing", 99, set(func(*parley.User) {}), parley.ENOTFOUND, []string{"a1", "c1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UpdateUserAccess(ctx, tt.id, tt.fn)
			wantCode(t, err, tt.code)
			var left []string
			for hash := range sessions {
				if _, err := db.Session(ctx, hash); err == nil {
					left = append(left, hash)
				}
			}
			slices.Sort(left)
			if !slices.Equal(left, tt.sessions) {
				t.Errorf("sessions=%v, want %v", left, tt.sessions)
			}
		})
	}
	for _, want := range []parley.User{
		{ID: ann.ID, Name: "Ann A.", Role: parley.RoleAgent},
		{ID: bob.ID, Name: "Bob", Role: parley.RoleAgent, RoutingSeat: true, Deactivated: true},
		{ID: cy.ID, Name: "Cy", Role: parley.RoleAdmin},
	} {
		got, _ := db.User(ctx, want.ID)
		if got.Name != want.Name || got.Role != want.Role || got.RoutingSeat != want.RoutingSeat || got.Deactivated != want.Deactivated {
			t.Errorf("user %d=%+v, want %+v", want.ID, got, want)
		}
	}
}
