package parley_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

func TestCleanFileName(t *testing.T) {
	long := strings.Repeat("ä", 200) + ".pdf" // 404 bytes
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain", "invoice.pdf", "invoice.pdf"},
		{"unix path", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\ann\Desktop\shot.png`, "shot.png"},
		{"right-to-left override", "invoice\u202Egpj.exe", "invoicegpj.exe"},
		{"zero width", "in\u200Bvoice.pdf", "invoice.pdf"},
		{"control characters", "a\x00b\r\nc.txt", "abc.txt"},
		{"spaces collapse", "  my \t  file .txt ", "my file .txt"},
		{"hidden", ".htaccess", "htaccess"},
		{"only dots", "...", "file"},
		{"dots and spaces", ".  .", "file"},
		{"space before a dot", " .env", "env"},
		{"empty", "", "file"},
		{"trailing slash", "dir/", "file"},
		{"invalid utf-8", "bad\xff.txt", "bad.txt"},
		{"german", "Rechnung März.pdf", "Rechnung März.pdf"},
		{"long keeps extension", long, strings.Repeat("ä", 125) + ".pdf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parley.CleanFileName(tt.in)
			if got != tt.want {
				t.Errorf("CleanFileName(%q)=%q, want %q", tt.in, got, tt.want)
			}
			if len(got) > parley.MaxFileNameBytes || !utf8.ValidString(got) {
				t.Errorf("CleanFileName(%q)=%q: %d bytes, valid=%v", tt.in, got, len(got), utf8.ValidString(got))
			}
		})
	}
}

func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", "\u202Eexe.jpg", strings.Repeat("é", 300) + ".png"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := parley.CleanFileName(in)
		if got == "" || len(got) > parley.MaxFileNameBytes || !utf8.ValidString(got) {
			t.Fatalf("CleanFileName(%q)=%q", in, got)
		}
		if strings.ContainsAny(got, "/\\\x00\n\r") || strings.HasPrefix(got, ".") {
			t.Fatalf("CleanFileName(%q)=%q keeps a separator, control character or leading dot", in, got)
		}
		if parley.CleanFileName(got) != got {
			t.Fatalf("CleanFileName is not idempotent on %q: %q then %q", in, got, parley.CleanFileName(got))
		}
	})
}
