package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/server"
)

// BenchmarkIdleSockets measures what an idle connection costs the server:
// it opens PARLEY_IDLE_SOCKETS (default 10,000) visitor WebSockets, then as
// many widget status streams, over loopback from a child process, and
// reports the server's heap in use plus goroutine stacks per connection
// (after a full GC) and its goroutines per connection; with
// PARLEY_IDLE_PROFILE set to a directory, it leaves a heap profile of each
// kind there. Run it once:
//
//	go test ./server -run '^$' -bench BenchmarkIdleSockets -benchtime 1x
func BenchmarkIdleSockets(b *testing.B) {
	n := 10000
	if v := os.Getenv("PARLEY_IDLE_SOCKETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("PARLEY_IDLE_SOCKETS=%q is not a positive number", v)
		}
	}
	raiseFileLimit(b, uint64(n)+1000)
	for _, kind := range []string{"visitor", "status"} {
		b.Run(kind, func(b *testing.B) {
			for range b.N {
				heap, stack, goroutines := measureIdle(b, kind, n)
				b.ReportMetric(heap+stack, "KB/conn")
				b.ReportMetric(heap, "heap-KB/conn")
				b.ReportMetric(stack, "stack-KB/conn")
				b.ReportMetric(goroutines, "goroutines/conn")
			}
		})
	}
}

// measureIdle opens n idle connections of kind to a new server and returns
// what each costs it: KB of heap in use, KB of goroutine stacks, goroutines.
func measureIdle(b *testing.B, kind string, n int) (heap, stack, goroutines float64) {
	b.Helper()
	e := newEnv(b, &envOptions{cfg: server.Config{VisitorConnsPerIP: -1, NewVisitorsPerIP: -1, NewConversationsPerIP: -1}})
	url := e.visitorURL()
	open := func() int64 { return e.srv.Conns().Visitors }
	if kind == "status" {
		url = fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID)
		open = func() int64 { return e.srv.Conns().StatusStreams }
	}
	heap0, stack0, g0 := serverFootprint()
	stop := startIdleClients(b, kind, url, n, open)
	defer stop()
	heap1, stack1, g1 := serverFootprint()
	if dir := os.Getenv("PARLEY_IDLE_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, kind+".heap"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) / 1024 }
	return per(heap1, heap0), per(stack1, stack0), float64(g1-g0) / float64(n)
}

// startIdleClients starts the child process that opens n idle connections
// of kind to url (idleClients), with env added to its environment, and
// waits until open counts them all. stop ends the child; its connections
// drop.
func startIdleClients(tb testing.TB, kind, url string, n int, open func() int64, env ...string) (stop func()) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PARLEY_IDLE_CLIENTS="+kind, "PARLEY_IDLE_URL="+url, "PARLEY_IDLE_N="+strconv.Itoa(n))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	stop = func() {
		stdin.Close() // the clients exit and their connections drop
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		stop()
		tb.Fatalf("clients: %q, %v", line, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for open() != int64(n) {
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("%d %s connections open, want %d", open(), kind, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return stop
}

// serverFootprint returns heap in use and goroutine stacks after a full
// collection, and the number of goroutines.
func serverFootprint() (heap, stacks uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

func raiseFileLimit(tb testing.TB, want uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		tb.Fatal(err)
	}
	if l.Cur >= want {
		return
	}
	l.Cur = min(want, l.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		tb.Fatal(err)
	}
	if l.Cur < want {
		tb.Fatalf("open files limited to %d, want %d", l.Cur, want)
	}
}

// idleClients is the child process of BenchmarkIdleSockets and
// TestIdleGoroutines: it opens n connections of kind ("visitor", "agent"
// or "status") to url, says "ready" on stdout once every one has its first
// event, and holds them, answering pings, until stdin closes. An agent's
// socket sends the Cookie header in PARLEY_IDLE_COOKIE from the origin in
// PARLEY_IDLE_ORIGIN.
func idleClients(kind, url, count string) int {
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "PARLEY_IDLE_N:", err)
		return 2
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		failed atomic.Value
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				var err error
				switch kind {
				case "status":
					err = openIdleStatus(url)
				case "agent":
					err = openIdleWS(url, http.Header{"Origin": {os.Getenv("PARLEY_IDLE_ORIGIN")}, "Cookie": {os.Getenv("PARLEY_IDLE_COOKIE")}},
						`{"type":"hello","resume":[]}`)
				default:
					err = openIdleWS(url, http.Header{"Origin": {"http://customer.example"}},
						`{"type":"hello","pageUrl":"http://customer.example/pricing"}`)
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		fmt.Fprintln(os.Stderr, "idle clients:", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func openIdleWS(url string, h http.Header, hello string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return err
	}
	c.SetReadLimit(1 << 22)
	if err := c.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
		return err
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), `"type":"ready"`) { // the first frame, alone
		return fmt.Errorf("first frame %.200s, want ready", data)
	}
	go func() { // answers the server's pings; events are read and dropped
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return nil
}

func openIdleStatus(url string) error {
	addr := strings.TrimPrefix(url, "http://")
	host, path, _ := strings.Cut(addr, "/")
	nc, err := net.DialTimeout("tcp", host, time.Minute)
	if err != nil {
		return err
	}
	_ = nc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := fmt.Fprintf(nc, "GET /%s HTTP/1.1\r\nHost: %s\r\nOrigin: http://customer.example\r\n\r\n", path, host); err != nil {
		return err
	}
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("status stream: %w", err)
		}
		if strings.Contains(line, "data: ") {
			break
		}
	}
	_ = nc.SetDeadline(time.Time{})
	go func() { _, _ = io.Copy(io.Discard, br) }() // keep-alives
	return nil
}
