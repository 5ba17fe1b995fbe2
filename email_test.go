package parley_test

import (
	"testing"

	"github.com/parley-chat/parley"
)

func TestIsRoleAddress(t *testing.T) {
	tests := []struct {
		name  string
		email string
		want  bool
	}{
		{"noreply", "noreply@shop.example", true},
		{"no-reply", "no-reply@shop.example", true},
		{"no_reply", "no_reply@shop.example", true},
		{"donotreply", "DoNotReply@shop.example", true},
		{"mailer-daemon", "MAILER-DAEMON@mx.example", true},
		{"postmaster", "postmaster@mx.example", true},
		{"marketing", "marketing@brand.example", true},
		{"sales", "sales@brand.example", true},
		{"newsletter", "newsletter@brand.example", true},
		{"notifications", "notifications@github.example", true},
		{"bounce", "bounce@lists.example", true},
		{"numbered bounce", "bounce-12345@lists.example", true},
		{"numbered daemon", "mailer-daemon.2@mx.example", true},
		{"plus tag", "noreply+invoice-7@shop.example", true},
		{"person", "ann@shop.example", false},
		{"person named like a role", "salesforce-admin@shop.example", false},
		{"role word inside", "anna.marketing@shop.example", false},
		{"info is a person's desk", "info@bakery.example", false},
		{"support is a person's desk", "support@bakery.example", false},
		{"role name as domain", "ann@noreply.example", false},
		{"role with a word suffix", "sales-team@shop.example", false},
		{"no at", "noreply", false},
		{"empty local", "@shop.example", false},
		{"empty domain", "noreply@", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parley.IsRoleAddress(tt.email); got != tt.want {
				t.Errorf("IsRoleAddress(%q)=%v, want %v", tt.email, got, tt.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"bare", "ann@shop.example", "ann@shop.example", false},
		{"spaces", "  ann@shop.example ", "ann@shop.example", false},
		{"with name", "Ann Lee <ann@shop.example>", "ann@shop.example", false},
		{"domain case", "Ann@Shop.Example", "Ann@shop.example", false},
		{"two addresses", "a@x.example, b@x.example", "", true},
		{"no domain", "ann@", "", true},
		{"no at", "ann", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parley.NormalizeEmail(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err=%v, want error %v", err, tt.wantErr)
			}
			if err != nil && parley.ErrorCode(err) != parley.EINVALID {
				t.Errorf("code=%s, want %s", parley.ErrorCode(err), parley.EINVALID)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReplySubject(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Order 42", "Re: Order 42"},
		{"already a reply", "Re: Order 42", "Re: Order 42"},
		{"lower case re", "re: Order 42", "re: Order 42"},
		{"empty", "  ", "Re: (no subject)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parley.ReplySubject(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsFilteredRoleSender(t *testing.T) {
	th := parley.Thread{RoleSender: true}
	if !th.IsFiltered() {
		t.Error("a role sender's thread is not filtered")
	}
}
