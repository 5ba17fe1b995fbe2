package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
)

// TestChatRoundTrip is the spine: a visitor writes, an agent sees it live,
// replies, types and closes; the visitor sees each of those live.
func TestChatRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.login("admin@example.com")
	aws, ready := agent.agentWS()
	if got := ready["user"].(map[string]any)["email"]; got != "admin@example.com" {
		t.Fatalf("ready user=%v", got)
	}

	v, vready := e.visitor("", 0)
	if vready["thread"] != nil || vready["visitorId"] != "" {
		t.Fatalf("new visitor ready=%v", vready)
	}
	if st := vready["status"].(map[string]any); st["available"] != true {
		t.Fatalf("status=%v, want available while the admin's console is connected", st)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hello, is anyone there?"})
	ident := v.next("identity")
	token, _ := ident["visitorToken"].(string)
	if !strings.HasPrefix(token, "pv_") || ident["visitorId"] == "" {
		t.Fatalf("identity=%v", ident)
	}
	ack := v.next("message.ack")
	if ack["clientId"] != "c1" || msgOf(ack)["seq"] != 1.0 || msgOf(ack)["direction"] != "INCOMING" {
		t.Fatalf("ack=%v", ack)
	}
	threadID := msgOf(ack)["threadId"].(string)

	created := aws.next("thread.created")
	if th := created["thread"].(map[string]any); th["id"] != threadID || th["status"] != "OPEN" {
		t.Fatalf("thread.created=%v", created)
	}
	got := msgOf(aws.next("message.created"))
	if got["text"] != "Hello, is anyone there?" || got["threadId"] != threadID {
		t.Fatalf("agent got %v", got)
	}

	aws.send(map[string]any{"type": "typing", "threadId": threadID})
	if ty := v.next("typing"); ty["actorId"] != e.admin.ActorID() {
		t.Fatalf("typing=%v", ty)
	}
	aws.send(map[string]any{"type": "message.send", "threadId": threadID, "clientId": "a1", "text": "Yes! How can I help?"})
	if ack := aws.next("message.ack"); msgOf(ack)["seq"] != 2.0 {
		t.Fatalf("agent ack=%v", ack)
	}
	reply := msgOf(v.next("message.created"))
	for reply["seq"] != 2.0 { // the visitor's own message comes first
		reply = msgOf(v.next("message.created"))
	}
	if reply["text"] != "Yes! How can I help?" || reply["direction"] != "OUTGOING" || reply["senderName"] != "Ada Admin" {
		t.Fatalf("visitor got %v", reply)
	}

	// An internal note never reaches the visitor.
	aws.send(map[string]any{"type": "message.send", "threadId": threadID, "clientId": "a2", "text": "VIP customer", "messageType": "COMMENT"})
	aws.next("message.ack")

	res := agent.do("PATCH", "/conversations/v3/conversations/threads/"+threadID, map[string]string{"status": "CLOSED"}, nil)
	if res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	st := msgOf(v.next("message.created"))
	if st["type"] != "THREAD_STATUS_CHANGE" || st["newStatus"] != "CLOSED" || st["seq"] != 4.0 {
		t.Fatalf("visitor status message=%v (the note, seq 3, must be skipped)", st)
	}
	upd := v.next("thread.updated")
	if th := upd["thread"].(map[string]any); th["status"] != "CLOSED" {
		t.Fatalf("visitor thread.updated=%v", upd)
	}

	// A reload: history comes back, without the note.
	v2, r2 := e.visitor(token, 0)
	if th := r2["thread"].(map[string]any); th["id"] != threadID || th["status"] != "CLOSED" {
		t.Fatalf("reload ready=%v", r2)
	}
	var seqs []float64
	for range 3 {
		m := msgOf(v2.next("message.created"))
		if m["type"] == "COMMENT" {
			t.Fatalf("visitor replay contains a note: %v", m)
		}
		seqs = append(seqs, m["seq"].(float64))
	}
	if fmt.Sprint(seqs) != "[1 2 4]" {
		t.Fatalf("replayed seqs=%v, want [1 2 4]", seqs)
	}

	// Writing to a closed chat reopens it.
	v2.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "One more thing"})
	v2.next("message.ack")
	if upd := aws.next("thread.updated"); upd["thread"].(map[string]any)["status"] != "CLOSED" {
		t.Fatalf("agent close event: %v", upd)
	}
	if upd := aws.next("thread.updated"); upd["thread"].(map[string]any)["status"] != "OPEN" {
		t.Fatalf("reopen: %v", upd)
	}
}

// TestDuplicateClientID: a retried send returns the first copy and is
// announced once.
func TestDuplicateClientID(t *testing.T) {
	e := newEnv(t, nil)
	aws, _ := e.login("admin@example.com").agentWS()
	v, _ := e.visitor("", 0)
	for range 3 {
		v.send(map[string]any{"type": "message.send", "clientId": "same", "text": "hi"})
	}
	var ids []any
	for range 3 {
		ids = append(ids, msgOf(v.next("message.ack"))["id"])
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("ack ids=%v, want one id", ids)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "other", "text": "second"})
	v.next("message.ack")
	if m := msgOf(aws.next("message.created")); m["clientId"] != "same" {
		t.Fatalf("first created=%v", m)
	}
	if m := msgOf(aws.next("message.created")); m["clientId"] != "other" || m["seq"] != 2.0 {
		t.Fatalf("second created=%v, want the next message and no duplicate", m)
	}
}

// TestBadFrames: each bad frame gets a precise error and changes nothing.
func TestBadFrames(t *testing.T) {
	e := newEnv(t, nil)
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "ok", "text": "first"})
	v.next("message.ack")
	threadOf := func() *parley.Thread {
		ts, _, err := e.db.Threads(context.Background(), storeAll())
		if err != nil || len(ts) != 1 {
			t.Fatalf("threads=%v err=%v", ts, err)
		}
		return ts[0]
	}
	before := threadOf().LastSeq
	for _, tc := range []struct {
		name, frame, code, msg string
	}{
		{"not json", `{"type":`, "invalid", "not a JSON object"},
		{"array", `[1,2]`, "invalid", "not a JSON object"},
		{"no type", `{"text":"x"}`, "invalid", "no type"},
		{"unknown type", `{"type":"thread.delete"}`, "invalid", "unknown event type"},
		{"hello again", `{"type":"hello"}`, "invalid", "unknown event type"},
		{"wrong field type", `{"type":"message.send","clientId":"x","text":5}`, "invalid", `"text" must be string`},
		{"invalid utf8", "{\"type\":\"message.send\",\"clientId\":\"u\",\"text\":\"\xff\xfe\"}", "invalid", "not valid UTF-8"},
		{"empty text", `{"type":"message.send","clientId":"e","text":"   "}`, "invalid", "empty"},
		{"control char", `{"type":"message.send","clientId":"c","text":"a\u0000b"}`, "invalid", "control character"},
		{"no client id", `{"type":"message.send","text":"x"}`, "invalid", "clientId is required"},
		{"bad client id", `{"type":"message.send","clientId":"a b","text":"x"}`, "invalid", "clientId may hold"},
		{"text too long", `{"type":"message.send","clientId":"l","text":"` + strings.Repeat("a", parley.MaxTextBytes+1) + `"}`, "too_large", "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.send(tc.frame)
			ev := v.next("error")
			if ev["code"] != tc.code || !strings.Contains(ev["message"].(string), tc.msg) {
				t.Fatalf("error=%v, want code %s containing %q", ev, tc.code, tc.msg)
			}
		})
	}
	if after := threadOf().LastSeq; after != before {
		t.Fatalf("lastSeq=%d after bad frames, want %d", after, before)
	}
	// The connection still works.
	v.send(map[string]any{"type": "message.send", "clientId": "ok2", "text": "still here"})
	if m := msgOf(v.next("message.ack")); m["seq"] != 2.0 {
		t.Fatalf("ack after bad frames=%v", m)
	}
	// An oversized frame ends the connection with 1009.
	v.send(`{"type":"message.send","clientId":"big","text":"` + strings.Repeat("a", 70<<10) + `"}`)
	if code := v.closeStatus(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close=%d, want 1009", code)
	}
}

func TestHandshakeRules(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("unknown widget", func(t *testing.T) {
		w, err := dialWS(t, strings.Replace(e.visitorURL(), "widgetId=", "widgetId=9", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		if code := w.closeStatus(); code != 4404 {
			t.Fatalf("close=%d, want 4404", code)
		}
	})
	t.Run("first frame not hello", func(t *testing.T) {
		w, err := dialWS(t, e.visitorURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		w.send(map[string]any{"type": "message.send", "clientId": "x", "text": "hi"})
		if code := w.closeStatus(); code != 4400 {
			t.Fatalf("close=%d, want 4400", code)
		}
	})
	t.Run("agent without session", func(t *testing.T) {
		_, err := dialWS(t, "ws"+strings.TrimPrefix(e.base, "http")+"/api/v1/ws", nil)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err=%v, want 401", err)
		}
	})
	t.Run("agent from foreign origin", func(t *testing.T) {
		c := e.login("admin@example.com")
		h := http.Header{"Origin": {"http://evil.example"}}
		u, _ := http.NewRequest("GET", e.base, nil)
		for _, ck := range c.hc.Jar.Cookies(u.URL) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
		_, err := dialWS(t, "ws"+strings.TrimPrefix(e.base, "http")+"/api/v1/ws", h)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("err=%v, want 403", err)
		}
	})
}

// TestForeignThreads: a visitor never reaches another visitor's thread, and
// an agent outside the inbox gets "not found" for all of it.
func TestForeignThreads(t *testing.T) {
	e := newEnv(t, nil)
	a, _ := e.visitor("", 0)
	a.send(map[string]any{"type": "message.send", "clientId": "a", "text": "secret of A"})
	tokA := a.next("identity")["visitorToken"].(string)
	a.next("message.ack")

	b, rb := e.visitor("pv_forged-or-stale-token", 0)
	if rb["thread"] != nil || rb["visitorId"] != "" {
		t.Fatalf("unknown token got ready=%v", rb)
	}
	b.send(map[string]any{"type": "message.send", "clientId": "b", "text": "hello from B"})
	if b.next("identity")["visitorToken"] == tokA {
		t.Fatal("B was given A's token")
	}
	ackB := b.next("message.ack")
	if msgOf(ackB)["seq"] != 1.0 {
		t.Fatalf("B's first message seq=%v, want its own thread", msgOf(ackB)["seq"])
	}

	outsider := e.addAgent("outsider@example.com", false)
	_ = outsider
	oc := e.login("outsider@example.com")
	tid := msgOf(ackB)["threadId"].(string)
	for _, path := range []string{
		"/conversations/v3/conversations/threads/" + tid,
		"/conversations/v3/conversations/threads/" + tid + "/messages",
		"/conversations/v3/conversations/threads/" + tid + "/messages/" + msgOf(ackB)["id"].(string),
		"/conversations/v3/conversations/inboxes/" + fmt.Sprint(e.inbox.ID),
		"/conversations/v3/conversations/actors/V-1",
	} {
		if res := oc.do("GET", path, nil, nil); res.status != 404 {
			t.Errorf("GET %s status=%d, want 404", path, res.status)
		}
	}
	var list struct{ Results []any }
	oc.do("GET", "/conversations/v3/conversations/threads", nil, nil).decode(t, &list)
	if len(list.Results) != 0 {
		t.Fatalf("outsider lists %d threads", len(list.Results))
	}
	ows, _ := oc.agentWS(map[string]any{"threadId": tid, "lastSeq": 0})
	if ev := ows.next("error", "message.created"); ev["type"] != "error" || ev["code"] != "not_found" {
		t.Fatalf("outsider resume got %v", ev)
	}
	ows.send(map[string]any{"type": "message.send", "threadId": tid, "clientId": "x", "text": "hi"})
	if ev := ows.next("error"); ev["code"] != "not_found" {
		t.Fatalf("outsider send got %v", ev)
	}
	if res := oc.do("POST", "/conversations/v3/conversations/threads/"+tid+"/messages", map[string]string{"text": "x"}, nil); res.status != 404 {
		t.Fatalf("outsider post status=%d", res.status)
	}
}

// TestManyVisitorsAndAgents: every agent sees every message exactly once and
// in order, including one agent that drops its connection half way and
// resumes.
func TestManyVisitorsAndAgents(t *testing.T) {
	const visitors, perVisitor = 24, 40
	e := newEnv(t, &envOptions{cfg: server.Config{MessageRate: 1000, MessageBurst: 1000}})
	e.addAgent("b@example.com", true)
	agents := []*client{e.login("admin@example.com"), e.login("b@example.com")}
	var aws []*wsClient
	for _, a := range agents {
		w, _ := a.agentWS()
		aws = append(aws, w)
	}
	var wg sync.WaitGroup
	errs := make(chan error, visitors)
	for i := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := dialWS(t, e.visitorURL(), nil)
			if err != nil {
				errs <- err
				return
			}
			v.send(map[string]any{"type": "hello"})
			for j := range perVisitor {
				v.send(map[string]any{"type": "message.send", "clientId": fmt.Sprintf("v%d-%d", i, j), "text": fmt.Sprintf("%d/%d", i, j)})
			}
			acks := 0
			for ev := range v.events {
				if ev["type"] == "message.ack" {
					if acks++; acks == perVisitor {
						return
					}
				}
				if ev["type"] == "error" {
					errs <- fmt.Errorf("visitor %d: %v", i, ev)
					return
				}
			}
		}()
	}
	// Agent 1 reads half, then drops and resumes each thread from its last seq.
	seen1 := map[string]float64{}
	count1 := 0
	for count1 < visitors*perVisitor/2 {
		m := msgOf(aws[1].next("message.created"))
		tid := m["threadId"].(string)
		if m["seq"].(float64) != seen1[tid]+1 {
			t.Fatalf("agent 1 thread %s: seq %v after %v", tid, m["seq"], seen1[tid])
		}
		seen1[tid] = m["seq"].(float64)
		count1++
	}
	_ = aws[1].c.CloseNow()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var resume []map[string]any
	for tid, seq := range seen1 {
		resume = append(resume, map[string]any{"threadId": tid, "lastSeq": seq})
	}
	// Threads agent 1 never saw: learn them from the list, as the console does.
	var list struct{ Results []struct{ ID string } }
	agents[1].do("GET", "/conversations/v3/conversations/threads?limit=500", nil, nil).decode(t, &list)
	for _, th := range list.Results {
		if _, ok := seen1[th.ID]; !ok {
			resume = append(resume, map[string]any{"threadId": th.ID, "lastSeq": 0})
		}
	}
	re, _ := agents[1].agentWS(resume...)
	for count1 < visitors*perVisitor {
		m := msgOf(re.next("message.created"))
		tid := m["threadId"].(string)
		if m["seq"].(float64) != seen1[tid]+1 {
			t.Fatalf("agent 1 after resume, thread %s: seq %v after %v", tid, m["seq"], seen1[tid])
		}
		seen1[tid] = m["seq"].(float64)
		count1++
	}
	// Agent 0 stayed connected throughout.
	seen0 := map[string]float64{}
	for range visitors * perVisitor {
		m := msgOf(aws[0].next("message.created"))
		tid := m["threadId"].(string)
		if m["seq"].(float64) != seen0[tid]+1 {
			t.Fatalf("agent 0 thread %s: seq %v after %v", tid, m["seq"], seen0[tid])
		}
		seen0[tid] = m["seq"].(float64)
	}
	if len(seen0) != visitors || len(seen1) != visitors {
		t.Fatalf("threads seen: %d and %d, want %d", len(seen0), len(seen1), visitors)
	}
	select {
	case ev := <-aws[0].events:
		if ev["type"] == "message.created" {
			t.Fatalf("agent 0 got an extra message: %v", ev)
		}
	default:
	}
}

// TestSlowConsoleResumes: a console that falls behind is dropped with 4408,
// never waited for, and resumes from its last seq with nothing lost or
// repeated.
func TestSlowConsoleResumes(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{AgentQueue: 1, MessageRate: 1000, MessageBurst: 1000}})
	agent := e.login("admin@example.com")
	aws, _ := agent.agentWS()
	const chats = 16
	vs := make([]*wsClient, chats)
	for i := range vs {
		vs[i], _ = e.visitor("", 0)
	}
	seen := map[string]float64{}
	sent := 0
	dropped := false
	// Bursts of concurrent messages: one group commit announces them together,
	// more than a queue of one can hold.
	for burst := 0; burst < 50 && !dropped; burst++ {
		var wg sync.WaitGroup
		for i, v := range vs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v.send(map[string]any{"type": "message.send", "clientId": fmt.Sprintf("b%d-%d", burst, i), "text": "burst"})
			}()
		}
		wg.Wait()
		for _, v := range vs {
			v.next("message.ack")
		}
		sent += chats
		for !dropped {
			select {
			case ev := <-aws.events:
				if ev["type"] == "message.created" {
					m := msgOf(ev)
					tid := m["threadId"].(string)
					if m["seq"].(float64) != seen[tid]+1 {
						t.Fatalf("thread %s: seq %v after %v", tid, m["seq"], seen[tid])
					}
					seen[tid] = m["seq"].(float64)
				}
				continue
			case <-aws.done:
				if code := websocket.CloseStatus(aws.err); code != 4408 {
					t.Fatalf("console closed with %d, want 4408", code)
				}
				dropped = true
				continue
			case <-time.After(200 * time.Millisecond):
			}
			break
		}
	}
	if !dropped {
		t.Fatal("a console with a queue of one was never dropped")
	}
	var resume []map[string]any
	var list struct{ Results []struct{ ID string } }
	agent.do("GET", "/conversations/v3/conversations/threads?limit=500", nil, nil).decode(t, &list)
	for _, th := range list.Results {
		resume = append(resume, map[string]any{"threadId": th.ID, "lastSeq": seen[th.ID]})
	}
	re, _ := agent.agentWS(resume...)
	total := 0
	for _, s := range seen {
		total += int(s)
	}
	for total < sent {
		m := msgOf(re.next("message.created"))
		tid := m["threadId"].(string)
		if m["seq"].(float64) != seen[tid]+1 {
			t.Fatalf("after resume, thread %s: seq %v after %v", tid, m["seq"], seen[tid])
		}
		seen[tid] = m["seq"].(float64)
		total++
	}
}

func TestHelloTimeout(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{HelloTimeout: 200 * time.Millisecond}})
	w, err := dialWS(t, e.visitorURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := w.closeStatus(); code != 4400 {
		t.Fatalf("close=%d, want 4400 when no hello comes", code)
	}
}
