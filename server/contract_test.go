package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Checks of the public contract (CONTRACT.md §4, §5) that other tests do not
// already make: thread list parameters and paging, message defaults and
// fields, the settings API's widget and user shapes.

// threadIDs lists GET /threads?query, following paging.next.after to the
// end, and checks that only the last page lacks "paging".
func threadIDs(t *testing.T, c *client, query string) []string {
	t.Helper()
	ids := []string{}
	after := ""
	for range 20 {
		q := query
		if after != "" {
			q += "&after=" + after
		}
		res := c.do("GET", v3+"/threads?"+q, nil, nil)
		var page struct {
			Results []struct{ ID string }
			Paging  *struct{ Next struct{ After string } }
		}
		res.decode(t, &page)
		if res.status != 200 {
			t.Fatalf("GET threads?%s: %d %s", q, res.status, res.body)
		}
		for _, r := range page.Results {
			ids = append(ids, r.ID)
		}
		if page.Paging == nil {
			if strings.Contains(string(res.body), `"paging"`) {
				t.Fatalf("last page has paging: %s", res.body)
			}
			return ids
		}
		if page.Paging.Next.After == "" {
			t.Fatalf("paging without next.after: %s", res.body)
		}
		after = page.Paging.Next.After
	}
	t.Fatalf("threads?%s: paging does not end", query)
	return nil
}

func TestContractThreadList(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("admin@example.com")
	start := time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
	var ids []string
	for i := range 3 {
		ids = append(ids, startChat(t, e, fmt.Sprint("question ", i)))
	}
	if res := c.do("PATCH", v3+"/threads/"+ids[2], map[string]string{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	// The first conversation gets the latest message; the close of the
	// third is an event and does not move its latest message time.
	if res := c.do("POST", v3+"/threads/"+ids[0]+"/messages", map[string]string{"text": "Hello again"}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	contact := c.thread(t, ids[1]).AssociatedContactID
	latest := func(id string) string {
		var th struct{ LatestMessageTimestamp string }
		c.do("GET", v3+"/threads/"+id, nil, nil).decode(t, &th)
		return th.LatestMessageTimestamp
	}

	tests := []struct {
		name, query string
		want        []string
	}{
		{"default: by id", "", ids},
		{"limit 500", "limit=500", ids},
		{"paged by id", "limit=1", ids},
		{"sort id", "sort=id&limit=2", ids},
		{"inboxId", fmt.Sprint("inboxId=", e.inbox.ID, "&limit=2"), ids},
		{"another inboxId", "inboxId=999", nil},
		{"threadStatus OPEN", "threadStatus=OPEN&limit=1", ids[:2]},
		{"threadStatus CLOSED", "threadStatus=CLOSED", ids[2:]},
		{"associatedContactId", "associatedContactId=" + contact, ids[1:2]},
		{"not archived", "archived=false", ids},
		{"archived", "archived=true", nil},
		{"latestMessageTimestamp: oldest activity first", "sort=latestMessageTimestamp&latestMessageTimestampAfter=" + url.QueryEscape(start),
			[]string{ids[1], ids[2], ids[0]}},
		{"latestMessageTimestamp, paged", "limit=1&sort=latestMessageTimestamp&latestMessageTimestampAfter=" + url.QueryEscape(start),
			[]string{ids[1], ids[2], ids[0]}},
		{"latestMessageTimestamp after the second's", "sort=latestMessageTimestamp&latestMessageTimestampAfter=" + url.QueryEscape(latest(ids[1])),
			[]string{ids[2], ids[0]}},
		{"latestMessageTimestamp of one contact", "sort=latestMessageTimestamp&associatedContactId=" + contact + "&latestMessageTimestampAfter=" + url.QueryEscape(start),
			ids[1:2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := threadIDs(t, c, tt.query)
			if !slices.Equal(got, append([]string{}, tt.want...)) {
				t.Errorf("threads=%v, want %v", got, tt.want)
			}
		})
	}
}

// TestContractPostMessage: senderActorId, channelId and channelAccountId
// may be left out (the caller, the thread's channel) or given as those
// values; a message has every field the contract names; a token posts as
// its user.
func TestContractPostMessage(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("admin@example.com")
	tid := startChat(t, e, "Where is my order?")
	var tok struct{ Token string }
	c.do("POST", "/api/v1/tokens", map[string]string{"name": "script"}, nil).decode(t, &tok)
	script := &client{e: e, hc: e.ts.Client(), token: tok.Token}
	account := fmt.Sprint(e.widget.ID)
	fields := []string{"id", "type", "conversationsThreadId", "createdAt", "createdBy", "senders", "recipients", "text",
		"richText", "direction", "channelId", "channelAccountId", "subject", "status"}
	tests := []struct {
		name string
		c    *client
		body map[string]string
	}{
		{"all left out", c, map[string]string{"text": "On its way."}},
		{"all given", c, map[string]string{"type": "MESSAGE", "text": "Tracking link follows.", "senderActorId": e.admin.ActorID(), "channelId": "1000", "channelAccountId": account}},
		{"a note", c, map[string]string{"type": "COMMENT", "text": "Check the warehouse."}},
		{"by token", script, map[string]string{"text": "Sent by a script."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("POST", v3+"/threads/"+tid+"/messages", tt.body, map[string]string{"Origin": ""})
			if res.status != 201 {
				t.Fatalf("status=%d body=%s", res.status, res.body)
			}
			var m map[string]any
			res.decode(t, &m)
			got := tt.c.do("GET", v3+"/threads/"+tid+"/messages/"+m["id"].(string), nil, map[string]string{"Origin": ""})
			var read map[string]any
			got.decode(t, &read)
			for _, msg := range []map[string]any{m, read} {
				for _, f := range fields {
					if _, ok := msg[f]; !ok {
						t.Errorf("message has no %q: %v", f, msg)
					}
				}
				senders, _ := json.Marshal(msg["senders"])
				if msg["createdBy"] != e.admin.ActorID() || !strings.Contains(string(senders), e.admin.ActorID()) ||
					msg["channelId"] != "1000" || msg["channelAccountId"] != account || msg["text"] != tt.body["text"] ||
					msg["direction"] != "OUTGOING" || msg["conversationsThreadId"] != tid {
					t.Errorf("message=%v", msg)
				}
			}
		})
	}
}

// TestContractSettingsShapes: the settings API's widget has targeting.rules,
// every availability field and message.welcome, even when empty; a user
// has id, email, name, role and away, with actor id "A-" + id; unknown
// endpoints and methods answer in the error shape.
func TestContractSettingsShapes(t *testing.T) {
	e := newEnv(t, nil)
	c := e.login("admin@example.com")
	var w struct {
		ID, Name, InboxID string
		Enabled           *bool
		Targeting         map[string]json.RawMessage
		Availability      map[string]json.RawMessage
		Message           map[string]json.RawMessage
	}
	res := c.do("GET", fmt.Sprint("/api/v1/widgets/", e.widget.ID), nil, nil)
	res.decode(t, &w)
	if w.ID == "" || w.Name == "" || w.InboxID == "" || w.Enabled == nil || string(w.Targeting["rules"]) != "[]" {
		t.Fatalf("widget=%s", res.body)
	}
	for _, f := range []string{"mode", "timezone", "hours", "awayMessage", "hideLauncherWhenAway", "typicalResponseTime"} {
		if _, ok := w.Availability[f]; !ok {
			t.Errorf("availability has no %q: %s", f, res.body)
		}
	}
	if string(w.Availability["hours"]) != "[]" {
		t.Errorf("availability.hours=%s, want []", w.Availability["hours"])
	}
	if _, ok := w.Message["welcome"]; !ok {
		t.Errorf("message has no welcome: %s", res.body)
	}
	var list struct{ Results []map[string]json.RawMessage }
	c.do("GET", "/api/v1/widgets", nil, nil).decode(t, &list)
	if len(list.Results) != 1 || !strings.Contains(string(list.Results[0]["availability"]), `"hours":[]`) {
		t.Errorf("widgets list=%v", list.Results)
	}

	var me map[string]any
	c.do("GET", "/api/v1/users/me", nil, nil).decode(t, &me)
	for _, f := range []string{"id", "email", "name", "role", "away"} {
		if _, ok := me[f]; !ok {
			t.Errorf("users/me has no %q: %v", f, me)
		}
	}
	if me["actorId"] != "A-"+me["id"].(string) || me["away"] != false {
		t.Errorf("users/me=%v", me)
	}

	for _, tc := range []struct {
		method, path, category string
		status                 int
	}{
		{"GET", "/api/v1/nope", "OBJECT_NOT_FOUND", 404},
		{"DELETE", "/api/v1/users/me", "VALIDATION_ERROR", 405},
		{"PUT", v3 + "/threads", "VALIDATION_ERROR", 405},
	} {
		res := c.do(tc.method, tc.path, nil, nil)
		var eb struct{ Category, Message, CorrelationID string }
		res.decode(t, &eb)
		if res.status != tc.status || eb.Category != tc.category || eb.Message == "" || eb.CorrelationID == "" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.status, res.body)
		}
	}
}
