package server_test

import (
	"regexp"
	"testing"
)

// TestWireTimes: the sockets write a message's createdAt as the REST API
// does (docs/websocket.md): RFC 3339 in UTC with exactly three digits of
// milliseconds, not Go's nanoseconds.
func TestWireTimes(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	aws, _ := admin.agentWS()
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "t1", "text": "what time is it?"})
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	check := func(who string, ev map[string]any) {
		t.Helper()
		m, _ := ev["message"].(map[string]any)
		if at, _ := m["createdAt"].(string); !ms.MatchString(at) {
			t.Errorf("%s: createdAt %q, want RFC 3339 with milliseconds", who, m["createdAt"])
		}
	}
	check("the visitor's ack", v.next("message.ack"))
	check("the agent's message.created", aws.next("message.created"))
}
