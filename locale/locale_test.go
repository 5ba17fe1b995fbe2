package locale

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLanguages(t *testing.T) {
	if got := Languages(); !slices.Equal(got, []string{"en", "de"}) {
		t.Fatalf("Languages()=%v, want [en de]", got)
	}
}

// TestCatalogsAreFlatObjects: each file is one JSON object of strings, with
// no key twice (encoding/json would keep the last silently) and no empty
// text.
func TestCatalogsAreFlatObjects(t *testing.T) {
	for _, lang := range Languages() {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("%s.json: want an object, got %v %v", lang, tok, err)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("%s.json: %v", lang, err)
			}
			key := tok.(string)
			var text string
			if err := dec.Decode(&text); err != nil {
				t.Fatalf("%s.json: %s: want a string: %v", lang, key, err)
			}
			if seen[key] {
				t.Errorf("%s.json: %s is there twice", lang, key)
			}
			seen[key] = true
			if !regexp.MustCompile(`^[a-zA-Z]\w*(\.\w+)+$`).MatchString(key) {
				t.Errorf("%s.json: key %q is not of the form area.name", lang, key)
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s.json: %s is empty", lang, key)
			}
		}
	}
}

// TestEveryKeyInEveryLanguage: all catalogs have the keys of English, no
// more and no fewer, and the same placeholders for each.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	en := Catalog(Fallback)
	if len(en) < 100 {
		t.Fatalf("en has %d keys", len(en))
	}
	for _, lang := range Languages()[1:] {
		c := Catalog(lang)
		for k, s := range en {
			tr, ok := c[k]
			if !ok {
				t.Errorf("%s: key %s is missing", lang, k)
				continue
			}
			want, got := Placeholders(s), Placeholders(tr)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s: %s has placeholders %v, English has %v", lang, k, got, want)
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %s is not in en", lang, k)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "conv.close", nil, "Close conversation"},
		{"de", "conv.close", nil, "Konversation schließen"},
		{"en", "sys.assigned", []any{"assignee", "Ada"}, "Assigned to Ada"},
		{"de", "sys.assigned", []any{"assignee", "Ada"}, "Ada zugewiesen"},
		{"de", "views.countLabel", []any{"view", "Chat", "n", 3}, "Chat, 3 offen"},
		// A placeholder without a value stays; extra and odd args are ignored.
		{"en", "views.countLabel", []any{"n", 2, "other", 1, "view"}, "{view}, 2 open"},
		// A value is put in as it is: a placeholder inside it (a visitor's
		// message, a name) is not filled in again.
		{"en", "views.countLabel", []any{"view", "{n} {view}", "n", 2}, "{n} {view}, 2 open"},
		// Fallbacks: a language without a catalog, a key nowhere.
		{"fr", "conv.close", nil, "Close conversation"},
		{"", "conv.close", nil, "Close conversation"},
		{"de", "no.such.key", nil, "no.such.key"},
	} {
		if got := Lookup(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("Lookup(%q, %q, %v)=%q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	if got := Placeholders("{name} gave {what} to {name}, {not a placeholder}"); !slices.Equal(got, []string{"name", "what"}) {
		t.Fatalf("got %v", got)
	}
}

func TestMatchAndPick(t *testing.T) {
	for _, tc := range []struct{ pref, header, want string }{
		{"", "", "en"},
		{"", "de-DE,de;q=0.9,en;q=0.5", "de"},
		{"", "DE", "de"},
		{"", "en-US,en;q=0.9,de;q=0.8", "en"},
		{"", "fr-FR,de;q=0.7,en;q=0.3", "de"},
		{"", "fr,it", "en"},
		{"", "en;q=0.2,de;q=0.8", "de"},
		{"", "de;q=0", "en"},
		{"", "de;q=oops", "en"},
		{"de", "en-US", "de"},
		{"de-CH", "en-US", "de"},
		{"fr", "de-AT", "de"},
		{"en", "de", "en"},
	} {
		if got := Pick(tc.pref, tc.header); got != tc.want {
			t.Errorf("Pick(%q, %q)=%q, want %q", tc.pref, tc.header, got, tc.want)
		}
	}
}

// The catalogs' users: the console's scripts and Go code in this module.
var (
	// t('key' in the console: a key asked for literally.
	jsCall = regexp.MustCompile(`\bt\('([\w.]+)'`)
	// Any quoted literal that looks like a key ('sys.closed' in a table).
	jsLiteral = regexp.MustCompile(`['"]([a-zA-Z]\w*(?:\.\w+)+)['"]`)
	// locale.Lookup(lang, "key" in Go, and {{t .Lang "key" in its page
	// templates.
	goCall = regexp.MustCompile(`(?:locale\.Lookup\([^,()]+,\s*|\{\{t \.Lang )"([\w.]+)"`)
)

// TestKeysUsedAndKnown: every key that the console's scripts or Go code ask
// for by name exists in the catalogs, and every key of the catalogs is used,
// by name or by a template of names (`bots.kind.${k}`).
func TestKeysUsedAndKnown(t *testing.T) {
	en := Catalog(Fallback)
	used := map[string]bool{}
	var patterns []*regexp.Regexp
	check := func(file, key string) {
		used[key] = true
		if _, ok := en[key]; !ok {
			t.Errorf("%s asks for key %q, which no catalog has", file, key)
		}
	}
	src := filepath.Join("..", "server", "console", "src")
	scripts, err := filepath.Glob(filepath.Join(src, "*.js"))
	if err != nil || len(scripts) < 10 {
		t.Fatalf("console scripts in %s: %v %v", src, scripts, err)
	}
	calls := 0
	for _, name := range scripts {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range jsCall.FindAllStringSubmatch(string(b), -1) {
			check(name, m[1])
			calls++
		}
		for _, m := range jsLiteral.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		// Template literals that make keys, `bots.kind.${k}` or
		// `${kind}.name`, also inside another template: each run between
		// two backticks is tried.
		for _, run := range strings.Split(string(b), "`") {
			if p := templatePattern(run); p != nil {
				patterns = append(patterns, p)
			}
		}
	}
	if calls < 500 {
		t.Fatalf("found %d t('…') calls in the console; has the pattern changed?", calls)
	}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range goCall.FindAllStringSubmatch(string(b), -1) {
			check(path, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range en {
		if used[k] || slices.ContainsFunc(patterns, func(p *regexp.Regexp) bool { return p.MatchString(k) }) {
			continue
		}
		t.Errorf("key %s is used nowhere: remove it from every catalog", k)
	}
}

// templatePattern turns a JS template literal that makes keys into a
// pattern of those keys: `bots.kind.${k}` matches bots.kind.<anything>. A
// template with no dotted literal part (`${a}-${b}`) makes no keys.
func templatePattern(tpl string) *regexp.Regexp {
	if !strings.Contains(tpl, "${") {
		return nil
	}
	parts := regexp.MustCompile(`\$\{[^}]*\}`).Split(tpl, -1)
	var b strings.Builder
	literal := false
	for i, p := range parts {
		if i > 0 {
			b.WriteString(`[\w.]+`)
		}
		if !regexp.MustCompile(`^[\w.]*$`).MatchString(p) {
			return nil
		}
		if strings.Contains(p, ".") && strings.Trim(p, ".") != "" {
			literal = true
		}
		b.WriteString(regexp.QuoteMeta(p))
	}
	if !literal {
		return nil
	}
	return regexp.MustCompile("^" + b.String() + "$")
}
