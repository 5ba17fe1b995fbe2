package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// Tests of the widget settings API, contact lists and the choice of widget
// at boot (FEATURES C1, C6, W1–W7).

// apiWidget is the settings API's widget, as far as these tests read it.
type apiWidget struct {
	ID, Name, InboxID string
	Enabled           bool
	Targeting         parley.Targeting
	Availability      parley.Availability
	Message           struct {
		Welcome string
		Heading struct {
			Mode    string
			UserIDs []string
		}
		EmailCapture parley.EmailCapture
	}
	Appearance parley.Appearance
	Audience   struct{ Mode, ListID string }
	Routing    struct {
		Mode            string
		UserIDs         []string
		MaxOpenPerAgent int
	}
	Options   parley.WidgetOptions
	Consent   parley.Consent
	Snippet   string
	Warnings  []string
	UpdatedAt string
}

func decodeWidget(t *testing.T, res response) apiWidget {
	t.Helper()
	var w apiWidget
	res.decode(t, &w)
	return w
}

// wantError fails unless res is a 400-range error of status whose message
// contains part.
func wantError(t *testing.T, res response, status int, part string) {
	t.Helper()
	var body struct{ Message, Code string }
	res.decode(t, &body)
	if res.status != status || !strings.Contains(body.Message, part) {
		t.Fatalf("status=%d message=%q, want %d with %q", res.status, body.Message, status, part)
	}
}

func TestWidgetsAPI(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	agent := e.addAgent("ann@example.com", true)
	inbox := fmt.Sprint(e.inbox.ID)

	// Create: everything given, ids as strings or numbers.
	body := map[string]any{
		"name": "Pricing chat", "inboxId": inbox, "enabled": true,
		"targeting":    map[string]any{"rules": []any{map[string]any{"kind": "url", "op": "startsWith", "value": "https://shop.example/pricing"}}},
		"availability": map[string]any{"mode": "hours", "timezone": "Europe/Berlin", "hours": []any{map[string]any{"days": []string{"mon", "fri"}, "from": "09:00", "to": "17:00"}}, "awayMessage": "Back at nine."},
		"message": map[string]any{"welcome": "Hallo!", "openByDefault": true, "heading": map[string]any{"mode": "users", "userIds": []any{agent.ID, fmt.Sprint(e.admin.ID)}},
			"emailCapture": map[string]any{"when": "before", "message": "Your email?"}, "mobile": map[string]any{"welcomeAsPrompt": true}},
		"appearance": map[string]any{"accentColor": "#facc15", "position": "left", "launcherLabel": "Chat", "fontSize": "large"},
		"audience":   map[string]any{"mode": "known"},
		"routing":    map[string]any{"mode": "users", "userIds": []any{fmt.Sprint(agent.ID)}, "maxOpenPerAgent": 3},
		"options":    map[string]any{"transcripts": true},
		"consent":    map[string]any{"process": "explicit", "processText": "We keep your messages for 90 days."},
	}
	w := decodeWidget(t, admin.want(201, "POST", "/api/v1/widgets", body))
	switch {
	case w.ID == "" || w.Name != "Pricing chat" || w.InboxID != inbox || !w.Enabled:
		t.Fatalf("created %+v", w)
	case w.Message.Heading.Mode != "users" || len(w.Message.Heading.UserIDs) != 2 || w.Message.Heading.UserIDs[0] != fmt.Sprint(agent.ID):
		t.Fatalf("heading %+v", w.Message.Heading)
	case w.Routing.Mode != "users" || w.Routing.UserIDs[0] != fmt.Sprint(agent.ID) || w.Routing.MaxOpenPerAgent != 3:
		t.Fatalf("routing %+v", w.Routing)
	case w.Availability.Timezone != "Europe/Berlin" || len(w.Availability.Hours) != 1:
		t.Fatalf("availability %+v", w.Availability)
	case !w.Options.Transcripts || w.Consent.Process != "explicit" || w.Audience.Mode != "known":
		t.Fatalf("options/consent/audience %+v %+v %+v", w.Options, w.Consent, w.Audience)
	case !strings.Contains(w.Snippet, e.base+"/embed.js"):
		t.Fatalf("snippet %q", w.Snippet)
	case len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "appearance.accentColor"):
		t.Fatalf("warnings %q, want the contrast warning for #facc15", w.Warnings)
	}
	path := "/api/v1/widgets/" + w.ID

	// A body without name or inbox.
	wantError(t, admin.do("POST", "/api/v1/widgets", map[string]any{"inboxId": inbox}, nil), 400, "name is required")
	wantError(t, admin.do("POST", "/api/v1/widgets", map[string]any{"name": "X"}, nil), 400, "inboxId is required")

	// PATCH merges: only the accent colour changes, and the warning goes.
	p := decodeWidget(t, admin.want(200, "PATCH", path, map[string]any{"appearance": map[string]any{"accentColor": "#1d4ed8"}}))
	if p.Appearance.AccentColor != "#1d4ed8" || p.Appearance.Position != "left" || p.Appearance.LauncherLabel != "Chat" || p.Name != "Pricing chat" || len(p.Warnings) != 0 {
		t.Fatalf("after merge %+v", p)
	}
	// null resets a section to its default; arrays are replaced whole.
	p = decodeWidget(t, admin.want(200, "PATCH", path, map[string]any{"consent": nil, "targeting": map[string]any{"rules": []any{}}}))
	if p.Consent != (parley.Consent{}) || len(p.Targeting.Rules) != 0 || p.Availability.Mode != "hours" {
		t.Fatalf("after reset %+v", p)
	}
	// Read-only fields sent back are ignored.
	if r := admin.want(200, "PATCH", path, map[string]any{"id": "999", "snippet": "x", "warnings": []string{}, "name": "Pricing"}); decodeWidget(t, r).ID != w.ID {
		t.Fatal("id changed")
	}

	// Every invalid setting is refused, names its field, and writes nothing.
	before := admin.want(200, "GET", path, nil).body
	tests := []struct {
		name  string
		patch string
		want  string
	}{
		{"unknown field", `{"colour":"red"}`, `unknown field "colour"`},
		{"unknown nested field", `{"appearance":{"color":"#000000"}}`, `unknown field "appearance.color"`},
		{"wrong type", `{"enabled":"yes"}`, "enabled must be true or false"},
		{"wrong nested type", `{"routing":{"maxOpenPerAgent":"3"}}`, "routing.maxOpenPerAgent must be a whole number"},
		{"bad id", `{"routing":{"userIds":["A-1"]}}`, "routing.userIds must be an id"},
		{"not an object", `[1]`, "JSON object"},
		{"name empty", `{"name":""}`, "name is required"},
		{"name too long", `{"name":"` + strings.Repeat("n", 257) + `"}`, "name is longer than 256 bytes"},
		{"inbox missing", `{"inboxId":"999"}`, "inboxId: inbox 999 does not exist"},
		{"targeting op", `{"targeting":{"rules":[{"kind":"url","op":"equals","value":"x"}]}}`, "targeting rule 1: unknown operator"},
		{"targeting kind", `{"targeting":{"rules":[{"kind":"cookie"}]}}`, "targeting rule 1: unknown kind"},
		{"availability mode", `{"availability":{"mode":"sometimes"}}`, "availability.mode must be always, team or hours"},
		{"timezone", `{"availability":{"timezone":"Mars/Base"}}`, `availability.timezone "Mars/Base" is not an IANA time zone`},
		{"hours day", `{"availability":{"hours":[{"days":["monday"],"from":"09:00","to":"17:00"}]}}`, `availability.hours[0].days: "monday" is not one of`},
		{"hours time", `{"availability":{"hours":[{"days":["mon"],"from":"9","to":"17:00"}]}}`, "availability.hours[0].from must be HH:MM"},
		{"hours day twice", `{"availability":{"hours":[{"days":["mon","mon"],"from":"09:00","to":"17:00"}]}}`, "availability.hours[0].days names mon twice"},
		{"away too long", `{"availability":{"awayMessage":"` + strings.Repeat("a", 1001) + `"}}`, "availability.awayMessage is longer than 1000 characters"},
		{"welcome too long", `{"message":{"welcome":"` + strings.Repeat("w", 1001) + `"}}`, "message.welcome is longer than 1000 characters"},
		{"heading mode", `{"message":{"heading":{"mode":"robot"}}}`, "message.heading.mode must be"},
		{"heading user missing", `{"message":{"heading":{"userIds":["4242"]}}}`, "message.heading.userIds[0]: user 4242 is not an active user"},
		{"heading custom avatar", `{"message":{"heading":{"mode":"custom","name":"Team","avatarUrl":"javascript:x"}}}`, "message.heading.avatarUrl must be an absolute http or https URL"},
		{"heading team missing", `{"message":{"heading":{"mode":"team","teamId":"77"}}}`, "message.heading.teamId: team 77 does not exist"},
		{"email capture", `{"message":{"emailCapture":{"when":"sometimes"}}}`, "message.emailCapture.when must be never, before or after"},
		{"accent colour", `{"appearance":{"accentColor":"red"}}`, "appearance.accentColor must be #rrggbb"},
		{"position", `{"appearance":{"position":"top"}}`, "appearance.position must be left or right"},
		{"avatar", `{"appearance":{"avatarUrl":"data:image/png;base64,AA"}}`, "appearance.avatarUrl must be an absolute http or https URL"},
		{"audience mode", `{"audience":{"mode":"friends"}}`, "audience.mode must be"},
		{"audience list missing", `{"audience":{"mode":"list","listId":"55"}}`, "audience.listId: list 55 does not exist"},
		{"audience list id", `{"audience":{"mode":"notList"}}`, "audience.listId is required for audience mode notList"},
		{"routing mode", `{"routing":{"mode":"random"}}`, "routing.mode must be users, teams, owner, none or inbox"},
		{"routing not a member", `{"routing":{"userIds":["` + fmt.Sprint(e.addAgent("out@example.com", false).ID) + `"]}}`, "is not a member of inbox"},
		{"routing teams", `{"routing":{"mode":"teams","teamIds":["9"]}}`, "routing.teamIds[0]: team 9 does not exist"},
		{"consent mode", `{"consent":{"process":"maybe"}}`, "consent.process must be explicit or legitimate"},
		{"consent text", `{"consent":{"process":"legitimate","processText":""}}`, "consent.processText is required"},
		{"subscription", `{"consent":{"communicate":true,"communicateText":"News"}}`, "consent.subscriptionType is required"},
		{"bot", `{"bot":{"enabled":true,"steps":[{"id":"a"},{"id":"a"}]}}`, `bot.steps[1].id "a" is used twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, admin.do("PATCH", path, tt.patch, nil), 400, tt.want)
		})
	}
	if after := admin.want(200, "GET", path, nil).body; string(after) != string(before) {
		t.Fatalf("a refused PATCH changed the widget:\n%s\n%s", before, after)
	}

	// The list shows both widgets; DELETE keeps the widget's threads.
	var list struct{ Results []apiWidget }
	admin.want(200, "GET", "/api/v1/widgets", nil).decode(t, &list)
	if len(list.Results) != 2 {
		t.Fatalf("widgets=%d, want 2", len(list.Results))
	}
	// (A chat needs no email first on it any more.)
	admin.want(200, "PATCH", path, map[string]any{"message": map[string]any{"emailCapture": map[string]any{"when": "after"}}})
	wd, err := e.db.Widget(t.Context(), mustUint(t, w.ID))
	if err != nil {
		t.Fatal(err)
	}
	chat := crmStartChat(t, e, wd, "hello")
	admin.want(204, "DELETE", path, nil)
	admin.want(404, "GET", path, nil)
	admin.want(404, "DELETE", path, nil)
	admin.want(404, "PATCH", path, map[string]any{"name": "gone"})
	admin.want(200, "GET", "/conversations/v3/conversations/threads/"+chat.thread, nil)
}

func TestWidgetsAdminOnly(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true)
	agent := e.login("ann@example.com")
	id := fmt.Sprint(e.widget.ID)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/widgets"},
		{"POST", "/api/v1/widgets"},
		{"GET", "/api/v1/widgets/" + id},
		{"PATCH", "/api/v1/widgets/" + id},
		{"DELETE", "/api/v1/widgets/" + id},
		{"GET", "/api/v1/lists"},
		{"POST", "/api/v1/lists"},
		{"GET", "/api/v1/lists/1"},
		{"PATCH", "/api/v1/lists/1"},
		{"DELETE", "/api/v1/lists/1"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			agent.want(403, c.method, c.path, map[string]any{"name": "x"})
		})
	}
	if w, _ := e.db.Widget(t.Context(), e.widget.ID); w == nil || w.Name != "Website chat" {
		t.Fatalf("widget changed: %+v", w)
	}
}

// apiList is the settings API's contact list.
type apiList struct {
	ID, Name, Match string
	Criteria        []parley.ListCriterion
	UsedBy          []string
}

func TestListsAPI(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")

	var l apiList
	admin.want(201, "POST", "/api/v1/lists", map[string]any{"name": " VIP ", "match": "any", "criteria": []any{
		map[string]any{"property": "emailDomain", "op": "is", "value": "vip.example"},
		map[string]any{"property": "plan", "op": "is", "value": "enterprise"},
	}}).decode(t, &l)
	if l.ID == "" || l.Name != "VIP" || l.Match != "any" || len(l.Criteria) != 2 || len(l.UsedBy) != 0 {
		t.Fatalf("created %+v", l)
	}
	path := "/api/v1/lists/" + l.ID
	for _, tt := range []struct {
		name   string
		method string
		body   any
		want   string
	}{
		{"no name", "POST", map[string]any{"criteria": []any{map[string]any{"property": "email", "op": "isKnown"}}}, "name is required"},
		{"no criteria", "POST", map[string]any{"name": "Empty"}, "criteria: a list needs at least one criterion"},
		{"bad match", "PATCH", map[string]any{"match": "most"}, "match must be all or any"},
		{"bad property", "PATCH", map[string]any{"criteria": []any{map[string]any{"property": "e-mail", "op": "is", "value": "x"}}}, "criteria[0].property must be"},
		{"bad op", "PATCH", map[string]any{"criteria": []any{map[string]any{"property": "email", "op": "like", "value": "x"}}}, "criteria[0].op must be"},
		{"owner not an id", "PATCH", map[string]any{"criteria": []any{map[string]any{"property": "owner", "op": "is", "value": "Ada"}}}, "criteria[0].value must be a user id"},
		{"nothing", "PATCH", map[string]any{}, "nothing to change"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.method == "POST" {
				p = "/api/v1/lists"
			}
			wantError(t, admin.do(tt.method, p, tt.body, nil), 400, tt.want)
		})
	}
	admin.want(200, "PATCH", path, map[string]any{"name": "VIPs", "match": "all"}).decode(t, &l)
	if l.Name != "VIPs" || l.Match != "all" || len(l.Criteria) != 2 {
		t.Fatalf("patched %+v", l)
	}

	// In use by a widget: 409 naming it, and listed in usedBy.
	admin.want(200, "PATCH", fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID), map[string]any{"audience": map[string]any{"mode": "notList", "listId": l.ID}})
	wantError(t, admin.do("DELETE", path, nil, nil), 409, `widget "Website chat"`)
	admin.want(200, "GET", path, nil).decode(t, &l)
	if len(l.UsedBy) != 1 || l.UsedBy[0] != fmt.Sprint(e.widget.ID) {
		t.Fatalf("usedBy=%v", l.UsedBy)
	}
	admin.want(200, "PATCH", fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID), map[string]any{"audience": map[string]any{"mode": "everyone"}})
	admin.want(204, "DELETE", path, nil)
	admin.want(404, "GET", path, nil)
	var all struct{ Results []apiList }
	admin.want(200, "GET", "/api/v1/lists", nil).decode(t, &all)
	if len(all.Results) != 0 {
		t.Fatalf("lists=%+v", all.Results)
	}
}

// bootID returns the id of the widget the page gets, "" for none.
func bootID(t *testing.T, e *env, pageURL, token string) string {
	t.Helper()
	c := &client{e: e, hc: e.ts.Client()}
	q := url.Values{"url": {pageURL}}
	if token != "" {
		q.Set("vt", token)
	}
	res := c.do("GET", "/widget/v1/boot?"+q.Encode(), nil, nil)
	var boot struct{ Widget *struct{ ID string } }
	if res.status != 200 {
		t.Fatalf("boot %s: %d %s", pageURL, res.status, res.body)
	}
	res.decode(t, &boot)
	if boot.Widget == nil {
		return ""
	}
	return boot.Widget.ID
}

func TestBootAudience(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	ctx := t.Context()

	// Ada chats and becomes a known VIP contact; Bob chats but stays anonymous.
	ada := crmStartChat(t, e, e.widget, "hi")
	bob := crmStartChat(t, e, e.widget, "hello")
	admin.want(200, "PATCH", "/api/v1/contacts/"+ada.contact, map[string]any{"email": "ada@vip.example", "properties": map[string]any{"plan": "pro"}})

	var vip apiList
	admin.want(201, "POST", "/api/v1/lists", map[string]any{"name": "VIP", "criteria": []any{map[string]any{"property": "emailDomain", "op": "is", "value": "VIP.example"}}}).decode(t, &vip)

	// The default widget (all pages, oldest) is for anonymous visitors only;
	// /members has a list widget and a notList widget.
	admin.want(200, "PATCH", fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID), map[string]any{"audience": map[string]any{"mode": "anonymous"}})
	mk := func(name, mode string) string {
		var w apiWidget
		admin.want(201, "POST", "/api/v1/widgets", map[string]any{"name": name, "inboxId": fmt.Sprint(e.inbox.ID),
			"targeting": map[string]any{"rules": []any{map[string]any{"kind": "url", "op": "startsWith", "value": "https://shop.example/members"}}},
			"audience":  map[string]any{"mode": mode, "listId": vip.ID}}).decode(t, &w)
		return w.ID
	}
	forVIPs, notVIPs := mk("VIPs", "list"), mk("Others", "notList")
	known := func() string {
		var w apiWidget
		admin.want(201, "POST", "/api/v1/widgets", map[string]any{"name": "Known", "inboxId": fmt.Sprint(e.inbox.ID),
			"targeting": map[string]any{"rules": []any{map[string]any{"kind": "url", "op": "is", "value": "https://shop.example/account"}}},
			"audience":  map[string]any{"mode": "known"}}).decode(t, &w)
		return w.ID
	}()
	def := fmt.Sprint(e.widget.ID)

	tests := []struct {
		name, page, token, want string
	}{
		{"anonymous, home", "https://shop.example/", "", def},
		{"known, home: the anonymous-only widget hides", "https://shop.example/", ada.token, ""},
		{"contact without email counts as anonymous", "https://shop.example/", bob.token, def},
		{"unknown token is anonymous", "https://shop.example/", "pv_not-a-token", def},
		{"VIP on members", "https://shop.example/members/area", ada.token, forVIPs},
		{"not a VIP on members", "https://shop.example/members/area", bob.token, notVIPs},
		{"anonymous on members", "https://shop.example/members", "", notVIPs},
		{"known on account", "https://shop.example/account", ada.token, known},
		{"anonymous on account falls back", "https://shop.example/account", "", def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bootID(t, e, tt.page, tt.token); got != tt.want {
				t.Errorf("widget=%q, want %q", got, tt.want)
			}
		})
	}

	// The list follows the contact: Ada leaves the VIP domain.
	admin.want(200, "PATCH", "/api/v1/contacts/"+ada.contact, map[string]any{"email": "ada@example.com"})
	if got := bootID(t, e, "https://shop.example/members", ada.token); got != notVIPs {
		t.Errorf("after the email change: widget=%q, want %q", got, notVIPs)
	}
	if _, err := e.db.ContactList(ctx, mustUint(t, vip.ID)); err != nil {
		t.Fatal(err)
	}
}

func TestBootOrder(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	mk := func(name string, rules ...map[string]any) string {
		var w apiWidget
		admin.want(201, "POST", "/api/v1/widgets", map[string]any{"name": name, "inboxId": fmt.Sprint(e.inbox.ID),
			"targeting": map[string]any{"rules": rules}}).decode(t, &w)
		return w.ID
	}
	rule := func(op, value string) map[string]any { return map[string]any{"kind": "url", "op": op, "value": value} }
	def := fmt.Sprint(e.widget.ID) // all pages, oldest
	blog := mk("Blog", rule("is", "https://shop.example/blog/*"))
	pricing := mk("Pricing", rule("is", "https://shop.example/pricing"))
	pricingToo := mk("Pricing too", rule("startsWith", "https://shop.example/pricing"))
	campaign := mk("Campaign", map[string]any{"kind": "query", "name": "utm_campaign", "value": "spring"})
	notBlog := mk("Not blog", rule("notContains", "/blog"))

	tests := []struct{ name, page, want string }{
		{"home: only catch-alls match, oldest wins", "https://shop.example/", def},
		{"blog post: the blog widget", "https://shop.example/blog/post-1", blog},
		{"pricing: same specificity, oldest wins", "https://shop.example/pricing", pricing},
		{"pricing plans: only startsWith", "https://shop.example/pricing/plans", pricingToo},
		{"query rule beats catch-alls", "https://shop.example/?utm_campaign=spring", campaign},
		{"a longer url rule beats the query rule", "https://shop.example/pricing?utm_campaign=spring", pricing},
		{"case-sensitive", "https://shop.example/Blog/post", def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bootID(t, e, tt.page, ""); got != tt.want {
				t.Errorf("widget=%q, want %q", got, tt.want)
			}
		})
	}

	// Switched off, a widget drops out and the next in order takes over.
	admin.want(200, "PATCH", "/api/v1/widgets/"+pricing, map[string]any{"enabled": false})
	if got := bootID(t, e, "https://shop.example/pricing", ""); got != pricingToo {
		t.Errorf("pricing disabled: widget=%q, want %q", got, pricingToo)
	}
	admin.want(200, "PATCH", "/api/v1/widgets/"+def, map[string]any{"enabled": false})
	if got := bootID(t, e, "https://shop.example/", ""); got != notBlog {
		t.Errorf("default disabled: widget=%q, want %q", got, notBlog)
	}
}

// TestWidgetLive: connected visitors see a widget switched off (the launcher
// hides), on again, changed, and deleted.
func TestWidgetLive(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	v, _ := e.visitor("", 0)
	path := fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID)

	status := func() map[string]any {
		t.Helper()
		st, _ := v.next("status")["status"].(map[string]any)
		return st
	}
	admin.want(200, "PATCH", path, map[string]any{"enabled": false})
	if st := status(); st["showLauncher"] != false || st["available"] != false {
		t.Fatalf("disabled: status=%v, want the launcher hidden", st)
	}
	// A visitor still connected cannot write to a switched-off widget, and
	// nothing is stored.
	v.send(map[string]any{"type": "message.send", "clientId": "off1", "text": "anyone there?"})
	if ev := v.next("error"); ev["code"] != "not_found" {
		t.Fatalf("message to a switched-off widget: %v, want not_found", ev)
	}
	if ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{InboxIDs: []uint64{e.inbox.ID}, Limit: 10}); err != nil || len(ts) != 0 {
		t.Fatalf("threads after the refused message: %d, %v", len(ts), err)
	}
	admin.want(200, "PATCH", path, map[string]any{"enabled": true, "availability": map[string]any{"mode": "always"}})
	if st := status(); st["showLauncher"] != true || st["available"] != true {
		t.Fatalf("enabled, always available: status=%v", st)
	}
	admin.want(200, "PATCH", path, map[string]any{"message": map[string]any{"welcome": "Neu hier?"}, "appearance": map[string]any{"accentColor": "#0f766e"}})
	evs := v.until(func(ev map[string]any) bool {
		wd, _ := ev["widget"].(map[string]any)
		return ev["type"] == "widget.updated" && wd["welcome"] == "Neu hier?"
	})
	wd, _ := evs[len(evs)-1]["widget"].(map[string]any)
	if ap, _ := wd["appearance"].(map[string]any); ap["accentColor"] != "#0f766e" {
		t.Fatalf("widget.updated=%v", wd)
	}
	admin.want(204, "DELETE", path, nil)
	// A status from the change before may still be on its way: wait for
	// the one that hides the launcher (until fails the test on timeout).
	v.until(func(ev map[string]any) bool {
		st, _ := ev["status"].(map[string]any)
		return ev["type"] == "status" && st["showLauncher"] == false
	})
}

func TestContactOwnerAndProperties(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	chat := crmStartChat(t, e, e.widget, "hi")
	path := "/api/v1/contacts/" + chat.contact
	agent := e.addAgent("ann@example.com", true)

	var c struct {
		OwnerID    string
		Properties map[string]string
	}
	admin.want(200, "PATCH", path, map[string]any{"ownerId": fmt.Sprint(agent.ID), "properties": map[string]any{"plan": "pro", "seats": "12"}}).decode(t, &c)
	if c.OwnerID != fmt.Sprint(agent.ID) || c.Properties["plan"] != "pro" || c.Properties["seats"] != "12" {
		t.Fatalf("patched %+v", c)
	}
	// Properties merge; null removes one; "" clears the owner.
	c.Properties = nil
	admin.want(200, "PATCH", path, map[string]any{"ownerId": "", "properties": map[string]any{"seats": nil, "region": "EU"}}).decode(t, &c)
	if c.OwnerID != "" || len(c.Properties) != 2 || c.Properties["plan"] != "pro" || c.Properties["region"] != "EU" {
		t.Fatalf("merged %+v", c)
	}
	for _, tt := range []struct {
		name string
		body any
		want string
	}{
		{"owner unknown", map[string]any{"ownerId": "999"}, "ownerId: user 999 is not an active user"},
		{"property name", map[string]any{"properties": map[string]any{"1st": "x"}}, `name "1st" must be a letter`},
		{"property reserved", map[string]any{"properties": map[string]any{"email": "x"}}, "properties.email: the name is reserved"},
		{"property too long", map[string]any{"properties": map[string]any{"plan": strings.Repeat("p", 1001)}}, "properties.plan is longer than 1000 bytes"},
		{"property not a string", map[string]any{"properties": map[string]any{"plan": 3}}, "must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, admin.do("PATCH", path, tt.body, nil), 400, tt.want)
		})
	}
	many := map[string]any{}
	for i := range 51 {
		many[fmt.Sprintf("p%d", i)] = "v"
	}
	wantError(t, admin.do("PATCH", path, map[string]any{"properties": many}, nil), 400, "at most 50 custom properties")
	var got struct{ Properties map[string]string }
	admin.want(200, "GET", path, nil).decode(t, &got)
	if b, _ := json.Marshal(got.Properties); string(b) != `{"plan":"pro","region":"EU"}` {
		t.Fatalf("after refusals: %s", b)
	}
}
