package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

const testPassword = "correct horse battery"

// env is a running Parley on a real socket with a real bbolt file.
type env struct {
	t        testing.TB
	db       *store.DB
	app      *app.App
	srv      *server.Server
	ts       *httptest.Server
	base     string
	inbox    *parley.Inbox
	widget   *parley.Widget
	admin    *parley.User
	presence *hub.Presence
	hub      *hub.Hub
}

type envOptions struct {
	storeOpts *store.Options
	hubOpts   *hub.Options
	cfg       server.Config
	app       app.Config
	// http2 serves over TLS with HTTP/2, as Parley with its own
	// certificate does; e.ts.Client() speaks it.
	http2 bool
}

func newEnv(tb testing.TB, o *envOptions) *env {
	tb.Helper()
	if o == nil {
		o = &envOptions{}
	}
	sopts := o.storeOpts
	if sopts == nil {
		sopts = &store.Options{NoSync: true}
	}
	db, err := store.Open(tb.TempDir(), sopts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateInbox(ctx, in); err != nil {
		tb.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	// Conversations on the tests' widget stay unassigned unless a test
	// routes them (presence_test.go): the message sequences the tests
	// expect hold no automatic ASSIGNMENT.
	w.Routing.Mode = parley.RoutingNone
	if err := db.CreateWidget(ctx, w); err != nil {
		tb.Fatal(err)
	}
	admin, err := server.CreateAdmin(ctx, db, "admin@example.com", "Ada Admin", testPassword, now)
	if err != nil {
		tb.Fatal(err)
	}
	in, _ = db.Inbox(ctx, in.ID)
	assets, err := widget.Load()
	if err != nil {
		tb.Fatal(err)
	}
	h := hub.New(o.hubOpts)
	p := hub.NewPresence()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := o.cfg
	cfg.BaseURL = base
	if testing.Verbose() {
		cfg.Logger = zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel)
	}
	acfg := o.app
	acfg.BaseURL, acfg.Logger = base, cfg.Logger
	if acfg.Blobs == nil {
		blobs, err := blob.Open(tb.TempDir(), nil)
		if err != nil {
			tb.Fatal(err)
		}
		acfg.Blobs = blobs
	}
	a := app.New(acfg, db, p)
	srv := server.New(cfg, a, db, h, p, assets)
	a.Start()
	ts.Config = srv.HTTPServer() // the timeouts cmd/parley serves with
	if o.http2 {
		ts.EnableHTTP2 = true
		ts.StartTLS()
		base = ts.URL
	} else {
		ts.Start()
	}
	e := &env{t: tb, db: db, app: a, srv: srv, ts: ts, base: base, inbox: in, widget: w, admin: admin, presence: p, hub: h}
	tb.Cleanup(func() {
		ts.CloseClientConnections()
		srv.Close()
		a.Close()
		ts.Close()
		h.Close()
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return e
}

// addAgent creates an agent, optionally a member of the default inbox.
func (e *env) addAgent(email string, member bool) *parley.User {
	e.t.Helper()
	hash, err := server.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &parley.User{Email: email, Name: strings.Split(email, "@")[0], Role: parley.RoleAgent, PasswordHash: hash, RoutingSeat: true}
	ctx := context.Background()
	if err := e.db.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if member {
		if _, err := e.db.UpdateInbox(ctx, e.inbox.ID, func(in *parley.Inbox) error {
			in.MemberIDs = append(in.MemberIDs, u.ID)
			return nil
		}); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

// client is a signed-in HTTP client.
type client struct {
	e     *env
	hc    *http.Client
	token string
}

func (e *env) login(email string) *client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{e: e, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	res := c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": testPassword}, nil)
	if res.status != 200 {
		e.t.Fatalf("login %s: status=%d body=%s", email, res.status, res.body)
	}
	return c
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with a JSON body (a string is sent as is) and the
// console's Origin header.
func (c *client) do(method, path string, body any, header map[string]string) response {
	c.e.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		rd, sent = strings.NewReader(b), []byte(b)
	default:
		sent, _ = json.Marshal(b)
		rd = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, c.e.base+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.e.base)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	checkExchange(c.e.t, req, sent, res.StatusCode, res.Header, b)
	return response{status: res.StatusCode, body: b, header: res.Header}
}

// wsClient is a test WebSocket client that collects every event it gets.
type wsClient struct {
	tb     testing.TB
	c      *websocket.Conn
	events chan map[string]any
	done   chan struct{}
	err    error
	mu     sync.Mutex
}

func dialWS(tb testing.TB, url string, header http.Header) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 22)
	w := &wsClient{tb: tb, c: c, events: make(chan map[string]any, 100000), done: make(chan struct{})}
	go w.readLoop()
	tb.Cleanup(func() { _ = c.CloseNow() })
	return w, nil
}

func (w *wsClient) readLoop() {
	defer close(w.done)
	for {
		_, data, err := w.c.Read(context.Background())
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		if len(data) > 0 && data[0] == '[' {
			var evs []map[string]any
			if err := json.Unmarshal(data, &evs); err != nil {
				w.err = fmt.Errorf("bad array frame %s: %w", data, err)
				return
			}
			for _, ev := range evs {
				w.events <- ev
			}
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(data, &ev); err != nil {
			w.err = fmt.Errorf("bad frame %s: %w", data, err)
			return
		}
		w.events <- ev
	}
}

func (w *wsClient) send(v any) {
	w.tb.Helper()
	var data []byte
	if s, ok := v.(string); ok {
		data = []byte(s)
	} else {
		data, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, data); err != nil {
		w.tb.Fatalf("ws write: %v", err)
	}
}

// next waits for the next event of one of the given types, skipping others.
func (w *wsClient) next(types ...string) map[string]any {
	w.tb.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-w.events:
			for _, t := range types {
				if ev["type"] == t {
					return ev
				}
			}
		case <-deadline:
			w.tb.Fatalf("no %v event within 5s", types)
			return nil
		}
	}
}

// closeStatus waits for the connection to end and returns its close code.
func (w *wsClient) closeStatus() websocket.StatusCode {
	w.tb.Helper()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		w.tb.Fatal("connection still open after 5s")
	}
	return websocket.CloseStatus(w.err)
}

func (e *env) visitorURL() string {
	return "ws" + strings.TrimPrefix(e.base, "http") + "/widget/v1/ws?widgetId=" + fmt.Sprint(e.widget.ID)
}

// visitor connects a visitor from a customer's site and says hello.
func (e *env) visitor(token string, lastSeq float64) (*wsClient, map[string]any) {
	e.t.Helper()
	h := http.Header{"Origin": {"http://customer.example"}}
	w, err := dialWS(e.t, e.visitorURL(), h)
	if err != nil {
		e.t.Fatal(err)
	}
	w.send(map[string]any{"type": "hello", "visitorToken": token, "lastSeq": lastSeq, "pageUrl": "http://customer.example/pricing"})
	return w, w.next("ready")
}

// agentWS connects c's user to the agent endpoint and says hello.
func (c *client) agentWS(resume ...map[string]any) (*wsClient, map[string]any) {
	c.e.t.Helper()
	h := http.Header{"Origin": {c.e.base}}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	u, _ := http.NewRequest("GET", c.e.base, nil)
	for _, ck := range c.hc.Jar.Cookies(u.URL) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	w, err := dialWS(c.e.t, "ws"+strings.TrimPrefix(c.e.base, "http")+"/api/v1/ws", h)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if resume == nil {
		resume = []map[string]any{}
	}
	w.send(map[string]any{"type": "hello", "resume": resume})
	return w, w.next("ready")
}

func msgOf(ev map[string]any) map[string]any {
	m, _ := ev["message"].(map[string]any)
	return m
}

func storeAll() parley.ThreadFilter { return parley.ThreadFilter{Limit: 500} }
