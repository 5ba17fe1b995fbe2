package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/server/console"
)

// crmChat is one visitor's chat: its live socket, token, thread and contact.
type crmChat struct {
	v       *wsClient
	token   string
	thread  string
	contact string
}

// crmStartChat has a new visitor on widget w write text.
func crmStartChat(t *testing.T, e *env, w *parley.Widget, text string) crmChat {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.base, "http") + "/widget/v1/ws?widgetId=" + fmt.Sprint(w.ID)
	v, err := dialWS(t, url, http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		t.Fatal(err)
	}
	v.send(map[string]any{"type": "hello", "pageUrl": "http://customer.example/"})
	v.next("ready")
	v.send(map[string]any{"type": "message.send", "clientId": "c0", "text": text})
	ident := v.next("identity")
	m := msgOf(v.next("message.ack"))
	return crmChat{v: v, token: ident["visitorToken"].(string), thread: m["threadId"].(string),
		contact: strings.TrimPrefix(m["senderActorId"].(string), "V-")}
}

// crmInbox creates an inbox with one widget and the given members.
func crmInbox(t *testing.T, e *env, name string, members ...*parley.User) (*parley.Inbox, *parley.Widget) {
	t.Helper()
	ctx := context.Background()
	in := &parley.Inbox{Name: name, MemberIDs: []uint64{}}
	for _, u := range members {
		in.MemberIDs = append(in.MemberIDs, u.ID)
	}
	if err := e.db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	if err := e.db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	return in, w
}

// crmJSON decodes a response body into a map, failing on a wrong status.
func crmJSON(t *testing.T, res response, status int) map[string]any {
	t.Helper()
	if res.status != status {
		t.Fatalf("status=%d body=%s, want %d", res.status, res.body, status)
	}
	var m map[string]any
	if len(res.body) > 0 {
		res.decode(t, &m)
	}
	return m
}

// crmError checks an error answer's status and that its message contains want.
func crmError(t *testing.T, res response, status int, want string) {
	t.Helper()
	var body struct{ Message, Code string }
	_ = json.Unmarshal(res.body, &body)
	if res.status != status || !strings.Contains(body.Message, want) {
		t.Errorf("status=%d message=%q, want %d and a message containing %q", res.status, body.Message, status, want)
	}
}

func listOf(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

// nextSystem waits for the message.created event of a system event.
func nextSystem(w *wsClient, event string) map[string]any {
	w.tb.Helper()
	for {
		m := msgOf(w.next("message.created"))
		if m["type"] == "SYSTEM" && m["event"] == event {
			return m
		}
	}
}

// nextEvent waits for an event of type typ whose field key is value.
func nextEvent(w *wsClient, typ, key, value string) map[string]any {
	w.tb.Helper()
	for {
		ev := w.next(typ)
		if fmt.Sprint(ev[key]) == value {
			return ev
		}
	}
}

func TestContactDetails(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	chat := crmStartChat(t, e, e.widget, "Hi, about my order")
	other := crmStartChat(t, e, e.widget, "Someone else")

	got := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 200)
	want := map[string]any{"id": chat.contact, "actorId": "V-" + chat.contact, "firstName": "", "lastName": "",
		"email": "", "name": "Visitor #" + chat.contact, "blocked": false}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%v, want %v", k, got[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got["createdAt"])); err != nil {
		t.Errorf("createdAt=%v", got["createdAt"])
	}
	threads := listOf(got, "threads")
	if len(threads) != 1 || threads[0].(map[string]any)["id"] != chat.thread {
		t.Errorf("threads=%v, want only %s", threads, chat.thread)
	}
	if len(listOf(got, "records")) != 0 || len(listOf(got, "engagements")) != 0 || got["records"] == nil || got["engagements"] == nil {
		t.Errorf("records=%v engagements=%v, want empty lists", got["records"], got["engagements"])
	}
	// A trashed conversation still counts and is listed, marked.
	crmJSON(t, admin.do("DELETE", v3+"/threads/"+other.thread, nil, nil), 204)
	got = crmJSON(t, admin.do("GET", "/api/v1/contacts/"+other.contact, nil, nil), 200)
	if th := listOf(got, "threads"); len(th) != 1 || th[0].(map[string]any)["archived"] != true {
		t.Errorf("trashed contact's threads=%v", th)
	}

	for _, id := range []string{"999", "abc", "0", "-1"} {
		crmError(t, admin.do("GET", "/api/v1/contacts/"+id, nil, nil), 404, "")
	}
	// A contact without any thread exists for nobody.
	lonely := &parley.Contact{FirstName: "Lonely"}
	if err := e.db.CreateContact(context.Background(), lonely); err != nil {
		t.Fatal(err)
	}
	crmError(t, admin.do("GET", fmt.Sprint("/api/v1/contacts/", lonely.ID), nil, nil), 404, "not found")

	// The contact page's deep link serves the console.
	res := admin.do("GET", "/contacts/"+chat.contact, nil, nil)
	if res.status != 200 || !strings.Contains(string(res.body), console.URL("app.js")) {
		t.Errorf("GET /contacts/%s: %d %.80s", chat.contact, res.status, res.body)
	}
}

func TestContactPatch(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "Hello")
	taken := crmStartChat(t, e, e.widget, "Me too")
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+taken.contact, map[string]any{"email": "grace@example.com"}, nil), 200)
	path := "/api/v1/contacts/" + chat.contact

	tests := []struct {
		name   string
		body   any
		status int
		want   map[string]any // fields of the answer
		errMsg string
	}{
		{"names", map[string]any{"firstName": " Ada ", "lastName": "Lovelace"}, 200,
			map[string]any{"firstName": "Ada", "lastName": "Lovelace", "name": "Ada Lovelace", "email": ""}, ""},
		{"email", map[string]any{"email": "ada@example.com"}, 200, map[string]any{"email": "ada@example.com", "firstName": "Ada"}, ""},
		{"markup is a name like any other", map[string]any{"firstName": "<img src=x onerror=alert(1)>"}, 200,
			map[string]any{"name": "<img src=x onerror=alert(1)> Lovelace"}, ""},
		{"taken email", map[string]any{"email": "GRACE@example.com"}, 409, nil, "already exists"},
		{"bad email", map[string]any{"email": "ada at example"}, 400, nil, "is not an email address"},
		{"newline", map[string]any{"lastName": "a\nb"}, 400, nil, "lastName contains control character"},
		{"long", map[string]any{"firstName": strings.Repeat("x", 257)}, 400, nil, "firstName is longer than 256"},
		{"wrong type", map[string]any{"firstName": 5}, 400, nil, `field "firstName" must be string`},
		{"nothing", map[string]any{}, 400, nil, "nothing to change"},
		{"not json", "{", 400, nil, "malformed JSON"},
		{"clear email", map[string]any{"email": ""}, 200, map[string]any{"email": ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("PATCH", path, tt.body, nil)
			if tt.status != 200 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			got := crmJSON(t, res, 200)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%q, want %q", k, got[k], v)
				}
			}
			// Agents of the contact's inbox hear about it, with the new name.
			if ev := nextEvent(aws, "contact.updated", "contactId", chat.contact); ev["name"] != got["name"] {
				t.Errorf("contact.updated=%v, want name %v", ev, got["name"])
			}
		})
	}
	// Failed changes wrote nothing; the thread shows the new name.
	c := crmJSON(t, admin.do("GET", path, nil, nil), 200)
	if c["name"] != "<img src=x onerror=alert(1)> Lovelace" || c["email"] != "" {
		t.Errorf("stored contact=%v", c)
	}
	if got := crmJSON(t, admin.do("GET", v3+"/threads/"+chat.thread, nil, nil), 200)["contactName"]; got != c["name"] {
		t.Errorf("thread contactName=%v", got)
	}
	crmError(t, admin.do("PATCH", "/api/v1/contacts/999", map[string]any{"firstName": "x"}, nil), 404, "")
}

func TestRecords(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	agent := e.addAgent("bo@example.com", true)
	gone := e.addAgent("gone@example.com", true)
	if _, err := e.db.UpdateUser(context.Background(), gone.ID, func(u *parley.User) error { u.Deactivated = true; return nil }); err != nil {
		t.Fatal(err)
	}
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "I want a refund")
	other := crmStartChat(t, e, e.widget, "Other person")
	path := "/api/v1/contacts/" + chat.contact + "/records"

	tests := []struct {
		name   string
		body   any
		status int
		want   map[string]any
		errMsg string
	}{
		{"ticket, default stage", map[string]any{"kind": "ticket", "name": "Refund"}, 201,
			map[string]any{"kind": "ticket", "name": "Refund", "stage": "new", "contactId": chat.contact, "createdBy": "A-1"}, ""},
		{"deal on the thread", map[string]any{"kind": "deal", "name": "Pro plan", "stage": "qualified", "amount": "1200.50",
			"ownerId": fmt.Sprint(agent.ID), "threadId": chat.thread}, 201,
			map[string]any{"kind": "deal", "stage": "qualified", "amount": "1200.50", "ownerId": fmt.Sprint(agent.ID)}, ""},
		{"owner as actor id", map[string]any{"kind": "ticket", "name": "Call back", "stage": "waiting", "ownerId": agent.ActorID(), "threadId": chat.thread}, 201,
			map[string]any{"stage": "waiting", "ownerId": fmt.Sprint(agent.ID)}, ""},
		{"no kind", map[string]any{"name": "x"}, 400, nil, `kind must be "ticket" or "deal"`},
		{"no name", map[string]any{"kind": "ticket"}, 400, nil, "name is required"},
		{"blank name", map[string]any{"kind": "ticket", "name": "   "}, 400, nil, "name is required"},
		{"deal stage on a ticket", map[string]any{"kind": "ticket", "name": "x", "stage": "won"}, 400, nil, "stage of a ticket must be one of new, waiting, closed"},
		{"amount on a ticket", map[string]any{"kind": "ticket", "name": "x", "amount": "5"}, 400, nil, "only deals have an amount"},
		{"amount as number", map[string]any{"kind": "deal", "name": "x", "amount": 5}, 400, nil, `field "amount" must be string`},
		{"bad amount", map[string]any{"kind": "deal", "name": "x", "amount": "5,00"}, 400, nil, "decimal number"},
		{"unknown owner", map[string]any{"kind": "ticket", "name": "x", "ownerId": "999"}, 400, nil, "user 999 is not an active user"},
		{"deactivated owner", map[string]any{"kind": "ticket", "name": "x", "ownerId": fmt.Sprint(gone.ID)}, 400, nil, "is not an active user"},
		{"bad owner", map[string]any{"kind": "ticket", "name": "x", "ownerId": "bo"}, 400, nil, "ownerId must be a user id"},
		{"another contact's thread", map[string]any{"kind": "ticket", "name": "x", "threadId": other.thread}, 400, nil, "is not a conversation of contact"},
		{"unknown thread", map[string]any{"kind": "ticket", "name": "x", "threadId": "999"}, 400, nil, "is not a conversation of contact"},
		{"bad thread", map[string]any{"kind": "ticket", "name": "x", "threadId": "x"}, 400, nil, "threadId must be a thread id"},
		{"too large", `{"kind":"ticket","name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, nil, "larger than"},
	}
	seq := 1.0 // the chat's messages so far
	var dealID string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("POST", path, tt.body, nil)
			if tt.status != 201 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			got := crmJSON(t, res, 201)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%v, want %v", k, got[k], v)
				}
			}
			body := tt.body.(map[string]any)
			if body["threadId"] == nil {
				if th := listOf(got, "threadIds"); len(th) != 0 {
					t.Errorf("threadIds=%v, want none", th)
				}
				nextEvent(aws, "contact.updated", "contactId", chat.contact)
				return
			}
			if body["kind"] == "deal" {
				dealID = got["id"].(string)
			}
			if th := listOf(got, "threadIds"); len(th) != 1 || th[0] != chat.thread {
				t.Errorf("threadIds=%v, want [%s]", th, chat.thread)
			}
			// Recorded on the thread, in the same commit, and announced.
			seq++
			m := nextSystem(aws, parley.EventRecordCreated)
			wantText := fmt.Sprint(body["kind"], ": ", body["name"])
			if m["event"] != parley.EventRecordCreated || m["text"] != wantText || m["seq"] != seq || m["senderActorId"] != "A-1" {
				t.Errorf("event message=%v, want %s %q at seq %v", m, parley.EventRecordCreated, wantText, seq)
			}
			nextEvent(aws, "records.updated", "threadId", chat.thread)
			nextEvent(aws, "contact.updated", "contactId", chat.contact)
		})
	}
	// Nothing of the refused requests was written.
	if th := crmJSON(t, admin.do("GET", v3+"/threads/"+chat.thread, nil, nil), 200); th["lastSeq"] != seq {
		t.Errorf("thread lastSeq=%v, want %v", th["lastSeq"], seq)
	}
	details := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 200)
	if n := len(listOf(details, "records")); n != 3 {
		t.Errorf("contact has %d records, want 3", n)
	}
	// The thread shows its two (R5), newest first.
	onThread := listOf(crmJSON(t, admin.do("GET", "/api/v1/threads/"+chat.thread+"/records", nil, nil), 200), "results")
	if len(onThread) != 2 || onThread[0].(map[string]any)["name"] != "Call back" || onThread[1].(map[string]any)["id"] != dealID {
		t.Errorf("thread records=%v", onThread)
	}
	if l := listOf(crmJSON(t, admin.do("GET", "/api/v1/threads/"+other.thread+"/records", nil, nil), 200), "results"); len(l) != 0 {
		t.Errorf("other thread's records=%v", l)
	}

	// Changing a record.
	rpath := "/api/v1/records/" + dealID
	patches := []struct {
		name   string
		body   any
		status int
		want   map[string]any
		errMsg string
	}{
		{"stage and amount", map[string]any{"stage": "won", "amount": "1500"}, 200, map[string]any{"stage": "won", "amount": "1500", "name": "Pro plan"}, ""},
		{"rename, no owner", map[string]any{"name": "Pro yearly", "ownerId": ""}, 200, map[string]any{"name": "Pro yearly", "ownerId": nil, "stage": "won"}, ""},
		{"ticket stage", map[string]any{"stage": "closed"}, 400, nil, "stage of a deal must be one of"},
		{"kind", map[string]any{"kind": "ticket"}, 400, nil, "kind cannot change"},
		{"thread", map[string]any{"threadId": other.thread}, 400, nil, "threads cannot change"},
		{"nothing", map[string]any{}, 400, nil, "nothing to change"},
		{"empty name", map[string]any{"name": ""}, 400, nil, "name is required"},
	}
	for _, tt := range patches {
		t.Run("PATCH "+tt.name, func(t *testing.T) {
			res := admin.do("PATCH", rpath, tt.body, nil)
			if tt.status != 200 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			got := crmJSON(t, res, 200)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%v, want %v", k, got[k], v)
				}
			}
			nextEvent(aws, "records.updated", "threadId", chat.thread)
		})
	}
	got := crmJSON(t, admin.do("GET", rpath, nil, nil), 200)
	if got["name"] != "Pro yearly" || got["stage"] != "won" || got["amount"] != "1500" || got["kind"] != "deal" {
		t.Errorf("stored record=%v", got)
	}
	crmError(t, admin.do("GET", "/api/v1/records/999", nil, nil), 404, "")
	crmError(t, admin.do("PATCH", "/api/v1/records/999", map[string]any{"name": "x"}, nil), 404, "")
}

func TestEngagements(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "Please call me")
	other := crmStartChat(t, e, e.widget, "Other")
	path := "/api/v1/contacts/" + chat.contact + "/engagements"
	tests := []struct {
		name   string
		body   any
		status int
		errMsg string
	}{
		{"call on the thread", map[string]any{"kind": "call", "body": "Called back, all good.", "threadId": chat.thread}, 201, ""},
		{"note", map[string]any{"kind": "note", "body": "Prefers email"}, 201, ""},
		{"email", map[string]any{"kind": "email", "body": "Sent the quote"}, 201, ""},
		{"unknown kind", map[string]any{"kind": "meeting", "body": "x"}, 400, `kind must be "call", "email" or "note"`},
		{"empty body", map[string]any{"kind": "note", "body": " "}, 400, "body: text is empty"},
		{"huge body", map[string]any{"kind": "note", "body": strings.Repeat("x", parley.MaxTextBytes+1)}, 413, "body: text is"},
		{"another contact's thread", map[string]any{"kind": "call", "body": "x", "threadId": other.thread}, 400, "is not a conversation of contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("POST", path, tt.body, nil)
			if tt.status != 201 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			got := crmJSON(t, res, 201)
			body := tt.body.(map[string]any)
			if got["kind"] != body["kind"] || got["body"] != body["body"] || got["createdBy"] != "A-1" || got["contactId"] != chat.contact {
				t.Errorf("engagement=%v", got)
			}
			if body["threadId"] != nil {
				if got["threadId"] != chat.thread {
					t.Errorf("threadId=%v", got["threadId"])
				}
				m := nextSystem(aws, parley.EventEngagementAdded)
				if m["event"] != parley.EventEngagementAdded || m["text"] != "call: Called back, all good." {
					t.Errorf("event message=%v", m)
				}
			}
			nextEvent(aws, "contact.updated", "contactId", chat.contact)
		})
	}
	if th := crmJSON(t, admin.do("GET", v3+"/threads/"+other.thread, nil, nil), 200); th["lastSeq"] != 1.0 {
		t.Errorf("other thread got messages: %v", th)
	}
	// Newest first, paged.
	page1 := crmJSON(t, admin.do("GET", path+"?limit=2", nil, nil), 200)
	res := listOf(page1, "results")
	after := fmt.Sprint(page1["paging"].(map[string]any)["next"].(map[string]any)["after"])
	page2 := crmJSON(t, admin.do("GET", path+"?limit=2&after="+after, nil, nil), 200)
	res2 := listOf(page2, "results")
	if len(res) != 2 || res[0].(map[string]any)["kind"] != "email" || len(res2) != 1 || res2[0].(map[string]any)["kind"] != "call" || page2["paging"] != nil {
		t.Errorf("pages %v / %v", page1, page2)
	}
	crmError(t, admin.do("GET", path+"?after=x", nil, nil), 400, "after must be")
	crmError(t, admin.do("GET", path+"?limit=0", nil, nil), 400, "limit must be")
	details := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 200)
	if n := len(listOf(details, "engagements")); n != 3 {
		t.Errorf("details list %d engagements, want 3", n)
	}
}

// TestContactsAccess: a member of inbox A only gets "not found" for the
// contacts, records and engagements of inbox B, hears nothing of them live,
// and cannot name B's threads in a body.
func TestContactsAccess(t *testing.T) {
	e := newEnv(t, nil)
	a := e.addAgent("a@example.com", true) // member of the default inbox only
	b := e.addAgent("b@example.com", false)
	_, wb := crmInbox(t, e, "Sales", b)
	ca, cb := e.login("a@example.com"), e.login("b@example.com")
	_ = a
	aws, _ := ca.agentWS()

	chatA := crmStartChat(t, e, e.widget, "In inbox A")
	chatB := crmStartChat(t, e, wb, "In inbox B")
	rec := crmJSON(t, cb.do("POST", "/api/v1/contacts/"+chatB.contact+"/records",
		map[string]any{"kind": "ticket", "name": "B's ticket", "threadId": chatB.thread}, nil), 201)
	recB := rec["id"].(string)
	crmJSON(t, cb.do("POST", "/api/v1/contacts/"+chatB.contact+"/engagements", map[string]any{"kind": "note", "body": "B only"}, nil), 201)

	// B's member sees B's record with its thread.
	if l := listOf(crmJSON(t, cb.do("GET", "/api/v1/records/"+recB, nil, nil), 200), "threadIds"); len(l) != 1 || l[0] != chatB.thread {
		t.Errorf("threadIds=%v", l)
	}

	paths := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/contacts/" + chatB.contact, nil},
		{"PATCH", "/api/v1/contacts/" + chatB.contact, map[string]any{"firstName": "Mallory"}},
		{"POST", "/api/v1/contacts/" + chatB.contact + "/records", map[string]any{"kind": "ticket", "name": "x"}},
		{"GET", "/api/v1/contacts/" + chatB.contact + "/engagements", nil},
		{"POST", "/api/v1/contacts/" + chatB.contact + "/engagements", map[string]any{"kind": "note", "body": "x"}},
		{"GET", "/api/v1/records/" + recB, nil},
		{"PATCH", "/api/v1/records/" + recB, map[string]any{"stage": "closed"}},
		{"GET", "/api/v1/threads/" + chatB.thread + "/records", nil},
		{"POST", "/api/v1/threads/" + chatB.thread + "/disassociate", nil},
	}
	for _, p := range paths {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			res := ca.do(p.method, p.path, p.body, nil)
			crmError(t, res, 404, "not found")
			// The same answer as for something that does not exist.
			missing := strings.NewReplacer(chatB.contact, "999999", recB, "999999", chatB.thread, "999999").Replace(p.path)
			if res2 := ca.do(p.method, missing, p.body, nil); res2.status != 404 {
				t.Errorf("%s: status=%d", missing, res2.status)
			}
			// B's member may.
			if res := cb.do(p.method, p.path, p.body, nil); res.status >= 300 {
				t.Errorf("member of B: status=%d body=%s", res.status, res.body)
			}
		})
	}
	// A's member cannot attach B's thread to A's contact either.
	crmError(t, ca.do("POST", "/api/v1/contacts/"+chatA.contact+"/records",
		map[string]any{"kind": "ticket", "name": "x", "threadId": chatB.thread}, nil), 400, "is not a conversation of contact")

	// Live: A's member hears of A's contact only.
	crmJSON(t, ca.do("PATCH", "/api/v1/contacts/"+chatA.contact, map[string]any{"firstName": "Alice"}, nil), 200)
	for {
		ev := aws.next("contact.updated", "records.updated")
		if ev["contactId"] == chatB.contact || ev["threadId"] == chatB.thread {
			t.Fatalf("member of A got %v", ev)
		}
		if ev["contactId"] == chatA.contact && ev["type"] == "contact.updated" {
			break
		}
	}
}

// TestDisassociate: the chat gets a fresh anonymous contact; the visitor,
// live and after a reload, keeps writing into the same thread, while the old
// contact loses it.
func TestDisassociate(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "Hi, I'm Ada")
	crmJSON(t, admin.do("PATCH", "/api/v1/contacts/"+chat.contact, map[string]any{"firstName": "Ada", "email": "ada@example.com"}, nil), 200)
	crmJSON(t, admin.do("POST", "/api/v1/contacts/"+chat.contact+"/records",
		map[string]any{"kind": "ticket", "name": "Refund", "threadId": chat.thread}, nil), 201)

	got := crmJSON(t, admin.do("POST", "/api/v1/threads/"+chat.thread+"/disassociate", nil, nil), 200)
	fresh := got["associatedContactId"].(string)
	if fresh == chat.contact || got["id"] != chat.thread || got["contactName"] != "Visitor #"+fresh {
		t.Fatalf("thread after disassociation=%v", got)
	}
	m := nextSystem(aws, parley.EventContactRemoved)
	if m["text"] != "Ada" || m["threadId"] != chat.thread || m["senderActorId"] != "A-1" {
		t.Errorf("event=%v", m)
	}
	if th := nextEvent(aws, "thread.updated", "type", "thread.updated")["thread"].(map[string]any); th["associatedContactId"] != fresh {
		t.Errorf("thread.updated=%v", th)
	}
	nextEvent(aws, "contact.updated", "contactId", chat.contact)

	// The live visitor's next message: same thread, the new contact.
	say := func(v *wsClient, id, text string) map[string]any {
		v.send(map[string]any{"type": "message.send", "clientId": id, "text": text})
		return msgOf(v.next("message.ack"))
	}
	if ack := say(chat.v, "c1", "Still me"); ack["threadId"] != chat.thread || ack["senderActorId"] != "V-"+fresh {
		t.Errorf("live visitor's message=%v, want thread %s from V-%s", ack, chat.thread, fresh)
	}
	// After a reload too.
	v2, ready := e.visitor(chat.token, 0)
	if ready["thread"].(map[string]any)["id"] != chat.thread || ready["visitorId"] != "V-"+fresh {
		t.Errorf("reload ready=%v", ready)
	}
	if ack := say(v2, "c2", "And again"); ack["threadId"] != chat.thread {
		t.Errorf("reloaded visitor's message=%v", ack)
	}

	// The old contact lost the thread: no threads, so nobody sees it now.
	var list struct{ Results []map[string]any }
	admin.do("GET", v3+"/threads?associatedContactId="+chat.contact, nil, nil).decode(t, &list)
	if len(list.Results) != 0 {
		t.Errorf("old contact's threads=%v", list.Results)
	}
	crmError(t, admin.do("GET", "/api/v1/contacts/"+chat.contact, nil, nil), 404, "")
	details := crmJSON(t, admin.do("GET", "/api/v1/contacts/"+fresh, nil, nil), 200)
	if details["name"] != "Visitor #"+fresh || details["email"] != "" || len(listOf(details, "records")) != 0 || len(listOf(details, "threads")) != 1 {
		t.Errorf("new contact=%v", details)
	}
	// The ticket stays on the conversation.
	if l := listOf(crmJSON(t, admin.do("GET", "/api/v1/threads/"+chat.thread+"/records", nil, nil), 200), "results"); len(l) != 1 {
		t.Errorf("thread records=%v", l)
	}
	// Email threads have no visitor to detach.
	email := &parley.Thread{InboxID: e.inbox.ID, ChannelID: parley.ChannelEmail, ContactID: 1}
	if err := e.db.CreateThread(context.Background(), email); err != nil {
		t.Fatal(err)
	}
	crmError(t, admin.do("POST", fmt.Sprint("/api/v1/threads/", email.ID, "/disassociate"), nil, nil), 400, "is not a chat")
	crmError(t, admin.do("POST", "/api/v1/threads/999/disassociate", nil, nil), 404, "")
}

// TestDisassociateWhileChatting: a visitor sends one message after another
// while an agent detaches the contact; every message lands in the one
// thread, from the old contact before the move and the new one after.
func TestDisassociateWhileChatting(t *testing.T) {
	// The visitor writes as fast as the server answers, for as long as the
	// disassociation takes on a busy machine: no rate limit gets in the way.
	e := newEnv(t, &envOptions{cfg: server.Config{MessageRate: 1e6, MessageBurst: 1e6}})
	admin := e.login("admin@example.com")
	for round := range 5 {
		chat := crmStartChat(t, e, e.widget, "Start")
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", e.base+"/api/v1/threads/"+chat.thread+"/disassociate", nil)
			req.Header.Set("Origin", e.base)
			res, err := admin.hc.Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		var senders []string
		status, seenAt := -1, -1
		// Keep writing until at least one message is sent after the
		// disassociation's answer arrived (and at least five in all). The
		// answer always comes: the admin's client gives up after 10s.
		for i := 0; status == -1 || i < 5 || i <= seenAt+1; i++ {
			chat.v.send(map[string]any{"type": "message.send", "clientId": fmt.Sprint("r", round, "m", i), "text": "msg"})
			ack := msgOf(chat.v.next("message.ack"))
			if ack["threadId"] != chat.thread {
				t.Fatalf("round %d: message %d went to thread %v, want %s", round, i, ack["threadId"], chat.thread)
			}
			senders = append(senders, ack["senderActorId"].(string))
			if status == -1 {
				select {
				case status = <-done:
					seenAt = i
				default:
				}
			}
		}
		if status != 200 {
			t.Fatalf("disassociate: status %d", status)
		}
		// Old contact first, then only the new one.
		last := senders[len(senders)-1]
		if last == "V-"+chat.contact {
			t.Errorf("round %d: the last message is still from the old contact", round)
		}
		switched := false
		for _, s := range senders {
			if s != "V-"+chat.contact {
				switched = true
			} else if switched {
				t.Errorf("round %d: senders %v switch back", round, senders)
				break
			}
		}
	}
}
