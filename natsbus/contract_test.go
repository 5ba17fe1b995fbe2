package natsbus

import (
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/brokertest"
)

// TestBrokerContract runs the broker contract on one node, with a second
// node has no interest, so this tests what one node does alone.
func TestBrokerContract(t *testing.T) {
	brokertest.RunBroker(t, func(t *testing.T, bufSize int) parley.Broker {
		ns := runServer(t, 0)
		return mustOpen(t, ns, &Options{BufferSize: bufSize})
	})
}

// TestPresenceContract runs the presence contract on one node, with a
// second node on the same server: its announcements must change nothing.
func TestPresenceContract(t *testing.T) {
	brokertest.RunPresence(t, func(t *testing.T) parley.Presence {
		ns := runServer(t, 0)
		mustOpen(t, ns, nil)
		return mustOpen(t, ns, nil).Presence()
	})
}
