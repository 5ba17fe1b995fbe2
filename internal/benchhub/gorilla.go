package benchhub

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

// Keep-alive as in gorilla's chat example: a ping every 54 s, a connection
// whose pong is not back within 60 s of the last is closed. (Parley and
// the coder baseline ping every 20 s and wait 10 s for the pong.)
const (
	gorillaPongWait   = 60 * time.Second
	gorillaPingPeriod = gorillaPongWait * 9 / 10
)

// serveGorilla runs one gorilla/websocket connection as gorilla's chat
// example does: a reader (this goroutine) and a writer goroutine that
// empties the client's buffered channel and pings, the only goroutine that
// writes to the connection.
func (s *Server) serveGorilla(w http.ResponseWriter, r *http.Request, c *client) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	done := make(chan struct{})
	go func() { defer close(done); gorillaWriter(conn, c) }()
	defer func() { <-done; conn.Close() }()
	defer s.leave(c)
	conn.SetReadLimit(readLimit)
	_ = conn.SetReadDeadline(time.Now().Add(gorillaPongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(gorillaPongWait)) })
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if cc := s.onFrame(c, data); cc.code != 0 {
			c.closeWith(cc)
			return
		}
	}
}

// gorillaWriter sends what waits for c until the connection ends, and
// pings.
func gorillaWriter(conn *websocket.Conn, c *client) {
	ping := time.NewTicker(gorillaPingPeriod)
	defer ping.Stop()
	for {
		select {
		case ev := <-c.send:
			_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := conn.WriteMessage(websocket.TextMessage, frame(ev, c.send)); err != nil {
				c.end()
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.end()
				return
			}
		case <-c.gone:
			code := c.closing
			if c.behind.Load() {
				code = closeCode{4408, "connection fell behind; resume"}
			}
			if code.code != 0 {
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code.code, code.reason), time.Now().Add(writeTimeout))
			}
			// Unblock the reader, which may wait for a frame.
			_ = conn.SetReadDeadline(time.Now())
			return
		}
	}
}
