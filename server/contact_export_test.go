package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// TestContactExport: an admin exports everything about a contact — its
// conversations in every inbox, the trash's too, with all their messages
// and notes — as one JSON attachment; an agent (even of the contact's
// inbox) and a stranger get nothing.
func TestContactExport(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	tid := startChat(t, e, "My order 4711 never came")
	const v3 = "/conversations/v3/conversations/threads/"
	admin.want(201, "POST", v3+tid+"/messages", map[string]any{"type": "COMMENT", "text": "VIP customer"})
	var th struct{ AssociatedContactID string }
	admin.want(200, "GET", v3+tid, nil).decode(t, &th)
	admin.want(204, "DELETE", v3+tid, nil) // in the trash: still theirs
	// A conversation of the same contact in an inbox the admin is no member of.
	ctx := t.Context()
	other := &parley.Inbox{Name: "Other", MemberIDs: []uint64{}}
	if err := e.db.CreateInbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	var cid uint64
	fmt.Sscan(th.AssociatedContactID, &cid)
	if _, err := e.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "second question", SenderID: parley.ContactActorID(cid), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: other.ID, ChannelID: parley.ChannelEmail, ContactID: cid, Status: parley.StatusOpen}}); err != nil {
		t.Fatal(err)
	}

	path := "/api/v1/contacts/" + th.AssociatedContactID + "/export"
	res := admin.want(200, "GET", path, nil)
	if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}
	var out struct {
		Contact struct{ ID string }
		Threads []struct {
			ID       string
			Messages []struct{ Type, Text string }
		}
	}
	res.decode(t, &out)
	texts := map[string]bool{}
	for _, x := range out.Threads {
		for _, m := range x.Messages {
			texts[m.Text] = true
		}
	}
	if out.Contact.ID != th.AssociatedContactID || len(out.Threads) != 2 || !texts["My order 4711 never came"] || !texts["VIP customer"] || !texts["second question"] {
		t.Errorf("export: contact %s, %d threads, texts %v", out.Contact.ID, len(out.Threads), texts)
	}
	agent := e.addAgent("agent@example.com", true)
	if res := e.login(agent.Email).do("GET", path, nil, nil); res.status != 403 {
		t.Errorf("an agent's export: %d, want 403", res.status)
	}
	if res := (&client{e: e, hc: e.ts.Client()}).do("GET", path, nil, nil); res.status != 401 {
		t.Errorf("a stranger's export: %d, want 401", res.status)
	}
	if res := admin.do("GET", "/api/v1/contacts/999999/export", nil, nil); res.status != 404 {
		t.Errorf("export of no contact: %d, want 404", res.status)
	}
}
