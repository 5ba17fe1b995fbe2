package server_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// routeTo sets the env's widget's routing.
func (e *env) routeTo(r parley.Routing) {
	e.t.Helper()
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Routing = r
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
}

// startChat has a new visitor write text and returns the visitor and the
// thread id.
func (e *env) startChat(text string) (*wsClient, string) {
	e.t.Helper()
	v := e.visitorOn(e.widget, "")
	return v, say(v, "first", text)["threadId"].(string)
}

// waitAssigned polls thread id until it is assigned to want ("" for
// nobody) or five seconds have passed: routing runs after the commit that
// triggers it, and on a busy machine that can take a while.
func waitAssigned(t *testing.T, c *client, id, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.thread(t, id).AssignedTo
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %s assigned to %q, want %q", id, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// messagesOf lists thread id's messages over REST.
func messagesOf(t *testing.T, c *client, id string) []map[string]any {
	t.Helper()
	var page struct{ Results []map[string]any }
	c.do("GET", v3+"/threads/"+id+"/messages?limit=500", nil, nil).decode(t, &page)
	return page.Results
}

// TestRouteNewChats: new chats go to available seat holders, fewest open
// first, ties to the longest since their last one; the assignment is the
// system's, recorded and announced; the offline admin and a seatless agent
// get nothing.
func TestRouteNewChats(t *testing.T) {
	e := newEnv(t, nil)
	e.routeTo(parley.Routing{Mode: parley.RoutingInbox})
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	dee := e.addAgent("dee@example.com", true)
	if _, err := e.db.UpdateUser(context.Background(), dee.ID, func(u *parley.User) error { u.RoutingSeat = false; return nil }); err != nil {
		t.Fatal(err)
	}
	boWS, _ := e.login("bo@example.com").agentWS()
	e.login("cy@example.com").agentWS()
	e.login("dee@example.com").agentWS()
	admin := e.login("admin@example.com")

	var got []string
	for i := range 6 {
		_, id := e.startChat(fmt.Sprint("question ", i))
		got = append(got, admin.thread(t, id).AssignedTo)
		if i == 0 {
			msgs := messagesOf(t, admin, id)
			last := msgs[len(msgs)-1]
			if last["type"] != "ASSIGNMENT" || last["createdBy"] != parley.SystemActorID {
				t.Errorf("recorded %v, want an ASSIGNMENT by %s", last, parley.SystemActorID)
			}
			ev := boWS.next("thread.updated")["thread"].(map[string]any)
			if ev["id"] != id || ev["assignedTo"] != bo.ActorID() {
				t.Errorf("console saw %v", ev)
			}
		}
	}
	want := []string{bo.ActorID(), cy.ActorID(), bo.ActorID(), cy.ActorID(), bo.ActorID(), cy.ActorID()}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("assigned %v, want %v", got, want)
	}
}

// TestRouteWaiting: with nobody available, conversations wait unassigned;
// they are routed oldest first as agents arrive, within the limit of open
// chats, and when a close makes room.
func TestRouteWaiting(t *testing.T) {
	e := newEnv(t, nil)
	e.routeTo(parley.Routing{Mode: parley.RoutingInbox, MaxOpenPerAgent: 1})
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	admin := e.login("admin@example.com")
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil); res.status != 200 {
		t.Fatal(res.status)
	}
	admin.agentWS()

	var ids []string
	for i := range 3 {
		_, id := e.startChat(fmt.Sprint("waiting ", i))
		ids = append(ids, id)
	}
	for _, id := range ids {
		waitAssigned(t, admin, id, "")
	}
	boC := e.login("bo@example.com")
	boC.agentWS()
	waitAssigned(t, admin, ids[0], bo.ActorID())
	e.login("cy@example.com").agentWS()
	waitAssigned(t, admin, ids[1], cy.ActorID())
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, ids[2], "") // both at the limit

	if res := boC.do("PATCH", v3+"/threads/"+ids[0], map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	waitAssigned(t, admin, ids[2], bo.ActorID())
}

// TestRouteOwner: a conversation of a contact with an owner waits for that
// owner rather than going to whoever is there, when no fallback is set;
// with a fallback it goes to the fallback while the owner is away.
func TestRouteOwner(t *testing.T) {
	e := newEnv(t, nil)
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	e.routeTo(parley.Routing{Mode: parley.RoutingOwner})
	admin := e.login("admin@example.com")
	v, id := e.startChat("for my owner")
	_ = v
	th := admin.thread(t, id)
	contactID := parseThreadContact(t, th.AssociatedContactID)
	if _, err := e.db.UpdateContact(context.Background(), contactID, func(c *parley.Contact) error { c.OwnerID = cy.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	e.login("bo@example.com").agentWS()
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, id, "")
	e.login("cy@example.com").agentWS()
	waitAssigned(t, admin, id, cy.ActorID())

	// With a fallback: a new contact without an owner goes to the fallback.
	e.routeTo(parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: bo.ID})
	_, id2 := e.startChat("no owner")
	waitAssigned(t, admin, id2, bo.ActorID())
}

func parseThreadContact(t *testing.T, s string) uint64 {
	t.Helper()
	var id uint64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatalf("contact id %q: %v", s, err)
	}
	return id
}

// TestReassignWhileAway: a reply on a conversation whose assignee is away
// with "reassign replies" on goes to an available teammate, and the thread
// records why; without the setting, or with nobody available, it stays.
func TestReassignWhileAway(t *testing.T) {
	e := newEnv(t, nil)
	e.routeTo(parley.Routing{Mode: parley.RoutingInbox})
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	admin := e.login("admin@example.com")
	boC := e.login("bo@example.com")
	boC.agentWS()
	v, id := e.startChat("hello")
	waitAssigned(t, admin, id, bo.ActorID())

	// Away without the setting: the reply stays with bo.
	boC.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil)
	cyC := e.login("cy@example.com")
	cyWS, _ := cyC.agentWS()
	say(v, "r1", "anyone?")
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, id, bo.ActorID())

	// With it: the next reply moves to cy, with the reason on the thread.
	if res := boC.do("PATCH", "/api/v1/users/me", map[string]any{"reassignWhileAway": true}, nil); res.status != 200 {
		t.Fatal(res.status)
	}
	say(v, "r2", "still there?")
	waitAssigned(t, admin, id, cy.ActorID())
	msgs := messagesOf(t, admin, id)
	n := len(msgs)
	note, assign := msgs[n-2], msgs[n-1]
	if note["type"] != "SYSTEM" || note["event"] != parley.EventReassignedAway || note["createdBy"] != parley.SystemActorID ||
		!strings.Contains(fmt.Sprint(note["text"]), "bo is away") || !strings.Contains(fmt.Sprint(note["text"]), "cy") {
		t.Errorf("reason=%v", note)
	}
	if assign["type"] != "ASSIGNMENT" || assign["assignedTo"] != cy.ActorID() {
		t.Errorf("assignment=%v", assign)
	}
	for {
		m := msgOf(cyWS.next("message.created"))
		if m["event"] == parley.EventReassignedAway {
			// The console says it in its own language from the change.
			want := []any{map[string]any{"field": parley.ChangeAssignee, "from": bo.ActorID(), "to": cy.ActorID()}}
			if !reflect.DeepEqual(m["changes"], want) {
				t.Errorf("changes=%v, want %v", m["changes"], want)
			}
			break
		}
	}

	// cy goes away too, with the setting: nobody is available, so it stays.
	cyC.do("PATCH", "/api/v1/users/me", map[string]any{"away": true, "reassignWhileAway": true}, nil)
	say(v, "r3", "hello?")
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, id, cy.ActorID())
	if got := len(messagesOf(t, admin, id)); got != n+1 {
		t.Errorf("%d messages, want %d: only the reply", got, n+1)
	}
}
