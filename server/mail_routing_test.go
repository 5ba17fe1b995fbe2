package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// setMailRouting sets the routing of supportAddr through the settings API.
func setMailRouting(t *testing.T, admin *client, e *env, routing map[string]any) {
	t.Helper()
	admin.want(200, "PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{
		"mailRouting": map[string]any{supportAddr: routing},
	})
}

// mailboxRouting reads the routing of the inbox's one address from the
// settings API.
func mailboxRouting(t *testing.T, admin *client, e *env) map[string]any {
	t.Helper()
	var in struct {
		Mailboxes []struct {
			Address string
			Routing map[string]any
		}
	}
	admin.want(200, "GET", "/api/v1/inboxes/"+idStr(e.inbox.ID), nil).decode(t, &in)
	if len(in.Mailboxes) != 1 {
		t.Fatalf("mailboxes=%+v", in.Mailboxes)
	}
	return in.Mailboxes[0].Routing
}

// TestMailRouteUsers: with routing "users", a new email thread goes to the
// available one of the users named, by the system, recorded; replies into a
// thread are not routed; filtered mail (automatic, role sender, blocked)
// never is; "none" (the default) leaves threads unassigned.
func TestMailRouteUsers(t *testing.T) {
	e, admin := mailEnv(t, "")
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	if r := mailboxRouting(t, admin, e); r["mode"] != "none" {
		t.Fatalf("default routing=%v, want mode none", r)
	}
	e.login("bo@example.com").agentWS()
	e.login("cy@example.com").agentWS()

	// The default: unassigned, as before.
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Before", "before@customer.example", "", "hello"))
	before := threadOf(t, e, "ann@customer.example")
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, idStr(before.ID), "")

	setMailRouting(t, admin, e, map[string]any{"mode": "users", "userIds": []string{idStr(cy.ID)}, "maxOpenPerAgent": 5})
	r := mailboxRouting(t, admin, e)
	if r["mode"] != "users" || fmt.Sprint(r["userIds"]) != "["+idStr(cy.ID)+"]" || r["maxOpenPerAgent"] != 5.0 {
		t.Fatalf("routing=%v", r)
	}

	deliver(t, e, rawMail("Ben <ben@customer.example>", "Invoice", "ben1@customer.example", "", "where is my invoice"))
	th := threadOf(t, e, "ben@customer.example")
	waitAssigned(t, admin, idStr(th.ID), cy.ActorID())
	msgs := messagesOf(t, admin, idStr(th.ID))
	last := msgs[len(msgs)-1]
	if last["type"] != "ASSIGNMENT" || last["createdBy"] != parley.SystemActorID {
		t.Errorf("recorded %v, want an ASSIGNMENT by %s", last, parley.SystemActorID)
	}

	// A reply into the thread of before is not routed.
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Re: Before", "before2@customer.example", "before@customer.example", "again"))
	time.Sleep(50 * time.Millisecond)
	waitAssigned(t, admin, idStr(before.ID), "")

	// Filtered mail is never routed.
	deliver(t, e, "From: Auto <auto@customer.example>\nTo: "+supportAddr+"\nSubject: Out of office\nMessage-ID: <auto@customer.example>\nAuto-Submitted: auto-replied\n\naway\n")
	deliver(t, e, rawMail("No Reply <noreply@customer.example>", "Newsletter", "role@customer.example", "", "news"))
	deliver(t, e, rawMail("Bad <bad@customer.example>", "First", "bad1@customer.example", "", "hi"))
	bad := e.contactByEmail(t, "bad@customer.example")
	if _, err := e.db.UpdateContact(context.Background(), bad.ID, func(c *parley.Contact) error { c.Blocked = true; return nil }); err != nil {
		t.Fatal(err)
	}
	deliver(t, e, rawMail("Bad <bad@customer.example>", "Second", "bad2@customer.example", "", "hi again"))
	time.Sleep(100 * time.Millisecond)
	for _, addr := range []string{"auto@customer.example", "noreply@customer.example"} {
		th := threadOf(t, e, addr)
		if th.AssigneeID != 0 || !th.IsFiltered() {
			t.Errorf("%s: assignee %d, filtered %v; want unassigned and filtered", addr, th.AssigneeID, th.IsFiltered())
		}
		if q, _ := e.db.Queue(context.Background(), 0); len(q) != 0 {
			t.Errorf("queue=%+v, want empty", q)
		}
	}
	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: bad.ID})
	if err != nil || len(ts) != 2 {
		t.Fatalf("threads of the blocked sender: %d, %v", len(ts), err)
	}
	for _, th := range ts {
		if th.Blocked && th.AssigneeID != 0 {
			t.Errorf("blocked sender's thread %d assigned to %d", th.ID, th.AssigneeID)
		}
	}
	_ = bo
}

// contactByEmail returns the contact with email addr.
func (e *env) contactByEmail(t *testing.T, addr string) *parley.Contact {
	t.Helper()
	c, err := e.db.ContactByEmail(context.Background(), addr)
	if err != nil {
		t.Fatalf("contact %s: %v", addr, err)
	}
	return c
}

// TestMailRouteWaiting: with routing "teams" and nobody of the team
// available, a new email thread waits in the routing queue as chat does and
// goes to the member who comes online; a team member who is not in the
// inbox never gets it, online or not.
func TestMailRouteWaiting(t *testing.T) {
	e, admin := mailEnv(t, "")
	cy := e.addAgent("cy@example.com", true)
	dee := e.addAgent("dee@example.com", false) // in the team, not in the inbox
	var team struct{ ID string }
	admin.want(201, "POST", "/api/v1/teams", map[string]any{"name": "Billing", "memberIds": []string{idStr(cy.ID), idStr(dee.ID)}}).decode(t, &team)
	setMailRouting(t, admin, e, map[string]any{"mode": "teams", "teamIds": []string{team.ID}})
	e.login("dee@example.com").agentWS()

	deliver(t, e, rawMail("Ben <ben@customer.example>", "Refund", "ben1@customer.example", "", "refund please"))
	th := threadOf(t, e, "ben@customer.example")
	time.Sleep(100 * time.Millisecond)
	waitAssigned(t, admin, idStr(th.ID), "")
	q, err := e.db.Queue(context.Background(), 0)
	if err != nil || len(q) != 1 || q[0].ThreadID != th.ID {
		t.Fatalf("queue=%+v, %v; want the thread waiting", q, err)
	}
	e.login("cy@example.com").agentWS()
	waitAssigned(t, admin, idStr(th.ID), cy.ActorID())
	if q, _ := e.db.Queue(context.Background(), 0); len(q) != 0 {
		t.Errorf("queue=%+v after routing, want empty", q)
	}
}

// TestMailRouteOwner: with routing "owner", a new email thread goes to its
// contact's owner when they are an active member of the inbox, and to the
// fallback user otherwise (no owner, or an owner outside the inbox).
func TestMailRouteOwner(t *testing.T) {
	e, admin := mailEnv(t, "")
	bo, cy := e.addAgent("bo@example.com", true), e.addAgent("cy@example.com", true)
	dee := e.addAgent("dee@example.com", false)
	e.login("bo@example.com").agentWS()
	e.login("cy@example.com").agentWS()
	e.login("dee@example.com").agentWS()
	// Two known contacts: one owned by cy, one by dee (not a member).
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Hello", "ann1@customer.example", "", "hello"))
	deliver(t, e, rawMail("Ben <ben@customer.example>", "Hello", "ben1@customer.example", "", "hello"))
	for addr, owner := range map[string]uint64{"ann@customer.example": cy.ID, "ben@customer.example": dee.ID} {
		if _, err := e.db.UpdateContact(context.Background(), e.contactByEmail(t, addr).ID, func(c *parley.Contact) error { c.OwnerID = owner; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setMailRouting(t, admin, e, map[string]any{"mode": "owner", "fallbackUserId": idStr(bo.ID)})

	newThread := func(from, msgID string) string {
		t.Helper()
		deliver(t, e, rawMail(from, "Another question", msgID, "", "one more"))
		addr := from[strings.Index(from, "<")+1 : len(from)-1]
		ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: e.contactByEmail(t, addr).ID})
		if err != nil || len(ts) != 2 {
			t.Fatalf("threads of %s: %d, %v", addr, len(ts), err)
		}
		id := ts[0].ID
		if ts[1].ID > id {
			id = ts[1].ID
		}
		return idStr(id)
	}
	waitAssigned(t, admin, newThread("Ann <ann@customer.example>", "ann2@customer.example"), cy.ActorID())
	waitAssigned(t, admin, newThread("Ben <ben@customer.example>", "ben2@customer.example"), bo.ActorID())
	deliver(t, e, rawMail("Cai <cai@customer.example>", "New here", "cai1@customer.example", "", "hi"))
	waitAssigned(t, admin, idStr(threadOf(t, e, "cai@customer.example").ID), bo.ActorID())
}

// TestMailRoutingRefused: routing settings that name a user outside the
// inbox (even one in a team), a deactivated user, a team that does not
// exist, an address of no inbox, an unknown field or mode are each a 400
// naming the field, and so is an agent's attempt a 403; none writes
// anything.
func TestMailRoutingRefused(t *testing.T) {
	e, admin := mailEnv(t, "")
	bo := e.addAgent("bo@example.com", true)
	dee := e.addAgent("dee@example.com", false)
	gone := e.addAgent("gone@example.com", true)
	if _, err := e.db.UpdateUser(context.Background(), gone.ID, func(u *parley.User) error { u.Deactivated = true; return nil }); err != nil {
		t.Fatal(err)
	}
	var team struct{ ID string }
	admin.want(201, "POST", "/api/v1/teams", map[string]any{"name": "Billing", "memberIds": []string{idStr(dee.ID)}}).decode(t, &team)
	setMailRouting(t, admin, e, map[string]any{"mode": "users", "userIds": []string{idStr(bo.ID)}})
	e.addInbox("Sales", dee)
	agent := e.login("dee@example.com") // an agent of another inbox
	field := fmt.Sprintf("mailRouting[%q]", supportAddr)
	for _, tt := range []struct {
		name    string
		c       *client
		body    map[string]any
		status  int
		mention string
	}{
		{"user in a team, not in the inbox", admin, map[string]any{supportAddr: map[string]any{"mode": "users", "userIds": []string{idStr(dee.ID)}}}, 400, field + ": user " + idStr(dee.ID) + " is not a member"},
		{"deactivated user", admin, map[string]any{supportAddr: map[string]any{"mode": "users", "userIds": []string{idStr(gone.ID)}}}, 400, field + ".userIds[0]"},
		{"fallback not in the inbox", admin, map[string]any{supportAddr: map[string]any{"mode": "owner", "fallbackUserId": idStr(dee.ID)}}, 400, field},
		{"no such team", admin, map[string]any{supportAddr: map[string]any{"mode": "teams", "teamIds": []string{"999"}}}, 400, field + ".teamIds[0]"},
		{"unknown field", admin, map[string]any{supportAddr: map[string]any{"mode": "users", "userIds": []string{idStr(bo.ID)}, "createTickets": true}}, 400, `unknown field "createTickets"`},
		{"unknown mode", admin, map[string]any{supportAddr: map[string]any{"mode": "inbox"}}, 400, field + ".mode"},
		{"users without users", admin, map[string]any{supportAddr: map[string]any{"mode": "users"}}, 400, field + ".userIds"},
		{"negative cap", admin, map[string]any{supportAddr: map[string]any{"mode": "teams", "teamIds": []string{team.ID}, "maxOpenPerAgent": -1}}, 400, field + ".maxOpenPerAgent"},
		{"address of no inbox", admin, map[string]any{"sales@parley.test": map[string]any{"mode": "none"}}, 400, `mailRouting["sales@parley.test"]`},
		{"agent of another inbox", agent, map[string]any{supportAddr: map[string]any{"mode": "none"}}, 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"mailRouting": tt.body}, nil)
			if res.status != tt.status || !strings.Contains(string(res.body), strings.ReplaceAll(tt.mention, `"`, `\"`)) {
				t.Errorf("status=%d body=%s; want %d naming %s", res.status, res.body, tt.status, tt.mention)
			}
			r := mailboxRouting(t, admin, e)
			if b, _ := json.Marshal(r); r["mode"] != "users" || fmt.Sprint(r["userIds"]) != "["+idStr(bo.ID)+"]" {
				t.Errorf("routing after a refused write: %s", b)
			}
		})
	}

	// A member removed from the inbox leaves the routing; with no user
	// left, the address routes to no one.
	admin.want(200, "PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"memberIds": []string{idStr(e.admin.ID)}})
	if r := mailboxRouting(t, admin, e); r["mode"] != "none" {
		t.Errorf("routing after bo left the inbox: %v, want mode none", r)
	}
}
