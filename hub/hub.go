package hub

import (
	"sync"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/evqueue"
)

const defaultBufferSize = 256

// Options configures a [Hub]. A nil *Options means all defaults.
type Options struct {
	// BufferSize is the longest each subscription's queue may grow: an
	// event that finds BufferSize events queued drops the subscription as
	// slow. Queues are allocated as events arrive, not at this size, so an
	// idle subscription costs no queue at all. Defaults to 256 when not
	// positive.
	BufferSize int
}

// Stats is a snapshot of a hub's size, for metrics and tests.
type Stats struct {
	Subscriptions int    // live subscriptions, with or without topics
	Topics        int    // topics with at least one live subscription
	Dropped       uint64 // subscriptions dropped as slow since New
	Queued        int    // events waiting in live subscriptions' queues
}

// Hub is an in-memory publish/subscribe broker. Create one with [New]; the
// zero value is not usable. All methods are safe for concurrent use.
//
// One mutex guards all state. Publish holds it while it fans out, which is
// what makes delivery order total; the fan-out is only appends to queues
// under each subscription's own lock, some 20 to 40 ns per subscriber
// (BenchmarkPublish), so even a topic with a thousand subscribers holds the
// lock for tens of microseconds.
type Hub struct {
	bufSize int

	mu      sync.Mutex
	topics  map[string]map[*Subscription]struct{}
	subs    map[*Subscription]struct{} // every live subscription
	mark    uint64                     // per-Publish stamp that deduplicates delivery
	dropped uint64
	closed  bool
}

// New returns an empty, open hub. opts may be nil.
func New(opts *Options) *Hub {
	n := defaultBufferSize
	if opts != nil && opts.BufferSize > 0 {
		n = opts.BufferSize
	}
	return &Hub{
		bufSize: n,
		topics:  make(map[string]map[*Subscription]struct{}),
		subs:    make(map[*Subscription]struct{}),
	}
}

// Subscribe returns a new subscription on topics (none is allowed; see
// [Subscription.Add]). Events published after Subscribe returns are delivered
// to it. If the hub is closed, the subscription is returned already ended,
// with Err == parley.ErrClosed.
func (h *Hub) Subscribe(topics ...string) parley.Subscription {
	return h.SubscribeBuffer(0, topics...)
}

// SubscribeBuffer is Subscribe with a queue of at most size events instead
// of Options.BufferSize (size <= 0 means the default). A subscriber that gets
// bursts, such as an agent watching a busy inbox where one group commit
// announces hundreds of messages at once, wants a longer queue than a
// visitor watching one thread.
func (h *Hub) SubscribeBuffer(size int, topics ...string) parley.Subscription {
	if size <= 0 {
		size = h.bufSize
	}
	s := &Subscription{
		hub:    h,
		size:   size,
		done:   make(chan struct{}),
		topics: make(map[string]struct{}, len(topics)),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.endLocked(s, parley.ErrClosed)
		return s
	}
	h.subs[s] = struct{}{}
	h.addLocked(s, topics)
	return s
}

// Publish delivers data to every live subscription on any of topics, once per
// subscription. It never blocks: a subscription whose buffer is full is
// dropped with parley.ErrSlow instead (see the package documentation). It
// calls the notify functions of subscriptions whose queue was empty
// ([Subscription.Notify]) before it returns. The same
// slice goes to every subscriber, so the caller must not modify data after
// the call. Publishing to no topics, to topics without subscribers, or on a
// closed hub does nothing.
//
// Publishes are delivered in one total order, the same for every
// subscription: if Publish(A) returns before Publish(B) is called, no
// subscription receives B before A.
func (h *Hub) Publish(data []byte, topics ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(topics) == 1 {
		// One topic cannot deliver twice: skip the bookkeeping.
		for s := range h.topics[topics[0]] {
			h.sendLocked(s, data)
		}
		return
	}
	h.mark++
	for _, t := range topics {
		// Ranging over a map while sendLocked deletes from it is allowed;
		// a dropped subscription is not visited again.
		for s := range h.topics[t] {
			if s.mark == h.mark {
				continue
			}
			s.mark = h.mark
			h.sendLocked(s, data)
		}
	}
}

func (h *Hub) sendLocked(s *Subscription, data []byte) {
	if !s.q.Push(data, s.size) {
		h.dropped++
		h.endLocked(s, parley.ErrSlow)
	}
}

// Close ends every subscription with [parley.ErrClosed] and makes later
// Subscribe calls return ended subscriptions. It is idempotent.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.endLocked(s, parley.ErrClosed)
	}
}

// Stats returns the hub's current counts. It visits every live
// subscription to add up the queues, holding the lock that Publish takes:
// call it for a metrics scrape, not per event.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	queued := 0
	for s := range h.subs {
		queued += s.q.Len()
	}
	return Stats{
		Subscriptions: len(h.subs),
		Topics:        len(h.topics),
		Dropped:       h.dropped,
		Queued:        queued,
	}
}

func (h *Hub) addLocked(s *Subscription, topics []string) {
	for _, t := range topics {
		if _, ok := s.topics[t]; ok {
			continue
		}
		s.topics[t] = struct{}{}
		set := h.topics[t]
		if set == nil {
			set = make(map[*Subscription]struct{})
			h.topics[t] = set
		}
		set[s] = struct{}{}
	}
}

func (h *Hub) removeLocked(s *Subscription, topics []string) {
	for _, t := range topics {
		if _, ok := s.topics[t]; !ok {
			continue
		}
		delete(s.topics, t)
		set := h.topics[t]
		delete(set, s)
		if len(set) == 0 {
			delete(h.topics, t) // topics of finished threads must not pile up
		}
	}
}

// endLocked removes s from the hub and ends it with err. s must not have
// ended already.
func (h *Hub) endLocked(s *Subscription, err error) {
	for t := range s.topics {
		set := h.topics[t]
		delete(set, s)
		if len(set) == 0 {
			delete(h.topics, t)
		}
	}
	s.topics = nil
	delete(h.subs, s)
	s.err = err
	close(s.done) // publishes s.err to readers of Done
	s.q.Wake()
}

// Subscription is one consumer's queue of events from a [Hub]. Create one
// with [Hub.Subscribe]. All methods are safe for concurrent use; typically one
// goroutine at a time calls Take while others may call Add, Remove or Close.
//
// A subscription is live until it is dropped as slow, its hub is closed, or
// its owner calls Close; it then receives no further events.
type Subscription struct {
	hub  *Hub
	size int // most events queued; one more drops the subscription
	done chan struct{}

	// q holds the events: Publish pushes under hub.mu, Take takes
	// without it, so a consumer never waits for a fan-out to other
	// subscribers.
	q evqueue.Queue

	// Guarded by hub.mu. err is nil while live; it is written once, before
	// done is closed, and read without the lock only after done is closed.
	topics map[string]struct{}
	mark   uint64
	err    error
}

// Take appends up to max queued events (all of them if max <= 0) to buf in
// the hub's publish order (see [Hub.Publish]), removes them from the queue,
// and returns buf and how many events are still queued. Events may remain
// queued after Done is closed; they are valid and in order, and need not be
// taken.
func (s *Subscription) Take(buf [][]byte, max int) ([][]byte, int) {
	return s.q.Take(buf, max)
}

// Notify makes the hub call f whenever the queue turns from empty to not
// empty and once when the subscription ends, so that a consumer needs no
// goroutine waiting for events. f is called at once if events are already
// queued or the subscription has ended. The hub calls f while it holds its
// lock: f must return quickly and must not call the hub or s. A later
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
// slow, hub closed, or Close called. Err then says which.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns nil while the subscription is live, and afterwards why it ended:
// [parley.ErrSlow], [parley.ErrClosed] or [parley.ErrUnsubscribed]. The first
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
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.err != nil {
		return
	}
	h.addLocked(s, topics)
}

// Remove unsubscribes s from topics; topics it is not on are ignored. No event
// published only to those topics after Remove returns is delivered, but events
// already queued stay in C. The subscription stays live even with no topics
// left.
func (s *Subscription) Remove(topics ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.err != nil {
		return
	}
	h.removeLocked(s, topics)
}

// Close ends the subscription with parley.ErrUnsubscribed, unless it has already
// ended. It is idempotent.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.err != nil {
		return
	}
	h.endLocked(s, parley.ErrUnsubscribed)
}
