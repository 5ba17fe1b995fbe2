package evqueue

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// TestQueue: events come out in the order they went in, across segments;
// a full queue refuses the next; the notify function runs when the queue
// turns non-empty and on Wake, not for every event; an emptied queue holds
// no segment.
func TestQueue(t *testing.T) {
	var q Queue
	var calls atomic.Int32
	if q.SetNotify(func() { calls.Add(1) }) {
		t.Fatal("an empty queue reports events pending")
	}
	if q.Segments() != 0 {
		t.Fatal("an empty queue holds a segment")
	}
	const size = 3*SegSize + 5
	for i := range size {
		if !q.Push([]byte(fmt.Sprint(i)), size) {
			t.Fatalf("push %d refused below the bound", i)
		}
	}
	if q.Push([]byte("over"), size) {
		t.Fatal("a full queue took one more")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("notify ran %d times for one burst, want once", got)
	}
	if !q.SetNotify(func() { calls.Add(1) }) || q.Len() != size || q.Segments() != 4 {
		t.Fatalf("pending %v, len %d, %d segments; want true, %d, 4", q.SetNotify(func() { calls.Add(1) }), q.Len(), q.Segments(), size)
	}
	var got [][]byte
	for {
		var more int
		got, more = q.Take(got, 7)
		if more == 0 {
			break
		}
	}
	for i, b := range got {
		if string(b) != fmt.Sprint(i) {
			t.Fatalf("event %d is %s", i, b)
		}
	}
	if len(got) != size || q.Segments() != 0 {
		t.Errorf("took %d, %d segments left; want %d, none", len(got), q.Segments(), size)
	}
	q.Push([]byte("again"), size)
	if calls.Load() != 2 {
		t.Errorf("notify ran %d times, want a second time when the queue turned non-empty again", calls.Load())
	}
	q.Wake()
	if calls.Load() != 3 {
		t.Errorf("Wake did not call notify")
	}
	q.SetNotify(nil)
	q.Wake()
	if calls.Load() != 3 {
		t.Errorf("notify ran after it was removed")
	}
}
