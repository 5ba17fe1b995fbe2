package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

// testBot asks what the visitor needs: Support hands off to routing, Sales
// asks for an email first, and anything after the email closes.
func testBot() map[string]any {
	return map[string]any{"enabled": true, "name": "Parley Bot", "steps": []map[string]any{
		{"id": "hi", "kind": "message", "text": "Hi! I'm the bot."},
		{"id": "need", "kind": "question", "text": "What do you need?", "options": []string{"Sales", "Support"}, "property": "need"},
		{"id": "route", "kind": "branch", "on": "need", "cases": []map[string]string{{"value": "Sales", "goto": "mail"}}, "next": "help"},
		{"id": "mail", "kind": "email", "text": "Your email, please?"},
		{"id": "thanks", "kind": "close", "text": "Thanks, we'll write to you."},
		{"id": "help", "kind": "handoff", "to": "routing", "text": "Connecting you with a teammate."},
	}}
}

// putBot saves flow as the widget's bot through the API.
func putBot(t *testing.T, e *env, admin *client, flow any) {
	t.Helper()
	res := admin.do("PUT", fmt.Sprintf("/api/v1/widgets/%d/bot", e.widget.ID), flow, nil)
	if res.status != 200 {
		t.Fatalf("PUT bot: %d %s", res.status, res.body)
	}
}

// nextMessage waits for a message.created event whose message has the field
// key equal to value.
func nextMessage(w *wsClient, key, value string) map[string]any {
	w.tb.Helper()
	for {
		m := msgOf(w.next("message.created"))
		if fmt.Sprint(m[key]) == value {
			return m
		}
	}
}

// startBotChat starts a chat on the bot's widget and returns the visitor's
// connection, token and thread id, after the bot's first question.
func startBotChat(t *testing.T, e *env, text string) (*wsClient, string, string) {
	t.Helper()
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c-" + fmt.Sprint(time.Now().UnixNano()), "text": text})
	token := v.next("identity")["visitorToken"].(string)
	threadID := msgOf(v.next("message.ack"))["threadId"].(string)
	q := nextMessage(v, "text", "What do you need?")
	if got := fmt.Sprint(q["quickReplies"]); got != "[Sales Support]" {
		t.Fatalf("question quickReplies=%s, want [Sales Support]", got)
	}
	return v, token, threadID
}

func threadGet(t *testing.T, c *client, id string) map[string]any {
	t.Helper()
	res := c.do("GET", "/conversations/v3/conversations/threads/"+id, nil, nil)
	if res.status != 200 {
		t.Fatalf("GET thread: %d %s", res.status, res.body)
	}
	var th map[string]any
	res.decode(t, &th)
	return th
}

// viewIDs lists the ids of the open threads in a view.
func viewIDs(t *testing.T, c *client, view string) []string {
	t.Helper()
	res := c.do("GET", "/conversations/v3/conversations/threads?threadStatus=OPEN&view="+view, nil, nil)
	if res.status != 200 {
		t.Fatalf("list %s: %d %s", view, res.status, res.body)
	}
	var p struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	res.decode(t, &p)
	ids := []string{}
	for _, r := range p.Results {
		ids = append(ids, r.ID)
	}
	return ids
}

func counts(t *testing.T, c *client) map[string]float64 {
	t.Helper()
	var vc map[string]float64
	c.do("GET", "/api/v1/views/counts", nil, nil).decode(t, &vc)
	return vc
}

// TestBotHandOff: a visitor on a bot widget gets the bot's messages and a
// question with quick replies; while the bot owns the conversation it is in
// Bots, and agents can neither reply, assign nor close it; the visitor's
// quick reply is saved on the contact and hands off, which moves the
// conversation to All.
func TestBotHandOff(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	putBot(t, e, admin, testBot())
	aws, _ := admin.agentWS()

	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hello?"})
	v.next("identity")
	ack := msgOf(v.next("message.ack"))
	threadID := ack["threadId"].(string)
	hi := msgOf(v.next("message.created"))
	q := msgOf(v.next("message.created"))
	bot := fmt.Sprintf("B-%d", e.widget.ID)
	if hi["text"] != "Hi! I'm the bot." || hi["senderActorId"] != bot || hi["senderName"] != "Parley Bot" || hi["direction"] != "OUTGOING" {
		t.Fatalf("visitor got %v, want the bot's greeting", hi)
	}
	if q["text"] != "What do you need?" || fmt.Sprint(q["quickReplies"]) != "[Sales Support]" || q["seq"] != 4.0 {
		t.Fatalf("visitor got %v, want the question with quick replies at seq 4 (1 visitor, 2 bot_started)", q)
	}
	if created := aws.next("thread.created")["thread"].(map[string]any); created["owner"] != "bot" {
		t.Errorf("thread.created owner=%v, want bot", created["owner"])
	}
	if ev := nextMessage(aws, "event", parley.EventBotStarted); ev["senderActorId"] != bot {
		t.Errorf("bot_started=%v", ev)
	}

	// The Bots view, not All or Unassigned.
	if got := viewIDs(t, admin, "bots"); fmt.Sprint(got) != "["+threadID+"]" {
		t.Errorf("bots view=%v, want [%s]", got, threadID)
	}
	for _, view := range []string{"all", "unassigned", "chat"} {
		if got := viewIDs(t, admin, view); len(got) != 0 {
			t.Errorf("%s view=%v, want empty while the bot owns it", view, got)
		}
	}
	if c := counts(t, admin); c["bots"] != 1 || c["all"] != 0 || c["unassigned"] != 0 {
		t.Errorf("counts=%v, want bots 1, all 0", c)
	}

	// Agents cannot answer, assign or close it; notes are fine.
	path := "/conversations/v3/conversations/threads/" + threadID
	for _, tt := range []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"reply", "POST", path + "/messages", map[string]string{"text": "I'm here too"}},
		{"close", "PATCH", path, map[string]string{"status": "CLOSED"}},
		{"assign", "PUT", path + "/assignee", map[string]string{"actorId": e.admin.ActorID()}},
	} {
		res := admin.do(tt.method, tt.path, tt.body, nil)
		if res.status != 409 || !strings.Contains(string(res.body), "take over the conversation first") {
			t.Errorf("%s: %d %s, want 409 take over first", tt.name, res.status, res.body)
		}
	}
	aws.send(map[string]any{"type": "message.send", "threadId": threadID, "clientId": "a1", "text": "hello"})
	if ev := aws.next("error", "message.ack"); ev["type"] != "error" || ev["code"] != "conflict" {
		t.Errorf("WebSocket reply=%v, want a conflict error", ev)
	}
	if res := admin.do("POST", path+"/messages", map[string]string{"type": "COMMENT", "text": "bot is on it"}, nil); res.status != 201 {
		t.Errorf("note: %d %s, want 201", res.status, res.body)
	}

	// A text that is no option is asked again; the quick reply hands off.
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "pizza"})
	if again := nextMessage(v, "senderActorId", bot); again["text"] != "Please choose one of the options." || fmt.Sprint(again["quickReplies"]) != "[Sales Support]" {
		t.Errorf("re-ask=%v", again)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c3", "text": "support"})
	if bye := nextMessage(v, "senderActorId", bot); bye["text"] != "Connecting you with a teammate." {
		t.Errorf("hand-off text=%v", bye)
	}
	if ev := nextMessage(aws, "event", parley.EventHandedOff); ev["senderActorId"] != bot {
		t.Errorf("handed_off=%v", ev)
	}
	th := nextEvent(aws, "thread.updated", "type", "thread.updated")["thread"].(map[string]any)
	for th["owner"] == "bot" {
		th = nextEvent(aws, "thread.updated", "type", "thread.updated")["thread"].(map[string]any)
	}
	// Routing assigns an available agent or leaves it waiting: either way
	// it is the agents' now, in All.
	if th["owner"] != "waiting" && !(th["owner"] == "agent" && th["assignedTo"] != nil) {
		t.Errorf("after hand-off thread=%v, want waiting or assigned", th)
	}
	if got := viewIDs(t, admin, "all"); fmt.Sprint(got) != "["+threadID+"]" {
		t.Errorf("all view=%v, want [%s]", got, threadID)
	}
	if got := viewIDs(t, admin, "bots"); len(got) != 0 {
		t.Errorf("bots view=%v, want empty", got)
	}
	if c := counts(t, admin); c["bots"] != 0 || c["all"] != 1 {
		t.Errorf("counts=%v, want bots 0, all 1", c)
	}
	contactID := threadGet(t, admin, threadID)["associatedContactId"].(string)
	var cid uint64
	fmt.Sscan(contactID, &cid)
	if c, err := e.db.Contact(context.Background(), cid); err != nil || c.Properties["need"] != "Support" {
		t.Errorf("contact=%+v, %v, want need=Support", c, err)
	}

	// While it waits the bot is silent, and an agent may reply.
	v.send(map[string]any{"type": "message.send", "clientId": "c4", "text": "anyone?"})
	nextMessage(aws, "text", "anyone?")
	if res := admin.do("POST", path+"/messages", map[string]string{"text": "Yes, me."}, nil); res.status != 201 {
		t.Errorf("reply after hand-off: %d %s", res.status, res.body)
	}
	if m := nextMessage(v, "direction", "OUTGOING"); m["text"] != "Yes, me." {
		t.Errorf("visitor got %v after the hand-off, want only the agent's reply", m)
	}
	// The REST message shows the bot's quick replies in HubSpot's shape.
	res := admin.do("GET", path+"/messages/"+q["id"].(string), nil, nil)
	var msg struct {
		CreatedBy   string `json:"createdBy"`
		Attachments []struct {
			Type         string `json:"type"`
			QuickReplies []struct {
				Label, Value, ValueType string
			} `json:"quickReplies"`
		} `json:"attachments"`
	}
	res.decode(t, &msg)
	if msg.CreatedBy != bot || len(msg.Attachments) != 1 || msg.Attachments[0].Type != "QUICK_REPLIES" ||
		len(msg.Attachments[0].QuickReplies) != 2 || msg.Attachments[0].QuickReplies[1].Value != "Support" {
		t.Errorf("REST message=%s", res.body)
	}
	var actor map[string]any
	admin.do("GET", "/conversations/v3/conversations/actors/"+bot, nil, nil).decode(t, &actor)
	if actor["type"] != "BOT" || actor["name"] != "Parley Bot" {
		t.Errorf("actor=%v", actor)
	}
}

// TestBotTakeOver: an agent takes a conversation over from the bot; the
// change is recorded, the agent is its assignee and may reply, and the bot
// answers no more.
func TestBotTakeOver(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	putBot(t, e, admin, testBot())
	aws, _ := admin.agentWS()
	v, _, threadID := startBotChat(t, e, "Hi")
	path := "/conversations/v3/conversations/threads/" + threadID

	res := admin.do("POST", "/api/v1/threads/"+threadID+"/takeover", nil, nil)
	if res.status != 200 {
		t.Fatalf("takeover: %d %s", res.status, res.body)
	}
	var th map[string]any
	res.decode(t, &th)
	if th["owner"] != "agent" || th["assignedTo"] != e.admin.ActorID() {
		t.Fatalf("after takeover thread=%v, want the admin's", th)
	}
	ev := nextMessage(aws, "event", parley.EventTakenOver)
	if ev["senderActorId"] != e.admin.ActorID() || ev["assignedTo"] != e.admin.ActorID() {
		t.Errorf("taken_over=%v", ev)
	}
	if got := viewIDs(t, admin, "mine"); fmt.Sprint(got) != "["+threadID+"]" {
		t.Errorf("mine view=%v, want [%s]", got, threadID)
	}
	if res := admin.do("POST", "/api/v1/threads/"+threadID+"/takeover", nil, nil); res.status != 409 {
		t.Errorf("second takeover: %d %s, want 409", res.status, res.body)
	}
	if res := admin.do("POST", path+"/messages", map[string]string{"text": "Ada here."}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	if m := nextMessage(v, "direction", "OUTGOING"); m["text"] != "Ada here." {
		t.Errorf("visitor got %v, want the agent's reply", m)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c9", "text": "Sales"})
	nextMessage(aws, "text", "Sales")
	msgs := e.messages(t, threadID)
	if last := msgs[len(msgs)-1]; last.SenderID == parley.BotActorID(e.widget.ID) {
		t.Errorf("the bot answered after the takeover: %+v", last)
	}
	if res := admin.do("PATCH", path, map[string]string{"status": "CLOSED"}, nil); res.status != 200 {
		t.Errorf("close after takeover: %d %s", res.status, res.body)
	}
	// An agent outside the inbox cannot see it, let alone take it over.
	e.addAgent("outsider@example.com", false)
	if res := e.login("outsider@example.com").do("POST", "/api/v1/threads/"+threadID+"/takeover", nil, nil); res.status != 404 {
		t.Errorf("outsider takeover: %d, want 404", res.status)
	}
}

func (e *env) messages(t *testing.T, threadID string) []*parley.Message {
	t.Helper()
	var id uint64
	fmt.Sscan(threadID, &id)
	msgs, _, err := e.db.Messages(context.Background(), id, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// fakeClock is a settable clock for server.Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestBotAutoClose: a bot conversation closes itself after 30 minutes
// without a visitor message, not before, counted from the visitor's last
// message, and is recorded as closed by the bot.
func TestBotAutoClose(t *testing.T) {
	clock := &fakeClock{t: time.Now().UTC()}
	e := newEnv(t, &envOptions{app: app.Config{Now: clock.Now, BotSweepInterval: 5 * time.Millisecond}})
	admin := e.login("admin@example.com")
	putBot(t, e, admin, testBot())
	v, _, threadID := startBotChat(t, e, "Hi")
	status := func() string { return threadGet(t, admin, threadID)["status"].(string) }
	settle := func() { time.Sleep(60 * time.Millisecond) } // a dozen sweeps

	clock.Add(20 * time.Minute)
	settle()
	if got := status(); got != "OPEN" {
		t.Fatalf("after 20 minutes status=%s, want OPEN", got)
	}
	// The visitor writes: the half hour starts again.
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "hmm"})
	nextMessage(v, "text", "Please choose one of the options.")
	clock.Add(29*time.Minute + 59*time.Second)
	settle()
	if got := status(); got != "OPEN" {
		t.Fatalf("29:59 after the last visitor message status=%s, want OPEN", got)
	}
	clock.Add(time.Second)
	closed := nextMessage(v, "type", "THREAD_STATUS_CHANGE")
	if closed["newStatus"] != "CLOSED" || closed["senderActorId"] != fmt.Sprintf("B-%d", e.widget.ID) {
		t.Errorf("close=%v, want CLOSED by the bot", closed)
	}
	if up := v.next("thread.updated")["thread"].(map[string]any); up["status"] != "CLOSED" {
		t.Errorf("visitor thread.updated=%v", up)
	}
	if got := status(); got != "CLOSED" {
		t.Errorf("status=%s, want CLOSED", got)
	}
	// Closed, it is no longer the sweeper's; writing again starts the bot
	// over on the same thread.
	v.send(map[string]any{"type": "message.send", "clientId": "c3", "text": "back"})
	if m := nextMessage(v, "text", "What do you need?"); m["threadId"] != threadID {
		t.Errorf("restarted question=%v, want thread %s", m, threadID)
	}
	if got := status(); got != "OPEN" {
		t.Errorf("after the visitor came back status=%s, want OPEN", got)
	}
}

// TestBotBadFlows: the bot API refuses invalid flows in the API's error
// shape, and only admins may use it.
func TestBotBadFlows(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("agent@example.com", true)
	agent := e.login("agent@example.com")
	path := fmt.Sprintf("/api/v1/widgets/%d/bot", e.widget.ID)
	step := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	flow := func(steps ...map[string]any) map[string]any {
		return map[string]any{"enabled": true, "steps": steps}
	}
	for _, tt := range []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"malformed", `{"enabled":true,"steps":[`, 400, "malformed JSON"},
		{"wrong type", `{"enabled":"yes"}`, 400, `"enabled" must be bool`},
		{"unknown kind", flow(step("id", "a", "kind", "wave")), 400, "bot.steps[0].kind"},
		{"loop", flow(step("id", "a", "kind", "message", "text", "x", "next", "a")), 400, "loop without a question"},
		{"bad property", flow(step("id", "q", "kind", "question", "text", "?", "property", "my-prop")), 400, "bot.steps[0].property"},
		{"no such team", flow(step("id", "h", "kind", "handoff", "to", "team", "teamId", "999")), 400, "names no team"},
		{"no such user", flow(step("id", "h", "kind", "handoff", "to", "user", "userId", "999")), 400, "names no active user"},
		{"team id as a number", `{"enabled":true,"steps":[{"id":"h","kind":"handoff","to":"team","teamId":4}]}`, 400, "malformed JSON"},
		{"text too long", flow(step("id", "a", "kind", "message", "text", strings.Repeat("x", parley.MaxTextBytes+1))), 413, "the limit is"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("PUT", path, tt.body, nil)
			var body struct{ Category, Message, CorrelationID string }
			res.decode(t, &body)
			if res.status != tt.status || !strings.Contains(body.Message, tt.want) || body.CorrelationID == "" {
				t.Errorf("status=%d body=%s, want %d with %q", res.status, res.body, tt.status, tt.want)
			}
		})
	}
	var got map[string]any
	admin.do("GET", path, nil, nil).decode(t, &got)
	if got["enabled"] != false || fmt.Sprint(got["steps"]) != "[]" {
		t.Errorf("bot after refused writes=%v, want none saved", got)
	}
	if res := agent.do("PUT", path, testBot(), nil); res.status != 403 {
		t.Errorf("agent PUT: %d, want 403", res.status)
	}
	if res := admin.do("PUT", "/api/v1/widgets/999/bot", testBot(), nil); res.status != 404 {
		t.Errorf("unknown widget: %d, want 404", res.status)
	}

	// The preview walks an unsaved flow with the engine.
	var pv struct {
		State   parley.BotState    `json:"state"`
		Actions []parley.BotAction `json:"actions"`
	}
	admin.do("POST", "/api/v1/bots/preview", map[string]any{"bot": testBot()}, nil).decode(t, &pv)
	if pv.State.Step != "need" || len(pv.Actions) != 2 || pv.Actions[1].Kind != parley.ActAsk {
		t.Fatalf("preview start=%+v", pv)
	}
	admin.do("POST", "/api/v1/bots/preview", map[string]any{"bot": testBot(), "state": pv.State, "input": map[string]string{"text": "Sales"}}, nil).decode(t, &pv)
	if pv.State.Step != "mail" || pv.Actions[len(pv.Actions)-1].Kind != parley.ActAskEmail {
		t.Errorf("preview after Sales=%+v", pv)
	}
	if res := admin.do("POST", "/api/v1/bots/preview", map[string]any{"bot": flow(step("id", "a", "kind", "x"))}, nil); res.status != 400 {
		t.Errorf("preview of a bad flow: %d, want 400", res.status)
	}
}

// TestBotRestart: a restart in the middle of a flow resumes where it was:
// the state lives in the store, written with the bot's messages.
func TestBotRestart(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	putBot(t, e, admin, testBot())
	v, token, threadID := startBotChat(t, e, "Hi")
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Sales"})
	nextMessage(v, "text", "Your email, please?")

	e.restart(t)
	v, _ = e.visitor(token, 0) // replays the conversation
	nextMessage(v, "text", "Your email, please?")
	v.send(map[string]any{"type": "message.send", "clientId": "c3", "text": "ada@example.com"})
	if m := nextMessage(v, "senderActorId", fmt.Sprintf("B-%d", e.widget.ID)); m["text"] != "Thanks, we'll write to you." || m["threadId"] != threadID {
		t.Errorf("after the restart the bot said %v", m)
	}
	closed := nextMessage(v, "type", "THREAD_STATUS_CHANGE")
	if closed["newStatus"] != "CLOSED" {
		t.Errorf("close step=%v", closed)
	}
	var id uint64
	fmt.Sscan(threadID, &id)
	th, err := e.db.Thread(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.db.Contact(context.Background(), th.ContactID)
	if err != nil || c.Email != "" || c.UnverifiedEmail != "ada@example.com" || c.Properties["need"] != "Sales" {
		t.Errorf("contact=%+v, %v, want the typed email (unverified) and need=Sales", c, err)
	}
	if !th.BotOnly() || th.Status != parley.StatusClosed {
		t.Errorf("thread=%+v, want closed by the bot, never handed off", th)
	}
}

// restart stops the server and the store and starts them again on the same
// file, on a new port.
func (e *env) restart(t *testing.T) {
	t.Helper()
	dir := filepath.Dir(e.db.Path())
	e.ts.CloseClientConnections()
	e.srv.Close()
	e.app.Close()
	e.ts.Close()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dir, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	assets, err := widget.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(nil)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	p := hub.NewPresence()
	a := app.New(app.Config{BaseURL: base}, db, p)
	srv := server.New(server.Config{BaseURL: base}, a, db, h, p, assets)
	a.Start()
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		srv.Close()
		a.Close()
		ts.Close()
		h.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	e.db, e.app, e.srv, e.ts, e.base = db, a, srv, ts, base
}

// TestBotSwitchedOff: a bot switched off while it owns a conversation hands
// it to the team at the visitor's next message, and new chats are the
// agents' from the start.
func TestBotSwitchedOff(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	putBot(t, e, admin, testBot())
	v, _, threadID := startBotChat(t, e, "Hi")
	off := testBot()
	off["enabled"] = false
	putBot(t, e, admin, off)

	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Sales"})
	v.next("message.ack")
	deadline := time.Now().Add(5 * time.Second)
	for threadGet(t, admin, threadID)["owner"] != "waiting" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	msgs := e.messages(t, threadID)
	events := []string{}
	for _, m := range msgs {
		if m.Type == parley.TypeSystem {
			events = append(events, m.Event)
		}
	}
	if got := strings.Join(events, ","); got != "bot_started,handed_off" {
		t.Errorf("events=%s, want bot_started,handed_off", got)
	}
	if last := msgs[len(msgs)-1]; last.Event != parley.EventHandedOff {
		t.Errorf("last message=%+v, want the hand-off and nothing said", last)
	}

	v2, _ := e.visitor("", 0)
	v2.send(map[string]any{"type": "message.send", "clientId": "n1", "text": "New chat"})
	id := msgOf(v2.next("message.ack"))["threadId"].(string)
	if th := threadGet(t, admin, id); th["owner"] != "agent" {
		t.Errorf("new chat with the bot off: owner=%v, want agent", th["owner"])
	}
}
