// Package natsbus fans live events out across Parley nodes through core
// NATS (no JetStream), and shares their presence. It implements the root's
// [parley.Broker] and [parley.Presence]; it knows nothing of HTTP or
// storage.
//
// # Subjects
//
// A topic is published on Options.Prefix (default "parley.") followed by
// the topic as one subject token: bytes NATS gives a meaning to ('.', '*',
// '>', whitespace), '%' and bytes outside printable ASCII are written %XX,
// and the empty topic is "%". So "thread:12" is "parley.thread:12" and
// "a.b" is "parley.a%2Eb"; no topic matches another's subject. Presence
// uses "parley.node.presence", which no topic's subject can be (it has
// two tokens).
//
// # Delivery
//
// [Bus.Publish] delivers to the subscriptions of its own node at once, as
// hub.Hub does, and sends one NATS message per topic to the others (the
// connection does not echo them back). An event sent to several topics
// carries a Parley-Event header, "<node> <seq>", and a subscription on
// several of them takes it once.
//
// # Order
//
// One node's promise does not hold across nodes: two nodes publishing at
// once have no common order. What holds instead: every subscription sees
// the events published on any one node in the order that node published
// them (NATS keeps the order of one connection's messages to one
// subscriber connection, and the bus hands them out in the order the
// connection received them), and events from one node interleave with
// another's in some order. The order of a thread that clients rely on is
// the store's sequence numbers: a client that sees a gap or a duplicate
// resumes from the store ("everything after sequence N").
//
// Subscribe and Subscription.Add wait for the NATS server to confirm a new
// interest (one round trip), so an event published on any node after they
// return is delivered.
//
// # Ends
//
// A subscription ends, and its owner resumes from the store, when:
//
//   - its queue is full as an event arrives ([parley.ErrSlow]), as in
//     hub.Hub; the dispatcher never blocks on it, so other subscriptions
//     and the NATS connection go on;
//   - the NATS client dropped an event on its way to this node because the
//     bus's inbox of 65,536 messages was full ([parley.ErrSlow], for every
//     subscription of the node, before any event after the lost one);
//   - an event on one of its topics was larger than the server's
//     max_payload (1 MB by default) less 128 bytes kept for headers: such an event reaches no one, and
//     every subscription on its topics, on every node, ends with
//     [parley.ErrSlow];
//   - the connection to NATS is lost ([ErrDisconnected]): every
//     subscription ends at once, and Subscribe returns ended subscriptions
//     until the connection is back. Events this node published while
//     disconnected reach no other node; when it is back, it tells the
//     other nodes, whose subscriptions on those topics end with ErrSlow.
//     Events the client had written to the socket when the server went
//     away are lost without that notice; in a NATS cluster, where the
//     other nodes may be on servers that stayed up, their subscribers
//     miss them until their next resume;
//   - the bus is closed ([parley.ErrClosed]) or its owner closes it
//     ([parley.ErrUnsubscribed]).
//
// # Presence
//
// Each node publishes its own table (connections and away mode per user)
// whenever it changes, and every third of Options.PresenceTimeout (default
// 15s); a node that starts or reconnects asks the others for theirs. A
// [Presence] is the union: connections add up, and away mode is the value
// set last, by the setting node's clock. A node that closes says goodbye
// and stops counting at once; one that dies stops counting after
// PresenceTimeout, so its users stay online elsewhere for up to that long.
package natsbus
