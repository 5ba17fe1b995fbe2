package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestTemplates(t *testing.T) {
	f := newFileEnv(t)
	admin := f.login("admin@example.com")
	ctx := context.Background()
	if _, err := f.db.UpdateContact(ctx, f.thread.ContactID, func(c *parley.Contact) error {
		c.FirstName, c.LastName = "Vera <b>", "Lux"
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	res := admin.do("POST", "/api/v1/templates", map[string]any{
		"name":    "Refund",
		"subject": "Your refund, {{contact.firstName}}",
		"body":    `<p>Hello {{ contact.firstName }},</p><p>your refund is on its way.</p><script>alert(1)</script><p>{{agent.firstName}} of {{inbox.name}}</p>`,
	}, nil)
	if res.status != 201 {
		t.Fatalf("create: status=%d body=%s", res.status, res.body)
	}
	var tpl struct {
		ID, Name, Subject, Body, CreatedBy string
	}
	res.decode(t, &tpl)
	if strings.Contains(tpl.Body, "script") || !strings.Contains(tpl.Body, "{{ contact.firstName }}") || tpl.CreatedBy == "" {
		t.Errorf("stored template=%+v: want the script gone and the placeholders kept", tpl)
	}

	// Agents use templates; only admins write them.
	if r := f.member.do("GET", "/api/v1/templates", nil, nil); r.status != 200 || !strings.Contains(string(r.body), `"name":"Refund"`) {
		t.Errorf("agent list: status=%d body=%s", r.status, r.body)
	}
	for _, tt := range []struct{ method, path string }{
		{"POST", "/api/v1/templates"}, {"PATCH", "/api/v1/templates/" + tpl.ID}, {"DELETE", "/api/v1/templates/" + tpl.ID},
	} {
		if r := f.member.do(tt.method, tt.path, map[string]any{"name": "x", "body": "<p>x</p>"}, nil); r.status != 403 {
			t.Errorf("agent %s %s: status=%d, want 403", tt.method, tt.path, r.status)
		}
	}

	// Rendered for a thread: values filled in, escaped in the body.
	res = f.member.do("POST", "/api/v1/templates/"+tpl.ID+"/render", map[string]any{"threadId": idStr(f.thread.ID)}, nil)
	var out struct{ Subject, Body string }
	res.decode(t, &out)
	if res.status != 200 || out.Subject != "Your refund, Vera <b>" || !strings.Contains(out.Body, "Hello Vera &lt;b&gt;,") ||
		!strings.Contains(out.Body, "member of Support") {
		t.Errorf("render: status=%d %+v", res.status, out)
	}
	// Not for a thread the agent cannot see.
	if r := f.outside.do("POST", "/api/v1/templates/"+tpl.ID+"/render", map[string]any{"threadId": idStr(f.thread.ID)}, nil); r.status != 404 {
		t.Errorf("render by an agent of another inbox: status=%d, want 404", r.status)
	}

	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		msg    string
	}{
		{"unknown placeholder", map[string]any{"name": "x", "body": "<p>{{contact.password}}</p>"}, 400, "unknown placeholder {{contact.password}}"},
		{"unknown placeholder in the subject", map[string]any{"name": "x", "subject": "{{ticket.id}}", "body": "<p>x</p>"}, 400, "subject: unknown placeholder"},
		{"no name", map[string]any{"body": "<p>x</p>"}, 400, "name is required"},
		{"only a script", map[string]any{"name": "x", "body": "<script>alert(1)</script>"}, 400, "body is empty"},
		{"too large", map[string]any{"name": "x", "body": strings.Repeat("a", parley.MaxTemplateBytes+1)}, 413, "limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("POST", "/api/v1/templates", tt.body, nil)
			var e struct{ Message string }
			res.decode(t, &e)
			if res.status != tt.status || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("status=%d message=%q, want %d with %q", res.status, e.Message, tt.status, tt.msg)
			}
		})
	}

	if r := admin.do("DELETE", "/api/v1/templates/"+tpl.ID, nil, nil); r.status != 204 {
		t.Errorf("delete: status=%d", r.status)
	}
	if r := f.member.do("GET", "/api/v1/templates/"+tpl.ID, nil, nil); r.status != 404 {
		t.Errorf("get after delete: status=%d, want 404", r.status)
	}
}
