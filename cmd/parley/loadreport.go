package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxViolationsListed bounds the violations a report lists; the count
// covers them all.
const maxViolationsListed = 50

// agentLog is what one agent socket received, per thread in the order
// received. It is safe for concurrent use.
type agentLog struct {
	mu      sync.Mutex
	threads map[string][]delivery
}

type delivery struct {
	seq      uint64
	clientID string
}

func newAgentLog() *agentLog { return &agentLog{threads: map[string][]delivery{}} }

func (a *agentLog) add(threadID string, seq uint64, clientID string) {
	a.mu.Lock()
	a.threads[threadID] = append(a.threads[threadID], delivery{seq, clientID})
	a.mu.Unlock()
}

// ackedMsg is a message the server acknowledged to its visitor.
type ackedMsg struct {
	ClientID, ThreadID string
	Seq                uint64
}

// checkDeliveries checks that every agent received every acknowledged
// message exactly once, and every thread of those messages in seq order
// from 1 without gaps or duplicates (an agent sees every message of a
// thread, notes and assignments too). It returns the violations, one line
// each; none means the check passed.
func checkDeliveries(acked []ackedMsg, agents []*agentLog) []string {
	byThread := map[string][]ackedMsg{}
	for _, m := range acked {
		byThread[m.ThreadID] = append(byThread[m.ThreadID], m)
	}
	threads := make([]string, 0, len(byThread))
	for t := range byThread {
		threads = append(threads, t)
	}
	sort.Strings(threads)
	var out []string
	for i, a := range agents {
		a.mu.Lock()
		for _, t := range threads {
			got := a.threads[t]
			seen := map[uint64]string{} // seq → clientId delivered
			var last, top uint64
			for _, d := range got {
				if _, dup := seen[d.seq]; dup {
					out = append(out, fmt.Sprintf("agent %d, thread %s: seq %d delivered again (duplicate)", i+1, t, d.seq))
					continue
				}
				seen[d.seq] = d.clientID
				if d.seq < last {
					out = append(out, fmt.Sprintf("agent %d, thread %s: seq %d after seq %d (out of order)", i+1, t, d.seq, last))
				}
				last = d.seq
				top = max(top, d.seq)
			}
			for s := uint64(1); s <= top; s++ {
				if _, ok := seen[s]; ok {
					continue
				}
				e := s
				for e+1 <= top {
					if _, ok := seen[e+1]; ok {
						break
					}
					e++
				}
				if e == s {
					out = append(out, fmt.Sprintf("agent %d, thread %s: seq %d never delivered (gap)", i+1, t, s))
				} else {
					out = append(out, fmt.Sprintf("agent %d, thread %s: seqs %d to %d never delivered (gap)", i+1, t, s, e))
				}
				s = e
			}
			for _, m := range byThread[t] {
				cid, ok := seen[m.Seq]
				switch {
				case !ok && m.Seq > top:
					out = append(out, fmt.Sprintf("agent %d, thread %s: acknowledged message %s (seq %d) never delivered", i+1, t, m.ClientID, m.Seq))
				case ok && cid != m.ClientID:
					out = append(out, fmt.Sprintf("agent %d, thread %s: seq %d delivered as %q, acknowledged as %q", i+1, t, m.Seq, cid, m.ClientID))
				}
			}
		}
		a.mu.Unlock()
	}
	return out
}

// latency is one latency distribution in milliseconds.
type latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50Ms"`
	P99  float64 `json:"p99Ms"`
	P999 float64 `json:"p999Ms"`
	Max  float64 `json:"maxMs"`
}

// newLatency sorts samples (in place) and reads the percentiles off them.
func newLatency(samples []time.Duration) latency {
	l := latency{N: len(samples)}
	if len(samples) == 0 {
		return l
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(samples)))) - 1
		return float64(samples[max(0, i)]) / 1e6
	}
	l.P50, l.P99, l.P999 = at(0.50), at(0.99), at(0.999)
	l.Max = float64(samples[len(samples)-1]) / 1e6
	return l
}

// loadReport is what parley loadtest prints, as text or JSON.
type loadReport struct {
	Visitors      int     `json:"visitors"`
	Agents        int     `json:"agents"`
	Rate          float64 `json:"rate"` // 0: closed loop
	Size          int     `json:"size"`
	WarmupSeconds float64 `json:"warmupSeconds"`
	SendSeconds   float64 `json:"sendSeconds"`
	Interrupted   bool    `json:"interrupted"`

	Sent       int `json:"sent"`
	Acked      int `json:"acked"`
	Refused    int `json:"refused"`    // answered with an error
	Unanswered int `json:"unanswered"` // neither acknowledged nor refused by the end
	Delivered  int `json:"delivered"`
	// DeliveredWant is acked × agents.
	DeliveredWant int `json:"deliveredWant"`

	Throughput float64 `json:"acksPerSecond"`
	// DeliveryRate is deliveries to agents a second after the warm-up.
	DeliveryRate    float64 `json:"deliveriesPerSecond"`
	AckLatency      latency `json:"ackLatency"`
	DeliveryLatency latency `json:"deliveryLatency"`
	// LatencyFrom says where latency is measured from.
	LatencyFrom string `json:"latencyFrom"`

	Errors map[string]int `json:"errors"`
	Limit  *limitHit      `json:"limit,omitempty"`
	Check  struct {
		OK             bool `json:"ok"`
		Threads        int  `json:"threads"`
		ViolationCount int  `json:"violationCount"`
		// Missing counts the violations that are messages never
		// delivered (gaps, lost at the end): what an agent socket that
		// ended or fell behind leaves. The others (duplicates, order,
		// mix-ups) no socket's end explains.
		Missing    int      `json:"missing"`
		Violations []string `json:"violations"`
	} `json:"check"`
	CPU struct {
		Measured         bool    `json:"measured"`
		Seconds          float64 `json:"seconds"`
		MicrosPerMessage float64 `json:"microsPerMessage"`
		Source           string  `json:"source,omitempty"`
		Note             string  `json:"note,omitempty"`
	} `json:"serverCpu"`
}

// report sums up the run; sending began at start and ended at stopped.
func (r *loadRun) report(agents []*agentLog, start, stopped time.Time) *loadReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.c
	rep := &loadReport{Visitors: c.Visitors, Agents: c.Agents, Rate: c.Rate, Size: c.Size,
		WarmupSeconds: c.Warmup.Seconds(), SendSeconds: max(0, stopped.Sub(start).Seconds()),
		Errors: r.errors, Limit: r.limit, Delivered: r.delivered}
	var acked []ackedMsg
	threads := map[string]bool{}
	for id, st := range r.msgs {
		rep.Sent++
		switch {
		case st.acked:
			rep.Acked++
			acked = append(acked, ackedMsg{ClientID: id, ThreadID: st.threadID, Seq: st.seq})
			threads[st.threadID] = true
		case st.failed:
			rep.Refused++
		default:
			rep.Unanswered++
		}
	}
	rep.DeliveredWant = rep.Acked * c.Agents
	if r.measured > 0 && r.lastAck.After(r.warmEnd) {
		rep.Throughput = float64(r.measured) / r.lastAck.Sub(r.warmEnd).Seconds()
	}
	if r.measuredDel > 0 && r.lastDel.After(r.warmEnd) {
		rep.DeliveryRate = float64(r.measuredDel) / r.lastDel.Sub(r.warmEnd).Seconds()
	}
	rep.AckLatency, rep.DeliveryLatency = newLatency(r.ackLat), newLatency(r.delLat)
	if c.Rate > 0 {
		rep.LatencyFrom = "intended send time (open loop: coordinated omission corrected)"
	} else {
		rep.LatencyFrom = "send time (closed loop: each visitor waits for its acknowledgement)"
	}
	v := append(checkDeliveries(acked, agents), r.misordered...)
	rep.Check.Threads = len(threads)
	rep.Check.ViolationCount = len(v)
	for _, s := range v {
		if strings.Contains(s, "never delivered") {
			rep.Check.Missing++
		}
	}
	rep.Check.OK = len(v) == 0
	rep.Check.Violations = v[:min(len(v), maxViolationsListed)]
	if rep.Check.Violations == nil {
		rep.Check.Violations = []string{}
	}
	return rep
}

// print writes the report for a person.
func (rep *loadReport) print(w io.Writer) {
	mode := "closed loop"
	if rep.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g messages/s", rep.Rate)
	}
	fmt.Fprintf(w, "parley loadtest: %s, %s, %s, %d-byte texts, sent for %.1fs (warm-up %gs)\n",
		count(rep.Visitors, "visitor"), count(rep.Agents, "agent"), mode, rep.Size, rep.SendSeconds, rep.WarmupSeconds)
	if rep.Interrupted {
		fmt.Fprintln(w, "interrupted: the figures cover the run until then")
	}
	fmt.Fprintf(w, "messages    sent %d, acknowledged %d, refused %d, unanswered %d\n", rep.Sent, rep.Acked, rep.Refused, rep.Unanswered)
	fmt.Fprintf(w, "delivered   %d to agents (want %d: %d acknowledged × %s)\n", rep.Delivered, rep.DeliveredWant, rep.Acked, count(rep.Agents, "agent"))
	fmt.Fprintf(w, "throughput  %.1f acknowledgements/s, %.1f deliveries/s after the warm-up\n", rep.Throughput, rep.DeliveryRate)
	fmt.Fprintf(w, "latency     from the %s\n", rep.LatencyFrom)
	fmt.Fprintf(w, "            %9s %9s %9s %9s %8s\n", "p50", "p99", "p99.9", "max", "n")
	for _, l := range []struct {
		name string
		l    latency
	}{{"  ack", rep.AckLatency}, {"  delivery", rep.DeliveryLatency}} {
		fmt.Fprintf(w, "%-10s  %9s %9s %9s %9s %8d\n", l.name, ms(l.l.P50), ms(l.l.P99), ms(l.l.P999), ms(l.l.Max), l.l.N)
	}
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "errors      none")
	} else {
		keys := make([]string, 0, len(rep.Errors))
		for k := range rep.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, rep.Errors[k])
		}
		fmt.Fprintf(w, "errors      %s\n", strings.Join(parts, ", "))
	}
	if rep.Limit != nil {
		fmt.Fprintf(w, "LIMIT       the server refused the load (%q): %s\n", rep.Limit.Message, rep.Limit.Advice)
	}
	if rep.Check.OK {
		fmt.Fprintf(w, "check       ok: every acknowledged message reached every agent exactly once, in seq order, in %d threads\n", rep.Check.Threads)
	} else {
		fmt.Fprintf(w, "check       FAILED: %d violations in %d threads\n", rep.Check.ViolationCount, rep.Check.Threads)
		for _, v := range rep.Check.Violations {
			fmt.Fprintf(w, "            %s\n", v)
		}
		if rep.Check.ViolationCount > len(rep.Check.Violations) {
			fmt.Fprintf(w, "            … and %d more\n", rep.Check.ViolationCount-len(rep.Check.Violations))
		}
	}
	if rep.CPU.Measured {
		fmt.Fprintf(w, "server CPU  %.2fs (%s), %.0f µs per acknowledged message\n", rep.CPU.Seconds, rep.CPU.Source, rep.CPU.MicrosPerMessage)
	} else {
		fmt.Fprintf(w, "server CPU  %s\n", rep.CPU.Note)
	}
}

// count is n things, in the plural unless one.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func ms(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// scrapeCPU reads process_cpu_seconds_total from the server's metrics,
// or calls c.CPU when it is set.
func scrapeCPU(ctx context.Context, hc *http.Client, c *loadConfig) (float64, error) {
	if c.CPU != nil {
		return c.CPU()
	}
	if c.MetricsURL == "" {
		return 0, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.MetricsURL, nil)
	if err != nil {
		return 0, err
	}
	if c.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.MetricsToken)
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %s", c.MetricsURL, res.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(res.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s has no process_cpu_seconds_total", c.MetricsURL)
}
