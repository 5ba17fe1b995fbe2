package natsbus

import "github.com/parley-chat/parley"

// Bus, Subscription and Presence implement the fan-out contract.
var (
	_ parley.Broker       = (*Bus)(nil)
	_ parley.Subscription = (*Subscription)(nil)
	_ parley.Presence     = (*Presence)(nil)
)
