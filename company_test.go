package parley

import (
	"os"
	"strings"
	"testing"
)

func TestCompanyDomain(t *testing.T) {
	for _, tc := range []struct{ email, want string }{
		{"ada@example.com", "example.com"},
		{"Ada@Sub.Example.COM", "sub.example.com"},
		{"ada@www.example.com", "example.com"},
		{"ada@gmail.com", ""},
		{"ada@GMAIL.com", ""},
		{"ada@yahoo.de", ""},
		{"ada@yahoo.co.jp", ""},
		{"ada@outlook.com", ""},
		{"ada@gmx.de", ""},
		{"ada@web.de", ""},
		{"ada@t-online.de", ""},
		{"ada@icloud.com", ""},
		{"ada@proton.me", ""},
		{"ada@localhost", ""},
		{"", ""},
		{"no-at-sign", ""},
		{"ada@exa mple.com", ""},
		{"ada@-bad.com", ""},
	} {
		if got := CompanyDomain(tc.email); got != tc.want {
			t.Errorf("CompanyDomain(%q) = %q, want %q", tc.email, got, tc.want)
		}
	}
}

func TestCleanDomain(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Example.com", "example.com", true},
		{" www.example.com. ", "example.com", true},
		{"https://example.com", "", false},
		{"example.com/path", "", false},
		{"example.com:80", "", false},
		{"example", "", false},
		{"a..b", "", false},
		{"", "", false},
	} {
		got, err := CleanDomain(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("CleanDomain(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("CleanDomain(%q): code %s, want EINVALID", tc.in, ErrorCode(err))
		}
	}
}

// TestFreeMailDomainsDocumented: docs/api.md lists every free-mail domain,
// so that the list people read is the list Parley keeps.
func TestFreeMailDomainsDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range FreeMailDomains() {
		if !strings.Contains(string(doc), "`"+d+"`") {
			t.Errorf("docs/api.md does not list the free-mail domain %s", d)
		}
	}
}
