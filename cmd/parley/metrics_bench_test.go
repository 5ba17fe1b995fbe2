package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkMessageSend measures a visitor's message from its socket to
// the durable acknowledgement and the fan-out to a console's socket, on
// Parley running in-process with real fsync, with metrics off and on in
// the same run (each twice, off-on-on-off, the faster of the two kept). Run
// it with a fixed count, e.g. -benchtime 2000x: each iteration is one
// message per mode. It reports ns per message for both and their ratio.
func BenchmarkMessageSend(b *testing.B) {
	var off, on time.Duration
	// Off, on, on, off: neither mode always goes first.
	for _, metricsOn := range []bool{false, true, true, false} {
		d := sendMessages(b, metricsOn, b.N)
		if metricsOn && (on == 0 || d < on) {
			on = d
		} else if !metricsOn && (off == 0 || d < off) {
			off = d
		}
	}
	b.ReportMetric(float64(off.Nanoseconds())/float64(b.N), "off-ns/msg")
	b.ReportMetric(float64(on.Nanoseconds())/float64(b.N), "on-ns/msg")
	b.ReportMetric(float64(on)/float64(off), "on/off")
}

// sendMessages starts Parley (with metrics when metricsOn), opens a
// console and a visitor, and returns how long n visitor messages took,
// up to 16 in flight, until all were acknowledged and the console had
// them all.
func sendMessages(b *testing.B, metricsOn bool, n int) time.Duration {
	b.Helper()
	env := map[string]string{"PARLEY_DATA": b.TempDir(), "PARLEY_MESSAGE_RATE": "1000000",
		"PARLEY_ADMIN_EMAIL": "admin@example.com", "PARLEY_ADMIN_PASSWORD": "correct horse battery"}
	if metricsOn {
		env["PARLEY_METRICS_TOKEN"] = testMetricsToken
	}
	base := "http://" + waitLog(b, serveLogs(b, env), "listening")["addr"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The console: the admin's session on the agent socket.
	console := dialConsole(b, ctx, base, "admin@example.com")
	defer console.CloseNow()
	console.SetReadLimit(1 << 24)
	if err := console.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","resume":[]}`)); err != nil {
		b.Fatal(err)
	}
	seen := make(chan int, 1)
	go func() { // counts the visitor's messages the console gets
		count := 0
		for {
			_, data, err := console.Read(ctx)
			if err != nil {
				return
			}
			count += strings.Count(string(data), `"text":"bench `)
			select {
			case <-seen:
			default:
			}
			seen <- count
		}
	}()

	v, _ := dialVisitor(b, base, "")
	defer v.c.CloseNow()
	start := time.Now()
	sent, acked := 0, 0
	send := func() {
		sent++
		v.write(b, map[string]any{"type": "message.send", "clientId": fmt.Sprint(sent), "text": fmt.Sprint("bench ", sent)})
	}
	for sent < min(n, 16) {
		send()
	}
	for acked < n {
		evs, err := v.read(ctx)
		if err != nil {
			b.Fatalf("visitor: %v after %d acks", err, acked)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "message.ack":
				acked++
				if sent < n {
					send()
				}
			case "error":
				raw, _ := json.Marshal(ev)
				b.Fatalf("visitor error %s", raw)
			}
		}
	}
	for got := 0; got < n; {
		select {
		case got = <-seen:
		case <-ctx.Done():
			b.Fatalf("console got %d of %d", got, n)
		}
	}
	return time.Since(start)
}

// dialConsole signs in as email (password "correct horse battery") and
// opens a console WebSocket with that session; the caller says hello.
func dialConsole(tb testing.TB, ctx context.Context, base, email string) *websocket.Conn {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	body, _ := json.Marshal(map[string]string{"email": email, "password": "correct horse battery"})
	req, _ := http.NewRequest("POST", base+"/api/v1/session", bytes.NewReader(body))
	req.Header.Set("Origin", base)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil || res.StatusCode != 200 {
		tb.Fatalf("%s signs in: %v %v", email, res, err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	h := http.Header{"Origin": {base}}
	for _, c := range jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}
