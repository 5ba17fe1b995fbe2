package store

import (
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
)

func TestContacts(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)

	for _, tt := range []struct {
		name    string
		contact parley.Contact
		wantID  uint64
		code    string
	}{
		{"visitor without email", parley.Contact{}, 1, ""},
		{"another without email", parley.Contact{FirstName: "Anon"}, 2, ""},
		{"with email", parley.Contact{Email: "Eve@Example.com", FirstName: "Eve"}, 3, ""},
		{"email taken in another case", parley.Contact{Email: "eve@example.COM"}, 0, parley.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.contact
			err := db.CreateContact(ctx, &c)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			if c.ID != tt.wantID || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
				t.Errorf("created %+v, want ID %d and both times set", c, tt.wantID)
			}
			got, err := db.Contact(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c) {
				t.Errorf("Contact(%d)=%+v, want %+v", c.ID, *got, c)
			}
		})
	}
	_, err := db.Contact(ctx, 99)
	wantCode(t, err, parley.ENOTFOUND)

	for _, tt := range []struct {
		name   string
		id     uint64
		email  string
		code   string
		byMail map[string]uint64 // email → contact id afterwards, 0: none
	}{
		{"add email", 1, "one@example.com", "", map[string]uint64{"ONE@example.com": 1, "eve@example.com": 3}},
		{"take another's email", 2, "EVE@example.com", parley.ECONFLICT, map[string]uint64{"eve@example.com": 3}},
		{"change email", 1, "uno@example.com", "", map[string]uint64{"uno@example.com": 1, "one@example.com": 0}},
		{"remove email", 3, "", "", map[string]uint64{"eve@example.com": 0, "": 0}},
		{"reuse freed email", 2, "eve@example.com", "", map[string]uint64{"eve@example.com": 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UpdateContact(ctx, tt.id, func(c *parley.Contact) error { c.Email = tt.email; return nil })
			wantCode(t, err, tt.code)
			for email, want := range tt.byMail {
				c, err := db.ContactByEmail(ctx, email)
				if want == 0 {
					wantCode(t, err, parley.ENOTFOUND)
					continue
				}
				if err != nil || c.ID != want {
					t.Errorf("ContactByEmail(%q)=%+v, %v, want contact %d", email, c, err, want)
				}
			}
		})
	}
	_, err = db.UpdateContact(ctx, 99, func(*parley.Contact) error { return nil })
	wantCode(t, err, parley.ENOTFOUND)
}

func TestVisitors(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)

	v := &parley.Visitor{Hash: "abc", ContactID: 4}
	if err := db.CreateVisitor(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.CreatedAt.IsZero() {
		t.Error("CreatedAt not set")
	}
	for _, tt := range []struct {
		name    string
		visitor parley.Visitor
		code    string
	}{
		{"same hash", parley.Visitor{Hash: "abc", ContactID: 5}, parley.ECONFLICT},
		{"no hash", parley.Visitor{ContactID: 5}, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, db.CreateVisitor(ctx, &tt.visitor), tt.code)
		})
	}

	got, err := db.Visitor(ctx, "abc")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("Visitor(abc)=%+v, want %+v", got, v)
	}
	for _, hash := range []string{"zzz", ""} {
		_, err := db.Visitor(ctx, hash)
		wantCode(t, err, parley.ENOTFOUND)
	}
}
