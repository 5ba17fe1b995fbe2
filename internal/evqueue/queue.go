// Package evqueue is the queue of a broker's subscription, shared by the
// in-memory hub and the NATS bus: bounded, grown on demand in pooled
// segments, and able to tell its consumer when it turns non-empty, so that
// an idle consumer needs no goroutine waiting.
package evqueue

import "sync"

// Queue is one subscription's events, oldest first. Its zero value is an
// empty queue. All methods are safe for concurrent use; a publisher pushes
// while the consumer takes, and neither waits for the other's other work.
type Queue struct {
	// mu guards everything below. The queue is a list of segments from
	// segPool, oldest first, read from head.ev[r] and written at
	// tail.ev[w]; an empty queue holds none.
	mu         sync.Mutex
	head, tail *segment
	r, w       int
	n          int // events queued
	notify     func()
}

// SegSize is how many events one segment of a queue holds.
const SegSize = 32

// segment is a piece of a queue. Queues take segments from segPool as
// events arrive and give them back as they are taken, so an idle queue
// holds none and a burst copies nothing as it grows.
type segment struct {
	ev   [SegSize][]byte
	next *segment
}

var segPool = sync.Pool{New: func() any { return new(segment) }}

// Push queues data unless size events are queued already, in which case it
// queues nothing and reports false. When the queue turns non-empty it calls
// the notify function (SetNotify), after releasing the queue.
func (q *Queue) Push(data []byte, size int) bool {
	q.mu.Lock()
	n := q.n
	if n >= size {
		q.mu.Unlock()
		return false
	}
	if q.tail == nil || q.w == SegSize {
		seg := segPool.Get().(*segment)
		if q.tail == nil {
			q.head, q.r = seg, 0
		} else {
			q.tail.next = seg
		}
		q.tail, q.w = seg, 0
	}
	q.tail.ev[q.w] = data
	q.w++
	q.n++
	notify := q.notify
	q.mu.Unlock()
	if n == 0 && notify != nil {
		notify()
	}
	return true
}

// Take appends up to max queued events (all of them if max <= 0) to buf in
// the order they were pushed, removes them from the queue, and returns buf
// and how many events are still queued.
func (q *Queue) Take(buf [][]byte, max int) ([][]byte, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if max <= 0 || max > q.n {
		max = q.n
	}
	for range max {
		buf = append(buf, q.head.ev[q.r])
		q.head.ev[q.r] = nil // the event is the consumer's now
		q.r++
		q.n--
		if q.n == 0 {
			segPool.Put(q.head)
			q.head, q.tail, q.r, q.w = nil, nil, 0, 0
		} else if q.r == SegSize {
			seg := q.head
			q.head, q.r = seg.next, 0
			seg.next = nil
			segPool.Put(seg)
		}
	}
	return buf, q.n
}

// SetNotify makes Push call f whenever the queue turns from empty to not
// empty (nil stops the calls), and reports whether events are queued now.
func (q *Queue) SetNotify(f func()) (pending bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.notify = f
	return q.n > 0
}

// Wake calls the notify function, if there is one: for a subscription that
// ended.
func (q *Queue) Wake() {
	q.mu.Lock()
	notify := q.notify
	q.mu.Unlock()
	if notify != nil {
		notify()
	}
}

// Len returns how many events are queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Segments returns how many segments the queue holds: none when it is
// empty.
func (q *Queue) Segments() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := 0
	for s := q.head; s != nil; s = s.next {
		k++
	}
	return k
}
