package app

import (
	"fmt"
	"testing"
	"time"
)

// TestSenderLimits: each sender has its own bucket; a flood of distinct
// senders never keeps more than the cap, and the newest senders stay
// limited while the flood goes on.
func TestSenderLimits(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }
	allowAt := func(l *Limiter, addr string, at time.Time) bool {
		now = at
		ok, _ := l.Allow(senderKey(addr))
		return ok
	}
	l := newSenderLimits(20, 3, 100, clock)
	for i := range 5 {
		if got, want := allowAt(l, "Flood@attacker.example", now), i < 3; got != want {
			t.Errorf("mail %d: allowed=%v, want %v", i, got, want)
		}
	}
	if !allowAt(l, "other@customer.example", now) {
		t.Error("another sender is limited")
	}
	// 20 per hour: one more every 3 minutes, case aside.
	if t3 := start.Add(3 * time.Minute); !allowAt(l, "flood@attacker.example", t3) || allowAt(l, "flood@attacker.example", t3) {
		t.Error("the bucket does not refill at 20 per hour")
	}

	for i := range 1000 {
		allowAt(l, fmt.Sprintf("s%d@attacker.example", i), now)
		if n := l.len(); n > 100 {
			t.Fatalf("%d senders kept, want at most 100", n)
		}
	}
	// The latest sender is still remembered, and limited.
	for range 2 {
		allowAt(l, "s999@attacker.example", now)
	}
	if allowAt(l, "s999@attacker.example", now) {
		t.Error("a recent sender's bucket was forgotten during the flood")
	}
	// Buckets that have refilled are dropped first: two idle hours later
	// every bucket is full again, and a new sender drops them all.
	allowAt(l, "late@customer.example", now.Add(2*time.Hour))
	if n := l.len(); n != 1 {
		t.Errorf("%d senders kept after an idle hour, want 1", n)
	}

	off := newSenderLimits(-1, 1, 10, clock)
	for i := range 3 {
		if !allowAt(off, "a@b", now) {
			t.Errorf("mail %d refused with the limit off", i)
		}
	}
	if off.len() != 0 {
		t.Errorf("%d senders kept with the limit off, want none", off.len())
	}
}
