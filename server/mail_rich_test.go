package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/mailpit"
)

// TestMailRichReply: an email reply written as rich text goes out as
// multipart/alternative, with a faithful text part, the agent's and the
// inbox's signatures (cleaned as they are saved) and the customer's mail
// quoted as mail clients quote; the thread keeps what the agent wrote.
func TestMailRichReply(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"signature": `<p><b>Ada</b> · Support</p><script>alert(1)</script><img src="x" onerror="alert(2)">`}, nil)
	var me struct{ Signature string }
	res.decode(t, &me)
	if res.status != 200 || strings.Contains(me.Signature, "script") || strings.Contains(me.Signature, "onerror") || !strings.Contains(me.Signature, "<b>Ada</b>") {
		t.Fatalf("signature: %d %q", res.status, me.Signature)
	}
	if r := admin.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"signature": "<p>ACME GmbH, Berlin</p>"}, nil); r.status != 200 {
		t.Fatalf("inbox signature: %d %s", r.status, r.body)
	}
	deliver(t, e, rawMail("Ann <ann@customer.example>", "Order 17", "o17@customer.example", "", "Where is order 17?\nThanks"))
	th := threadOf(t, e, "ann@customer.example")

	res = admin.do("POST", "/conversations/v3/conversations/threads/"+idStr(th.ID)+"/messages", map[string]any{
		"type": "MESSAGE", "richText": `<p>Hi <b>Ann</b>,</p><ul><li>shipped today</li></ul><p><a href="https://track.example/17">track it</a></p><script>x()</script>`,
	}, nil)
	if res.status != 201 {
		t.Fatalf("rich reply: %d %s", res.status, res.body)
	}
	var m struct{ Text, RichText string }
	res.decode(t, &m)
	if !strings.Contains(m.Text, "Hi Ann,") || !strings.Contains(m.Text, "- shipped today") || !strings.Contains(m.Text, "track it <https://track.example/17>") ||
		strings.Contains(m.RichText, "script") || !strings.Contains(m.RichText, "<b>Ann</b>") || strings.Contains(m.Text, "ACME") {
		t.Errorf("stored: text=%q richText=%q", m.Text, m.RichText)
	}
	got := mp.Wait(t, 10*time.Second, "the rich reply", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "shipped today") })
	for _, want := range []string{"<b>Ann</b>", "<li>shipped today</li>", "<b>Ada</b>", "ACME GmbH, Berlin", "<blockquote", "Where is order 17?"} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML part lacks %q: %s", want, got.HTML)
		}
	}
	for _, want := range []string{"Hi Ann,", "\n-- \n", "Ada · Support", "ACME GmbH, Berlin", "Ann wrote:", "> Where is order 17?\n> Thanks"} {
		if !strings.Contains(strings.ReplaceAll(got.Text, "\r\n", "\n"), want) {
			t.Errorf("text part lacks %q: %q", want, got.Text)
		}
	}
	if strings.Contains(got.HTML, "script") || strings.Contains(got.HTML, "onerror") {
		t.Errorf("HTML part: %s", got.HTML)
	}

	// A chat reply stays plain text.
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "hi"})
	chat := msgOf(v.next("message.ack"))["threadId"].(string)
	if r := admin.do("POST", "/conversations/v3/conversations/threads/"+chat+"/messages", map[string]any{"type": "MESSAGE", "text": "x", "richText": "<b>x</b>"}, nil); r.status != 400 {
		t.Errorf("richText on a chat: status=%d, want 400", r.status)
	}
	if r := admin.do("PATCH", "/api/v1/users/me", map[string]any{"signature": strings.Repeat("<b>x</b>", 5000)}, nil); r.status != 413 {
		t.Errorf("a signature over the limit: status=%d, want 413", r.status)
	}
}
