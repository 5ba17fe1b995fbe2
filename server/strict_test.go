package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/server"
)

// errorShape is an error answer in HubSpot's shape.
type errorShape struct {
	Status, Category, Message, CorrelationID string
}

// wantHubSpotError checks that res is an error with status code, in HubSpot's
// shape, whose message contains msg.
func wantHubSpotError(t *testing.T, name string, res response, code int, msg string) {
	t.Helper()
	var eb errorShape
	res.decode(t, &eb)
	if res.status != code || !strings.Contains(eb.Message, msg) {
		t.Errorf("%s: status=%d body=%s, want %d with %q", name, res.status, res.body, code, msg)
	}
	if eb.Status != "error" || eb.Category == "" {
		t.Errorf("%s: body=%s, want status \"error\" and a category", name, res.body)
	}
	if _, err := uuid.Parse(eb.CorrelationID); err != nil {
		t.Errorf("%s: correlationId %q is no UUID: %v", name, eb.CorrelationID, err)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type=%q, want JSON", name, ct)
	}
}

// pathOf turns a route pattern into a method and a path that it serves,
// path values set to "1".
func pathOf(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	return method, regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "1")
}

// TestEveryRouteRefusesUnknownQuery sends a query parameter no route reads
// to every route of the router, signed out and as an admin: each answers
// 400 naming it, before it authenticates or reads anything, except the
// console's pages, which take any.
func TestEveryRouteRefusesUnknownQuery(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	stranger := &client{e: e, hc: &http.Client{}}
	patterns := server.RoutePatterns(e.srv)
	if len(patterns) < 100 {
		t.Fatalf("only %d routes: the router does not list them", len(patterns))
	}
	pages := 0
	for _, p := range patterns {
		method, path := pathOf(p)
		_, _, any := server.QueryParams(p)
		for who, c := range map[string]*client{"stranger": stranger, "admin": admin} {
			res := c.do(method, path+"?parleyBogus=1", nil, nil)
			if any {
				if res.status == 400 && strings.Contains(string(res.body), "parleyBogus") {
					t.Errorf("%s %s: page refused a parameter: %s", who, p, res.body)
				}
				continue
			}
			wantHubSpotError(t, who+" "+p, res, 400, `"parleyBogus"`)
		}
		if any {
			pages++
		}
	}
	if pages == 0 || pages > 12 {
		t.Errorf("%d routes take any query; only the console's pages may", pages)
	}
}

// TestQueryParamsListedAreRoutes keeps queryParams honest: every route it
// names exists, so a renamed route cannot leave a stale entry behind.
func TestQueryParamsListedAreRoutes(t *testing.T) {
	e := newEnv(t, nil)
	seen := map[string]bool{}
	for _, p := range server.RoutePatterns(e.srv) {
		seen[p] = true
	}
	for _, p := range server.QueryRoutes() {
		if !seen[p] {
			t.Errorf("queryParams names %q, which no route serves", p)
		}
	}
}

// TestQueryAttacks sends what no route reads in ways a careless check
// misses.
func TestQueryAttacks(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	tid := startChat(t, e, "Hello")
	for _, tc := range []struct {
		name, path, msg string
	}{
		{"malformed escape", v3 + "/threads?limit=%zz", "malformed query string"},
		{"unknown beside known", v3 + "/threads?limit=5&inboxid=1", `"inboxid"`},
		{"empty value", v3 + "/threads/" + tid + "?property=", `"property"`},
		{"messages list", v3 + "/threads/" + tid + "/messages?sort=-createdAt", `"sort"`},
		{"settings path", "/api/v1/widgets?archived=true", `"archived"`},
		{"widget boot", "/widget/v1/boot?url=http://a.example/&portalId=1", `"portalId"`},
		{"file", "/files/1/a.txt?download=1", `"download"`},
	} {
		wantHubSpotError(t, tc.name, admin.do("GET", tc.path, nil, nil), 400, tc.msg)
	}
	res := admin.bearer().do("POST", "/visitor-identification/v3/tokens/create?hapikey=x", map[string]string{"email": "a@example.com"}, nil)
	wantHubSpotError(t, "visitor identification", res, 400, `"hapikey"`)
}

// TestEveryPathAnswersJSON checks that paths no route serves and methods a
// route does not take answer in the API's error shape, inside and outside
// /api.
func TestEveryPathAnswersJSON(t *testing.T) {
	e := newEnv(t, nil)
	c := &client{e: e, hc: &http.Client{}}
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/no-such-page", 404, ""},
		{"GET", "/api/v1/nothing", 404, ""},
		{"GET", v3 + "/nothing", 404, ""},
		{"GET", "/widget/v1/nothing", 404, ""},
		{"GET", "/visitor-identification/v3/nothing", 404, ""},
		{"POST", "/healthz", 405, "GET, HEAD"},
		{"DELETE", v3 + "/threads", 405, "GET, HEAD"},
		{"PUT", "/api/v1/widgets", 405, "GET, HEAD, POST"},
		{"GET", "/visitor-identification/v3/tokens/create", 405, "POST"},
		{"PATCH", "/widget/v1/files", 405, "POST"},
	} {
		res := c.do(tc.method, tc.path, nil, nil)
		wantHubSpotError(t, tc.method+" "+tc.path, res, tc.status, tc.path)
		if got := res.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow=%q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

// TestUnknownJSONField sends a field no endpoint reads to a sample of every
// family of endpoints: each answers 400 naming it, and nothing is written.
func TestUnknownJSONField(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	tok := admin.bearer()
	tid := startChat(t, e, "Hello")
	wid := e.widget.ID
	in := e.inbox.ID
	before := len(e.messages(t, tid))
	for _, tc := range []struct {
		name, method, path, body, field string
		c                               *client
	}{
		{"v3 message post", "POST", v3 + "/threads/" + tid + "/messages", `{"type":"MESSAGE","text":"hi","bogus":1}`, "bogus", admin},
		{"v3 thread patch", "PATCH", v3 + "/threads/" + tid, `{"status":"CLOSED","isArchived":true}`, "isArchived", admin},
		{"v3 assignee", "PUT", v3 + "/threads/" + tid + "/assignee", `{"actorId":"A-1","assignedTo":"A-1"}`, "assignedTo", admin},
		{"v3 actors batch", "POST", v3 + "/actors/batch/read", `{"inputs":["A-1"],"properties":[]}`, "properties", admin},
		{"session", "POST", "/api/v1/session", `{"email":"admin@example.com","password":"` + testPassword + `","remember":true}`, "remember", admin},
		{"tokens", "POST", "/api/v1/tokens", `{"name":"x","expires":"never"}`, "expires", admin},
		{"users me", "PATCH", "/api/v1/users/me", `{"away":true,"status":"busy"}`, "status", admin},
		{"teams", "POST", "/api/v1/teams", `{"name":"T","colour":"red"}`, "colour", admin},
		{"inbox patch", "PATCH", "/api/v1/inboxes/" + idStr(in), `{"name":"S","nam":"typo"}`, "nam", admin},
		{"widget patch top level", "PATCH", "/api/v1/widgets/" + idStr(wid), `{"enabledd":false}`, "enabledd", admin},
		{"widget patch nested", "PATCH", "/api/v1/widgets/" + idStr(wid), `{"availability":{"mode":"always","modes":"x"}}`, "modes", admin},
		{"visitor identification", "POST", "/visitor-identification/v3/tokens/create", `{"email":"a@example.com","phone":"1"}`, "phone", tok},
		{"thread archive takes no body", "DELETE", v3 + "/threads/" + tid, `{"permanently":true}`, `unknown field "permanently"`, admin},
		{"thread action takes no body", "POST", "/api/v1/threads/" + tid + "/spam", `{"reason":"x"}`, `unknown field "reason"`, admin},
		{"thread action: not JSON", "POST", "/api/v1/threads/" + tid + "/spam", `spam please`, "malformed JSON", admin},
		{"thread transcript", "POST", "/api/v1/threads/" + tid + "/transcript", `{"to":"a@example.com","cc":"b@example.com"}`, "cc", admin},
		// Names are exact: another case is another, unknown, field.
		{"v3 message post, a name in another case", "POST", v3 + "/threads/" + tid + "/messages", `{"type":"MESSAGE","Text":"hi"}`, `unknown field "Text"`, admin},
		{"widget patch nested, a name in another case", "PATCH", "/api/v1/widgets/" + idStr(wid), `{"availability":{"Mode":"always"}}`, `unknown field "availability.Mode"`, admin},
		{"tokens, a name in another case", "POST", "/api/v1/tokens", `{"NAME":"x"}`, `unknown field "NAME"`, admin},
	} {
		res := tc.c.do(tc.method, tc.path, tc.body, nil)
		wantHubSpotError(t, tc.name, res, 400, tc.field)
	}
	if got := len(e.messages(t, tid)); got != before {
		t.Errorf("refused requests wrote messages: %d, want %d", got, before)
	}
	// An empty object names nothing to ignore: a bodiless action takes it.
	admin.want(200, "POST", "/api/v1/threads/"+tid+"/not-spam", `{}`)
	if got := len(e.messages(t, tid)); got != before {
		t.Errorf("refused requests wrote messages: %d, want %d", got, before)
	}
	if th := admin.thread(t, tid); th.Status != "OPEN" || th.AssignedTo != "" || th.Archived || th.Spam {
		t.Errorf("refused requests changed the thread: %+v", th)
	}
	var teams struct{ Results []any }
	admin.want(200, "GET", "/api/v1/teams", nil).decode(t, &teams)
	if len(teams.Results) != 0 {
		t.Errorf("a refused POST made a team: %v", teams.Results)
	}
	var ws struct{ Enabled bool }
	admin.want(200, "GET", "/api/v1/widgets/"+idStr(wid), nil).decode(t, &ws)
	if !ws.Enabled {
		t.Errorf("a refused PATCH disabled the widget")
	}
	var me struct{ Away bool }
	admin.want(200, "GET", "/api/v1/users/me", nil).decode(t, &me)
	if me.Away {
		t.Errorf("a refused PATCH set away")
	}
}
