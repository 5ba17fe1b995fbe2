package hub

import (
	"testing"

	"github.com/parley-chat/parley"
)

// TestStatsQueued: Stats adds up the events waiting in every live queue,
// once per subscription, and forgets those read or dropped.
func TestStatsQueued(t *testing.T) {
	h := New(&Options{BufferSize: 4})
	defer h.Close()
	a, ab := h.Subscribe("a"), h.Subscribe("a", "b")
	slow := h.Subscribe("b")
	for range 3 {
		h.Publish([]byte("x"), "a", "b")
	}
	if got, want := h.Stats().Queued, 9; got != want {
		t.Fatalf("queued=%d, want %d", got, want)
	}
	a.Take(nil, 1)
	ab.Take(nil, 1)
	if got, want := h.Stats().Queued, 7; got != want {
		t.Errorf("queued after two reads=%d, want %d", got, want)
	}
	for range 2 {
		h.Publish([]byte("y"), "b") // the fifth event overflows slow's queue of 4
	}
	st := h.Stats()
	if st.Dropped != 1 || slow.Err() != parley.ErrSlow {
		t.Fatalf("dropped=%d, slow.Err=%v; want 1 and ErrSlow", st.Dropped, slow.Err())
	}
	// a holds 2, ab 2+2; slow's 4 left with it.
	if got, want := st.Queued, 6; got != want {
		t.Errorf("queued after the drop=%d, want %d", got, want)
	}
}
