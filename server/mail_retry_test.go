package server_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/internal/mailpit"
)

// switchMailer sends through the Mailer it holds now: a refusing one, then
// a working one.
type switchMailer struct{ cur atomic.Pointer[app.Mailer] }

func (m *switchMailer) set(to app.Mailer) { m.cur.Store(&to) }

func (m *switchMailer) Send(ctx context.Context, e *parley.Email) error {
	return (*m.cur.Load()).Send(ctx, e)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestMailRetry: a reply that failed for good can be queued again by a
// member of its inbox, and is sent once the SMTP server takes it; one
// that did not fail is 409, and another inbox's agent finds nothing.
func TestMailRetry(t *testing.T) {
	mp := mailpit.Start(t)
	sw := &switchMailer{}
	sw.set(newSender(t, closedAddr(t)))
	e, admin := mailEnvWith(t, sw)
	aws, _ := admin.agentWS()
	deliver(t, e, rawMail("Vera Muster <vera@customer.example>", "Invoice", "r1@customer.example", "", "Hello"))
	th := threadOf(t, e, "vera@customer.example")
	msgs := fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID)

	var m map[string]any
	admin.do("POST", msgs, map[string]any{"text": "Here it is"}, nil).decode(t, &m)
	id := m["id"].(string)
	st := waitStatus(t, admin, th.ID, id, "FAILED")
	if st["failureDetails"] == "" || st["failureDetails"] == nil {
		t.Errorf("a failed reply without its reason: %v", st)
	}

	var thread map[string]any
	admin.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID), nil, nil).decode(t, &thread)
	if thread["latestReplyFailed"] != true {
		t.Errorf("latestReplyFailed=%v, want true", thread["latestReplyFailed"])
	}

	// Another inbox's agent: not found; an unknown message: not found.
	bea := e.addAgent("bea@example.com", false)
	if err := e.db.CreateInbox(context.Background(), &parley.Inbox{Name: "Sales", MemberIDs: []uint64{bea.ID}}); err != nil {
		t.Fatal(err)
	}
	if res := e.login("bea@example.com").do("POST", msgs+"/"+id+"/retry", nil, nil); res.status != 404 {
		t.Errorf("retry by another inbox's agent: %d %s, want 404", res.status, res.body)
	}
	if res := admin.do("POST", msgs+"/999999/retry", nil, nil); res.status != 404 {
		t.Errorf("retry of an unknown message: %d %s, want 404", res.status, res.body)
	}
	// The customer's own message was never emailed by Parley.
	var list struct{ Results []map[string]any }
	admin.do("GET", msgs, nil, nil).decode(t, &list)
	if res := admin.do("POST", msgs+"/"+list.Results[0]["id"].(string)+"/retry", nil, nil); res.status != 404 {
		t.Errorf("retry of an incoming message: %d %s, want 404", res.status, res.body)
	}

	// The SMTP server is back: Retry queues it, it is sent.
	sw.set(newSender(t, mp.SMTPAddr))
	res := admin.do("POST", msgs+"/"+id+"/retry", nil, nil)
	if res.status != 200 {
		t.Fatalf("retry: %d %s, want 200", res.status, res.body)
	}
	res.decode(t, &m)
	if s := m["status"].(map[string]any)["statusType"]; s != "PENDING" && s != "SENT" {
		t.Errorf("status after retry %v, want PENDING (or SENT already)", s)
	}
	waitStatus(t, admin, th.ID, id, "SENT")
	mp.Wait(t, 5*time.Second, "the retried reply", func(x *mailpit.Message) bool { return strings.Contains(x.Text, "Here it is") })
	for seen := map[any]bool{}; !seen["PENDING"] || !seen["SENT"]; {
		ev := aws.next("message.delivery")
		if ev["messageId"] == id {
			seen[ev["status"]] = true
		}
	}

	thread = nil
	admin.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d", th.ID), nil, nil).decode(t, &thread)
	if thread["latestReplyFailed"] != nil {
		t.Errorf("latestReplyFailed=%v after the retry was sent", thread["latestReplyFailed"])
	}

	// Sent: nothing to retry.
	if res := admin.do("POST", msgs+"/"+id+"/retry", nil, nil); res.status != 409 {
		t.Errorf("retry of a sent reply: %d %s, want 409", res.status, res.body)
	}
}
