package hub

import (
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/brokertest"
)

func TestBrokerContract(t *testing.T) {
	brokertest.RunBroker(t, func(t *testing.T, bufSize int) parley.Broker {
		h := New(&Options{BufferSize: bufSize})
		t.Cleanup(h.Close)
		return h
	})
}

func TestPresenceContract(t *testing.T) {
	brokertest.RunPresence(t, func(*testing.T) parley.Presence { return NewPresence() })
}
