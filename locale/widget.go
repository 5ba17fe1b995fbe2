package locale

import (
	"embed"
	"maps"
	"slices"
	"strings"
)

// The widget's catalogs are widget/<lang>.json: the texts visitors read
// (the loader's and the chat panel's), and the default welcome, away and
// email-capture texts a widget shows while its admin has not written its
// own. They are apart from the console's catalogs because visitors get more
// languages than agents do: a new file here is a new widget language, with
// no change to code.

//go:embed widget/*.json
var widgetFiles embed.FS

// widgetCatalogs are the widget's catalogs by language, read once.
var widgetCatalogs = readCatalogs(widgetFiles, "widget")

// WidgetLanguages returns the languages the widget speaks, the fallback
// first, then the others in alphabetical order: ["en", "de", "es", "fr"].
func WidgetLanguages() []string {
	var out []string
	for lang := range widgetCatalogs {
		if lang != Fallback {
			out = append(out, lang)
		}
	}
	slices.Sort(out)
	return append([]string{Fallback}, out...)
}

// WidgetCatalog returns a copy of the widget's catalog of lang, or nil if
// the widget does not speak lang.
func WidgetCatalog(lang string) map[string]string { return maps.Clone(widgetCatalogs[lang]) }

// WidgetText is the widget's text of key in lang, English for a language
// the widget does not speak.
func WidgetText(lang, key string) string {
	if s, ok := widgetCatalogs[lang][key]; ok {
		return s
	}
	return widgetCatalogs[Fallback][key]
}

// widgetLang is the widget language of a language tag ("de-AT" → "de"), or
// "" for one the widget does not speak.
func widgetLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	base, _, _ := strings.Cut(tag, "-")
	base, _, _ = strings.Cut(base, "_")
	if _, ok := widgetCatalogs[base]; ok {
		return base
	}
	return ""
}

// PickWidget chooses the language of a widget for one page view. setting
// is the widget's language setting: a language the widget speaks ("de")
// always; "" the language of the page (its <html lang>, pageLang); "visitor"
// the language the visitor's browser prefers (its Accept-Language header)
// when the widget speaks it, else the page's. A page without a language the
// widget speaks gets English.
func PickWidget(setting, pageLang, acceptLanguage string) string {
	if l := widgetLang(setting); l != "" && l == setting {
		return l
	}
	if setting == WidgetLanguageVisitor {
		if l := matchWidget(acceptLanguage); l != "" {
			return l
		}
	}
	if l := widgetLang(pageLang); l != "" {
		return l
	}
	return Fallback
}

// WidgetLanguageVisitor is the widget language setting that follows the
// visitor's browser.
const WidgetLanguageVisitor = "visitor"

// matchWidget is Match over the widget's languages, "" for no match.
func matchWidget(acceptLanguage string) string {
	best, bestQ := "", 0.0
	for tag, q := range acceptLanguageTags(acceptLanguage) {
		if l := widgetLang(tag); l != "" && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}
