package hub

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
)

// TestNotify: the notify function hears of the first event into an empty
// queue, not of the ones that join it, again once the queue has been
// taken, at once when given to a subscription with events waiting, and
// once when the subscription ends.
func TestNotify(t *testing.T) {
	h := New(&Options{BufferSize: 4})
	defer h.Close()
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

// TestQueueLazy: a subscription holds no queue until an event arrives, and
// gives back a burst's queue once it has been taken.
func TestQueueLazy(t *testing.T) {
	h := New(&Options{BufferSize: 1000})
	defer h.Close()
	sub := h.Subscribe("a")
	s := sub.(*Subscription)
	if s.head != nil {
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
	if s.head != nil || s.tail != nil {
		t.Error("emptied queue still holds segments after a burst, want none")
	}
	for i := range 3 * segSize { // across segments, in order
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
