package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// framePool runs the handling of WebSocket frames on goroutines kept for
// it. Handling a frame (decode, store, publish, encode) needs a stack of
// some 16 KB. A connection's reader, idle most of the time, has its stack
// shrunk back by the garbage collector and would grow it again, copying it
// each time, for every frame it handled itself; under load that copying
// costs more than the hand-over to a goroutine whose stack has already
// grown. Idle connections keep their small stacks.
//
// A pool goroutine idle for idleFor ends, so an idle server holds none;
// Close ends them all.
type framePool struct {
	idleFor time.Duration

	mu     sync.Mutex
	idle   []*frameWorker // the most recently used last
	closed bool

	live atomic.Int32 // goroutines of the pool, idle or busy; for tests
}

type frameWorker struct {
	in  chan func()
	out chan any // what the call panicked with, or nil
}

// framesIdle is how long a frame goroutine waits for work before it ends.
const framesIdle = 2 * time.Second

func newFramePool(idleFor time.Duration) *framePool {
	return &framePool{idleFor: idleFor}
}

// do runs fn on a pool goroutine and returns when it has returned. A panic
// of fn is raised again in the caller.
func (p *framePool) do(fn func()) {
	w := p.get()
	w.in <- fn
	v := <-w.out
	p.put(w)
	if v != nil {
		panic(v)
	}
}

func (p *framePool) get() *frameWorker {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return w
	}
	p.mu.Unlock()
	w := &frameWorker{in: make(chan func()), out: make(chan any)}
	go p.work(w)
	return w
}

func (p *framePool) put(w *frameWorker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		close(w.in)
		return
	}
	p.idle = append(p.idle, w)
}

// work runs the calls w is given until it has been idle for p.idleFor or
// the pool is closed.
func (p *framePool) work(w *frameWorker) {
	p.live.Add(1)
	defer p.live.Add(-1)
	t := time.NewTimer(p.idleFor)
	defer t.Stop()
	for {
		select {
		case fn, ok := <-w.in:
			if !ok {
				return
			}
			w.out <- call(fn)
			t.Reset(p.idleFor)
		case <-t.C:
			if p.retire(w) {
				return
			}
			// Taken by do meanwhile: its call is on the way.
			t.Reset(p.idleFor)
		}
	}
}

// retire takes w out of the idle list, reporting false if it is not there
// (do has just taken it).
func (p *framePool) retire(w *frameWorker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

// call runs fn and returns what it panicked with, if anything.
func call(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// close ends the idle goroutines, and each busy one when its call returns.
func (p *framePool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, w := range p.idle {
		close(w.in)
	}
	p.idle = nil
}
