package parley

import "strconv"

// The fan-out contract. A Broker delivers events (encoded, opaque bytes) to
// the subscriptions on their topics; hub.Hub implements it in memory, for one
// node. Another implementation (a message bus shared by several nodes, say)
// must keep the same promises:
//
//   - Publish never blocks on a subscriber. A subscription that cannot keep
//     up is ended with ErrSlow instead: it then receives nothing after the
//     event it missed, so what it did receive is a gap-free prefix, and its
//     owner resumes from the store. Parley publishes only what is committed,
//     so nothing is lost.
//   - Every subscription sees the events it receives in one total order, the
//     same for all: if Publish(A) returns before Publish(B) is called, no
//     subscription receives B before A. An event published to several topics
//     reaches a subscription on more than one of them once.
//   - Events published after Subscribe (or Subscription.Add) returns are
//     delivered; the same slice goes to every subscriber, so neither the
//     publisher nor a subscriber may modify it.

// Broker fans encoded events out to subscribers by topic. All methods are
// safe for concurrent use.
type Broker interface {
	// Subscribe returns a new subscription on topics (none is allowed; see
	// Subscription.Add) with the broker's default queue length. If the
	// broker is closed, the subscription is returned already ended.
	Subscribe(topics ...string) Subscription
	// SubscribeBuffer is Subscribe with a queue of at most size events
	// (size <= 0 means the default), for subscribers that get bursts.
	SubscribeBuffer(size int, topics ...string) Subscription
	// Publish delivers data to every live subscription on any of topics,
	// once per subscription, without blocking. Publishing to no topics or
	// to topics without subscribers does nothing.
	Publish(data []byte, topics ...string)
}

// Subscription is one consumer's queue of events from a Broker. All methods
// are safe for concurrent use; typically one goroutine at a time calls Take
// while others may call Add, Remove or Close. A subscription is live until it is dropped
// as slow, its broker is closed, or its owner calls Close; it then receives
// no further events.
type Subscription interface {
	// Take appends up to max queued events (all if max <= 0) to buf in
	// publish order, removes them from the queue, and returns buf and how
	// many are still queued. Events still queued when Done is closed are
	// valid and in order, and need not be taken.
	Take(buf [][]byte, max int) ([][]byte, int)
	// Notify makes the broker call f whenever the queue turns from empty
	// to not empty and once when the subscription ends (at once if either
	// is already so), so that an idle consumer needs no goroutine waiting.
	// f must return quickly and must not call the broker or the
	// subscription; it may be called with nothing left to take. A later
	// Notify replaces f; nil stops the calls.
	Notify(f func())
	// Done returns a channel that is closed when the subscription ends.
	// Err then says why.
	Done() <-chan struct{}
	// Err returns nil while the subscription is live, and afterwards why it
	// ended: ErrSlow, ErrClosed or ErrUnsubscribed. The first reason
	// sticks.
	Err() error
	// Add subscribes to topics as well; topics already on are ignored. On
	// an ended subscription it does nothing.
	Add(topics ...string)
	// Remove unsubscribes from topics; no event published only to them
	// after Remove returns is delivered, but events already queued stay in
	// C. The subscription stays live even with no topics left.
	Remove(topics ...string)
	// Close ends the subscription with ErrUnsubscribed, unless it has
	// already ended. It is idempotent.
	Close()
}

// Errors reported by [Subscription.Err] once a subscription has ended. They
// are *Error values with code EUNAVAILABLE, so a transport that maps codes to
// close codes tells the client to reconnect and resume. Compare with == or
// errors.Is.
var (
	// ErrSlow means the subscription's buffer was full when an event arrived,
	// so it was dropped.
	ErrSlow error = &Error{Code: EUNAVAILABLE, Message: "subscriber too slow"}
	// ErrClosed means the broker was closed.
	ErrClosed error = &Error{Code: EUNAVAILABLE, Message: "hub closed"}
	// ErrUnsubscribed means the owner called [Subscription.Close].
	ErrUnsubscribed error = &Error{Code: EUNAVAILABLE, Message: "unsubscribed"}
)

// ThreadTopic returns the topic of a thread's events, "thread:<id>".
func ThreadTopic(threadID uint64) string {
	return "thread:" + strconv.FormatUint(threadID, 10)
}

// InboxTopic returns the topic of an inbox's events, "inbox:<id>".
func InboxTopic(inboxID uint64) string {
	return "inbox:" + strconv.FormatUint(inboxID, 10)
}

// Presence tracks which users have a console connected and who is in away
// mode. It is in-memory state of the running process: after a restart every
// user is offline until a console connects, and away mode must be re-applied
// from the store with SetAway. All methods are safe for concurrent use.
type Presence interface {
	// Connect counts one more connection of userID, who is online while at
	// least one connection is counted. Call release when the connection
	// ends; calling it again does nothing.
	Connect(userID uint64) (release func())
	// SetAway records whether userID is in away mode. Setting the mode the
	// user is already in notifies no watcher.
	SetAway(userID uint64, away bool)
	// State returns what is known of userID: the zero UserState if the
	// user is offline and not away.
	State(userID uint64) UserState
	// Snapshot returns the state of every user who is online or away, in a
	// new map the caller owns. To miss no change, call Watch before
	// Snapshot.
	Snapshot() map[uint64]UserState
	// Watch returns a channel that receives a value after any user goes
	// online or offline or turns away mode on or off. Signals are coalesced
	// (a buffer of one; sends never block), so re-read State or Snapshot
	// after one. cancel stops the signals and is idempotent; it does not
	// close the channel.
	Watch() (ch <-chan struct{}, cancel func())
}

// UserState is what [Presence] knows of one user. The zero value is an
// offline user who is not in away mode.
type UserState struct {
	Online      bool // at least one console connected
	Away        bool // away mode on, whether or not online
	Connections int  // consoles connected now
}
