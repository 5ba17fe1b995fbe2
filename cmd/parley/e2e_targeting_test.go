package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTargeting: on a customer's site served from another origin,
// each URL operator of the targeting rules (W2), a trailing /* wildcard, a
// query-parameter rule and case-sensitive matching show or hide the widget
// as the rule says; with several widgets (W3), each page gets the one its
// most specific rule names. The widgets are set up through the settings API
// and told apart by their launcher labels.
func TestBrowserTargeting(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, `{}`, "")})
	site := host.URL
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()

	// shown loads path and returns the launcher label of the widget the page
	// got, or "" when it got none.
	shown := func(path string) string {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.Navigate(site+path)); err != nil {
			t.Fatal(err)
		}
		booted := `performance.getEntriesByType('resource').some(r => r.name.includes('/widget/v1/boot?') && r.responseEnd > 0)`
		if err := waitJS(tab, booted, 5*time.Second); err != nil {
			t.Fatalf("%s: the loader did not ask which widget: %v", path, err)
		}
		// The answer is applied right after it arrived.
		time.Sleep(150 * time.Millisecond)
		// The launcher's text is its label (the unread badge is empty).
		expr := `(() => { const r = ` + widgetRoot + `; const l = r && r.querySelector('.pw .l');
			return l ? l.textContent.trim() || '(no label)' : ''; })()`
		label, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatal(err)
		}
		return label
	}
	patch := func(id string, body map[string]any) {
		t.Helper()
		if st, b := e.call("PATCH", "/api/v1/widgets/"+id, body); st != 200 {
			t.Fatalf("PATCH widget %s: %d %s", id, st, b)
		}
	}
	url := func(op, value string) map[string]any {
		return map[string]any{"rules": []any{map[string]any{"kind": "url", "op": op, "value": value}}}
	}
	first := fmt.Sprint(e.widget.ID)

	for _, tt := range []struct {
		name      string
		targeting map[string]any
		show      []string
		hide      []string
	}{
		{"all pages", url("all", ""), []string{"/", "/anything/at/all"}, nil},
		{"is", url("is", site+"/pricing"), []string{"/pricing", "/pricing/"}, []string{"/pricing/team", "/about"}},
		{"is with wildcard", url("is", site+"/docs/*"), []string{"/docs/setup", "/docs/a/b"}, []string{"/blog"}},
		{"is not", url("isNot", site+"/pricing"), []string{"/about"}, []string{"/pricing"}},
		{"contains", url("contains", "pric"), []string{"/pricing"}, []string{"/about"}},
		{"does not contain", url("notContains", "private"), []string{"/about"}, []string{"/private/notes"}},
		{"starts with", url("startsWith", site+"/help"), []string{"/help/faq"}, []string{"/about"}},
		{"does not start with", url("notStartsWith", site+"/admin"), []string{"/about"}, []string{"/admin/users"}},
		{"case-sensitive", url("contains", "Pricing"), []string{"/Pricing"}, []string{"/pricing"}},
		{"query parameter", map[string]any{"rules": []any{map[string]any{"kind": "query", "name": "utm_campaign", "value": "spring"}}},
			[]string{"/?utm_campaign=spring"}, []string{"/?utm_campaign=fall", "/"}},
		{"rules combine with or", map[string]any{"rules": []any{
			map[string]any{"kind": "url", "op": "startsWith", "value": site + "/a"},
			map[string]any{"kind": "url", "op": "startsWith", "value": site + "/b"}}},
			[]string{"/a/1", "/b/2"}, []string{"/c/3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			patch(first, map[string]any{"targeting": tt.targeting, "appearance": map[string]any{"launcherLabel": "Chat"}})
			for _, p := range tt.show {
				if got := shown(p); got != "Chat" {
					t.Errorf("%s: widget %q, want it shown", p, got)
				}
			}
			for _, p := range tt.hide {
				if got := shown(p); got != "" {
					t.Errorf("%s: widget %q, want none", p, got)
				}
			}
		})
	}

	// Several widgets: the most specific rule wins, then the oldest.
	patch(first, map[string]any{"targeting": url("all", ""), "appearance": map[string]any{"launcherLabel": "General"}})
	create := func(name, label string, targeting map[string]any) {
		t.Helper()
		st, b := e.call("POST", "/api/v1/widgets", map[string]any{
			"name": name, "inboxId": fmt.Sprint(e.widget.InboxID), "enabled": true,
			"targeting": targeting, "appearance": map[string]any{"launcherLabel": label},
		})
		if st != 201 {
			t.Fatalf("create %s: %d %s", name, st, b)
		}
	}
	create("Sales", "Sales", url("startsWith", site+"/pricing"))
	create("Docs", "Support", url("is", site+"/docs/*"))
	create("Sales too", "Sales 2", url("startsWith", site+"/pricing"))
	for path, want := range map[string]string{
		"/pricing/team": "Sales", // more specific than all pages; older than "Sales too"
		"/docs/setup":   "Support",
		"/about":        "General",
	} {
		if got := shown(path); got != want {
			t.Errorf("%s: widget %q, want %q", path, got, want)
		}
	}
}

// TestBrowserAudience: a widget for known contacts only (W1) stays off the
// page of an anonymous visitor and shows for a visitor the page identifies
// (CONTRACT §4); a widget hidden from a list's members shows to the
// anonymous visitor and not to the identified member of the list.
func TestBrowserAudience(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	st, b := e.identify(map[string]string{"email": "grace@acme.example", "firstName": "Grace"})
	if st != 200 {
		t.Fatalf("identification token: %d %s", st, b)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(b, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token answer %s: %v", b, err)
	}
	ident := `{identificationEmail: "grace@acme.example", identificationToken: ` + jsString(tok.Token) + `}`
	host := hostPages(t, e.base, map[string]string{
		"/anonymous":  sdkPage(`lang="en"`, `{}`, ""),
		"/identified": sdkPage(`lang="en"`, ident, ""),
	})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	shown := func(path string) bool {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.Navigate(host.URL+path)); err != nil {
			t.Fatal(err)
		}
		booted := `performance.getEntriesByType('resource').some(r => r.name.includes('/widget/v1/boot?') && r.responseEnd > 0)`
		if err := waitJS(tab, booted, 5*time.Second); err != nil {
			t.Fatalf("%s: the loader did not ask which widget: %v", path, err)
		}
		time.Sleep(150 * time.Millisecond)
		on, err := chromedp.Run(tab, chromedp.Evaluate[bool](`!!(`+widgetRoot+` && `+widgetRoot+`.querySelector('.pw .l'))`))
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	id := fmt.Sprint(e.widget.ID)
	if st, b := e.call("PATCH", "/api/v1/widgets/"+id, map[string]any{"audience": map[string]any{"mode": "known"}}); st != 200 {
		t.Fatalf("PATCH: %d %s", st, b)
	}
	if shown("/anonymous") {
		t.Error("a known-contacts widget showed to an anonymous visitor")
	}
	if !shown("/identified") {
		t.Error("a known-contacts widget did not show to an identified visitor")
	}

	st, b = e.call("POST", "/api/v1/lists", map[string]any{"name": "Acme staff", "match": "all",
		"criteria": []any{map[string]any{"property": "emailDomain", "op": "is", "value": "acme.example"}}})
	if st != 201 {
		t.Fatalf("create list: %d %s", st, b)
	}
	var list struct{ ID string }
	_ = json.Unmarshal(b, &list)
	if st, b := e.call("PATCH", "/api/v1/widgets/"+id, map[string]any{"audience": map[string]any{"mode": "notList", "listId": list.ID}}); st != 200 {
		t.Fatalf("PATCH: %d %s", st, b)
	}
	if !shown("/anonymous") {
		t.Error("a widget hidden from a list did not show to an anonymous visitor")
	}
	if shown("/identified") {
		t.Error("a widget hidden from a list showed to a member of the list")
	}
}
