package parley

import (
	"strings"
	"testing"
)

func TestSnippetValidate(t *testing.T) {
	ok := Snippet{Name: "Greeting", Shortcut: "hi_there-2", Body: "Hello!\nHow can I help?"}
	for _, tt := range []struct {
		name   string
		change func(s *Snippet)
		code   string
		msg    string
	}{
		{"valid", func(*Snippet) {}, "", ""},
		{"body at the limit", func(s *Snippet) { s.Body = strings.Repeat("a", MaxSnippetBytes) }, "", ""},
		{"no name", func(s *Snippet) { s.Name = "" }, EINVALID, "name is required"},
		{"name with space around", func(s *Snippet) { s.Name = " Greeting" }, EINVALID, "leading or trailing space"},
		{"name too long", func(s *Snippet) { s.Name = strings.Repeat("n", MaxNameBytes+1) }, EINVALID, "name is longer"},
		{"name with a newline", func(s *Snippet) { s.Name = "a\nb" }, EINVALID, "control character"},
		{"name not UTF-8", func(s *Snippet) { s.Name = "a\xff" }, EINVALID, "UTF-8"},
		{"no shortcut", func(s *Snippet) { s.Shortcut = "" }, EINVALID, "shortcut is required"},
		{"shortcut with a space", func(s *Snippet) { s.Shortcut = "hi there" }, EINVALID, "letters, digits"},
		{"shortcut with #", func(s *Snippet) { s.Shortcut = "#hi" }, EINVALID, "letters, digits"},
		{"shortcut not ASCII", func(s *Snippet) { s.Shortcut = "grüß" }, EINVALID, "letters, digits"},
		{"shortcut too long", func(s *Snippet) { s.Shortcut = strings.Repeat("s", MaxShortcutBytes+1) }, EINVALID, "longer than 64"},
		{"blank body", func(s *Snippet) { s.Body = " \n " }, EINVALID, "body: text is empty"},
		{"body too large", func(s *Snippet) { s.Body = strings.Repeat("a", MaxSnippetBytes+1) }, ETOOLARGE, "body is 16385 bytes"},
		{"body with a control character", func(s *Snippet) { s.Body = "a\x00" }, EINVALID, "body: text contains control character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			err := s.Validate()
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("code=%q (%v), want %q", got, err, tt.code)
			}
			if err != nil && !strings.Contains(ErrorMessage(err), tt.msg) {
				t.Errorf("message=%q, want it to contain %q", ErrorMessage(err), tt.msg)
			}
		})
	}
}
