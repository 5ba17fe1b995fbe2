package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parley-chat/parley"
)

// Limits of the WebSocket endpoints (docs/websocket.md).
const (
	maxFrameBytes = 64 << 10 // a larger client frame closes with 1009
	maxBatch      = 64       // most events sent together as one array frame
	outQueue      = 64       // replies waiting for one connection
)

// frame is every field a client event may carry. Decoding into one flat
// struct keeps the decoder small; each type uses the fields it documents.
type frame struct {
	Type         string        `json:"type"`
	ClientID     string        `json:"clientId"`
	ThreadID     string        `json:"threadId"`
	Text         string        `json:"text"`
	MessageType  string        `json:"messageType"`
	VisitorToken string        `json:"visitorToken"`
	LastSeq      uint64        `json:"lastSeq"`
	PageURL      string        `json:"pageUrl"`
	Lang         string        `json:"lang"`
	Resume       []resumeEntry `json:"resume"`
	// Cc and Bcc are an agent's copies of an email reply (message.send):
	// absent, the thread's current Cc; a list, replacing it.
	Cc  *[]string `json:"cc"`
	Bcc *[]string `json:"bcc"`
	// Attachments are the ids of the sender's uploads that message.send
	// carries.
	Attachments []string `json:"attachments"`
	// RichText is an agent's email reply as HTML (message.send).
	RichText string `json:"richText"`

	// Visitor identification, email capture and consent (ws_visitor.go).
	IdentificationEmail string `json:"identificationEmail"`
	IdentificationToken string `json:"identificationToken"`
	Email               string `json:"email"`
	Version             string `json:"version"`
	// Leave is the conversation a visitor left (message.send, docs/websocket.md).
	Leave string `json:"leave"`
}

type resumeEntry struct {
	ThreadID string `json:"threadId"`
	LastSeq  uint64 `json:"lastSeq"`
}

// decodeFrame parses one client frame. It returns EINVALID with a precise
// message for anything but a JSON object with a known type; allowed lists the
// types this endpoint accepts.
func decodeFrame(data []byte, allowed ...string) (*frame, error) {
	if !utf8.Valid(data) {
		return nil, parley.Errorf(parley.EINVALID, "frame is not valid UTF-8")
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return nil, parley.Errorf(parley.EINVALID, "field %q must be %s", typ.Field, typ.Type.Kind())
		}
		return nil, parley.Errorf(parley.EINVALID, "frame is not a JSON object")
	}
	if f.Type == "" {
		return nil, parley.Errorf(parley.EINVALID, "frame has no type")
	}
	for _, a := range allowed {
		if f.Type == a {
			if len(f.Resume) > 100 {
				return nil, parley.Errorf(parley.EINVALID, "resume lists at most 100 threads")
			}
			return &f, nil
		}
	}
	return nil, parley.Errorf(parley.EINVALID, "unknown event type %q", truncateForError(f.Type))
}

func truncateForError(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// wsConn is one WebSocket connection after its handshake. An idle
// connection costs one goroutine, the handler's, which reads. A writer
// goroutine runs only while there is something to write: the first reply
// or event into an empty queue starts it (kick), and it ends when both
// queues are empty, so at most one writes at a time and frames leave in
// queue order. Pings come from a timer, and the server's shutdown reaches
// the connection through context.AfterFunc, neither with a goroutine of
// its own while it waits.
//
// Ending a connection: whoever decides first calls fail, which starts the
// close handshake with a code and stops the writer and pinger. The reader
// sees the handshake finish and returns. Neither reads nor writes use the
// connection's cancellable context: cancelling a read or write in progress
// drops the connection without a close frame, and clients need the code to
// know whether to resume. A write in progress when fail is called finishes
// (bounded by WriteTimeout), then the close frame follows it.
type wsConn struct {
	s    *Server
	c    *websocket.Conn
	kind connKind // what it serves, for the counts (metrics.go)
	sub  parley.Subscription

	// ctx ends when the connection starts closing; store calls made for
	// the connection use it, and the writer and pinger stop on it. It is
	// cancelled with mu held, so that no writer or ping starts after it.
	ctx    context.Context
	cancel context.CancelFunc
	// stopWatch stops the watch on the server's shutdown.
	stopWatch func() bool

	// mu guards the write side: the replies waiting, whether the writer
	// runs and whether it has more to look at.
	mu      sync.Mutex
	replies [][]byte  // to this connection only: acks, errors
	room    sync.Cond // signalled when the writer takes replies, and at fail
	started bool      // run has begun: the writer may start
	writing bool      // a writer goroutine runs
	dirty   bool      // something was queued since the writer last looked
	pinger  *time.Timer
	// busy counts the writer and a ping in progress, which finish waits
	// for; they are added with mu held and ctx not yet cancelled.
	busy sync.WaitGroup

	closeOnce sync.Once
	closing   chan struct{} // closed once the close handshake has finished

	// replayed holds, per resumed thread, the last seq sent by the replay, so
	// that live events the replay already covered are not sent twice; nil
	// until a replay. Only the writer touches it after the replay.
	replayed map[uint64]uint64

	// limiter bounds the events a client may send (Config.MessageRate,
	// MessageBurst); only the reader goroutine takes from it.
	limiter *rate.Limiter
}

// wsReadBuffer is the read buffer of a WebSocket. Clients send few and
// small frames (MessageRate), and a larger one is read past the buffer,
// so the 4 KB net/http reads requests with would mostly sit idle.
const wsReadBuffer = 1024

// wsHijacker gives websocket.Accept the connection with a read buffer of
// wsReadBuffer bytes instead of net/http's.
type wsHijacker struct{ http.ResponseWriter }

func (w wsHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// What the client sent before it read the upgrade's answer must sit in
	// the new reader's buffer: Accept takes the buffered bytes and reads
	// the rest from nc itself.
	n := brw.Reader.Buffered()
	b, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), nc), max(n, wsReadBuffer))
	if _, err := br.Peek(n); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, bufio.NewReadWriter(br, brw.Writer), nil
}

// detachConn serves an upgraded connection c of kind in a goroutine of its
// own and lets the handler return, so that the request, its headers and
// the deep stack of the handler chain are not kept for the connection's
// life: a new goroutine's stack fits the reading it does. release, the
// counts and Config.ObserveRequest (the request finishes when the
// connection closes) follow the connection. A panic while serving is
// logged, as logRequests would, and drops the connection.
func (s *Server) detachConn(r *http.Request, c *websocket.Conn, kind connKind, release func(), serve func(cn *wsConn)) {
	route, _ := r.Context().Value(keyRoute).(*routeSlot)
	if route != nil {
		route.detached = true
	}
	cid, path := correlationID(r), r.URL.Path
	s.conns.Add(1)
	closed := s.opened(kind)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error().Interface("panic", v).Str("correlationId", cid).Str("path", path).Msg("handler panic")
				_ = c.CloseNow()
			}
			closed()
			release()
			s.conns.Done()
			if route != nil {
				s.observeRequest(route, http.StatusSwitchingProtocols, time.Since(route.start))
			}
		}()
		serve(s.newConn(c, kind))
	}()
}

func (s *Server) newConn(c *websocket.Conn, kind connKind) *wsConn {
	c.SetReadLimit(maxFrameBytes)
	cn := &wsConn{s: s, c: c, kind: kind,
		closing: make(chan struct{}), limiter: rate.NewLimiter(rate.Limit(s.cfg.MessageRate), max(1, int(s.cfg.MessageBurst)))}
	cn.room.L = &cn.mu
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	cn.stopWatch = context.AfterFunc(s.ctx, func() { cn.fail(websocket.StatusGoingAway, "server shutting down") })
	return cn
}

// failCode ends the connection with the close code of error code (errorKinds)
// and msg as the reason.
func (cn *wsConn) failCode(code, msg string) {
	cn.fail(kindOf(code).close, msg)
}

// fail ends the connection with code (the first caller wins): it stops the
// writer and pinger and runs the close handshake in the background.
func (cn *wsConn) fail(code websocket.StatusCode, msg string) {
	cn.closeOnce.Do(func() {
		cn.mu.Lock()
		cn.cancel()
		if cn.pinger != nil {
			cn.pinger.Stop()
		}
		cn.room.Broadcast() // a reply waiting for room gives up
		cn.mu.Unlock()
		go func() {
			_ = cn.c.Close(code, msg)
			close(cn.closing)
		}()
	})
}

// readHello waits for the first frame, which must be a hello.
func (cn *wsConn) readHello() (*frame, bool) {
	timer := time.AfterFunc(cn.s.cfg.HelloTimeout, func() { cn.failCode(parley.EINVALID, "no hello within time") })
	defer timer.Stop()
	typ, data, err := cn.c.Read(context.Background())
	if err != nil {
		cn.readFailed(err)
		return nil, false
	}
	if typ != websocket.MessageText {
		cn.failCode(parley.EINVALID, "frames must be text")
		return nil, false
	}
	f, err := decodeFrame(data, "hello")
	if err != nil {
		cn.failCode(parley.EINVALID, "the first frame must be hello")
		return nil, false
	}
	return f, true
}

// readFailed ends the connection after a read returned err. The library
// has already sent 1009 for a frame over the read limit. Anything else ends
// the reading too: the peer's close (websocket.CloseStatus(err) is its
// code), the end of a close handshake started here, or a dropped
// connection; only the last is worth a line in the debug log.
func (cn *wsConn) readFailed(err error) {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		cn.failCode(parley.ETOOLARGE, "frame too large")
		return
	}
	if websocket.CloseStatus(err) == -1 && cn.ctx.Err() == nil {
		cn.s.log.Debug().Err(err).Msg("websocket dropped")
	}
	cn.fail(websocket.StatusNormalClosure, "")
}

// writeNow writes one frame synchronously; used for ready and replays before
// the writer goroutine starts. Its context is not the connection's: fail
// must not cut a frame off halfway, or the close frame could not follow.
func (cn *wsConn) writeNow(data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), cn.s.cfg.WriteTimeout)
	defer cancel()
	return cn.c.Write(ctx, websocket.MessageText, data)
}

// reply queues an event for this connection only. Once the connection
// runs, it waits while outQueue replies wait: a client that does not read
// its own acks slows only itself. Before, the replies of a hello (resumed
// threads not found) wait for run without a bound on their own.
func (cn *wsConn) reply(v any) {
	b := mustJSON(v)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	for cn.started && len(cn.replies) >= outQueue && cn.ctx.Err() == nil {
		cn.room.Wait()
	}
	if cn.ctx.Err() != nil {
		return
	}
	cn.replies = append(cn.replies, b)
	cn.kickLocked()
}

func (cn *wsConn) replyError(err error, clientID string) {
	code := parley.ErrorCode(err)
	if code == parley.EINTERNAL {
		cn.s.log.Error().Err(err).Msg("websocket event")
	}
	ev := evError{Type: "error", Code: code, Message: parley.ErrorMessage(err), ClientID: clientID}
	ev.RetryAfter, _ = retryAfter(err)
	cn.reply(ev)
}

// allow takes one token from the connection's rate limiter, by the
// server's clock.
func (cn *wsConn) allow() bool {
	return cn.limiter.AllowN(cn.s.now(), 1)
}

// run lets the writer start, for what has waited and what comes, starts
// pinging and then reads frames until the connection ends, passing each
// decoded frame to handle.
func (cn *wsConn) run(allowed []string, handle func(f *frame) error) {
	cn.mu.Lock()
	cn.started = true
	if cn.ctx.Err() == nil {
		cn.pinger = time.AfterFunc(cn.s.cfg.PingInterval, cn.ping)
	}
	cn.kickLocked()
	cn.mu.Unlock()
	cn.sub.Notify(cn.kick)
	for {
		typ, data, err := cn.c.Read(context.Background())
		if err != nil {
			cn.readFailed(err)
			break
		}
		if cn.ctx.Err() != nil {
			continue // closing: drain until the handshake ends
		}
		if typ != websocket.MessageText {
			cn.replyError(parley.Errorf(parley.EINVALID, "frames must be text"), "")
			continue
		}
		f, err := decodeFrame(data, allowed...)
		if err != nil {
			cn.replyError(err, "")
			continue
		}
		if f.Type == "message.send" && !cn.allow() {
			cn.replyError(parley.Errorf(parley.ERATELIMIT, "too many messages; slow down"), f.ClientID)
			continue
		}
		cn.s.frames.do(func() { err = handle(f) })
		if err != nil {
			cn.replyError(err, f.ClientID)
		}
	}
	cn.finish()
}

// finish releases the connection once it has ended: it waits for the close
// handshake, the writer and a ping in progress. Early exits that never
// reach run call it directly after fail.
func (cn *wsConn) finish() {
	cn.fail(websocket.StatusNormalClosure, "")
	<-cn.closing
	cn.stopWatch()
	cn.busy.Wait()
	if cn.sub != nil {
		cn.sub.Notify(nil)
		cn.sub.Close()
	}
}

// ping runs on the pinger's timer: it pings the peer, waits for the pong
// and sets the timer again.
func (cn *wsConn) ping() {
	cn.mu.Lock()
	if cn.ctx.Err() != nil {
		cn.mu.Unlock()
		return
	}
	cn.busy.Add(1)
	cn.mu.Unlock()
	defer cn.busy.Done()
	// Not cn.ctx, for the reason of writeNow; a ping waiting for its pong
	// ends when the close handshake closes the connection.
	ctx, cancel := context.WithTimeout(context.Background(), cn.s.cfg.PingTimeout)
	err := cn.c.Ping(ctx)
	cancel()
	if err != nil {
		if cn.ctx.Err() == nil {
			cn.fail(websocket.StatusGoingAway, "ping timeout")
		}
		return
	}
	cn.mu.Lock()
	if cn.ctx.Err() == nil {
		cn.pinger.Reset(cn.s.cfg.PingInterval)
	}
	cn.mu.Unlock()
}

// kick tells the writer that something waits, starting it if it does not
// run. The subscription calls it (Notify) when its queue turns non-empty
// or it ends.
func (cn *wsConn) kick() {
	cn.mu.Lock()
	cn.kickLocked()
	cn.mu.Unlock()
}

func (cn *wsConn) kickLocked() {
	cn.dirty = true
	if cn.started && !cn.writing && cn.ctx.Err() == nil {
		cn.writing = true
		cn.busy.Add(1)
		go cn.writeLoop()
	}
}

// writeLoop sends replies and subscribed events until neither waits.
// Events that wait together go out as one JSON array frame, replies first.
// A subscription that has ended (too slow, or the hub closed) ends the
// connection.
func (cn *wsConn) writeLoop() {
	defer cn.busy.Done()
	batch := make([][]byte, 0, maxBatch)
	more := false // the last batch left something behind
	for {
		cn.mu.Lock()
		if !more && !cn.dirty || cn.ctx.Err() != nil {
			cn.writing = false
			cn.mu.Unlock()
			return // closing: the close frame comes next
		}
		cn.dirty = false
		n := min(len(cn.replies), maxBatch)
		batch = append(batch[:0], cn.replies[:n]...)
		if n == len(cn.replies) {
			cn.replies = nil
		} else {
			cn.replies = cn.replies[n:]
		}
		if n > 0 {
			cn.room.Broadcast()
		}
		more = len(cn.replies) > 0
		cn.mu.Unlock()

		if err := cn.sub.Err(); err != nil {
			if errors.Is(err, parley.ErrSlow) {
				cn.fail(closeSlow, "connection fell behind; resume")
			} else {
				cn.fail(websocket.StatusGoingAway, "")
			}
			cn.stopWriting()
			return
		}
		if len(batch) < maxBatch {
			var left int
			batch, left = cn.sub.Take(batch, maxBatch-len(batch))
			more = more || left > 0
		} else {
			more = true
		}
		events := 0 // of batch, those of the subscription
		kept := batch[:n]
		for _, b := range batch[n:] {
			if cn.keep(b) {
				kept = append(kept, b)
				events++
			}
		}
		batch = kept
		if len(batch) == 0 {
			continue
		}
		if err := cn.writeNow(joinFrames(batch)); err != nil {
			cn.fail(websocket.StatusGoingAway, "")
			cn.stopWriting()
			return
		}
		cn.s.wrote(cn.kind, events)
	}
}

func (cn *wsConn) stopWriting() {
	cn.mu.Lock()
	cn.writing = false
	cn.mu.Unlock()
}

func joinFrames(batch [][]byte) []byte {
	if len(batch) == 1 {
		return batch[0]
	}
	n := 1 + len(batch)
	for _, b := range batch {
		n += len(b)
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, b := range batch {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return append(out, ']')
}

// keep drops live message events that a replay already delivered.
func (cn *wsConn) keep(b []byte) bool {
	if len(cn.replayed) == 0 {
		return true
	}
	var ev struct {
		Type    string `json:"type"`
		Message struct {
			ThreadID string `json:"threadId"`
			Seq      uint64 `json:"seq"`
		} `json:"message"`
	}
	if json.Unmarshal(b, &ev) != nil || ev.Type != "message.created" {
		return true
	}
	id, err := parseID(ev.Message.ThreadID)
	if err != nil {
		return true
	}
	last, ok := cn.replayed[id]
	if !ok {
		return true
	}
	if ev.Message.Seq <= last {
		return false
	}
	delete(cn.replayed, id)
	return true
}

// replay sends the messages of thread after seq, visible ones only when
// forVisitor, and remembers how far it went.
func (cn *wsConn) replay(t *parley.Thread, after uint64, forVisitor bool) error {
	for {
		msgs, more, err := cn.s.db.Messages(cn.ctx, t.ID, after, 500)
		if err != nil {
			return err
		}
		batch := make([][]byte, 0, len(msgs))
		names, addrs := map[string]string{}, map[string]string{}
		for _, m := range msgs {
			after = m.Seq
			if forVisitor && !m.Type.VisibleToVisitor() {
				continue
			}
			name, ok := names[m.SenderID]
			if !ok {
				name = cn.s.app.ActorName(cn.ctx, m.SenderID)
				names[m.SenderID] = name
			}
			w := cn.s.toWireMessage(cn.ctx, m, name)
			if !forVisitor {
				w = cn.s.agentWireMessage(cn.ctx, t, m, name, addrs)
			}
			batch = append(batch, mustJSON(evMessage{Type: "message.created", Message: w}))
		}
		for i := 0; i < len(batch); i += maxBatch {
			end := min(i+maxBatch, len(batch))
			if err := cn.writeNow(joinFrames(batch[i:end])); err != nil {
				return err
			}
		}
		if cn.replayed == nil {
			cn.replayed = map[uint64]uint64{}
		}
		cn.replayed[t.ID] = after
		if !more {
			return nil
		}
	}
}

// frameFiles parses the upload ids of a message.send frame.
func frameFiles(ids []string) ([]uint64, error) {
	if len(ids) > parley.MaxMessageFiles {
		return nil, parley.Errorf(parley.EINVALID, "a message carries at most %d files, not %d", parley.MaxMessageFiles, len(ids))
	}
	var out []uint64
	for i, s := range ids {
		id, err := parseID(s)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "attachments[%d] is not a file id", i)
		}
		out = append(out, id)
	}
	return out, nil
}
