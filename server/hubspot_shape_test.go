package server_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// msTimeRE is a time as HubSpot writes it: UTC with milliseconds.
var msTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestThreadFilters checks every filter of the thread list that HubSpot
// documents: a repeated inboxId (any of them, inboxes of others left out),
// associatedTicketId, association=TICKET, sort=-id with a contact.
func TestThreadFilters(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	other := e.addInbox("Sales", e.admin)
	agent := e.addAgent("eve@example.com", false)
	hidden := e.addInbox("Hidden", agent)
	a := startChat(t, e, "in support")
	v := e.visitorOn(e.widgetOn(other.ID), "")
	b := say(v, "c1", "in sales")["threadId"].(string)
	hv := e.visitorOn(e.widgetOn(hidden.ID), "")
	h := say(hv, "c1", "hidden")["threadId"].(string)
	contact := admin.thread(t, a).AssociatedContactID

	var rec struct{ ID string }
	admin.want(201, "POST", "/api/v1/contacts/"+contact+"/records",
		map[string]any{"kind": "ticket", "name": "Refund", "threadId": a}).decode(t, &rec)
	var deal struct{ ID string }
	admin.want(201, "POST", "/api/v1/contacts/"+contact+"/records",
		map[string]any{"kind": "deal", "name": "Upsell", "threadId": a}).decode(t, &deal)

	in1, in2, in3 := idStr(e.inbox.ID), idStr(other.ID), idStr(hidden.ID)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"one inbox", "inboxId=" + in1, []string{a}},
		{"two inboxes", "inboxId=" + in1 + "&inboxId=" + in2, []string{a, b}},
		{"a foreign inbox adds nothing", "inboxId=" + in2 + "&inboxId=" + in3, []string{b}},
		{"only a foreign inbox", "inboxId=" + in3, nil},
		{"ticket", "associatedTicketId=" + rec.ID, []string{a}},
		{"a deal is no ticket", "associatedTicketId=" + deal.ID, nil},
		{"no such ticket", "associatedTicketId=9999", nil},
		{"ticket and another inbox", "associatedTicketId=" + rec.ID + "&inboxId=" + in2, nil},
		{"contact, newest first", "associatedContactId=" + contact + "&sort=-id", []string{a}},
	} {
		got := threadIDs(t, admin, tc.query)
		if !slices.Equal(got, append([]string{}, tc.want...)) {
			t.Errorf("%s: threads=%v, want %v", tc.name, got, tc.want)
		}
	}
	if h == "" {
		t.Fatal("no hidden thread")
	}

	// association=TICKET adds threadAssociations, as HubSpot does.
	var list struct {
		Results []struct {
			ID                 string
			ThreadAssociations *struct{ AssociatedTicketID string }
		}
	}
	admin.want(200, "GET", v3+"/threads?association=TICKET", nil).decode(t, &list)
	for _, th := range list.Results {
		want := map[string]string{a: rec.ID, b: ""}[th.ID]
		if th.ThreadAssociations == nil || th.ThreadAssociations.AssociatedTicketID != want {
			t.Errorf("thread %s: threadAssociations=%+v, want ticket %q", th.ID, th.ThreadAssociations, want)
		}
	}
	res := admin.want(200, "GET", v3+"/threads/"+a+"?association=TICKET", nil)
	if !strings.Contains(string(res.body), `"threadAssociations":{"associatedTicketId":"`+rec.ID+`"}`) {
		t.Errorf("thread with association=TICKET: %s", res.body)
	}
	if res := admin.want(200, "GET", v3+"/threads/"+a, nil); strings.Contains(string(res.body), "threadAssociations") {
		t.Errorf("thread without association: %s", res.body)
	}

	for _, tc := range []struct{ query, msg string }{
		{"association=CONTACT", "association must be TICKET"},
		{"inboxId=1&inboxId=x", "inboxId must be a number"},
		{"associatedTicketId=x", "associatedTicketId must be a number"},
		{"sort=-id", "sort=-id needs associatedContactId or associatedTicketId"},
		{"associatedTicketId=" + rec.ID + "&sort=-latestMessageTimestamp", "by id only"},
	} {
		wantHubSpotError(t, tc.query, admin.do("GET", v3+"/threads?"+tc.query, nil, nil), 400, tc.msg)
	}

	// An agent of another inbox learns nothing through a ticket.
	eve := e.login("eve@example.com")
	if got := threadIDs(t, eve, "associatedTicketId="+rec.ID); len(got) != 0 {
		t.Errorf("agent of another inbox sees %v through the ticket", got)
	}
}

// TestChannelAccountFilters: inboxId and channelId keep what they name;
// lists carry total and page.
func TestChannelAccountFilters(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	other := e.addInbox("Sales", e.admin)
	w2 := e.widgetOn(other.ID)
	type accounts struct {
		Total   int
		Results []struct{ ID, InboxID, ChannelID string }
		Paging  *struct{ Next struct{ After string } }
	}
	get := func(q string) accounts {
		var p accounts
		admin.want(200, "GET", v3+"/channel-accounts?"+q, nil).decode(t, &p)
		return p
	}
	if p := get(""); p.Total != 2 || len(p.Results) != 2 {
		t.Errorf("all: %+v", p)
	}
	if p := get("inboxId=" + idStr(other.ID)); len(p.Results) != 1 || p.Results[0].ID != idStr(w2.ID) || p.Total != 1 {
		t.Errorf("inboxId: %+v", p)
	}
	if p := get("inboxId=" + idStr(other.ID) + "&inboxId=" + idStr(e.inbox.ID)); len(p.Results) != 2 {
		t.Errorf("two inboxIds: %+v", p)
	}
	if p := get("channelId=1002"); len(p.Results) != 0 {
		t.Errorf("channelId=1002 lists widgets: %+v", p)
	}
	if p := get("channelId=1000&limit=1"); len(p.Results) != 1 || p.Paging == nil || p.Total != 2 {
		t.Errorf("paged: %+v", p)
	} else if q := get("channelId=1000&limit=1&after=" + p.Paging.Next.After); len(q.Results) != 1 || q.Paging != nil || q.Results[0].ID == p.Results[0].ID {
		t.Errorf("second page: %+v after %+v", q, p)
	}
	wantHubSpotError(t, "bad channelId", admin.do("GET", v3+"/channel-accounts?channelId=chat", nil, nil), 400, "channelId must be a number")
	wantHubSpotError(t, "bad cursor", admin.do("GET", v3+"/channel-accounts?after=99", nil, nil), 400, "after must be a cursor")

	var inboxes struct {
		Total   int
		Results []struct{ ID, Type string }
	}
	admin.want(200, "GET", v3+"/inboxes", nil).decode(t, &inboxes)
	if inboxes.Total != 2 || len(inboxes.Results) != 2 || inboxes.Results[0].Type != "INBOX" {
		t.Errorf("inboxes: %+v", inboxes)
	}
	var ch struct{ ID, Name, CreatedAt string }
	admin.want(200, "GET", v3+"/channels/1002", nil).decode(t, &ch)
	if ch.ID != "1002" || ch.Name != "Email" || !msTimeRE.MatchString(ch.CreatedAt) {
		t.Errorf("channel 1002: %+v", ch)
	}
	wantHubSpotError(t, "no such channel", admin.do("GET", v3+"/channels/1001", nil, nil), 404, "channel not found")
}

// TestHubSpotMessageShapes: times to the millisecond, messages with
// HubSpot's archived, client, truncationStatus, assignments with
// assignedFrom, threads with sent and received times that events do not
// move, original content, and a batch read with unknown actors.
func TestHubSpotMessageShapes(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	agent := e.addAgent("bob@example.com", true)
	tid := startChat(t, e, "Where is my order?")
	admin.want(201, "POST", v3+"/threads/"+tid+"/messages", map[string]string{"text": "On its way."})
	type thread struct {
		CreatedAt, LatestMessageTimestamp                          string
		LatestMessageSentTimestamp, LatestMessageReceivedTimestamp string
	}
	var before thread
	admin.want(200, "GET", v3+"/threads/"+tid, nil).decode(t, &before)
	for _, v := range []string{before.CreatedAt, before.LatestMessageTimestamp, before.LatestMessageSentTimestamp, before.LatestMessageReceivedTimestamp} {
		if !msTimeRE.MatchString(v) {
			t.Errorf("thread time %q is not HubSpot's (milliseconds, UTC): %+v", v, before)
		}
	}
	if before.LatestMessageSentTimestamp != before.LatestMessageTimestamp || before.LatestMessageReceivedTimestamp > before.LatestMessageSentTimestamp {
		t.Errorf("sent/received: %+v", before)
	}
	time.Sleep(5 * time.Millisecond) // so that a moved time would show
	admin.want(200, "PUT", v3+"/threads/"+tid+"/assignee", map[string]string{"actorId": "A-" + idStr(e.admin.ID)})
	admin.want(200, "PUT", v3+"/threads/"+tid+"/assignee", map[string]string{"actorId": "A-" + idStr(agent.ID)})
	admin.want(200, "PATCH", v3+"/threads/"+tid, map[string]string{"status": "CLOSED"})
	var after thread
	admin.want(200, "GET", v3+"/threads/"+tid, nil).decode(t, &after)
	if after != before {
		t.Errorf("events moved the thread's message times: %+v, before %+v", after, before)
	}

	var msgs struct {
		Results []map[string]any
	}
	admin.want(200, "GET", v3+"/threads/"+tid+"/messages", nil).decode(t, &msgs)
	var assignments []string
	for _, m := range msgs.Results {
		for _, f := range []string{"archived", "client", "truncationStatus", "attachments", "createdAt", "updatedAt"} {
			if _, ok := m[f]; !ok && f != "attachments" {
				t.Errorf("message %v has no %s", m["id"], f)
			}
		}
		if !msTimeRE.MatchString(m["createdAt"].(string)) || m["truncationStatus"] != "NOT_TRUNCATED" || m["archived"] != false {
			t.Errorf("message %v", m)
		}
		client := m["client"].(map[string]any)["clientType"]
		switch m["type"] {
		case "MESSAGE":
			if client != "HUBSPOT" {
				t.Errorf("message client %v", client)
			}
		case "ASSIGNMENT":
			if client != "SYSTEM" {
				t.Errorf("assignment client %v", client)
			}
			assignments = append(assignments, fmt.Sprint(m["assignedFrom"], ">", m["assignedTo"]))
		}
	}
	wantAssign := []string{"<nil>>A-" + idStr(e.admin.ID), "A-" + idStr(e.admin.ID) + ">A-" + idStr(agent.ID)}
	if !slices.Equal(assignments, wantAssign) {
		t.Errorf("assignments=%v, want %v", assignments, wantAssign)
	}

	first := msgs.Results[0]["id"].(string)
	var orig map[string]any
	admin.want(200, "GET", v3+"/threads/"+tid+"/messages/"+first+"/original-content", nil).decode(t, &orig)
	if orig["text"] != "Where is my order?" || orig["richText"] != "" || len(orig) != 2 {
		t.Errorf("original content %v", orig)
	}
	other := e.addInbox("Other")
	ov := e.visitorOn(e.widgetOn(other.ID), "")
	otid := say(ov, "c", "elsewhere")["threadId"].(string)
	wantHubSpotError(t, "original content of another thread's message",
		admin.do("GET", v3+"/threads/"+otid+"/messages/"+first+"/original-content", nil, nil), 404, "not found")

	// A batch read with unknown actors: 207 with HubSpot's errors.
	res := admin.do("POST", v3+"/actors/batch/read", map[string]any{"inputs": []string{"A-" + idStr(e.admin.ID), "A-9999", "V-9999"}}, nil)
	var batch struct {
		Status    string
		Results   []struct{ ID string }
		NumErrors int
		Errors    []struct {
			Status, Category, Message string
			Context                   map[string][]string
		}
		StartedAt, CompletedAt string
	}
	res.decode(t, &batch)
	if res.status != 207 || batch.Status != "COMPLETE" || len(batch.Results) != 1 || batch.NumErrors != 2 || len(batch.Errors) != 1 ||
		batch.Errors[0].Category != "OBJECT_NOT_FOUND" || !slices.Equal(batch.Errors[0].Context["ids"], []string{"A-9999", "V-9999"}) ||
		!msTimeRE.MatchString(batch.StartedAt) {
		t.Errorf("batch read: %d %s", res.status, res.body)
	}
	if res := admin.do("POST", v3+"/actors/batch/read", map[string]any{"inputs": []string{"A-" + idStr(e.admin.ID)}}, nil); res.status != 200 || strings.Contains(string(res.body), "errors") {
		t.Errorf("batch read of known actors: %d %s", res.status, res.body)
	}
}

// TestPostAsSomeoneElse attacks senderActorId: only an admin-scoped API
// token posts as a member agent or a bot of the thread's inbox; the
// message shows that sender to the API, the console's socket and the
// visitor.
func TestPostAsSomeoneElse(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	member := e.addAgent("bob@example.com", true)
	outsider := e.addAgent("eve@example.com", false)
	e.addInbox("Elsewhere", outsider)
	v := e.visitorOn(e.widget, "")
	tid := say(v, "c1", "Hello")["threadId"].(string)
	adminToken := admin.bearer()
	readToken, _ := admin.newToken("reader", []string{"read", "write"})
	bob := e.login("bob@example.com")
	bobToken := bob.bearer()
	post := func(c *client, sender, text string) response {
		return c.do("POST", v3+"/threads/"+tid+"/messages", map[string]string{"text": text, "senderActorId": sender}, nil)
	}
	bobID, eveID := "A-"+idStr(member.ID), "A-"+idStr(outsider.ID)
	for _, tc := range []struct {
		name   string
		c      *client
		sender string
		status int
		msg    string
	}{
		{"agent's session as another", bob, "A-" + idStr(e.admin.ID), 403, "admin-scoped API token"},
		{"agent's token as another", bobToken, "A-" + idStr(e.admin.ID), 403, "admin-scoped API token"},
		{"admin's session", admin, bobID, 403, "admin-scoped API token"},
		{"admin's token without the admin scope", readToken, bobID, 403, "admin-scoped API token"},
		{"agent of another inbox", adminToken, eveID, 400, "not a member of this thread's inbox"},
		{"unknown user", adminToken, "A-9999", 400, "not an active user"},
		{"bot of no widget", adminToken, "B-9999", 400, "not the bot"},
		{"a visitor", adminToken, "V-1", 400, "must be a user (A-…) or a bot (B-…)"},
		{"garbage", adminToken, "Z-1", 400, "no actor id"},
	} {
		wantHubSpotError(t, tc.name, post(tc.c, tc.sender, "as someone else"), tc.status, tc.msg)
	}
	if ms := e.messages(t, tid); len(ms) != 1 {
		t.Fatalf("refused posts wrote %d messages", len(ms)-1)
	}

	watch, _ := admin.socket()
	var m struct {
		ID, CreatedBy string
		Senders       []struct{ ActorID, Name string }
	}
	res := post(adminToken, bobID, "Bob relayed")
	if res.status != 201 {
		t.Fatalf("post as bob: %d %s", res.status, res.body)
	}
	res.decode(t, &m)
	if m.CreatedBy != bobID || len(m.Senders) != 1 || m.Senders[0].ActorID != bobID || m.Senders[0].Name != "bob" {
		t.Errorf("posted as bob: %s", res.body)
	}
	got := msgOf(v.next("message.created"))
	if got["senderActorId"] != bobID || got["text"] != "Bob relayed" {
		t.Errorf("the visitor sees %v", got)
	}
	if ev := msgOf(watch.next("message.created")); ev["senderActorId"] != bobID {
		t.Errorf("the console sees %v", ev)
	}
	// Its own actor id is always fine, for anyone.
	if res := post(bob, bobID, "my own"); res.status != 201 {
		t.Errorf("own senderActorId: %d %s", res.status, res.body)
	}
	v.next("message.created")
	bot := "B-" + idStr(e.widget.ID)
	res = post(adminToken, bot, "the bot relayed")
	if res.status != 201 {
		t.Fatalf("post as the bot: %d %s", res.status, res.body)
	}
	res.decode(t, &m)
	if m.CreatedBy != bot {
		t.Errorf("posted as the bot: %s", res.body)
	}
	if got := msgOf(v.next("message.created")); got["senderActorId"] != bot || got["text"] != "the bot relayed" {
		t.Errorf("the visitor sees the bot's message as %v", got)
	}
}
