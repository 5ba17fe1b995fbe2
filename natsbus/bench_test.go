package natsbus

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// benchEvent is about the size of one encoded message event.
var benchEvent = bytes.Repeat([]byte("x"), 512)

// BenchmarkPublish publishes to one topic with n subscribers on the
// publishing node, beside hub.Hub doing the same: what the bus adds is one
// NATS publish per topic (another node listens, so the server forwards it).
// Queues are drained with the timer stopped, as in hub's benchmark.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("subs=%d/hub", n), func(b *testing.B) {
			h := hub.New(&hub.Options{BufferSize: batchFor(n)})
			defer h.Close()
			benchBroker(b, h, n)
		})
		b.Run(fmt.Sprintf("subs=%d/natsbus", n), func(b *testing.B) {
			ns := runServer(b, 0)
			bus := mustOpen(b, ns, &Options{BufferSize: batchFor(n)})
			other := mustOpen(b, ns, nil) // a second node with interest
			defer other.Subscribe("t").Close()
			benchBroker(b, bus, n)
		})
	}
}

func batchFor(n int) int { return max(64, 1<<16/max(n, 1)) }

func benchBroker(b *testing.B, br parley.Broker, n int) {
	batch := batchFor(n)
	subs := make([]parley.Subscription, n)
	for i := range subs {
		subs[i] = br.Subscribe("t")
	}
	b.ReportAllocs()
	queued := 0
	var buf [][]byte
	for b.Loop() {
		br.Publish(benchEvent, "t")
		if queued++; queued == batch {
			b.StopTimer()
			for _, s := range subs {
				if buf, _ = s.Take(buf[:0], 0); len(buf) != queued {
					b.Fatalf("took %d events, want %d (Err=%v)", len(buf), queued, s.Err())
				}
			}
			queued = 0
			b.StartTimer()
		}
	}
}

// TestServerOutOfPackage: the NATS server is a test dependency only.
func TestServerOutOfPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	found := false
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/nats-io/nats-server") {
			t.Errorf("natsbus depends on %s", d)
		}
		found = found || d == "github.com/nats-io/nats.go"
	}
	if !found {
		t.Errorf("go list -deps did not list nats.go: %q", deps)
	}
}
