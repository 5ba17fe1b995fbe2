package server_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
)

// TestVisitorLeave: message.send's leave (the SDK's
// widget.refresh({openToNewThread: true})) starts a new conversation for
// the same visitor only while the thread it names is the visitor's newest;
// a resend finds its first copy; another visitor's thread or a bad id
// starts nothing; and a conversation started so counts against the
// per-address limit of new conversations.
func TestVisitorLeave(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{NewConversationsPerIP: 3}})
	send := func(w *wsClient, cid, text, leave string) map[string]any {
		t.Helper()
		ev := map[string]any{"type": "message.send", "clientId": cid, "text": text}
		if leave != "" {
			ev["leave"] = leave
		}
		w.send(ev)
		return w.next("message.ack", "error")
	}
	threadOf := func(ev map[string]any) string {
		t.Helper()
		if ev["type"] != "message.ack" {
			t.Fatalf("got %v, want message.ack", ev)
		}
		return msgOf(ev)["threadId"].(string)
	}

	stranger, _ := e.visitor("", 0)
	other := threadOf(send(stranger, "s-1", "Not yours", ""))

	v, _ := e.visitor("", 0)
	first := threadOf(send(v, "c-1", "One", ""))
	if got := threadOf(send(v, "c-2", "Two", other)); got != first {
		t.Errorf("leaving another visitor's thread: thread %s, want %s", got, first)
	}
	if ev := send(v, "c-3", "Three", "not-an-id"); ev["type"] != "error" || ev["code"] != "invalid" {
		t.Errorf("bad leave: %v, want error invalid", ev)
	}
	ack := send(v, "c-4", "Four", first)
	second := threadOf(ack)
	if second == first {
		t.Fatalf("leave: still thread %s, want a new one", first)
	}
	again := send(v, "c-4", "Four", first)
	if threadOf(again) != second || msgOf(again)["id"] != msgOf(ack)["id"] {
		t.Errorf("resend: %v, want the first copy %v", msgOf(again), msgOf(ack))
	}
	if got := threadOf(send(v, "c-5", "Five", first)); got != second {
		t.Errorf("after the new thread: thread %s, want %s", got, second)
	}
	if got := threadOf(send(v, "c-6", "Six", "")); got != second {
		t.Errorf("without leave: thread %s, want %s", got, second)
	}
	// The third new conversation from this address: over the limit.
	if ev := send(v, "c-7", "Seven", second); ev["type"] != "error" || ev["code"] != "rate_limited" {
		t.Errorf("leave over the limit: %v, want error rate_limited", ev)
	}

	ts, _, err := e.db.Threads(context.Background(), parley.ThreadFilter{Limit: 10})
	if err != nil || len(ts) != 3 {
		t.Fatalf("threads=%d (%v), want 3: the stranger's and the visitor's two", len(ts), err)
	}
	counts := map[string]int{}
	for _, th := range ts {
		msgs, _, err := e.db.Messages(context.Background(), th.ID, 0, 20)
		if err != nil {
			t.Fatal(err)
		}
		counts[idStr(th.ID)] = len(msgs)
	}
	if counts[first] != 2 || counts[second] != 3 || counts[other] != 1 {
		t.Errorf("messages per thread=%v, want %s:2 %s:3 %s:1", counts, first, second, other)
	}
}
