package parley_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// AuditDiff names changed fields with their values, never a secret's
// value (at any depth), and leaves out what only looks different.
func TestAuditDiff(t *testing.T) {
	conn := func(pw string) *parley.Inbox {
		return &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{ID: 2, Address: "help@example.com",
			Connection: &parley.MailConnection{IMAP: parley.MailServer{Host: "imap.example.com", Password: pw}}}}}
	}
	tests := []struct {
		name     string
		old, new any
		want     string // field:old>new or field:secret, space separated
	}{
		{"a field", &parley.User{Name: "Ada"}, &parley.User{Name: "Ada L."}, `name:"Ada">"Ada L."`},
		{"created", nil, &parley.User{Email: "a@example.com", PasswordHash: "$argon2id$x"}, `email:>"a@example.com" passwordHash:secret`},
		{"stamps are no change", &parley.User{ID: 1}, &parley.User{ID: 2}, ``},
		{"null and [] are the same", &parley.Widget{}, &parley.Widget{Targeting: parley.Targeting{Rules: []parley.TargetRule{}}}, ``},
		{"a secret deep inside", conn("old-pw"), conn("new-pw"), `mailboxes:secret`},
		{"a change beside a secret", conn("pw-1"), func() *parley.Inbox { in := conn("pw-1"); in.Mailboxes[0].Address = "desk@example.com"; return in }(),
			`mailboxes:[{"address":"help@example.com","connection":{"imap":{"host":"imap.example.com"}},"id":2}]>[{"address":"desk@example.com","connection":{"imap":{"host":"imap.example.com"}},"id":2}]`},
		{"too long to show", &parley.Inbox{Signature: "a"}, &parley.Inbox{Signature: strings.Repeat("b", 3000)}, `signature:>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range parley.AuditDiff(tc.old, tc.new) {
				if c.Secret {
					got = append(got, c.Field+":secret")
				} else {
					got = append(got, c.Field+":"+string(c.Old)+">"+string(c.New))
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("changes=%s, want %s", g, tc.want)
			}
			b, _ := json.Marshal(parley.AuditDiff(tc.old, tc.new))
			for _, s := range []string{"pw", "argon2"} {
				if strings.Contains(string(b), s) {
					t.Errorf("the changes show a secret: %s", b)
				}
			}
		})
	}
}
