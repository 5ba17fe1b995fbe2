// Package benchhub holds the baselines Parley's benchmarks compare it with:
// bare chat hubs that speak the part of Parley's public protocol that
// parley loadtest uses, and nothing else. Only benchmarks and their tests
// import it; the parley binary never does.
//
// # What a baseline speaks
//
//   - GET /widget/v1/boot?url=… answers {"widget":{"id":"1",…},"ws":…},
//     naming the visitor WebSocket.
//   - POST /api/v1/session takes any email and password and sets a session
//     cookie; the agent WebSocket, GET /api/v1/ws, needs a cookie and
//     accepts any.
//   - Both sockets start with hello, answered by ready. A visitor socket is a
//     new visitor; its first message.send starts its thread. Every
//     message.send is answered with message.ack to the sender and published
//     as message.created to every agent, with seq per thread from 1; the
//     sender gets its own message.created too from its second message on, as
//     from Parley. Any other frame is answered with error invalid.
//   - Events wait for a connection in a buffered channel (64 for a visitor,
//     8192 for an agent); the connection's writer sends what is waiting, up
//     to 64 events, in one array frame. An agent whose channel is full is
//     closed with 4408, never waited for.
//   - GET /debug/pprof/ is Go's profiler, so that a benchmark can force a
//     garbage collection (/debug/pprof/heap?gc=1) before it reads the
//     process's memory, as it does on Parley's metrics listener.
//
// # What a baseline leaves out
//
// Everything else Parley does: no contacts, visitor tokens, identity or
// thread.created events, no inboxes or permissions (every agent gets every
// message), no resume, no validation beyond a clientId and a text, no
// per-address limits or message rates, no metrics, no origin list (visitors
// and agents are checked by each library's default origin rule).
//
// # The baselines
//
// [Coder] and [Gorilla] keep everything in memory: one reader and one
// writer goroutine per connection with coder/websocket and
// gorilla/websocket, each as its library's examples do it. [Naive] is the
// coder hub that first stores each message in a bbolt file in a
// transaction of its own (committed and fsynced) before it acknowledges and
// publishes it: durable throughput without grouping commits.
package benchhub

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Kind names a baseline.
type Kind string

// The baselines.
const (
	Coder   Kind = "coder"   // coder/websocket, in memory
	Gorilla Kind = "gorilla" // gorilla/websocket, in memory
	Naive   Kind = "naive"   // coder/websocket, one bbolt transaction per message
)

// Buffers and limits, as Parley's (docs/websocket.md).
const (
	visitorBuffer = 64
	agentBuffer   = 8192
	maxBatch      = 64
	readLimit     = 64 << 10
	writeTimeout  = 10 * time.Second
	pingPeriod    = 20 * time.Second
	pongWait      = 30 * time.Second
	sessionCookie = "parley_session"
)

var messagesBucket = []byte("messages")

// Server is one baseline. It is safe for concurrent use.
type Server struct {
	kind Kind
	db   *bolt.DB
	mux  *http.ServeMux

	nextVisitor, nextThread, nextMessage atomic.Int64

	// agentBuffer is the events an agent's connection may have waiting
	// (the agentBuffer constant; tests make it smaller).
	agentBuffer int

	mu     sync.RWMutex
	agents map[*client]struct{}
}

// New returns the baseline kind. Naive stores its messages in db, which
// must be open for writing; the others take nil and store nothing. It
// returns an error for an unknown kind or a naive baseline without db.
func New(kind Kind, db *bolt.DB) (*Server, error) {
	s := &Server{kind: kind, agentBuffer: agentBuffer, agents: map[*client]struct{}{}, mux: http.NewServeMux()}
	var serve func(http.ResponseWriter, *http.Request, *client)
	switch kind {
	case Coder:
		serve = s.serveCoder
	case Gorilla:
		serve = s.serveGorilla
	case Naive:
		if db == nil {
			return nil, fmt.Errorf("benchhub: the naive baseline needs a bbolt file")
		}
		s.db = db
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(messagesBucket)
			return err
		}); err != nil {
			return nil, fmt.Errorf("benchhub: %w", err)
		}
		serve = s.serveCoder
	default:
		return nil, fmt.Errorf("benchhub: unknown baseline %q (coder, gorilla or naive)", kind)
	}
	s.mux.HandleFunc("GET /widget/v1/boot", s.handleBoot)
	s.mux.HandleFunc("POST /api/v1/session", handleSession)
	s.mux.HandleFunc("GET /widget/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, newClient(visitorBuffer, false, s.nextVisitor.Add(1)))
	})
	s.mux.HandleFunc("GET /api/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(sessionCookie); err != nil || ck.Value == "" {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		serve(w, r, newClient(s.agentBuffer, true, 0))
	})
	s.mux.HandleFunc("/debug/pprof/", pprof.Index)
	return s, nil
}

// ServeHTTP serves the baseline's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) handleBoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	fmt.Fprintf(w, `{"widget":{"id":"1","status":{"available":true,"showLauncher":true}},"ws":%q}`+"\n",
		"ws://"+r.Host+"/widget/v1/ws?widgetId=1")
}

func handleSession(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Email == "" || in.Password == "" {
		http.Error(w, `{"error":"email and password are required"}`, http.StatusBadRequest)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: hex.EncodeToString(b), Path: "/", HttpOnly: true})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"user":{"id":"1","email":%q}}`+"\n", in.Email)
}

// client is one socket: the events waiting for its writer, and how it
// ends. Only its reader touches the fields below gone.
type client struct {
	send  chan []byte
	agent bool
	// gone is closed when the connection ends: its reader stopped, or
	// it fell behind (then behind is set first).
	gone   chan struct{}
	once   sync.Once
	behind atomic.Bool
	// closing is the close code the reader asked the writer to send
	// (gorilla: only the writer writes), set before gone is closed.
	closing closeCode

	visitor int64 // a visitor's number, for its actor id
	hello   bool
	thread  int64 // 0 until the visitor's first message
	seq     uint64
}

func newClient(buffer int, agent bool, visitor int64) *client {
	return &client{send: make(chan []byte, buffer), agent: agent, visitor: visitor, gone: make(chan struct{})}
}

// end closes gone once.
func (c *client) end() { c.once.Do(func() { close(c.gone) }) }

// closeWith ends the connection with cc, by its writer.
func (c *client) closeWith(cc closeCode) {
	c.once.Do(func() {
		c.closing = cc
		close(c.gone)
	})
}

// queue hands an event to the client's own writer, waiting while the
// buffer is full: only the client's reader calls it, so a client that
// does not read its answers slows only itself.
func (c *client) queue(ev []byte) {
	select {
	case c.send <- ev:
	case <-c.gone:
	}
}

// publish hands an event to an agent's writer without waiting: an agent
// that fell behind is closed.
func (c *client) publish(ev []byte) {
	select {
	case c.send <- ev:
	default:
		c.behind.Store(true)
		c.end()
	}
}

// frame is the next frame a writer sends: first, or first and what is
// waiting after it as one JSON array of at most maxBatch events.
func frame(first []byte, send <-chan []byte) []byte {
	n := min(len(send), maxBatch-1)
	if n == 0 {
		return first
	}
	buf := make([]byte, 0, (n+1)*(len(first)+1)+2)
	buf = append(append(buf, '['), first...)
	for range n {
		buf = append(append(buf, ','), <-send...)
	}
	return append(buf, ']')
}

// closeCode is how a connection ends when its reader stops: 0 to go on.
type closeCode struct {
	code   int
	reason string
}

// inFrame is what a baseline reads of a client frame.
type inFrame struct {
	Type     string `json:"type"`
	ClientID string `json:"clientId"`
	Text     string `json:"text"`
}

type message struct {
	ID            string `json:"id"`
	ThreadID      string `json:"threadId"`
	Seq           uint64 `json:"seq"`
	Type          string `json:"type"`
	Text          string `json:"text"`
	Direction     string `json:"direction"`
	SenderActorID string `json:"senderActorId"`
	SenderName    string `json:"senderName"`
	ClientID      string `json:"clientId"`
	CreatedAt     string `json:"createdAt"`
}

type errorEvent struct {
	Type     string `json:"type"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	ClientID string `json:"clientId,omitempty"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// onFrame handles one frame a client sent; its answers go to the client's
// writer in the order of the frames. A non-zero code ends the connection.
func (s *Server) onFrame(c *client, data []byte) closeCode {
	var in inFrame
	if err := json.Unmarshal(data, &in); err != nil {
		if !c.hello {
			return closeCode{4400, "hello first"}
		}
		c.queue(mustJSON(errorEvent{Type: "error", Code: "invalid", Message: "not JSON"}))
		return closeCode{}
	}
	if !c.hello {
		if in.Type != "hello" {
			return closeCode{4400, "hello first"}
		}
		c.hello = true
		if c.agent {
			c.queue([]byte(`{"type":"ready","user":{"id":"1","actorId":"A-1","name":"Agent","role":"ADMIN"},"inboxIds":["1"],"presence":[]}`))
			// Subscribed after ready is queued, so that ready comes first.
			s.mu.Lock()
			s.agents[c] = struct{}{}
			s.mu.Unlock()
		} else {
			c.queue([]byte(`{"type":"ready","visitorId":"","thread":null,"status":{"available":true,"showLauncher":true},"identified":false,"known":false,"consentRequired":false}`))
		}
		return closeCode{}
	}
	if c.agent || in.Type != "message.send" || in.ClientID == "" || in.Text == "" || len(in.ClientID) > 64 {
		c.queue(mustJSON(errorEvent{Type: "error", Code: "invalid", Message: "a baseline takes only a visitor's message.send with clientId and text", ClientID: in.ClientID}))
		return closeCode{}
	}
	first := c.thread == 0
	if first {
		c.thread = s.nextThread.Add(1)
	}
	c.seq++
	m := message{ID: strconv.FormatInt(s.nextMessage.Add(1), 10), ThreadID: strconv.FormatInt(c.thread, 10), Seq: c.seq,
		Type: "MESSAGE", Text: in.Text, Direction: "INCOMING", SenderActorID: "V-" + strconv.FormatInt(c.visitor, 10),
		ClientID: in.ClientID, CreatedAt: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	mb := mustJSON(m)
	if s.db != nil {
		// Persist and commit (one transaction, one fsync, per message),
		// then publish.
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(messagesBucket).Put(messageKey(c.thread, c.seq), mb)
		}); err != nil {
			c.queue(mustJSON(errorEvent{Type: "error", Code: "storage_error", Message: "storage I/O error", ClientID: in.ClientID}))
			return closeCode{}
		}
	}
	created := event("message.created", "", mb)
	s.mu.RLock()
	for a := range s.agents {
		a.publish(created)
	}
	s.mu.RUnlock()
	if !first {
		c.queue(created) // the echo; a new visitor's first message has the ack alone
	}
	c.queue(event("message.ack", in.ClientID, mb))
	return closeCode{}
}

// event is {"type":typ,["clientId":…,]"message":m}.
func event(typ, clientID string, m []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(m) + 64)
	b.WriteString(`{"type":"`)
	b.WriteString(typ)
	b.WriteString(`",`)
	if clientID != "" {
		cid, _ := json.Marshal(clientID)
		b.WriteString(`"clientId":`)
		b.Write(cid)
		b.WriteByte(',')
	}
	b.WriteString(`"message":`)
	b.Write(m)
	b.WriteByte('}')
	return b.Bytes()
}

// messageKey orders a thread's messages by seq.
func messageKey(thread int64, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(thread))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// leave unsubscribes an agent whose connection ended.
func (s *Server) leave(c *client) {
	c.end()
	if c.agent {
		s.mu.Lock()
		delete(s.agents, c)
		s.mu.Unlock()
	}
}
