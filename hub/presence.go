package hub

import (
	"sync"

	"github.com/parley-chat/parley"
)

// Presence tracks which users have a console connected and who is in away
// mode. It is in-memory and starts empty: after a restart every user is
// offline until a console connects, and away mode must be re-applied from the
// store with SetAway. Create one with [NewPresence]; all methods are safe for
// concurrent use.
type Presence struct {
	mu       sync.Mutex
	users    map[uint64]presenceEntry // only users online or away
	watchers map[chan struct{}]struct{}
}

type presenceEntry struct {
	conns int
	away  bool
}

func (e presenceEntry) state() parley.UserState {
	return parley.UserState{Online: e.conns > 0, Away: e.away, Connections: e.conns}
}

// NewPresence returns a Presence in which every user is offline and not away.
func NewPresence() *Presence {
	return &Presence{
		users:    make(map[uint64]presenceEntry),
		watchers: make(map[chan struct{}]struct{}),
	}
}

// Connect counts one more connection of userID, who is online while at least
// one connection is counted. Call release when the connection ends; calling it
// again does nothing, so it is safe to defer and also call early.
func (p *Presence) Connect(userID uint64) (release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.users[userID]
	e.conns++
	p.users[userID] = e
	if e.conns == 1 {
		p.notifyLocked()
	}

	released := false // guarded by p.mu
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if released {
			return
		}
		released = true
		e := p.users[userID]
		e.conns--
		p.putLocked(userID, e)
		if e.conns == 0 {
			p.notifyLocked()
		}
	}
}

// SetAway records whether userID is in away mode. Setting the mode the user is
// already in does nothing and notifies no watcher.
func (p *Presence) SetAway(userID uint64, away bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.users[userID]
	if e.away == away {
		return
	}
	e.away = away
	p.putLocked(userID, e)
	p.notifyLocked()
}

// State returns what is known of userID: the zero parley.UserState if the user is
// offline and not away.
func (p *Presence) State(userID uint64) parley.UserState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.users[userID].state()
}

// Snapshot returns the state of every user who is online or away, in a new
// map the caller owns. Users absent from it are offline and not away. To miss
// no change, call Watch before Snapshot.
func (p *Presence) Snapshot() map[uint64]parley.UserState {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[uint64]parley.UserState, len(p.users))
	for id, e := range p.users {
		m[id] = e.state()
	}
	return m
}

// Watch returns a channel that receives a value after any user goes online or
// offline or turns away mode on or off. Changes of a connection count that
// leave the user online signal nothing. Signals are coalesced: the channel
// has a buffer of one and sends never block, so one receive may stand for
// many changes; re-read State or Snapshot after it. cancel stops the signals
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

// putLocked stores e, or forgets the user if e is the zero state, so the map
// holds only users online or away.
func (p *Presence) putLocked(userID uint64, e presenceEntry) {
	if e == (presenceEntry{}) {
		delete(p.users, userID)
		return
	}
	p.users[userID] = e
}

func (p *Presence) notifyLocked() {
	for c := range p.watchers {
		select {
		case c <- struct{}{}:
		default: // a signal is already pending
		}
	}
}
