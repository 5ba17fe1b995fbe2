package parley_test

import (
	"testing"

	"github.com/parley-chat/parley"
)

func TestNormalizeMailServer(t *testing.T) {
	tests := []struct {
		name     string
		in       parley.MailServer
		imap     bool
		wantPort int
		wantTLS  string
		ok       bool
	}{
		{"imap defaults", parley.MailServer{Host: " imap.example.com ", Username: "a"}, true, 993, parley.MailTLS, true},
		{"imap starttls", parley.MailServer{Host: "imap.example.com", TLS: "starttls", Username: "a"}, true, 143, parley.MailStartTLS, true},
		{"smtp defaults", parley.MailServer{Host: "smtp.example.com", Username: "a"}, false, 465, parley.MailTLS, true},
		{"smtp starttls", parley.MailServer{Host: "smtp.example.com", TLS: "starttls", Username: "a"}, false, 587, parley.MailStartTLS, true},
		{"port kept", parley.MailServer{Host: "2001:db8::1", Port: 2525, TLS: "none", Username: "a"}, false, 2525, parley.MailNoTLS, true},
		{"no host", parley.MailServer{Username: "a"}, true, 0, "", false},
		{"host with a path", parley.MailServer{Host: "a.example/x", Username: "a"}, true, 0, "", false},
		{"host with a port", parley.MailServer{Host: "a.example:993", Username: "a"}, true, 0, "", false},
		{"host with a user", parley.MailServer{Host: "u@a.example", Username: "a"}, true, 0, "", false},
		{"bad tls", parley.MailServer{Host: "a.example", TLS: "ssl", Username: "a"}, true, 0, "", false},
		{"bad port", parley.MailServer{Host: "a.example", Port: 70000, Username: "a"}, true, 0, "", false},
		{"no user", parley.MailServer{Host: "a.example"}, true, 0, "", false},
		{"user with a line break", parley.MailServer{Host: "a.example", Username: "a\r\nb"}, true, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.in
			err := parley.NormalizeMailServer("imap", &s, tc.imap)
			if got := err == nil; got != tc.ok {
				t.Fatalf("err=%v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if parley.ErrorCode(err) != parley.EINVALID {
					t.Errorf("code=%s, want %s", parley.ErrorCode(err), parley.EINVALID)
				}
				return
			}
			if s.Port != tc.wantPort || s.TLS != tc.wantTLS {
				t.Errorf("port=%d tls=%s, want %d %s", s.Port, s.TLS, tc.wantPort, tc.wantTLS)
			}
		})
	}
}
