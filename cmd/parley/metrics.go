package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
)

// minMetricsToken is the shortest --metrics-token accepted: it guards
// what the metrics tell about traffic, on the public listener.
const minMetricsToken = 16

// checkMetricsToken refuses a --metrics-token too short to be a secret,
// or with spaces, which no Authorization header could carry.
func checkMetricsToken(tok string) error {
	if tok == "" {
		return nil
	}
	if len(tok) < minMetricsToken {
		return fmt.Errorf("--metrics-token (PARLEY_METRICS_TOKEN) must be at least %d characters, e.g. from openssl rand -hex 32", minMetricsToken)
	}
	if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("--metrics-token (PARLEY_METRICS_TOKEN) must not contain spaces or control characters")
	}
	return nil
}

// watch makes each scrape read the server's connections, the hub's queues
// and the store's outbox.
func watch(met *metrics.Metrics, srv *server.Server, h *hub.Hub, db *store.DB) {
	met.WatchConns(func() metrics.Conns {
		c := srv.Conns()
		return metrics.Conns{
			Open:    [len(metrics.ConnKinds)]int64{c.Visitors, c.Agents, c.StatusStreams},
			Written: [len(metrics.ConnKinds)]uint64{c.VisitorEvents, c.AgentEvents, c.StatusEvents},
		}
	})
	met.WatchHub(func() (int, uint64) {
		st := h.Stats()
		return st.Queued, st.Dropped
	})
	met.WatchOutbox(db.OutboxLen)
}

// serveMetrics starts the metrics' own listener (--metrics-listen), which
// serves GET /metrics and the Go profiler (net/http/pprof, under
// /debug/pprof/) to anyone who reaches it and nothing else; nil when none
// is configured. The profiler is never on the public listener: a profile
// shows what the process holds and a CPU profile costs while it runs.
func serveMetrics(c *config, met *metrics.Metrics, log zerolog.Logger) (*http.Server, error) {
	if c.MetricsListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", met.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error().Err(err).Msg("metrics listener")
		}
	}()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving metrics")
	return hs, nil
}
