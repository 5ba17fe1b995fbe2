// Package locale holds Parley's message catalogs, one JSON file per language
// (en.json, de.json): flat objects from a key ("conv.close") to the text.
// English is complete and the fallback; every other catalog has the same keys
// (the tests make sure).
//
// A text may hold placeholders, {name}, a word in braces, filled in by name.
// The agent console bundles the same files (server/console) and fills them
// in the same way, so a key means the same text wherever Parley shows it.
// Go code that writes texts for people (system events, visitor names,
// notification mails, transcripts) uses Lookup with a language from Pick.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Fallback is the language of the complete catalog, used for a language
// Parley has no catalog for and for a key missing in another catalog.
const Fallback = "en"

//go:embed *.json
var files embed.FS

// catalogs are the embedded catalogs by language, read once at start-up.
var catalogs = readCatalogs(files, ".")

// readCatalogs reads the catalogs <lang>.json in dir of fsys by language.
func readCatalogs(fsys embed.FS, dir string) map[string]map[string]string {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		panic("locale: " + err.Error())
	}
	out := map[string]map[string]string{}
	for _, e := range entries {
		lang, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		name := path.Join(dir, e.Name())
		b, err := fsys.ReadFile(name)
		if err != nil {
			panic("locale: " + err.Error())
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			// Unreachable in a tested build: the tests parse every catalog.
			panic("locale: " + name + ": " + err.Error())
		}
		out[lang] = m
	}
	return out
}

// Languages returns the languages Parley has catalogs for, the fallback
// first, then the others in alphabetical order: ["en", "de"].
func Languages() []string {
	var out []string
	for lang := range catalogs {
		if lang != Fallback {
			out = append(out, lang)
		}
	}
	slices.Sort(out)
	return append([]string{Fallback}, out...)
}

// Has reports whether Parley has a catalog for lang ("de"; not "de-AT").
func Has(lang string) bool {
	_, ok := catalogs[lang]
	return ok
}

// Catalog returns a copy of the catalog of lang, or nil if there is none.
func Catalog(lang string) map[string]string { return maps.Clone(catalogs[lang]) }

// Lookup returns the text of key in lang with its placeholders filled in
// from args, which are pairs of a name and a value:
//
//	locale.Lookup("de", "sys.assigned", "assignee", "Ada") // "Ada zugewiesen"
//
// A language without a catalog, or a key missing in it, falls back to
// English, and a key missing there too gives the key itself, so that a text
// is never blank. A placeholder without a value stays as it is; values are
// formatted with fmt's %v.
func Lookup(lang, key string, args ...any) string {
	s, ok := catalogs[lang][key]
	if !ok {
		if s, ok = catalogs[Fallback][key]; !ok {
			s = key
		}
	}
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		for i := 0; i+1 < len(args); i += 2 {
			if n, ok := args[i].(string); ok && n == name {
				return fmt.Sprint(args[i+1])
			}
		}
		return m
	})
}

// placeholder is the syntax of a placeholder, shared with the console's t():
// a word in braces.
var placeholder = regexp.MustCompile(`\{\w+\}`)

// Placeholders returns the names of the placeholders in s, in order of first
// appearance, each once.
func Placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllString(s, -1) {
		if name := m[1 : len(m)-1]; !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// Pick chooses the language of a text for one person: their stored
// preference if Parley has a catalog for it, else the best match of the
// Accept-Language header of their browser (Match).
func Pick(preference, acceptLanguage string) string {
	if p := strings.ToLower(strings.TrimSpace(preference)); p != "" {
		if Has(p) {
			return p
		}
		if base, _, ok := strings.Cut(p, "-"); ok && Has(base) {
			return base
		}
	}
	return Match(acceptLanguage)
}

// Match returns the language with a catalog that an Accept-Language header
// ("de-DE,de;q=0.9,en;q=0.5") prefers most, by quality and then by order; a
// region ("de-AT") matches its language. Without a match it returns
// Fallback.
func Match(acceptLanguage string) string {
	best, bestQ := Fallback, 0.0
	for tag, q := range acceptLanguageTags(acceptLanguage) {
		base, _, _ := strings.Cut(tag, "-")
		if q > bestQ && Has(base) {
			best, bestQ = base, q
		}
	}
	return best
}

// acceptLanguageTags yields the tags of an Accept-Language header, lower
// case, with their quality (1 without a q=), in the header's order.
func acceptLanguageTags(acceptLanguage string) iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		for _, part := range strings.Split(acceptLanguage, ",") {
			tag, params, _ := strings.Cut(part, ";")
			tag = strings.ToLower(strings.TrimSpace(tag))
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						f = 0
					}
					q = f
				}
			}
			if !yield(tag, q) {
				return
			}
		}
	}
}
