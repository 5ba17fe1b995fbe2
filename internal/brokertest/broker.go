// Package brokertest is the contract suite of [parley.Broker] and
// [parley.Presence]: tests any implementation must pass on one node. Each
// implementation's package runs it with a function that opens a fresh
// broker.
package brokertest

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Open returns a new, open broker whose subscriptions queue at most
// bufSize events by default (bufSize <= 0: the broker's default). The
// broker is closed when the test ends.
type Open func(t *testing.T, bufSize int) parley.Broker

// RunBroker runs the broker contract against brokers from open.
func RunBroker(t *testing.T, open Open) {
	t.Run("PublishSameSlice", func(t *testing.T) { runPublishSameSlice(t, open) })
	t.Run("Ordering", func(t *testing.T) { runOrdering(t, open) })
	t.Run("SubscribeBuffer", func(t *testing.T) { runSubscribeBuffer(t, open) })
	t.Run("Notify", func(t *testing.T) { runNotify(t, open) })
}

func drain(s parley.Subscription) []string {
	evs, _ := s.Take(nil, 0)
	var out []string
	for _, e := range evs {
		out = append(out, string(e))
	}
	return out
}

func pub(h parley.Broker, data string, topics ...string) { h.Publish([]byte(data), topics...) }

// runPublishSameSlice checks that every subscriber gets the publisher's slice
// itself, not a copy.
func runPublishSameSlice(t *testing.T, open Open) {
	h := open(t, 0)
	a, b := h.Subscribe("a"), h.Subscribe("a", "b")
	data := []byte("event")
	h.Publish(data, "a", "b")
	for i, s := range []parley.Subscription{a, b} {
		if got, _ := s.Take(nil, 1); &got[0][0] != &data[0] {
			t.Errorf("sub %d got a copy, want the published slice", i)
		}
	}
}

// runOrdering runs publishers and subscribers concurrently. Every subscriber
// must get every event exactly once, each publisher's events in the order
// published, and all subscribers the same total order.
func runOrdering(t *testing.T, open Open) {
	const publishers, events, subscribers = 8, 1000, 16
	const total = publishers * events
	// A buffer for everything: this test is about order, not slowness.
	h := open(t, total)

	subs := make([]parley.Subscription, subscribers)
	for i := range subs {
		subs[i] = h.Subscribe("all")
		if i%2 == 1 {
			// Also on every publisher's own topic, to exercise
			// deduplication under concurrency.
			for p := range publishers {
				subs[i].Add(fmt.Sprint("p", p))
			}
		}
	}

	got := make([][]uint64, subscribers)
	var wg sync.WaitGroup
	for i, s := range subs {
		ready := make(chan struct{}, 1)
		s.Notify(func() {
			select {
			case ready <- struct{}{}:
			default:
			}
		})
		wg.Go(func() {
			timeout := time.After(30 * time.Second)
			var evs [][]byte
			for len(got[i]) < total {
				select {
				case <-ready:
					// A small max takes a queue in several bites, as
					// the WebSocket writer does.
					for more := 1; more > 0; {
						evs, more = s.Take(evs[:0], 7)
						for _, ev := range evs {
							got[i] = append(got[i], binary.BigEndian.Uint64(ev))
						}
					}
				case <-s.Done():
					return
				case <-timeout:
					return
				}
			}
		})
	}
	for p := range publishers {
		wg.Go(func() {
			topic := fmt.Sprint("p", p)
			for n := range events {
				ev := binary.BigEndian.AppendUint64(nil, uint64(p)<<32|uint64(n))
				h.Publish(ev, "all", topic)
			}
		})
	}
	wg.Wait()

	for i, s := range subs {
		if err := s.Err(); err != nil {
			t.Errorf("sub %d Err=%v, want nil", i, err)
		}
		if len(got[i]) != total {
			t.Errorf("sub %d got %d events, want %d", i, len(got[i]), total)
			continue
		}
		next := make([]uint64, publishers)
		for _, ev := range got[i] {
			p, n := ev>>32, ev&(1<<32-1)
			if n != next[p] {
				t.Errorf("sub %d: publisher %d event %d, want %d", i, p, n, next[p])
				break
			}
			next[p]++
		}
		if i > 0 && !slices.Equal(got[i], got[0]) {
			t.Errorf("sub %d saw another order than sub 0", i)
		}
	}
}

// runNotify: the notify function hears of the first event into an empty
// queue, not of the ones that join it, again once the queue has been
// taken, at once when given to a subscription with events waiting, and
// once when the subscription ends.
func runNotify(t *testing.T, open Open) {
	h := open(t, 4)
	s := h.Subscribe("a")
	var calls atomic.Int32
	s.Notify(func() { calls.Add(1) })
	if got := calls.Load(); got != 0 {
		t.Fatalf("calls before any event=%d, want 0", got)
	}
	pub(h, "1", "a")
	pub(h, "2", "a")
	if got := calls.Load(); got != 1 {
		t.Errorf("calls after two events=%d, want 1", got)
	}
	if got, more := s.Take(nil, 1); len(got) != 1 || string(got[0]) != "1" || more != 1 {
		t.Errorf("Take(1)=%q, %d; want [1], 1", got, more)
	}
	pub(h, "3", "a") // the queue was not empty: no call
	if got := calls.Load(); got != 1 {
		t.Errorf("calls after an event into a queue not taken=%d, want 1", got)
	}
	if got := drain(s); len(got) != 2 || got[0] != "2" || got[1] != "3" {
		t.Errorf("drain=%q, want [2 3]", got)
	}
	pub(h, "4", "a")
	if got := calls.Load(); got != 2 {
		t.Errorf("calls after an event into the emptied queue=%d, want 2", got)
	}
	var late atomic.Int32
	s.Notify(func() { late.Add(1) }) // "4" waits
	if got := late.Load(); got != 1 {
		t.Errorf("calls of a notify given with an event waiting=%d, want 1", got)
	}
	for range 4 {
		pub(h, "x", "a") // the fifth event waiting drops s
	}
	if s.Err() != parley.ErrSlow {
		t.Fatalf("Err()=%v, want ErrSlow", s.Err())
	}
	if got := late.Load(); got != 2 {
		t.Errorf("calls after the drop=%d, want 2", got)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("a replaced notify was called: %d calls, want 2", got)
	}
	var ended atomic.Int32
	s.Notify(func() { ended.Add(1) })
	if got := ended.Load(); got != 1 {
		t.Errorf("calls of a notify given to an ended subscription=%d, want 1", got)
	}
	s.Notify(nil)
	s.Close()
}

func runSubscribeBuffer(t *testing.T, open Open) {
	h := open(t, 2)
	big := h.SubscribeBuffer(10, "t")
	small := h.SubscribeBuffer(0, "t") // default: 2
	for range 5 {
		h.Publish([]byte("x"), "t")
	}
	if got := big.Err(); got != nil {
		t.Errorf("big.Err()=%v, want nil with 5 of 10 queued", got)
	}
	if got, _ := big.Take(nil, 0); len(got) != 5 {
		t.Errorf("big took %d events, want 5", len(got))
	}
	if got := small.Err(); got != parley.ErrSlow {
		t.Errorf("small.Err()=%v, want parley.ErrSlow", got)
	}
}
