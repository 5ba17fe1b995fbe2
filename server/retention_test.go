package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store"
)

// TestRetention: by the app's clock, an inbox that keeps conversations 30
// days deletes for good, on its own, those closed or in the trash whose
// latest message is older; open ones and recent closed ones stay. The
// settings' dry run counts the same before anything is deleted; only
// admins run it; bad values are refused.
func TestRetention(t *testing.T) {
	clk := newTestClock(time.Now().UTC())
	e := newEnv(t, &envOptions{storeOpts: &store.Options{NoSync: true, Now: clk.Now},
		app: app.Config{Now: clk.Now, Timer: clk.Timer}})
	admin := e.login("admin@example.com").bearer()
	const v3 = "/conversations/v3/conversations/threads/"
	chat := func(text string) string {
		v, _ := e.visitor("", 0)
		v.send(map[string]any{"type": "message.send", "clientId": "c", "text": text})
		return msgOf(v.next("message.ack"))["threadId"].(string)
	}
	closed, trashed, open := chat("old and closed"), chat("old and trashed"), chat("old but open")
	admin.want(200, "PATCH", v3+closed, map[string]any{"status": "CLOSED"})
	admin.want(204, "DELETE", v3+trashed, nil)
	clk.Set(clk.Now().Add(31 * 24 * time.Hour))
	recent := chat("recent and closed")
	admin.want(200, "PATCH", v3+recent, map[string]any{"status": "CLOSED"})

	inbox := fmt.Sprintf("/api/v1/inboxes/%d", e.inbox.ID)
	var dry struct{ Days, Count int }
	admin.want(200, "GET", inbox+"/retention?days=30", nil).decode(t, &dry)
	if dry.Count != 2 {
		t.Errorf("dry run: %d conversations, want 2 (the closed and the trashed)", dry.Count)
	}
	agent := e.addAgent("agent@example.com", true)
	if res := e.login(agent.Email).do("GET", inbox+"/retention?days=30", nil, nil); res.status != 403 {
		t.Errorf("an agent's dry run: %d, want 403", res.status)
	}
	for _, bad := range []string{"?days=0", "?days=x", "", "?days=36501"} {
		if res := admin.do("GET", inbox+"/retention"+bad, nil, nil); res.status != 400 {
			t.Errorf("dry run %q: %d, want 400", bad, res.status)
		}
	}
	for _, bad := range []int{-1, 36501} {
		if res := admin.do("PATCH", inbox, map[string]any{"retentionDays": bad}, nil); res.status != 400 {
			t.Errorf("retentionDays %d: %d, want 400", bad, res.status)
		}
	}
	for _, id := range []string{closed, trashed, open, recent} {
		admin.want(200, "GET", v3+id, nil) // nothing deleted yet
	}

	var in struct{ RetentionDays int }
	admin.want(200, "PATCH", inbox, map[string]any{"retentionDays": 30}).decode(t, &in)
	if in.RetentionDays != 30 {
		t.Fatalf("retentionDays %d after PATCH", in.RetentionDays)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range []string{closed, trashed} {
		for admin.do("GET", v3+id, nil, nil).status != 404 {
			if time.Now().After(deadline) {
				t.Fatalf("thread %s is still there", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, id := range []string{open, recent} {
		admin.want(200, "GET", v3+id, nil)
	}
	// 30 more days: the recent one is old now, by the hourly sweep.
	clk.Set(clk.Now().Add(30*24*time.Hour + time.Hour))
	for admin.do("GET", v3+recent, nil, nil).status != 404 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("thread %s is still there after 61 days", recent)
		}
		time.Sleep(10 * time.Millisecond)
	}
	admin.want(200, "GET", v3+open, nil)

	// The audit log keeps its entries, older than any retention: the
	// sign-ins, the token, and the change of retention 61 days ago.
	p, _ := admin.audit("?action=inbox.update")
	if len(p.Results) != 1 || !hasField(p.Results[0].Changes, "retentionDays") {
		t.Errorf("audit log after retention: %+v, want the change of retentionDays", p.Results)
	}
	if all, _ := admin.audit(""); len(all.Results) != 4 {
		t.Errorf("audit log after retention: %+v, want 4 entries", all.Results)
	}
}
