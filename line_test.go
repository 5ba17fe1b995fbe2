package parley

import "testing"

func TestValidateLine(t *testing.T) {
	for _, tc := range []struct {
		name, s  string
		required bool
		ok       bool
	}{
		{"plain", "Ada Lovelace", true, true},
		{"accents and scripts", "José Müller 李 محمد", true, true},
		{"empty optional", "", false, true},
		{"empty required", "", true, false},
		{"CR LF", "Ada\r\nBcc: x@example.com", true, false},
		{"LF", "Ada\nX", true, false},
		{"tab", "Ada\tX", true, false},
		{"NUL", "Ada\x00", true, false},
		{"DEL", "Ada\x7f", true, false},
		{"C1", "Ada\u0085X", true, false},
		{"line separator", "Ada\u2028X", true, false},
		{"paragraph separator", "Ada\u2029X", true, false},
		{"RTL override", "\u202eAda", true, false},
		{"isolate", "Ada\u2067X\u2069", true, false},
		{"leading space", " Ada", true, false},
		{"invalid UTF-8", "Ada\xff", true, false},
		{"too long", string(make([]byte, MaxNameBytes+1)), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateLine("name", tc.s, tc.required)
			if (err == nil) != tc.ok {
				t.Errorf("ValidateLine(%q)=%v, want ok=%v", tc.s, err, tc.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code=%s, want invalid", ErrorCode(err))
			}
		})
	}
	if s, err := CleanLine("name", "  Ada  ", true); err != nil || s != "Ada" {
		t.Errorf("CleanLine: %q, %v", s, err)
	}
}
