package natsbus

import (
	"encoding/json"
	"maps"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/parley-chat/parley"
)

// Presence is a [parley.Presence] shared by every node on a NATS server:
// State, Snapshot and Watch see the union of all nodes' connections, and
// away mode as the node that set it last (by its clock) has it. Connect,
// release and SetAway change this node's table at once and announce it to
// the others; each node also announces its table every third of
// Options.PresenceTimeout, and a node not heard of for PresenceTimeout
// (it died without a goodbye) stops counting. Get it from [Bus.Presence].
type Presence struct {
	bus     *Bus
	subject string
	timeout time.Duration
	nsub    *nats.Subscription
	stop    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	local    map[uint64]entry            // this node's table
	remote   map[string]*nodeTable       // other nodes' tables by node id
	users    map[uint64]parley.UserState // the union, only users online or away
	watchers map[chan struct{}]struct{}
	closed   bool
}

// entry is one node's knowledge of one user. At is when the node last set
// away mode (unix nanoseconds), 0 if it never did.
type entry struct {
	Conns int   `json:"c,omitempty"`
	Away  bool  `json:"a,omitempty"`
	At    int64 `json:"t,omitempty"`
}

type nodeTable struct {
	users map[uint64]entry
	seen  time.Time
}

// announcement is what a node publishes on the presence subject.
type announcement struct {
	Node  string           `json:"node"`
	Users map[uint64]entry `json:"users,omitempty"`
	Hello bool             `json:"hello,omitempty"` // asks the others to announce now
	Bye   bool             `json:"bye,omitempty"`   // the node is leaving
}

func newPresence(b *Bus, timeout time.Duration) *Presence {
	return &Presence{
		bus:     b,
		subject: b.prefix + "node.presence", // two tokens: no topic's subject

		timeout:  timeout,
		stop:     make(chan struct{}),
		local:    make(map[uint64]entry),
		remote:   make(map[string]*nodeTable),
		users:    make(map[uint64]parley.UserState),
		watchers: make(map[chan struct{}]struct{}),
	}
}

func (p *Presence) start() error {
	nsub, err := p.bus.nc.Subscribe(p.subject, p.receive)
	if err != nil {
		return err
	}
	p.nsub = nsub
	p.announce(true)
	p.wg.Add(1)
	go p.beat()
	return nil
}

// beat announces this node's table and forgets silent nodes, every third
// of the timeout.
func (p *Presence) beat() {
	defer p.wg.Done()
	t := time.NewTicker(p.timeout / 3)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.announce(false)
			p.mu.Lock()
			changed := false
			for id, n := range p.remote {
				if now.Sub(n.seen) > p.timeout {
					delete(p.remote, id)
					changed = true
				}
			}
			if changed {
				p.recomputeLocked()
			}
			p.mu.Unlock()
		}
	}
}

// announce publishes this node's table. A failure (the connection is
// down) is repaired by the next beat or by reconnected.
func (p *Presence) announce(hello bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.publish(announcement{Node: p.bus.node, Users: p.local, Hello: hello})
	}
}

// publish sends a; Users is marshaled before it returns, so p.mu held by
// the caller covers it.
func (p *Presence) publish(a announcement) {
	data, err := json.Marshal(a)
	if err != nil {
		panic(err) // maps of numbers and bools always marshal
	}
	_ = p.bus.nc.Publish(p.subject, data)
}

// receive takes another node's announcement. A malformed one is ignored:
// only nodes of this Parley publish on the subject.
func (p *Presence) receive(m *nats.Msg) {
	var a announcement
	if err := json.Unmarshal(m.Data, &a); err != nil || a.Node == "" || a.Node == p.bus.node {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if a.Bye {
		delete(p.remote, a.Node)
	} else {
		p.remote[a.Node] = &nodeTable{users: a.Users, seen: time.Now()}
	}
	p.recomputeLocked()
	p.mu.Unlock()
	if a.Hello {
		p.announce(false)
	}
}

// close says goodbye (unless bye is false: a node that dies says nothing)
// and stops the beat.
func (p *Presence) close(bye bool) {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	if bye {
		p.publish(announcement{Node: p.bus.node, Bye: true})
	}
	_ = p.nsub.Unsubscribe()
	close(p.stop)
	p.wg.Wait()
}

// recomputeLocked rebuilds the union and signals the watchers if a user
// went online or offline or changed away mode.
func (p *Presence) recomputeLocked() {
	type merged struct {
		conns int
		away  bool
		at    int64
	}
	all := make(map[uint64]merged, len(p.users))
	add := func(t map[uint64]entry) {
		for id, e := range t {
			m := all[id]
			m.conns += e.Conns
			if e.At > m.at {
				m.at, m.away = e.At, e.Away
			}
			all[id] = m
		}
	}
	add(p.local)
	for _, n := range p.remote {
		add(n.users)
	}
	users := make(map[uint64]parley.UserState, len(all))
	changed := false
	for id, m := range all {
		if m.conns == 0 && !m.away {
			continue
		}
		st := parley.UserState{Online: m.conns > 0, Away: m.away, Connections: m.conns}
		users[id] = st
		old := p.users[id]
		if old.Online != st.Online || old.Away != st.Away {
			changed = true
		}
	}
	for id := range p.users {
		if _, ok := users[id]; !ok {
			changed = true
		}
	}
	p.users = users
	if changed {
		for c := range p.watchers {
			select {
			case c <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}
}

// Connect counts one more connection of userID on this node, at once here
// and on the other nodes as soon as they hear of it. Call release when the
// connection ends; calling it again does nothing.
func (p *Presence) Connect(userID uint64) (release func()) {
	p.change(func() {
		e := p.local[userID]
		e.Conns++
		p.local[userID] = e
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			p.change(func() {
				e := p.local[userID]
				e.Conns--
				p.putLocked(userID, e)
			})
		})
	}
}

// SetAway records whether userID is in away mode, for every node. Setting
// the mode the user is already in does nothing and notifies no watcher.
func (p *Presence) SetAway(userID uint64, away bool) {
	p.mu.Lock()
	if p.users[userID].Away == away {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.change(func() {
		e := p.local[userID]
		e.Away = away
		e.At = time.Now().UnixNano()
		p.putLocked(userID, e)
	})
}

// change applies f to the local table, recomputes the union and
// announces the table.
func (p *Presence) change(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	p.recomputeLocked()
	if !p.closed {
		// Under p.mu, so the others hear the tables in the order they
		// were.
		p.publish(announcement{Node: p.bus.node, Users: p.local})
	}
}

// putLocked stores e, or forgets the user if this node neither counts a
// connection nor ever set away mode.
func (p *Presence) putLocked(userID uint64, e entry) {
	if e.Conns == 0 && e.At == 0 {
		delete(p.local, userID)
		return
	}
	p.local[userID] = e
}

// State returns what the nodes know of userID: the zero parley.UserState
// if the user is offline and not away.
func (p *Presence) State(userID uint64) parley.UserState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[userID]
}

// Snapshot returns the state of every user who is online or away, in a new
// map the caller owns. To miss no change, call Watch before Snapshot.
func (p *Presence) Snapshot() map[uint64]parley.UserState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.users)
}

// Watch returns a channel that receives a value after any user goes online
// or offline or turns away mode on or off, on any node. Signals are
// coalesced (a buffer of one; sends never block). cancel stops the signals
// and is idempotent; it does not close the channel.
func (p *Presence) Watch() (ch <-chan struct{}, cancel func()) {
	c := make(chan struct{}, 1)
	p.mu.Lock()
	p.watchers[c] = struct{}{}
	p.mu.Unlock()
	return c, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.watchers, c)
	}
}
