// Package hub fans live events out to subscribers and tracks agent presence.
// It is in-memory and single-node; it knows nothing of HTTP, WebSockets or
// storage. Package server adapts connections to it.
//
// # Topics
//
// A topic is a plain string. Parley uses two kinds, built by
// [parley.ThreadTopic] ("thread:42") and [parley.InboxTopic] ("inbox:7"). A
// topic exists while it has at least one subscription; publishing to a topic
// nobody listens to costs a lock and a map lookup.
//
// # Delivery
//
// [Hub.Publish] hands the same byte slice to every subscription on any of its
// topics, once per subscription however many of the topics it is on. It never
// blocks and never copies: each subscription owns a queue of at most
// [Options.BufferSize] events, in pooled segments taken as events arrive and
// given back as they are taken, and Publish only appends to it. A consumer takes events
// with [Subscription.Take] and hears of new ones through the function it gave
// [Subscription.Notify], so an idle subscriber needs neither a goroutine
// waiting on a channel nor a queue allocated in advance.
//
// Publishes are serialized by one lock, so every subscription sees the events
// it receives in one total order, the same for all subscriptions: if Publish(A)
// returns before Publish(B) is called, no subscription receives B before A.
//
// # Slow subscribers
//
// A subscription whose buffer is full when an event arrives is dropped, not
// waited for: it is removed from all its topics, its Done channel is closed and
// its Err is [parley.ErrSlow]. It receives nothing after the event it missed,
// so what it did receive is a gap-free prefix; its owner should close the
// connection and let the client resume from the store ("everything after
// sequence N"). Nothing is lost, because Parley publishes only what it has
// already committed.
//
// A drop or any other end calls the notify function once more; consumers then
// see [Subscription.Done] closed. Events still queued when Done is closed are
// valid and in order, and a consumer may either stop at once or take them.
//
// # Presence
//
// [Presence] counts the consoles each agent has connected and mirrors each
// agent's away mode. [Presence.Watch] signals changes that can change a
// widget's availability ([github.com/parley-chat/parley.DecideAvailability]).
package hub
