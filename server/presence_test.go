package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	// The tests name time zones and must pass where the system has no
	// zoneinfo; the binary, not this package, embeds the database.
	_ "time/tzdata"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/server"
)

// serverConfig is a config with the given ping interval and timeout (0:
// the defaults).
func serverConfig(interval, timeout time.Duration) server.Config {
	return server.Config{PingInterval: interval, PingTimeout: timeout}
}

// statusWait bounds the wait for a status event. Each arrives as soon as
// the server decides it; the bound only ends a test that would otherwise
// hang, and is generous because a loaded machine running -race can take a
// second or more to schedule the server's goroutines.
const statusWait = 5 * time.Second

// nextStatus waits up to within for a status event on w that matches ok
// and returns it with how long it took.
func nextStatus(t *testing.T, w *wsClient, within time.Duration, ok func(parley.WidgetStatus) bool) (parley.WidgetStatus, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		select {
		case ev := <-w.events:
			if ev["type"] != "status" {
				continue
			}
			st := statusOf(ev["status"])
			if ok(st) {
				return st, time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no matching status within %s", within)
			return parley.WidgetStatus{}, 0
		}
	}
}

func statusOf(v any) parley.WidgetStatus {
	m, _ := v.(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	return parley.WidgetStatus{
		Available: m["available"] == true, ShowLauncher: m["showLauncher"] == true,
		AwayMessage: str("awayMessage"), TypicalResponseTime: str("typicalResponseTime"),
		NextOpenAt: str("nextOpenAt"), Reason: str("reason"),
	}
}

func isAvailable(st parley.WidgetStatus) bool { return st.Available }

// isAway: the widget shows its away message (its own, or the default in
// the page's language when it has none).
func isAway(st parley.WidgetStatus) bool { return !st.Available && st.ShowLauncher }

// TestAvailabilityLive: a visitor's widget follows the only agent: their
// console connects (available), goes (away message), connects again, turns
// away mode on and off; each change arrives live (the test logs how soon).
func TestAvailabilityLive(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	v, ready := e.visitor("", 0)
	if st := statusOf(ready["status"]); !isAway(st) || !st.ShowLauncher {
		t.Fatalf("nobody online: status %+v", st)
	}

	aws, _ := admin.agentWS()
	_, d1 := nextStatus(t, v, statusWait, isAvailable)
	_ = aws.c.Close(1000, "")
	st, d2 := nextStatus(t, v, statusWait, func(st parley.WidgetStatus) bool { return !st.Available })
	if st.AwayMessage != e.widget.Availability.AwayMessage || st.Reason != parley.ReasonNoAgents {
		t.Errorf("after the console closed: %+v", st)
	}
	admin.agentWS()
	_, d3 := nextStatus(t, v, statusWait, isAvailable)
	if res := admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil); res.status != 200 {
		t.Fatalf("away: %d %s", res.status, res.body)
	}
	_, d4 := nextStatus(t, v, statusWait, isAway)
	admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": false}, nil)
	_, d5 := nextStatus(t, v, statusWait, isAvailable)
	t.Logf("widget saw: console open %v, closed %v, open %v, away %v, back %v", d1, d2, d3, d4, d5)

	// A widget's settings change is pushed too: launcher hidden while away.
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Availability.HideLauncherWhenAway = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	admin.do("PATCH", "/api/v1/users/me", map[string]any{"away": true}, nil)
	e.app.WidgetsChanged()
	nextStatus(t, v, statusWait, func(st parley.WidgetStatus) bool { return !st.Available && !st.ShowLauncher })
}

// blackhole is a TCP proxy to addr that can stop forwarding in both
// directions while keeping the connections open: a laptop whose lid shut,
// a tab frozen, a network gone without a FIN.
type blackhole struct {
	ln   net.Listener
	dead atomic.Bool
}

func newBlackhole(t *testing.T, addr string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			if b.dead.Load() {
				continue // swallowed
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Add(2)
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	return b
}

// TestPresenceVanishedConsole: a console whose network dies without a close
// stops answering pings and counts as gone after PingInterval +
// PingTimeout; the widget shows the away message at once.
func TestPresenceVanishedConsole(t *testing.T) {
	// A timeout well above a pong's round trip on a loaded machine, so that
	// a console that is there is never taken for gone.
	const interval, timeout = 200 * time.Millisecond, time.Second
	e := newEnv(t, &envOptions{cfg: serverConfig(interval, timeout)})
	admin := e.login("admin@example.com")
	v, _ := e.visitor("", 0)

	proxy := newBlackhole(t, strings.TrimPrefix(e.base, "http://"))
	h := http.Header{"Origin": {e.base}}
	u, _ := http.NewRequest("GET", e.base, nil)
	for _, ck := range admin.hc.Jar.Cookies(u.URL) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	aws, err := dialWS(t, "ws://"+proxy.ln.Addr().String()+"/api/v1/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	aws.send(map[string]any{"type": "hello", "resume": []any{}})
	aws.next("ready")
	nextStatus(t, v, statusWait, isAvailable)

	// Connected and answering pings: still online after several intervals.
	time.Sleep(4 * interval)
	if got := userState(t, admin, e.admin.ID); got != "online" {
		t.Fatalf("state while pinging=%s, want online", got)
	}
	proxy.dead.Store(true)
	vanished := time.Now()
	_, took := nextStatus(t, v, statusWait, isAway)
	// The bound with a second's slack for scheduling: far below anything
	// but the ping timeout noticing (TCP gives up after minutes).
	if bound := interval + timeout + time.Second; took > bound {
		t.Errorf("away after %v, want within %v", took, bound)
	}
	if got := userState(t, admin, e.admin.ID); got != "offline" {
		t.Errorf("state after vanishing=%s, want offline", got)
	}
	t.Logf("a vanished console counted gone after %v (ping interval %v + timeout %v)", time.Since(vanished).Round(time.Millisecond), interval, timeout)
}

func userState(t *testing.T, c *client, id uint64) string {
	t.Helper()
	var u struct{ State string }
	c.do("GET", fmt.Sprint("/api/v1/users/", id), nil, nil).decode(t, &u)
	return u.State
}

// testClock is a clock for server.Config.Now and Timer that only moves when
// the test advances it, firing the timers it passes.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[chan time.Time]time.Time
	armed  chan time.Time // every instant a timer was set for
}

func newTestClock(now time.Time) *testClock {
	return &testClock{now: now, timers: map[chan time.Time]time.Time{}, armed: make(chan time.Time, 1000)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Timer(at time.Time) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.armed <- at
	if !at.After(c.now) {
		// Already due, as a time.Timer for a duration of zero or less.
		ch <- c.now
		return ch, func() bool { return false }
	}
	c.timers[ch] = at
	return ch, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[ch]
		delete(c.timers, ch)
		return ok
	}
}

// Set moves the clock to now and fires every timer due.
func (c *testClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for ch, at := range c.timers {
		if !at.After(now) {
			ch <- now
			delete(c.timers, ch)
		}
	}
}

// waitArmed waits for a timer set for at.
func (c *testClock) waitArmed(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(statusWait)
	for {
		select {
		case got := <-c.armed:
			if got.Equal(at) {
				return
			}
		case <-deadline:
			t.Fatalf("no timer set for %v", at)
		}
	}
}

// TestBusinessHoursBoundary: with the agent online all along, the widget
// closes at 17:00 Berlin time and opens at 09:00 the next morning, each at
// the boundary's timer; nothing else wakes the server.
func TestBusinessHoursBoundary(t *testing.T) {
	clk := newTestClock(time.Date(2027, 10, 29, 14, 59, 0, 0, time.UTC)) // Friday 16:59 CEST
	e := newEnv(t, &envOptions{cfg: serverConfig(0, 0), app: app.Config{Now: clk.Now, Timer: clk.Timer}})
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Availability = parley.Availability{
			Mode: parley.AvailabilityHours, Timezone: "Europe/Berlin", AwayMessage: "Closed for today.",
			Hours: []parley.HoursRange{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}},
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.app.WidgetsChanged()
	closing := time.Date(2027, 10, 29, 15, 0, 0, 0, time.UTC)
	clk.waitArmed(t, closing)

	admin := e.login("admin@example.com")
	admin.agentWS()
	v, ready := e.visitor("", 0)
	if st := statusOf(ready["status"]); !st.Available {
		// The console's connection may still be on its way to presence.
		nextStatus(t, v, statusWait, isAvailable)
	}

	clk.Set(closing)
	st, took := nextStatus(t, v, statusWait, func(st parley.WidgetStatus) bool { return !st.Available })
	// Monday 09:00 CET: the clocks went back on Sunday.
	want := parley.WidgetStatus{ShowLauncher: true, AwayMessage: "Closed for today.", NextOpenAt: "2027-11-01T08:00:00Z", Reason: parley.ReasonOutsideHours}
	if st != want {
		t.Errorf("at closing: %+v, want %+v", st, want)
	}
	opening := time.Date(2027, 11, 1, 8, 0, 0, 0, time.UTC)
	clk.waitArmed(t, opening)
	clk.Set(opening)
	_, took2 := nextStatus(t, v, statusWait, isAvailable)
	t.Logf("closing pushed %v after the boundary's timer, opening %v", took, took2)
}

// TestAdminSetsAway: an admin turns a teammate's away mode on and off; an
// agent may not; bad input is refused.
func TestAdminSetsAway(t *testing.T) {
	e := newEnv(t, nil)
	agent := e.addAgent("bo@example.com", true)
	admin := e.login("admin@example.com")
	bo := e.login("bo@example.com")
	v, _ := e.visitor("", 0)
	bws, _ := bo.agentWS()
	nextStatus(t, v, statusWait, isAvailable)

	path := fmt.Sprint("/api/v1/users/", agent.ID)
	res := admin.do("PATCH", path, map[string]any{"away": true}, nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"away":true`) || !strings.Contains(string(res.body), `"state":"away"`) {
		t.Fatalf("admin sets away: %d %s", res.status, res.body)
	}
	nextStatus(t, v, statusWait, isAway)
	// The agent's own console learns it.
	for {
		ev := bws.next("presence")
		users, _ := ev["users"].([]any)
		found := false
		for _, u := range users {
			if m := u.(map[string]any); m["id"] == fmt.Sprint(agent.ID) && m["state"] == "away" {
				found = true
			}
		}
		if found {
			break
		}
	}
	if res := bo.do("PATCH", fmt.Sprint("/api/v1/users/", e.admin.ID), map[string]any{"away": true}, nil); res.status != 403 {
		t.Errorf("agent sets the admin away: %d, want 403", res.status)
	}
	if res := admin.do("PATCH", path, `{"away":"yes"}`, nil); res.status != 400 || !strings.Contains(string(res.body), "away") {
		t.Errorf("bad away: %d %s", res.status, res.body)
	}
	if u, _ := e.db.User(context.Background(), agent.ID); !u.Away {
		t.Error("a refused request changed away mode")
	}
	admin.do("PATCH", path, map[string]any{"away": false}, nil)
	nextStatus(t, v, statusWait, isAvailable)

	// Reassign replies is the user's own setting.
	res = bo.do("PATCH", "/api/v1/users/me", map[string]any{"reassignWhileAway": true}, nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"reassignWhileAway":true`) {
		t.Fatalf("reassignWhileAway: %d %s", res.status, res.body)
	}
	if res := bo.do("GET", "/api/v1/users/me", nil, nil); !strings.Contains(string(res.body), `"reassignWhileAway":true`) {
		t.Errorf("me=%s", res.body)
	}
}

// TestStatusStream: the status stream a loader with a hidden launcher holds
// says the current status at once and every change after; unknown widgets
// are 404 in the API's error shape.
func TestStatusStream(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Availability.HideLauncherWhenAway = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprint(e.base, "/widget/v1/status?widgetId=", e.widget.ID), nil)
	req.Header.Set("Origin", "http://customer.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	events := make(chan parley.WidgetStatus, 10)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev struct{ Status map[string]any }
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- statusOf(ev.Status)
				}
			}
		}
		close(events)
	}()
	next := func() parley.WidgetStatus {
		select {
		case st := <-events:
			return st
		case <-time.After(statusWait):
			t.Fatal("no status event")
			return parley.WidgetStatus{}
		}
	}
	if st := next(); st.ShowLauncher || st.Available {
		t.Fatalf("first event %+v, want the hidden launcher", st)
	}
	e.login("admin@example.com").agentWS()
	if st := next(); !st.ShowLauncher || !st.Available {
		t.Fatalf("after the agent came %+v, want available", st)
	}

	res2, err := http.Get(e.base + "/widget/v1/status?widgetId=999")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != 404 || !strings.Contains(string(body), `"category"`) {
		t.Errorf("unknown widget: %d %s", res2.StatusCode, body)
	}
}
