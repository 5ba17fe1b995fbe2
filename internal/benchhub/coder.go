package benchhub

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// serveCoder runs one coder/websocket connection: this goroutine reads,
// another writes what waits in c.send, as coder's chat example pairs a
// subscriber's channel with a writer loop.
func (s *Server) serveCoder(w http.ResponseWriter, r *http.Request, c *client) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer conn.CloseNow()
	conn.SetReadLimit(readLimit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); coderWriter(ctx, conn, c) }()
	defer func() { <-done }()
	defer s.leave(c)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if cc := s.onFrame(c, data); cc.code != 0 {
			_ = conn.Close(websocket.StatusCode(cc.code), cc.reason)
			return
		}
	}
}

// coderWriter sends what waits for c until the connection ends, and pings.
func coderWriter(ctx context.Context, conn *websocket.Conn, c *client) {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case ev := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := conn.Write(wctx, websocket.MessageText, frame(ev, c.send))
			cancel()
			if err != nil {
				c.end()
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, pongWait-pingPeriod)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				c.end()
				conn.CloseNow()
				return
			}
		case <-c.gone:
			if c.behind.Load() {
				_ = conn.Close(4408, "connection fell behind; resume")
			}
			return
		}
	}
}
