package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server/console"
)

// Tests of users, invitations, teams and inboxes (FEATURES I1, M1–M4).

// want sends a request and fails the test unless the status is status.
func (c *client) want(status int, method, path string, body any) response {
	c.e.t.Helper()
	res := c.do(method, path, body, nil)
	if res.status != status {
		c.e.t.Fatalf("%s %s: status=%d body=%.300s, want %d", method, path, res.status, res.body, status)
	}
	return res
}

// bearer returns a client that uses a fresh API token of c's user and no
// cookie.
func (c *client) bearer() *client {
	c.e.t.Helper()
	var tok struct{ Token string }
	c.want(201, "POST", "/api/v1/tokens", map[string]string{"name": "script"}).decode(c.e.t, &tok)
	return &client{e: c.e, hc: &http.Client{Timeout: 10 * time.Second}, token: tok.Token}
}

// socket opens c's agent WebSocket (cookie or token) and says hello.
func (c *client) socket() (*wsClient, map[string]any) {
	c.e.t.Helper()
	h := http.Header{"Origin": {c.e.base}}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	if c.hc.Jar != nil {
		u, _ := http.NewRequest("GET", c.e.base, nil)
		for _, ck := range c.hc.Jar.Cookies(u.URL) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
	}
	w, err := dialWS(c.e.t, "ws"+strings.TrimPrefix(c.e.base, "http")+"/api/v1/ws", h)
	if err != nil {
		c.e.t.Fatal(err)
	}
	w.send(map[string]any{"type": "hello", "resume": []any{}})
	return w, w.next("ready")
}

// widgetOn gives inbox id a chat widget.
func (e *env) widgetOn(inboxID uint64) *parley.Widget {
	e.t.Helper()
	w := parley.DefaultWidget(inboxID)
	if err := e.db.CreateWidget(context.Background(), w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// chatOn connects a new visitor to widget w and has them write text. It
// returns the visitor and the thread id.
func (e *env) chatOn(w *parley.Widget, text string) (*wsClient, string) {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.base, "http") + "/widget/v1/ws?widgetId=" + fmt.Sprint(w.ID)
	v, err := dialWS(e.t, url, http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		e.t.Fatal(err)
	}
	v.send(map[string]any{"type": "hello", "pageUrl": "http://customer.example/"})
	v.next("ready")
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": text})
	return v, msgOf(v.next("message.ack"))["threadId"].(string)
}

// until reads w's events until one matches stop (which is returned last),
// failing after 5s.
func (w *wsClient) until(stop func(ev map[string]any) bool) []map[string]any {
	w.tb.Helper()
	var out []map[string]any
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-w.events:
			out = append(out, ev)
			if stop(ev) {
				return out
			}
		case <-deadline:
			w.tb.Fatalf("no matching event within 5s; got %v", out)
			return nil
		}
	}
}

// messageIn matches a message.created event of thread id with text.
func messageIn(id, text string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		m := msgOf(ev)
		return ev["type"] == "message.created" && m["threadId"] == id && m["text"] == text
	}
}

// mentions reports whether any event names thread id.
func mentions(evs []map[string]any, id string) bool {
	for _, ev := range evs {
		if msgOf(ev)["threadId"] == id || ev["threadId"] == id {
			return true
		}
		if th, ok := ev["thread"].(map[string]any); ok && th["id"] == id {
			return true
		}
	}
	return false
}

func TestUsersList(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	admin.want(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", ann.ID), map[string]any{"deactivated": true, "routingSeat": false})
	e.addAgent("bob@example.com", true)

	for _, who := range []string{"admin@example.com", "bob@example.com"} {
		c := e.login(who)
		var list struct {
			Results []struct {
				ID, Email, Role, State   string
				RoutingSeat, Deactivated bool
			}
		}
		c.want(200, "GET", "/api/v1/users", nil).decode(t, &list)
		got := fmt.Sprint(list.Results)
		want := fmt.Sprintf("[{%d admin@example.com admin offline true false} {%d ann@example.com agent offline false true} {3 bob@example.com agent offline true false}]", e.admin.ID, ann.ID)
		if got != want {
			t.Errorf("%s lists %s, want %s", who, got, want)
		}
		var one struct{ Email string }
		c.want(200, "GET", fmt.Sprintf("/api/v1/users/%d", ann.ID), nil).decode(t, &one)
		if one.Email != "ann@example.com" {
			t.Errorf("user %d=%+v", ann.ID, one)
		}
		c.want(404, "GET", "/api/v1/users/99", nil)
		c.want(404, "GET", "/api/v1/users/x", nil)
	}
}

func TestUserPatch(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	agent := e.login("ann@example.com")
	self := fmt.Sprintf("/api/v1/users/%d", e.admin.ID)
	annPath := fmt.Sprintf("/api/v1/users/%d", ann.ID)
	for _, tt := range []struct {
		name   string
		c      *client
		path   string
		body   any
		status int
		want   string // in the body
	}{
		{"agents may not", agent, annPath, map[string]any{"routingSeat": false}, 403, "only admins"},
		{"missing user", admin, "/api/v1/users/99", map[string]any{}, 404, "not found"},
		{"bad id", admin, "/api/v1/users/abc", map[string]any{}, 404, "not found"},
		{"bad role", admin, annPath, map[string]any{"role": "owner"}, 400, "role must be admin or agent"},
		{"blank name", admin, annPath, map[string]any{"name": "  "}, 400, "name is required"},
		{"control character", admin, annPath, map[string]any{"name": "Ann\nX"}, 400, "control character"},
		{"long name", admin, annPath, map[string]any{"name": strings.Repeat("a", 257)}, 400, "longer than 256 bytes"},
		{"wrong type", admin, annPath, `{"routingSeat":"yes"}`, 400, `\"routingSeat\" must be bool`},
		{"malformed", admin, annPath, `{"name":`, 400, "malformed JSON"},
		{"last admin may not step down", admin, self, map[string]any{"role": "agent"}, 409, "last active admin"},
		{"last admin may not deactivate themselves", admin, self, map[string]any{"deactivated": true}, 409, "last active admin"},
		{"rename and unseat", admin, annPath, map[string]any{"name": "Ann Agent", "routingSeat": false}, 200, `"name":"Ann Agent"`},
		{"empty change", admin, annPath, map[string]any{}, 200, `"routingSeat":false`},
		{"promote", admin, annPath, map[string]any{"role": "admin"}, 200, `"role":"admin"`},
		{"now the first admin may step down", admin, self, map[string]any{"role": "agent"}, 200, `"role":"agent"`},
		{"and is an agent at once", admin, annPath, map[string]any{"role": "agent"}, 403, "only admins"},
		{"the new admin may act", agent, self, map[string]any{"role": "admin"}, 200, `"role":"admin"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("PATCH", tt.path, tt.body, nil)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.want) {
				t.Fatalf("status=%d body=%s, want %d with %s", res.status, res.body, tt.status, tt.want)
			}
		})
	}
	got, _ := e.db.User(context.Background(), ann.ID)
	if got.Name != "Ann Agent" || got.RoutingSeat || got.Role != parley.RoleAdmin {
		t.Errorf("stored=%+v", got)
	}
}

// TestDeactivate: deactivating a user ends their open consoles with 4401,
// their session and tokens at once, keeps their messages, and reactivating
// needs a new sign-in.
func TestDeactivate(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	adminWS, _ := admin.socket()
	tid := startChat(t, e, "hello")
	annC := e.login("ann@example.com")
	annC.want(201, "POST", v3+"/threads/"+tid+"/messages", map[string]string{"text": "Hi, Ann here."})
	annTok := annC.bearer()
	cookieWS, _ := annC.socket()
	tokenWS, _ := annTok.socket()

	path := fmt.Sprintf("/api/v1/users/%d", ann.ID)
	var u struct {
		Deactivated bool
		State       string
	}
	admin.want(200, "PATCH", path, map[string]bool{"deactivated": true}).decode(t, &u)
	if !u.Deactivated {
		t.Fatalf("patched=%+v", u)
	}
	for name, ws := range map[string]*wsClient{"cookie": cookieWS, "token": tokenWS} {
		if code := ws.closeStatus(); code != 4401 {
			t.Errorf("%s socket closed with %d, want 4401", name, code)
		}
	}
	annC.want(401, "GET", "/api/v1/users/me", nil)
	annTok.want(401, "GET", "/api/v1/users/me", nil)
	annTok.want(401, "GET", v3+"/threads/"+tid, nil)
	cl := &client{e: e, hc: e.ts.Client()}
	cl.want(401, "POST", "/api/v1/session", map[string]string{"email": "ann@example.com", "password": testPassword})
	// A socket opened now is refused too.
	h := http.Header{"Origin": {e.base}, "Authorization": {"Bearer " + annTok.token}}
	if _, err := dialWS(t, "ws"+strings.TrimPrefix(e.base, "http")+"/api/v1/ws", h); err == nil {
		t.Error("a deactivated user's token opened a socket")
	}
	// Every console hears of it.
	ev := adminWS.next("user.updated")
	if user, _ := ev["user"].(map[string]any); user["id"] != fmt.Sprint(ann.ID) || user["deactivated"] != true {
		t.Errorf("user.updated=%v", ev)
	}
	// History stays, with the name.
	msg := admin.want(200, "GET", v3+"/threads/"+tid+"/messages", nil)
	if !strings.Contains(string(msg.body), `"name":"ann"`) || !strings.Contains(string(msg.body), "Hi, Ann here.") {
		t.Errorf("messages=%s", msg.body)
	}
	// Reactivated: a new sign-in works; the old token does not come back.
	admin.want(200, "PATCH", path, map[string]bool{"deactivated": false})
	annTok.want(401, "GET", "/api/v1/users/me", nil)
	again := e.login("ann@example.com")
	again.want(200, "GET", v3+"/threads/"+tid, nil)
}

func TestInvites(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	agent := e.login("ann@example.com")
	var sales struct{ ID string }
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Sales", "memberIds": []uint64{e.admin.ID}}).decode(t, &sales)

	for _, tt := range []struct {
		name   string
		c      *client
		body   any
		status int
		want   string
	}{
		{"agents may not", agent, map[string]any{"email": "new@example.com"}, 403, "only admins"},
		{"no email", admin, map[string]any{"role": "agent"}, 400, "not a valid address"},
		{"bad email", admin, map[string]any{"email": "new at example.com"}, 400, "not a valid address"},
		{"bad role", admin, map[string]any{"email": "new@example.com", "role": "root"}, 400, "role must be admin or agent"},
		{"unknown inbox", admin, map[string]any{"email": "new@example.com", "inboxIds": []string{"999"}}, 400, "inbox 999 does not exist"},
		{"bad inbox id", admin, map[string]any{"email": "new@example.com", "inboxIds": []string{"x"}}, 400, `\"inboxIds\" must be string`},
		{"existing user", admin, map[string]any{"email": "ANN@example.com"}, 409, "already exists"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("POST", "/api/v1/invites", tt.body, nil)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.want) {
				t.Fatalf("status=%d body=%s, want %d with %s", res.status, res.body, tt.status, tt.want)
			}
		})
	}

	adminWS, _ := admin.socket()
	var inv struct {
		ID, URL, Email, Role string
		RoutingSeat          bool
		InboxIDs             []string
		ExpiresAt            time.Time
	}
	admin.want(201, "POST", "/api/v1/invites", map[string]any{"email": "new@example.com", "role": "agent", "routingSeat": true,
		"inboxIds": []any{sales.ID, sales.ID}}).decode(t, &inv)
	if !strings.HasPrefix(inv.URL, e.base+"/invite?token=pi_") || inv.Email != "new@example.com" || !slices.Equal(inv.InboxIDs, []string{sales.ID}) ||
		time.Until(inv.ExpiresAt) < 7*24*time.Hour-time.Minute || time.Until(inv.ExpiresAt) > 7*24*time.Hour {
		t.Fatalf("invite=%+v", inv)
	}
	token := strings.TrimPrefix(inv.URL, e.base+"/invite?token=")
	var pending struct {
		Results []struct{ ID, Email, URL string }
	}
	admin.want(200, "GET", "/api/v1/invites", nil).decode(t, &pending)
	if len(pending.Results) != 1 || pending.Results[0].Email != "new@example.com" || pending.Results[0].URL != "" || pending.Results[0].ID != inv.ID {
		t.Fatalf("pending=%+v", pending)
	}
	agent.want(403, "GET", "/api/v1/invites", nil)

	// The page of the link.
	anon := &client{e: e, hc: e.ts.Client()}
	page := anon.want(200, "GET", "/invite?token="+token, nil)
	if !strings.Contains(string(page.body), "new@example.com") || !strings.Contains(page.header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(page.body), `src="`+console.URL("invite.js")+`"`) {
		t.Fatalf("invite page: %v %s", page.header, page.body)
	}
	if bad := anon.want(404, "GET", "/invite?token=pi_nope", nil); !strings.Contains(string(bad.body), "not valid") {
		t.Fatalf("bad link page: %s", bad.body)
	}
	if de := anon.do("GET", "/invite?token="+token, nil, map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}); !strings.Contains(string(de.body), `lang="de"`) ||
		!strings.Contains(string(de.body), "Konto erstellen") {
		t.Fatalf("German invite page: %s", de.body)
	}
	anon.want(200, "GET", console.URL("invite.js"), nil)

	jar, _ := cookiejar.New(nil)
	newbie := &client{e: e, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	for _, tt := range []struct {
		name   string
		body   any
		header map[string]string
		status int
		want   string
	}{
		{"cross-site", map[string]string{"token": token, "password": testPassword}, map[string]string{"Origin": "http://evil.example"}, 403, "cross-site"},
		{"wrong token", map[string]string{"token": "pi_nope", "password": testPassword}, nil, 404, "not valid"},
		{"no token", map[string]string{"password": testPassword}, nil, 404, "not valid"},
		{"short password", map[string]string{"token": token, "password": "short"}, nil, 400, "at least 10"},
		{"bad name", map[string]string{"token": token, "name": "a\x01b", "password": testPassword}, nil, 400, "control character"},
	} {
		t.Run("accept "+tt.name, func(t *testing.T) {
			res := newbie.do("POST", "/api/v1/invites/accept", tt.body, tt.header)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.want) {
				t.Fatalf("status=%d body=%s, want %d with %s", res.status, res.body, tt.status, tt.want)
			}
		})
	}
	newbie.want(201, "POST", "/api/v1/invites/accept", map[string]string{"token": token, "name": "Nia New", "password": testPassword})
	var me struct{ ID, Email, Name, Role string }
	newbie.want(200, "GET", "/api/v1/users/me", nil).decode(t, &me)
	if me.Email != "new@example.com" || me.Name != "Nia New" || me.Role != "agent" {
		t.Fatalf("me=%+v", me)
	}
	var mine struct{ Results []struct{ ID, Name string } }
	newbie.want(200, "GET", v3+"/inboxes", nil).decode(t, &mine)
	if len(mine.Results) != 1 || mine.Results[0].ID != sales.ID {
		t.Fatalf("new user's inboxes=%+v", mine)
	}
	if u, _ := e.db.UserByEmail(context.Background(), "new@example.com"); !u.RoutingSeat {
		t.Errorf("routing seat not taken from the invite: %+v", u)
	}
	// The consoles of the inbox learn about the new member and user.
	evs := adminWS.until(func(ev map[string]any) bool { return ev["type"] == "inbox.updated" })
	if ev := evs[len(evs)-1]; !strings.Contains(fmt.Sprint(ev["inbox"]), me.ID) {
		t.Errorf("inbox.updated=%v", ev)
	}
	if !slices.ContainsFunc(evs, func(ev map[string]any) bool {
		u, _ := ev["user"].(map[string]any)
		return ev["type"] == "user.updated" && u["email"] == "new@example.com"
	}) {
		t.Errorf("no user.updated before inbox.updated: %v", evs)
	}
	// The link works once; the password signs in.
	anon.want(404, "POST", "/api/v1/invites/accept", map[string]string{"token": token, "password": testPassword})
	anon.want(404, "GET", "/invite?token="+token, nil)
	e.login("new@example.com")
	admin.want(200, "GET", "/api/v1/invites", nil).decode(t, &pending)
	if len(pending.Results) != 0 {
		t.Fatalf("pending after accept=%+v", pending)
	}

	// Revoking a link.
	admin.want(201, "POST", "/api/v1/invites", map[string]any{"email": "later@example.com"}).decode(t, &inv)
	if inv.Role != "agent" || inv.RoutingSeat || len(inv.InboxIDs) != 0 {
		t.Errorf("defaults=%+v", inv)
	}
	agent.want(403, "DELETE", "/api/v1/invites/"+inv.ID, nil)
	admin.want(204, "DELETE", "/api/v1/invites/"+inv.ID, nil)
	admin.want(404, "DELETE", "/api/v1/invites/"+inv.ID, nil)
	anon.want(404, "POST", "/api/v1/invites/accept", map[string]string{"token": strings.TrimPrefix(inv.URL, e.base+"/invite?token="), "password": testPassword})
}

func TestTeams(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	agent := e.login("ann@example.com")
	var sales struct {
		ID, Name  string
		MemberIDs []string
	}
	admin.want(201, "POST", "/api/v1/teams", map[string]any{"name": " Sales ", "memberIds": []any{e.admin.ID, fmt.Sprint(ann.ID), ann.ID}}).decode(t, &sales)
	if sales.Name != "Sales" || fmt.Sprint(sales.MemberIDs) != fmt.Sprintf("[%d %d]", e.admin.ID, ann.ID) {
		t.Fatalf("created=%+v", sales)
	}
	admin.want(201, "POST", "/api/v1/teams", map[string]any{"name": "Care"})
	teamPath := "/api/v1/teams/" + sales.ID
	for _, tt := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		status       int
		want         string
	}{
		{"agents may not list", agent, "GET", "/api/v1/teams", nil, 403, "only admins"},
		{"agents may not create", agent, "POST", "/api/v1/teams", map[string]any{"name": "X"}, 403, "only admins"},
		{"agents may not change", agent, "PATCH", teamPath, map[string]any{"name": "X"}, 403, "only admins"},
		{"agents may not delete", agent, "DELETE", teamPath, nil, 403, "only admins"},
		{"name required", admin, "POST", "/api/v1/teams", map[string]any{"memberIds": []string{}}, 400, "name is required"},
		{"name taken", admin, "POST", "/api/v1/teams", map[string]any{"name": "SALES"}, 409, "already exists"},
		{"unknown member", admin, "POST", "/api/v1/teams", map[string]any{"name": "X", "memberIds": []string{"42"}}, 400, "user 42 does not exist"},
		{"members not a list", admin, "POST", "/api/v1/teams", `{"name":"X","memberIds":"1"}`, 400, `\"memberIds\" must be array`},
		{"rename to a taken name", admin, "PATCH", teamPath, map[string]any{"name": "care"}, 409, "already exists"},
		{"rename", admin, "PATCH", teamPath, map[string]any{"name": "Sales EU"}, 200, `"name":"Sales EU"`},
		{"same name, other case", admin, "PATCH", teamPath, map[string]any{"name": "Sales eu"}, 200, `"name":"Sales eu"`},
		{"members", admin, "PATCH", teamPath, map[string]any{"memberIds": []any{ann.ID}}, 200, fmt.Sprintf(`"memberIds":["%d"]`, ann.ID)},
		{"missing team", admin, "PATCH", "/api/v1/teams/99", map[string]any{"name": "Y"}, 404, "not found"},
		{"list", admin, "GET", "/api/v1/teams", nil, 200, `"name":"Care"`},
		{"delete", admin, "DELETE", teamPath, nil, 204, ""},
		{"delete again", admin, "DELETE", teamPath, nil, 404, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do(tt.method, tt.path, tt.body, nil)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.want) {
				t.Fatalf("status=%d body=%s, want %d with %s", res.status, res.body, tt.status, tt.want)
			}
		})
	}
	teams, _ := e.db.Teams(context.Background())
	if len(teams) != 1 || teams[0].Name != "Care" {
		t.Fatalf("teams=%+v", teams)
	}
}

func TestInboxSettings(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", false)
	admin := e.login("admin@example.com")
	agent := e.login("ann@example.com")
	var sales struct {
		ID, Name  string
		MemberIDs []string
	}
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Sales", "memberIds": []any{ann.ID}}).decode(t, &sales)
	salesPath := "/api/v1/inboxes/" + sales.ID
	supportPath := fmt.Sprintf("/api/v1/inboxes/%d", e.inbox.ID)
	for _, tt := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		status       int
		want         string
	}{
		{"admins list all", admin, "GET", "/api/v1/inboxes", nil, 200, fmt.Sprintf(`"name":"Support","memberIds":["%d"]`, e.admin.ID)},
		{"members list theirs", agent, "GET", "/api/v1/inboxes", nil, 200, fmt.Sprintf(`{"results":[{"id":"%s","name":"Sales","memberIds":["%d"]`, sales.ID, ann.ID)},
		{"members read theirs", agent, "GET", salesPath, nil, 200, `"name":"Sales"`},
		{"others are not found", agent, "GET", supportPath, nil, 404, "not found"},
		{"admins read any", admin, "GET", salesPath, nil, 200, `"name":"Sales"`},
		{"agents may not create", agent, "POST", "/api/v1/inboxes", map[string]any{"name": "X"}, 403, "only admins"},
		{"agents may not change", agent, "PATCH", salesPath, map[string]any{"name": "X"}, 403, "only admins"},
		{"agents may not delete", agent, "DELETE", salesPath, map[string]any{"confirmName": "Sales"}, 403, "only admins"},
		{"name required", admin, "POST", "/api/v1/inboxes", map[string]any{"name": ""}, 400, "name is required"},
		{"name taken", admin, "POST", "/api/v1/inboxes", map[string]any{"name": "support"}, 409, "already exists"},
		{"unknown member", admin, "POST", "/api/v1/inboxes", map[string]any{"name": "X", "memberIds": []string{"42"}}, 400, "user 42 does not exist"},
		{"rename to a taken name", admin, "PATCH", salesPath, map[string]any{"name": "SUPPORT"}, 409, "already exists"},
		{"rename", admin, "PATCH", salesPath, map[string]any{"name": "Sales EU"}, 200, `"name":"Sales EU"`},
		{"missing inbox", admin, "PATCH", "/api/v1/inboxes/99", map[string]any{"name": "Y"}, 404, "not found"},
		{"delete: no body", admin, "DELETE", salesPath, nil, 400, "empty"},
		{"delete: wrong name", admin, "DELETE", salesPath, map[string]any{"confirmName": "Sales"}, 400, `exact name, \"Sales EU\"`},
		{"delete: other case", admin, "DELETE", salesPath, map[string]any{"confirmName": "sales eu"}, 400, "exact name"},
		{"delete: missing", admin, "DELETE", "/api/v1/inboxes/99", map[string]any{"confirmName": "X"}, 404, "not found"},
		{"delete", admin, "DELETE", salesPath, map[string]any{"confirmName": "Sales EU"}, 204, ""},
		{"delete again", admin, "DELETE", salesPath, map[string]any{"confirmName": "Sales EU"}, 404, "not found"},
		{"the last inbox stays", admin, "DELETE", supportPath, map[string]any{"confirmName": "Support"}, 409, "one must remain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do(tt.method, tt.path, tt.body, nil)
			if res.status != tt.status || !strings.Contains(string(res.body), tt.want) {
				t.Fatalf("status=%d body=%s, want %d with %s", res.status, res.body, tt.status, tt.want)
			}
		})
	}
	// The settings screens are deep links into the console.
	for _, path := range []string{"/settings", "/settings/inboxes"} {
		res := admin.want(200, "GET", path, nil)
		if !strings.Contains(string(res.body), console.URL("app.js")) {
			t.Errorf("GET %s: %s", path, res.body)
		}
	}
}

// TestInboxIsolation: an agent of inbox A finds nothing of inbox B, by id,
// list or socket, and gets none of its events.
func TestInboxIsolation(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true) // a member of Support (A) only
	admin := e.login("admin@example.com")
	var b struct{ ID string }
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Billing", "memberIds": []any{e.admin.ID}}).decode(t, &b)
	inboxB := mustUint64(t, b.ID)
	wB := e.widgetOn(inboxB)
	vB, tidB := e.chatOn(wB, "secret of B")
	tidA := startChat(t, e, "hello A")
	var msgB struct{ Results []struct{ ID string } }
	admin.want(200, "GET", v3+"/threads/"+tidB+"/messages", nil).decode(t, &msgB)

	ann := e.login("ann@example.com")
	annWS, ready := ann.socket()
	if fmt.Sprint(ready["inboxIds"]) != fmt.Sprintf("[%d]", e.inbox.ID) {
		t.Fatalf("ready inboxIds=%v", ready["inboxIds"])
	}
	th := v3 + "/threads/" + tidB
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", th, nil},
		{"GET", th + "/messages", nil},
		{"GET", th + "/messages/" + msgB.Results[0].ID, nil},
		{"POST", th + "/messages", map[string]string{"text": "hi"}},
		{"PATCH", th, map[string]string{"status": "CLOSED"}},
		{"PUT", th + "/assignee", map[string]string{"actorId": e.admin.ActorID()}},
		{"DELETE", th + "/assignee", nil},
		{"DELETE", th, nil},
		{"GET", v3 + "/inboxes/" + b.ID, nil},
		{"GET", v3 + "/channel-accounts/" + fmt.Sprint(wB.ID), nil},
		{"GET", "/api/v1/inboxes/" + b.ID, nil},
	} {
		if res := ann.do(tc.method, tc.path, tc.body, nil); res.status != 404 {
			t.Errorf("%s %s: status=%d, want 404", tc.method, tc.path, res.status)
		}
	}
	for _, q := range []string{"", "?inboxId=" + b.ID, "?archived=true", "?sort=-latestMessageTimestamp"} {
		var list struct{ Results []struct{ ID string } }
		ann.want(200, "GET", v3+"/threads"+q, nil).decode(t, &list)
		for _, r := range list.Results {
			if r.ID == tidB {
				t.Errorf("GET threads%s lists inbox B's thread", q)
			}
		}
	}
	var inboxes struct{ Results []struct{ ID string } }
	ann.want(200, "GET", "/api/v1/inboxes", nil).decode(t, &inboxes)
	if len(inboxes.Results) != 1 || inboxes.Results[0].ID != fmt.Sprint(e.inbox.ID) {
		t.Errorf("inboxes=%+v", inboxes)
	}

	// The socket: resume, send and typing on B's thread are not found, and
	// B's events never arrive (the marker in A comes after B's message).
	resumed, _ := ann.socketResume(tidB)
	if ev := resumed.next("error", "message.created"); ev["code"] != "not_found" {
		t.Errorf("resume B got %v", ev)
	}
	for _, f := range []map[string]any{
		{"type": "message.send", "threadId": tidB, "clientId": "x", "text": "hi"},
		{"type": "typing", "threadId": tidB},
	} {
		annWS.send(f)
		if ev := annWS.next("error"); ev["code"] != "not_found" {
			t.Errorf("%v got %v", f["type"], ev)
		}
	}
	vB.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "more of B"})
	vB.next("message.ack")
	ann.want(201, "POST", v3+"/threads/"+tidA+"/messages", map[string]string{"text": "marker"})
	if evs := annWS.until(messageIn(tidA, "marker")); mentions(evs, tidB) {
		t.Errorf("ann got inbox B's events: %v", evs)
	}
}

// socketResume opens c's agent socket resuming thread id from seq 0.
func (c *client) socketResume(id string) (*wsClient, map[string]any) {
	c.e.t.Helper()
	return c.agentWS(map[string]any{"threadId": id, "lastSeq": 0})
}

func mustUint64(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	if _, err := fmt.Sscan(s, &n); err != nil || n == 0 {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}

// TestMembershipLive: a member added to an inbox gets its events on an open
// console at once; removed, they stop at once, are told, and find its
// threads not found.
func TestMembershipLive(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	var b struct{ ID string }
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Billing", "memberIds": []any{e.admin.ID}}).decode(t, &b)
	wB := e.widgetOn(mustUint64(t, b.ID))
	annC := e.login("ann@example.com")
	annWS, _ := annC.socket()

	path := "/api/v1/inboxes/" + b.ID
	admin.want(200, "PATCH", path, map[string]any{"memberIds": []any{e.admin.ID, ann.ID}})
	ev := annWS.next("inbox.updated")
	if in, _ := ev["inbox"].(map[string]any); in["id"] != b.ID || in["name"] != "Billing" {
		t.Fatalf("inbox.updated=%v", ev)
	}
	vB, tidB := e.chatOn(wB, "new in B")
	annWS.until(messageIn(tidB, "new in B"))
	annC.want(200, "GET", v3+"/threads/"+tidB, nil)
	annC.want(201, "POST", v3+"/threads/"+tidB+"/messages", map[string]string{"text": "I can answer"})

	admin.want(200, "PATCH", path, map[string]any{"memberIds": []any{e.admin.ID}})
	ev = annWS.next("inbox.deleted")
	if ev["inboxId"] != b.ID || ev["reason"] != "removed" {
		t.Fatalf("inbox.deleted=%v", ev)
	}
	annC.want(404, "GET", v3+"/threads/"+tidB, nil)
	annC.want(404, "POST", v3+"/threads/"+tidB+"/messages", map[string]string{"text": "still here?"})
	annWS.send(map[string]any{"type": "message.send", "threadId": tidB, "clientId": "y", "text": "hi"})
	if ev := annWS.next("error"); ev["code"] != "not_found" {
		t.Errorf("send after removal got %v", ev)
	}
	vB.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "after removal"})
	vB.next("message.ack")
	tidA := startChat(t, e, "marker in A")
	if evs := annWS.until(messageIn(tidA, "marker in A")); mentions(evs, tidB) {
		t.Errorf("ann still got inbox B's events: %v", evs)
	}
	// Added again, a second console of hers that was open all along gets
	// the events as well.
	annWS2, _ := annC.socket()
	admin.want(200, "PATCH", path, map[string]any{"memberIds": []any{ann.ID, e.admin.ID}})
	vB.send(map[string]any{"type": "message.send", "clientId": "c3", "text": "welcome back"})
	for _, ws := range []*wsClient{annWS, annWS2} {
		ws.until(messageIn(tidB, "welcome back"))
	}
}

// TestDeleteInboxLive: deleting an inbox removes its widgets, threads and
// messages for good and tells the consoles and the visitors.
func TestDeleteInboxLive(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	var b struct{ ID string }
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Billing", "memberIds": []any{e.admin.ID, ann.ID}}).decode(t, &b)
	inboxB := mustUint64(t, b.ID)
	wB := e.widgetOn(inboxB)
	vB, tidB := e.chatOn(wB, "about my bill")
	annC := e.login("ann@example.com")
	annWS, _ := annC.socket()
	adminWS, _ := admin.socket()

	admin.want(204, "DELETE", "/api/v1/inboxes/"+b.ID, map[string]string{"confirmName": "Billing"})
	for name, ws := range map[string]*wsClient{"ann": annWS, "admin": adminWS} {
		ev := ws.next("inbox.deleted")
		if ev["inboxId"] != b.ID || ev["reason"] != "deleted" {
			t.Errorf("%s got %v", name, ev)
		}
	}
	// The visitor's launcher hides.
	vB.until(func(ev map[string]any) bool {
		st, _ := ev["status"].(map[string]any)
		return ev["type"] == "status" && st["showLauncher"] == false && st["available"] == false
	})
	admin.want(404, "GET", v3+"/threads/"+tidB, nil)
	admin.want(404, "GET", v3+"/threads/"+tidB+"/messages", nil)
	admin.want(404, "GET", v3+"/inboxes/"+b.ID, nil)
	admin.want(404, "GET", "/api/v1/inboxes/"+b.ID, nil)
	admin.want(404, "GET", fmt.Sprintf("/api/v1/widgets/%d", wB.ID), nil)
	ctx := context.Background()
	all, _, err := e.db.Threads(ctx, storeAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range all {
		if th.InboxID == inboxB {
			t.Errorf("thread %d of the deleted inbox remains", th.ID)
		}
	}
	// The visitor's chat is gone; a new one cannot start on the widget.
	vB.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "hello?"})
	if ev := vB.next("error"); ev["code"] != "not_found" {
		t.Errorf("visitor send after delete got %v", ev)
	}
	url := "ws" + strings.TrimPrefix(e.base, "http") + "/widget/v1/ws?widgetId=" + fmt.Sprint(wB.ID)
	v2, err := dialWS(t, url, http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if code := v2.closeStatus(); code != 4404 {
		t.Errorf("new visitor on the deleted widget: close %d, want 4404", code)
	}
	if all, _, _ := e.db.Threads(ctx, storeAll()); len(all) != 0 {
		t.Errorf("threads after delete: %d", len(all))
	}
	// The consoles go on with the inboxes that remain.
	tidA := startChat(t, e, "still here in A")
	annWS.until(messageIn(tidA, "still here in A"))
	var ready map[string]any
	_, ready = annC.socket()
	if fmt.Sprint(ready["inboxIds"]) != fmt.Sprintf("[%d]", e.inbox.ID) {
		t.Errorf("ready inboxIds=%v", ready["inboxIds"])
	}
}
