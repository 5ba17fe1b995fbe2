package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/mailpit"
)

// TestUserLanguage: an agent's console tells the server its language, which
// must be one Parley has a catalog for; a refused change writes nothing.
func TestUserLanguage(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	var me map[string]any
	admin.do("GET", "/api/v1/users/me", nil, nil).decode(t, &me)
	if me["language"] != "" {
		t.Fatalf("a new user's language is %v, want \"\"", me["language"])
	}
	res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"language": "de"}, nil)
	if res.status != 200 {
		t.Fatalf("set de: %d %s", res.status, res.body)
	}
	if res.decode(t, &me); me["language"] != "de" {
		t.Fatalf("set de: language %v", me["language"])
	}
	for _, bad := range []any{"fr", "DE", "de-DE", "", 7} {
		res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"language": bad, "name": "Someone Else"}, nil)
		if res.status != 400 || !strings.Contains(string(res.body), "language") {
			t.Errorf("language %v: %d %s, want 400 naming language", bad, res.status, res.body)
		}
	}
	if u, _ := e.db.User(context.Background(), e.admin.ID); u.Language != "de" || u.Name == "Someone Else" {
		t.Errorf("after refused changes: language %q, name %q", u.Language, u.Name)
	}
}

// TestMailInTheReadersLanguage: notification mails are written in the
// language of the agent's console, transcripts in the visitor's, and a
// contact known by neither name nor email is "Visitor #id" in that
// language. The API keeps speaking English.
func TestMailInTheReadersLanguage(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error { w.Options.Transcripts = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"language": "de"}, nil); res.status != 200 {
		t.Fatalf("set de: %d %s", res.status, res.body)
	}

	// A visitor whose browser speaks German starts a chat.
	v, err := dialWS(t, e.visitorURL(), http.Header{"Origin": {"http://customer.example"}})
	if err != nil {
		t.Fatal(err)
	}
	v.send(map[string]any{"type": "hello", "lang": "de-AT", "pageUrl": "http://customer.example/preise"})
	v.next("ready")
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Liefern Sie nach Norwegen?"})
	var id uint64
	fmt.Sscan(msgOf(v.next("message.ack"))["threadId"].(string), &id)
	th, err := e.db.Thread(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if th.Language != "de" {
		t.Errorf("the chat's language is %q, want de", th.Language)
	}
	visitor := fmt.Sprintf("Besucher #%d", th.ContactID)

	n := mp.Wait(t, 5*time.Second, "the notification", func(m *mailpit.Message) bool { return m.To[0].Address == "admin@example.com" })
	if want := "Neue Chat-Konversation von " + visitor; n.Subject != want {
		t.Errorf("notification subject %q, want %q", n.Subject, want)
	}
	text := strings.ReplaceAll(n.Text, "\r\n", "\n")
	for _, want := range []string{"Hallo Ada Admin,", visitor + " hat im Postfach Support eine neue Chat-Konversation begonnen.", "> Liefern Sie nach Norwegen?", "Zur Konversation: "} {
		if !strings.Contains(text, want) {
			t.Errorf("notification lacks %q:\n%s", want, text)
		}
	}

	// The API names the contact in English, whatever the reader's language.
	var got map[string]any
	admin.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d", id), nil, nil).decode(t, &got)
	if want := fmt.Sprintf("Visitor #%d", th.ContactID); got["contactName"] != want {
		t.Errorf("contactName %v, want %q", got["contactName"], want)
	}

	// An agent sets the visitor's email: transcripts go to a verified
	// address only, and the visitor's lines are named by it.
	if _, err := e.db.UpdateContact(ctx, th.ContactID, func(c *parley.Contact) error { c.Email = "gast@kunde.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", id), map[string]any{"type": "MESSAGE", "text": "Ja, in 3 Tagen."}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	if res := admin.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", id), map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	tr := mp.Wait(t, 5*time.Second, "the transcript", func(m *mailpit.Message) bool { return m.To[0].Address == "gast@kunde.example" })
	if tr.Subject != "Verlauf Ihres Chats mit Support" {
		t.Errorf("transcript subject %q", tr.Subject)
	}
	text = strings.ReplaceAll(tr.Text, "\r\n", "\n")
	for _, want := range []string{"Begonnen auf: http://customer.example/preise", "gast@kunde.example:\nLiefern Sie nach Norwegen?", "Ada Admin:\nJa, in 3 Tagen."} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(tr.HTML, "Begonnen auf <a") || strings.Contains(tr.HTML, "Started on") {
		t.Errorf("the transcript's HTML is not in German:\n%s", tr.HTML)
	}
}

// TestPagesInTheBrowsersLanguage: the setup and invitation pages follow the
// browser's Accept-Language, English for any language Parley lacks.
func TestPagesInTheBrowsersLanguage(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ path, accept, want, not string }{
		{"/setup", "de-DE,de;q=0.9,en;q=0.8", "<title>Parley einrichten</title>", "Set up"},
		{"/setup", "de-DE,de;q=0.9,en;q=0.8", "<h1>Dieser Einrichtungslink funktioniert nicht mehr</h1>", "setup link"},
		{"/setup", "fr-FR,en;q=0.5", "<title>Set up Parley</title>", "einrichten"},
		{"/setup", "", "<h1>This setup link no longer works</h1>", "Einrichtungslink"},
		{"/invite?token=nothing", "de", "Diese Einladung ist nicht gültig", "This invitation"},
		{"/invite?token=nothing", "en-GB,de;q=0.1", "This invitation is not valid", "Einladung"},
	} {
		req, _ := http.NewRequest("GET", e.base+tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body := string(b); !strings.Contains(body, tc.want) || strings.Contains(body, tc.not) {
			t.Errorf("%s with %q: want %q and no %q:\n%s", tc.path, tc.accept, tc.want, tc.not, body)
		}
		if res.Header.Get("Vary") != "Accept-Language" {
			t.Errorf("%s: Vary %q", tc.path, res.Header.Get("Vary"))
		}
	}
}
