package natsbus

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

func drain(s parley.Subscription) []string {
	evs, _ := s.Take(nil, 0)
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e)
	}
	return out
}

// collect takes events from s until it has want of them or the deadline
// passes, and returns them.
func collect(t *testing.T, s parley.Subscription, want int) []string {
	t.Helper()
	var got []string
	waitFor(t, fmt.Sprintf("%d events", want), func() bool {
		got = append(got, drain(s)...)
		return len(got) >= want || s.Err() != nil
	})
	return got
}

func TestSubject(t *testing.T) {
	tests := []struct{ topic, want string }{
		{"thread:12", "parley.thread:12"},
		{"inbox:3", "parley.inbox:3"},
		{"a.b", "parley.a%2Eb"},
		{"*", "parley.%2A"},
		{">", "parley.%3E"},
		{"a b\tc", "parley.a%20b%09c"},
		{"", "parley.%"},
		{"%", "parley.%25"},
		{"ü", "parley.%C3%BC"},
	}
	for _, tt := range tests {
		if got := subject("parley.", tt.topic); got != tt.want {
			t.Errorf("subject(%q)=%q, want %q", tt.topic, got, tt.want)
		}
	}
}

// TestAcrossNodes: an event published on one bus reaches the subscriptions
// on its topics on the others, and only those; hostile topics are topics
// like any other, none matching another's subscription.
func TestAcrossNodes(t *testing.T) {
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	topics := []string{"thread:1", "inbox:1", "a.b", "a", "*", ">", "a b", "", "%", "a%2Eb", "user:1"}
	subs := make(map[string]parley.Subscription)
	for _, tp := range topics {
		subs[tp] = b.Subscribe(tp)
	}
	for _, tp := range topics {
		a.Publish([]byte("to "+tp), tp)
	}
	for _, tp := range topics {
		got := collect(t, subs[tp], 1)
		if len(got) != 1 || got[0] != "to "+tp {
			t.Errorf("topic %q got %q, want [%q]", tp, got, "to "+tp)
		}
	}
	// A last event on one topic: when it arrives, any stray copy would have.
	a.Publish([]byte("end"), "a")
	collect(t, subs["a"], 1)
	for _, tp := range topics {
		if got := drain(subs[tp]); len(got) != 0 {
			t.Errorf("topic %q got extra %q", tp, got)
		}
	}
}

// TestOnceAcrossTopics: an event published to several topics reaches a
// subscription on more than one of them once, here and on another node,
// with events of a third node interleaved.
func TestOnceAcrossTopics(t *testing.T) {
	ns := runServer(t, 0)
	a, b, c := mustOpen(t, ns, nil), mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	local := a.SubscribeBuffer(1000, "inbox:1", "thread:1")
	remote := b.SubscribeBuffer(1000, "inbox:1", "thread:1")
	const n = 200
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range n {
			a.Publish([]byte("a"+strconv.Itoa(i)), "inbox:1", "thread:1")
		}
	}()
	go func() {
		defer wg.Done()
		for i := range n {
			c.Publish([]byte("c"+strconv.Itoa(i)), "thread:1", "inbox:1", "thread:1")
		}
	}()
	wg.Wait()
	got := collect(t, remote, 2*n)
	checkPerNode(t, got, n)
	if err := remote.Err(); err != nil {
		t.Errorf("remote Err()=%v", err)
	}
	checkPerNode(t, collect(t, local, 2*n), n)
}

// checkPerNode checks that got holds each of the n events of each
// publishing node ("a0".."a<n-1>", "c0"...) once, in the order its node
// published them.
func checkPerNode(t *testing.T, got []string, n int) {
	t.Helper()
	next := map[byte]int{}
	for _, e := range got {
		i, err := strconv.Atoi(e[1:])
		if err != nil || i != next[e[0]] {
			t.Fatalf("event %q after %d of its node, want %s%d", e, next[e[0]], e[:1], next[e[0]])
		}
		next[e[0]]++
	}
	for node, k := range next {
		if k != n {
			t.Errorf("node %c: %d events, want %d", node, k, n)
		}
	}
	if len(got) != len(next)*n {
		t.Errorf("got %d events, want %d", len(got), len(next)*n)
	}
}

// TestOrderPerNode: subscriptions on one node see the events of every other
// node in the order that node published them, whatever their topics.
func TestOrderPerNode(t *testing.T) {
	ns := runServer(t, 0)
	a, b, c := mustOpen(t, ns, nil), mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	const n = 300
	s := c.SubscribeBuffer(4*n, "t1", "t2", "t3")
	var wg sync.WaitGroup
	for _, p := range []struct {
		bus  *Bus
		name string
	}{{a, "a"}, {b, "b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				p.bus.Publish([]byte(p.name+strconv.Itoa(i)), "t"+strconv.Itoa(1+i%3))
			}
		}()
	}
	wg.Wait()
	checkPerNode(t, collect(t, s, 2*n), n)
}

// TestSubscribeThenPublishElsewhere: an event published on another node
// right after Subscribe or Add returns is delivered.
func TestSubscribeThenPublishElsewhere(t *testing.T) {
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	for i := range 50 {
		tp := "thread:" + strconv.Itoa(i)
		s := b.Subscribe()
		s.Add(tp)
		a.Publish([]byte("x"), tp)
		if got := collect(t, s, 1); len(got) != 1 {
			t.Fatalf("round %d: got %q", i, got)
		}
		s.Remove(tp)
		s.Close()
	}
}

// TestRemoteSlowSubscriber: a subscription that does not keep up with
// another node's events ends with ErrSlow after a gap-free prefix, and a
// neighbour on the same topic gets every event.
func TestRemoteSlowSubscriber(t *testing.T) {
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, &Options{BufferSize: 4}), mustOpen(t, ns, &Options{BufferSize: 4})
	slow := b.Subscribe("t")
	fast := b.SubscribeBuffer(100, "t")
	for i := range 10 {
		a.Publish([]byte("a"+strconv.Itoa(i)), "t")
	}
	checkPerNode(t, collect(t, fast, 10), 10)
	waitFor(t, "the slow subscription to end", func() bool { return slow.Err() != nil })
	if slow.Err() != parley.ErrSlow {
		t.Errorf("Err()=%v, want ErrSlow", slow.Err())
	}
	got := drain(slow)
	if len(got) != 4 {
		t.Errorf("slow kept %q, want the first 4", got)
	}
	for i, e := range got {
		if e != "a"+strconv.Itoa(i) {
			t.Errorf("slow event %d=%q, want a%d", i, e, i)
		}
	}
}

// TestOversized: an event larger than the server's max_payload ends every
// subscription on its topics, on every node, with ErrSlow; subscriptions on
// other topics live on, and the bus keeps working.
func TestOversized(t *testing.T) {
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	local, remote := a.Subscribe("t"), b.Subscribe("t", "u")
	other := b.Subscribe("v")
	big := make([]byte, a.nc.MaxPayload()-headerRoom+1)
	a.Publish(big, "t")
	if local.Err() != parley.ErrSlow {
		t.Errorf("local Err()=%v, want ErrSlow", local.Err())
	}
	waitFor(t, "the remote subscription to end", func() bool { return remote.Err() != nil })
	if remote.Err() != parley.ErrSlow {
		t.Errorf("remote Err()=%v, want ErrSlow", remote.Err())
	}
	if len(drain(local))+len(drain(remote)) != 0 {
		t.Error("the oversized event was delivered")
	}
	a.Publish([]byte("ok"), "v")
	if got := collect(t, other, 1); len(got) != 1 || got[0] != "ok" {
		t.Errorf("other got %q, want [ok]", got)
	}
}

// TestReconnect: when the NATS server goes away, every subscription ends
// with ErrDisconnected (its owner resumes from the store), Subscribe
// returns ended subscriptions until the connection is back, and then
// events flow again.
func TestReconnect(t *testing.T) {
	ns := runServer(t, 0)
	addr := ns.ClientURL()
	a, err := Open(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := b.Subscribe("t")
	p := ns.Addr().String()
	ns.Shutdown()
	waitFor(t, "the subscription to end", func() bool { return s.Err() != nil })
	if s.Err() != ErrDisconnected {
		t.Errorf("Err()=%v, want ErrDisconnected", s.Err())
	}
	if got := b.Subscribe("t").Err(); got != ErrDisconnected {
		t.Errorf("Subscribe while disconnected: Err()=%v, want ErrDisconnected", got)
	}
	a.Publish([]byte("lost"), "t") // missed by b: its subscriptions ended
	_, portStr, _ := cut(p)
	pn, _ := strconv.Atoi(portStr)
	runServer(t, pn)
	// Back, a tells b that "t" missed an event: a subscription b has on
	// "t" by then ends with ErrSlow.
	waitFor(t, "a to report what it missed", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.nc.IsConnected() && len(a.failed) == 0
	})
	if err := a.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var s2 parley.Subscription
	waitFor(t, "a live subscription after the restart", func() bool {
		if s2 != nil {
			s2.Close()
		}
		s2 = b.Subscribe("t")
		return s2.Err() == nil
	})
	a.Publish([]byte("back"), "t")
	if got := collect(t, s2, 1); len(got) != 1 || got[0] != "back" {
		t.Errorf("after reconnect got %q, want [back]", got)
	}
}

func cut(hostport string) (string, string, bool) {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[:i], hostport[i+1:], true
		}
	}
	return hostport, "", false
}

// TestCloseEndsSubscriptions: Close ends every subscription with ErrClosed
// and later ones are born ended.
func TestCloseEndsSubscriptions(t *testing.T) {
	ns := runServer(t, 0)
	a := mustOpen(t, ns, nil)
	s := a.Subscribe("t")
	a.Close()
	if s.Err() != parley.ErrClosed {
		t.Errorf("Err()=%v, want ErrClosed", s.Err())
	}
	if got := a.Subscribe("t").Err(); got != parley.ErrClosed {
		t.Errorf("Subscribe after Close: Err()=%v, want ErrClosed", got)
	}
	a.Publish([]byte("x"), "t") // does nothing, does not panic
	a.Close()
}

// TestInboxOverflow: when the NATS client drops messages because the
// dispatcher fell behind (here: it is held up while 100 events arrive for
// an inbox of 8), subscriptions end with ErrSlow after a gap-free prefix.
func TestInboxOverflow(t *testing.T) {
	defer func(n int) { inboxSize = n }(inboxSize)
	inboxSize = 8
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	s1 := b.SubscribeBuffer(1000, "t1")
	s2 := b.SubscribeBuffer(1000, "t1", "t2")
	b.mu.Lock() // the dispatcher waits for it
	for i := range 100 {
		a.Publish([]byte("a"+strconv.Itoa(i)), "t"+strconv.Itoa(1+i%2))
	}
	waitFor(t, "the NATS client to drop", func() bool {
		d1, _ := b.topics["t1"].nsub.Dropped()
		d2, _ := b.topics["t2"].nsub.Dropped()
		return d1+d2 > 0
	})
	b.mu.Unlock()
	waitFor(t, "the dispatcher to catch up", func() bool { return len(b.msgs) == 0 })
	for i := 100; i < 110; i++ { // after the gap
		a.Publish([]byte("a"+strconv.Itoa(i)), "t"+strconv.Itoa(1+i%2))
	}
	for i, s := range []parley.Subscription{s1, s2} {
		waitFor(t, "the subscription to end", func() bool { return s.Err() != nil })
		if s.Err() != parley.ErrSlow {
			t.Errorf("sub %d Err()=%v, want ErrSlow", i, s.Err())
		}
		step := 2 - i // s1 has every other event, s2 all
		for k, e := range drain(s) {
			if want := "a" + strconv.Itoa(k*step); e != want {
				t.Errorf("sub %d event %d=%q, want %q", i, k, e, want)
				break
			}
		}
	}
}
