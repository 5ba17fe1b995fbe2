package parley

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFileNameBytes bounds a file's name as Parley keeps and shows it.
const MaxFileNameBytes = 255

// CleanFileName returns name as Parley keeps and shows a file's name: the
// last element of a path (either slash), without control and format
// characters (so that no right-to-left override turns "gpj.exe" into what
// looks like "exe.jpg"), spaces collapsed, no leading dots (no hidden
// files), invalid UTF-8 replaced, and cut to MaxFileNameBytes keeping the
// extension. A name with nothing left is "file".
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name = strings.TrimLeft(b.String(), ".")
	name = strings.TrimSpace(name)
	if len(name) > MaxFileNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:MaxFileNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
