package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// TestNamesRefuseLineBreaks: every path that writes a display name or a
// similar one-line field refuses CR, LF and other characters that would
// break a mail header or change how the text around it reads, with 400
// naming the field, and writes nothing.
func TestNamesRefuseLineBreaks(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	bo := e.addAgent("bo@example.com", true)
	_, threadID := e.startChat("hello")
	tid, _ := strconv.ParseUint(threadID, 10, 64)
	th, err := e.db.Thread(t.Context(), tid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.UpdateContact(t.Context(), th.ContactID, func(c *parley.Contact) error { c.FirstName = "Ada"; return nil }); err != nil {
		t.Fatal(err)
	}
	ct := &parley.Contact{ID: th.ContactID}
	boID := strconv.FormatUint(bo.ID, 10)
	ctID := strconv.FormatUint(ct.ID, 10)
	for _, bad := range []string{
		"Eve\r\nBcc: victim@example.com",
		"Eve\nX",
		"Eve\x00",
		"Ev\u0085e",        // C1 next line
		"Eve\u2028Bcc",     // line separator
		"\u202eevE",        // right-to-left override
		"Eve\u2066x\u2069", // isolate
	} {
		for _, tc := range []struct {
			name, method, path string
			body               map[string]any
		}{
			{"own name", "PATCH", "/api/v1/users/me", map[string]any{"name": bad}},
			{"a user's name", "PATCH", "/api/v1/users/" + boID, map[string]any{"name": bad}},
			{"team name", "POST", "/api/v1/teams", map[string]any{"name": bad}},
			{"inbox name", "POST", "/api/v1/inboxes", map[string]any{"name": bad}},
			{"contact first name", "PATCH", "/api/v1/contacts/" + ctID, map[string]any{"firstName": bad}},
			{"snippet name", "POST", "/api/v1/snippets", map[string]any{"name": bad, "shortcut": "hi", "body": "Hello"}},
			{"api token name", "POST", "/api/v1/tokens", map[string]any{"name": bad}},
		} {
			t.Run(tc.name+"/"+strconv.Quote(bad), func(t *testing.T) {
				res := admin.do(tc.method, tc.path, tc.body, nil)
				var out struct{ Code, Message string }
				res.decode(t, &out)
				if res.status != 400 || out.Code != parley.EINVALID || !strings.Contains(strings.ToLower(out.Message), "name") {
					t.Fatalf("status=%d body=%s, want 400 invalid naming the field", res.status, res.body)
				}
			})
		}
	}
	// Nothing was written.
	if u, _ := e.db.User(t.Context(), bo.ID); strings.Contains(u.Name, "Eve") {
		t.Errorf("bo's name is %q", u.Name)
	}
	if c, _ := e.db.Contact(t.Context(), ct.ID); c.FirstName != "Ada" {
		t.Errorf("contact's first name is %q", c.FirstName)
	}
	me := admin.do("GET", "/api/v1/users/me", nil, nil)
	if strings.Contains(string(me.body), "Eve") {
		t.Errorf("users/me: %s", me.body)
	}
	// Names in other scripts, with inner spaces and right-to-left text
	// without controls, are fine.
	for _, good := range []string{"José Müller", "محمد علي", "李 小龍", "O'Brien-Smith"} {
		if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"name": good}, nil); res.status != 200 {
			t.Errorf("name %q: %d %s", good, res.status, res.body)
		}
	}
}
