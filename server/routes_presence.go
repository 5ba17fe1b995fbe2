package server

import (
	"net/http"
	"time"
)

// statusKeepAlive is how often an idle status stream sends a comment, so
// that proxies keep it open.
const statusKeepAlive = 25 * time.Second

// handleStatusStream serves a widget's status as server-sent events (public,
// any origin): the current status at once, then every change. The loader
// holds one while no chat is mounted, so that its launcher hides and comes
// back without a reload as availability changes; a mounted chat gets status
// on its WebSocket instead.
func (s *Server) handleStatusStream() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		wd, err := s.queryWidget(r)
		if err != nil {
			return err
		}
		// Status streams count with the visitor sockets: a browser that
		// gets 429 here does not try again by itself.
		release, ok := s.limits.conns.acquire(clientKey(s.clientAddr(r)))
		if !ok {
			return rateLimited(connsRetryAfter, tooManyConns)
		}
		defer release()
		rc := http.NewResponseController(w)
		s.conns.Add(1)
		defer s.conns.Done()
		sub := s.hub.SubscribeBuffer(16, widgetTopic(wd.ID))
		defer sub.Close()
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		write := func(data []byte) bool {
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if _, err := w.Write(data); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		event := func(b []byte) []byte { return append(append([]byte("data: "), b...), "\n\n"...) }
		if !write(event(mustJSON(evStatus{Type: "status", Status: s.app.WidgetStatus(r.Context(), wd)}))) {
			return nil
		}
		tick := time.NewTicker(statusKeepAlive)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return nil
			case <-s.ctx.Done():
				return nil
			case <-sub.Done():
				return nil // too slow: the browser reconnects
			case b := <-sub.C():
				if !write(event(b)) {
					return nil
				}
			case <-tick.C:
				if !write([]byte(": keep-alive\n\n")) {
					return nil
				}
			}
		}
	})
}
