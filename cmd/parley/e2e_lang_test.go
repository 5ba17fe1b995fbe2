package main

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// TestBrowserWidgetLanguage: the widget speaks the language of the page it
// is on (German, French, Spanish: catalogs, no code), English on a page in a
// language it does not speak; set to follow the visitor, a German browser on
// an English page reads German; texts the admin wrote stay as written. The
// heading is the default "Chat with us" in that language, never the
// widget's internal name.
func TestBrowserWidgetLanguage(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{
		"/de": sdkPage(`lang="de-AT"`, `{}`, ``),
		"/fr": sdkPage(`lang="fr"`, `{}`, ``),
		"/es": sdkPage(`lang="es"`, `{}`, ``),
		"/ja": sdkPage(`lang="ja"`, `{}`, ``),
		"/en": sdkPage(`lang="en"`, `{}`, ``),
	})
	open := func(tab context.Context, path, lang string) {
		t.Helper()
		c := locale.WidgetCatalog(lang)
		if err := chromedp.Do(tab, chromedp.Navigate(host.URL+path)); err != nil {
			t.Fatal(err)
		}
		launcher := byName(widgetRoot, "button", c["open"])
		step(t, tab, path+": launcher in "+lang, ``, launcher+` !== null`)
		step(t, tab, path+": open in "+lang, `(`+launcher+`).click()`,
			wopen+` && `+heading+` === `+jsString(c["heading"])+
				` && `+byName(widgetRoot, "textarea", c["msg"])+` !== null`+
				` && `+byName(widgetRoot, "textarea", c["msg"])+`.placeholder === `+jsString(c["ph"])+
				` && `+byName(widgetRoot, "button", c["send"])+` !== null`+
				` && `+byName(widgetRoot, "button", c["close"])+` !== null`+
				` && `+wlog+`.textContent.includes(`+jsString(c["welcome"])+`)`)
	}
	for _, c := range []struct{ path, lang string }{{"/de", "de"}, {"/fr", "fr"}, {"/es", "es"}, {"/ja", "en"}} {
		tab, cancel := chromedp.NewContext(browser)
		open(tab, c.path, c.lang)
		cancel()
	}

	// Following the visitor: a German browser on an English page.
	e.edit(e.widget.ID, func(w *parley.Widget) { w.Options.Language = parley.WidgetLanguageVisitor })
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140", AcceptLanguage: "de-DE,de;q=0.9"}); err != nil {
		t.Fatal(err)
	}
	open(tab, "/en", "de")

	// The admin's own welcome is shown as written on every page.
	e.edit(e.widget.ID, func(w *parley.Widget) {
		w.Options.Language = ""
		w.Message.Welcome = "Moin! Was können wir tun?"
	})
	tab2, cancel2 := chromedp.NewContext(browser)
	defer cancel2()
	if err := chromedp.Do(tab2, chromedp.Navigate(host.URL+"/fr")); err != nil {
		t.Fatal(err)
	}
	launcher := byName(widgetRoot, "button", locale.WidgetCatalog("fr")["open"])
	step(t, tab2, "French page: the launcher", ``, launcher+` !== null`)
	step(t, tab2, "French page, the admin's German welcome", `(`+launcher+`).click()`,
		wopen+` && `+wlog+`.textContent.includes('Moin! Was können wir tun?') && !`+wlog+`.textContent.includes(`+jsString(locale.WidgetCatalog("fr")["welcome"])+`)`)
}
