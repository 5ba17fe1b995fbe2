// Package parley holds the domain of Parley, a self-hosted live chat and shared
// team inbox: the types every other package speaks (threads, messages, contacts,
// users, inboxes, widgets), the error codes, and the pure rules that need no I/O.
//
// Subpackages implement one dependency each: store (bbolt), hub (fan-out and
// presence), widget (what a visitor's browser loads), server (HTTP and
// WebSockets). They import this package and never each other; cmd/parley wires
// them together. The interfaces they implement, and the filters, options and
// results those speak, are declared here (stores.go, broker.go).
package parley

// Channel ids, as HubSpot numbers them.
const (
	ChannelChat  = 1000
	ChannelEmail = 1002
)

// Limits that every transport enforces the same way.
const (
	// MaxTextBytes is the largest message text accepted, in bytes of UTF-8.
	MaxTextBytes = 16 << 10
	// MaxNameBytes bounds names, emails, subjects and similar short fields.
	MaxNameBytes = 256
	// MaxClientIDBytes bounds the client-chosen idempotency key of a message.
	MaxClientIDBytes = 64
	// PreviewRunes is how much of a message a thread keeps as its preview.
	PreviewRunes = 140
)
