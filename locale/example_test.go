package locale_test

import (
	"fmt"

	"github.com/parley-chat/parley/locale"
)

func ExampleLookup() {
	// The language of a person: their stored preference, else their browser's.
	lang := locale.Pick("", "de-DE,de;q=0.9,en;q=0.5")
	fmt.Println(lang)
	fmt.Println(locale.Lookup(lang, "sys.assigned", "assignee", "Ada"))
	fmt.Println(locale.Lookup("en", "sys.assigned", "assignee", "Ada"))
	// Output:
	// de
	// Ada zugewiesen
	// Assigned to Ada
}
