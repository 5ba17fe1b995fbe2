package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
)

// Tests of credentials: what an API token's scopes allow, that only an
// admin-scoped token makes visitor identification tokens, that listing and
// revoking tokens stays with their owners and admins, and that every way a
// credential ends closes the sockets it opened before the request returns.

// tokenInfo is a token as POST and GET /api/v1/tokens show it.
type tokenInfo struct {
	ID, Name, Token, UserID, LastUsedAt string
	Scopes                              []string
}

// newToken makes an API token of c's user with scopes (nil: none given) and
// returns a bearer client for it and what the answer said.
func (c *client) newToken(name string, scopes []string) (*client, tokenInfo) {
	c.e.t.Helper()
	body := map[string]any{"name": name}
	if scopes != nil {
		body["scopes"] = scopes
	}
	var tok tokenInfo
	c.want(201, "POST", "/api/v1/tokens", body).decode(c.e.t, &tok)
	return &client{e: c.e, hc: &http.Client{Timeout: 10 * time.Second}, token: tok.Token}, tok
}

// assertClosed waits for ws to end and checks its close code.
func assertClosed(t *testing.T, name string, ws *wsClient, want websocket.StatusCode) {
	t.Helper()
	select {
	case <-ws.done:
	case <-time.After(2 * time.Second):
		t.Errorf("%s: socket still open 2s after the credential ended", name)
		return
	}
	if got := websocket.CloseStatus(ws.err); got != want {
		t.Errorf("%s: close code=%d (%v), want %d", name, got, ws.err, want)
	}
}

// assertOpen checks that ws still gets events: it must see thread tid's
// next message.created.
func assertOpen(t *testing.T, name string, ws *wsClient, tid string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ws.events:
			if ev["type"] == "message.created" && msgOf(ev)["threadId"] == tid {
				return
			}
		case <-ws.done:
			t.Errorf("%s: socket closed (%v), want it open", name, ws.err)
			return
		case <-deadline:
			t.Errorf("%s: no message.created of thread %s within 5s", name, tid)
			return
		}
	}
}

// assertNoMessage checks that ws, already closed, never got a message of
// thread tid.
func assertNoMessage(t *testing.T, name string, ws *wsClient, tid string) {
	t.Helper()
	for {
		select {
		case ev := <-ws.events:
			if ev["type"] == "message.created" && msgOf(ev)["threadId"] == tid {
				t.Errorf("%s: got %v after its credential ended", name, ev)
			}
		default:
			return
		}
	}
}

// TestIdentificationTokenNeedsAdminToken: an agent of one inbox cannot mint
// an identification token for another inbox's customer (and so cannot chat
// as them or rename them), with their session or any token of theirs; an
// admin's console session cannot either, nor an admin token without the
// admin scope. Only an admin-scoped API token can.
func TestIdentificationTokenNeedsAdminToken(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addAgent("ann@example.com", true) // inbox A: Support
	grace := &parley.Contact{Email: "grace@b.example", FirstName: "Grace", LastName: "Hopper"}
	if err := e.db.CreateContact(ctx, grace); err != nil { // inbox B's customer
		t.Fatal(err)
	}
	ann := e.login("ann@example.com")
	annTok, _ := ann.newToken("ann's script", nil)
	admin := e.login("admin@example.com")
	adminRW, _ := admin.newToken("rw", []string{"read", "write"})
	adminTok, _ := admin.newToken("site back end", nil)

	attack := map[string]string{"email": "grace@b.example", "firstName": "Mallory"}
	for _, tt := range []struct {
		name string
		c    *client
		want int
	}{
		{"agent session", ann, 403},
		{"agent token", annTok, 403},
		{"admin session", admin, 403},
		{"admin token without the admin scope", adminRW, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("POST", "/visitor-identification/v3/tokens/create", attack, nil)
			if res.status != tt.want || !strings.Contains(string(res.body), "admin scope") {
				t.Errorf("status=%d body=%s, want %d naming the admin scope", res.status, res.body, tt.want)
			}
		})
	}
	if c, err := e.db.ContactByEmail(ctx, "grace@b.example"); err != nil || c.FirstName != "Grace" {
		t.Fatalf("contact after refused requests: %+v, %v", c, err)
	}
	st, tok := createIdentToken(t, adminTok, map[string]string{"email": "grace@b.example"})
	if st != 200 || !strings.HasPrefix(tok, "pit_") {
		t.Fatalf("admin token: %d %q", st, tok)
	}
}

// TestSignOutClosesSocket: signing out closes that session's sockets before
// the answer, and they get nothing afterwards; the user's other session and
// token keep theirs.
func TestSignOutClosesSocket(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true)
	s1, s2 := e.login("ann@example.com"), e.login("ann@example.com")
	tok, _ := s2.newToken("script", nil)
	ws1, _ := s1.socket()
	ws1b, _ := s1.socket() // a second tab of the same session
	ws2, _ := s2.socket()
	wsTok, _ := tok.socket()

	s1.want(204, "DELETE", "/api/v1/session", nil)
	assertClosed(t, "signed-out session", ws1, 4401)
	assertClosed(t, "signed-out session, second tab", ws1b, 4401)
	s1.want(401, "GET", "/api/v1/users/me", nil)

	tid := startChat(t, e, "Anyone there?")
	assertOpen(t, "other session", ws2, tid)
	assertOpen(t, "token", wsTok, tid)
	assertNoMessage(t, "signed-out session", ws1, tid)

	// A token signing itself out ends itself, sockets included.
	tok.want(204, "DELETE", "/api/v1/session", nil)
	assertClosed(t, "token after its own sign-out", wsTok, 4401)
	tok.want(401, "GET", "/api/v1/users/me", nil)
	s2.want(200, "GET", "/api/v1/users/me", nil)
}

// TestRevokeTokenClosesSockets: revoking a token ends it and the sockets it
// opened at once; other tokens and sessions are untouched.
func TestRevokeTokenClosesSockets(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true)
	ann := e.login("ann@example.com")
	tok, info := ann.newToken("leaked", nil)
	keep, _ := ann.newToken("keep", nil)
	wsTok, _ := tok.socket()
	wsKeep, _ := keep.socket()
	wsSess, _ := ann.socket()

	ann.want(204, "DELETE", "/api/v1/tokens/"+info.ID, nil)
	assertClosed(t, "revoked token", wsTok, 4401)
	tok.want(401, "GET", "/api/v1/users/me", nil)
	ann.want(404, "DELETE", "/api/v1/tokens/"+info.ID, nil)

	tid := startChat(t, e, "Hello")
	assertOpen(t, "other token", wsKeep, tid)
	assertOpen(t, "session", wsSess, tid)
	assertNoMessage(t, "revoked token", wsTok, tid)
	keep.want(200, "GET", "/api/v1/users/me", nil)
}

// TestRoleChangeClosesSockets: demoting an admin closes their sockets (they
// reconnect with the new rights) and takes the admin scope from their
// tokens, so that promoting them again does not bring it back.
// Deactivation is TestDeactivate's.
func TestRoleChangeClosesSockets(t *testing.T) {
	e := newEnv(t, nil)
	bo := e.addAgent("bo@example.com", true)
	admin := e.login("admin@example.com")
	path := fmt.Sprintf("/api/v1/users/%d", bo.ID)
	admin.want(200, "PATCH", path, map[string]string{"role": "admin"})
	boC := e.login("bo@example.com")
	boTok, _ := boC.newToken("bo's admin script", nil)
	boTok.want(200, "GET", "/api/v1/widgets", nil)
	wsC, ready := boC.socket()
	if u, _ := ready["user"].(map[string]any); u["role"] != "admin" {
		t.Fatalf("ready=%v", ready)
	}
	wsT, _ := boTok.socket()

	admin.want(200, "PATCH", path, map[string]string{"role": "agent"})
	assertClosed(t, "session socket", wsC, 4205)
	assertClosed(t, "token socket", wsT, 4205)
	boTok.want(403, "GET", "/api/v1/widgets", nil)
	boTok.want(200, "GET", "/api/v1/users/me", nil)
	boC.want(403, "GET", "/api/v1/widgets", nil)
	if _, ready := boC.socket(); ready["user"].(map[string]any)["role"] != "agent" {
		t.Errorf("ready after reconnect=%v, want role agent", ready)
	}
	var list struct{ Results []tokenInfo }
	boC.want(200, "GET", "/api/v1/tokens", nil).decode(t, &list)
	if len(list.Results) != 1 || strings.Join(list.Results[0].Scopes, ",") != "read,write" {
		t.Errorf("tokens after demotion=%+v, want one with read,write", list.Results)
	}
	admin.want(200, "PATCH", path, map[string]string{"role": "admin"})
	boTok.want(403, "GET", "/api/v1/widgets", nil)
}

// TestTokenScopes: a read token reads and writes nothing; a read and write
// token of an admin reaches no admin route; a token made without scopes has
// every right of its maker's role.
func TestTokenScopes(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	admin := e.login("admin@example.com")
	tid := startChat(t, e, "Where is my order?")
	read, readInfo := admin.newToken("read", []string{"read"})
	rw, _ := admin.newToken("rw", []string{"read", "write"})
	full, fullInfo := admin.newToken("full", nil)
	if got := strings.Join(readInfo.Scopes, ","); got != "read" {
		t.Errorf("read token scopes=%q", got)
	}
	if got := strings.Join(fullInfo.Scopes, ","); got != "read,write,admin" {
		t.Errorf("default admin token scopes=%q, want read,write,admin", got)
	}
	wid := fmt.Sprint(e.widget.ID)
	uid := fmt.Sprint(ann.ID)
	type call struct {
		method, path string
		body         any
	}
	msg := map[string]string{"type": "COMMENT", "text": "note"}
	for _, tt := range []struct {
		name string
		c    *client
		call call
		want int
	}{
		{"read: GET me", read, call{"GET", "/api/v1/users/me", nil}, 200},
		{"read: GET threads", read, call{"GET", v3 + "/threads", nil}, 200},
		{"read: GET messages", read, call{"GET", v3 + "/threads/" + tid + "/messages", nil}, 200},
		{"read: GET search", read, call{"GET", "/api/v1/search?q=order", nil}, 200},
		{"read: batch read is a read", read, call{"POST", v3 + "/actors/batch/read", map[string]any{"inputs": []string{"A-" + uid}}}, 200},
		{"read: POST message", read, call{"POST", v3 + "/threads/" + tid + "/messages", msg}, 403},
		{"read: PATCH thread", read, call{"PATCH", v3 + "/threads/" + tid, map[string]string{"status": "CLOSED"}}, 403},
		{"read: PUT assignee", read, call{"PUT", v3 + "/threads/" + tid + "/assignee", map[string]string{"actorId": "A-" + uid}}, 403},
		{"read: DELETE assignee", read, call{"DELETE", v3 + "/threads/" + tid + "/assignee", nil}, 403},
		{"read: DELETE thread", read, call{"DELETE", v3 + "/threads/" + tid, nil}, 403},
		{"read: PATCH me", read, call{"PATCH", "/api/v1/users/me", map[string]bool{"away": true}}, 403},
		{"read: POST snippet", read, call{"POST", "/api/v1/snippets", map[string]string{"title": "t", "text": "x"}}, 403},
		{"read: POST token", read, call{"POST", "/api/v1/tokens", map[string]string{"name": "more"}}, 403},
		{"read: PATCH widget", read, call{"PATCH", "/api/v1/widgets/" + wid, map[string]string{"name": "x"}}, 403},
		{"read: GET widgets (admin)", read, call{"GET", "/api/v1/widgets", nil}, 403},
		{"rw: POST message", rw, call{"POST", v3 + "/threads/" + tid + "/messages", msg}, 201},
		{"rw: PATCH me", rw, call{"PATCH", "/api/v1/users/me", map[string]bool{"away": false}}, 200},
		{"rw: GET widgets (admin)", rw, call{"GET", "/api/v1/widgets", nil}, 403},
		{"rw: PATCH widget (admin)", rw, call{"PATCH", "/api/v1/widgets/" + wid, map[string]string{"name": "x"}}, 403},
		{"rw: POST inbox (admin)", rw, call{"POST", "/api/v1/inboxes", map[string]string{"name": "Sales"}}, 403},
		{"rw: PATCH user (admin)", rw, call{"PATCH", "/api/v1/users/" + uid, map[string]string{"role": "admin"}}, 403},
		{"rw: GET invites (admin)", rw, call{"GET", "/api/v1/invites", nil}, 403},
		{"full: GET widgets", full, call{"GET", "/api/v1/widgets", nil}, 200},
		{"full: PATCH widget", full, call{"PATCH", "/api/v1/widgets/" + wid, map[string]string{"name": "Chat"}}, 200},
		{"full: POST message", full, call{"POST", v3 + "/threads/" + tid + "/messages", msg}, 201},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do(tt.call.method, tt.call.path, tt.call.body, map[string]string{"Origin": ""})
			if res.status != tt.want {
				t.Errorf("status=%d body=%.300s, want %d", res.status, res.body, tt.want)
			}
			if tt.want == 403 && !strings.Contains(string(res.body), "scope") {
				t.Errorf("body=%.300s, want it to name the missing scope", res.body)
			}
		})
	}

	annC := e.login("ann@example.com")
	for _, tt := range []struct {
		name   string
		c      *client
		scopes any
		want   int
		msg    string
	}{
		{"unknown scope", admin, []string{"read", "superuser"}, 400, "superuser"},
		{"not a list", admin, "read", 400, "scopes"},
		{"agent asks for admin", annC, []string{"read", "admin"}, 403, "admin"},
		{"read token asks for write", read, []string{"write"}, 403, "write"},
		{"empty list", admin, []string{}, 400, "scopes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": tt.scopes}, nil)
			if res.status != tt.want || !strings.Contains(string(res.body), tt.msg) {
				t.Errorf("status=%d body=%s, want %d naming %s", res.status, res.body, tt.want, tt.msg)
			}
		})
	}
	// An agent's token without scopes reads and writes.
	_, annInfo := annC.newToken("ann", nil)
	if got := strings.Join(annInfo.Scopes, ","); got != "read,write" {
		t.Errorf("default agent token scopes=%q, want read,write", got)
	}
}

// TestReadTokenSocket: a read token's socket receives events but may not
// send messages or typing.
func TestReadTokenSocket(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("ann@example.com", true)
	ann := e.login("ann@example.com")
	read, _ := ann.newToken("watch", []string{"read"})
	ws, _ := read.socket()
	tid := startChat(t, e, "Hi")
	ws.next("message.created")
	for _, f := range []map[string]any{
		{"type": "message.send", "clientId": "x1", "threadId": tid, "text": "sneaky"},
		{"type": "typing", "clientId": "x2", "threadId": tid},
	} {
		ws.send(f)
		ev := ws.next("error", "message.ack")
		if ev["type"] != "error" || ev["code"] != parley.EFORBIDDEN || ev["clientId"] != f["clientId"] {
			t.Errorf("%s: got %v, want a forbidden error", f["type"], ev)
		}
	}
	var msgs struct{ Results []map[string]any }
	ann.want(200, "GET", v3+"/threads/"+tid+"/messages", nil).decode(t, &msgs)
	if strings.Contains(fmt.Sprint(msgs.Results), "sneaky") {
		t.Errorf("a read token's socket posted a message: %v", msgs.Results)
	}
	// A write-only token cannot open the socket at all.
	wo, _ := ann.newToken("post only", []string{"write"})
	h := http.Header{"Origin": {e.base}, "Authorization": {"Bearer " + wo.token}}
	if _, err := dialWS(t, "ws"+strings.TrimPrefix(e.base, "http")+"/api/v1/ws", h); err == nil {
		t.Error("a token without the read scope opened a socket")
	}
}

// TestTokenListAndRevoke: the list shows no secrets; a user sees and
// revokes only their own tokens (another's is 404); an admin sees and
// revokes all. Ids are not the hashes of the secrets.
func TestTokenListAndRevoke(t *testing.T) {
	e := newEnv(t, nil)
	ann := e.addAgent("ann@example.com", true)
	bob := e.addAgent("bob@example.com", true)
	annC, bobC, admin := e.login("ann@example.com"), e.login("bob@example.com"), e.login("admin@example.com")
	annTok, annInfo := annC.newToken("ann's", []string{"read"})
	_, bobInfo := bobC.newToken("bob's", nil)
	adminTok, _ := admin.newToken("admin's", nil)
	sum := sha256.Sum256([]byte(annTok.token))
	if annInfo.ID == "" || annInfo.ID == hex.EncodeToString(sum[:]) || strings.Contains(annTok.token, annInfo.ID) && len(annInfo.ID) > 8 {
		t.Fatalf("token id %q: want an id of its own", annInfo.ID)
	}

	list := func(c *client) []tokenInfo {
		t.Helper()
		res := c.want(200, "GET", "/api/v1/tokens", nil)
		for _, secret := range []string{annTok.token, adminTok.token, hex.EncodeToString(sum[:])} {
			if strings.Contains(string(res.body), secret) {
				t.Fatalf("token list shows a secret or hash: %s", res.body)
			}
		}
		var out struct{ Results []tokenInfo }
		res.decode(t, &out)
		return out.Results
	}
	names := func(ts []tokenInfo) string {
		var n []string
		for _, tk := range ts {
			n = append(n, tk.Name)
		}
		return strings.Join(n, ",")
	}
	if got := list(annC); names(got) != "ann's" || got[0].UserID != fmt.Sprint(ann.ID) || got[0].ID != annInfo.ID {
		t.Errorf("ann's list=%+v", got)
	}
	if got := names(list(admin)); got != "ann's,bob's,admin's" {
		t.Errorf("admin's list=%s", got)
	}
	// Ann's read token lists too (a read); cookie or token, the same list.
	if got := names(list(annTok)); got != "ann's" {
		t.Errorf("list by ann's token=%s", got)
	}
	// Using a token records when; an unused one shows no date.
	for _, tk := range list(admin) {
		if used := tk.LastUsedAt != ""; used != (tk.Name == "ann's") {
			t.Errorf("%s: lastUsedAt=%q", tk.Name, tk.LastUsedAt)
		}
	}

	annC.want(404, "DELETE", "/api/v1/tokens/"+bobInfo.ID, nil)
	annC.want(404, "DELETE", "/api/v1/tokens/999999", nil)
	annC.want(404, "DELETE", "/api/v1/tokens/nope", nil)
	bobC.want(200, "GET", "/api/v1/users/me", nil)
	if got := names(list(bobC)); got != "bob's" {
		t.Errorf("bob's list after ann's try=%s", got)
	}
	admin.want(204, "DELETE", "/api/v1/tokens/"+annInfo.ID, nil)
	annTok.want(401, "GET", "/api/v1/users/me", nil)
	admin.want(204, "DELETE", "/api/v1/tokens/"+bobInfo.ID, nil)
	if got := names(list(admin)); got != "admin's" {
		t.Errorf("admin's list after revoking=%s", got)
	}
	_ = bob
}

// TestCrossOriginForms: the sign-in, setup and invitation forms and every
// cookie write refuse other sites, whether the browser says so with Origin
// or with Sec-Fetch-Site; bearer requests are not subject to it.
func TestCrossOriginForms(t *testing.T) {
	e := newEnv(t, nil)
	setup, err := server.NewSetupToken(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	anon := &client{e: e, hc: e.ts.Client()}
	admin := e.login("admin@example.com")
	tok, _ := admin.newToken("script", nil)
	evil := map[string]string{"Origin": "http://evil.example"}
	crossSite := map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}
	signIn := map[string]string{"email": "admin@example.com", "password": testPassword}
	setupBody := map[string]string{"token": setup, "email": "nia@example.com", "password": testPassword}
	for _, tt := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		header       map[string]string
		want         int
	}{
		{"sign-in from another site", anon, "POST", "/api/v1/session", signIn, evil, 403},
		{"sign-in, Sec-Fetch-Site cross-site", anon, "POST", "/api/v1/session", signIn, crossSite, 403},
		{"setup from another site", anon, "POST", "/api/v1/setup", setupBody, evil, 403},
		{"invitation from another site", anon, "POST", "/api/v1/invites/accept", map[string]string{"token": "x"}, evil, 403},
		{"cookie write from another site", admin, "PATCH", "/api/v1/users/me", map[string]bool{"away": true}, evil, 403},
		{"cookie write, Sec-Fetch-Site same-site", admin, "PATCH", "/api/v1/users/me", map[string]bool{"away": true}, map[string]string{"Origin": "", "Sec-Fetch-Site": "same-site"}, 403},
		{"cookie read from another site", admin, "GET", "/api/v1/users/me", nil, evil, 200},
		{"cookie write, Sec-Fetch-Site same-origin", admin, "PATCH", "/api/v1/users/me", map[string]bool{"away": false}, map[string]string{"Origin": "", "Sec-Fetch-Site": "same-origin"}, 200},
		{"cookie write without browser headers", admin, "PATCH", "/api/v1/users/me", map[string]bool{"away": false}, map[string]string{"Origin": ""}, 200},
		{"bearer write from another site", tok, "PATCH", "/api/v1/users/me", map[string]bool{"away": false}, evil, 200},
		{"sign-in from the console", anon, "POST", "/api/v1/session", signIn, nil, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res := tt.c.do(tt.method, tt.path, tt.body, tt.header); res.status != tt.want {
				t.Errorf("status=%d body=%.300s, want %d", res.status, res.body, tt.want)
			}
		})
	}
}
