package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestKnowledgeLinks(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("bo@example.com", true)
	agent := e.login("bo@example.com")
	const path = "/api/v1/knowledge-links"

	for _, tt := range []struct {
		name   string
		body   any
		status int
		want   map[string]any
		errMsg string
	}{
		{"https", map[string]any{"title": " Reset your password ", "url": " https://help.example.com/reset?lang=en#steps "}, 201,
			map[string]any{"title": "Reset your password", "url": "https://help.example.com/reset?lang=en#steps", "createdBy": "A-1"}, ""},
		{"http with a port", map[string]any{"title": "Shipping times", "url": "http://docs.example.com:8080/shipping"}, 201,
			map[string]any{"url": "http://docs.example.com:8080/shipping"}, ""},
		{"percent-encoded", map[string]any{"title": "Größentabelle", "url": "https://help.example.com/gr%C3%B6%C3%9Fen"}, 201,
			map[string]any{"title": "Größentabelle"}, ""},
		{"markup in the title is text", map[string]any{"title": "<b>Returns</b>", "url": "https://help.example.com/returns"}, 201,
			map[string]any{"title": "<b>Returns</b>"}, ""},
		{"no title", map[string]any{"url": "https://help.example.com/"}, 400, nil, "title is required"},
		{"title with a newline", map[string]any{"title": "a\nb", "url": "https://help.example.com/"}, 400, nil, "title contains control character"},
		{"long title", map[string]any{"title": strings.Repeat("t", 257), "url": "https://help.example.com/"}, 400, nil, "title is longer than 256"},
		{"no url", map[string]any{"title": "x"}, 400, nil, "url is required"},
		{"javascript", map[string]any{"title": "x", "url": "javascript:alert(1)"}, 400, nil, "must start with http:// or https://"},
		{"data", map[string]any{"title": "x", "url": "data:text/html,hi"}, 400, nil, "must start with http:// or https://"},
		{"ftp", map[string]any{"title": "x", "url": "ftp://files.example.com/a"}, 400, nil, "must start with http:// or https://"},
		{"relative", map[string]any{"title": "x", "url": "/help/reset"}, 400, nil, "must start with http:// or https://"},
		{"no host", map[string]any{"title": "x", "url": "https:///reset"}, 400, nil, "must name a host"},
		{"opaque", map[string]any{"title": "x", "url": "https:help.example.com"}, 400, nil, "must name a host"},
		{"credentials", map[string]any{"title": "x", "url": "https://user:pw@help.example.com/"}, 400, nil, "user name or password"},
		{"space inside", map[string]any{"title": "x", "url": "https://help.example.com/a b"}, 400, nil, "may not contain spaces"},
		{"non-ASCII", map[string]any{"title": "x", "url": "https://help.example.com/größe"}, 400, nil, "percent-encode"},
		{"too long", map[string]any{"title": "x", "url": "https://help.example.com/" + strings.Repeat("a", 2048)}, 400, nil, "url is longer than 2048"},
		{"wrong type", map[string]any{"title": 7, "url": "https://help.example.com/"}, 400, nil, `field "title" must be string`},
		{"not json", "{", 400, nil, "malformed JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := admin.do("POST", path, tt.body, nil)
			if tt.status != 201 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			got := crmJSON(t, res, 201)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%v, want %v", k, got[k], v)
				}
			}
		})
	}

	// Everyone reads the library, by title; only admins change it.
	list := listOf(crmJSON(t, agent.do("GET", path, nil, nil), 200), "results")
	var titles []string
	for _, l := range list {
		titles = append(titles, l.(map[string]any)["title"].(string))
	}
	if want := []string{"<b>Returns</b>", "Größentabelle", "Reset your password", "Shipping times"}; strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("titles=%q, want %q", titles, want)
	}
	found := listOf(crmJSON(t, agent.do("GET", path+"?q=PASS", nil, nil), 200), "results")
	if len(found) != 1 || found[0].(map[string]any)["title"] != "Reset your password" {
		t.Errorf("q=PASS found %v", found)
	}
	id := found[0].(map[string]any)["id"].(string)
	crmError(t, agent.do("POST", path, map[string]any{"title": "x", "url": "https://help.example.com/"}, nil), 403, "only admins")
	crmError(t, agent.do("PATCH", path+"/"+id, map[string]any{"title": "x"}, nil), 403, "only admins")
	crmError(t, agent.do("DELETE", path+"/"+id, nil, nil), 403, "only admins")
	if got := crmJSON(t, agent.do("GET", path+"/"+id, nil, nil), 200); got["url"] != "https://help.example.com/reset?lang=en#steps" {
		t.Errorf("GET by id=%v", got)
	}

	// Changing and deleting.
	got := crmJSON(t, admin.do("PATCH", path+"/"+id, map[string]any{"title": "Password reset"}, nil), 200)
	if got["title"] != "Password reset" || got["url"] != "https://help.example.com/reset?lang=en#steps" {
		t.Errorf("patched=%v", got)
	}
	crmError(t, admin.do("PATCH", path+"/"+id, map[string]any{"url": "mailto:help@example.com"}, nil), 400, "http:// or https://")
	crmError(t, admin.do("PATCH", path+"/"+id, map[string]any{}, nil), 400, "nothing to change")
	if got := crmJSON(t, admin.do("GET", path+"/"+id, nil, nil), 200); got["title"] != "Password reset" || got["url"] != "https://help.example.com/reset?lang=en#steps" {
		t.Errorf("a refused change wrote %v", got)
	}
	if res := admin.do("DELETE", path+"/"+id, nil, nil); res.status != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", res.status, res.body)
	}
	for _, p := range []string{path + "/" + id, path + "/999", path + "/x"} {
		crmError(t, admin.do("GET", p, nil, nil), 404, "")
		crmError(t, admin.do("PATCH", p, map[string]any{"title": "x"}, nil), 404, "")
		crmError(t, admin.do("DELETE", p, nil, nil), 404, "")
	}
	if n := len(listOf(crmJSON(t, agent.do("GET", path, nil, nil), 200), "results")); n != 3 {
		t.Errorf("%d links after the delete, want 3", n)
	}
	crmError(t, agent.do("GET", path+"?q="+strings.Repeat("q", 300), nil, nil), 400, "q is longer")

	// Signed out: nothing.
	anon := &client{e: e, hc: http.DefaultClient}
	if res := anon.do("GET", path, nil, nil); res.status != http.StatusUnauthorized {
		t.Errorf("signed out: %d", res.status)
	}
}

func TestMeetingLink(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("bo@example.com", true)
	agent := e.login("bo@example.com")
	const path = "/api/v1/users/me/meeting-link"

	if got := crmJSON(t, agent.do("GET", path, nil, nil), 200); got["url"] != "" {
		t.Errorf("no link yet: %v", got)
	}
	for _, tt := range []struct {
		name   string
		body   any
		status int
		want   string
		errMsg string
	}{
		{"set", map[string]any{"url": " https://meet.example.com/bo/30min "}, 200, "https://meet.example.com/bo/30min", ""},
		{"not http", map[string]any{"url": "javascript:alert(1)"}, 400, "", "must start with http:// or https://"},
		{"no host", map[string]any{"url": "https://"}, 400, "", "must name a host"},
		{"missing", map[string]any{}, 400, "", "url is required"},
		{"wrong type", map[string]any{"url": true}, 400, "", `field "url" must be string`},
		{"change", map[string]any{"url": "https://cal.example.com/bo"}, 200, "https://cal.example.com/bo", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := agent.do("PUT", path, tt.body, nil)
			if tt.status != 200 {
				crmError(t, res, tt.status, tt.errMsg)
				return
			}
			if got := crmJSON(t, res, 200); got["url"] != tt.want {
				t.Errorf("url=%v, want %q", got["url"], tt.want)
			}
		})
	}
	// Stored, the last good one; each user has their own.
	if got := crmJSON(t, agent.do("GET", path, nil, nil), 200); got["url"] != "https://cal.example.com/bo" {
		t.Errorf("stored=%v", got)
	}
	if got := crmJSON(t, admin.do("GET", path, nil, nil), 200); got["url"] != "" {
		t.Errorf("admin's link=%v, want none", got)
	}
	// "" removes it.
	crmJSON(t, agent.do("PUT", path, map[string]any{"url": ""}, nil), 200)
	if got := crmJSON(t, agent.do("GET", path, nil, nil), 200); got["url"] != "" {
		t.Errorf("after removing: %v", got)
	}
}
