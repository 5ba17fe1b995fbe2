package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// TestBootLanguage: a widget speaks the language of the page it is on, or
// the visitor's browser's where its settings say so, or one fixed language;
// its own texts stay as the admin wrote them, in any language, and the
// defaults it has not overridden come in the picked language. Its heading
// is never the widget's name (a name for agents).
func TestBootLanguage(t *testing.T) {
	if parley.WidgetLanguageVisitor != locale.WidgetLanguageVisitor {
		t.Fatal("the root's and locale's names of the visitor setting differ")
	}
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	path := fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID)
	type boot struct {
		Lang   string
		Texts  map[string]string
		Widget struct {
			Name    string
			Welcome string
			Heading struct{ Name string }
		}
	}
	get := func(pageLang, accept string) boot {
		t.Helper()
		c := &client{e: e, hc: e.ts.Client()}
		q := url.Values{"url": {"https://shop.example/"}}
		if pageLang != "" {
			q.Set("lang", pageLang)
		}
		var h map[string]string
		if accept != "" {
			h = map[string]string{"Accept-Language": accept}
		}
		res := c.do("GET", "/widget/v1/boot?"+q.Encode(), nil, h)
		if res.status != 200 {
			t.Fatalf("boot: %d %s", res.status, res.body)
		}
		var b boot
		res.decode(t, &b)
		return b
	}
	check := func(name string, b boot, lang, welcome, heading string) {
		t.Helper()
		if b.Lang != lang || b.Widget.Welcome != welcome || b.Widget.Heading.Name != heading {
			t.Errorf("%s: lang %q, welcome %q, heading %q; want %q, %q, %q", name, b.Lang, b.Widget.Welcome, b.Widget.Heading.Name, lang, welcome, heading)
		}
		if want := locale.WidgetCatalog(lang); len(b.Texts) != len(want) || b.Texts["send"] != want["send"] {
			t.Errorf("%s: texts %v, want the %s catalog", name, b.Texts, lang)
		}
	}
	de, fr, en, es := locale.WidgetCatalog("de"), locale.WidgetCatalog("fr"), locale.WidgetCatalog("en"), locale.WidgetCatalog("es")

	// The default widget stores no texts: the page's language decides.
	var w struct {
		Message struct {
			Welcome     string
			HideWelcome *bool `json:"hideWelcome"`
		}
		Options struct{ Language *string }
	}
	admin.want(200, "GET", path, nil).decode(t, &w)
	if w.Message.Welcome != "" || w.Message.HideWelcome == nil || *w.Message.HideWelcome {
		t.Errorf("the default widget's welcome: %+v", w.Message)
	}
	check("German page", get("de-AT", "en-US"), "de", de["welcome"], de["heading"])
	check("French page", get("fr", ""), "fr", fr["welcome"], fr["heading"])
	check("Spanish page", get("es-MX", ""), "es", es["welcome"], es["heading"])
	check("Japanese page: English", get("ja", "de"), "en", en["welcome"], en["heading"])
	check("no language", get("", ""), "en", en["welcome"], en["heading"])
	if b := get("de", ""); strings.Contains(b.Widget.Heading.Name, b.Widget.Name) {
		t.Errorf("the heading %q shows the widget's name %q", b.Widget.Heading.Name, b.Widget.Name)
	}

	// Following the visitor's browser, where the widget speaks its language.
	admin.want(200, "PATCH", path, map[string]any{"options": map[string]any{"language": "visitor"}})
	check("German browser, English page", get("en", "de-DE,de;q=0.9,en;q=0.8"), "de", de["welcome"], de["heading"])
	check("Japanese browser, French page", get("fr", "ja"), "fr", fr["welcome"], fr["heading"])
	// One fixed language.
	admin.want(200, "PATCH", path, map[string]any{"options": map[string]any{"language": "es"}})
	check("fixed Spanish", get("de", "fr"), "es", es["welcome"], es["heading"])
	admin.want(200, "GET", path, nil).decode(t, &w)
	if w.Options.Language == nil || *w.Options.Language != "es" {
		t.Errorf("options.language read back: %v", w.Options.Language)
	}
	for _, bad := range []string{"it", "EN", "de-AT", "english", " visitor"} {
		res := admin.do("PATCH", path, map[string]any{"options": map[string]any{"language": bad}}, nil)
		if res.status != 400 || !strings.Contains(string(res.body), "options.language") {
			t.Errorf("language %q: %d %s, want 400 naming options.language", bad, res.status, res.body)
		}
	}
	admin.want(200, "PATCH", path, map[string]any{"options": map[string]any{"language": ""}})

	// An admin's own texts are shown as written, on any page.
	admin.want(200, "PATCH", path, map[string]any{"message": map[string]any{"welcome": "Moin! Was können wir tun?",
		"heading": map[string]any{"mode": "custom", "name": "Team Nord"}}})
	check("own texts, French page", get("fr", ""), "fr", "Moin! Was können wir tun?", "Team Nord")
	// No welcome at all.
	admin.want(200, "PATCH", path, map[string]any{"message": map[string]any{"welcome": "", "hideWelcome": true}})
	check("no welcome", get("de", ""), "de", "", "Team Nord")
	// Back to the defaults.
	admin.want(200, "PATCH", path, map[string]any{"message": map[string]any{"hideWelcome": false, "heading": map[string]any{"mode": ""}}})
	check("defaults again", get("de", ""), "de", de["welcome"], de["heading"])
	// A hostile page language is only a hint.
	check("hostile lang", get("<script>"+strings.Repeat("x", 5000), ""), "en", en["welcome"], en["heading"])
}
