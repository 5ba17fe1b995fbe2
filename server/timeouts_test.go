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
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
)

// rawConn is an attacker's TCP connection to e: it reads everything the
// server sends, in the background, until the server closes it.
type rawConn struct {
	net.Conn
	answer chan string // what the server sent, once it closed the connection
}

func dialRaw(t *testing.T, e *env) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", e.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{Conn: c, answer: make(chan string, 1)}
	go func() {
		b, _ := io.ReadAll(c)
		rc.answer <- string(b)
	}()
	return rc
}

// trickle writes s a byte every 200ms until the connection breaks or stop
// is closed.
func (rc *rawConn) trickle(s string, stop <-chan struct{}) {
	for i := range len(s) {
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := rc.Write([]byte{s[i]}); err != nil {
			return
		}
	}
}

// closed waits up to limit for the server to close the connection and
// returns what it sent; it fails the test if the connection stays open.
func (rc *rawConn) closed(t *testing.T, limit time.Duration, what string) string {
	t.Helper()
	select {
	case s := <-rc.answer:
		return s
	case <-time.After(limit):
		t.Fatalf("%s: the connection is still open after %s", what, limit)
		return ""
	}
}

// TestSlowBodyCutOff: a body trickled after its headers is cut off once
// BodyTimeout has passed: the client gets 400 saying so, the connection is
// closed and nothing is stored. Headers trickled are cut off after
// HeaderTimeout.
func TestSlowBodyCutOff(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{BodyTimeout: time.Second, HeaderTimeout: time.Second}})
	admin := e.login("admin@example.com")
	var tok struct{ Token string }
	admin.want(201, "POST", "/api/v1/tokens", map[string]string{"name": "attack"}).decode(t, &tok)

	body := `{"email":"slow@example.com","role":"agent"}`
	rc := dialRaw(t, e)
	stop := make(chan struct{})
	defer close(stop)
	fmt.Fprintf(rc, "POST /api/v1/invites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", tok.Token, len(body))
	go rc.trickle(body, stop)
	answer := rc.closed(t, 10*time.Second, "slow body")
	if !strings.HasPrefix(answer, "HTTP/1.1 400 ") || !strings.Contains(answer, "not received within 1s") {
		t.Fatalf("answer %q, want 400 saying the body was not received in time", answer)
	}
	var invites struct{ Results []any }
	admin.want(200, "GET", "/api/v1/invites", nil).decode(t, &invites)
	if len(invites.Results) != 0 {
		t.Fatalf("%d invitations stored from a cut-off body", len(invites.Results))
	}

	rc = dialRaw(t, e)
	go rc.trickle("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 100)+"\r\n\r\n", stop)
	rc.closed(t, 10*time.Second, "slow headers")
}

// TestIdleConnectionClosed: a kept-alive connection that sends no next
// request is closed after IdleTimeout.
func TestIdleConnectionClosed(t *testing.T) {
	e := newEnv(t, &envOptions{cfg: server.Config{IdleTimeout: time.Second}})
	rc := dialRaw(t, e)
	fmt.Fprint(rc, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if answer := rc.closed(t, 10*time.Second, "idle keep-alive"); !strings.HasPrefix(answer, "HTTP/1.1 200 ") {
		t.Fatalf("answer %q, want 200", answer)
	}
}

// TestLongLivedPastTimeouts: a console's WebSocket and a widget's status
// stream live on well past the body, header and idle timeouts.
func TestLongLivedPastTimeouts(t *testing.T) {
	const d = 500 * time.Millisecond
	e := newEnv(t, &envOptions{cfg: server.Config{BodyTimeout: d, HeaderTimeout: d, IdleTimeout: d}})
	if _, err := e.db.UpdateWidget(context.Background(), e.widget.ID, func(w *parley.Widget) error {
		w.Availability.HideLauncherWhenAway = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprint(e.base, "/widget/v1/status?widgetId=", e.widget.ID), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := make(chan bool, 10) // whether the launcher shows
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev struct{ Status struct{ ShowLauncher bool } }
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev.Status.ShowLauncher
				}
			}
		}
	}()
	if show, ok := <-events; !ok || show {
		t.Fatalf("first status event: show=%v ok=%v, want the hidden launcher", show, ok)
	}
	e.addAgent("bo@example.com", true)
	bo := e.login("bo@example.com")
	ws, _ := bo.agentWS()

	time.Sleep(5 * d)

	if err := ws.c.Ping(ctx); err != nil {
		t.Fatalf("console WebSocket after %s: %v", 5*d, err)
	}
	// Pushes for the changes on the way (a user added, then online) may
	// still say hidden; the stream must live on to say shown.
	for shown := false; !shown; {
		select {
		case show, ok := <-events:
			if !ok {
				t.Fatal("the status stream ended before saying the launcher shows")
			}
			shown = show
		case <-ctx.Done():
			t.Fatal("no status event showing the launcher")
		}
	}
	// That change came before the sleep; one after it arrives too.
	bo.want(200, "PATCH", "/api/v1/users/me", map[string]any{"away": true})
	for hidden := false; !hidden; {
		select {
		case show, ok := <-events:
			if !ok {
				t.Fatal("the status stream is gone")
			}
			hidden = !show
		case <-ctx.Done():
			t.Fatal("no status event after the agent went away")
		}
	}
}
