package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/server"
)

// noConnLimits lets one address hold as many connections as a test opens.
func noConnLimits() server.Config {
	return server.Config{VisitorConnsPerIP: -1, NewVisitorsPerIP: -1, NewConversationsPerIP: -1}
}

// waitGoroutines polls until at most want goroutines run, and fails with
// their stacks if that does not happen within a minute.
func waitGoroutines(tb testing.TB, what string, want int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			tb.Fatalf("%s: %d goroutines, want at most %d\n%.20000s", what, runtime.NumGoroutine(), want, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleGoroutines: an idle visitor socket and an idle console socket
// cost the server one goroutine each, the one that reads; an idle status
// stream costs none (one goroutine watches every stream's peer). The
// clients run in a child process, so every goroutine counted is the
// server's.
func TestIdleGoroutines(t *testing.T) {
	const n = 200
	e := newEnv(t, &envOptions{cfg: noConnLimits()})
	admin := e.login("admin@example.com")
	u, _ := http.NewRequest("GET", e.base, nil)
	var cookies []string
	for _, ck := range admin.hc.Jar.Cookies(u.URL) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	ws := "ws" + strings.TrimPrefix(e.base, "http")
	tests := []struct {
		name, kind, url string
		open            func() int64
		perConn, extra  int
		env             []string
	}{
		{"visitor", "visitor", e.visitorURL(), func() int64 { return e.srv.Conns().Visitors }, 1, 0, nil},
		{"agent", "agent", ws + "/api/v1/ws", func() int64 { return e.srv.Conns().Agents }, 1, 0,
			[]string{"PARLEY_IDLE_ORIGIN=" + e.base, "PARLEY_IDLE_COOKIE=" + strings.Join(cookies, "; ")}},
		{"status", "status", fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID),
			func() int64 { return e.srv.Conns().StatusStreams }, 0, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			stop := startIdleClients(t, tt.kind, tt.url, n, tt.open, tt.env...)
			waitGoroutines(t, fmt.Sprintf("%d idle %s connections", n, tt.name), before+n*tt.perConn+tt.extra)
			stop()
			eventually(t, "connections released", func() bool { return tt.open() == 0 })
		})
	}
}

// TestSlowVisitorAlone: a visitor that stops reading is dropped with 4408
// once its queue overflows, while another visitor on the same widget gets
// every event, each before the next is published.
func TestSlowVisitorAlone(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{PingInterval: time.Hour, WriteTimeout: 5 * time.Minute, VisitorQueue: 16}})
	ctx := context.Background()
	slow, _, err := websocket.Dial(ctx, e.visitorURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://customer.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	slow.SetReadLimit(1 << 20)
	if err := slow.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if _, data, err := slow.Read(ctx); err != nil || !strings.Contains(string(data), `"ready"`) {
		t.Fatalf("slow visitor's first frame: %.100s, %v", data, err)
	}
	// From here on the slow visitor reads nothing.
	fast, _ := e.visitor("", 0)
	pad := strings.Repeat("x", 32<<10)
	for i := 0; ; i++ {
		if i == 5000 {
			t.Fatal("the slow visitor was not dropped after 5000 events")
		}
		e.hub.Publish([]byte(fmt.Sprintf(`{"type":"filler","n":%d,"pad":%q}`, i, pad)), fmt.Sprint("widget:", e.widget.ID))
		ev := fast.next("filler")
		if got := ev["n"]; got != float64(i) {
			t.Fatalf("fast visitor got filler %v, want %d", got, i)
		}
		if e.hub.Stats().Dropped > 0 {
			break
		}
	}
	// The slow visitor reads again: what was sent, then the close.
	for {
		_, _, err := slow.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != 4408 {
				t.Fatalf("slow visitor closed with %d (%v), want 4408", code, err)
			}
			break
		}
	}
	say(fast, "c1", "still here")
}

// openStatus opens the widget's status stream over a raw connection and
// reads its head and first event.
func openStatus(t *testing.T, e *env) (net.Conn, *bufio.Reader, http.Header) {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	fmt.Fprintf(nc, "GET /widget/v1/status?widgetId=%d HTTP/1.1\r\nHost: x\r\nOrigin: http://customer.example\r\n\r\n", e.widget.ID)
	br := bufio.NewReader(nc)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("status stream: %d", res.StatusCode)
	}
	body := bufio.NewReader(res.Body)
	if line, err := body.ReadString('\n'); err != nil || !strings.HasPrefix(line, `data: {"type":"status"`) {
		t.Fatalf("first line %q, %v", line, err)
	}
	return nc, body, res.Header
}

// TestStatusStreamHijacked: a status stream taken over from net/http still
// looks as it did to a browser: the same head, chunked events, status
// changes as they happen, keep-alive comments, and at shutdown the end of
// the body.
func TestStatusStreamHijacked(t *testing.T) {
	cfg := noConnLimits()
	cfg.StatusKeepAlive = 200 * time.Millisecond
	e := newEnv(t, &envOptions{cfg: cfg})
	_, body, h := openStatus(t, e)
	for k, want := range map[string]string{
		"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no",
		"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got := e.srv.Conns().StatusStreams; got != 1 {
		t.Errorf("status streams counted: %d, want 1", got)
	}
	next := func(prefix string) {
		t.Helper()
		for {
			line, err := body.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		}
	}
	next(": keep-alive")
	next(": keep-alive")
	admin := e.login("admin@example.com")
	admin.agentWS()
	next(`data: {"type":"status","status":{"available":true`)
	shutdownEndsBody(t, e, body)
	if got := e.srv.Conns().StatusStreams; got != 0 {
		t.Errorf("status streams counted after shutdown: %d, want 0", got)
	}
}

// TestStatusStreamPeerGone: a stream whose browser has gone is released,
// and its slot of the address's limit freed, without waiting for a
// write: at once when the peer closes, and at the next keep-alive when
// it first sent something the stream does not read.
func TestStatusStreamPeerGone(t *testing.T) {
	tests := []struct {
		name      string
		keepAlive time.Duration
		junk      string
	}{
		{"closed", time.Hour, ""},
		{"junk then closed", time.Hour, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"reset", time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := server.Config{VisitorConnsPerIP: 1, StatusKeepAlive: tt.keepAlive}
			e := newEnv(t, &envOptions{cfg: cfg})
			nc, _, _ := openStatus(t, e)
			if st, _, _ := e.statusStream(""); st != 429 {
				t.Fatalf("second stream from the address: %d, want 429", st)
			}
			if tt.junk != "" {
				io.WriteString(nc, tt.junk)
			}
			if tt.name == "reset" {
				nc.(*net.TCPConn).SetLinger(0)
			}
			nc.Close()
			eventually(t, "the stream released", func() bool { return e.srv.Conns().StatusStreams == 0 })
			st, _, stop := e.statusStream("")
			if st != 200 {
				t.Fatalf("stream after the first left: %d, want 200", st)
			}
			stop()
		})
	}
}

// TestShutdownManySockets: 1,000 visitor sockets and 200 status streams
// open at shutdown are all closed, the sockets with 1001, and no goroutine
// of theirs is left.
func TestShutdownManySockets(t *testing.T) {
	const sockets, streams = 1000, 200
	e := newEnv(t, &envOptions{cfg: noConnLimits()})
	before := runtime.NumGoroutine()
	codes := make(chan websocket.StatusCode, sockets)
	ends := make(chan error, streams)
	var wg sync.WaitGroup
	errs := make(chan error, sockets+streams)
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				if i < streams {
					if err := openStreamUntilEnd(e, ends); err != nil {
						errs <- err
					}
					continue
				}
				if err := openSocketUntilClose(e, codes); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range sockets + streams {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c := e.srv.Conns(); c.Visitors != sockets || c.StatusStreams != streams {
		t.Fatalf("open: %d sockets, %d streams; want %d, %d", c.Visitors, c.StatusStreams, sockets, streams)
	}
	e.srv.Close()
	for range sockets {
		select {
		case code := <-codes:
			if code != websocket.StatusGoingAway {
				t.Fatalf("socket closed with %d, want 1001", code)
			}
		case <-time.After(time.Minute):
			t.Fatal("a socket still open a minute after shutdown")
		}
	}
	for range streams {
		select {
		case err := <-ends:
			if err != nil {
				t.Fatalf("stream at shutdown: %v, want the body's end", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("a stream still open a minute after shutdown")
		}
	}
	if c := e.srv.Conns(); c.Visitors != 0 || c.StatusStreams != 0 {
		t.Errorf("counted after shutdown: %d sockets, %d streams; want none", c.Visitors, c.StatusStreams)
	}
	waitGoroutines(t, "after shutdown", before)
}

// openSocketUntilClose opens a visitor socket, waits for ready and leaves
// a goroutine that reads until the close and reports its code.
func openSocketUntilClose(e *env, codes chan<- websocket.StatusCode) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.visitorURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://customer.example"}}})
	if err != nil {
		return err
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		return err
	}
	if _, data, err := c.Read(ctx); err != nil || !strings.Contains(string(data), `"ready"`) {
		return fmt.Errorf("first frame %.100s, %v", data, err)
	}
	go func() {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				codes <- websocket.CloseStatus(err)
				return
			}
		}
	}()
	return nil
}

// oneShot keeps no connection for later, so that none outlives its stream.
var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// openStreamUntilEnd opens a status stream and leaves a goroutine that
// reads it to its end: nil for a body that ended as HTTP says, else the
// error.
func openStreamUntilEnd(e *env, ends chan<- error) error {
	res, err := oneShot.Get(fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID))
	if err != nil {
		return err
	}
	br := bufio.NewReader(res.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		res.Body.Close()
		return fmt.Errorf("first line %q, %v", line, err)
	}
	go func() {
		_, err := io.Copy(io.Discard, br)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("body cut off: %w", err)
		}
		res.Body.Close()
		ends <- err
	}()
	return nil
}

// TestHelloWithHandshake: a client that sends its hello in the same write
// as the upgrade request, before it has read the answer, is served: the
// bytes the server read with the request reach the socket's reader.
func TestHelloWithHandshake(t *testing.T) {
	e := newEnv(t, nil)
	nc, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hello := []byte(`{"type":"hello","pageUrl":"http://customer.example/pricing"}`)
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(hello))} // FIN, text; masked, as a client must
	frame = append(frame, mask[:]...)
	for i, c := range hello {
		frame = append(frame, c^mask[i%4])
	}
	req := fmt.Sprintf("GET /widget/v1/ws?widgetId=%d HTTP/1.1\r\nHost: x\r\nOrigin: http://customer.example\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", e.widget.ID)
	if _, err := nc.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(nc)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", res, err)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(br, head); err != nil {
		t.Fatal(err)
	}
	n := int(head[1] & 0x7f)
	switch n {
	case 126:
		ext := make([]byte, 2)
		io.ReadFull(br, ext)
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		t.Fatal("a ready frame of more than 64 KiB")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	if head[0]&0x0f != 1 || !strings.Contains(string(payload), `"type":"ready"`) {
		t.Fatalf("first frame (opcode %d): %.200s, want ready", head[0]&0x0f, payload)
	}
}

// TestStatusStreamHTTP2: over HTTP/2, where a connection cannot be taken
// over, the status stream is served in its handler as before: status
// changes as they happen, released when the browser goes, ended at
// shutdown.
func TestStatusStreamHTTP2(t *testing.T) {
	e := newEnv(t, &envOptions{http2: true})
	hc := e.ts.Client()
	open := func(ctx context.Context) (*http.Response, *bufio.Reader) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID), nil)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.ProtoMajor != 2 || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("status stream: %s %d %q, want HTTP/2 200 text/event-stream", res.Proto, res.StatusCode, res.Header.Get("Content-Type"))
		}
		body := bufio.NewReader(res.Body)
		if line, err := body.ReadString('\n'); err != nil || !strings.HasPrefix(line, `data: {"type":"status"`) {
			t.Fatalf("first line %q, %v", line, err)
		}
		return res, body
	}
	ctx, cancel := context.WithCancel(context.Background())
	res, body := open(ctx)
	release := e.presence.Connect(e.admin.ID)
	defer release()
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for the agent to be online: %v", err)
		}
		if strings.HasPrefix(line, `data: {"type":"status","status":{"available":true`) {
			break
		}
	}
	cancel()
	res.Body.Close()
	eventually(t, "the stream released", func() bool { return e.srv.Conns().StatusStreams == 0 })

	res, body = open(context.Background())
	defer res.Body.Close()
	shutdownEndsBody(t, e, body)
}

// shutdownEndsBody shuts e's server down and requires the status stream
// body to end cleanly within a minute.
func shutdownEndsBody(t *testing.T, e *env, body io.Reader) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, body)
		done <- err
	}()
	e.srv.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("body at shutdown: %v, want its end", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("body still open a minute after shutdown")
	}
}
