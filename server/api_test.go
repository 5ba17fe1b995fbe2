package server_test

import (
	"fmt"
	"strings"
	"testing"
)

const v3 = "/conversations/v3/conversations"

// startChat has a new visitor write one message and returns its thread id.
func startChat(t *testing.T, e *env, text string) string {
	t.Helper()
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c", "text": text})
	return msgOf(v.next("message.ack"))["threadId"].(string)
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, nil)
	c := &client{e: e, hc: e.ts.Client()}
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"wrong password", `{"email":"admin@example.com","password":"nope-nope-nope"}`, 401, "wrong email or password"},
		{"unknown user", `{"email":"ghost@example.com","password":"nope-nope-nope"}`, 401, "wrong email or password"},
		{"malformed", `{"email":`, 400, "malformed JSON"},
		{"empty", ``, 400, "empty"},
		{"wrong type", `{"email":1}`, 400, `"email" must be string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			} else {
				body = " "
			}
			res := c.do("POST", "/api/v1/session", body, nil)
			var eb struct{ Category, Message, CorrelationID string }
			res.decode(t, &eb)
			if res.status != tc.status || !strings.Contains(eb.Message, tc.msg) || eb.CorrelationID == "" {
				t.Fatalf("status=%d body=%s, want %d %q", res.status, res.body, tc.status, tc.msg)
			}
		})
	}
	if res := c.do("GET", "/api/v1/users/me", nil, nil); res.status != 401 {
		t.Fatalf("me signed out: %d", res.status)
	}
	a := e.login("admin@example.com")
	var me struct{ ID, ActorID, Email, Role string }
	a.do("GET", "/api/v1/users/me", nil, nil).decode(t, &me)
	if me.Email != "admin@example.com" || me.Role != "admin" || me.ActorID != "A-"+me.ID {
		t.Fatalf("me=%+v", me)
	}
	// A cookie-authenticated write from another site is refused.
	res := a.do("PATCH", "/api/v1/users/me", map[string]bool{"away": true}, map[string]string{"Origin": "http://evil.example"})
	if res.status != 403 {
		t.Fatalf("cross-site PATCH status=%d, want 403", res.status)
	}
	// A token works without the cookie, from anywhere.
	var tok struct{ Token string }
	tr := a.do("POST", "/api/v1/tokens", map[string]string{"name": "script"}, nil)
	tr.decode(t, &tok)
	if tr.status != 201 || !strings.HasPrefix(tok.Token, "pat_") {
		t.Fatalf("token: %d %s", tr.status, tr.body)
	}
	script := &client{e: e, hc: e.ts.Client(), token: tok.Token}
	if res := script.do("PATCH", "/api/v1/users/me", map[string]bool{"away": true}, map[string]string{"Origin": ""}); res.status != 200 {
		t.Fatalf("token PATCH: %d %s", res.status, res.body)
	}
	// Signing out ends the session.
	if res := a.do("DELETE", "/api/v1/session", nil, nil); res.status != 204 {
		t.Fatalf("sign out: %d", res.status)
	}
	if res := a.do("GET", "/api/v1/users/me", nil, nil); res.status != 401 {
		t.Fatalf("me after sign out: %d", res.status)
	}
}

func TestConversationsAPI(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("admin@example.com")
	tid := startChat(t, e, "Where is my order?")

	var inboxes struct{ Results []struct{ ID, Name string } }
	c.do("GET", v3+"/inboxes", nil, nil).decode(t, &inboxes)
	if len(inboxes.Results) != 1 || inboxes.Results[0].Name != "Support" {
		t.Fatalf("inboxes=%+v", inboxes)
	}
	var channels struct{ Results []struct{ ID, Name string } }
	c.do("GET", v3+"/channels", nil, nil).decode(t, &channels)
	if fmt.Sprint(channels.Results) != "[{1000 Chat} {1002 Email}]" {
		t.Fatalf("channels=%+v", channels)
	}
	var accounts struct {
		Results []struct{ ID, ChannelID, InboxID, Name string }
	}
	c.do("GET", v3+"/channel-accounts", nil, nil).decode(t, &accounts)
	if len(accounts.Results) != 1 || accounts.Results[0].ChannelID != "1000" {
		t.Fatalf("channel accounts=%+v", accounts)
	}
	if res := c.do("GET", v3+"/channel-accounts/"+accounts.Results[0].ID, nil, nil); res.status != 200 {
		t.Fatalf("channel account get: %d", res.status)
	}

	type thread struct {
		ID, Status, OriginalChannelID, OriginalChannelAccountID, InboxID, AssociatedContactID, AssignedTo string
		LatestMessageTimestamp, ClosedAt                                                                  *string
		Archived                                                                                          bool
	}
	var list struct {
		Results []thread
		Paging  *struct{ Next struct{ After string } }
	}
	c.do("GET", v3+"/threads?threadStatus=OPEN", nil, nil).decode(t, &list)
	if len(list.Results) != 1 || list.Results[0].ID != tid || list.Results[0].OriginalChannelID != "1000" ||
		list.Results[0].LatestMessageTimestamp == nil || list.Paging != nil {
		t.Fatalf("threads=%s", c.do("GET", v3+"/threads", nil, nil).body)
	}

	// Post a reply and a note; list and get messages.
	res := c.do("POST", v3+"/threads/"+tid+"/messages", map[string]string{"type": "MESSAGE", "text": "On its way."}, nil)
	if res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	var posted struct {
		ID, Type, Direction, CreatedBy, ConversationsThreadID, ChannelID string
		Senders                                                          []struct{ ActorID string }
	}
	res.decode(t, &posted)
	if posted.Direction != "OUTGOING" || posted.CreatedBy != e.admin.ActorID() || posted.ConversationsThreadID != tid || posted.ChannelID != "1000" {
		t.Fatalf("posted=%s", res.body)
	}
	if res := c.do("POST", v3+"/threads/"+tid+"/messages", map[string]string{"type": "COMMENT", "text": "note"}, nil); res.status != 201 {
		t.Fatalf("comment: %d %s", res.status, res.body)
	}
	var msgs struct {
		Results []struct{ ID, Type, Text, Direction string }
		Paging  *struct{ Next struct{ After string } }
	}
	c.do("GET", v3+"/threads/"+tid+"/messages?limit=2", nil, nil).decode(t, &msgs)
	if len(msgs.Results) != 2 || msgs.Results[0].Text != "Where is my order?" || msgs.Paging == nil {
		t.Fatalf("messages page 1=%+v", msgs)
	}
	after := msgs.Paging.Next.After
	msgs.Paging = nil
	c.do("GET", v3+"/threads/"+tid+"/messages?limit=2&after="+after, nil, nil).decode(t, &msgs)
	if len(msgs.Results) != 1 || msgs.Results[0].Type != "COMMENT" || msgs.Paging != nil {
		t.Fatalf("messages page 2=%+v", msgs)
	}
	if res := c.do("GET", v3+"/threads/"+tid+"/messages/"+posted.ID, nil, nil); res.status != 200 {
		t.Fatalf("message get: %d", res.status)
	}

	// Assign, unassign, close, archive, restore.
	var th thread
	res = c.do("PUT", v3+"/threads/"+tid+"/assignee", map[string]string{"actorId": e.admin.ActorID()}, nil)
	res.decode(t, &th)
	if res.status != 200 || th.AssignedTo != e.admin.ActorID() {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	outsider := e.addAgent("out@example.com", false)
	if res := c.do("PUT", v3+"/threads/"+tid+"/assignee", map[string]string{"actorId": outsider.ActorID()}, nil); res.status != 400 {
		t.Fatalf("assign non-member: %d %s", res.status, res.body)
	}
	if res := c.do("DELETE", v3+"/threads/"+tid+"/assignee", nil, nil); res.status != 204 {
		t.Fatalf("unassign: %d", res.status)
	}
	res = c.do("PATCH", v3+"/threads/"+tid, map[string]string{"status": "CLOSED"}, nil)
	res.decode(t, &th)
	if th.Status != "CLOSED" || th.ClosedAt == nil {
		t.Fatalf("close: %s", res.body)
	}
	c.do("GET", v3+"/threads?threadStatus=OPEN", nil, nil).decode(t, &list)
	if len(list.Results) != 0 {
		t.Fatalf("open threads after close: %+v", list.Results)
	}
	if res := c.do("DELETE", v3+"/threads/"+tid, nil, nil); res.status != 204 {
		t.Fatalf("archive: %d", res.status)
	}
	c.do("GET", v3+"/threads", nil, nil).decode(t, &list)
	if len(list.Results) != 0 {
		t.Fatalf("archived thread still listed")
	}
	c.do("GET", v3+"/threads?archived=true", nil, nil).decode(t, &list)
	if len(list.Results) != 1 || !list.Results[0].Archived {
		t.Fatalf("archived list=%+v", list.Results)
	}
	if res := c.do("PATCH", v3+"/threads/"+tid, map[string]bool{"archived": false}, nil); res.status != 200 {
		t.Fatalf("restore: %d %s", res.status, res.body)
	}

	// Actors.
	var actor struct{ ID, Type, Name string }
	c.do("GET", v3+"/actors/"+e.admin.ActorID(), nil, nil).decode(t, &actor)
	if actor.Type != "AGENT" || actor.Name != "Ada Admin" {
		t.Fatalf("actor=%+v", actor)
	}
	var batch struct{ Results []struct{ ID string } }
	c.do("POST", v3+"/actors/batch/read", map[string][]string{"inputs": {e.admin.ActorID(), "V-1", "A-999"}}, nil).decode(t, &batch)
	if len(batch.Results) != 2 {
		t.Fatalf("batch=%+v", batch)
	}

	// Errors have one shape.
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		category     string
	}{
		{"GET", v3 + "/threads/999", nil, 404, "OBJECT_NOT_FOUND"},
		{"GET", v3 + "/threads/abc", nil, 404, "OBJECT_NOT_FOUND"},
		{"GET", v3 + "/threads?limit=501", nil, 400, "VALIDATION_ERROR"},
		{"GET", v3 + "/threads?threadStatus=MAYBE", nil, 400, "VALIDATION_ERROR"},
		{"GET", v3 + "/threads?sort=latestMessageTimestamp", nil, 400, "VALIDATION_ERROR"},
		{"PATCH", v3 + "/threads/" + tid, `{"status":"DONE"}`, 400, "VALIDATION_ERROR"},
		{"PATCH", v3 + "/threads/" + tid, `{"status":`, 400, "VALIDATION_ERROR"},
		{"POST", v3 + "/threads/" + tid + "/messages", `{"text":""}`, 400, "VALIDATION_ERROR"},
		{"POST", v3 + "/threads/" + tid + "/messages", `{"text":"x","senderActorId":"A-999"}`, 403, "FORBIDDEN"},
		{"POST", v3 + "/threads/" + tid + "/messages", `{"text":"x","type":"EMAIL"}`, 400, "VALIDATION_ERROR"},
		{"POST", v3 + "/threads/" + tid + "/messages", `{"text":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "VALIDATION_ERROR"},
		{"GET", v3 + "/nope", nil, 404, "OBJECT_NOT_FOUND"},
	} {
		t.Run(tc.method+" "+tc.path[:min(len(tc.path), 60)], func(t *testing.T) {
			res := c.do(tc.method, tc.path, tc.body, nil)
			var eb struct{ Category, Message, CorrelationID string }
			res.decode(t, &eb)
			if res.status != tc.status || eb.Category != tc.category || eb.Message == "" || eb.CorrelationID == "" {
				t.Fatalf("status=%d body=%.300s, want %d %s", res.status, res.body, tc.status, tc.category)
			}
		})
	}
}

func TestWidgetPublicEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	c := &client{e: e, hc: e.ts.Client()}
	res := c.do("GET", "/widget/v1/boot?url=https%3A%2F%2Fshop.example%2F", nil, nil)
	var boot struct {
		Widget *struct {
			ID     string
			Status struct{ Available, ShowLauncher bool }
		}
		Assets struct{ JS, CSS string }
		WS     string
	}
	res.decode(t, &boot)
	if res.status != 200 || boot.Widget == nil || boot.Widget.Status.Available || !boot.Widget.Status.ShowLauncher {
		t.Fatalf("boot=%s (nobody online: away, launcher shown)", res.body)
	}
	if res.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("boot CORS=%q", res.header.Get("Access-Control-Allow-Origin"))
	}
	for _, path := range []string{"/embed.js", strings.TrimPrefix(boot.Assets.JS, e.base), strings.TrimPrefix(boot.Assets.CSS, e.base)} {
		res := c.do("GET", path, nil, map[string]string{"Accept-Encoding": "gzip"})
		if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "*" || len(res.body) == 0 {
			t.Fatalf("GET %s: %d %v", path, res.status, res.header)
		}
	}
	if res := c.do("GET", "/healthz", nil, nil); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
}
