package natsbus

import (
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/evqueue"
)

// Subscription is one consumer's queue of events from a [Bus]. Create one
// with [Bus.Subscribe]. All methods are safe for concurrent use; typically one
// goroutine at a time calls Take while others may call Add, Remove or Close.
//
// A subscription is live until it is dropped as slow, its bus is closed, its connection is lost, or
// its owner calls Close; it then receives no further events.
type Subscription struct {
	bus  *Bus
	size int // most events queued; one more drops the subscription
	done chan struct{}

	// q holds the events: Publish pushes under bus.mu, Take takes
	// without it, so a consumer never waits for a fan-out to other
	// subscribers.
	q evqueue.Queue

	// Guarded by bus.mu. err is nil while live; it is written once, before
	// done is closed, and read without the lock only after done is closed.
	// seen is the last event sent to several topics taken from each other
	// node, so that the copy on another topic is not taken again.
	topics map[string]struct{}
	mark   uint64
	seen   map[string]uint64
	err    error
}

// Take appends up to max queued events (all of them if max <= 0) to buf in
// the bus's publish order (see [Bus.Publish]), removes them from the queue,
// and returns buf and how many events are still queued. Events may remain
// queued after Done is closed; they are valid and in order, and need not be
// taken.
func (s *Subscription) Take(buf [][]byte, max int) ([][]byte, int) {
	return s.q.Take(buf, max)
}

// Notify makes the bus call f whenever the queue turns from empty to not
// empty and once when the subscription ends, so that a consumer needs no
// goroutine waiting for events. f is called at once if events are already
// queued or the subscription has ended. The bus calls f while it holds its
// lock: f must return quickly and must not call the bus or s. A later
// Notify replaces f; nil stops the calls. f may be called when Take has
// already emptied the queue, and concurrently with itself.
func (s *Subscription) Notify(f func()) {
	pending := s.q.SetNotify(f)
	if f == nil {
		return
	}
	select {
	case <-s.done:
		pending = true
	default:
	}
	if pending {
		f()
	}
}

// Done returns a channel that is closed when the subscription ends: dropped as
// slow, bus closed, or Close called. Err then says which.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns nil while the subscription is live, and afterwards why it ended:
// [parley.ErrSlow], [ErrDisconnected], [parley.ErrClosed] or [parley.ErrUnsubscribed]. The first
// reason sticks: a subscription dropped as slow and then closed by its owner
// reports ErrSlow.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Add subscribes s to topics as well; topics it is already on are ignored.
// Events published after Add returns are delivered. On an ended subscription
// it does nothing.
func (s *Subscription) Add(topics ...string) {
	b := s.bus
	b.mu.Lock()
	if s.err != nil {
		b.mu.Unlock()
		return
	}
	n := len(s.topics)
	err := b.addLocked(s, topics)
	added := len(s.topics) - n
	b.mu.Unlock()
	b.confirm(s, added, err)
}

// Remove unsubscribes s from topics; topics it is not on are ignored. No event
// published only to those topics after Remove returns is delivered, but events
// already queued stay in C. The subscription stays live even with no topics
// left.
func (s *Subscription) Remove(topics ...string) {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.err != nil {
		return
	}
	b.removeLocked(s, topics)
}

// Close ends the subscription with parley.ErrUnsubscribed, unless it has already
// ended. It is idempotent.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endLocked(s, parley.ErrUnsubscribed)
}
