package hub

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

// benchEvent is about the size of one encoded message event.
var benchEvent = bytes.Repeat([]byte("x"), 512)

// benchBatch returns how many events a benchmark with n subscribers publishes
// before it drains every queue with the timer stopped: about 64Ki queued
// events in all, so that stopping the timer (which reads memory statistics,
// stopping the world) is rare.
//
// Draining inline rather than in a goroutine per subscriber keeps readers
// from competing with the publisher for CPUs: on a small machine they fall
// behind, the hub drops them, and what is left to measure is publishing to
// nobody. The numbers are the publisher's own cost, which is also how long it
// holds the hub's lock.
func benchBatch(n int) int {
	return max(64, 1<<16/max(n, 1))
}

// BenchmarkPublish publishes to one topic with n subscribers. Beside the hub
// runs "naive", the obvious first version: a copy of the event per subscriber
// and a send that waits for room instead of dropping (it never has to wait
// here, so the difference is the copies).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{0, 1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d/hub", n), func(b *testing.B) {
			benchHub(b, n, "t")
		})
		b.Run(fmt.Sprintf("subs=%d/naive", n), func(b *testing.B) {
			benchNaive(b, n)
		})
	}
}

// BenchmarkPublishTwoTopics is Parley's usual case, an event published to a
// thread and its inbox, with every subscriber on both: what deduplication
// adds.
func BenchmarkPublishTwoTopics(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			benchHub(b, n, parley.ThreadTopic(1), parley.InboxTopic(1))
		})
	}
}

func benchHub(b *testing.B, n int, topics ...string) {
	batch := benchBatch(n)
	h := New(&Options{BufferSize: batch})
	defer h.Close()
	subs := make([]parley.Subscription, n)
	for i := range subs {
		subs[i] = h.Subscribe(topics...)
	}
	b.ReportAllocs()
	queued := 0
	var buf [][]byte
	for b.Loop() {
		h.Publish(benchEvent, topics...)
		if queued++; queued == batch {
			b.StopTimer()
			for _, s := range subs {
				if buf, _ = s.Take(buf[:0], 0); len(buf) != queued {
					b.Fatalf("took %d events, want %d", len(buf), queued)
				}
			}
			queued = 0
			b.StartTimer()
		}
	}
	if d := h.Stats().Dropped; d != 0 {
		b.Fatalf("dropped %d subscriptions, want 0", d)
	}
}

// naiveHub is the baseline: one lock, a copy per subscriber, blocking sends.
type naiveHub struct {
	mu     sync.Mutex
	topics map[string][]chan []byte
}

func (h *naiveHub) publish(data []byte, topic string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.topics[topic] {
		c <- bytes.Clone(data)
	}
}

func benchNaive(b *testing.B, n int) {
	batch := benchBatch(n)
	h := &naiveHub{topics: make(map[string][]chan []byte)}
	for range n {
		h.topics["t"] = append(h.topics["t"], make(chan []byte, batch))
	}
	b.ReportAllocs()
	queued := 0
	for b.Loop() {
		h.publish(benchEvent, "t")
		if queued++; queued == batch {
			b.StopTimer()
			for _, c := range h.topics["t"] {
				for range queued {
					<-c
				}
			}
			queued = 0
			b.StartTimer()
		}
	}
}
