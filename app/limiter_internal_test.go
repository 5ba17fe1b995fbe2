package app

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(6, 2, func() time.Time { return now }) // one every 10s, burst 2
	for i := range 2 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("take %d refused within the burst", i)
		}
	}
	ok, after := l.Allow("a")
	if ok || after != 10*time.Second {
		t.Fatalf("third take: ok=%v after=%v, want false 10s", ok, after)
	}
	if ok, _ := l.Check("a"); ok {
		t.Fatal("check: a key without tokens reported ok")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited by the first")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Check("a"); !ok {
		t.Fatal("check after the refill: not ok")
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("take after the refill refused")
	}
}

func TestLimiterReserve(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(6, 1, func() time.Time { return now })
	undo, ok, _ := l.Reserve("a")
	if !ok {
		t.Fatal("reserve refused a full bucket")
	}
	if _, ok, after := l.Reserve("a"); ok || after != 10*time.Second {
		t.Fatalf("second reserve: ok=%v after=%v, want false 10s", ok, after)
	}
	undo()
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("the token given back is not there")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(1, 1, func() time.Time { return now })
	l.max = 100
	for i := range 1000 {
		now = now.Add(time.Millisecond)
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String())
	}
	if n := l.len(); n > l.max {
		t.Fatalf("holds %d keys, want at most %d", n, l.max)
	}
	// The newest key is still limited: eviction took the oldest.
	if ok, _ := l.Allow(netip.AddrFrom4([4]byte{10, 0, 3, 231}).String()); ok {
		t.Fatal("the newest key was forgotten")
	}
}

func TestLimiterAttempt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(6, 2, func() time.Time { return now }) // one every 10s, burst 2
	d1, ok1, _ := l.Attempt("a")
	d2, ok2, _ := l.Attempt("a")
	if !ok1 || !ok2 {
		t.Fatal("attempts within the burst refused")
	}
	if _, ok, after := l.Attempt("a"); ok || after <= 0 {
		t.Fatalf("third attempt under way: ok=%v after=%v, want refused", ok, after)
	}
	d1(false) // success: the token is back
	d3, ok, _ := l.Attempt("a")
	if !ok {
		t.Fatal("attempt after a success refused")
	}
	d2(true)
	d3(true)
	d3(true) // a second call counts nothing
	if _, ok, after := l.Attempt("a"); ok || after != 10*time.Second {
		t.Fatalf("after two failures: ok=%v after=%v, want refused for 10s", ok, after)
	}
	now = now.Add(10 * time.Second)
	if _, ok, _ := l.Attempt("a"); !ok {
		t.Fatal("attempt after the refill refused")
	}
	var nilLimiter *Limiter
	if done, ok, _ := nilLimiter.Attempt("a"); !ok || done == nil {
		t.Fatal("a nil limiter refused")
	}
}
