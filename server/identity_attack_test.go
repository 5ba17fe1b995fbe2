package server_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestTypedEmailIsNoIdentity is the attack of a visitor who types someone
// else's email into the widget before that person is identified by the
// site: the typist must get no access to the victim's conversation, live or
// on replay, and the victim none to the typist's; the typed address stays
// an unverified claim on the typist's own contact, shown to agents as such.
func TestTypedEmailIsNoIdentity(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")

	// Mallory chats anonymously and claims the victim's address.
	mallory, _ := e.helloVisitor(nil)
	mallory.send(map[string]any{"type": "message.send", "clientId": "m1", "text": "hello from mallory"})
	mident := mallory.next("identity")
	mack := mallory.next("message.ack")
	mallory.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": "victim@corp.example"})
	mallory.next("contact.email")
	malloryThread := msgOf(mack)["threadId"]

	// The site signs the real victim in and identifies them (an admin's
	// API token, as a site's back end holds).
	pat := admin.do("POST", "/api/v1/tokens", map[string]string{"name": "site back end"}, nil)
	var patOut struct{ Token string }
	pat.decode(t, &patOut)
	site := &client{e: e, hc: &http.Client{Timeout: 5 * time.Second}, token: patOut.Token}
	st, token := createIdentToken(t, site, map[string]string{"email": "victim@corp.example", "firstName": "Vic"})
	if st != 200 {
		t.Fatalf("identification token: %d %s", st, token)
	}
	victim, vready := e.helloVisitor(map[string]any{"identificationEmail": "victim@corp.example", "identificationToken": token})
	if vready["identified"] != true {
		t.Fatalf("victim ready=%v, want identified", vready)
	}
	if vready["visitorId"] == mident["visitorId"] {
		t.Fatalf("the victim was made the typist's contact %v", vready["visitorId"])
	}
	if vready["thread"] != nil {
		t.Fatalf("the victim is shown the typist's conversation: %v", vready["thread"])
	}
	victim.send(map[string]any{"type": "message.send", "clientId": "v1", "text": "my account number is 12345"})
	vack := victim.next("identity", "message.ack")
	if vack["type"] != "message.ack" {
		t.Fatalf("victim got %v", vack)
	}
	victimThread := msgOf(vack)["threadId"]
	if victimThread == malloryThread {
		t.Fatal("the victim's message went into the typist's thread")
	}

	// Live: Mallory's open socket sees nothing of it. Her own agent-side
	// echo proves the socket still works and nothing came before it.
	mallory.send(map[string]any{"type": "message.send", "clientId": "m2", "text": "still here"})
	for {
		ev := mallory.next("message.created", "message.ack")
		if m := msgOf(ev); m["threadId"] == victimThread {
			t.Fatalf("the typist received the victim's message live: %v", ev)
		}
		if ev["type"] == "message.ack" {
			break
		}
	}
	// Replay: reconnecting with her credential gives her her own thread only.
	re, rready := e.helloVisitor(map[string]any{"visitorToken": mident["visitorToken"]})
	if th, _ := rready["thread"].(map[string]any); th == nil || th["id"] != malloryThread {
		t.Fatalf("typist's ready=%v, want her own thread %v", rready, malloryThread)
	}
	re.send(map[string]any{"type": "message.send", "clientId": "m3", "text": "and again"})
	for {
		ev := re.next("message.created", "message.ack")
		if msgOf(ev)["threadId"] == victimThread {
			t.Fatalf("the typist's replay holds the victim's message: %v", ev)
		}
		if ev["type"] == "message.ack" {
			break
		}
	}

	// The typed address is kept, unverified, on the typist's contact; the
	// victim's contact holds the verified one.
	mc := e.contactOf(mident["visitorId"].(string))
	if mc.Email != "" || mc.UnverifiedEmail != "victim@corp.example" {
		t.Fatalf("typist's contact %+v: want only an unverified email", mc)
	}
	vc, err := e.db.ContactByEmail(context.Background(), "victim@corp.example")
	if err != nil || vc.ID == mc.ID || vc.ActorID() != vready["visitorId"] {
		t.Fatalf("ContactByEmail=%+v, %v; want the victim's own contact", vc, err)
	}
	var cj struct {
		Email           string `json:"email"`
		UnverifiedEmail string `json:"unverifiedEmail"`
	}
	res := admin.do("GET", "/api/v1/contacts/"+strconv.FormatUint(mc.ID, 10), nil, nil)
	res.decode(t, &cj)
	if res.status != 200 || cj.Email != "" || cj.UnverifiedEmail != "victim@corp.example" {
		t.Fatalf("GET contact: %d %s; want the address as unverifiedEmail", res.status, res.body)
	}

	// Identifying the victim again, or the typist claiming again, changes
	// nothing.
	mallory.send(map[string]any{"type": "contact.email", "clientId": "e2", "email": "VICTIM@corp.example"})
	mallory.next("contact.email")
	if _, r := e.helloVisitor(map[string]any{"identificationEmail": "victim@corp.example", "identificationToken": token}); r["visitorId"] != vready["visitorId"] {
		t.Fatalf("second identification ready=%v", r)
	}
	if c, _ := e.db.Contact(context.Background(), mc.ID); c.Email != "" {
		t.Fatalf("the typist's contact got a verified email: %+v", c)
	}
}
