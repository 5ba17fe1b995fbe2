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
	"runtime"
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
// (after a full GC) and its goroutines per connection. Run it once:
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
				kb, goroutines := measureIdle(b, kind, n)
				b.ReportMetric(kb, "KB/conn")
				b.ReportMetric(goroutines, "goroutines/conn")
			}
		})
	}
}

// measureIdle opens n idle connections of kind to a new server and returns
// what each costs it.
func measureIdle(b *testing.B, kind string, n int) (kb, goroutines float64) {
	b.Helper()
	e := newEnv(b, &envOptions{cfg: server.Config{VisitorConnsPerIP: -1, NewVisitorsPerIP: -1, NewConversationsPerIP: -1}})
	url := e.visitorURL()
	open := func() int64 { return e.srv.Conns().Visitors }
	if kind == "status" {
		url = fmt.Sprintf("%s/widget/v1/status?widgetId=%d", e.base, e.widget.ID)
		open = func() int64 { return e.srv.Conns().StatusStreams }
	}
	mem0, g0 := serverFootprint()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PARLEY_IDLE_CLIENTS="+kind, "PARLEY_IDLE_URL="+url, "PARLEY_IDLE_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close() // the clients exit and their connections drop
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("clients: %q, %v", line, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for open() != int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("%d %s connections open, want %d", open(), kind, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mem1, g1 := serverFootprint()
	return float64(mem1-mem0) / float64(n) / 1024, float64(g1-g0) / float64(n)
}

// serverFootprint returns heap in use plus goroutine stacks after a full
// collection, and the number of goroutines.
func serverFootprint() (bytes uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
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

// idleClients is the child process of BenchmarkIdleSockets: it opens n
// connections of kind ("visitor" or "status") to url, says "ready" on
// stdout once every one has its first event, and holds them, answering
// pings, until stdin closes.
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
				open := openIdleVisitor
				if kind == "status" {
					open = openIdleStatus
				}
				if err := open(url); err != nil {
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

func openIdleVisitor(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://customer.example"}}})
	if err != nil {
		return err
	}
	hello := `{"type":"hello","pageUrl":"http://customer.example/pricing"}`
	if err := c.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
		return err
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), `"type":"ready"`) {
		return fmt.Errorf("first frame %.200s, want ready", data)
	}
	c.CloseRead(context.Background()) // answers the server's pings
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
