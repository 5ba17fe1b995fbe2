package hub

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/evqueue"
)

// TestQueueLazy: a subscription holds no queue until an event arrives, and
// gives back a burst's queue once it has been taken.
func TestQueueLazy(t *testing.T) {
	h := New(&Options{BufferSize: 1000})
	defer h.Close()
	sub := h.Subscribe("a")
	s := sub.(*Subscription)
	if s.q.Segments() != 0 {
		t.Fatal("new subscription holds a queue, want none")
	}
	for range 500 {
		pub(h, "x", "a")
	}
	if got, more := sub.Take(nil, 100); len(got) != 100 || more != 400 {
		t.Fatalf("Take(100) took %d, left %d; want 100, 400", len(got), more)
	}
	if got, more := sub.Take(nil, 0); len(got) != 400 || more != 0 {
		t.Fatalf("Take(0) took %d, left %d; want 400, 0", len(got), more)
	}
	if s.q.Segments() != 0 {
		t.Error("emptied queue still holds segments after a burst, want none")
	}
	for i := range 3 * evqueue.SegSize { // across segments, in order
		pub(h, fmt.Sprint(i), "a")
		if i%5 == 0 {
			got, _ := sub.Take(nil, 1)
			if want := fmt.Sprint(i / 5); string(got[0]) != want {
				t.Fatalf("took %s, want %s", got[0], want)
			}
		}
	}
	if err := sub.Err(); err != nil {
		t.Errorf("Err()=%v, want nil", err)
	}
}
