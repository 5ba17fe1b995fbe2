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

// threadTickets returns the records of thread id, as the admin sees them.
func threadTickets(t *testing.T, admin *client, id uint64) []map[string]any {
	t.Helper()
	var page struct{ Results []map[string]any }
	admin.want(200, "GET", fmt.Sprintf("/api/v1/threads/%d/records", id), nil).decode(t, &page)
	return page.Results
}

// threadEvents counts the SYSTEM messages with event in thread id.
func threadEvents(t *testing.T, e *env, id uint64, event string) int {
	t.Helper()
	msgs, _, err := e.db.Messages(context.Background(), id, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Type == parley.TypeSystem && m.Event == event {
			n++
		}
	}
	return n
}

// TestMailTicketCreated: with createTicket on an address, every new email
// thread gets one ticket, named after its subject, with the preset stage
// and owner, associated with the contact and the thread and recorded on
// it in the same commit. Replies, the same mail delivered again, role
// senders and automatic mail create none; null turns it off, and a routing
// written without createTicket keeps it.
func TestMailTicketCreated(t *testing.T) {
	e, admin := mailEnv(t, "")
	bo := e.addAgent("bo@example.com", true)
	setMailRouting(t, admin, e, map[string]any{"mode": "none", "createTicket": map[string]any{"stage": "waiting", "owner": "user", "ownerId": idStr(bo.ID)}})
	if got, _ := json.Marshal(mailboxRouting(t, admin, e)["createTicket"]); string(got) != `{"owner":"user","ownerId":"`+idStr(bo.ID)+`","stage":"waiting"}` {
		t.Fatalf("createTicket reads %s", got)
	}

	raw := rawMail("Ann <ann@customer.example>", "  Order\t#42   broken ", "a1@customer.example", "", "It arrived broken.")
	deliver(t, e, raw)
	deliver(t, e, raw) // a retried delivery of the same mail
	th := threadOf(t, e, "ann@customer.example")
	recs := threadTickets(t, admin, th.ID)
	if len(recs) != 1 {
		t.Fatalf("tickets of the new thread: %v, want 1", recs)
	}
	c, _ := e.db.ContactByEmail(context.Background(), "ann@customer.example")
	r := recs[0]
	if r["kind"] != "ticket" || r["name"] != "Order #42 broken" || r["stage"] != "waiting" || r["ownerId"] != idStr(bo.ID) ||
		r["contactId"] != idStr(c.ID) || fmt.Sprint(r["threadIds"]) != "["+idStr(th.ID)+"]" {
		t.Errorf("ticket %v", r)
	}
	if n := threadEvents(t, e, th.ID, parley.EventRecordCreated); n != 1 {
		t.Errorf("%d record_created events on the thread, want 1", n)
	}

	// A reply into the thread creates none.
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Re: Order #42 broken", "a2@customer.example", "a1@customer.example", "Any news?"))
	if recs := threadTickets(t, admin, th.ID); len(recs) != 1 {
		t.Errorf("after a reply: %d tickets, want 1", len(recs))
	}

	// Role senders and automatic mail are Filtered: no ticket.
	deliver(t, e, rawMail("News <newsletter@shop.example>", "Deals", "n1@shop.example", "", "Buy now"))
	deliver(t, e, "Auto-Submitted: auto-replied\n"+rawMail("Ooo <ooo@customer.example>", "Out of office", "o1@customer.example", "", "Back Monday"))
	for _, addr := range []string{"newsletter@shop.example", "ooo@customer.example"} {
		if recs := threadTickets(t, admin, threadOf(t, e, addr).ID); len(recs) != 0 {
			t.Errorf("mail from %s got a ticket: %v", addr, recs)
		}
	}

	// No subject: "(no subject)"; a long one is cut to the name's limit.
	deliver(t, e, rawMail("Cy <cy@customer.example>", "", "c1@customer.example", "", "no subject here"))
	if recs := threadTickets(t, admin, threadOf(t, e, "cy@customer.example").ID); len(recs) != 1 || recs[0]["name"] != "(no subject)" {
		t.Errorf("ticket without subject: %v", recs)
	}
	long := strings.Repeat("ü", 200)
	deliver(t, e, rawMail("Di <di@customer.example>", long, "d1@customer.example", "", "long"))
	if recs := threadTickets(t, admin, threadOf(t, e, "di@customer.example").ID); len(recs) != 1 || len(recs[0]["name"].(string)) != 256 {
		t.Errorf("ticket with a long subject: %v", recs)
	}

	// "(no subject)" is in the language of the admin who set the preset.
	admin.want(200, "PATCH", "/api/v1/users/me", map[string]any{"language": "de"})
	setMailRouting(t, admin, e, map[string]any{"mode": "none", "createTicket": map[string]any{"stage": "new", "owner": "none"}})
	deliver(t, e, rawMail("Flo <flo@customer.example>", "", "f1@customer.example", "", "kein Betreff"))
	if recs := threadTickets(t, admin, threadOf(t, e, "flo@customer.example").ID); len(recs) != 1 || recs[0]["name"] != "(kein Betreff)" {
		t.Errorf("ticket without subject, German admin: %v", recs)
	}

	// A routing written without createTicket keeps it; null turns it off.
	setMailRouting(t, admin, e, map[string]any{"mode": "none"})
	if mailboxRouting(t, admin, e)["createTicket"] == nil {
		t.Error("createTicket lost by a routing written without it")
	}
	setMailRouting(t, admin, e, map[string]any{"mode": "none", "createTicket": nil})
	if ct, ok := mailboxRouting(t, admin, e)["createTicket"]; ok {
		t.Errorf("createTicket after null: %v", ct)
	}
	deliver(t, e, rawMail("Ed <ed@customer.example>", "Hello", "e1@customer.example", "", "hi"))
	if recs := threadTickets(t, admin, threadOf(t, e, "ed@customer.example").ID); len(recs) != 0 {
		t.Errorf("a ticket with createTicket off: %v", recs)
	}

	// The owner leaves the inbox: tickets are created without an owner.
	setMailRouting(t, admin, e, map[string]any{"mode": "none", "createTicket": map[string]any{"stage": "new", "owner": "user", "ownerId": idStr(bo.ID)}})
	admin.want(200, "PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"memberIds": []string{idStr(e.admin.ID)}})
	if got, _ := json.Marshal(mailboxRouting(t, admin, e)["createTicket"]); string(got) != `{"owner":"none","stage":"new"}` {
		t.Errorf("createTicket after its owner left: %s", got)
	}
}

// TestMailTicketOwnerAssignee: with owner "assignee", the ticket belongs to
// the agent routing gives the thread, recorded as a change by the system.
func TestMailTicketOwnerAssignee(t *testing.T) {
	e, admin := mailEnv(t, "")
	cy := e.addAgent("cy@example.com", true)
	e.login("cy@example.com").agentWS()
	setMailRouting(t, admin, e, map[string]any{"mode": "users", "userIds": []string{idStr(cy.ID)}, "createTicket": map[string]any{"stage": "new", "owner": "assignee"}})
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Help", "a1@customer.example", "", "Please help"))
	th := threadOf(t, e, "ann@customer.example")
	waitAssigned(t, admin, idStr(th.ID), cy.ActorID())
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs := threadTickets(t, admin, th.ID)
		if len(recs) != 1 {
			t.Fatalf("tickets %v, want 1", recs)
		}
		if recs[0]["ownerId"] == idStr(cy.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket owner %v, want the assignee %d", recs[0]["ownerId"], cy.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := threadEvents(t, e, th.ID, parley.EventRecordUpdated); n != 1 {
		t.Errorf("%d record_updated events, want 1", n)
	}
}

// TestMailTicketRefused: createTicket is validated strictly, and a refused
// write changes nothing.
func TestMailTicketRefused(t *testing.T) {
	e, admin := mailEnv(t, "")
	bo := e.addAgent("bo@example.com", true)
	dee := e.addAgent("dee@example.com", false)
	gone := e.addAgent("gone@example.com", true)
	if _, err := e.db.UpdateUser(context.Background(), gone.ID, func(u *parley.User) error { u.Deactivated = true; return nil }); err != nil {
		t.Fatal(err)
	}
	setMailRouting(t, admin, e, map[string]any{"mode": "none", "createTicket": map[string]any{"stage": "new", "owner": "user", "ownerId": idStr(bo.ID)}})
	field := fmt.Sprintf("mailRouting[%q].createTicket", supportAddr)
	ticket := func(v map[string]any) map[string]any {
		return map[string]any{supportAddr: map[string]any{"mode": "none", "createTicket": v}}
	}
	for _, tt := range []struct {
		name    string
		body    map[string]any
		mention string
	}{
		{"unknown field", ticket(map[string]any{"stage": "new", "owner": "none", "priority": "high"}), field + `: unknown field "priority"`},
		{"a deal's stage", ticket(map[string]any{"stage": "won", "owner": "none"}), field + ".stage must be one of new, waiting, closed"},
		{"no stage", ticket(map[string]any{"owner": "none"}), field + ".stage"},
		{"unknown owner", ticket(map[string]any{"stage": "new", "owner": "contact"}), field + ".owner"},
		{"user without ownerId", ticket(map[string]any{"stage": "new", "owner": "user"}), field + ".ownerId is required"},
		{"ownerId with none", ticket(map[string]any{"stage": "new", "owner": "none", "ownerId": idStr(bo.ID)}), field + ".ownerId is only"},
		{"owner not a member", ticket(map[string]any{"stage": "new", "owner": "user", "ownerId": idStr(dee.ID)}), field + ".ownerId: user " + idStr(dee.ID) + " is not a member"},
		{"deactivated owner", ticket(map[string]any{"stage": "new", "owner": "user", "ownerId": idStr(gone.ID)}), field + ".ownerId: user " + idStr(gone.ID) + " is not an active user"},
		{"no such owner", ticket(map[string]any{"stage": "new", "owner": "user", "ownerId": "999"}), field + ".ownerId"},
		{"not an object", map[string]any{supportAddr: map[string]any{"mode": "none", "createTicket": true}}, field},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"mailRouting": tt.body}, nil)
			if res.status != 400 || !strings.Contains(string(res.body), strings.ReplaceAll(tt.mention, `"`, `\"`)) {
				t.Errorf("status=%d body=%s; want 400 naming %s", res.status, res.body, tt.mention)
			}
			if got, _ := json.Marshal(mailboxRouting(t, admin, e)["createTicket"]); string(got) != `{"owner":"user","ownerId":"`+idStr(bo.ID)+`","stage":"new"}` {
				t.Errorf("createTicket after a refused write: %s", got)
			}
		})
	}
}
