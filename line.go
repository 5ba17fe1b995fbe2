package parley

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateLine checks a one-line text field that people and mail headers
// show, such as a display name, a title or a label: valid UTF-8, at most
// MaxNameBytes, no leading or trailing space, empty only if not required,
// and no character that breaks a line or a header or changes how the text
// around it reads: control characters (C0, DEL, C1, so no CR or LF), the
// line and paragraph separators, and the bidirectional embedding, override
// and isolate controls. It returns EINVALID naming field and the offending
// character. It is the one check every path that writes such a field uses.
func ValidateLine(field, s string, required bool) error {
	switch {
	case s == "" && required:
		return Errorf(EINVALID, "%s is required", field)
	case len(s) > MaxNameBytes:
		return Errorf(EINVALID, "%s is longer than %d bytes", field, MaxNameBytes)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	case strings.TrimSpace(s) != s:
		return Errorf(EINVALID, "%s has leading or trailing space", field)
	}
	if r, bad := lineBreaker(s); bad {
		return Errorf(EINVALID, "%s contains control character U+%04X", field, r)
	}
	return nil
}

// CleanLine trims s and checks it with ValidateLine, returning the trimmed
// text.
func CleanLine(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	return s, ValidateLine(field, s, required)
}

// lineBreaker returns the first character of s that ValidateLine refuses.
func lineBreaker(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' {
			return r, true
		}
	}
	return 0, false
}
