package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Tests of the visitor's side: consent (G1, G2), email capture (W4),
// identification (CONTRACT §4) and what the boot answer tells the widget.

const privacyText = "We store your messages to answer you. See our privacy policy."

// helloVisitor connects a visitor to the default widget with a hello that
// carries fields besides its type.
func (e *env) helloVisitor(fields map[string]any) (*wsClient, map[string]any) {
	e.t.Helper()
	w, err := dialWS(e.t, e.visitorURL(), http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		e.t.Fatal(err)
	}
	hello := map[string]any{"type": "hello", "pageUrl": "http://customer.example/pricing"}
	for k, v := range fields {
		hello[k] = v
	}
	w.send(hello)
	return w, w.next("ready")
}

func (e *env) editWidget(fn func(w *parley.Widget)) {
	e.t.Helper()
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error { fn(w); return nil }); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) contactOf(actorID string) *parley.Contact {
	e.t.Helper()
	_, id, err := parley.ParseActorID(actorID)
	if err != nil {
		e.t.Fatalf("actor %q: %v", actorID, err)
	}
	c, err := e.db.Contact(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) countThreads() int {
	e.t.Helper()
	ts, _, err := e.db.Threads(context.Background(), storeAll())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ts)
}

// expectError waits for an error event and checks its code and clientId.
func expectError(t *testing.T, w *wsClient, code, clientID string) map[string]any {
	t.Helper()
	ev := w.next("error", "identity", "message.ack", "consent.recorded", "contact.email")
	if ev["type"] != "error" || ev["code"] != code || (clientID != "" && ev["clientId"] != clientID) {
		t.Fatalf("got %v, want error %s for %q", ev, code, clientID)
	}
	return ev
}

func TestConsentExplicit(t *testing.T) {
	e := newEnv(t, nil)
	e.editWidget(func(w *parley.Widget) {
		w.Consent = parley.Consent{Process: parley.ConsentExplicit, ProcessText: privacyText}
	})
	version := parley.ConsentVersion(privacyText)

	v, ready := e.helloVisitor(nil)
	if ready["consentRequired"] != true {
		t.Fatalf("ready=%v, want consentRequired", ready)
	}
	// Refused before "I agree": nothing stored, not even a contact.
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hello"})
	if ev := expectError(t, v, parley.ECONSENT, "c1"); !strings.Contains(ev["message"].(string), "I agree") {
		t.Errorf("message=%v", ev["message"])
	}
	v.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": "ada@example.com"})
	expectError(t, v, parley.ECONSENT, "e1")
	if n := e.countThreads(); n != 0 {
		t.Fatalf("threads=%d after refused messages, want 0", n)
	}
	if _, err := e.db.ContactByEmail(context.Background(), "ada@example.com"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("the email was stored before consent: %v", err)
	}

	// Agreeing to a text the visitor was not shown is refused.
	v.send(map[string]any{"type": "consent.give", "clientId": "k0", "version": "0123456789abcdef"})
	expectError(t, v, parley.ECONFLICT, "k0")

	v.send(map[string]any{"type": "consent.give", "clientId": "k1", "version": version})
	ident := v.next("identity")
	rec := v.next("consent.recorded")
	if rec["kind"] != "process" || rec["version"] != version {
		t.Fatalf("consent.recorded=%v", rec)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Hello"})
	if ack := v.next("message.ack"); ack["clientId"] != "c2" {
		t.Fatalf("ack=%v", ack)
	}

	c := e.contactOf(ident["visitorId"].(string))
	if len(c.Consents) != 1 {
		t.Fatalf("consents=%+v, want one", c.Consents)
	}
	got := c.Consents[0]
	if got.Kind != "process" || got.Mode != "explicit" || got.Version != version || got.Text != privacyText ||
		got.WidgetID != e.widget.ID || got.PageURL != "http://customer.example/pricing" || time.Since(got.At) > time.Minute {
		t.Errorf("consent=%+v", got)
	}

	// The same visitor later: no box, and no second record.
	v2, ready2 := e.helloVisitor(map[string]any{"visitorToken": ident["visitorToken"]})
	if ready2["consentRequired"] != false {
		t.Fatalf("returning visitor ready=%v, want no consent required", ready2)
	}
	v2.send(map[string]any{"type": "consent.give", "clientId": "k2", "version": version})
	v2.next("consent.recorded")
	if c := e.contactOf(ident["visitorId"].(string)); len(c.Consents) != 1 {
		t.Errorf("consents=%d after agreeing again, want 1", len(c.Consents))
	}

	// A new text needs a new "I agree".
	e.editWidget(func(w *parley.Widget) { w.Consent.ProcessText = privacyText + " Updated." })
	v2.send(map[string]any{"type": "message.send", "clientId": "c3", "text": "Still there?"})
	expectError(t, v2, parley.ECONSENT, "c3")

	// The console lists it.
	agent := e.login("admin@example.com")
	res := agent.do("GET", "/api/v1/contacts/"+strings.TrimPrefix(ident["visitorId"].(string), "V-")+"/consents", nil, nil)
	var list struct {
		Results []map[string]any `json:"results"`
	}
	res.decode(t, &list)
	if res.status != 200 || len(list.Results) != 1 || list.Results[0]["version"] != version ||
		list.Results[0]["widgetName"] != e.widget.Name || list.Results[0]["pageUrl"] != "http://customer.example/pricing" {
		t.Fatalf("consents API: %d %s", res.status, res.body)
	}
	// Not for a user outside the contact's inboxes.
	e.addAgent("outsider@example.com", false)
	if res := e.login("outsider@example.com").do("GET", "/api/v1/contacts/"+strings.TrimPrefix(ident["visitorId"].(string), "V-")+"/consents", nil, nil); res.status != 404 {
		t.Errorf("outsider: status=%d, want 404", res.status)
	}
}

func TestConsentImplied(t *testing.T) {
	e := newEnv(t, nil)
	e.editWidget(func(w *parley.Widget) {
		w.Consent = parley.Consent{Process: parley.ConsentLegitimate, ProcessText: privacyText,
			Communicate: true, SubscriptionType: "Customer service", CommunicateText: "We may write to you about your request."}
	})
	v, ready := e.helloVisitor(nil)
	if ready["consentRequired"] != false {
		t.Fatalf("ready=%v: legitimate interest needs no click", ready)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hi"})
	ident := v.next("identity")
	v.next("message.ack")
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Again"})
	v.next("message.ack")
	c := e.contactOf(ident["visitorId"].(string))
	if len(c.Consents) != 2 {
		t.Fatalf("consents=%+v, want process and communicate once each", c.Consents)
	}
	p, m := c.Consents[0], c.Consents[1]
	if p.Kind != "process" || p.Mode != "legitimate" || p.Version != parley.ConsentVersion(privacyText) {
		t.Errorf("process=%+v", p)
	}
	if m.Kind != "communicate" || m.SubscriptionType != "Customer service" || m.Text != "We may write to you about your request." || m.PageURL == "" {
		t.Errorf("communicate=%+v", m)
	}
}

func TestEmailCapture(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	existing := &parley.Contact{Email: "grace@example.com", FirstName: "Grace"}
	if err := e.db.CreateContact(ctx, existing); err != nil {
		t.Fatal(err)
	}

	v, _ := e.helloVisitor(nil)
	for _, tt := range []struct{ name, email string }{
		{"empty", ""},
		{"no at", "ada.example.com"},
		{"no dotted domain", "ada@localhost"},
		{"display name", "Ada <ada@example.com>"},
		{"space", "ada lovelace@example.com"},
		{"too long", strings.Repeat("a", 300) + "@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": tt.email})
			expectError(t, v, parley.EINVALID, "e1")
		})
	}
	if n := e.countThreads(); n != 0 {
		t.Fatalf("threads=%d", n)
	}

	// Before the first message (capture "before"): the contact gets the email.
	v.send(map[string]any{"type": "contact.email", "clientId": "e2", "email": "  ada@example.com "})
	ident := v.next("identity")
	if ev := v.next("contact.email"); ev["email"] != "ada@example.com" || ev["visitorId"] != ident["visitorId"] {
		t.Fatalf("contact.email=%v", ev)
	}
	if c := e.contactOf(ident["visitorId"].(string)); c.Email != "" || c.UnverifiedEmail != "ada@example.com" {
		t.Fatalf("contact email=%q unverified=%q, want only the unverified one", c.Email, c.UnverifiedEmail)
	}
	// Correcting a typo replaces the unverified address.
	v.send(map[string]any{"type": "contact.email", "clientId": "e2b", "email": "ada@example.org"})
	if ev := v.next("contact.email"); ev["email"] != "ada@example.org" {
		t.Fatalf("contact.email=%v", ev)
	}
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hi"})
	v.next("message.ack")
	_, ready := e.helloVisitor(map[string]any{"visitorToken": ident["visitorToken"]})
	if ready["known"] != true {
		t.Fatalf("ready=%v, want known", ready)
	}

	// After the first message, with an address another contact has: the
	// visitor does not become that contact, nor see its conversations.
	mallory, _ := e.helloVisitor(nil)
	mallory.send(map[string]any{"type": "message.send", "clientId": "m1", "text": "Hi, I am Grace"})
	mident := mallory.next("identity")
	mack := mallory.next("message.ack")
	mallory.send(map[string]any{"type": "contact.email", "clientId": "e4", "email": "GRACE@example.com"})
	mallory.next("contact.email")
	mc := e.contactOf(mident["visitorId"].(string))
	if mc.ID == existing.ID || mc.Email != "" || mc.UnverifiedEmail != "GRACE@example.com" {
		t.Fatalf("contact=%+v, want a separate contact with the address unverified", mc)
	}
	if g, _ := e.db.Contact(ctx, existing.ID); g.Email != "grace@example.com" {
		t.Fatalf("the existing contact changed: %+v", g)
	}
	_, mready := e.helloVisitor(map[string]any{"visitorToken": mident["visitorToken"]})
	if th := mready["thread"].(map[string]any); th["id"] != msgOf(mack)["threadId"] || mready["known"] != true {
		t.Fatalf("ready=%v, want its own thread and known", mready)
	}
}

// TestEmailRequiredBefore: with email capture "before", the server refuses
// a message from a visitor who has left no email, and stores nothing; once
// the email is given, the message goes through.
func TestEmailRequiredBefore(t *testing.T) {
	e := newEnv(t, nil)
	e.editWidget(func(w *parley.Widget) { w.Message.EmailCapture.When = parley.EmailCaptureBefore })
	v, _ := e.helloVisitor(nil)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hi"})
	if ev := expectError(t, v, parley.EINVALID, "c1"); !strings.Contains(ev["message"].(string), "email") {
		t.Fatalf("error=%v, want one about the email", ev)
	}
	if n := e.countThreads(); n != 0 {
		t.Fatalf("threads=%d after the refused message", n)
	}
	v.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": "ada@example.com"})
	v.next("identity")
	v.next("contact.email")
	v.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Hi"})
	if ack := v.next("message.ack"); msgOf(ack)["text"] != "Hi" {
		t.Fatalf("ack=%v", ack)
	}
}

// offsetClock is a clock tests can move.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func createIdentToken(t *testing.T, c *client, body any) (int, string) {
	t.Helper()
	res := c.do("POST", "/visitor-identification/v3/tokens/create", body, nil)
	var out struct {
		Token string `json:"token"`
		Code  string `json:"code"`
	}
	_ = json.Unmarshal(res.body, &out)
	if res.status == 200 {
		return res.status, out.Token
	}
	return res.status, out.Code
}

func TestIdentification(t *testing.T) {
	clock := &offsetClock{}
	e := newEnv(t, &envOptions{app: app.Config{Now: clock.now}})
	// The site's back end: an admin's API token (a console session may not
	// make identification tokens: credentials_test.go).
	agent := e.login("admin@example.com").bearer()

	// The endpoint needs a user.
	anon := &client{e: e, hc: &http.Client{Timeout: 5 * time.Second}}
	if st, code := createIdentToken(t, anon, map[string]string{"email": "ada@example.com"}); st != 401 || code != parley.EUNAUTHORIZED {
		t.Fatalf("no auth: %d %s", st, code)
	}
	for _, tt := range []struct {
		name string
		body any
	}{
		{"bad email", map[string]string{"email": "not-an-email"}},
		{"no email", map[string]string{"firstName": "Ada"}},
		{"name with newline", map[string]string{"email": "ada@example.com", "firstName": "Ada\nX"}},
		{"malformed", `{"email":`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if st, code := createIdentToken(t, agent, tt.body); st != 400 || code != parley.EINVALID {
				t.Errorf("status=%d code=%s, want 400 invalid", st, code)
			}
		})
	}
	st, token := createIdentToken(t, agent, map[string]string{"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"})
	if st != 200 || !strings.HasPrefix(token, "pit_") {
		t.Fatalf("create: %d %q", st, token)
	}
	c, err := e.db.ContactByEmail(context.Background(), "ADA@example.com")
	if err != nil || c.FirstName != "Ada" || c.LastName != "Lovelace" {
		t.Fatalf("contact=%+v err=%v", c, err)
	}
	// Another admin token works too, and the same email gets the same contact.
	pat := agent.do("POST", "/api/v1/tokens", map[string]string{"name": "site"}, nil)
	var patOut struct{ Token string }
	pat.decode(t, &patOut)
	script := &client{e: e, hc: &http.Client{Timeout: 5 * time.Second}, token: patOut.Token}
	if st, tok := createIdentToken(t, script, map[string]string{"email": "Ada@Example.com"}); st != 200 || tok == "" {
		t.Fatalf("bearer: %d %q", st, tok)
	}
	if c2, _ := e.db.ContactByEmail(context.Background(), "ada@example.com"); c2.ID != c.ID || c2.FirstName != "Ada" {
		t.Fatalf("second token made or renamed a contact: %+v", c2)
	}

	// Device one: identified, writes.
	d1, r1 := e.helloVisitor(map[string]any{"identificationEmail": "ada@example.com", "identificationToken": token})
	if r1["identified"] != true || r1["known"] != true || r1["visitorId"] != c.ActorID() || r1["thread"] != nil {
		t.Fatalf("ready=%v", r1)
	}
	d1.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Hello from my laptop"})
	ack := d1.next("identity", "message.ack")
	if ack["type"] != "message.ack" || msgOf(ack)["senderActorId"] != c.ActorID() {
		t.Fatalf("got %v, want an ack as the identified contact (no new identity)", ack)
	}
	threadID := msgOf(ack)["threadId"]

	// Device two: the same conversation, with its history.
	d2, r2 := e.helloVisitor(map[string]any{"identificationEmail": "ada@example.com", "identificationToken": token})
	if th, _ := r2["thread"].(map[string]any); th == nil || th["id"] != threadID || r2["identified"] != true {
		t.Fatalf("second device ready=%v, want thread %v", r2, threadID)
	}
	if m := msgOf(d2.next("message.created")); m["text"] != "Hello from my laptop" {
		t.Fatalf("replay=%v", m)
	}

	// A token is worth nothing with another email, forged, or expired.
	other := &parley.Contact{Email: "eve@example.com"}
	if err := e.db.CreateContact(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	forged := token[:len(token)-4] + "AAAA"
	if forged == token {
		forged = token[:len(token)-4] + "BBBB"
	}
	for _, tt := range []struct{ name, email, token string }{
		{"another contact's email", "eve@example.com", token},
		{"forged signature", "ada@example.com", forged},
		{"garbage", "ada@example.com", "pit_xyz"},
		{"no token", "ada@example.com", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, r := e.helloVisitor(map[string]any{"identificationEmail": tt.email, "identificationToken": tt.token})
			if r["identified"] != false || r["visitorId"] != "" || r["thread"] != nil {
				t.Fatalf("ready=%v, want an anonymous visitor", r)
			}
			v.send(map[string]any{"type": "message.send", "clientId": "x1", "text": "Who am I?"})
			id := v.next("identity")
			if got := e.contactOf(id["visitorId"].(string)); got.Email != "" || got.ID == c.ID || got.ID == other.ID {
				t.Fatalf("anonymous contact=%+v: the claimed email must not show", got)
			}
		})
	}
	clock.advance(app.IdentificationTokenTTL + time.Minute)
	if _, r := e.helloVisitor(map[string]any{"identificationEmail": "ada@example.com", "identificationToken": token}); r["identified"] != false || r["visitorId"] != "" {
		t.Fatalf("expired token: ready=%v, want anonymous", r)
	}
}

func TestBootVisitor(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	bob := e.addAgent("bob@example.com", true)
	cleo := e.addAgent("cleo@example.com", true)
	team := &parley.Team{Name: "Billing team", MemberIDs: []uint64{bob.ID}}
	if err := e.db.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	owned := &parley.Contact{Email: "owned@example.com", OwnerID: cleo.ID}
	if err := e.db.CreateContact(ctx, owned); err != nil {
		t.Fatal(err)
	}
	agent := e.login("admin@example.com").bearer()
	_, ownedToken := createIdentToken(t, agent, map[string]string{"email": "owned@example.com"})

	boot := func(query string) map[string]any {
		t.Helper()
		res := (&client{e: e, hc: &http.Client{Timeout: 5 * time.Second}}).do("GET", "/widget/v1/boot?url=https%3A%2F%2Fcustomer.example%2F"+query, nil, nil)
		if res.status != 200 {
			t.Fatalf("boot: %d %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), "@example.com") {
			t.Fatalf("boot exposes an email: %s", res.body)
		}
		var b struct {
			Widget map[string]any `json:"widget"`
		}
		res.decode(t, &b)
		return b.Widget
	}
	heading := func(w map[string]any) string { return w["heading"].(map[string]any)["name"].(string) }

	tests := []struct {
		name    string
		heading parley.Heading
		query   string
		want    []string
	}{
		{"default heading, never the widget's name", parley.Heading{}, "", []string{"Chat with us"}},
		{"one user", parley.Heading{Mode: parley.HeadingUser, UserIDs: []uint64{bob.ID}}, "", []string{"bob"}},
		{"several users", parley.Heading{Mode: parley.HeadingUsers, UserIDs: []uint64{bob.ID, cleo.ID}}, "", []string{"bob", "cleo"}},
		{"team", parley.Heading{Mode: parley.HeadingTeam, TeamID: team.ID}, "", []string{"Billing team"}},
		{"owner fallback for anonymous", parley.Heading{Mode: parley.HeadingOwner, FallbackUserID: bob.ID}, "", []string{"bob"}},
		{"owner of identified contact", parley.Heading{Mode: parley.HeadingOwner, FallbackUserID: bob.ID},
			"&ie=owned%40example.com&it=" + ownedToken, []string{"cleo"}},
		{"custom", parley.Heading{Mode: parley.HeadingCustom, Name: "Acme help", AvatarURL: "https://customer.example/a.png"}, "", []string{"Acme help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.editWidget(func(w *parley.Widget) { w.Message.Heading = tt.heading })
			seen := map[string]bool{}
			for range 40 {
				got := heading(boot(tt.query))
				if !strings.Contains(strings.Join(tt.want, "|"), got) {
					t.Fatalf("heading=%q, want one of %v", got, tt.want)
				}
				seen[got] = true
				if len(seen) == len(tt.want) {
					break
				}
			}
			if len(seen) != len(tt.want) {
				t.Errorf("headings seen %v, want each of %v", seen, tt.want)
			}
		})
	}

	// Known: an identified visitor, a visitor whose token's contact has an
	// email; not an anonymous one or a wrong token.
	if w := boot(""); w["known"] == true {
		t.Errorf("anonymous boot known=%v", w["known"])
	}
	if w := boot("&ie=owned%40example.com&it=" + ownedToken); w["known"] != true {
		t.Errorf("identified boot known=%v", w["known"])
	}
	if w := boot("&ie=owned%40example.com&it=pit_forged.x"); w["known"] == true {
		t.Errorf("forged boot known=%v", w["known"])
	}
	v, _ := e.helloVisitor(nil)
	v.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": "new@example.com"})
	vt := v.next("identity")["visitorToken"].(string)
	v.next("contact.email")
	if w := boot("&vt=" + vt); w["known"] != true {
		t.Errorf("visitor token boot known=%v", w["known"])
	}
}
