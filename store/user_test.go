package store

import (
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
