package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestObserveCommit: every acknowledged write is in exactly one observed
// commit, with group commit and without; a failed write is in none.
func TestObserveCommit(t *testing.T) {
	for _, naive := range []bool{false, true} {
		t.Run(fmt.Sprint("naive=", naive), func(t *testing.T) {
			var commits, writes atomic.Int64
			var mu sync.Mutex
			var durs []time.Duration
			db := MustOpen(t, &Options{NoSync: true, NoGroupCommit: naive, ObserveCommit: func(n int, d time.Duration) {
				commits.Add(1)
				writes.Add(int64(n))
				mu.Lock()
				durs = append(durs, d)
				mu.Unlock()
			}})
			ctx := context.Background()
			const n = 50
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					it := &parley.OutboxItem{Kind: parley.OutboxNotification, Email: parley.Email{MessageID: fmt.Sprintf("m%d@x", i), To: []parley.Address{{Email: "a@x"}}, Text: "t"}}
					if err := db.QueueMail(ctx, it); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if err := db.QueueMail(ctx, &parley.OutboxItem{}); parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("invalid item: %v, want EINVALID", err)
			}
			if got := writes.Load(); got != n {
				t.Errorf("writes observed=%d, want %d", got, n)
			}
			if c := commits.Load(); c < 1 || c > n || naive && c != n {
				t.Errorf("commits observed=%d for %d writes (naive %v)", c, n, naive)
			}
			mu.Lock()
			for _, d := range durs {
				if d < 0 {
					t.Errorf("negative commit time %v", d)
				}
			}
			mu.Unlock()
			if got, err := db.OutboxLen(ctx); err != nil || got != n {
				t.Errorf("OutboxLen=%d, %v; want %d", got, err, n)
			}
		})
	}
}
