package widget

import (
	"regexp"
	"testing"

	"github.com/parley-chat/parley"
)

// sourceForm is the only shape the generated entry stylesheet may take.
var sourceForm = regexp.MustCompile(`^@use "parley:theme" with \(\$accent: #[0-9a-f]{6}, \$position: (left|right), \$font-size: (13|15|17)px\);\n$`)

// FuzzThemeSource: whatever an admin sends as an appearance, either it is
// refused or the Sass that the compile sees is the fixed prelude with
// validated values; no input text gets into it.
func FuzzThemeSource(f *testing.F) {
	for _, s := range [][3]string{
		{"#2563eb", "right", "medium"},
		{"#B91C1C", "left", "large"},
		{"", "", ""},
		{"#fff);@import 'x", "left", "small"},
		{"#ffffff\n}", "right;", "15px"},
		{"red", "top", "huge"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, accent, position, fontSize string) {
		k, err := normalise(parley.Appearance{AccentColor: accent, Position: position, FontSize: fontSize})
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("error code=%q, want %q", parley.ErrorCode(err), parley.EINVALID)
			}
			return
		}
		if src := k.source(); !sourceForm.MatchString(src) {
			t.Fatalf("source=%q", src)
		}
		if css := k.fallbackCSS(nil); !regexp.MustCompile(`^[\n.a-z0-9{}:;#!()@\- %\[\]=,]*$`).Match(css) {
			t.Fatalf("fallback css=%q", css)
		}
	})
}
