package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Bounds a load test keeps unless its flags raise them: a typo should not
// open a million sockets or run for a day.
const (
	defaultMaxSockets  = 20000
	defaultMaxDuration = time.Hour
	maxTextBytes       = 16 << 10 // docs/websocket.md: message text
)

// loadConfig is what parley loadtest's flags set.
type loadConfig struct {
	URL          string
	PageURL      string // the page the visitors are on, for GET /widget/v1/boot
	Visitors     int
	Agents       int
	Email        string
	Password     string
	Token        string
	Rate         float64 // messages a second in total; 0: closed loop
	Duration     time.Duration
	Messages     int
	Size         int
	Warmup       time.Duration
	Drain        time.Duration // how long to wait for acks and deliveries after the last send
	MetricsURL   string
	MetricsToken string
	JSON         bool
	MaxSockets   int
	MaxDuration  time.Duration
	// CPU, when set, reads the server's CPU seconds so far in place of
	// its metrics: a benchmark reads them off the server's process.
	// CPUSource names where from, for the report.
	CPU       func() (float64, error)
	CPUSource string
}

// parseLoadConfig reads parley loadtest's flags. It returns an error that
// names the flag for every value out of range.
func parseLoadConfig(args []string, getenv func(string) string, stderr io.Writer) (*loadConfig, error) {
	c := &loadConfig{}
	fs := flag.NewFlagSet("parley loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley loadtest --url URL [--visitors N] [--agents M --email E --password P | --token T] [--rate R] [--duration D | --messages N] [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.URL, "url", getenv("PARLEY_BASE_URL"), "base URL of the Parley under test (env PARLEY_BASE_URL)")
	fs.StringVar(&c.PageURL, "page-url", "", "the page URL the visitors say they are on, which picks the widget (GET /widget/v1/boot); defaults to --url + /")
	fs.IntVar(&c.Visitors, "visitors", 10, "visitor sockets; each visitor starts its own conversation")
	fs.IntVar(&c.Agents, "agents", 1, "agent sockets; each must receive every visitor message")
	fs.StringVar(&c.Email, "email", getenv("PARLEY_LOADTEST_EMAIL"), "the agents sign in as this user (env PARLEY_LOADTEST_EMAIL)")
	fs.StringVar(&c.Password, "password", getenv("PARLEY_LOADTEST_PASSWORD"), "the password of --email; prefer the environment variable (env PARLEY_LOADTEST_PASSWORD)")
	fs.StringVar(&c.Token, "token", getenv("PARLEY_TOKEN"), "or an API token with the read scope for the agent sockets; prefer the environment variable (env PARLEY_TOKEN)")
	fs.Float64Var(&c.Rate, "rate", 0, "messages a second, all visitors together, sent on a fixed schedule (open loop); 0: closed loop, each visitor sends when its previous message is acknowledged")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to send; with neither --duration nor --messages, 10s")
	fs.IntVar(&c.Messages, "messages", 0, "stop after this many messages in total; 0: no count")
	fs.IntVar(&c.Size, "size", 64, "bytes of text in each message (1 to 16384)")
	fs.DurationVar(&c.Warmup, "warmup", 0, "leave out of throughput and latency the messages due in this first part of the run")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "after the last send, how long to wait for the outstanding acknowledgements and deliveries")
	fs.StringVar(&c.MetricsURL, "metrics-url", "", "the server's Prometheus metrics, for the CPU it used, e.g. http://127.0.0.1:9090/metrics; defaults to --url + /metrics when --metrics-token is set; empty: not measured")
	fs.StringVar(&c.MetricsToken, "metrics-token", getenv("PARLEY_METRICS_TOKEN"), "the server's --metrics-token, for /metrics on its public listener (env PARLEY_METRICS_TOKEN)")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON")
	fs.IntVar(&c.MaxSockets, "max-sockets", defaultMaxSockets, "refuse to open more visitor and agent sockets than this")
	fs.DurationVar(&c.MaxDuration, "max-duration", defaultMaxDuration, "refuse a --duration longer than this")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("loadtest: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.URL == "" {
		return nil, fmt.Errorf("loadtest: --url is required")
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("loadtest: --url must be an http:// or https:// URL, got %q", c.URL)
	}
	if c.PageURL == "" {
		c.PageURL = c.URL + "/"
	}
	switch {
	case c.Visitors < 1:
		return nil, fmt.Errorf("loadtest: --visitors must be at least 1")
	case c.Agents < 0:
		return nil, fmt.Errorf("loadtest: --agents must not be negative")
	case c.Agents > 0 && c.Token == "" && (c.Email == "" || c.Password == ""):
		return nil, fmt.Errorf("loadtest: --agents needs --email and --password, or --token")
	case c.Token != "" && c.Email != "":
		return nil, fmt.Errorf("loadtest: give --email and --password or --token, not both")
	case c.MaxSockets < 1:
		return nil, fmt.Errorf("loadtest: --max-sockets must be at least 1")
	case c.Visitors+c.Agents > c.MaxSockets:
		return nil, fmt.Errorf("loadtest: %d sockets (--visitors + --agents) is more than --max-sockets %d; raise it if you mean it", c.Visitors+c.Agents, c.MaxSockets)
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0:
		return nil, fmt.Errorf("loadtest: --rate must be 0 (closed loop) or a positive number of messages a second")
	case c.Duration < 0:
		return nil, fmt.Errorf("loadtest: --duration must not be negative")
	case c.Messages < 0:
		return nil, fmt.Errorf("loadtest: --messages must not be negative")
	case c.Size < 1 || c.Size > maxTextBytes:
		return nil, fmt.Errorf("loadtest: --size must be 1 to %d bytes", maxTextBytes)
	case c.Warmup < 0:
		return nil, fmt.Errorf("loadtest: --warmup must not be negative")
	case c.Drain <= 0:
		return nil, fmt.Errorf("loadtest: --drain must be positive")
	case c.MaxDuration <= 0:
		return nil, fmt.Errorf("loadtest: --max-duration must be positive")
	case c.Duration > c.MaxDuration:
		return nil, fmt.Errorf("loadtest: --duration %s is longer than --max-duration %s; raise it if you mean it", c.Duration, c.MaxDuration)
	}
	if c.Duration == 0 && c.Messages == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Duration == 0 {
		// A message count alone still ends within the bound.
		c.Duration = c.MaxDuration
	}
	if c.Warmup >= c.Duration && c.Messages == 0 {
		return nil, fmt.Errorf("loadtest: --warmup must be shorter than --duration")
	}
	if c.MetricsURL == "" && c.MetricsToken != "" {
		c.MetricsURL = c.URL + "/metrics"
	}
	return c, nil
}

// runLoadtest is parley loadtest: it drives visitors and agents against a
// running Parley through its public HTTP and WebSocket protocol, prints
// what it measured, and fails when a message was not delivered exactly
// once and in order, or when a server limit refused the load.
func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseLoadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	rep, err := loadtest(ctx, c)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.print(stdout)
	}
	switch {
	case rep.Limit != nil:
		return fmt.Errorf("loadtest: the server's %s refused the load: %s", rep.Limit.Flag, rep.Limit.Advice)
	case len(rep.Check.Violations) > 0:
		return fmt.Errorf("loadtest: %d exactly-once or order violations", rep.Check.ViolationCount)
	}
	return nil
}

// msgState is one message a visitor sent, by its clientId.
type msgState struct {
	k        int       // the visitor's k-th message, from 0
	intended time.Time // when the schedule wanted it sent
	acked    bool
	failed   bool
	threadID string
	seq      uint64
}

// run is one load test in progress. Its methods are safe for concurrent use.
type loadRun struct {
	c     *loadConfig
	runID string

	mu     sync.Mutex
	msgs   map[string]*msgState
	ackLat []time.Duration // of messages due after the warm-up
	delLat []time.Duration
	errors map[string]int
	limit  *limitHit
	// misordered lists answers that came out of their messages' order,
	// which docs/websocket.md rules out ("Pipelining").
	misordered []string
	warmEnd    time.Time
	measured   int // acks of messages due after the warm-up
	lastAck    time.Time
	delivered  int
	// measuredDel and lastDel are the deliveries of messages due after
	// the warm-up and when the last of them arrived.
	measuredDel int
	lastDel     time.Time

	sentN  atomic.Int64
	ackedN atomic.Int64
	failN  atomic.Int64
	// stopSending ends the sending, not the reading, once a server limit
	// refused the load: what is outstanding is still answered.
	stopSending context.CancelFunc
}

// limitHit is the server limit that refused the load and what to do.
type limitHit struct {
	Flag    string `json:"flag"`
	Message string `json:"message"`
	Advice  string `json:"advice"`
}

// limitFlags names, by the words of the server's refusal, the server flag
// behind it (docs/websocket.md, "Limits per client address").
var limitFlags = []struct{ words, flag, env string }{
	{"too many connections from this address", "--visitor-conns-per-ip", "PARLEY_VISITOR_CONNS_PER_IP"},
	{"too many new visitors", "--new-visitors-per-ip", "PARLEY_NEW_VISITORS_PER_IP"},
	{"too many new conversations", "--new-conversations-per-ip", "PARLEY_NEW_CONVERSATIONS_PER_IP"},
	{"too many messages", "--message-rate", "PARLEY_MESSAGE_RATE"},
	{"too many requests", "--message-rate", "PARLEY_MESSAGE_RATE"},
}

// refused records a rate_limited error or a 4429 close and stops the run:
// numbers measured against a limit say nothing about the machine.
func (r *loadRun) refused(msg string) {
	hit := &limitHit{Flag: "a per-address limit", Message: msg,
		Advice: "start the server with its per-address limits off (--visitor-conns-per-ip 0 --new-visitors-per-ip 0 --new-conversations-per-ip 0) and a high --message-rate"}
	for _, l := range limitFlags {
		if strings.Contains(msg, l.words) {
			hit.Flag = l.flag
			if l.flag == "--message-rate" {
				hit.Advice = fmt.Sprintf("start the server with a --message-rate (%s) above what one socket sends a second, e.g. --message-rate 100000", l.env)
			} else {
				hit.Advice = fmt.Sprintf("start the server with %s 0 (%s=0): 0 switches the limit off for a load test from one address", l.flag, l.env)
			}
			break
		}
	}
	r.mu.Lock()
	if r.limit == nil {
		r.limit = hit
	}
	r.mu.Unlock()
	r.stopSending()
}

func (r *loadRun) countError(code string) {
	r.mu.Lock()
	r.errors[code]++
	r.mu.Unlock()
}

// loadtest runs the load test c describes until its duration or count is
// reached or ctx ends (then it reports what it has), and checks the
// deliveries. It returns an error only when it could not start.
func loadtest(ctx context.Context, c *loadConfig) (*loadReport, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	wsURL, err := bootWS(ctx, hc, c)
	if err != nil {
		return nil, err
	}
	// sendCtx ends the dials and senders: at ctrl-c or a server limit.
	// runCtx ends the readers, after the drain, so that what was sent
	// before ctrl-c is still answered and counted.
	runCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	r := &loadRun{c: c, runID: strconv.FormatInt(time.Now().UnixNano()%1e12, 36), msgs: map[string]*msgState{},
		errors: map[string]int{}, stopSending: stopSending}

	// Agents first, so that they see every conversation from its start.
	agents := make([]*agentLog, c.Agents)
	var conns []*websocket.Conn
	defer func() {
		for _, cn := range conns {
			cn.CloseNow()
		}
	}()
	var readers sync.WaitGroup
	if c.Agents > 0 {
		header, err := agentHeader(ctx, hc, c)
		if err != nil {
			return nil, err
		}
		for i := range agents {
			agents[i] = newAgentLog()
			cn, err := dialAgent(ctx, c.URL, header)
			if err != nil {
				return nil, fmt.Errorf("loadtest: agent %d: %w", i+1, err)
			}
			conns = append(conns, cn)
			readers.Add(1)
			go func(a *agentLog) { defer readers.Done(); r.readAgent(runCtx, cn, a) }(agents[i])
		}
	}

	// Visitors: each dials and says hello before any sends, so that the
	// schedule measures messages and not handshakes.
	visitors := make([]*visitorConn, c.Visitors)
	var dials sync.WaitGroup
	dialErrs := make([]error, c.Visitors)
	sem := make(chan struct{}, 64)
	for i := range visitors {
		dials.Add(1)
		sem <- struct{}{}
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			visitors[i], dialErrs[i] = r.dialVisitor(sendCtx, wsURL, i)
		}()
	}
	dials.Wait()
	for _, v := range visitors {
		if v != nil {
			conns = append(conns, v.c)
		}
	}
	if r.limit == nil {
		if err := errors.Join(dialErrs...); err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
	}
	cpuBefore, cpuErr := scrapeCPU(ctx, hc, c)

	start := time.Now().Add(50 * time.Millisecond)
	r.warmEnd = start.Add(c.Warmup)
	end := start.Add(c.Duration)
	var senders sync.WaitGroup
	var budget atomic.Int64 // messages left to send; ≤ 0 with --messages done
	budget.Store(int64(c.Messages))
	if c.Messages == 0 {
		budget.Store(math.MaxInt64)
	}
	for i, v := range visitors {
		if v == nil {
			continue
		}
		readers.Add(1)
		go func() { defer readers.Done(); r.readVisitor(runCtx, v) }()
		senders.Add(1)
		go func() { defer senders.Done(); r.sendLoop(sendCtx, v, i, start, end, &budget) }()
	}
	senders.Wait()
	stopped := time.Now()

	// Drain: wait for what is outstanding; after ctrl-c, briefly.
	drain := c.Drain
	if ctx.Err() != nil {
		drain = min(drain, time.Second)
	}
	deadline := time.Now().Add(drain)
	for time.Now().Before(deadline) && !r.settled(agents) {
		time.Sleep(20 * time.Millisecond)
	}
	interrupted := ctx.Err() != nil
	cpuAfter, cpuErr2 := scrapeCPU(context.WithoutCancel(ctx), hc, c)
	abort()
	for _, cn := range conns {
		cn.CloseNow()
	}
	readers.Wait()

	rep := r.report(agents, start, stopped)
	rep.Interrupted = interrupted
	switch {
	case c.MetricsURL == "" && c.CPU == nil:
		rep.CPU.Note = "not measured: give --metrics-url or --metrics-token"
	case cpuErr != nil || cpuErr2 != nil:
		rep.CPU.Note = "not measured: " + errors.Join(cpuErr, cpuErr2).Error()
	default:
		rep.CPU.Seconds = cpuAfter - cpuBefore
		rep.CPU.Measured = true
		rep.CPU.Source = "process_cpu_seconds_total"
		if c.CPU != nil {
			rep.CPU.Source = c.CPUSource
		}
		if rep.Acked > 0 {
			rep.CPU.MicrosPerMessage = rep.CPU.Seconds * 1e6 / float64(rep.Acked)
		}
	}
	return rep, nil
}

// settled reports whether every message sent has been answered and every
// acknowledged one reached every agent.
func (r *loadRun) settled(agents []*agentLog) bool {
	if r.sentN.Load() != r.ackedN.Load()+r.failN.Load() {
		return false
	}
	r.mu.Lock()
	want := int(r.ackedN.Load()) * len(agents)
	got := r.delivered
	r.mu.Unlock()
	return got >= want
}

// bootWS asks the server which widget the page gets and returns its
// visitor WebSocket URL.
func bootWS(ctx context.Context, hc *http.Client, c *loadConfig) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/widget/v1/boot?url="+url.QueryEscape(c.PageURL), nil)
	if err != nil {
		return "", fmt.Errorf("loadtest: %w", err)
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("loadtest: boot: %w", err)
	}
	defer res.Body.Close()
	var boot struct {
		WS string `json:"ws"`
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("loadtest: GET /widget/v1/boot answered %s", res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&boot); err != nil {
		return "", fmt.Errorf("loadtest: boot answer: %w", err)
	}
	if boot.WS == "" {
		return "", fmt.Errorf("loadtest: no widget is shown on %s (check the widgets' targeting, or pass --page-url)", c.PageURL)
	}
	return boot.WS, nil
}

// agentHeader signs in once (or uses the token) and returns the headers
// every agent socket sends.
func agentHeader(ctx context.Context, hc *http.Client, c *loadConfig) (http.Header, error) {
	h := http.Header{"Origin": {c.URL}}
	if c.Token != "" {
		h.Set("Authorization", "Bearer "+c.Token)
		return h, nil
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: hc.Timeout}
	body, _ := json.Marshal(map[string]string{"email": c.Email, "password": c.Password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	req.Header.Set("Origin", c.URL)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadtest: sign in: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest: sign in as %s: %s", c.Email, res.Status)
	}
	u, _ := url.Parse(c.URL)
	for _, ck := range jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	return h, nil
}

func dialAgent(ctx context.Context, base string, h http.Header) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cn, res, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if res != nil && (res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden) {
			return nil, fmt.Errorf("the server refused the agent socket with %s: an unknown or revoked --token, or one without the read scope", res.Status)
		}
		return nil, err
	}
	cn.SetReadLimit(64 << 20)
	if err := cn.Write(dctx, websocket.MessageText, []byte(`{"type":"hello","resume":[]}`)); err != nil {
		cn.CloseNow()
		return nil, err
	}
	// Wait for ready, so that the agent is subscribed before visitors write.
	for {
		_, data, err := cn.Read(dctx)
		if err != nil {
			cn.CloseNow()
			return nil, err
		}
		for _, ev := range splitEvents(data) {
			if ev.Type == "ready" {
				return cn, nil
			}
		}
	}
}

// wireEvent is what the load test reads of a server event.
type wireEvent struct {
	Type       string          `json:"type"`
	Code       string          `json:"code"`
	Message    json.RawMessage `json:"message"`
	ClientID   string          `json:"clientId"`
	RetryAfter int             `json:"retryAfter"`
}

type wireMessage struct {
	ID       string `json:"id"`
	ThreadID string `json:"threadId"`
	Seq      uint64 `json:"seq"`
	ClientID string `json:"clientId"`
}

// splitEvents decodes a frame: one event or an array of them.
func splitEvents(data []byte) []wireEvent {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var evs []wireEvent
		_ = json.Unmarshal(data, &evs)
		return evs
	}
	var ev wireEvent
	if json.Unmarshal(data, &ev) != nil {
		return nil
	}
	return []wireEvent{ev}
}

// errorMessage is an error event's message text; message.ack and
// message.created carry an object in the same field.
func (ev wireEvent) errorMessage() string {
	var s string
	_ = json.Unmarshal(ev.Message, &s)
	return s
}

func (ev wireEvent) message() wireMessage {
	var m wireMessage
	_ = json.Unmarshal(ev.Message, &m)
	return m
}

// readAgent records every message an agent socket receives.
func (r *loadRun) readAgent(ctx context.Context, cn *websocket.Conn, a *agentLog) {
	for {
		_, data, err := cn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.countError(closeName("agent", err))
			}
			return
		}
		now := time.Now()
		for _, ev := range splitEvents(data) {
			if ev.Type != "message.created" {
				continue
			}
			m := ev.message()
			a.add(m.ThreadID, m.Seq, m.ClientID)
			r.mu.Lock()
			if st, ok := r.msgs[m.ClientID]; ok {
				r.delivered++
				if !st.intended.Before(r.warmEnd) {
					r.delLat = append(r.delLat, now.Sub(st.intended))
					r.measuredDel++
					r.lastDel = now
				}
			}
			r.mu.Unlock()
		}
	}
}

// closeName is the errors-by-code key of a socket that ended: its close
// code, or "dropped".
func closeName(who string, err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("%s close %d", who, code)
	}
	return who + " dropped"
}

// visitorConn is one visitor's socket.
type visitorConn struct {
	c *websocket.Conn
	i int // the visitor's number, from 0
	// nextAnswer is the k of the message whose answer comes next; only
	// the reader touches it.
	nextAnswer int
	// acks wakes a closed-loop sender: one value per message answered.
	acks chan struct{}
}

// answered wakes a closed-loop sender; an open-loop one never waits.
func (v *visitorConn) answered() {
	select {
	case v.acks <- struct{}{}:
	default:
	}
}

func (r *loadRun) dialVisitor(ctx context.Context, wsURL string, i int) (*visitorConn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cn, _, err := websocket.Dial(dctx, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("visitor %d: %w", i+1, err)
	}
	cn.SetReadLimit(16 << 20)
	if err := cn.Write(dctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		cn.CloseNow()
		return nil, r.visitorGone(fmt.Errorf("visitor %d: %w", i+1, err))
	}
	for {
		_, data, err := cn.Read(dctx)
		if err != nil {
			cn.CloseNow()
			return nil, r.visitorGone(fmt.Errorf("visitor %d: %w", i+1, err))
		}
		for _, ev := range splitEvents(data) {
			if ev.Type == "ready" {
				return &visitorConn{c: cn, i: i, acks: make(chan struct{}, 1)}, nil
			}
		}
	}
}

// visitorGone counts a visitor socket that ended by its close code; a
// 4429 is a limit, not a failure of the server.
func (r *loadRun) visitorGone(err error) error {
	r.countError(closeName("visitor", err))
	var ce websocket.CloseError
	if errors.As(err, &ce) && ce.Code == 4429 {
		r.refused(ce.Reason)
	}
	return err
}

// sendLoop sends visitor i's share of the messages: on the fixed schedule
// (open loop), or each after the previous one's answer (closed loop).
func (r *loadRun) sendLoop(ctx context.Context, v *visitorConn, i int, start, end time.Time, budget *atomic.Int64) {
	c := r.c
	text := loadText(c.Size)
	for k := 0; ; k++ {
		var due time.Time
		if c.Rate > 0 {
			// Message i + k·N of the whole schedule; planned, not
			// measured, so that a slow server cannot slow the clock.
			n := float64(i + k*c.Visitors)
			due = start.Add(time.Duration(n / c.Rate * float64(time.Second)))
			if !due.Before(end) {
				return
			}
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return
				}
			}
		} else {
			if k > 0 {
				select {
				case <-v.acks:
				case <-ctx.Done():
					return
				}
			}
			due = time.Now()
			if due.Before(start) {
				select {
				case <-time.After(time.Until(start)):
				case <-ctx.Done():
					return
				}
				due = time.Now()
			}
			if !due.Before(end) {
				return
			}
		}
		if ctx.Err() != nil || budget.Add(-1) < 0 {
			return
		}
		id := fmt.Sprintf("lt-%s-%d-%d", r.runID, i, k)
		frame, _ := json.Marshal(map[string]string{"type": "message.send", "clientId": id, "text": text})
		r.mu.Lock()
		r.msgs[id] = &msgState{k: k, intended: due}
		r.mu.Unlock()
		r.sentN.Add(1)
		// Not ctx: a write cancelled halfway closes the socket, and
		// its answers are still to be read.
		wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := v.c.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			r.mu.Lock()
			r.msgs[id].failed = true
			r.mu.Unlock()
			r.failN.Add(1)
			return // the reader counts how the socket ended
		}
	}
}

// loadText is a message text of n bytes.
func loadText(n int) string {
	s := "load test "
	if n <= len(s) {
		return strings.Repeat("x", n)
	}
	return s + strings.Repeat("x", n-len(s))
}

// answerOrder checks that the answer to st is the next one visitor v
// waits for. The caller holds r.mu.
func (r *loadRun) answerOrder(v *visitorConn, st *msgState) {
	if st.k != v.nextAnswer {
		r.misordered = append(r.misordered, fmt.Sprintf("visitor %d: the answer to its message %d came when the answer to its message %d was due (out of order)", v.i+1, st.k+1, v.nextAnswer+1))
	}
	v.nextAnswer = max(v.nextAnswer, st.k+1)
}

// readVisitor records a visitor's acknowledgements and errors.
func (r *loadRun) readVisitor(ctx context.Context, v *visitorConn) {
	for {
		_, data, err := v.c.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				_ = r.visitorGone(err)
			}
			return
		}
		now := time.Now()
		for _, ev := range splitEvents(data) {
			switch ev.Type {
			case "message.ack":
				m := ev.message()
				r.mu.Lock()
				if st, ok := r.msgs[ev.ClientID]; ok && !st.acked && !st.failed {
					r.answerOrder(v, st)
					st.acked, st.threadID, st.seq = true, m.ThreadID, m.Seq
					if !st.intended.Before(r.warmEnd) {
						r.ackLat = append(r.ackLat, now.Sub(st.intended))
						r.measured++
						r.lastAck = now
					}
					r.ackedN.Add(1)
				}
				r.mu.Unlock()
				v.answered()
			case "error":
				r.countError(ev.Code)
				r.mu.Lock()
				if st, ok := r.msgs[ev.ClientID]; ok && !st.acked && !st.failed {
					r.answerOrder(v, st)
					st.failed = true
					r.failN.Add(1)
				}
				r.mu.Unlock()
				// Before the sender wakes: it sends nothing more.
				if ev.Code == "rate_limited" {
					r.refused(ev.errorMessage())
				}
				v.answered()
			}
		}
	}
}
