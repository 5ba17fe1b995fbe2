package server

import (
	"sync"
	"testing"
	"time"
)

// TestFramePool: do runs each call to its end on a pool goroutine, calls
// at once get goroutines of their own, a goroutine is used again, a panic
// reaches the caller, idle goroutines end, and close ends the rest.
func TestFramePool(t *testing.T) {
	p := newFramePool(time.Hour)

	// Ten calls at once, each waiting for all to have started: ten
	// goroutines.
	var started, wg sync.WaitGroup
	started.Add(10)
	release := make(chan struct{})
	ran := make(chan int, 10)
	for i := range 10 {
		wg.Go(func() {
			p.do(func() {
				started.Done()
				<-release
				ran <- i
			})
		})
	}
	started.Wait()
	close(release)
	wg.Wait()
	if len(ran) != 10 {
		t.Fatalf("%d calls ran, want 10", len(ran))
	}
	if n, live := idleWorkers(p), p.live.Load(); n != 10 || live != 10 {
		t.Errorf("%d idle of %d goroutines after ten calls at once, want 10 of 10", n, live)
	}

	// One after another: the same goroutine.
	for range 100 {
		p.do(func() {})
	}
	if n := idleWorkers(p); n != 10 {
		t.Errorf("%d idle goroutines after calls one at a time, want 10 still", n)
	}

	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the call's panic", v)
			}
		}()
		p.do(func() { panic("boom") })
		t.Error("do returned after its call panicked")
	}()

	// Idle for longer than idleFor: all end.
	short := newFramePool(50 * time.Millisecond)
	for range 3 {
		short.do(func() {})
	}
	waitLive(t, "a pool idle for longer than idleFor", short, 0)
	if n := idleWorkers(short); n != 0 {
		t.Errorf("%d idle goroutines listed after they ended", n)
	}

	// close ends an idle goroutine, and a busy one when its call returns.
	busy := make(chan struct{})
	done := make(chan struct{})
	go func() {
		p.do(func() { <-busy })
		close(done)
	}()
	p.close()
	close(busy)
	<-done
	p.do(func() {}) // still works, on a goroutine that ends after it
	waitLive(t, "a closed pool", p, 0)
}

// waitLive waits until p has want goroutines, idle or busy.
func waitLive(t *testing.T, what string, p *framePool, want int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.live.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines, want %d", what, p.live.Load(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func idleWorkers(p *framePool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
