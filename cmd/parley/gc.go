package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom sets how far the heap may grow between garbage collections:
// at least headroom bytes beyond the live heap, or Go's default (as much
// again as the live heap) where that is more. A chat server's live heap is
// small (tens of MB) while it allocates briskly for every message, so Go's
// default collects many times a second; the headroom makes the collections
// fewer, at a bounded cost in memory, and changes nothing once the live
// heap exceeds it. A GOMEMLIMIT still holds.
type gcHeadroom struct {
	headroom uint64
	last     int // the GC percent set last; 0 before the first
}

// gcLive is the runtime metric of the heap the last collection found live.
const gcLive = "/gc/heap/live:bytes"

// percent is the GOGC value that gives headroom over live bytes, never
// below Go's default of 100.
func (g *gcHeadroom) percent(live uint64) int {
	if live == 0 {
		live = 1 << 20
	}
	p := g.headroom * 100 / live
	return int(min(max(p, 100), 10000))
}

// adjust sets the GC percent for the live heap when it has moved by more
// than a tenth since it was last set.
func (g *gcHeadroom) adjust(live uint64) {
	p := g.percent(live)
	if g.last != 0 && p*10 > g.last*9 && p*10 < g.last*11 {
		return
	}
	debug.SetGCPercent(p)
	g.last = p
}

// run adjusts the GC percent every interval until ctx ends, then restores
// Go's default.
func (g *gcHeadroom) run(ctx context.Context, every time.Duration) {
	sample := []metrics.Sample{{Name: gcLive}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			g.adjust(sample[0].Value.Uint64())
		}
		select {
		case <-ctx.Done():
			debug.SetGCPercent(100)
			return
		case <-t.C:
		}
	}
}
