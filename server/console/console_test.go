package console

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Files(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func scripts(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(Files(), "*.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no scripts embedded")
	}
	return names
}

func TestIndexReferencesEmbeddedFiles(t *testing.T) {
	index := readFile(t, "index.html")
	refs := regexp.MustCompile(`(?:src|href)="/console/([^"]+)"`).FindAllStringSubmatch(index, -1)
	var got []string
	for _, m := range refs {
		got = append(got, m[1])
		if _, err := fs.Stat(Files(), m[1]); err != nil {
			t.Errorf("index.html refers to /console/%s: %v", m[1], err)
		}
	}
	for _, want := range []string{"app.js", "app.css"} {
		if !slices.Contains(got, want) {
			t.Errorf("index.html refs=%v, want /console/%s among them", got, want)
		}
	}
}

func TestImportsResolve(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^import .* from '\./([^']+)';$`)
	for _, name := range scripts(t) {
		for _, m := range imp.FindAllStringSubmatch(readFile(t, name), -1) {
			if _, err := fs.Stat(Files(), m[1]); err != nil {
				t.Errorf("%s imports ./%s: %v", name, m[1], err)
			}
		}
	}
}

// TestNoMarkupFromData keeps visitor-controlled text out of the HTML parser:
// the console builds every node with createElement and textContent.
func TestNoMarkupFromData(t *testing.T) {
	banned := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"}
	for _, name := range scripts(t) {
		src := readFile(t, name)
		for _, b := range banned {
			if strings.Contains(src, b) {
				t.Errorf("%s uses %s", name, b)
			}
		}
	}
}

func TestNoExternalURLs(t *testing.T) {
	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src := strings.ReplaceAll(readFile(t, name), "http://www.w3.org/2000/svg", "")
		for _, m := range url.FindAllString(src, -1) {
			t.Errorf("%s refers to %s", name, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTranslations checks that English and German have the same keys and
// that every literal key the scripts ask for exists.
func TestTranslations(t *testing.T) {
	// i18n.js and the area files i18n_*.js it merges; a key defined twice
	// would silently shadow another.
	files, err := fs.Glob(Files(), "i18n*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no i18n files: %v", err)
	}
	keysOf := func(lang string) []string {
		var keys []string
		for _, name := range files {
			src := readFile(t, name)
			start := strings.Index(src, "const "+lang+" = {")
			if start < 0 {
				t.Fatalf("%s has no %s dictionary", name, lang)
			}
			end := strings.Index(src[start:], "\n};")
			for _, m := range regexp.MustCompile(`(?m)^\s+'([\w.]+)':`).FindAllStringSubmatch(src[start:start+end], -1) {
				if slices.Contains(keys, m[1]) {
					t.Errorf("%s: key %q is defined twice for %s", name, m[1], lang)
				}
				keys = append(keys, m[1])
			}
		}
		slices.Sort(keys)
		return keys
	}
	en, de := keysOf("en"), keysOf("de")
	if !slices.Equal(en, de) {
		for _, k := range en {
			if !slices.Contains(de, k) {
				t.Errorf("key %q is missing in de", k)
			}
		}
		for _, k := range de {
			if !slices.Contains(en, k) {
				t.Errorf("key %q is missing in en", k)
			}
		}
	}
	use := regexp.MustCompile(`\bt\('([\w.]+)'`)
	for _, name := range scripts(t) {
		for _, m := range use.FindAllStringSubmatch(readFile(t, name), -1) {
			if !slices.Contains(en, m[1]) {
				t.Errorf("%s uses unknown key %q", name, m[1])
			}
		}
	}
}
