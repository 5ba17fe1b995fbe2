package server

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// A widget status stream over HTTP/1.1 lives without a goroutine of its
// own. The handler writes the response head and the first event itself,
// then takes the connection over (hijacks it) and returns. From then on
// the stream is a statusStream: the hub's notify function, a keep-alive
// timer and the server's shutdown (context.AfterFunc) start a writer
// goroutine when there is something to write, and it ends when there is
// nothing left. The body is chunked, as net/http would send it. Nobody
// reads the connection: the server's peerWatch hears at once of a peer
// that closes it (on Linux), and at each keep-alive a peek at the socket
// (peerGone) finds one that has gone unheard, so a stream whose browser has
// gone is released within one keep-alive at most; a write that fails or
// times out (WriteTimeout) releases it too.

// sseKeepAlive is the comment an idle stream gets every StatusKeepAlive,
// so that proxies keep it open.
const sseKeepAlive = ": keep-alive\n\n"

// sseEvent frames an event as server-sent events' data.
func sseEvent(b []byte) []byte { return append(append([]byte("data: "), b...), "\n\n"...) }

// appendChunk appends p to dst as one chunk of a chunked HTTP body.
func appendChunk(dst, p []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(p)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, p...)
	return append(dst, "\r\n"...)
}

// statusStream is a status stream after its handler has returned.
type statusStream struct {
	s     *Server
	nc    net.Conn
	sub   parley.Subscription
	end   func() // releases its counts and limits (handleStatusStream)
	route *routeSlot

	mu        sync.Mutex
	writing   bool // a writer goroutine runs
	events    bool // the hub has queued something since the writer looked
	keepAlive bool // the keep-alive timer fired
	shutdown  bool // the server is shutting down: end the body and close
	gone      bool // the peer has closed the connection
	done      bool // released; nothing runs any more
	timer     *time.Timer
	stopWatch func() bool
	watched   int32 // the descriptor in the server's peerWatch; -1: none
}

// hijackStatus takes the connection of a status stream over, writes the
// response head and first, and leaves the stream to a statusStream,
// which calls end when it is released. It reports false, having written
// nothing, when the connection cannot be taken over (HTTP/2, HTTP/1.0).
func (s *Server) hijackStatus(w http.ResponseWriter, r *http.Request, sub parley.Subscription, first []byte, end func()) bool {
	if !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1 {
		return false
	}
	route, _ := r.Context().Value(keyRoute).(*routeSlot)
	nc, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	if route != nil {
		route.detached = true
	}
	st := &statusStream{s: s, nc: nc, sub: sub, end: end, route: route, watched: -1}
	_ = nc.SetDeadline(time.Time{})
	h := w.Header()
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Transfer-Encoding", "chunked")
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&head)
	head.WriteString("\r\n")
	if !st.write(appendChunk(head.Bytes(), first)) {
		st.release()
		return true
	}
	// Watched first: nothing can release the stream before the timer, the
	// shutdown watch and the notify function are set.
	s.peers.watch(st)
	st.mu.Lock()
	st.timer = time.AfterFunc(s.cfg.StatusKeepAlive, st.tick)
	st.stopWatch = context.AfterFunc(s.ctx, func() {
		st.mu.Lock()
		st.shutdown = true
		st.kickLocked()
		st.mu.Unlock()
	})
	st.mu.Unlock()
	sub.Notify(func() {
		st.mu.Lock()
		st.events = true
		st.kickLocked()
		st.mu.Unlock()
	})
	return true
}

// peerLeft releases the stream whose peer has closed the connection.
func (st *statusStream) peerLeft() {
	st.mu.Lock()
	st.gone = true
	st.kickLocked()
	st.mu.Unlock()
}

// tick runs on the keep-alive timer.
func (st *statusStream) tick() {
	gone := peerGone(st.nc)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return
	}
	if gone {
		st.gone = true
	} else {
		st.keepAlive = true
		st.timer.Reset(st.s.cfg.StatusKeepAlive)
	}
	st.kickLocked()
}

func (st *statusStream) kickLocked() {
	if !st.writing && !st.done {
		st.writing = true
		go st.flush()
	}
}

// flush writes what waits until nothing does; at most one runs at a time,
// so events leave in the hub's order.
func (st *statusStream) flush() {
	var evs [][]byte
	for {
		st.mu.Lock()
		events, keepAlive, shutdown, gone := st.events, st.keepAlive, st.shutdown, st.gone
		st.events, st.keepAlive = false, false
		if !events && !keepAlive && !shutdown && !gone {
			st.writing = false
			st.mu.Unlock()
			return
		}
		st.mu.Unlock()
		switch {
		case gone:
			st.release()
			return
		case shutdown:
			_ = st.write([]byte("0\r\n\r\n")) // the body's end
			st.release()
			return
		case st.sub.Err() != nil:
			// Too slow: the body ends and the browser reconnects.
			_ = st.write([]byte("0\r\n\r\n"))
			st.release()
			return
		}
		var out []byte
		if events {
			var more int
			evs, more = st.sub.Take(evs[:0], 0)
			for _, b := range evs {
				out = appendChunk(out, sseEvent(b))
			}
			if more > 0 {
				st.mu.Lock()
				st.events = true
				st.mu.Unlock()
			}
		}
		if len(out) == 0 && keepAlive {
			out = appendChunk(out, []byte(sseKeepAlive))
		}
		if len(out) == 0 {
			continue
		}
		if !st.write(out) {
			st.release()
			return
		}
		st.s.wrote(connStatus, len(evs))
		evs = evs[:0]
	}
}

// write writes data within WriteTimeout.
func (st *statusStream) write(data []byte) bool {
	_ = st.nc.SetWriteDeadline(time.Now().Add(st.s.cfg.WriteTimeout))
	_, err := st.nc.Write(data)
	return err == nil
}

// release ends the stream for good: it closes the connection, leaves the
// hub and gives back what handleStatusStream counted. Only the goroutine
// that writes calls it, so it runs once.
func (st *statusStream) release() {
	st.mu.Lock()
	st.done = true
	if st.timer != nil {
		st.timer.Stop()
	}
	stopWatch := st.stopWatch
	st.mu.Unlock()
	if stopWatch != nil {
		stopWatch()
	}
	st.sub.Notify(nil)
	st.sub.Close()
	st.s.peers.forget(st)
	_ = st.nc.Close()
	st.end()
	if st.route != nil {
		st.s.observeRequest(st.route, http.StatusOK, time.Since(st.route.start))
	}
}
