package store

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley"
)

// BenchmarkAppend appends chat messages from many goroutines at once, with
// real fsync: through the group-commit writer, and naively, each append its
// own transaction. It reports appends per second, appends per commit, and
// the 4 KB pages each append writes (without the meta page): with chats
// spread over many threads, each append dirties pages of its own (its
// thread's record, its thread's messages), which is what a commit costs.
func BenchmarkAppend(b *testing.B) {
	for _, bb := range []struct {
		name string
		opts Options
	}{
		{"group", Options{}},
		{"naive", Options{NoGroupCommit: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			ctx := b.Context()
			db := MustOpen(b, &bb.opts)
			const threads = 64
			var ids [threads]uint64
			for i := range ids {
				th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: uint64(i + 1)}
				if err := db.CreateThread(ctx, th); err != nil {
					b.Fatal(err)
				}
				ids[i] = th.ID
			}
			commits, written := db.commits.Load(), db.written.Load()
			pages := pagesWritten(db)
			var n atomic.Uint64

			b.SetParallelism(64) // × GOMAXPROCS writers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					m := &parley.Message{
						ThreadID: ids[i%threads], Type: parley.TypeMessage, Direction: parley.Incoming,
						Text:     "Hello! Do you ship to Switzerland, and how long does it usually take?",
						SenderID: parley.ContactActorID(i%threads + 1), ClientID: strconv.FormatUint(i, 10),
					}
					if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(db.written.Load()-written)/float64(db.commits.Load()-commits), "msgs/commit")
			b.ReportMetric(float64(pagesWritten(db)-pages)/float64(b.N), "pages/msg")
		})
	}
}

// pagesWritten is the number of pages db's commits have written so far.
func pagesWritten(db *DB) int64 {
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}
