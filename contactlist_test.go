package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func crit(prop, op, value string) parley.ListCriterion {
	return parley.ListCriterion{Property: prop, Op: op, Value: value}
}

func TestContactListMatches(t *testing.T) {
	ada := &parley.Contact{ID: 1, Email: "Ada@Example.COM", FirstName: "Ada", LastName: "Lovelace", OwnerID: 7,
		Properties: map[string]string{"plan": "Pro", "city": "London"}}
	anon := &parley.Contact{ID: 2}
	tests := []struct {
		name  string
		match string
		crit  []parley.ListCriterion
		c     *parley.Contact
		want  bool
	}{
		{"nil contact", "all", []parley.ListCriterion{crit("email", "isUnknown", "")}, nil, false},
		{"no criteria", "all", nil, ada, false},

		{"email is, any case", "all", []parley.ListCriterion{crit("email", "is", "ada@example.com")}, ada, true},
		{"email is other", "all", []parley.ListCriterion{crit("email", "is", "bob@example.com")}, ada, false},
		{"email isNot", "all", []parley.ListCriterion{crit("email", "isNot", "bob@example.com")}, ada, true},
		{"email isNot unknown", "all", []parley.ListCriterion{crit("email", "isNot", "bob@example.com")}, anon, true},
		{"email isKnown", "all", []parley.ListCriterion{crit("email", "isKnown", "")}, ada, true},
		{"email isKnown anon", "all", []parley.ListCriterion{crit("email", "isKnown", "")}, anon, false},
		{"email isUnknown anon", "all", []parley.ListCriterion{crit("email", "isUnknown", "")}, anon, true},
		{"email endsWith", "all", []parley.ListCriterion{crit("email", "endsWith", "@example.com")}, ada, true},

		{"domain is", "all", []parley.ListCriterion{crit("emailDomain", "is", "example.com")}, ada, true},
		{"domain is, sub-domain", "all", []parley.ListCriterion{crit("emailDomain", "is", "mail.example.com")}, ada, false},
		{"domain is not a suffix match", "all", []parley.ListCriterion{crit("emailDomain", "is", "ample.com")}, ada, false},
		{"domain endsWith", "all", []parley.ListCriterion{crit("emailDomain", "endsWith", ".COM")}, ada, true},
		{"domain isUnknown without email", "all", []parley.ListCriterion{crit("emailDomain", "isUnknown", "")}, anon, true},
		{"domain contains on unknown", "all", []parley.ListCriterion{crit("emailDomain", "contains", "example")}, anon, false},
		{"domain notContains on unknown", "all", []parley.ListCriterion{crit("emailDomain", "notContains", "example")}, anon, true},

		{"first name contains", "all", []parley.ListCriterion{crit("firstName", "contains", "d")}, ada, true},
		{"first name startsWith", "all", []parley.ListCriterion{crit("firstName", "startsWith", "ad")}, ada, true},
		{"first name startsWith no", "all", []parley.ListCriterion{crit("firstName", "startsWith", "da")}, ada, false},
		{"last name notContains", "all", []parley.ListCriterion{crit("lastName", "notContains", "love")}, ada, false},
		{"last name is with spaces", "all", []parley.ListCriterion{crit("lastName", "is", " lovelace ")}, ada, true},

		{"owner is", "all", []parley.ListCriterion{crit("owner", "is", "7")}, ada, true},
		{"owner is actor id", "all", []parley.ListCriterion{crit("owner", "is", "A-7")}, ada, true},
		{"owner is other", "all", []parley.ListCriterion{crit("owner", "is", "8")}, ada, false},
		{"owner isNot", "all", []parley.ListCriterion{crit("owner", "isNot", "8")}, ada, true},
		{"owner isUnknown", "all", []parley.ListCriterion{crit("owner", "isUnknown", "")}, anon, true},
		{"owner isKnown", "all", []parley.ListCriterion{crit("owner", "isKnown", "")}, ada, true},

		{"custom is", "all", []parley.ListCriterion{crit("plan", "is", "pro")}, ada, true},
		{"custom unknown property", "all", []parley.ListCriterion{crit("tier", "is", "pro")}, ada, false},
		{"custom isUnknown", "all", []parley.ListCriterion{crit("tier", "isUnknown", "")}, ada, true},
		{"custom on contact without properties", "all", []parley.ListCriterion{crit("plan", "isKnown", "")}, anon, false},

		{"all: both hold", "all", []parley.ListCriterion{crit("plan", "is", "pro"), crit("city", "is", "london")}, ada, true},
		{"all: one fails", "all", []parley.ListCriterion{crit("plan", "is", "pro"), crit("city", "is", "paris")}, ada, false},
		{"any: one holds", "any", []parley.ListCriterion{crit("plan", "is", "free"), crit("city", "is", "london")}, ada, true},
		{"any: none holds", "any", []parley.ListCriterion{crit("plan", "is", "free"), crit("city", "is", "paris")}, ada, false},
		{"unknown op", "all", []parley.ListCriterion{crit("email", "matches", ".*")}, ada, false},
		{"unicode folding", "all", []parley.ListCriterion{crit("city", "is", "LONDON")}, &parley.Contact{Properties: map[string]string{"city": "london"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &parley.ContactList{Name: "L", Match: tt.match, Criteria: tt.crit}
			if got := l.Matches(tt.c); got != tt.want {
				t.Errorf("Matches=%v, want %v", got, tt.want)
			}
		})
	}
}

func TestInAudience(t *testing.T) {
	known := &parley.Contact{ID: 1, Email: "ada@vip.example"}
	unnamed := &parley.Contact{ID: 2} // linked, but never left an email
	other := &parley.Contact{ID: 3, Email: "bob@other.example"}
	vip := &parley.ContactList{ID: 5, Name: "VIP", Match: "all", Criteria: []parley.ListCriterion{crit("emailDomain", "is", "vip.example")}}
	tests := []struct {
		name string
		a    parley.Audience
		c    *parley.Contact
		list *parley.ContactList
		want bool
	}{
		{"zero is everyone, anonymous", parley.Audience{}, nil, nil, true},
		{"everyone, known", parley.Audience{Mode: "everyone"}, known, nil, true},
		{"anonymous, nil contact", parley.Audience{Mode: "anonymous"}, nil, nil, true},
		{"anonymous, contact without email", parley.Audience{Mode: "anonymous"}, unnamed, nil, true},
		{"anonymous, known", parley.Audience{Mode: "anonymous"}, known, nil, false},
		{"known, known", parley.Audience{Mode: "known"}, known, nil, true},
		{"known, nil contact", parley.Audience{Mode: "known"}, nil, nil, false},
		{"known, contact without email", parley.Audience{Mode: "known"}, unnamed, nil, false},
		{"list, member", parley.Audience{Mode: "list", ListID: 5}, known, vip, true},
		{"list, not a member", parley.Audience{Mode: "list", ListID: 5}, other, vip, false},
		{"list, anonymous", parley.Audience{Mode: "list", ListID: 5}, nil, vip, false},
		{"list, missing list", parley.Audience{Mode: "list", ListID: 5}, known, nil, false},
		{"notList, member", parley.Audience{Mode: "notList", ListID: 5}, known, vip, false},
		{"notList, not a member", parley.Audience{Mode: "notList", ListID: 5}, other, vip, true},
		{"notList, anonymous", parley.Audience{Mode: "notList", ListID: 5}, nil, vip, true},
		{"unknown mode", parley.Audience{Mode: "friends"}, known, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parley.InAudience(tt.a, tt.c, tt.list); got != tt.want {
				t.Errorf("InAudience=%v, want %v", got, tt.want)
			}
		})
	}
}

func TestContactListValidate(t *testing.T) {
	tests := []struct {
		name string
		l    parley.ContactList
		want string
	}{
		{"valid", parley.ContactList{Name: "VIP", Match: "any", Criteria: []parley.ListCriterion{crit("emailDomain", "is", "vip.example"), crit("plan", "isKnown", "")}}, ""},
		{"no name", parley.ContactList{Name: "", Match: "all", Criteria: []parley.ListCriterion{crit("email", "isKnown", "")}}, "name is required"},
		{"long name", parley.ContactList{Name: strings.Repeat("n", 257), Match: "all", Criteria: []parley.ListCriterion{crit("email", "isKnown", "")}}, "name is longer than 256 bytes"},
		{"bad match", parley.ContactList{Name: "L", Match: "some", Criteria: []parley.ListCriterion{crit("email", "isKnown", "")}}, "match must be all or any"},
		{"no criteria", parley.ContactList{Name: "L", Match: "all"}, "criteria: a list needs at least one criterion"},
		{"bad property", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("1plan", "isKnown", "")}}, "criteria[0].property must be"},
		{"bad op", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("email", "regex", "x")}}, "criteria[0].op must be"},
		{"value missing", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("email", "isKnown", ""), crit("email", "contains", " ")}}, "criteria[1].value is required"},
		{"value for isKnown", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("email", "isKnown", "x")}}, "criteria[0].value must be empty"},
		{"value too long", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("email", "is", strings.Repeat("v", 1001))}}, "criteria[0].value is longer than 1000 bytes"},
		{"owner not an id", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("owner", "is", "Ada")}}, "criteria[0].value must be a user id"},
		{"owner actor id", parley.ContactList{Name: "L", Match: "all", Criteria: []parley.ListCriterion{crit("owner", "is", "A-3")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Fatalf("err=%v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateProperties(t *testing.T) {
	many := map[string]string{}
	for i := range 51 {
		many["p"+strings.Repeat("x", i)] = "v"
	}
	tests := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"nil", nil, ""},
		{"valid", map[string]string{"plan": "pro", "Last_seen2": "", "a": strings.Repeat("v", 1000)}, ""},
		{"digit first", map[string]string{"2fa": "on"}, `name "2fa" must be a letter`},
		{"dash", map[string]string{"sign-up": "x"}, `name "sign-up"`},
		{"too long a name", map[string]string{"a" + strings.Repeat("b", 64): "x"}, "must be a letter"},
		{"reserved", map[string]string{"email": "x"}, "properties.email: the name is reserved"},
		{"value too long", map[string]string{"plan": strings.Repeat("v", 1001)}, "properties.plan is longer than 1000 bytes"},
		{"control char", map[string]string{"plan": "a\x07"}, "properties.plan contains control character U+0007"},
		{"too many", many, "at most 50 custom properties"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateProperties(tt.props)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Fatalf("err=%v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

// FuzzContactListMatches checks that Matches never panics and keeps its
// algebra: isNot is the complement of is and notContains of contains,
// isKnown of isUnknown, and a one-criterion list matches the same under all
// and any.
func FuzzContactListMatches(f *testing.F) {
	seeds := []struct{ prop, op, value, email, first, custom string }{
		{"email", "is", "a@b.example", "A@B.example", "", ""},
		{"emailDomain", "endsWith", ".example", "x@@y.example", "", ""},
		{"emailDomain", "isUnknown", "", "no-at-sign", "", ""},
		{"firstName", "contains", "İ", "", "i̇stanbul", ""},
		{"owner", "is", "A-7", "", "", ""},
		{"plan", "startsWith", "\xff", "", "", "\xffpro"},
		{"plan", "notContains", "", "", "", ""},
		{"", "", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.prop, s.op, s.value, s.email, s.first, s.custom, uint64(7))
	}
	f.Fuzz(func(t *testing.T, prop, op, value, email, first, custom string, owner uint64) {
		c := &parley.Contact{Email: email, FirstName: first, OwnerID: owner, Properties: map[string]string{prop: custom}}
		one := func(op string) bool {
			return (&parley.ContactList{Match: "all", Criteria: []parley.ListCriterion{crit(prop, op, value)}}).Matches(c)
		}
		got := one(op)
		if any := (&parley.ContactList{Match: "any", Criteria: []parley.ListCriterion{crit(prop, op, value)}}).Matches(c); any != got {
			t.Errorf("all=%v any=%v for one criterion %s %s %q", got, any, prop, op, value)
		}
		for a, b := range map[string]string{"is": "isNot", "contains": "notContains", "isKnown": "isUnknown"} {
			if one(a) == one(b) {
				t.Errorf("%s and %s agree on %s %q for %+v", a, b, prop, value, c)
			}
		}
		_ = (&parley.ContactList{Name: "x", Match: "all", Criteria: []parley.ListCriterion{crit(prop, op, value)}}).Validate()
		_ = parley.InAudience(parley.Audience{Mode: "notList"}, c, &parley.ContactList{Match: "any", Criteria: []parley.ListCriterion{crit(prop, op, value)}})
	})
}
