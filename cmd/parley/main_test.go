package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestMain lets a test start this binary as Parley itself: with
// PARLEY_TEST_MAIN=1 the test binary runs main instead of the tests, and
// with PARLEY_TEST_BASELINE=coder|gorilla|naive as well it serves that
// baseline of the benchmarks instead (versus_test.go).
func TestMain(m *testing.M) {
	if kind := os.Getenv("PARLEY_TEST_BASELINE"); kind != "" && os.Getenv("PARLEY_TEST_MAIN") == "1" {
		os.Exit(serveBaseline(kind, os.Getenv("PARLEY_DATA")))
	}
	if os.Getenv("PARLEY_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is Parley running as a child process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	// metricsAddr is the --metrics-listen address, when it has one.
	metricsAddr string
	logs        chan map[string]any
	done        chan struct{}
}

// startProc starts Parley on a free port with data in dir and waits until
// it listens.
func startProc(t testing.TB, dir string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), append([]string{"PARLEY_TEST_MAIN=1", "PARLEY_DATA=" + dir,
		"PARLEY_MESSAGE_RATE=10000", "PARLEY_ADMIN_EMAIL=admin@example.com", "PARLEY_ADMIN_PASSWORD=correct horse battery"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: make(chan map[string]any, 1000), done: make(chan struct{})}
	go func() {
		defer close(p.logs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				select {
				case p.logs <- line:
				default:
				}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	deadline := time.After(15 * time.Second)
	for p.addr == "" {
		select {
		case line, ok := <-p.logs:
			if !ok {
				t.Fatal("parley exited before listening")
			}
			switch line["message"] {
			case "listening":
				p.addr = line["addr"].(string)
			case "serving metrics":
				p.metricsAddr = line["addr"].(string)
			}
		case <-deadline:
			t.Fatal("parley did not listen within 15s")
		}
	}
	return p
}

func (p *proc) base() string { return "http://" + p.addr }

// visitorSession is a minimal visitor client for process tests.
type visitorSession struct {
	c *websocket.Conn
}

func dialVisitor(t testing.TB, base, token string) (*visitorSession, []map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/widget/v1/ws?widgetId=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	v := &visitorSession{c: c}
	v.write(t, map[string]any{"type": "hello", "visitorToken": token})
	return v, nil
}

func (v *visitorSession) write(t testing.TB, ev any) {
	b, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// read returns the next events (a frame may hold several).
func (v *visitorSession) read(ctx context.Context) ([]map[string]any, error) {
	_, data, err := v.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if data[0] == '[' {
		var evs []map[string]any
		err := json.Unmarshal(data, &evs)
		return evs, err
	}
	var ev map[string]any
	err = json.Unmarshal(data, &ev)
	return []map[string]any{ev}, err
}

// TestRestartKeepsAcknowledged: a visitor writes while Parley is killed with
// SIGKILL (or stopped with SIGTERM); after a restart every acknowledged
// message is there, for the visitor and for the agent API.
func TestRestartKeepsAcknowledged(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			p := startProc(t, dir)
			v, _ := dialVisitor(t, p.base(), "")
			acked := map[string]string{} // clientId -> text
			var token string
			// Write in a pipeline: keep up to 20 messages in flight.
			sent, stop := 0, false
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			send := func() {
				sent++
				v.write(t, map[string]any{"type": "message.send", "clientId": fmt.Sprintf("m%d", sent), "text": fmt.Sprintf("message %d", sent)})
			}
			for range 20 {
				send()
			}
			killedAt := 150
			for !stop {
				evs, err := v.read(ctx)
				if err != nil {
					break // the server is gone
				}
				for _, ev := range evs {
					switch ev["type"] {
					case "identity":
						token = ev["visitorToken"].(string)
					case "message.ack":
						m := ev["message"].(map[string]any)
						acked[ev["clientId"].(string)] = m["text"].(string)
						if len(acked) == killedAt {
							if err := p.cmd.Process.Signal(sig); err != nil {
								t.Fatal(err)
							}
						}
						if len(acked) < killedAt {
							send()
						}
					case "error":
						if ev["code"] == "rate_limited" {
							continue
						}
						t.Fatalf("error event %v", ev)
					}
				}
			}
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				t.Fatal("parley did not exit")
			}
			if sig == syscall.SIGTERM && p.cmd.ProcessState.ExitCode() != 0 {
				t.Fatalf("exit code after SIGTERM=%d, want 0", p.cmd.ProcessState.ExitCode())
			}
			if len(acked) < killedAt {
				t.Fatalf("only %d acks before the stop", len(acked))
			}

			p2 := startProc(t, dir)
			v2, _ := dialVisitor(t, p2.base(), token)
			got := map[string]string{}
			ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel2()
			var lastSeq float64
			for len(got) < len(acked) {
				evs, err := v2.read(ctx2)
				if err != nil {
					t.Fatalf("after restart: %v (got %d of %d)", err, len(got), len(acked))
				}
				for _, ev := range evs {
					if ev["type"] == "message.created" {
						m := ev["message"].(map[string]any)
						if m["seq"].(float64) != lastSeq+1 {
							t.Fatalf("seq %v after %v", m["seq"], lastSeq)
						}
						lastSeq = m["seq"].(float64)
						got[m["clientId"].(string)] = m["text"].(string)
					}
				}
			}
			for id, text := range acked {
				if got[id] != text {
					t.Fatalf("acknowledged %s=%q is %q after restart", id, text, got[id])
				}
			}
			// The agent's API sees the same thread.
			res := apiGet(t, p2.base(), "/conversations/v3/conversations/threads/1")
			var th struct{ LastSeq float64 }
			_ = json.Unmarshal(res, &th)
			if th.LastSeq < float64(len(acked)) {
				t.Fatalf("thread lastSeq=%v, want ≥ %d", th.LastSeq, len(acked))
			}
		})
	}
}

// apiGet signs in as the env admin with a token and GETs path.
func apiGet(t *testing.T, base, path string) []byte {
	t.Helper()
	body := strings.NewReader(`{"email":"admin@example.com","password":"correct horse battery"}`)
	res, err := http.Post(base+"/api/v1/session", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "parley_session" {
			cookie = c.Value
		}
	}
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(&http.Cookie{Name: "parley_session", Value: cookie})
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b
}

// TestSecondInstanceRefused: a second Parley on the same data directory
// fails within seconds with a clear message.
func TestSecondInstanceRefused(t *testing.T) {
	dir := t.TempDir()
	startProc(t, dir)
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), "PARLEY_TEST_MAIN=1", "PARLEY_DATA="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("second instance started")
	}
	if !strings.Contains(string(out), "in use by another Parley") {
		t.Fatalf("output=%s", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}
