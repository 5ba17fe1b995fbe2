package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// runLoad runs parley loadtest in-process and returns its output, its
// report decoded (when args ask for --json) and its error.
func runLoad(t *testing.T, args ...string) (string, *loadReport, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"loadtest"}, args...), func(string) string { return "" }, &out, &errOut)
	var rep *loadReport
	if strings.Contains(strings.Join(args, " "), "--json") && out.Len() > 0 {
		rep = &loadReport{}
		if derr := json.Unmarshal(out.Bytes(), rep); derr != nil {
			t.Fatalf("--json output is no report: %v\n%s", derr, out.String())
		}
	}
	return out.String() + errOut.String(), rep, err
}

// TestLoadtestRun drives 20 visitors and 2 agents against a Parley process
// with its per-address limits off, open loop and closed loop: every
// message is acknowledged, reaches both agents exactly once and in order,
// and the server's CPU is read off its metrics.
func TestLoadtestRun(t *testing.T) {
	p := startProc(t, t.TempDir(), "PARLEY_MESSAGE_RATE=1000000", "PARLEY_METRICS_TOKEN="+testMetricsToken,
		"PARLEY_VISITOR_CONNS_PER_IP=0", "PARLEY_NEW_VISITORS_PER_IP=0", "PARLEY_NEW_CONVERSATIONS_PER_IP=0")
	common := []string{"--url", p.base(), "--visitors", "20", "--agents", "2", "--email", "admin@example.com",
		"--password", "correct horse battery", "--metrics-token", testMetricsToken, "--json"}
	for _, tc := range []struct {
		name    string
		args    []string
		sent    int
		samples int // acks measured, after the warm-up
	}{
		// Due times are planned: 200/s for 2 s is 400 messages, of which
		// the 100 due in the first 0.5 s are left out of the latencies.
		{"open loop", []string{"--rate", "200", "--duration", "2s", "--warmup", "500ms"}, 400, 300},
		{"closed loop", []string{"--rate", "0", "--messages", "300"}, 300, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep, err := runLoad(t, append(common, tc.args...)...)
			if err != nil {
				t.Fatalf("loadtest: %v\n%s", err, out)
			}
			if rep.Sent != tc.sent {
				t.Errorf("sent %d, want %d", rep.Sent, tc.sent)
			}
			if rep.Acked != rep.Sent || rep.Refused != 0 || rep.Unanswered != 0 {
				t.Errorf("acked %d refused %d unanswered %d of %d sent, want all acked", rep.Acked, rep.Refused, rep.Unanswered, rep.Sent)
			}
			if rep.Delivered != rep.Acked*2 || rep.DeliveredWant != rep.Acked*2 {
				t.Errorf("delivered %d (want %d), want %d", rep.Delivered, rep.DeliveredWant, rep.Acked*2)
			}
			if !rep.Check.OK || rep.Check.Threads != 20 || len(rep.Errors) != 0 || rep.Limit != nil {
				t.Errorf("check %+v, errors %v, limit %v; want ok in 20 threads, no errors", rep.Check, rep.Errors, rep.Limit)
			}
			for name, l := range map[string]latency{"ack": rep.AckLatency, "delivery": rep.DeliveryLatency} {
				if l.N == 0 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max {
					t.Errorf("%s latency %+v: want samples with 0 < p50 ≤ p99 ≤ p99.9 ≤ max", name, l)
				}
			}
			if rep.AckLatency.N != tc.samples {
				t.Errorf("%d ack samples, want %d", rep.AckLatency.N, tc.samples)
			}
			if rep.DeliveryLatency.N != 2*rep.AckLatency.N {
				t.Errorf("%d delivery samples, want two per ack sample (%d)", rep.DeliveryLatency.N, rep.AckLatency.N)
			}
			if rep.DeliveryRate <= 0 {
				t.Errorf("%g deliveries/s, want positive", rep.DeliveryRate)
			}
			if rep.Throughput <= 0 {
				t.Errorf("throughput %g, want positive", rep.Throughput)
			}
			if !rep.CPU.Measured || rep.CPU.Seconds <= 0 || rep.CPU.MicrosPerMessage <= 0 || rep.CPU.Source != "process_cpu_seconds_total" {
				t.Errorf("server CPU %+v, want measured", rep.CPU)
			}
		})
	}
	t.Run("pipelined, agents by token", func(t *testing.T) {
		// 2 visitors at 1000 a second: each sends before its previous
		// answers arrive, and the answers must still come in order.
		token := adminToken(t, newMailAPI(t, p.base()))
		out, rep, err := runLoad(t, "--url", p.base(), "--visitors", "2", "--agents", "2", "--token", token,
			"--rate", "1000", "--messages", "400", "--json")
		if err != nil {
			t.Fatalf("loadtest: %v\n%s", err, out)
		}
		if rep.Sent != 400 || rep.Acked != 400 || rep.Delivered != 800 || !rep.Check.OK || rep.Check.Threads != 2 {
			t.Errorf("sent %d acked %d delivered %d check %+v; want 400, 400, 800, ok in 2 threads", rep.Sent, rep.Acked, rep.Delivered, rep.Check)
		}
		_, _, err = runLoad(t, "--url", p.base(), "--visitors", "1", "--agents", "1", "--token", "not-a-token", "--messages", "1")
		if err == nil || !strings.Contains(err.Error(), "agent 1") || !strings.Contains(err.Error(), "401") {
			t.Errorf("a wrong token: %v, want agent 1 refused with 401", err)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		// As ctrl-c: the run stops sending, settles what is in flight and
		// reports what it has, checked.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out bytes.Buffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, append([]string{"loadtest"}, append(common, "--rate", "100", "--duration", "10m")...), func(string) string { return "" }, &out, io.Discard)
		}()
		time.Sleep(time.Second)
		cancel()
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatal("loadtest did not stop within a minute of its cancellation")
		}
		if err != nil {
			t.Fatalf("loadtest: %v\n%s", err, out.String())
		}
		var rep loadReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !rep.Interrupted || rep.Sent == 0 || rep.Acked+rep.Unanswered != rep.Sent || !rep.Check.OK {
			t.Errorf("interrupted %v, sent %d, acked %d, unanswered %d, check %+v; want an interrupted run with its sends accounted for and checked",
				rep.Interrupted, rep.Sent, rep.Acked, rep.Unanswered, rep.Check)
		}
	})
	t.Run("text", func(t *testing.T) {
		out, _, err := runLoad(t, "--url", p.base(), "--visitors", "3", "--messages", "30", "--agents", "0")
		if err != nil {
			t.Fatalf("loadtest: %v\n%s", err, out)
		}
		for _, want := range []string{"sent 30, acknowledged 30, refused 0, unanswered 0", "closed loop", "p99.9", "check       ok",
			"server CPU  not measured: give --metrics-url or --metrics-token"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestLoadtestLimits: against a Parley with its default per-address
// limits, the load test stops and names the server flag that refused it,
// and fails.
func TestLoadtestLimits(t *testing.T) {
	p := startProc(t, t.TempDir(), "PARLEY_MESSAGE_RATE=10")
	for _, tc := range []struct {
		name     string
		visitors string
		flag     string
		errors   string // what the errors line counts
	}{
		// Runs in this order: the first opens no conversation, the
		// second one of the 30 a minute, the third the rest and more.
		{"sockets", "120", "--visitor-conns-per-ip 0 (PARLEY_VISITOR_CONNS_PER_IP=0)", "errors      visitor close 4429 "},
		{"messages per socket", "1", "--message-rate (PARLEY_MESSAGE_RATE)", "errors      rate_limited 1\n"},
		{"new conversations", "40", "--new-conversations-per-ip 0 (PARLEY_NEW_CONVERSATIONS_PER_IP=0)", "errors      rate_limited "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runLoad(t, "--url", p.base(), "--visitors", tc.visitors, "--agents", "0", "--duration", "10s")
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("err %v, want one naming %s", err, tc.flag)
			}
			if !strings.Contains(out, "LIMIT") || !strings.Contains(out, tc.flag) || !strings.Contains(out, tc.errors) {
				t.Errorf("output does not name %s or count %q:\n%s", tc.flag, tc.errors, out)
			}
		})
	}
}

// TestLoadtestChecker feeds the exactly-once check a clean log and logs
// with a duplicate, a gap, a reorder, a lost message and a mix-up, and
// sees each flagged.
func TestLoadtestChecker(t *testing.T) {
	acked := []ackedMsg{{"a1", "7", 1}, {"a2", "7", 2}, {"a3", "7", 3}, {"a4", "7", 4}}
	type d = delivery
	for _, tc := range []struct {
		name string
		got  []delivery
		want []string // substrings, one per violation
	}{
		{"clean", []d{{1, "a1"}, {2, "a2"}, {3, "a3"}, {4, "a4"}}, nil},
		{"clean with a note between", nil, nil},
		{"duplicate", []d{{1, "a1"}, {2, "a2"}, {2, "a2"}, {3, "a3"}, {4, "a4"}}, []string{"seq 2 delivered again (duplicate)"}},
		{"gap", []d{{1, "a1"}, {3, "a3"}, {4, "a4"}}, []string{"seq 2 never delivered (gap)"}},
		{"gap of two", []d{{1, "a1"}, {4, "a4"}}, []string{"seqs 2 to 3 never delivered (gap)"}},
		{"reorder", []d{{1, "a1"}, {3, "a3"}, {2, "a2"}, {4, "a4"}}, []string{"seq 2 after seq 3 (out of order)"}},
		{"lost at the end", []d{{1, "a1"}, {2, "a2"}, {3, "a3"}}, []string{"acknowledged message a4 (seq 4) never delivered"}},
		{"mix-up", []d{{1, "a1"}, {2, "a3"}, {3, "a2"}, {4, "a4"}}, []string{`seq 2 delivered as "a3", acknowledged as "a2"`, `seq 3 delivered as "a2", acknowledged as "a3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good, a := newAgentLog(), newAgentLog()
			for _, x := range []d{{1, "a1"}, {2, "a2"}, {3, "a3"}, {4, "a4"}} {
				good.add("7", x.seq, x.clientID)
			}
			ack := acked
			if tc.name == "clean with a note between" {
				// An agent sees notes too: seq 3 is one, no visitor's.
				ack = []ackedMsg{{"a1", "7", 1}, {"a2", "7", 2}, {"a4", "7", 4}}
				tc.got = []d{{1, "a1"}, {2, "a2"}, {3, ""}, {4, "a4"}}
			}
			for _, x := range tc.got {
				a.add("7", x.seq, x.clientID)
			}
			a.add("8", 5, "other thread, not this run's") // ignored
			got := checkDeliveries(ack, []*agentLog{good, a})
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "agent 2, thread 7: ") {
					t.Errorf("violation %q, want agent 2, thread 7: …%s", got[i], w)
				}
			}
		})
	}
}

// TestLoadtestFlags: each bad flag is refused with an error that names it,
// before anything is dialled.
func TestLoadtestFlags(t *testing.T) {
	base := []string{"--url", "http://127.0.0.1:9"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{"--visitors", "1"}, "--url is required"},
		{"bad url", []string{"--url", "ftp://x"}, "--url must be an http:// or https:// URL"},
		{"no visitors", append(base, "--visitors", "0"), "--visitors must be at least 1"},
		{"agents without sign-in", append(base, "--agents", "2"), "--agents needs --email and --password, or --token"},
		{"email and token", append(base, "--agents", "1", "--email", "a@example.com", "--password", "p", "--token", "t"), "not both"},
		{"negative rate", append(base, "--agents", "0", "--rate", "-1"), "--rate must be 0"},
		{"too many sockets", append(base, "--agents", "0", "--visitors", "20001"), "more than --max-sockets 20000"},
		{"too long", append(base, "--agents", "0", "--duration", "2h"), "longer than --max-duration 1h0m0s"},
		{"size too big", append(base, "--agents", "0", "--size", "16385"), "--size must be 1 to 16384"},
		{"size zero", append(base, "--agents", "0", "--size", "0"), "--size must be 1 to 16384"},
		{"warm-up too long", append(base, "--agents", "0", "--duration", "2s", "--warmup", "2s"), "--warmup must be shorter than --duration"},
		{"negative messages", append(base, "--agents", "0", "--messages", "-1"), "--messages must not be negative"},
		{"stray argument", append(base, "--agents", "0", "extra"), "unexpected arguments: extra"},
		{"unknown flag", append(base, "--bogus"), "flag provided but not defined: -bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			err := run(context.Background(), append([]string{"loadtest"}, tc.args...), func(string) string { return "" }, io.Discard, &errOut)
			if err == nil || !strings.Contains(err.Error()+errOut.String(), tc.want) {
				t.Errorf("err %v (%s), want %q", err, errOut.String(), tc.want)
			}
		})
	}
	// Raised bounds are accepted (and then the dial fails, not the flags).
	_, err := parseLoadConfig([]string{"--url", "http://127.0.0.1:9", "--agents", "0", "--visitors", "30000", "--max-sockets", "30000", "--duration", "2h", "--max-duration", "3h"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Errorf("raised bounds: %v", err)
	}
}

// TestLoadtestAnswerOrder: a visitor's answers must come in the order of
// its messages; one that overtakes another is flagged.
func TestLoadtestAnswerOrder(t *testing.T) {
	r, v := &loadRun{}, &visitorConn{i: 2}
	for _, k := range []int{0, 1, 3, 2, 4} {
		r.answerOrder(v, &msgState{k: k})
	}
	want := []string{
		"visitor 3: the answer to its message 4 came when the answer to its message 3 was due (out of order)",
		"visitor 3: the answer to its message 3 came when the answer to its message 5 was due (out of order)",
	}
	if strings.Join(r.misordered, "\n") != strings.Join(want, "\n") {
		t.Errorf("misordered %q, want %q", r.misordered, want)
	}
}
