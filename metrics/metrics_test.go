package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/metrics"
)

// TestCountMessage: each message counts once under its channel and
// sender; notes, system events and Parley's own messages do not count.
func TestCountMessage(t *testing.T) {
	m := metrics.New(nil)
	msg := func(typ parley.MessageType, channel int, sender string) *parley.Message {
		return &parley.Message{Type: typ, ChannelID: channel, SenderID: sender}
	}
	for _, x := range []*parley.Message{
		msg(parley.TypeMessage, parley.ChannelChat, "V-1"),
		msg(parley.TypeMessage, parley.ChannelChat, "V-2"),
		msg(parley.TypeMessage, parley.ChannelChat, "A-1"),
		msg(parley.TypeMessage, parley.ChannelChat, "B-3"),
		msg(parley.TypeMessage, parley.ChannelEmail, "E-ann@example.com"),
		msg(parley.TypeMessage, parley.ChannelEmail, "A-1"),
		msg(parley.TypeComment, parley.ChannelChat, "A-1"),
		msg(parley.TypeStatusChange, parley.ChannelChat, parley.SystemActorID),
		msg(parley.TypeMessage, parley.ChannelChat, parley.SystemActorID),
		msg(parley.TypeMessage, parley.ChannelChat, ""),
	} {
		m.CountMessage(x)
	}
	want := `
# HELP parley_messages_in_total Messages committed (type MESSAGE: no notes, no system events), by channel (chat, email) and sender (visitor, agent, bot).
# TYPE parley_messages_in_total counter
parley_messages_in_total{channel="chat",sender="agent"} 1
parley_messages_in_total{channel="chat",sender="bot"} 1
parley_messages_in_total{channel="chat",sender="visitor"} 2
parley_messages_in_total{channel="email",sender="agent"} 1
parley_messages_in_total{channel="email",sender="bot"} 0
parley_messages_in_total{channel="email",sender="visitor"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "parley_messages_in_total"); err != nil {
		t.Error(err)
	}
}

// TestObserveRequestCodes: a status outside 100–599 becomes code "other",
// so that no handler can widen the label's values.
func TestObserveRequestCodes(t *testing.T) {
	m := metrics.New(nil)
	for _, st := range []int{200, 404, 404, 0, 99, 600, 1 << 20} {
		m.ObserveRequest("GET /x", st, time.Millisecond)
	}
	want := `
# HELP parley_http_requests_total HTTP requests finished, by route (the pattern that served it, or "unmatched") and status code.
# TYPE parley_http_requests_total counter
parley_http_requests_total{code="200",route="GET /x"} 1
parley_http_requests_total{code="404",route="GET /x"} 2
parley_http_requests_total{code="other",route="GET /x"} 4
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "parley_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "parley_http_request_duration_seconds"); n != 1 {
		t.Errorf("%d duration series, want 1 (by route only)", n)
	}
}

// TestWebhooks: the webhook metrics exist only once a webhook queue feeds
// them; then the depth is read at the scrape and failures count.
func TestWebhooks(t *testing.T) {
	m := metrics.New(nil)
	if n := testutil.CollectAndCount(m.Registry(), "parley_webhook_queue_depth", "parley_webhook_failures_total"); n != 0 {
		t.Fatalf("%d webhook series before a queue is wired, want 0", n)
	}
	depth := 3
	failed := m.Webhooks(func(context.Context) (int, error) { return depth, nil })
	failed()
	failed()
	depth = 7
	want := `
# HELP parley_webhook_failures_total Webhook delivery attempts that failed: a non-2xx answer or a timeout (each retry counts).
# TYPE parley_webhook_failures_total counter
parley_webhook_failures_total 2
# HELP parley_webhook_queue_depth Webhook deliveries waiting to be sent or retried.
# TYPE parley_webhook_queue_depth gauge
parley_webhook_queue_depth 7
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "parley_webhook_queue_depth", "parley_webhook_failures_total"); err != nil {
		t.Error(err)
	}
}

// TestScrapeSurvivesOutboxError: an outbox that cannot be read leaves its
// gauge out; the scrape still answers with everything else.
func TestScrapeSurvivesOutboxError(t *testing.T) {
	m := metrics.New(&metrics.Options{Build: parley.Build{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26.11"}})
	m.WatchOutbox(func(context.Context) (int, error) { return 0, errors.New("store is closed") })
	m.WatchHub(func() (int, uint64) { return 5, 2 })
	m.WatchConns(func() metrics.Conns { return metrics.Conns{Open: [3]int64{4, 1, 2}, Written: [3]uint64{40, 10, 20}} })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status=%d, want 200", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "parley_mail_outbox_depth ") {
		t.Errorf("the outbox's depth is served despite the error")
	}
	for _, line := range []string{
		`parley_build_info{goversion="go1.26.11",revision="abc",version="v1.2.3"} 1`,
		"parley_hub_queue_depth 5", "parley_hub_dropped_total 2",
		`parley_open_connections{kind="visitor"} 4`, `parley_open_connections{kind="agent"} 1`, `parley_open_connections{kind="status"} 2`,
		`parley_events_delivered_total{kind="status"} 20`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("no line %q", line)
		}
	}
}

// TestLintNames: every metric follows Prometheus's naming conventions.
func TestLintNames(t *testing.T) {
	m := metrics.New(nil)
	m.WatchOutbox(func(context.Context) (int, error) { return 1, nil })
	m.WatchHub(func() (int, uint64) { return 0, 0 })
	m.WatchConns(func() metrics.Conns { return metrics.Conns{} })
	m.Webhooks(func(context.Context) (int, error) { return 0, nil })
	m.ObserveRequest("GET /x", 200, time.Millisecond)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "parley_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// BenchmarkCountMessage is the cost a committed message pays for
// metrics: one pre-resolved counter's atomic add.
func BenchmarkCountMessage(b *testing.B) {
	m := metrics.New(nil)
	msg := &parley.Message{Type: parley.TypeMessage, ChannelID: parley.ChannelChat, SenderID: "V-42"}
	b.ReportAllocs()
	for b.Loop() {
		m.CountMessage(msg)
	}
}
