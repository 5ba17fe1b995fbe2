package benchhub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley/internal/benchhub"
)

// TestBaselines: in every baseline, 4 visitors × 25 pipelined messages
// reach 2 agents exactly once, in seq order from 1, each acknowledged to
// its sender in order; the naive baseline has every acknowledged message
// in its bbolt file.
func TestBaselines(t *testing.T) {
	for _, kind := range []benchhub.Kind{benchhub.Coder, benchhub.Gorilla, benchhub.Naive} {
		t.Run(string(kind), func(t *testing.T) {
			var db *bolt.DB
			if kind == benchhub.Naive {
				var err error
				if db, err = bolt.Open(filepath.Join(t.TempDir(), "naive.db"), 0o600, nil); err != nil {
					t.Fatal(err)
				}
				defer db.Close()
			}
			s, err := benchhub.New(kind, db)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(s)
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			cookie := signIn(t, ts.URL)
			agents := make([]*websocket.Conn, 2)
			for i := range agents {
				agents[i] = dial(t, ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/ws", http.Header{"Cookie": {cookie}})
				defer agents[i].CloseNow()
			}
			wsURL := boot(t, ts.URL)
			const visitors, perVisitor = 4, 25
			got := make([]map[string][]uint64, len(agents)) // thread → seqs, per agent
			var readers sync.WaitGroup
			for i, a := range agents {
				got[i] = map[string][]uint64{}
				readers.Add(1)
				go func() {
					defer readers.Done()
					for n := 0; n < visitors*perVisitor; {
						evs, err := read(ctx, a)
						if err != nil {
							return
						}
						for _, ev := range evs {
							if ev.Type == "message.created" {
								got[i][ev.Message.ThreadID] = append(got[i][ev.Message.ThreadID], ev.Message.Seq)
								n++
							}
						}
					}
				}()
			}
			threads := make([]string, visitors)
			var senders sync.WaitGroup
			errs := make([]error, visitors)
			for v := range visitors {
				c := dial(t, ctx, wsURL, nil)
				defer c.CloseNow()
				senders.Add(1)
				go func() {
					defer senders.Done()
					for k := range perVisitor {
						if err := c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"message.send","clientId":"v%d-%d","text":"hi"}`, v, k)); err != nil {
							errs[v] = err
							return
						}
					}
					for k := 0; k < perVisitor; {
						evs, err := read(ctx, c)
						if err != nil {
							errs[v] = err
							return
						}
						for _, ev := range evs {
							if ev.Type != "message.ack" {
								continue
							}
							if want := fmt.Sprintf("v%d-%d", v, k); ev.ClientID != want || ev.Message.Seq != uint64(k+1) {
								errs[v] = fmt.Errorf("ack %s seq %d, want %s seq %d", ev.ClientID, ev.Message.Seq, want, k+1)
								return
							}
							threads[v] = ev.Message.ThreadID
							k++
						}
					}
				}()
			}
			senders.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			readers.Wait()
			for i := range agents {
				for _, th := range threads {
					seqs := got[i][th]
					if len(seqs) != perVisitor {
						t.Fatalf("agent %d, thread %s: %d messages, want %d", i+1, th, len(seqs), perVisitor)
					}
					for k, seq := range seqs {
						if seq != uint64(k+1) {
							t.Fatalf("agent %d, thread %s: seqs %v, want 1 to %d in order", i+1, th, seqs, perVisitor)
						}
					}
				}
			}
			if db != nil {
				n := 0
				_ = db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("messages")).Stats().KeyN; return nil })
				if n != visitors*perVisitor {
					t.Errorf("%d messages stored, want %d", n, visitors*perVisitor)
				}
			}
		})
	}
}

// TestBaselineRefusals: an agent socket without a session is refused with
// 401, a first frame that is not hello closes with 4400, and a
// message.send without a clientId is answered with error invalid.
func TestBaselineRefusals(t *testing.T) {
	for _, kind := range []benchhub.Kind{benchhub.Coder, benchhub.Gorilla} {
		t.Run(string(kind), func(t *testing.T) {
			s, err := benchhub.New(kind, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(s)
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws := "ws" + strings.TrimPrefix(ts.URL, "http")
			if _, res, err := websocket.Dial(ctx, ws+"/api/v1/ws", nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
				t.Errorf("agent socket without a session: err %v, want 401", err)
			}
			c, _, err := websocket.Dial(ctx, ws+"/widget/v1/ws?widgetId=1", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"message.send","clientId":"a","text":"hi"}`))
			if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4400 {
				t.Errorf("message.send before hello: %v, want close 4400", err)
			}
			v := dial(t, ctx, ws+"/widget/v1/ws?widgetId=1", nil)
			defer v.CloseNow()
			_ = v.Write(ctx, websocket.MessageText, []byte(`{"type":"message.send","text":"hi"}`))
			evs, err := read(ctx, v)
			if err != nil || len(evs) != 1 || evs[0].Type != "error" || evs[0].Code != "invalid" {
				t.Errorf("message.send without clientId: %+v %v, want error invalid", evs, err)
			}
			if _, err := benchhub.New(benchhub.Naive, nil); err == nil {
				t.Error("naive baseline without a bbolt file: no error")
			}
		})
	}
}

type wireEvent struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	ClientID string `json:"clientId"`
	// Message is the message of message.ack and message.created; an
	// error's text is in Text.
	Message struct {
		ThreadID string `json:"threadId"`
		Seq      uint64 `json:"seq"`
	} `json:"-"`
	Text string          `json:"-"`
	Raw  json.RawMessage `json:"message"`
}

func (ev *wireEvent) decode() error {
	if ev.Type == "error" {
		return json.Unmarshal(ev.Raw, &ev.Text)
	}
	if len(ev.Raw) == 0 {
		return nil
	}
	return json.Unmarshal(ev.Raw, &ev.Message)
}

// read returns the events of the next frame: one, or an array of them.
func read(ctx context.Context, c *websocket.Conn) ([]wireEvent, error) {
	_, data, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var evs []wireEvent
	if data[0] == '[' {
		err = json.Unmarshal(data, &evs)
	} else {
		evs = make([]wireEvent, 1)
		err = json.Unmarshal(data, &evs[0])
	}
	for i := range evs {
		err = errors.Join(err, evs[i].decode())
	}
	return evs, err
}

func signIn(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"a@example.com","password":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(res.Cookies()) != 1 {
		t.Fatalf("sign in: %s, cookies %v", res.Status, res.Cookies())
	}
	return res.Cookies()[0].Name + "=" + res.Cookies()[0].Value
}

func boot(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/widget/v1/boot?url=" + base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b struct{ WS string }
	if err := json.NewDecoder(res.Body).Decode(&b); err != nil || b.WS == "" {
		t.Fatalf("boot: %v, ws %q", err, b.WS)
	}
	return b.WS
}

// dial opens a socket, says hello and waits for ready.
func dial(t *testing.T, ctx context.Context, url string, h http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	evs, err := read(ctx, c)
	if err != nil || len(evs) != 1 || evs[0].Type != "ready" {
		t.Fatalf("hello: %+v %v, want ready", evs, err)
	}
	return c
}

// TestSlowAgent: an agent that reads nothing is cut off, while the
// visitor's messages go on being acknowledged: a baseline never waits for
// a slow consumer. It is closed with 4408 once its buffer is full or, when
// its writer waited on the socket longer than the 10 s write deadline (a
// slow machine, the race detector), dropped by that deadline.
func TestSlowAgent(t *testing.T) {
	for _, kind := range []benchhub.Kind{benchhub.Coder, benchhub.Gorilla} {
		t.Run(string(kind), func(t *testing.T) {
			s, err := benchhub.New(kind, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.SetAgentBuffer(64)
			ts := httptest.NewServer(s)
			defer ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			agent := dial(t, ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/api/v1/ws", http.Header{"Cookie": {signIn(t, ts.URL)}})
			defer agent.CloseNow()
			agent.SetReadLimit(1 << 30)
			v := dial(t, ctx, boot(t, ts.URL), nil)
			defer v.CloseNow()
			v.SetReadLimit(1 << 30)

			// 64 events fill the agent's buffer; the socket's buffers
			// take a few megabytes more: 1,000 texts of 15 KB are more
			// than both.
			const n = 1000
			text := strings.Repeat("x", 15000)
			acked := make(chan int, 1)
			go func() {
				k := 0
				for k < n {
					evs, err := read(ctx, v)
					if err != nil {
						break
					}
					for _, ev := range evs {
						if ev.Type == "message.ack" {
							k++
						}
					}
				}
				acked <- k
			}()
			for k := range n {
				if err := v.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"type":"message.send","clientId":"c%d","text":"%s"}`, k, text)); err != nil {
					t.Fatal(err)
				}
			}
			if k := <-acked; k != n {
				t.Fatalf("%d of %d messages acknowledged while the agent did not read", k, n)
			}
			// The agent is cut off by 4408, or dropped by the write
			// deadline (10 s); a socket still open when the drain's 20 s
			// end counts as dropped too: what matters is that it did
			// not hold the visitor back and did not get everything.
			drain, stop := context.WithTimeout(ctx, 20*time.Second)
			defer stop()
			got := 0
			for {
				evs, err := read(drain, agent)
				if err != nil {
					if code := websocket.CloseStatus(err); code != 4408 && code != -1 {
						t.Fatalf("the agent's socket ended with %v (close %d), want 4408 or dropped", err, code)
					}
					break
				}
				for _, ev := range evs {
					if ev.Type == "message.created" {
						got++
					}
				}
			}
			if got >= n {
				t.Errorf("the slow agent got all %d messages, want it cut off", got)
			}
		})
	}
}
