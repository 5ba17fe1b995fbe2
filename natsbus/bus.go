package natsbus

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/parley-chat/parley"
)

const (
	defaultPrefix          = "parley."
	defaultBufferSize      = 256
	defaultPresenceTimeout = 15 * time.Second

	hdrEvent = "Parley-Event" // "<node> <seq>" on an event published to several topics
	hdrGap   = "Parley-Gap"   // an event subscribers on the subject cannot have

	// headerRoom is what an event leaves of the server's max_payload for
	// the Parley-Event header, which counts against it.
	headerRoom = 128
)

// inboxSize is how many NATS messages may wait for the dispatcher; the
// dispatcher only appends to queues, so it fills only if the process is
// starved of CPU. A variable for tests.
var inboxSize = 1 << 16

// ErrDisconnected is what [Subscription.Err] reports when the bus lost its
// NATS connection: events published meanwhile on other nodes are missed, so
// the owner must resume from the store, as after [parley.ErrSlow]. Its code
// is EUNAVAILABLE.
var ErrDisconnected error = &parley.Error{Code: parley.EUNAVAILABLE, Message: "broker disconnected"}

// Options configures a [Bus]. A nil *Options means all defaults.
type Options struct {
	// Prefix starts every subject the bus uses. Nodes share events only
	// if they use the same prefix. Defaults to "parley.".
	Prefix string
	// BufferSize is the longest each subscription's queue may grow, as in
	// hub.Options. Defaults to 256 when not positive.
	BufferSize int
	// PresenceTimeout is how long a node that stopped announcing its
	// presence (it died without a goodbye) still counts. Nodes announce
	// every third of it. Defaults to 15s when not positive.
	PresenceTimeout time.Duration
	// Name names the NATS connection in the server's monitoring.
	// Defaults to "parley".
	Name string
}

// Bus is a [parley.Broker] over NATS, and the home of a [Presence] shared
// through it. Create one with [Open]; the zero value is not usable. All
// methods are safe for concurrent use.
type Bus struct {
	nc      *nats.Conn
	prefix  string
	bufSize int
	node    string // this bus's id in event and presence headers
	msgs    chan *nats.Msg
	stop    chan struct{}
	wg      sync.WaitGroup

	presence *Presence

	mu       sync.Mutex
	topics   map[string]*topicEntry // by topic
	subjects map[string]*topicEntry // the same entries by subject
	subs     map[*Subscription]struct{}
	seq      uint64              // last event id published by this node
	failed   map[string]struct{} // topics whose publish to NATS failed since the connection was lost
	mark     uint64
	down     bool
	closed   bool
}

// topicEntry is one topic with local subscriptions and its NATS interest.
type topicEntry struct {
	topic   string
	subject string
	subs    map[*Subscription]struct{}
	nsub    *nats.Subscription
	dropped int // NATS's drop count of nsub when last looked at
}

// Open connects to the NATS server(s) at url (comma-separated for a
// cluster) and returns an open bus. It fails if no server answers; after
// that, the connection reconnects forever (see the package documentation
// for what subscriptions see meanwhile). opts may be nil.
func Open(url string, opts *Options) (*Bus, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if !strings.HasSuffix(o.Prefix, ".") {
		o.Prefix += "."
	}
	if o.BufferSize <= 0 {
		o.BufferSize = defaultBufferSize
	}
	if o.PresenceTimeout <= 0 {
		o.PresenceTimeout = defaultPresenceTimeout
	}
	if o.Name == "" {
		o.Name = "parley"
	}
	b := &Bus{
		prefix:   o.Prefix,
		bufSize:  o.BufferSize,
		node:     nuid.Next(),
		msgs:     make(chan *nats.Msg, inboxSize),
		stop:     make(chan struct{}),
		topics:   make(map[string]*topicEntry),
		subjects: make(map[string]*topicEntry),
		subs:     make(map[*Subscription]struct{}),
		failed:   make(map[string]struct{}),
	}
	nc, err := nats.Connect(url,
		nats.Name(o.Name),
		// A node delivers its own events to its own subscriptions
		// directly, in Publish.
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		// Publishing while disconnected fails at once, so the bus knows
		// which topics other nodes missed (see reconnected).
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { b.disconnected() }),
		nats.ReconnectHandler(func(*nats.Conn) { b.reconnected() }),
		// Drops into b.msgs are found by dispatch (checkDropsLocked) in
		// order with the events, which an error handler, called later
		// on another goroutine, could not do.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
		nats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	b.nc = nc
	b.presence = newPresence(b, o.PresenceTimeout)
	if err := b.presence.start(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe to presence: %w", err)
	}
	b.wg.Add(1)
	go b.dispatch()
	return b, nil
}

// Presence returns the bus's presence, the union of what every node on the
// same NATS subjects has counted.
func (b *Bus) Presence() *Presence { return b.presence }

// Subscribe returns a new subscription on topics with the default queue
// length. Events published on any node after Subscribe returns are
// delivered: Subscribe waits for the NATS server to confirm a new interest
// (one round trip). If the bus is closed or disconnected, the subscription
// is returned already ended.
func (b *Bus) Subscribe(topics ...string) parley.Subscription {
	return b.SubscribeBuffer(0, topics...)
}

// SubscribeBuffer is Subscribe with a queue of at most size events (size
// <= 0 means Options.BufferSize).
func (b *Bus) SubscribeBuffer(size int, topics ...string) parley.Subscription {
	if size <= 0 {
		size = b.bufSize
	}
	s := &Subscription{bus: b, size: size, done: make(chan struct{}), topics: make(map[string]struct{}, len(topics))}
	b.mu.Lock()
	switch {
	case b.closed:
		b.endLocked(s, parley.ErrClosed)
		b.mu.Unlock()
		return s
	case b.down:
		b.endLocked(s, ErrDisconnected)
		b.mu.Unlock()
		return s
	}
	b.subs[s] = struct{}{}
	err := b.addLocked(s, topics)
	b.mu.Unlock()
	b.confirm(s, len(topics), err)
	return s
}

// confirm waits until the NATS server has the interests just added for s,
// and ends s if it cannot.
func (b *Bus) confirm(s *Subscription, added int, err error) {
	if added == 0 && err == nil {
		return
	}
	if err == nil {
		err = b.nc.Flush()
	}
	if err != nil {
		b.mu.Lock()
		if s.err == nil {
			b.endLocked(s, ErrDisconnected)
		}
		b.mu.Unlock()
	}
}

// Publish delivers data to this node's subscriptions on any of topics at
// once, as hub.Hub does, and sends it to the other nodes: one NATS message
// per topic, marked so that a subscription on several of the topics takes
// it once. It never blocks on a subscriber. An event larger than the NATS
// server's max_payload less 128 bytes cannot reach other nodes: it is delivered to no one,
// and every subscription on its topics, on every node, ends with
// [parley.ErrSlow] instead, so owners resume from the store.
func (b *Bus) Publish(data []byte, topics ...string) {
	if len(topics) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if int64(len(data)+headerRoom) > b.nc.MaxPayload() {
		b.gapLocked(topics)
		return
	}
	b.deliverLocked(data, topics, "", 0)
	var id string
	if len(topics) > 1 {
		b.seq++
		id = b.node + " " + strconv.FormatUint(b.seq, 10)
	}
	for _, t := range topics {
		m := &nats.Msg{Subject: subject(b.prefix, t), Data: data}
		if id != "" {
			m.Header = nats.Header{hdrEvent: []string{id}}
		}
		// Published under b.mu, so NATS carries this node's events in
		// the order local subscribers saw them.
		if err := b.nc.PublishMsg(m); err != nil {
			b.failed[t] = struct{}{}
		}
	}
}

// gapLocked ends every subscription on topics, here and on other nodes,
// with ErrSlow: they cannot have an event.
func (b *Bus) gapLocked(topics []string) {
	for _, t := range topics {
		if e := b.topics[t]; e != nil {
			for s := range e.subs {
				b.endLocked(s, parley.ErrSlow)
			}
		}
		m := &nats.Msg{Subject: subject(b.prefix, t), Header: nats.Header{hdrGap: []string{"1"}}}
		if err := b.nc.PublishMsg(m); err != nil {
			b.failed[t] = struct{}{}
		}
	}
}

// deliverLocked queues data for every local subscription on topics, once
// each. origin and seq identify an event from another node that was sent
// to several topics; such a copy reaches a subscription only if it has not
// taken the event through another topic.
func (b *Bus) deliverLocked(data []byte, topics []string, origin string, seq uint64) {
	b.mark++
	for _, t := range topics {
		e := b.topics[t]
		if e == nil {
			continue
		}
		for s := range e.subs {
			if s.mark == b.mark {
				continue
			}
			s.mark = b.mark
			if origin != "" {
				if s.seen == nil {
					s.seen = make(map[string]uint64)
				}
				if s.seen[origin] >= seq {
					continue
				}
				s.seen[origin] = seq
			}
			b.sendLocked(s, data)
		}
	}
}

func (b *Bus) sendLocked(s *Subscription, data []byte) {
	if !s.q.Push(data, s.size) {
		b.endLocked(s, parley.ErrSlow)
	}
}

// dispatch hands events from other nodes to local subscriptions, in the
// order the connection received them.
func (b *Bus) dispatch() {
	defer b.wg.Done()
	topic := make([]string, 1)
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.msgs:
			b.mu.Lock()
			e := b.subjects[m.Subject]
			if e == nil || e.nsub != m.Sub {
				b.mu.Unlock() // interest removed since
				continue
			}
			if len(b.msgs) >= cap(b.msgs)-1 {
				b.checkDropsLocked()
			}
			topic[0] = e.topic
			switch {
			case m.Header.Get(hdrGap) != "":
				b.endTopicLocked(e, parley.ErrSlow)
			case m.Header.Get(hdrEvent) != "":
				origin, n, _ := strings.Cut(m.Header.Get(hdrEvent), " ")
				seq, err := strconv.ParseUint(n, 10, 64)
				if err == nil {
					b.deliverLocked(m.Data, topic, origin, seq)
				}
			default:
				b.deliverLocked(m.Data, topic, "", 0)
			}
			b.mu.Unlock()
		}
	}
}

// checkDropsLocked ends every subscription if the NATS client dropped a
// message for lack of room in b.msgs. It is called whenever a message is
// taken from a channel that was full just before, which is so for the
// oldest message that was waiting when a drop happened: that message
// precedes the lost one, so every event delivered before the check came
// before the gap. (The client counts a drop under the lock Dropped takes,
// in one step with finding the channel full.)
func (b *Bus) checkDropsLocked() {
	lost := false
	for _, e := range b.topics {
		if d, _ := e.nsub.Dropped(); d != e.dropped {
			e.dropped = d
			lost = true
		}
	}
	if lost {
		for s := range b.subs {
			b.endLocked(s, parley.ErrSlow)
		}
	}
}

func (b *Bus) endTopicLocked(e *topicEntry, err error) {
	for s := range e.subs {
		b.endLocked(s, err)
	}
}

// disconnected ends every subscription: events other nodes publish until
// the connection is back are lost to them.
func (b *Bus) disconnected() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.down = true
	for s := range b.subs {
		b.endLocked(s, ErrDisconnected)
	}
}

// reconnected tells the other nodes which topics missed events published
// here while the connection was lost, so their subscriptions on them end,
// and announces this node's presence again.
func (b *Bus) reconnected() {
	b.mu.Lock()
	b.down = false
	failed := make([]string, 0, len(b.failed))
	for t := range b.failed {
		failed = append(failed, t)
	}
	clear(b.failed)
	if len(failed) > 0 {
		b.gapLocked(failed)
	}
	b.mu.Unlock()
	b.presence.announce(true)
}

// Close says goodbye to the other nodes' presence, ends every subscription
// with [parley.ErrClosed] and closes the NATS connection. Later Subscribe
// calls return ended subscriptions. It is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for s := range b.subs {
		b.endLocked(s, parley.ErrClosed)
	}
	b.mu.Unlock()
	b.presence.close(true)
	b.shutdown()
}

// shutdown closes the connection and waits for the bus's goroutines.
func (b *Bus) shutdown() {
	_ = b.nc.Flush()
	b.nc.Close()
	close(b.stop)
	b.wg.Wait()
}

func (b *Bus) addLocked(s *Subscription, topics []string) error {
	var first error
	for _, t := range topics {
		if _, ok := s.topics[t]; ok {
			continue
		}
		e := b.topics[t]
		if e == nil {
			subj := subject(b.prefix, t)
			nsub, err := b.nc.ChanSubscribe(subj, b.msgs)
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			e = &topicEntry{topic: t, subject: subj, subs: make(map[*Subscription]struct{}), nsub: nsub}
			b.topics[t] = e
			b.subjects[subj] = e
		}
		s.topics[t] = struct{}{}
		e.subs[s] = struct{}{}
	}
	return first
}

func (b *Bus) removeLocked(s *Subscription, topics []string) {
	for _, t := range topics {
		if _, ok := s.topics[t]; !ok {
			continue
		}
		delete(s.topics, t)
		b.unlinkLocked(s, t)
	}
}

// unlinkLocked takes s off topic t, and drops the NATS interest in t with
// its last local subscription.
func (b *Bus) unlinkLocked(s *Subscription, t string) {
	e := b.topics[t]
	if e == nil {
		return
	}
	delete(e.subs, s)
	if len(e.subs) == 0 {
		_ = e.nsub.Unsubscribe() // fails only on a closed connection, which has none
		delete(b.topics, t)
		delete(b.subjects, e.subject)
	}
}

// endLocked removes s from the bus and ends it with err, unless it has
// ended already.
func (b *Bus) endLocked(s *Subscription, err error) {
	if s.err != nil {
		return
	}
	for t := range s.topics {
		b.unlinkLocked(s, t)
	}
	s.topics = nil
	delete(b.subs, s)
	s.err = err
	close(s.done)
	s.q.Wake()
}
