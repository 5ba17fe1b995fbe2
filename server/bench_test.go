package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
)

// Benchmark parameters: 1,000 concurrent chats, durable writes (real fsync).
const (
	benchChats     = 1000
	benchPerChat   = 5    // closed-loop messages per chat in the throughput phase
	benchRate      = 5000 // messages per second in the fixed-rate phase
	benchRateSecs  = 2
	benchWaitLimit = 60 * time.Second
)

type deliveryResult struct {
	throughput float64 // durable visitor→agent messages per second, closed loop
	p50, p99   time.Duration
	delivered  int // of the fixed-rate phase
	sent       int
}

// BenchmarkDelivery measures visitor→agent delivery through real WebSockets
// and a real bbolt file, with group commit and with a naive store that
// commits each message in its own transaction, in the same run. Run it with
// -benchtime 1x: one iteration is the whole workload.
func BenchmarkDelivery(b *testing.B) {
	for range b.N {
		group := runDelivery(b, false)
		naive := group
		if os.Getenv("BENCH_GROUP_ONLY") == "" {
			naive = runDelivery(b, true)
		}
		b.ReportMetric(group.throughput, "group-msgs/s")
		b.ReportMetric(naive.throughput, "naive-msgs/s")
		b.ReportMetric(group.throughput/naive.throughput, "ratio")
		b.ReportMetric(float64(group.p50.Microseconds())/1000, "group-p50-ms")
		b.ReportMetric(float64(group.p99.Microseconds())/1000, "group-p99-ms")
		b.ReportMetric(float64(naive.p50.Microseconds())/1000, "naive-p50-ms")
		b.ReportMetric(float64(naive.p99.Microseconds())/1000, "naive-p99-ms")
		b.Logf("group commit: %.0f msgs/s closed loop; at %d msgs/s: p50 %v p99 %v (%d/%d delivered)",
			group.throughput, benchRate, group.p50, group.p99, group.delivered, group.sent)
		b.Logf("naive:        %.0f msgs/s closed loop; at %d msgs/s: p50 %v p99 %v (%d/%d delivered)",
			naive.throughput, benchRate, naive.p50, naive.p99, naive.delivered, naive.sent)
		b.Logf("ratio group/naive: %.1fx", group.throughput/naive.throughput)
	}
}

type benchVisitor struct {
	c    *websocket.Conn
	acks chan struct{}
}

func runDelivery(b *testing.B, naive bool) deliveryResult {
	b.Helper()
	e := newEnv(b, &envOptions{
		storeOpts: &store.Options{NoGroupCommit: naive},
		// A thousand visitors from 127.0.0.1: no per-address limits.
		cfg: server.Config{MessageRate: 1e6, MessageBurst: 1e6,
			VisitorConnsPerIP: -1, NewVisitorsPerIP: -1, NewConversationsPerIP: -1},
	})
	agent := e.login("admin@example.com")

	// The agent's console: record when each message arrives.
	h := http.Header{"Origin": {e.base}}
	u, _ := http.NewRequest("GET", e.base, nil)
	for _, ck := range agent.hc.Jar.Cookies(u.URL) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx := context.Background()
	ac, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.base, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		b.Fatal(err)
	}
	ac.SetReadLimit(64 << 20)
	defer ac.CloseNow()
	_ = ac.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`))

	var sentAt sync.Map // clientId -> time.Time
	var mu sync.Mutex
	var latencies []time.Duration
	var received atomic.Int64
	go func() {
		type ev struct {
			Type    string
			Message struct{ ClientID string }
		}
		for {
			_, data, err := ac.Read(ctx)
			if err != nil {
				return
			}
			now := time.Now()
			var evs []ev
			if data[0] == '[' {
				_ = json.Unmarshal(data, &evs)
			} else {
				var one ev
				_ = json.Unmarshal(data, &one)
				evs = []ev{one}
			}
			for _, x := range evs {
				if x.Type != "message.created" {
					continue
				}
				if t, ok := sentAt.LoadAndDelete(x.Message.ClientID); ok {
					mu.Lock()
					latencies = append(latencies, now.Sub(t.(time.Time)))
					mu.Unlock()
				}
				received.Add(1)
			}
		}
	}()

	// 1,000 visitors, each with an open chat.
	visitors := make([]*benchVisitor, benchChats)
	var wg sync.WaitGroup
	for i := range visitors {
		c, _, err := websocket.Dial(ctx, e.visitorURL(), nil)
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		v := &benchVisitor{c: c, acks: make(chan struct{}, 10000)}
		visitors[i] = v
		go func() {
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				if n := strings.Count(string(data), `"message.ack"`); n > 0 {
					for range n {
						v.acks <- struct{}{}
					}
				}
			}
		}()
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`))
	}
	defer func() {
		for _, v := range visitors {
			_ = v.c.CloseNow()
		}
	}()
	send := func(v *benchVisitor, id string) {
		msg := fmt.Sprintf(`{"type":"message.send","clientId":%q,"text":"benchmark message %s"}`, id, id)
		_ = v.c.Write(ctx, websocket.MessageText, []byte(msg))
	}
	for i, v := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(v, fmt.Sprintf("w%d", i))
			<-v.acks
		}()
	}
	wg.Wait()
	waitFor := func(n int64) {
		deadline := time.Now().Add(benchWaitLimit)
		for received.Load() < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(benchChats)

	// Throughput: every chat sends, waiting for each ack (closed loop).
	base := received.Load()
	start := time.Now()
	for i, v := range visitors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range benchPerChat {
				send(v, fmt.Sprintf("t%d-%d", i, j))
				<-v.acks
			}
		}()
	}
	wg.Wait()
	waitFor(base + benchChats*benchPerChat)
	res := deliveryResult{throughput: float64(received.Load()-base) / time.Since(start).Seconds()}

	// Latency at a fixed rate: open loop, round robin over the chats.
	mu.Lock()
	latencies = latencies[:0]
	mu.Unlock()
	base = received.Load()
	total := benchRate * benchRateSecs
	tick := time.NewTicker(time.Millisecond)
	perTick := benchRate / 1000
	next := 0
	for sent := 0; sent < total; {
		<-tick.C
		for range perTick {
			id := fmt.Sprintf("r%d", sent)
			sentAt.Store(id, time.Now())
			send(visitors[next], id)
			next = (next + 1) % len(visitors)
			sent++
		}
	}
	tick.Stop()
	waitFor(base + int64(total))
	mu.Lock()
	lat := slices.Clone(latencies)
	mu.Unlock()
	slices.Sort(lat)
	res.sent, res.delivered = total, len(lat)
	if len(lat) > 0 {
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[len(lat)*99/100]
	}
	// Drain outstanding acks so visitors' readers are idle before teardown.
	return res
}
