package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/server"
)

// The defaults of Config.VisitorConnsPerIP, NewVisitorsPerIP and
// NewConversationsPerIP, which these tests run with.
const (
	connsPerIP       = 100
	visitorsPerIP    = 60
	newConvsPerIP    = 30
	otherAddr        = "203.0.113.9"
	tooManyConnsText = "too many connections from this address"
)

// behindProxy is a Config whose loopback peer is a trusted proxy, so that
// a test can speak for other client addresses with X-Forwarded-For.
func behindProxy() server.Config {
	return server.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}

// rawVisitor opens a visitor socket with the given X-Forwarded-For ("" for
// none) and says hello, as an attacker's script would, without failing
// when the server has already closed it.
func (e *env) rawVisitor(xff, token string) *wsClient {
	e.t.Helper()
	h := http.Header{"Origin": {"http://customer.example"}}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	w, err := dialWS(e.t, e.visitorURL(), h)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.c.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"hello","visitorToken":%q}`, token)))
	return w
}

// readyOrClosed waits for w's ready event and returns 0, or for its close
// and returns the code.
func readyOrClosed(tb testing.TB, w *wsClient) websocket.StatusCode {
	tb.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-w.events:
			if ev["type"] == "ready" {
				return 0
			}
		case <-w.done:
			select {
			case ev := <-w.events:
				if ev["type"] == "ready" {
					return 0
				}
			default:
			}
			return websocket.CloseStatus(w.err)
		case <-deadline:
			tb.Fatal("neither ready nor closed within 5s")
			return -1
		}
	}
}

// hangUp closes w as a browser does and waits until the server has let go.
func hangUp(w *wsClient) {
	_ = w.c.Close(websocket.StatusNormalClosure, "")
	<-w.done
}

// statusStream opens the widget's status stream from xff ("" for the
// peer's own address). It returns the status code and Retry-After and,
// for a stream that opened, a function that closes it.
func (e *env) statusStream(xff string) (int, string, func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID), nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		cancel()
		return res.StatusCode, res.Header.Get("Retry-After"), nil
	}
	return 200, "", func() { cancel(); res.Body.Close() }
}

// eventually retries try until it reports true or 5 seconds have passed: a
// closed connection frees its slot once the server has finished with it.
func eventually(tb testing.TB, what string, try func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !try() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVisitorConnsPerAddress: 300 visitor sockets from one address, each
// saying hello and then idle: the first 100 are served, the others closed
// with 4429; the widget's status stream counts against the same limit
// (429 with Retry-After); another address is unaffected; closing sockets
// or streams frees their slots.
func TestVisitorConnsPerAddress(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: behindProxy()})
	var held []*wsClient
	refused := 0
	for i := range 300 {
		w := e.rawVisitor("", "")
		switch code := readyOrClosed(t, w); code {
		case 0:
			if i >= connsPerIP {
				t.Fatalf("socket %d served, want refused over %d", i, connsPerIP)
			}
			held = append(held, w)
		case 4429:
			if i < connsPerIP {
				t.Fatalf("socket %d refused, want served", i)
			}
			if !strings.Contains(w.err.Error(), tooManyConnsText) {
				t.Errorf("close reason: %v", w.err)
			}
			refused++
		default:
			t.Fatalf("socket %d: close=%d, want 4429 or ready", i, code)
		}
	}
	if len(held) != connsPerIP || refused != 300-connsPerIP {
		t.Fatalf("served %d refused %d, want %d and %d", len(held), refused, connsPerIP, 300-connsPerIP)
	}
	// The sockets held are live: one of them chats.
	say(held[0], "c1", "still here")

	st, retry, _ := e.statusStream("")
	if st != 429 || retry != "30" {
		t.Errorf("status stream over the limit: %d Retry-After %q, want 429 and 30", st, retry)
	}

	// Another address (behind the trusted proxy) is not affected.
	other := e.rawVisitor(otherAddr, "")
	if code := readyOrClosed(t, other); code != 0 {
		t.Fatalf("visitor from %s: close=%d, want ready", otherAddr, code)
	}
	st, _, closeOther := e.statusStream(otherAddr)
	if st != 200 {
		t.Fatalf("status stream from %s: %d, want 200", otherAddr, st)
	}
	closeOther()

	// Five sockets go; five status streams take their places, and then
	// neither a socket nor a stream is let in.
	for _, w := range held[:5] {
		hangUp(w)
	}
	held = held[5:]
	var streams []func()
	for len(streams) < 5 {
		eventually(t, "a freed slot for a status stream", func() bool {
			st, _, stop := e.statusStream("")
			if st == 200 {
				streams = append(streams, stop)
			}
			return st == 200
		})
	}
	if code := readyOrClosed(t, e.rawVisitor("", "")); code != 4429 {
		t.Errorf("socket with the streams' slots taken: close=%d, want 4429", code)
	}
	if st, _, _ := e.statusStream(""); st != 429 {
		t.Errorf("sixth status stream: %d, want 429", st)
	}
	// A closed stream frees its slot for a socket.
	streams[0]()
	eventually(t, "a freed slot for a socket", func() bool {
		w := e.rawVisitor("", "")
		if readyOrClosed(t, w) == 0 {
			held = append(held, w)
			return true
		}
		return false
	})
	for _, stop := range streams[1:] {
		stop()
	}
}

// TestForwardedForNotTrusted: without trusted proxies, a client that puts
// another address in X-Forwarded-For is still counted by its own.
func TestForwardedForNotTrusted(t *testing.T) {
	e := newEnv(t, nil)
	served := 0
	for i := range connsPerIP + 20 {
		w := e.rawVisitor(fmt.Sprintf("198.51.100.%d", i%250), "")
		if readyOrClosed(t, w) == 0 {
			served++
		}
	}
	if served != connsPerIP {
		t.Errorf("served %d sockets with forged X-Forwarded-For, want %d", served, connsPerIP)
	}
	if st, _, _ := e.statusStream("198.51.100.250"); st != 429 {
		t.Errorf("status stream with a forged X-Forwarded-For: %d, want 429", st)
	}
}

// startConversation has a new visitor from xff send one message and hang
// up. It returns the ack or error event and whether an identity came.
func (e *env) startConversation(xff, text string) (map[string]any, bool) {
	e.t.Helper()
	w := e.rawVisitor(xff, "")
	if code := readyOrClosed(e.t, w); code != 0 {
		e.t.Fatalf("visitor socket: close=%d", code)
	}
	defer hangUp(w)
	w.send(map[string]any{"type": "message.send", "clientId": "m1", "text": text})
	identity := false
	for {
		ev := w.next("identity", "message.ack", "error")
		if ev["type"] == "identity" {
			identity = true
			continue
		}
		return ev, identity
	}
}

// countStored returns how many threads and contacts the store holds.
func (e *env) countStored() (threads, contacts int) {
	e.t.Helper()
	ctx := context.Background()
	ts, _, err := e.db.Threads(ctx, storeAll())
	if err != nil {
		e.t.Fatal(err)
	}
	// Contact ids count up from 1.
	for id := uint64(1); id < 1000; id++ {
		if _, err := e.db.Contact(ctx, id); err == nil {
			contacts++
		}
	}
	return len(ts), contacts
}

// TestNewConversationsPerAddress: 150 new conversations from one address
// as fast as it can: 30 are taken, the rest get rate_limited with a
// retryAfter and store nothing (no contact, no thread, no message);
// another address is unaffected; a minute later the address may start
// conversations again.
func TestNewConversationsPerAddress(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, &envOptions{cfg: behindProxy(), app: app.Config{Now: clock.Now}})
	acked := 0
	for i := range 150 {
		ev, identity := e.startConversation("", fmt.Sprint("spam ", i))
		if ev["type"] == "message.ack" {
			acked++
			if i >= newConvsPerIP {
				t.Fatalf("conversation %d taken, want refused over %d", i, newConvsPerIP)
			}
			continue
		}
		if i < newConvsPerIP {
			t.Fatalf("conversation %d refused: %v", i, ev)
		}
		if ev["code"] != "rate_limited" || ev["clientId"] != "m1" ||
			!strings.HasPrefix(ev["message"].(string), "too many new conversations from this address") {
			t.Fatalf("refusal %d: %v", i, ev)
		}
		if ra, _ := ev["retryAfter"].(float64); ra < 1 || ra > 60 {
			t.Errorf("retryAfter=%v, want 1 to 60 seconds", ev["retryAfter"])
		}
		if identity {
			t.Fatalf("refused visitor %d got an identity: a contact was made", i)
		}
	}
	if acked != newConvsPerIP {
		t.Fatalf("acked %d, want %d", acked, newConvsPerIP)
	}
	threads, contacts := e.countStored()
	if threads != newConvsPerIP || contacts != newConvsPerIP {
		t.Errorf("stored %d threads and %d contacts, want %d each", threads, contacts, newConvsPerIP)
	}

	if ev, _ := e.startConversation(otherAddr, "hello from elsewhere"); ev["type"] != "message.ack" {
		t.Errorf("conversation from %s: %v", otherAddr, ev)
	}
	clock.Add(time.Minute)
	for i := range newConvsPerIP {
		if ev, _ := e.startConversation("", "a minute later"); ev["type"] != "message.ack" {
			t.Fatalf("conversation %d a minute later: %v", i, ev)
		}
	}
	if ev, _ := e.startConversation("", "one too many"); ev["code"] != "rate_limited" {
		t.Errorf("over the refilled limit: %v", ev)
	}
}

// TestNewVisitorsPerAddress: new visitors that only leave an email (no
// conversation) are limited too: 60 a minute from one address, the rest
// rate_limited with nothing stored; then a new visitor's first message is
// refused as a new visitor, without costing a conversation.
func TestNewVisitorsPerAddress(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, &envOptions{app: app.Config{Now: clock.Now}})
	ok := 0
	for i := range 100 {
		w := e.rawVisitor("", "")
		if code := readyOrClosed(t, w); code != 0 {
			t.Fatalf("visitor socket: close=%d", code)
		}
		w.send(map[string]any{"type": "contact.email", "clientId": "e1", "email": fmt.Sprintf("v%d@example.com", i)})
		ev := w.next("contact.email", "error")
		hangUp(w)
		if ev["type"] == "contact.email" {
			ok++
			continue
		}
		if ev["code"] != "rate_limited" || !strings.HasPrefix(ev["message"].(string), "too many new visitors from this address") {
			t.Fatalf("refusal %d: %v", i, ev)
		}
	}
	if ok != visitorsPerIP {
		t.Fatalf("%d new visitors, want %d", ok, visitorsPerIP)
	}
	if _, contacts := e.countStored(); contacts != visitorsPerIP {
		t.Errorf("stored %d contacts, want %d", contacts, visitorsPerIP)
	}
	ev, identity := e.startConversation("", "hello")
	if ev["code"] != "rate_limited" || identity || !strings.HasPrefix(ev["message"].(string), "too many new visitors") {
		t.Fatalf("new visitor's message over the limit: %v (identity %v)", ev, identity)
	}
	if threads, _ := e.countStored(); threads != 0 {
		t.Errorf("stored %d threads, want 0", threads)
	}
	// The refused message cost no conversation: a minute later, with the
	// visitors refilled, all 30 conversations are there.
	clock.Add(time.Minute)
	for i := range newConvsPerIP {
		if ev, _ := e.startConversation("", "now"); ev["type"] != "message.ack" {
			t.Fatalf("conversation %d: %v", i, ev)
		}
	}
}

// TestLegitimateVisitorNotLimited: one visitor who chats at a normal pace,
// reconnecting for every message (page loads), far more times than any
// per-address limit, and whose conversation is closed and reopened, is
// never refused.
func TestLegitimateVisitorNotLimited(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	w := e.rawVisitor("", "")
	if code := readyOrClosed(t, w); code != 0 {
		t.Fatalf("close=%d", code)
	}
	w.send(map[string]any{"type": "message.send", "clientId": "m0", "text": "hello"})
	token := w.next("identity")["visitorToken"].(string)
	threadID := msgOf(w.next("message.ack"))["threadId"].(string)
	hangUp(w)
	for i := range connsPerIP + newConvsPerIP + visitorsPerIP {
		w := e.rawVisitor("", token)
		if code := readyOrClosed(t, w); code != 0 {
			t.Fatalf("reconnect %d: close=%d", i, code)
		}
		if i%50 == 49 {
			if res := admin.do("PATCH", v3+"/threads/"+threadID, map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
				t.Fatalf("close thread: %d %s", res.status, res.body)
			}
		}
		w.send(map[string]any{"type": "message.send", "clientId": fmt.Sprint("m", i+1), "text": "more"})
		ev := w.next("message.ack", "error")
		if ev["type"] != "message.ack" || msgOf(ev)["threadId"] != threadID {
			t.Fatalf("message %d: %v", i, ev)
		}
		hangUp(w)
	}
	if threads, contacts := e.countStored(); threads != 1 || contacts != 1 {
		t.Errorf("stored %d threads and %d contacts, want 1 each", threads, contacts)
	}
}
