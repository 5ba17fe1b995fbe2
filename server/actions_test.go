package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// addWidget gives inbox inboxID another chat widget.
func (e *env) addWidget(inboxID uint64) *parley.Widget {
	e.t.Helper()
	w := parley.DefaultWidget(inboxID)
	w.Routing.Mode = parley.RoutingNone // like the env's widget (helpers_test.go)
	if err := e.db.CreateWidget(context.Background(), w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// addInbox creates another inbox with the given members.
func (e *env) addInbox(name string, members ...*parley.User) *parley.Inbox {
	e.t.Helper()
	in := &parley.Inbox{Name: name, MemberIDs: []uint64{}}
	for _, u := range members {
		in.MemberIDs = append(in.MemberIDs, u.ID)
	}
	if err := e.db.CreateInbox(context.Background(), in); err != nil {
		e.t.Fatal(err)
	}
	return in
}

// visitorOn connects a visitor (token "" for a new one) to widget w.
func (e *env) visitorOn(w *parley.Widget, token string) *wsClient {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.base, "http") + "/widget/v1/ws?widgetId=" + fmt.Sprint(w.ID)
	c, err := dialWS(e.t, url, http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		e.t.Fatal(err)
	}
	c.send(map[string]any{"type": "hello", "visitorToken": token, "pageUrl": "http://customer.example/"})
	c.next("ready")
	return c
}

// say has visitor v write text and returns the acknowledged message.
func say(v *wsClient, clientID, text string) map[string]any {
	v.tb.Helper()
	v.send(map[string]any{"type": "message.send", "clientId": clientID, "text": text})
	return msgOf(v.next("message.ack"))
}

// apiThread is the v3 thread object, as far as these tests read it.
type apiThread struct {
	ID                                  string
	Status, AssignedTo, InboxID         string
	AssociatedContactID                 string
	Spam, Blocked, Archived             bool
	LastSeq                             float64
	ContactName, OriginalChannelAccount string
}

func (c *client) thread(tb testing.TB, id string) apiThread {
	tb.Helper()
	var th apiThread
	res := c.do("GET", v3+"/threads/"+id, nil, nil)
	if res.status != 200 {
		tb.Fatalf("GET thread %s: %d %s", id, res.status, res.body)
	}
	res.decode(tb, &th)
	return th
}

// lastMessage is the newest message of a thread over REST.
func (c *client) lastMessage(tb testing.TB, id string) map[string]any {
	tb.Helper()
	var page struct{ Results []map[string]any }
	c.do("GET", v3+"/threads/"+id+"/messages?limit=500", nil, nil).decode(tb, &page)
	if len(page.Results) == 0 {
		tb.Fatalf("thread %s has no messages", id)
	}
	return page.Results[len(page.Results)-1]
}

// TestThreadActions: each action changes the thread, records a system event
// on it in the same commit, tells the inbox's other agents live and the
// visitor nothing; repeating it changes and records nothing.
func TestThreadActions(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("bea@example.com", true)
	bea := e.login("bea@example.com")
	bws, _ := bea.agentWS()

	v := e.visitorOn(e.widget, "")
	tid := say(v, "c1", "Hello")["threadId"].(string)
	bws.next("thread.created")
	bws.next("message.created")

	type state struct{ blocked, spam, archived bool }
	for _, tc := range []struct {
		name, method, path string
		status             int
		event              string
		want               state
	}{
		{"block", "POST", "/api/v1/threads/" + tid + "/block", 200, parley.EventBlocked, state{blocked: true}},
		{"unblock", "POST", "/api/v1/threads/" + tid + "/unblock", 200, parley.EventUnblocked, state{}},
		{"mark as spam", "POST", "/api/v1/threads/" + tid + "/spam", 200, parley.EventSpam, state{spam: true}},
		{"not spam", "POST", "/api/v1/threads/" + tid + "/not-spam", 200, parley.EventNotSpam, state{}},
		{"delete to the trash", "DELETE", v3 + "/threads/" + tid, 204, parley.EventArchived, state{archived: true}},
		{"restore", "PATCH", v3 + "/threads/" + tid, 200, parley.EventRestored, state{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "PATCH" {
				body = map[string]bool{"archived": false}
			}
			before := admin.thread(t, tid)
			res := admin.do(tc.method, tc.path, body, nil)
			if res.status != tc.status {
				t.Fatalf("status=%d body=%s, want %d", res.status, res.body, tc.status)
			}
			check := func(where string, th apiThread) {
				t.Helper()
				if got := (state{th.Blocked, th.Spam, th.Archived}); got != tc.want {
					t.Errorf("%s: blocked, spam, archived=%+v, want %+v", where, got, tc.want)
				}
			}
			if tc.status == 200 {
				var th apiThread
				res.decode(t, &th)
				check("answer", th)
			}
			after := admin.thread(t, tid)
			check("GET", after)
			if after.LastSeq != before.LastSeq+1 {
				t.Errorf("lastSeq=%v, want %v", after.LastSeq, before.LastSeq+1)
			}
			m := admin.lastMessage(t, tid)
			if m["type"] != "SYSTEM" || m["event"] != tc.event || m["createdBy"] != e.admin.ActorID() || m["seq"] != after.LastSeq {
				t.Errorf("last message=%v, want a SYSTEM %s event by %s", m, tc.event, e.admin.ActorID())
			}

			// Bea sees the event, then the changed thread.
			ev := msgOf(bws.next("message.created"))
			if ev["type"] != "SYSTEM" || ev["event"] != tc.event || ev["threadId"] != tid || ev["senderActorId"] != e.admin.ActorID() || ev["senderName"] != "Ada Admin" {
				t.Errorf("live message=%v", ev)
			}
			upd := bws.next("thread.updated")["thread"].(map[string]any)
			if got := (state{upd["blocked"] == true, upd["spam"] == true, upd["archived"] == true}); upd["id"] != tid || got != tc.want {
				t.Errorf("live thread=%v", upd)
			}

			// Again: nothing changes, nothing is recorded.
			if res := admin.do(tc.method, tc.path, body, nil); res.status != tc.status {
				t.Fatalf("again: status=%d body=%s", res.status, res.body)
			}
			if again := admin.thread(t, tid); again.LastSeq != after.LastSeq {
				t.Errorf("repeating recorded again: lastSeq %v → %v", after.LastSeq, again.LastSeq)
			}
		})
	}

	// The visitor saw none of it: the next thing it gets is the agent's reply.
	if res := admin.do("POST", v3+"/threads/"+tid+"/messages", map[string]string{"text": "Still here"}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	for {
		ev := v.next("message.created", "thread.updated")
		if ev["type"] == "thread.updated" {
			t.Fatalf("the visitor got %v", ev)
		}
		m := msgOf(ev)
		if m["seq"] == 1.0 {
			continue // its own message
		}
		if m["text"] != "Still here" {
			t.Fatalf("the visitor got %v before the reply", m)
		}
		break
	}
}

// TestBlockedSender follows I9: blocking moves the thread to Filtered and
// marks the contact; what the visitor sends afterwards is kept but stays
// filtered, on this thread and on new ones; unblocking restores this thread
// and future conversations, not those started while blocked.
func TestBlockedSender(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	w2, w3 := e.addWidget(e.inbox.ID), e.addWidget(e.inbox.ID)

	v := e.visitorOn(e.widget, "")
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Buy cheap watches"})
	token := v.next("identity")["visitorToken"].(string)
	first := msgOf(v.next("message.ack"))
	tid := first["threadId"].(string)
	contactID := strings.TrimPrefix(first["senderActorId"].(string), "V-")

	// An older conversation on another widget, from before the block.
	v2 := e.visitorOn(w2, token)
	older := say(v2, "o1", "Earlier question")["threadId"].(string)

	if res := admin.do("POST", "/api/v1/threads/"+tid+"/block", nil, nil); res.status != 200 {
		t.Fatalf("block: %d %s", res.status, res.body)
	}
	id, _ := parseUint(contactID)
	if c, err := e.db.Contact(ctx, id); err != nil || !c.Blocked {
		t.Fatalf("contact after block=%+v, %v", c, err)
	}
	if th := admin.thread(t, older); th.Blocked {
		t.Fatal("blocking touched the contact's other thread")
	}

	// The visitor still chats; the message is kept, on the filtered thread.
	if m := say(v, "c2", "Still selling watches"); m["threadId"] != tid {
		t.Fatalf("blocked visitor's message went to %v, want %s", m["threadId"], tid)
	}
	if th := admin.thread(t, tid); !th.Blocked {
		t.Fatal("the thread left Filtered when the blocked visitor wrote")
	}
	if m := admin.lastMessage(t, tid); m["text"] != "Still selling watches" {
		t.Fatalf("last message=%v", m)
	}

	// Writing into the older thread moves it to Filtered too.
	say(v2, "o2", "Hello again")
	if th := admin.thread(t, older); !th.Blocked {
		t.Fatal("a blocked sender's message reached the inbox through an older thread")
	}
	for {
		upd := aws.next("thread.updated")["thread"].(map[string]any)
		if upd["id"] == older {
			if upd["blocked"] != true {
				t.Fatalf("live update of the older thread=%v", upd)
			}
			break
		}
	}

	// A new conversation of the blocked sender starts in Filtered.
	v3c := e.visitorOn(w3, token)
	newTid := say(v3c, "n1", "New chat while blocked")["threadId"].(string)
	for {
		created := aws.next("thread.created")["thread"].(map[string]any)
		if created["id"] == newTid {
			if created["blocked"] != true {
				t.Fatalf("thread.created=%v, want blocked", created)
			}
			break
		}
	}
	if th := admin.thread(t, newTid); !th.Blocked {
		t.Fatal("the blocked sender's new thread is not filtered")
	}

	// Unblock from the first thread: it comes back, the contact is cleared,
	// the thread started while blocked stays filtered.
	res := admin.do("POST", "/api/v1/threads/"+tid+"/unblock", nil, nil)
	var th apiThread
	res.decode(t, &th)
	if res.status != 200 || th.Blocked {
		t.Fatalf("unblock: %d %s", res.status, res.body)
	}
	if c, _ := e.db.Contact(ctx, id); c.Blocked {
		t.Fatal("contact still blocked")
	}
	if th := admin.thread(t, newTid); !th.Blocked {
		t.Fatal("unblocking restored a thread it was not done from")
	}
	say(v, "c3", "Sorry about that")
	if th := admin.thread(t, tid); th.Blocked {
		t.Fatal("the unblocked thread went back to Filtered")
	}

	// Future conversations reach the inbox again.
	w4 := e.addWidget(e.inbox.ID)
	v4 := e.visitorOn(w4, token)
	if th := admin.thread(t, say(v4, "f1", "A real question")["threadId"].(string)); th.Blocked {
		t.Fatal("a new conversation after unblocking is filtered")
	}

	// A thread whose contact was removed cannot block anyone.
	if _, err := e.db.UpdateThread(ctx, mustUint(t, older), func(t *parley.Thread) error { t.ContactID = 0; return nil }); err != nil {
		t.Fatal(err)
	}
	if res := admin.do("POST", "/api/v1/threads/"+older+"/block", nil, nil); res.status != 400 {
		t.Fatalf("block without a contact: %d %s", res.status, res.body)
	}
}

// TestSpamOneThread: marking a thread as spam touches that thread only.
func TestSpamOneThread(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	w2 := e.addWidget(e.inbox.ID)
	v := e.visitorOn(e.widget, "")
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "spammy"})
	token := v.next("identity")["visitorToken"].(string)
	spam := msgOf(v.next("message.ack"))["threadId"].(string)
	other := say(e.visitorOn(w2, token), "c2", "a real question")["threadId"].(string)
	third := startChat(t, e, "someone else")

	res := admin.do("POST", "/api/v1/threads/"+spam+"/spam", nil, nil)
	var th apiThread
	res.decode(t, &th)
	if res.status != 200 || !th.Spam || th.Blocked {
		t.Fatalf("spam: %d %s", res.status, res.body)
	}
	for _, id := range []string{other, third} {
		if th := admin.thread(t, id); th.Spam || th.Blocked {
			t.Errorf("thread %s changed: %+v", id, th)
		}
	}
	c, _ := e.db.Contact(context.Background(), mustUint(t, th.AssociatedContactID))
	if c.Blocked {
		t.Error("marking as spam blocked the sender")
	}
	// New messages on the spam thread keep it filtered; the other stays clean.
	say(v, "c3", "more spam")
	if th := admin.thread(t, spam); !th.Spam {
		t.Error("a new message cleared the spam mark")
	}
}

// TestActionAccess: only members of the thread's inbox may act on it; for
// everyone else the thread does not exist.
func TestActionAccess(t *testing.T) {
	e := newEnv(t, nil)
	tid := startChat(t, e, "Hello")
	outsider := e.addAgent("out@example.com", false)
	e.addInbox("Sales", outsider)
	out := e.login("out@example.com")
	anon := &client{e: e, hc: e.ts.Client()}
	admin := e.login("admin@example.com")

	paths := []struct{ method, path string }{
		{"POST", "/api/v1/threads/" + tid + "/block"},
		{"POST", "/api/v1/threads/" + tid + "/unblock"},
		{"POST", "/api/v1/threads/" + tid + "/spam"},
		{"POST", "/api/v1/threads/" + tid + "/not-spam"},
		{"DELETE", v3 + "/threads/" + tid},
	}
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			if res := out.do(p.method, p.path, nil, nil); res.status != 404 {
				t.Errorf("outsider: status=%d body=%s, want 404", res.status, res.body)
			}
			if res := anon.do(p.method, p.path, nil, nil); res.status != 401 {
				t.Errorf("signed out: status=%d, want 401", res.status)
			}
			if res := admin.do(p.method, p.path, nil, map[string]string{"Origin": "http://evil.example"}); res.status != 403 {
				t.Errorf("cross-site: status=%d, want 403", res.status)
			}
		})
	}
	for _, path := range []string{"/api/v1/threads/999/block", "/api/v1/threads/abc/spam", "/api/v1/threads/0/unblock"} {
		if res := admin.do("POST", path, nil, nil); res.status != 404 {
			t.Errorf("POST %s: status=%d, want 404", path, res.status)
		}
	}
	th := admin.thread(t, tid)
	if th.Blocked || th.Spam || th.Archived || th.LastSeq != 1 {
		t.Fatalf("refused actions changed the thread: %+v", th)
	}
}

// TestSnippetsAPI: create, list, change and delete saved replies, with
// precise errors and nothing written for bad input.
func TestSnippetsAPI(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("bea@example.com", true)
	bea := e.login("bea@example.com")
	anon := &client{e: e, hc: e.ts.Client()}

	type snippet struct{ ID, Name, Shortcut, Body, CreatedBy, CreatedAt, UpdatedAt string }
	var hi snippet
	res := bea.do("POST", "/api/v1/snippets", map[string]string{"name": "  Greeting ", "shortcut": "hi", "body": "Hi! How can I help?"}, nil)
	res.decode(t, &hi)
	if res.status != 201 || hi.ID == "" || hi.Name != "Greeting" || hi.CreatedBy == "" || hi.CreatedAt == "" {
		t.Fatalf("create: %d %s", res.status, res.body)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"no name", `{"shortcut":"a","body":"x"}`, 400, "name is required"},
		{"blank name", `{"name":"  ","shortcut":"a","body":"x"}`, 400, "name is required"},
		{"no shortcut", `{"name":"A","body":"x"}`, 400, "shortcut is required"},
		{"shortcut with #", `{"name":"A","shortcut":"#a","body":"x"}`, 400, "letters, digits"},
		{"shortcut with a space", `{"name":"A","shortcut":"a b","body":"x"}`, 400, "letters, digits"},
		{"no body", `{"name":"A","shortcut":"a"}`, 400, "body: text is empty"},
		{"body too large", map[string]string{"name": "A", "shortcut": "a", "body": strings.Repeat("x", 16<<10+1)}, 413, "body is 16385 bytes"},
		{"taken shortcut", `{"name":"A","shortcut":"HI","body":"x"}`, 409, "already has the shortcut"},
		{"wrong type", `{"name":1}`, 400, `"name" must be string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.do("POST", "/api/v1/snippets", tc.body, nil)
			var eb struct{ Message string }
			res.decode(t, &eb)
			if res.status != tc.status || !strings.Contains(eb.Message, tc.msg) {
				t.Fatalf("status=%d body=%.200s, want %d %q", res.status, res.body, tc.status, tc.msg)
			}
		})
	}
	if res := admin.do("POST", "/api/v1/snippets", map[string]string{"name": "Body at the limit", "shortcut": "long", "body": strings.Repeat("x", 16<<10)}, nil); res.status != 201 {
		t.Fatalf("16 KiB body: %d %.200s", res.status, res.body)
	}
	if res := admin.do("POST", "/api/v1/snippets", map[string]string{"name": "Pricing", "shortcut": "price", "body": "See the pricing page."}, nil); res.status != 201 {
		t.Fatalf("second: %d %s", res.status, res.body)
	}

	var list struct{ Results []snippet }
	bea.do("GET", "/api/v1/snippets", nil, nil).decode(t, &list)
	var got []string
	for _, s := range list.Results {
		got = append(got, s.Shortcut)
	}
	if fmt.Sprint(got) != "[hi long price]" {
		t.Fatalf("shortcuts=%v, want [hi long price] (no snippet of the failed requests)", got)
	}
	if res := anon.do("GET", "/api/v1/snippets", nil, nil); res.status != 401 {
		t.Fatalf("signed out list: %d", res.status)
	}

	// Its author and admins may change or delete it; others only use it.
	price := list.Results[2]
	if res := bea.do("PATCH", "/api/v1/snippets/"+price.ID, map[string]string{"body": "mine now"}, nil); res.status != 403 {
		t.Fatalf("PATCH another's snippet: %d %s", res.status, res.body)
	}
	if res := bea.do("DELETE", "/api/v1/snippets/"+price.ID, nil, nil); res.status != 403 {
		t.Fatalf("DELETE another's snippet: %d %s", res.status, res.body)
	}
	var upd snippet
	res = bea.do("PATCH", "/api/v1/snippets/"+hi.ID, map[string]string{"shortcut": "hello", "body": "Hello there!"}, nil)
	res.decode(t, &upd)
	if res.status != 200 || upd.Shortcut != "hello" || upd.Body != "Hello there!" || upd.Name != "Greeting" || upd.CreatedBy != hi.CreatedBy {
		t.Fatalf("PATCH: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"nothing", `{}`, 400},
		{"taken shortcut", `{"shortcut":"PRICE"}`, 409},
		{"bad shortcut", `{"shortcut":"a/b"}`, 400},
		{"empty body", `{"body":""}`, 400},
	} {
		t.Run("PATCH "+tc.name, func(t *testing.T) {
			if res := bea.do("PATCH", "/api/v1/snippets/"+hi.ID, tc.body, nil); res.status != tc.status {
				t.Fatalf("status=%d body=%s, want %d", res.status, res.body, tc.status)
			}
		})
	}
	if res := admin.do("PATCH", "/api/v1/snippets/"+hi.ID, map[string]string{"name": "Welcome"}, nil); res.status != 200 {
		t.Fatalf("admin PATCH: %d %s", res.status, res.body)
	}
	var cur snippet
	bea.do("GET", "/api/v1/snippets/"+hi.ID, nil, nil).decode(t, &cur)
	if cur.Name != "Welcome" || cur.Shortcut != "hello" || cur.Body != "Hello there!" {
		t.Fatalf("after PATCHes: %+v", cur)
	}
	if res := bea.do("DELETE", "/api/v1/snippets/"+hi.ID, nil, nil); res.status != 204 {
		t.Fatalf("DELETE: %d %s", res.status, res.body)
	}
	for _, method := range []string{"GET", "PATCH", "DELETE"} {
		if res := admin.do(method, "/api/v1/snippets/"+hi.ID, `{"name":"x"}`, nil); res.status != 404 {
			t.Errorf("%s deleted snippet: %d", method, res.status)
		}
	}
	if res := admin.do("GET", "/api/v1/snippets/nope", nil, nil); res.status != 404 {
		t.Errorf("GET bad id: %d", res.status)
	}
}

// TestViewers: consoles say which thread they show; the inbox's agents learn
// who views it, live, and a closed console drops out. Nobody outside the
// inbox hears of it.
func TestViewers(t *testing.T) {
	e := newEnv(t, nil)
	tid := startChat(t, e, "Hello")
	e.addAgent("bea@example.com", true)
	outsider := e.addAgent("out@example.com", false)
	sales := e.addInbox("Sales", outsider)
	salesWidget := e.addWidget(sales.ID)

	aws, _ := e.login("admin@example.com").agentWS()
	bea := e.login("bea@example.com")
	bws, _ := bea.agentWS()
	ows, _ := e.login("out@example.com").agentWS()

	names := func(ev map[string]any) string {
		t.Helper()
		var out []string
		for _, u := range ev["users"].([]any) {
			out = append(out, u.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	expect := func(c *wsClient, want string) {
		t.Helper()
		ev := c.next("viewers")
		if ev["threadId"] != tid || names(ev) != want {
			t.Fatalf("viewers=%v, want %q on thread %s", ev, want, tid)
		}
	}

	aws.send(map[string]any{"type": "viewing", "threadId": tid})
	expect(aws, "Ada Admin")
	expect(bws, "Ada Admin")
	bws.send(map[string]any{"type": "viewing", "threadId": tid})
	expect(aws, "Ada Admin,bea")
	expect(bws, "Ada Admin,bea")

	// Bea's second tab on the same thread changes nobody's list; it gets the
	// list for itself. Her first tab moving away changes nothing either.
	bws2, _ := bea.agentWS()
	bws2.send(map[string]any{"type": "viewing", "threadId": tid})
	expect(bws2, "Ada Admin,bea")
	bws.send(map[string]any{"type": "viewing", "threadId": ""})
	// Closing the second tab: Bea views nothing any more.
	_ = bws2.c.CloseNow()
	expect(aws, "Ada Admin") // and not a repeat of "Ada Admin,bea" first
	expect(bws, "Ada Admin")

	// Threads the user may not see do not exist.
	for _, id := range []string{"abc", "999"} {
		aws.send(map[string]any{"type": "viewing", "threadId": id})
		if ev := aws.next("error", "viewers"); ev["code"] != "not_found" {
			t.Fatalf("viewing %s: %v", id, ev)
		}
	}
	ows.send(map[string]any{"type": "viewing", "threadId": tid})
	if ev := ows.next("error", "viewers"); ev["code"] != "not_found" {
		t.Fatalf("outsider viewing: %v", ev)
	}
	// The outsider hears of its own inbox only.
	sv := e.visitorOn(salesWidget, "")
	salesTid := say(sv, "s1", "Sales question")["threadId"].(string)
	ows.send(map[string]any{"type": "viewing", "threadId": salesTid})
	if ev := ows.next("viewers"); ev["threadId"] != salesTid || names(ev) != "out" {
		t.Fatalf("outsider's first viewers event=%v, want its own thread", ev)
	}
	// Disconnecting leaves.
	_ = aws.c.CloseNow()
	if ev := bws.next("viewers"); ev["threadId"] != tid || len(ev["users"].([]any)) != 0 {
		t.Fatalf("after the last viewer left: %v", ev)
	}
}

func parseUint(s string) (uint64, error) {
	var n uint64
	_, err := fmt.Sscan(s, &n)
	return n, err
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := parseUint(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return n
}

// TestNotifySettings: each user keeps their own notification settings
// (R6), shown only to themselves.
func TestNotifySettings(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("bea@example.com", true)
	bea := e.login("bea@example.com")

	type me struct {
		ID     string
		Away   bool
		Notify *struct{ Muted, Desktop bool }
	}
	get := func(c *client) me {
		t.Helper()
		var m me
		c.do("GET", "/api/v1/users/me", nil, nil).decode(t, &m)
		if m.Notify == nil {
			t.Fatalf("users/me has no notify")
		}
		return m
	}
	if m := get(admin); m.Notify.Muted || m.Notify.Desktop {
		t.Fatalf("defaults=%+v, want sound on and desktop off", *m.Notify)
	}
	for _, tc := range []struct {
		name           string
		body           string
		status         int
		muted, desktop bool
	}{
		{"mute", `{"notify":{"muted":true}}`, 200, true, false},
		{"desktop on, muted kept", `{"notify":{"desktop":true}}`, 200, true, true},
		{"both", `{"notify":{"muted":false,"desktop":false}}`, 200, false, false},
		{"away alone keeps them", `{"away":false}`, 200, false, false},
		{"wrong type", `{"notify":{"muted":"yes"}}`, 400, false, false},
		{"not an object", `{"notify":true}`, 400, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.do("PATCH", "/api/v1/users/me", tc.body, nil)
			if res.status != tc.status {
				t.Fatalf("status=%d body=%s, want %d", res.status, res.body, tc.status)
			}
			if tc.status == 200 {
				var m me
				res.decode(t, &m)
				if m.Notify == nil || m.Notify.Muted != tc.muted || m.Notify.Desktop != tc.desktop {
					t.Fatalf("answer=%s", res.body)
				}
			}
			if m := get(admin); m.Notify.Muted != tc.muted || m.Notify.Desktop != tc.desktop {
				t.Fatalf("stored=%+v", *m.Notify)
			}
		})
	}
	admin.do("PATCH", "/api/v1/users/me", `{"notify":{"muted":true}}`, nil)
	if m := get(bea); m.Notify.Muted {
		t.Fatal("one user's settings changed another's")
	}
	if res := bea.do("GET", "/api/v1/users", nil, nil); strings.Contains(string(res.body), `"notify"`) {
		t.Fatalf("the user list shows notification settings: %s", res.body)
	}
}
