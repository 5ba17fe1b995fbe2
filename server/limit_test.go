package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestRoutePerAgentLimit: an agent at their own cap of open chats gets no
// more, a teammate gets them; the tighter of the agent's and the widget's
// cap applies; closing a chat frees a slot and the waiting conversation is
// routed; raising a cap routes a waiting one too.
func TestRoutePerAgentLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.routeTo(parley.Routing{Mode: parley.RoutingInbox, MaxOpenPerAgent: 5})
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	admin := e.login("admin@example.com")
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil); res.status != 200 {
		t.Fatal(res.status)
	}
	boC, cyC := e.login("bo@example.com"), e.login("cy@example.com")
	var me struct{ MaxOpenChats int }
	res := boC.do("PATCH", "/api/v1/users/me", map[string]any{"maxOpenChats": 1}, nil)
	res.decode(t, &me)
	if res.status != 200 || me.MaxOpenChats != 1 {
		t.Fatalf("PATCH users/me: %d %s", res.status, res.body)
	}
	boC.agentWS()
	cyC.agentWS()

	var ids []string
	for i := range 3 {
		_, id := e.startChat(fmt.Sprint("question ", i))
		ids = append(ids, id)
	}
	// Without bo's cap the third would be his (a tie at one open chat,
	// his last one the oldest); at his cap it goes to cy.
	for i, want := range []string{bo.ActorID(), cy.ActorID(), cy.ActorID()} {
		waitAssigned(t, admin, ids[i], want)
	}

	// cy at the cap an admin sets for her: the next chat waits.
	res = admin.do("PATCH", "/api/v1/users/"+fmt.Sprint(cy.ID), map[string]any{"maxOpenChats": 2}, nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"maxOpenChats":2`) {
		t.Fatalf("PATCH users/{id}: %d %s", res.status, res.body)
	}
	_, waiting := e.startChat("anyone there?")
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, waiting, "")

	// bo closes his chat: below his cap, he gets the waiting one.
	if res := boC.do("PATCH", v3+"/threads/"+ids[0], map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	waitAssigned(t, admin, waiting, bo.ActorID())

	// Both at their caps again; cy raises hers and gets the next waiting one.
	_, next := e.startChat("me too")
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, next, "")
	if res := cyC.do("PATCH", "/api/v1/users/me", map[string]any{"maxOpenChats": 0}, nil); res.status != 200 {
		t.Fatalf("PATCH users/me: %d %s", res.status, res.body)
	}
	waitAssigned(t, admin, next, cy.ActorID())
}

// TestMaxOpenChatsValidation: the cap is 0 to 1000, an integer; a bad value
// is a precise EINVALID and changes nothing; only admins set another user's.
func TestMaxOpenChatsValidation(t *testing.T) {
	e := newEnv(t, nil)
	bo := e.addAgent("bo@example.com", true)
	admin, boC := e.login("admin@example.com"), e.login("bo@example.com")
	boPath := "/api/v1/users/" + fmt.Sprint(bo.ID)
	tests := []struct {
		name   string
		c      *client
		path   string
		body   string
		status int
		msg    string // part of the error message
	}{
		{"negative", boC, "/api/v1/users/me", `{"maxOpenChats":-1}`, 400, "maxOpenChats must be 0 (no limit) to 1000, got -1"},
		{"too many", boC, "/api/v1/users/me", `{"maxOpenChats":1001}`, 400, "got 1001"},
		{"fraction", boC, "/api/v1/users/me", `{"maxOpenChats":2.5}`, 400, `"maxOpenChats"`},
		{"text", boC, "/api/v1/users/me", `{"maxOpenChats":"3"}`, 400, `"maxOpenChats"`},
		{"admin: too many", admin, boPath, `{"maxOpenChats":5000,"name":"Bo B"}`, 400, "got 5000"},
		{"agent sets a teammate's", boC, "/api/v1/users/" + fmt.Sprint(e.admin.ID), `{"maxOpenChats":3}`, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("PATCH", tt.path, tt.body, nil)
			var eb struct{ Category, Message, CorrelationID, Code string }
			res.decode(t, &eb)
			if res.status != tt.status || eb.CorrelationID == "" || !strings.Contains(eb.Message, tt.msg) {
				t.Fatalf("status=%d body=%s, want %d with %q", res.status, res.body, tt.status, tt.msg)
			}
			if tt.status == 400 && (eb.Code != parley.EINVALID || eb.Category != "VALIDATION_ERROR") {
				t.Errorf("code=%s category=%s, want %s VALIDATION_ERROR", eb.Code, eb.Category, parley.EINVALID)
			}
		})
	}
	// Nothing was written; the limits themselves are accepted and shown.
	var got struct {
		Name         string
		MaxOpenChats int
	}
	admin.do("GET", boPath, nil, nil).decode(t, &got)
	if got.Name != "bo" || got.MaxOpenChats != 0 {
		t.Fatalf("after refused changes: %+v", got)
	}
	for _, n := range []int{1000, 0, 7} {
		if res := admin.do("PATCH", boPath, map[string]int{"maxOpenChats": n}, nil); res.status != 200 {
			t.Fatalf("maxOpenChats %d: %d %s", n, res.status, res.body)
		}
	}
	admin.do("GET", boPath, nil, nil).decode(t, &got)
	var me2 struct{ MaxOpenChats int }
	boC.do("GET", "/api/v1/users/me", nil, nil).decode(t, &me2)
	if got.MaxOpenChats != 7 || me2.MaxOpenChats != 7 {
		t.Fatalf("GET users/{id} maxOpenChats=%d, users/me %d, want 7", got.MaxOpenChats, me2.MaxOpenChats)
	}
}

// TestRouteConcurrentLimit: ten conversations started at once, their
// assignments committing side by side, still give each agent no more than
// their cap; the rest wait, and each is routed once a slot frees.
func TestRouteConcurrentLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.routeTo(parley.Routing{Mode: parley.RoutingInbox})
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	admin := e.login("admin@example.com")
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil); res.status != 200 {
		t.Fatal(res.status)
	}
	boC, cyC := e.login("bo@example.com"), e.login("cy@example.com")
	for _, c := range []*client{boC, cyC} {
		if res := c.do("PATCH", "/api/v1/users/me", map[string]any{"maxOpenChats": 3}, nil); res.status != 200 {
			t.Fatalf("PATCH users/me: %d %s", res.status, res.body)
		}
		c.agentWS()
	}
	const n = 10
	visitors := make([]*wsClient, n)
	for i := range visitors {
		visitors[i] = e.visitorOn(e.widget, "")
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i, v := range visitors {
		wg.Go(func() { ids[i] = say(v, "first", fmt.Sprint("at once ", i))["threadId"].(string) })
	}
	wg.Wait()

	count := func() map[string]int {
		got := map[string]int{}
		for _, id := range ids {
			got[admin.thread(t, id).AssignedTo]++
		}
		return got
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := count()
		if got[bo.ActorID()] > 3 || got[cy.ActorID()] > 3 {
			t.Fatalf("assignments %v: an agent got more than their cap of 3", got)
		}
		if got[bo.ActorID()] == 3 && got[cy.ActorID()] == 3 && got[""] == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("assignments %v, want 3, 3 and 4 waiting", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A freed slot takes one waiting conversation, no more.
	var boOwn string
	for _, id := range ids {
		if admin.thread(t, id).AssignedTo == bo.ActorID() {
			boOwn = id
			break
		}
	}
	if res := boC.do("PATCH", v3+"/threads/"+boOwn, map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		got := count()
		if got[""] == 3 && got[bo.ActorID()] == 4 && got[cy.ActorID()] == 3 { // bo's closed one still counts as his
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after bo closed one: %v, want bo 4 (one closed), cy 3, 3 waiting", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
