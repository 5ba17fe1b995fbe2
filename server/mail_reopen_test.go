package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/mailpit"
)

// threadLog lists thread id's messages over the REST API, by seq: "TEXT by
// actor" for a message, "STATUS by actor" for a status change.
func threadLog(t *testing.T, c *client, id uint64) []string {
	t.Helper()
	var page struct{ Results []map[string]any }
	res := c.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages?limit=100", id), nil, nil)
	if res.status != 200 {
		t.Fatalf("messages: %d %s", res.status, res.body)
	}
	res.decode(t, &page)
	slices.SortFunc(page.Results, func(a, b map[string]any) int { return int(a["seq"].(float64) - b["seq"].(float64)) })
	var out []string
	for _, m := range page.Results {
		switch m["type"] {
		case "MESSAGE":
			out = append(out, fmt.Sprintf("%s by %s", m["text"], m["createdBy"]))
		case "THREAD_STATUS_CHANGE":
			out = append(out, fmt.Sprintf("%s by %s", m["newStatus"], m["createdBy"]))
		}
	}
	return out
}

func threadStatus(t *testing.T, c *client, id uint64) string {
	t.Helper()
	var th map[string]any
	res := c.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d", id), nil, nil)
	if res.status != 200 {
		t.Fatalf("thread: %d %s", res.status, res.body)
	}
	res.decode(t, &th)
	return th["status"].(string)
}

func closeThread(t *testing.T, c *client, id uint64) {
	t.Helper()
	if res := c.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", id), map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
}

// TestMailReopensClosedThread: an agent's email reply and a customer's mail
// reopen a closed email thread (R4), each recording the reopening as a
// THREAD_STATUS_CHANGE in the commit of the message, announced to the
// consoles. A retried delivery, mail from someone else citing the thread's
// Message-IDs, and automatic mail reopen nothing.
func TestMailReopensClosedThread(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	agent := e.admin.ActorID()

	deliver(t, e, rawMail("Ann Lee <ann@customer.example>", "Order 42", "c1@customer.example", "", "Where is my order?"))
	th := threadOf(t, e, "ann@customer.example")
	ann := parley.ContactActorID(th.ContactID)
	closeThread(t, admin, th.ID)
	aws, _ := admin.agentWS()

	// The agent answers the closed thread by email: it reopens.
	res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"type": "MESSAGE", "text": "It ships today.", "clientId": "r1"}, nil)
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	if st := threadStatus(t, admin, th.ID); st != "OPEN" {
		t.Fatalf("after the agent's reply the thread is %s, want OPEN", st)
	}
	want := []string{"Where is my order? by " + ann, "CLOSED by " + agent, "OPEN by " + agent, "It ships today. by " + agent}
	if got := threadLog(t, admin, th.ID); !slices.Equal(got, want) {
		t.Fatalf("after the agent's reply:\n got %q\nwant %q", got, want)
	}
	if m := msgOf(aws.next("message.created")); m["type"] != "THREAD_STATUS_CHANGE" || m["newStatus"] != "OPEN" {
		t.Errorf("console heard %v first, want the reopening", m)
	}
	if upd := aws.next("thread.updated"); upd["thread"].(map[string]any)["status"] != "OPEN" {
		t.Errorf("thread.updated=%v", upd)
	}
	reply := mp.Wait(t, 5*time.Second, "the reply", func(m *mailpit.Message) bool { return m.To[0].Address == "ann@customer.example" })

	// The same reply again (a retried request) on a closed thread: a
	// duplicate, which reopens nothing.
	closeThread(t, admin, th.ID)
	res = admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"type": "MESSAGE", "text": "It ships today.", "clientId": "r1"}, nil)
	if res.status/100 != 2 {
		t.Fatalf("retried reply: %d %s", res.status, res.body)
	}
	if st := threadStatus(t, admin, th.ID); st != "CLOSED" {
		t.Fatalf("a retried reply reopened the thread: %s", st)
	}

	// Someone else citing our reply, and automatic mail from the customer,
	// reopen nothing.
	deliver(t, e, rawMail("Mallory <mallory@evil.example>", "Re: Order 42", "x1@evil.example", reply.MessageID, "Reopen!"))
	deliver(t, e, "From: Ann Lee <ann@customer.example>\nTo: "+supportAddr+"\nSubject: Out of office\nMessage-ID: <ooo@customer.example>\nIn-Reply-To: <"+reply.MessageID+">\nAuto-Submitted: auto-replied\n\nAway.\n")
	if st := threadStatus(t, admin, th.ID); st != "CLOSED" {
		t.Fatalf("another sender's or automatic mail reopened the thread: %s", st)
	}
	closedLog := threadLog(t, admin, th.ID)
	if n := strings.Count(strings.Join(closedLog, "|"), "OPEN by"); n != 1 {
		t.Fatalf("%d reopenings recorded, want 1: %q", n, closedLog)
	}

	// The customer answers: it reopens, recorded as the customer's, once
	// however often the mail is delivered.
	answer := rawMail("Ann Lee <ann@customer.example>", "Re: Order 42", "c2@customer.example", reply.MessageID, "Thanks!")
	deliver(t, e, answer)
	deliver(t, e, answer)
	if st := threadStatus(t, admin, th.ID); st != "OPEN" {
		t.Fatalf("after the customer's answer the thread is %s, want OPEN", st)
	}
	want = append(closedLog, "OPEN by "+ann, "Thanks! by "+ann)
	if got := threadLog(t, admin, th.ID); !slices.Equal(got, want) {
		t.Fatalf("after the customer's answer:\n got %q\nwant %q", got, want)
	}
	for {
		m := msgOf(aws.next("message.created"))
		if m["text"] == "Thanks!" {
			t.Fatalf("the console heard the answer before the reopening")
		}
		if m["type"] == "THREAD_STATUS_CHANGE" && m["newStatus"] == "OPEN" && m["senderActorId"] == ann {
			break
		}
	}
	if m := msgOf(aws.next("message.created")); m["text"] != "Thanks!" {
		t.Errorf("after the reopening the console heard %v", m)
	}
}
