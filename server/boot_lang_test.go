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

// TestWidgetPreview: the editor's preview gets the boot answer a visitor's
// page would get for the same settings (the same texts, welcome and
// heading, the theme), marked preview, with no socket; only admins ask,
// and a bad body is a 400 that names what is wrong.
func TestWidgetPreview(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	path := fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID)
	settings := map[string]any{
		"message":    map[string]any{"welcome": "Moin!", "heading": map[string]any{"mode": "custom", "name": "Team Nord"}},
		"appearance": map[string]any{"accentColor": "#0f766e", "position": "left"},
		"options":    map[string]any{"language": "visitor"},
	}
	admin.want(200, "PATCH", path, settings)
	type boot struct {
		Lang    string
		Texts   map[string]string
		WS      string
		Preview bool
		Assets  struct{ Theme string }
		Widget  struct {
			Welcome    string
			Heading    struct{ Name string }
			Appearance struct{ AccentColor, Position string }
			Status     struct{ Available bool }
		}
	}
	var visitor, preview boot
	c := &client{e: e, hc: e.ts.Client()}
	res := c.do("GET", "/widget/v1/boot?url="+url.QueryEscape("https://shop.example/")+"&lang=fr", nil, map[string]string{"Accept-Language": "de"})
	res.decode(t, &visitor)
	admin.do("POST", "/api/v1/widgets/preview", map[string]any{"widget": settings, "lang": "fr"}, map[string]string{"Accept-Language": "de"}).decode(t, &preview)
	if !preview.Preview || preview.WS != "" || visitor.Preview {
		t.Errorf("preview %v ws %q; the visitor's preview %v", preview.Preview, preview.WS, visitor.Preview)
	}
	if preview.Lang != "de" || preview.Lang != visitor.Lang || preview.Texts["send"] != visitor.Texts["send"] ||
		preview.Widget.Welcome != visitor.Widget.Welcome || preview.Widget.Heading != visitor.Widget.Heading ||
		preview.Widget.Appearance != visitor.Widget.Appearance || preview.Assets.Theme != visitor.Assets.Theme || preview.Assets.Theme == "" {
		t.Errorf("preview %+v\nvisitor %+v\nwant the same widget", preview, visitor)
	}
	// Away, and a half-typed colour shows the default until it is whole.
	var away boot
	admin.do("POST", "/api/v1/widgets/preview", map[string]any{"widget": map[string]any{"appearance": map[string]any{"accentColor": "#0f7"}}, "away": true}, nil).decode(t, &away)
	if away.Widget.Status.Available || away.Widget.Appearance.AccentColor != "#2563eb" || away.Widget.Welcome != locale.WidgetCatalog("en")["welcome"] {
		t.Errorf("away draft: %+v", away.Widget)
	}

	// Only admins; a bad body names the field.
	e.addAgent("bo@example.com", true)
	e.login("bo@example.com").want(403, "POST", "/api/v1/widgets/preview", map[string]any{"widget": settings})
	c.want(401, "POST", "/api/v1/widgets/preview", map[string]any{"widget": settings})
	for body, want := range map[string]string{
		`{}`:                                    "widget is required",
		`{"widget":{"message":{"welcom":"x"}}}`: "welcom",
		`{"widget":{"appearance":"red"}}`:       "appearance",
		`{"widget":{},"theme":"dark"}`:          "theme",
		`{"widget":[]}`:                         "object",
		`{"widget":{},"lang":7}`:                "lang",
		`not json`:                              "JSON",
	} {
		res := admin.do("POST", "/api/v1/widgets/preview", body, map[string]string{"Content-Type": "application/json"})
		if res.status != 400 || !strings.Contains(string(res.body), want) {
			t.Errorf("%s: %d %s, want 400 naming %q", body, res.status, res.body, want)
		}
	}
	// The preview page: framed by the console only, scripts of its own origin.
	page := c.do("GET", "/widget/v1/preview", nil, nil)
	if csp := page.header.Get("Content-Security-Policy"); page.status != 200 || !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(string(page.body), `data-preview`) {
		t.Errorf("preview page: %d %q %s", page.status, csp, page.body)
	}
}
