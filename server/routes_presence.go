package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		id, err := parseID(r.URL.Query().Get("widgetId"))
		var wd *parley.Widget
		if err == nil {
			wd, err = s.db.Widget(r.Context(), id)
		}
		if err == nil && !wd.Enabled {
			err = parley.Errorf(parley.ENOTFOUND, "widget not found")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// Status streams count with the visitor sockets: a browser that
		// gets 429 here does not try again by itself.
		release, ok := s.limits.conns.acquire(clientKey(s.clientAddr(r)))
		if !ok {
			s.writeError(w, r, rateLimited(connsRetryAfter, tooManyConns))
			return
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
			return
		}
		tick := time.NewTicker(statusKeepAlive)
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-s.ctx.Done():
				return
			case <-sub.Done():
				return // too slow: the browser reconnects
			case b := <-sub.C():
				if !write(event(b)) {
					return
				}
			case <-tick.C:
				if !write([]byte(": keep-alive\n\n")) {
					return
				}
			}
		}
	})
}
