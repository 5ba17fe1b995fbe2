package parley

import ()

// Limits of snippets (R1).
const (
	// MaxSnippetBytes bounds a snippet's body: what it inserts must fit in
	// one message.
	MaxSnippetBytes = MaxTextBytes
	// MaxShortcutBytes bounds a snippet's shortcut.
	MaxShortcutBytes = 64
)

// Validate checks the fields a user gives a snippet: Name is 1 to
// MaxNameBytes of text without control characters and without surrounding
// space; Shortcut is 1 to MaxShortcutBytes of ASCII letters, digits, '-' and
// '_'; Body is message text (see ValidateText) of at most MaxSnippetBytes. It
// returns EINVALID or ETOOLARGE naming the field. Uniqueness of the shortcut
// is the store's to check.
func (s *Snippet) Validate() error {
	if err := ValidateLine("name", s.Name, true); err != nil {
		return err
	}
	if err := ValidateShortcut(s.Shortcut); err != nil {
		return err
	}
	if len(s.Body) > MaxSnippetBytes {
		return Errorf(ETOOLARGE, "body is %d bytes; the limit is %d", len(s.Body), MaxSnippetBytes)
	}
	if err := ValidateText(s.Body); err != nil {
		return Errorf(ErrorCode(err), "body: %s", ErrorMessage(err))
	}
	return nil
}

// ValidateShortcut checks a snippet shortcut: 1 to MaxShortcutBytes of ASCII
// letters, digits, '-' and '_'. It returns EINVALID.
func ValidateShortcut(s string) error {
	if s == "" {
		return Errorf(EINVALID, "shortcut is required")
	}
	if len(s) > MaxShortcutBytes {
		return Errorf(EINVALID, "shortcut is longer than %d bytes", MaxShortcutBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Errorf(EINVALID, "shortcut may hold only letters, digits, '-' and '_'")
		}
	}
	return nil
}
