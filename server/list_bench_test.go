package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// BenchmarkThreadList measures the console's list request over HTTP with
// 100,000 conversations in the inbox: the first page of 50 of a view, open
// conversations, latest activity first, as the console asks for it (with
// contact names), and the views' counts. It reports p50 and p99 latency.
//
//	go test -run '^$' -bench BenchmarkThreadList -benchtime 200x ./server/
func BenchmarkThreadList(b *testing.B) {
	const threads = 100_000
	e := newEnv(b, nil)
	amy := e.addAgent("amy@example.com", true)
	other := e.addAgent("olga@example.com", true)
	fillInbox(b, e, threads, amy.ID, other.ID)
	c := e.login("amy@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := e.db.WaitIndexed(ctx, 0); err != nil { // the indexer is idle while we measure
		b.Fatal(err)
	}
	list := fmt.Sprintf("%s/threads?inboxId=%d&threadStatus=OPEN&sort=-latestMessageTimestamp&limit=50&view=", v3, e.inbox.ID)
	for _, bb := range []struct{ name, path string }{
		{"all", list + "all"},
		{"mine", list + "mine"},
		{"unassigned", list + "unassigned"},
		{"email", list + "email"},
		{"filtered", list + "filtered"},
		{"all-chat-assignee", list + "all&channelId=1000&assignee=A-" + fmt.Sprint(other.ID)},
		{"counts", fmt.Sprintf("/api/v1/views/counts?inboxId=%d", e.inbox.ID)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				res := c.do("GET", bb.path, nil, nil)
				took = append(took, time.Since(start))
				if res.status != http.StatusOK {
					b.Fatalf("status=%d body=%s", res.status, res.body)
				}
			}
			slices.Sort(took)
			at := func(p int) float64 {
				return float64(took[min(len(took)-1, (len(took)*p+99)/100-1)]) / float64(time.Millisecond)
			}
			b.ReportMetric(at(50), "p50-ms")
			b.ReportMetric(at(99), "p99-ms")
		})
	}
}

// fillInbox writes n conversations into e's inbox from many goroutines: a
// contact and a first message each at a random time of the past year; 70%
// open; 10% assigned to mine, 30% to other; 2% spam; a third by email.
func fillInbox(b *testing.B, e *env, n int, mine, other uint64) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	const workers = 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	t0 := time.Now().Add(-365 * 24 * time.Hour)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < n; i += workers {
				ct := &parley.Contact{FirstName: fmt.Sprintf("Contact %d", i), Email: fmt.Sprintf("c%d@example.com", i)}
				if err := e.db.CreateContact(ctx, ct); err != nil {
					errs <- err
					return
				}
				nt := &parley.Thread{InboxID: e.inbox.ID, ChannelID: parley.ChannelChat, ChannelAccountID: e.widget.ID, ContactID: ct.ID}
				if i%3 == 0 {
					nt.ChannelID, nt.Subject = parley.ChannelEmail, "Order question"
				}
				m := &parley.Message{Type: parley.TypeMessage, Text: "Hello, where is my order?", SenderID: ct.ActorID(), Direction: parley.Incoming,
					CreatedAt: t0.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))}
				res, err := e.db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: nt})
				if err != nil {
					errs <- err
					return
				}
				var assignee uint64
				switch r.IntN(10) {
				case 0:
					assignee = mine
				case 1, 2, 3:
					assignee = other
				}
				closed, spam := r.IntN(10) < 3, r.IntN(50) == 0
				if assignee != 0 || closed || spam {
					_, err = e.db.UpdateThread(ctx, res.Thread.ID, func(t *parley.Thread) error {
						t.AssigneeID, t.Spam = assignee, spam
						if closed {
							t.Status = parley.StatusClosed
						}
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("wrote %d conversations in %s", n, time.Since(start).Round(time.Millisecond))
}
