package natsbus

import (
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func signaled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestPresenceUnion: every node sees the union of all nodes' connections;
// connect and release are immediate on their own node; watchers hear of
// remote changes; away mode is the last one set, wherever.
func TestPresenceUnion(t *testing.T) {
	ns := runServer(t, 0)
	a, b, c := mustOpen(t, ns, nil), mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	pa, pb, pc := a.Presence(), b.Presence(), c.Presence()
	ch, cancel := pc.Watch()
	defer cancel()

	ra := pa.Connect(7)
	if got := pa.State(7); got != (parley.UserState{Online: true, Connections: 1}) {
		t.Errorf("local State at once=%+v", got)
	}
	rb := pb.Connect(7)
	want := parley.UserState{Online: true, Connections: 2}
	for _, p := range []*Presence{pa, pb, pc} {
		waitFor(t, "two connections everywhere", func() bool { return p.State(7) == want })
	}
	if !signaled(ch) {
		t.Error("no signal on c for a remote user going online")
	}
	pa.SetAway(7, true)
	waitFor(t, "away on c", func() bool { return pc.State(7).Away })
	signaled(ch)
	pb.SetAway(7, false) // the later setting wins, though a said true
	for _, p := range []*Presence{pa, pb, pc} {
		waitFor(t, "away off everywhere", func() bool { return !p.State(7).Away })
	}
	if !signaled(ch) {
		t.Error("no signal on c for away mode turned off elsewhere")
	}
	ra()
	ra() // again: nothing
	waitFor(t, "one connection on c", func() bool { return pc.State(7).Connections == 1 })
	rb()
	waitFor(t, "user 7 gone on c", func() bool { _, ok := pc.Snapshot()[7]; return !ok })
	if got := pa.State(7); got != (parley.UserState{}) {
		t.Errorf("State after every release=%+v, want zero", got)
	}
}

// TestPresenceLateNode: a node that joins learns the others' tables at once,
// not after a heartbeat.
func TestPresenceLateNode(t *testing.T) {
	ns := runServer(t, 0)
	a := mustOpen(t, ns, &Options{PresenceTimeout: time.Hour})
	defer a.Presence().Connect(1)()
	b := mustOpen(t, ns, &Options{PresenceTimeout: time.Hour})
	waitFor(t, "user 1 online on the new node", func() bool { return b.Presence().State(1).Online })
}

// TestPresenceNodeDeath: a node that dies without a goodbye stops counting
// after the timeout; one that closes stops counting at once.
func TestPresenceNodeDeath(t *testing.T) {
	ns := runServer(t, 0)
	opts := &Options{PresenceTimeout: 600 * time.Millisecond}
	a, b, c := mustOpen(t, ns, opts), mustOpen(t, ns, opts), mustOpen(t, ns, opts)
	a.Presence().Connect(1)
	a.Presence().SetAway(2, true)
	b.Presence().Connect(3)
	pc := c.Presence()
	waitFor(t, "all users on c", func() bool { return len(pc.Snapshot()) == 3 })
	ch, cancel := pc.Watch()
	defer cancel()
	a.kill()
	start := time.Now()
	waitFor(t, "the dead node's users to go", func() bool { return len(pc.Snapshot()) == 1 })
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("a dead node stopped counting after %v, before the timeout", d)
	}
	if !signaled(ch) {
		t.Error("no signal for a dead node's users")
	}
	if !pc.State(3).Online {
		t.Error("a live node's user went offline")
	}
	b.Close()
	waitFor(t, "the closed node's user to go", func() bool { return len(pc.Snapshot()) == 0 })
}

// TestPresenceHostileAnnouncement: garbage on the presence subject is
// ignored.
func TestPresenceHostileAnnouncement(t *testing.T) {
	ns := runServer(t, 0)
	a, b := mustOpen(t, ns, nil), mustOpen(t, ns, nil)
	for _, m := range []string{"", "{", "null", `{"node":""}`, `{"node":"x","users":{"a":1}}`, `{"node":"x","users":{"5":{"c":"many"}}}`} {
		if err := a.nc.Publish(a.presence.subject, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	a.Presence().Connect(9)
	waitFor(t, "user 9 on b", func() bool { return b.Presence().State(9).Online })
	if got := b.Presence().Snapshot(); len(got) != 1 {
		t.Errorf("Snapshot=%v, want only user 9", got)
	}
}
