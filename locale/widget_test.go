package locale

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

func TestWidgetLanguages(t *testing.T) {
	got := WidgetLanguages()
	for _, want := range []string{"en", "de", "es", "fr"} {
		if !slices.Contains(got, want) {
			t.Errorf("WidgetLanguages() = %v, want %s among them", got, want)
		}
	}
	if got[0] != Fallback {
		t.Errorf("WidgetLanguages() = %v, want %s first", got, Fallback)
	}
}

// TestWidgetCatalogs: every widget catalog has exactly the English keys,
// with the same placeholders, and no empty text.
func TestWidgetCatalogs(t *testing.T) {
	en := WidgetCatalog(Fallback)
	if len(en) < 40 {
		t.Fatalf("the English widget catalog has %d keys", len(en))
	}
	for _, lang := range WidgetLanguages() {
		c := WidgetCatalog(lang)
		for k, v := range en {
			s, ok := c[k]
			switch {
			case !ok:
				t.Errorf("widget/%s.json lacks %q", lang, k)
			case s == "":
				t.Errorf("widget/%s.json: %q is empty", lang, k)
			case !slices.Equal(sorted(Placeholders(s)), sorted(Placeholders(v))):
				t.Errorf("widget/%s.json: %q has placeholders %v, English %v", lang, k, Placeholders(s), Placeholders(v))
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("widget/%s.json has %q, which English lacks", lang, k)
			}
		}
	}
	// German speaks to the visitor as "Sie", and of a "Konversation".
	for k, v := range WidgetCatalog("de") {
		if m := regexp.MustCompile(`(?i)\b(du|dich|dir|dein\w*|unterhaltung\w*)\b`).FindString(v); m != "" {
			t.Errorf("widget/de.json: %s says %q: address the visitor as \"Sie\", and say \"Konversation\"", k, m)
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

// widgetCall is a text lookup in the widget's scripts: T("key" or
// T('key'.
var widgetCall = regexp.MustCompile(`\bT\(\s*["']([\w.]+)["']\s*[,)]`)

// widgetTextKeys are the keys the server reads (widget.NewBoot) rather
// than the scripts.
var widgetTextKeys = []string{"heading", "welcome", "awayMessage", "emailAsk"}

// TestWidgetKeysUsedAndKnown: every key the widget's scripts look up is in
// the catalogs, and every key in them is used, by the scripts (also as
// "err." + a server error code) or by the server.
func TestWidgetKeysUsedAndKnown(t *testing.T) {
	en := WidgetCatalog(Fallback)
	used := map[string]bool{}
	for _, k := range widgetTextKeys {
		used[k] = true
	}
	scripts, err := filepath.Glob(filepath.Join("..", "widget", "src", "*.js"))
	if err != nil || len(scripts) < 2 {
		t.Fatalf("widget scripts: %v %v", scripts, err)
	}
	calls := 0
	for _, name := range scripts {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range widgetCall.FindAllStringSubmatch(string(b), -1) {
			calls++
			used[m[1]] = true
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s asks for widget text %q, which no catalog has", name, m[1])
			}
		}
	}
	if calls < 30 {
		t.Fatalf("found %d T(\"…\") calls in the widget; has the pattern changed?", calls)
	}
	for k := range en {
		if !used[k] && !regexp.MustCompile(`^err\.\w+$`).MatchString(k) {
			t.Errorf("widget text %s is used nowhere: remove it from every catalog", k)
		}
	}
}

func TestPickWidget(t *testing.T) {
	for _, c := range []struct{ setting, page, accept, want string }{
		{"", "de-DE", "en-US,en;q=0.9", "de"},
		{"", "fr", "de", "fr"},
		{"", "", "de", "en"},
		{"", "ja", "de", "en"},
		{"visitor", "en", "de-AT,de;q=0.9,en;q=0.8", "de"},
		{"visitor", "en", "ja,es;q=0.5", "es"},
		{"visitor", "fr", "ja", "fr"},
		{"visitor", "", "", "en"},
		{"es", "de", "fr", "es"},
		{"DE", "fr", "", "fr"}, // a setting is a stored lower-case code
		{"xx", "de", "", "de"},
	} {
		if got := PickWidget(c.setting, c.page, c.accept); got != c.want {
			t.Errorf("PickWidget(%q, %q, %q) = %q, want %q", c.setting, c.page, c.accept, got, c.want)
		}
	}
}
