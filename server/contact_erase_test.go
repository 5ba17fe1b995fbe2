package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// TestContactErase: an admin erases a contact through HubSpot's
// gdpr-delete, by its email: its conversations in every inbox go, each
// reported as conversation.privacyDeletion; its live widget connection is
// closed and its visitor token resumes nothing; its export is 404; and
// its address writes again as a new contact with nothing of the old. A
// stranger, agents (of its inbox or another), a token without the admin
// scope and bad bodies change nothing.
func TestContactErase(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com")
	bearer := admin.bearer()
	rc := newHookReceiver(t, time.Now)
	rc.setSecret(configureHook(t, bearer, 42, rc.url(), parley.WebhookPrivacyDeletion))

	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "please forget me"})
	token := v.next("identity")["visitorToken"].(string)
	tid := msgOf(v.next("message.ack"))["threadId"].(string)
	var th struct{ AssociatedContactID string }
	admin.want(200, "GET", v3+"/threads/"+tid, nil).decode(t, &th)
	cidString := th.AssociatedContactID
	admin.want(200, "PATCH", "/api/v1/contacts/"+cidString, map[string]any{"email": "forget.me@example.com", "firstName": "Forget"})
	var cid uint64
	fmt.Sscan(cidString, &cid)
	// A conversation of the same contact in an inbox no agent here is in.
	ctx := t.Context()
	other := &parley.Inbox{Name: "Other", MemberIDs: []uint64{}}
	if err := e.db.CreateInbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	mail, err := e.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "by mail too", SenderID: parley.ContactActorID(cid), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: other.ID, ChannelID: parley.ChannelEmail, ContactID: cid, Status: parley.StatusOpen}})
	if err != nil {
		t.Fatal(err)
	}

	// Another contact's conversation, where the erased one wrote too (a
	// colleague in CC): it is not the erased contact's, so it stays, and
	// names the erased sender as such.
	colleague := &parley.Contact{FirstName: "Colleague"}
	if err := e.db.CreateContact(ctx, colleague); err != nil {
		t.Fatal(err)
	}
	shared, err := e.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "the colleague asks", SenderID: colleague.ActorID(), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: e.inbox.ID, ChannelID: parley.ChannelEmail, ContactID: colleague.ID, Status: parley.StatusOpen}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.AppendMessage(ctx, &parley.Message{ThreadID: shared.Thread.ID, Type: parley.TypeComment, Text: "the one in CC", SenderID: parley.ContactActorID(cid), Direction: parley.Incoming}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}

	const path = "/crm/v3/objects/contacts/gdpr-delete"
	byEmail := map[string]any{"objectId": "Forget.Me@example.com", "idProperty": "email"}
	member := e.addAgent("member@example.com", true)
	outsider := e.addAgent("outsider@example.com", false)
	readWrite, _ := admin.newToken("no admin", []string{"read", "write"})
	for _, tc := range []struct {
		name   string
		c      *client
		body   any
		status int
		field  string
	}{
		{"stranger", &client{e: e, hc: e.ts.Client()}, byEmail, 401, ""},
		{"agent of its inbox", e.login(member.Email), byEmail, 403, ""},
		{"agent of another inbox", e.login(outsider.Email), byEmail, 403, ""},
		{"token without admin", readWrite, byEmail, 403, ""},
		{"no objectId", admin, map[string]any{"idProperty": "email"}, 400, "objectId"},
		{"objectId a number", admin, map[string]any{"objectId": cid}, 400, "objectId"},
		{"unknown idProperty", admin, map[string]any{"objectId": cidString, "idProperty": "phone"}, 400, "idProperty"},
		{"unknown field", admin, map[string]any{"objectId": cidString, "erase": true}, 400, "erase"},
		{"malformed", admin, `{"objectId":`, 400, ""},
		{"unknown id", admin, map[string]any{"objectId": "999999"}, 404, ""},
		{"not an id", admin, map[string]any{"objectId": "forget.me@example.com"}, 404, ""},
		{"unknown email", admin, map[string]any{"objectId": "nobody@example.com", "idProperty": "email"}, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.c.do("POST", path, tc.body, nil)
			if res.status != tc.status || !strings.Contains(string(res.body), tc.field) {
				t.Errorf("status=%d body=%s, want %d naming %q", res.status, res.body, tc.status, tc.field)
			}
		})
	}
	// The admin's own cookie, sent by another site's page.
	if res := admin.do("POST", path, byEmail, map[string]string{"Origin": "http://evil.example"}); res.status != 403 {
		t.Errorf("a cross-site erasure: %d, want 403", res.status)
	}
	if _, err := e.db.Contact(ctx, cid); err != nil {
		t.Fatalf("after refused erasures: %v", err)
	}

	admin.want(204, "POST", path, byEmail)
	if code := v.closeStatus(); code != 4404 {
		t.Errorf("the contact's widget connection closed with %d, want 4404", code)
	}
	if _, err := e.db.Contact(ctx, cid); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("contact after the erasure: %v, want ENOTFOUND", err)
	}
	for _, p := range []string{"/api/v1/contacts/" + cidString + "/export", "/api/v1/contacts/" + cidString, v3 + "/threads/" + tid,
		fmt.Sprintf("%s/threads/%d", v3, mail.Thread.ID)} {
		if res := admin.do("GET", p, nil, nil); res.status != 404 {
			t.Errorf("GET %s after the erasure: %d, want 404", p, res.status)
		}
	}
	admin.want(404, "POST", path, byEmail)
	// The audit log names who erased which contact, by id only, and keeps
	// what it held before.
	p, body := admin.audit("")
	if len(p.Results) == 0 || p.Results[0].Action != parley.AuditContactErase || p.Results[0].ObjectID != cidString || len(p.Results[0].Changes) != 0 {
		t.Errorf("audit log after the erasure: %s", body)
	}
	if tok, _ := admin.audit("?action=token.create"); len(tok.Results) != 2 {
		t.Errorf("audit log's token entries after the erasure: %+v, want 2", tok.Results)
	}
	if erased, _ := admin.audit("?action=contact.erase"); len(erased.Results) != 1 {
		t.Errorf("erasures in the audit log: %d, want 1 (the refused ones and the second, not found, left none)", len(erased.Results))
	}
	for _, s := range []string{"forget", "Forget", "please"} {
		if strings.Contains(string(body), s) {
			t.Errorf("the audit log holds %q of the erased contact: %s", s, body)
		}
	}
	deleted := map[string]bool{}
	for _, ev := range rc.waitEvents(2) {
		if ev.SubscriptionType != parley.WebhookPrivacyDeletion {
			t.Errorf("webhook %s, want only %s", ev.SubscriptionType, parley.WebhookPrivacyDeletion)
		}
		deleted[fmt.Sprint(ev.ObjectID)] = true
	}
	if !deleted[tid] || !deleted[fmt.Sprint(mail.Thread.ID)] {
		t.Errorf("privacyDeletion for %v, want threads %s and %d", deleted, tid, mail.Thread.ID)
	}

	var msgs struct {
		Results []struct {
			Text    string
			Senders []struct{ ActorID, Name string }
		}
	}
	admin.want(200, "GET", fmt.Sprintf("%s/threads/%d/messages", v3, shared.Thread.ID), nil).decode(t, &msgs)
	names := map[string]string{}
	for _, m := range msgs.Results {
		if len(m.Senders) > 0 {
			names[m.Text] = m.Senders[0].Name
		}
	}
	if names["the colleague asks"] != "Colleague" || names["the one in CC"] != "Erased contact" {
		t.Errorf("the other contact's conversation names its senders %v; want Colleague and Erased contact", names)
	}

	// The old token resumes nothing: no visitor, no thread.
	_, ready := e.visitor(token, 0)
	if id, _ := ready["visitorId"].(string); ready["thread"] != nil || id != "" {
		t.Errorf("the erased visitor's token resumed %v", ready)
	}
	// The address comes back as a new contact, by identification.
	_, ident := createIdentToken(t, bearer, map[string]string{"email": "forget.me@example.com"})
	w, r := e.helloVisitor(map[string]any{"identificationEmail": "forget.me@example.com", "identificationToken": ident})
	if r["thread"] != nil || r["visitorId"] == parley.ContactActorID(cid) {
		t.Errorf("the address came back with %v", r)
	}
	w.send(map[string]any{"type": "message.send", "clientId": "n1", "text": "hello again"})
	ack := msgOf(w.next("message.ack"))
	if ack["threadId"] == tid {
		t.Errorf("the new conversation is the erased one")
	}
	c, err := e.db.ContactByEmail(ctx, "forget.me@example.com")
	if err != nil || c.ID == cid || c.FirstName != "" {
		t.Errorf("the new contact %+v, %v: want a new one without the old name", c, err)
	}
	ts, _, err := e.db.Threads(ctx, parley.ThreadFilter{ContactID: c.ID, Limit: 10})
	if err != nil || len(ts) != 1 {
		t.Errorf("the new contact has %d threads, %v; want its new one", len(ts), err)
	}
}
