package hub

import "github.com/parley-chat/parley"

// Hub, Subscription and Presence implement the fan-out contract.
var (
	_ parley.Broker       = (*Hub)(nil)
	_ parley.Subscription = (*Subscription)(nil)
	_ parley.Presence     = (*Presence)(nil)
)
