// Package metrics gives Parley's Prometheus metrics: the one home of
// github.com/prometheus/client_golang. The packages that do the work
// (store, hub, app, server, widget) know nothing of Prometheus: they take
// plain hooks in their options (store.Options.ObserveCommit,
// app.Config.CountMessage, server.Config.ObserveRequest, …) or offer
// counts to read at a scrape (hub.Hub.Stats, server.Server.Conns), and
// cmd/parley connects them to a Metrics. docs/metrics.md lists every
// metric.
//
// What runs per message is an atomic add on a counter resolved in New,
// never a lookup by label values; gauges are read only when Prometheus
// scrapes.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/parley-chat/parley"
)

// Label values of parley_messages_in_total, in the order of
// Metrics.messagesIn's indexes.
var (
	channelNames = [...]string{"chat", "email"}
	senderNames  = [...]string{"visitor", "agent", "bot"}
)

// ConnKinds are the kinds of connection, as the label kind names them, in
// the order of the arrays of Conns: a visitor's WebSocket, a console's
// WebSocket and a widget's status stream.
var ConnKinds = [...]string{"visitor", "agent", "status"}

// Conns is a snapshot of the server's long-lived connections, by kind in
// the order of ConnKinds.
type Conns struct {
	Open    [len(ConnKinds)]int64  // open now
	Written [len(ConnKinds)]uint64 // events written to them since the start
}

// Options configures New.
type Options struct {
	// Build is the binary's version, for parley_build_info.
	Build parley.Build
	// Logger hears of metrics that could not be gathered during a scrape
	// (the scrape goes on without them). Defaults to a disabled logger.
	Logger zerolog.Logger
}

// Metrics holds Parley's collectors in a registry of its own. Create it
// with New. Its hook methods are safe for concurrent use; its Watch and
// Webhooks methods register collectors and belong to the wiring, before
// serving.
type Metrics struct {
	reg *prometheus.Registry
	log zerolog.Logger

	messagesIn    [len(channelNames)][len(senderNames)]prometheus.Counter
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	commitWrites  prometheus.Histogram
	commitSeconds prometheus.Histogram
	mailSent      prometheus.Counter
	mailFailures  prometheus.Counter
	themeCompiles [2]prometheus.Counter // ok, error
	themeSeconds  prometheus.Histogram
}

// New returns Parley's metrics with the Go runtime's and the process's
// collectors and parley_build_info registered; the Watch methods add the
// gauges read from the running parts.
func New(opts *Options) *Metrics {
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: o.Logger}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_build_info",
		Help: "Always 1; its labels name the running binary's version, VCS revision and Go version.",
		ConstLabels: prometheus.Labels{
			"version": o.Build.Version, "revision": o.Build.Revision, "goversion": o.Build.GoVersion,
		},
	})
	info.Set(1)

	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_messages_in_total",
		Help: "Messages committed (type MESSAGE: no notes, no system events), by channel (chat, email) and sender (visitor, agent, bot).",
	}, []string{"channel", "sender"})
	for c, cn := range channelNames {
		for s, sn := range senderNames {
			m.messagesIn[c][s] = in.WithLabelValues(cn, sn)
		}
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_http_requests_total",
		Help: "HTTP requests finished, by route (the pattern that served it, or \"unmatched\") and status code.",
	}, []string{"route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "parley_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its handler's return, by route; WebSockets and status streams count their whole life.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.commitWrites = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_store_commit_writes",
		Help:    "Writes per store commit: how many writes one group commit (one fsync) held.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 … 1024
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_store_commit_seconds",
		Help:    "Time of one store commit, fsync included.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs … 3.3s
	})
	m.mailSent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_mail_sent_total",
		Help: "Emails of the outbox that the mail server accepted.",
	})
	m.mailFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_mail_send_failures_total",
		Help: "Attempts to send an email of the outbox that failed (each retry counts).",
	})
	compiles := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_theme_compiles_total",
		Help: "Widget theme compiles Dart Sass finished, by result (ok, error).",
	}, []string{"result"})
	m.themeCompiles = [2]prometheus.Counter{compiles.WithLabelValues("ok"), compiles.WithLabelValues("error")}
	m.themeSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "parley_theme_compile_seconds",
		Help:    "Time of one widget theme compile by Dart Sass.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.reg.MustRegister(info, in, m.httpRequests, m.httpDuration, m.commitWrites, m.commitSeconds,
		m.mailSent, m.mailFailures, compiles, m.themeSeconds)
	return m
}

// Registry returns the registry that holds the metrics, for tests and for
// collectors of Parley's own that come later.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format (or what the
// scraper asks for). A collector that fails is logged and left out; the
// rest are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger gives promhttp the zerolog logger.
type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn().Msg(fmt.Sprint(v...)) }

// CountMessage counts message msg into parley_messages_in_total: an
// app.Config.CountMessage. Only type MESSAGE counts, by its channel and
// sender; notes, system events and Parley's own messages do not.
func (m *Metrics) CountMessage(msg *parley.Message) {
	if msg.Type != parley.TypeMessage || len(msg.SenderID) < 2 {
		return
	}
	c := 0
	if msg.ChannelID == parley.ChannelEmail {
		c = 1
	}
	var s int
	switch msg.SenderID[:2] {
	case parley.ActorVisitor, parley.ActorEmail:
		s = 0
	case parley.ActorUser:
		s = 1
	case parley.ActorBot:
		s = 2
	default:
		return // Parley itself
	}
	m.messagesIn[c][s].Inc()
}

// ObserveRequest counts a finished HTTP request: a
// server.Config.ObserveRequest. route must come from a bounded set (the
// server's patterns), never from the request's path.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	code := "other"
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	m.httpRequests.WithLabelValues(route, code).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveCommit records one store commit: a store.Options.ObserveCommit.
func (m *Metrics) ObserveCommit(writes int, d time.Duration) {
	m.commitWrites.Observe(float64(writes))
	m.commitSeconds.Observe(d.Seconds())
}

// MailSent counts one attempt of the outbox: an app.Config.MailSent.
func (m *Metrics) MailSent(err error) {
	if err != nil {
		m.mailFailures.Inc()
		return
	}
	m.mailSent.Inc()
}

// ThemeCompiled records one theme compile: a
// widget.ThemeOptions.Compiled.
func (m *Metrics) ThemeCompiled(d time.Duration, err error) {
	if err != nil {
		m.themeCompiles[1].Inc()
	} else {
		m.themeCompiles[0].Inc()
	}
	m.themeSeconds.Observe(d.Seconds())
}

// WatchConns registers parley_open_connections and
// parley_events_delivered_total, read from conns at each scrape.
func (m *Metrics) WatchConns(conns func() Conns) {
	open := prometheus.NewDesc("parley_open_connections",
		"Open long-lived connections, by kind: visitor (a visitor's WebSocket), agent (a console's WebSocket), status (a widget's status stream).",
		[]string{"kind"}, nil)
	written := prometheus.NewDesc("parley_events_delivered_total",
		"Events (messages, typing, status and the rest) written to open connections, one per event and connection, by kind of connection.",
		[]string{"kind"}, nil)
	m.reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{open, written}, collect: func(ch chan<- prometheus.Metric) {
		c := conns()
		for i, kind := range ConnKinds {
			ch <- prometheus.MustNewConstMetric(open, prometheus.GaugeValue, float64(c.Open[i]), kind)
			ch <- prometheus.MustNewConstMetric(written, prometheus.CounterValue, float64(c.Written[i]), kind)
		}
	}})
}

// WatchHub registers parley_hub_queue_depth and parley_hub_dropped_total,
// read from stats at each scrape: the events waiting in the subscribers'
// queues, and the subscribers dropped as too slow.
func (m *Metrics) WatchHub(stats func() (queued int, dropped uint64)) {
	depth := prometheus.NewDesc("parley_hub_queue_depth",
		"Events waiting in the fan-out queues of all subscribers (connections) together.", nil, nil)
	dropped := prometheus.NewDesc("parley_hub_dropped_total",
		"Subscribers dropped because their queue was full: slow connections closed (they resume on reconnect).", nil, nil)
	m.reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{depth, dropped}, collect: func(ch chan<- prometheus.Metric) {
		q, d := stats()
		ch <- prometheus.MustNewConstMetric(depth, prometheus.GaugeValue, float64(q))
		ch <- prometheus.MustNewConstMetric(dropped, prometheus.CounterValue, float64(d))
	}})
}

// WatchOutbox registers parley_mail_outbox_depth, read from depth at each
// scrape (bounded by a few seconds). An error leaves the metric out of
// that scrape and is logged.
func (m *Metrics) WatchOutbox(depth func(ctx context.Context) (int, error)) {
	desc := prometheus.NewDesc("parley_mail_outbox_depth",
		"Emails waiting in the outbox, to be sent or tried again.", nil, nil)
	m.reg.MustRegister(collectorFunc{descs: []*prometheus.Desc{desc}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(desc, fmt.Errorf("read the outbox: %w", err))
			return
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
	}})
}

// Webhooks registers parley_webhook_queue_depth, read from depth at each
// scrape, and parley_webhook_failures_total, counted by the func it
// returns: call it for each delivery attempt that failed.
func (m *Metrics) Webhooks(depth func(ctx context.Context) (int, error)) (failed func()) {
	failures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_webhook_failures_total",
		Help: "Webhook delivery attempts that failed: a non-2xx answer or a timeout (each retry counts).",
	})
	desc := prometheus.NewDesc("parley_webhook_queue_depth", "Webhook deliveries waiting to be sent or retried.", nil, nil)
	m.reg.MustRegister(failures, collectorFunc{descs: []*prometheus.Desc{desc}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(desc, fmt.Errorf("read the webhook queue: %w", err))
			return
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
	}})
	return failures.Inc
}

// collectorFunc is a collector of a few metrics read together at scrape
// time.
type collectorFunc struct {
	descs   []*prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
