package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// connKind is what a long-lived connection serves, for the counts of
// ConnStats.
type connKind int

const (
	connVisitor connKind = iota // a visitor's WebSocket (ws_visitor.go)
	connAgent                   // a console's WebSocket (ws_agent.go)
	connStatus                  // a widget's status stream (http_widget_public.go)
	connKinds
)

// connCounts are the server's live connections and the events written to
// them, by kind: atomic adds on the way, read by Conns.
type connCounts struct {
	open [connKinds]atomic.Int64
	sent [connKinds]atomic.Uint64
}

// ConnStats counts the server's connections, for metrics: how many are
// open now, and how many events (messages, typing, status and the rest,
// one per event and connection) have been written to them since New.
type ConnStats struct {
	Visitors, Agents, StatusStreams          int64
	VisitorEvents, AgentEvents, StatusEvents uint64
}

// Conns returns the server's connection counts. It is safe for concurrent
// use and cheap: a few atomic loads.
func (s *Server) Conns() ConnStats {
	c := &s.counts
	return ConnStats{
		Visitors:      c.open[connVisitor].Load(),
		Agents:        c.open[connAgent].Load(),
		StatusStreams: c.open[connStatus].Load(),
		VisitorEvents: c.sent[connVisitor].Load(),
		AgentEvents:   c.sent[connAgent].Load(),
		StatusEvents:  c.sent[connStatus].Load(),
	}
}

// opened counts a connection of kind k as open until the returned function
// is called.
func (s *Server) opened(k connKind) (closed func()) {
	s.counts.open[k].Add(1)
	return func() { s.counts.open[k].Add(-1) }
}

// wrote counts n events written to a connection of kind k.
func (s *Server) wrote(k connKind, n int) {
	if n > 0 {
		s.counts.sent[k].Add(uint64(n))
	}
}

// routeSlot is where checkQuery (params.go) leaves the pattern that served a request,
// for logRequests, which sits outside the handlers that copy the request.
type routeSlot struct {
	pattern string
	// start is when the request came; detached says that its handler
	// handed the connection over (a hijacked status stream), which reports
	// the request itself when it ends.
	start    time.Time
	detached bool
}

// unmatchedRoute is the route of a request that no pattern served.
const unmatchedRoute = "unmatched"

// observeRequest reports a finished request to Config.ObserveRequest.
func (s *Server) observeRequest(slot *routeSlot, status int, d time.Duration) {
	if s.cfg.ObserveRequest == nil {
		return
	}
	route := slot.pattern
	if route == "" {
		route = unmatchedRoute
	}
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	s.cfg.ObserveRequest(route, status, d)
}

// handleMetrics serves Config.Metrics to a client that shows
// Config.MetricsToken as a Bearer token. Without both, the route does not
// exist (404), so that a Parley that keeps its metrics on a listener of
// their own does not reveal them here.
func (s *Server) handleMetrics() http.Handler {
	want := sha256.Sum256([]byte(s.cfg.MetricsToken))
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Metrics == nil || s.cfg.MetricsToken == "" {
			return parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
		}
		token, ok, err := bearerToken(r)
		// Hashing both sides first makes the comparison's time independent
		// of the token's length too.
		got := sha256.Sum256([]byte(token))
		if err != nil || !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley metrics"`)
			return parley.Errorf(parley.EUNAUTHORIZED, "the metrics need the metrics token as a Bearer token")
		}
		s.cfg.Metrics.ServeHTTP(w, r)
		return nil
	})
}

// withRouteSlot gives the request a routeSlot for checkQuery to fill.
func withRouteSlot(ctx context.Context) (context.Context, *routeSlot) {
	slot := &routeSlot{}
	return contextWith(ctx, keyRoute, slot), slot
}
