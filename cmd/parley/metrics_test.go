package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/parley-chat/parley/internal/mailpit"
)

// testMetricsToken is the metrics token of the tests' Parley processes.
const testMetricsToken = "metrics-token-0123456789abcdef"

// scrape GETs url with token as Bearer (none if "") and parses the text
// format; it fails the test unless the answer is 200.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	st, body := getWithToken(t, url, token)
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, st, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sample returns the value of the sample of family name whose labels
// include want (label=value pairs), 0 when there is none; for a histogram
// its count.
func sample(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// TestMetricsCount drives a real Parley process (with real mail through
// Mailpit and themes compiled by Dart Sass) through a visitor's message
// with a status stream open, an agent's reply, a 404, an email in, an
// email reply out and a theme change, and checks from scrapes of /metrics
// that each counter moved by exactly what happened.
func TestMetricsCount(t *testing.T) {
	mp := mailpit.Start(t)
	smtpIn := freePort(t)
	p := startProc(t, t.TempDir(), "PARLEY_METRICS_TOKEN="+testMetricsToken, "PARLEY_SASS="+sassForTest(t),
		"PARLEY_MAIL_FROM=parley@parley.test", "PARLEY_SMTP_LISTEN="+smtpIn,
		"PARLEY_SMTP_URL=smtp://"+mp.SMTPAddr+"?tls=none")
	url := p.base() + "/metrics"
	api := newMailAPI(t, p.base())
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxes.Results[0]["id"].(string), map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	var widgets struct{ Results []map[string]any }
	api.do("GET", "/api/v1/widgets", nil, &widgets)
	widgetID := widgets.Results[0]["id"].(string)
	before := scrape(t, url, testMetricsToken)

	// A page's widget watches its status.
	sctx, stopStatus := context.WithCancel(context.Background())
	defer stopStatus()
	sreq, _ := http.NewRequestWithContext(sctx, "GET", p.base()+"/widget/v1/status?widgetId="+widgetID, nil)
	sres, err := http.DefaultClient.Do(sreq)
	if err != nil || sres.StatusCode != 200 {
		t.Fatalf("status stream: %v %v", sres, err)
	}
	defer sres.Body.Close()

	// A visitor writes; an agent answers over the API; the visitor's
	// socket gets the answer.
	v, _ := dialVisitor(t, p.base(), "")
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "Hello?"})
	var threadID string
	for threadID == "" {
		for _, ev := range nextEvents(t, v) {
			if ev["type"] == "message.ack" {
				threadID = ev["message"].(map[string]any)["threadId"].(string)
			}
		}
	}
	if st, body := api.do("POST", "/conversations/v3/conversations/threads/"+threadID+"/messages", map[string]any{"type": "MESSAGE", "text": "Hi, how can I help?"}, nil); st != 201 {
		t.Fatalf("agent reply: %d %s", st, body)
	}
	for got := false; !got; {
		for _, ev := range nextEvents(t, v) {
			got = got || ev["type"] == "message.created" && ev["message"].(map[string]any)["text"] == "Hi, how can I help?"
		}
	}
	during := scrape(t, url, testMetricsToken)
	for _, kind := range []string{"visitor", "status"} {
		if got := sample(during, "parley_open_connections", "kind", kind); got != 1 {
			t.Errorf("open %s connections=%v while one is open, want 1", kind, got)
		}
	}
	if got := sample(during, "parley_open_connections", "kind", "agent"); got != 0 {
		t.Errorf("open agent connections=%v, want 0", got)
	}
	_ = v.c.CloseNow()
	stopStatus()

	// An admin changes the widget's colour: Dart Sass compiles its theme.
	if st, body := api.do("PATCH", "/api/v1/widgets/"+widgetID, map[string]any{"appearance": map[string]any{"accentColor": "#b91c1c"}}, nil); st != 200 {
		t.Fatalf("appearance: %d %s", st, body)
	}

	// An unknown path; mail in and an agent's email reply out.
	if st, _ := getWithToken(t, p.base()+"/no/such/page", ""); st != 404 {
		t.Fatalf("unknown path: %d, want 404", st)
	}
	if err := sendSMTP(smtpIn, "ann@customer.example", "support@parley.test", "From: Ann <ann@customer.example>\nTo: support@parley.test\nSubject: Order\nMessage-ID: <m1@customer.example>\n\nWhere is it?\n"); err != nil {
		t.Fatal(err)
	}
	threads := api.emailThreads()
	if len(threads) != 1 {
		t.Fatalf("email threads %v", threads)
	}
	if st, body := api.do("POST", "/conversations/v3/conversations/threads/"+threads[0]["id"].(string)+"/messages", map[string]any{"type": "MESSAGE", "text": "On its way."}, nil); st != 201 {
		t.Fatalf("email reply: %d %s", st, body)
	}
	mp.Wait(t, 10*time.Second, "the reply", func(m *mailpit.Message) bool {
		return len(m.To) == 1 && m.To[0].Address == "ann@customer.example"
	})
	// The outbox records a send after the server accepted it: wait until
	// nothing waits and every mail Mailpit holds is counted.
	var after map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = scrape(t, url, testMetricsToken)
		list, err := mp.Messages()
		if err != nil {
			t.Fatal(err)
		}
		sent := sample(after, "parley_mail_sent_total") - sample(before, "parley_mail_sent_total")
		// The visitor's socket is counted as a request once its handler
		// has returned.
		ws := sample(after, "parley_http_requests_total", "route", "GET /widget/v1/ws", "code", "101") - sample(before, "parley_http_requests_total", "route", "GET /widget/v1/ws", "code", "101")
		if sent == float64(len(list)) && sample(after, "parley_mail_outbox_depth") == 0 && ws == 1 &&
			sample(after, "parley_open_connections", "kind", "status") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail sent counted %v, Mailpit holds %d, outbox %v, visitor connections %v", sent, len(list),
				sample(after, "parley_mail_outbox_depth"), sample(after, "parley_open_connections", "kind", "visitor"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	delta := func(name string, labels ...string) float64 {
		return sample(after, name, labels...) - sample(before, name, labels...)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"parley_messages_in_total", []string{"channel", "chat", "sender", "visitor"}, 1},
		{"parley_messages_in_total", []string{"channel", "chat", "sender", "agent"}, 1},
		{"parley_messages_in_total", []string{"channel", "chat", "sender", "bot"}, 0},
		{"parley_messages_in_total", []string{"channel", "email", "sender", "visitor"}, 1},
		{"parley_messages_in_total", []string{"channel", "email", "sender", "agent"}, 1},
		{"parley_http_requests_total", []string{"route", "unmatched", "code", "404"}, 1},
		{"parley_http_requests_total", []string{"route", "POST /conversations/v3/conversations/threads/{threadId}/messages", "code", "201"}, 2},
		{"parley_http_request_duration_seconds", []string{"route", "POST /conversations/v3/conversations/threads/{threadId}/messages"}, 2},
		{"parley_open_connections", []string{"kind", "visitor"}, 0},
		{"parley_mail_send_failures_total", nil, 0},
		{"parley_open_connections", []string{"kind", "status"}, 0},
		{"parley_theme_compiles_total", []string{"result", "ok"}, 1},
		{"parley_theme_compiles_total", []string{"result", "error"}, 0},
		{"parley_theme_compile_seconds", nil, 1},
		{"parley_hub_dropped_total", nil, 0},
	} {
		if got := delta(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The visitor's socket had the agent's reply written to it, at least
	// (its own first message came before it watched the new thread).
	if got := delta("parley_events_delivered_total", "kind", "visitor"); got < 1 {
		t.Errorf("events delivered to visitor sockets moved by %v, want at least 1", got)
	}
	// Every message is a durable write: the commits held at least four.
	commits := after["parley_store_commit_writes"].Metric[0].Histogram
	if got := commits.GetSampleSum() - before["parley_store_commit_writes"].Metric[0].Histogram.GetSampleSum(); got < 4 {
		t.Errorf("writes committed moved by %v, want at least 4", got)
	}
	if got := delta("parley_store_commit_seconds"); got < 1 || got != delta("parley_store_commit_writes") {
		t.Errorf("commit latencies observed %v, commit sizes %v: want the same number, at least 1", got, delta("parley_store_commit_writes"))
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "parley_build_info", "parley_hub_queue_depth"} {
		if after[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
}

// TestMetricsAccess: on the main listener, /metrics is 404 without a
// metrics token configured, 401 for a stranger, a signed-in admin, a
// wrong or truncated token or another scheme, and 200 for the token;
// --metrics-listen serves it to anyone on its own address and nothing
// else there.
func TestMetricsAccess(t *testing.T) {
	t.Run("no token", func(t *testing.T) {
		metricsAddr := freePort(t)
		p := startProc(t, t.TempDir(), "PARLEY_METRICS_LISTEN="+metricsAddr)
		for _, tok := range []string{"", testMetricsToken, "x"} {
			if st, body := getWithToken(t, p.base()+"/metrics", tok); st != 404 {
				t.Errorf("main listener, token %q: %d %s, want 404", tok, st, body)
			}
		}
		fams := scrape(t, "http://"+metricsAddr+"/metrics", "")
		if fams["parley_build_info"] == nil {
			t.Errorf("metrics listener: no parley_build_info")
		}
		for _, path := range []string{"/healthz", "/api/v1/users", "/metrics/x", "/"} {
			if st, _ := getWithToken(t, "http://"+metricsAddr+path, ""); st != 404 {
				t.Errorf("metrics listener %s: %d, want 404", path, st)
			}
		}
		res, err := http.Post("http://"+metricsAddr+"/metrics", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 {
			t.Errorf("POST on the metrics listener: %d, want 405", res.StatusCode)
		}
	})
	t.Run("token", func(t *testing.T) {
		p := startProc(t, t.TempDir(), "PARLEY_METRICS_TOKEN="+testMetricsToken)
		url := p.base() + "/metrics"
		for _, tok := range []string{"", "wrong-token-0123456789abcdef", testMetricsToken[:len(testMetricsToken)-1], testMetricsToken + "x", strings.ToUpper(testMetricsToken)} {
			st, body := getWithToken(t, url, tok)
			if st != 401 || strings.Contains(body, "parley_") {
				t.Errorf("token %q: %d %.80s, want 401 without metrics", tok, st, body)
			}
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Basic "+testMetricsToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Basic scheme: %d %q, want 401 with a Bearer challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		// The admin's session is no metrics token.
		admin := newMailAPI(t, p.base())
		if st, body := admin.do("GET", "/metrics", nil, nil); st != 401 {
			t.Errorf("admin session: %d %.80s, want 401", st, body)
		}
		// Nor is the admin's API token.
		var tok struct{ Token string }
		if st, body := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "ci"}, &tok); st != 201 {
			t.Fatalf("token: %d %s", st, body)
		}
		if st, _ := getWithToken(t, url, tok.Token); st != 401 {
			t.Errorf("admin API token: %d, want 401", st)
		}
		// Nor is a visitor's token.
		v, _ := dialVisitor(t, p.base(), "")
		defer v.c.CloseNow()
		v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "hi"})
		var visitorToken string
		for visitorToken == "" {
			for _, ev := range nextEvents(t, v) {
				if ev["type"] == "identity" {
					visitorToken = ev["visitorToken"].(string)
				}
			}
		}
		if st, _ := getWithToken(t, url, visitorToken); st != 401 {
			t.Errorf("visitor token: %d, want 401", st)
		}
		// And the metrics token opens nothing else.
		if st, _ := getWithToken(t, p.base()+"/api/v1/users/me", testMetricsToken); st != 401 {
			t.Errorf("metrics token on the API: %d, want 401", st)
		}
		if fams := scrape(t, url, testMetricsToken); sample(fams, "parley_http_requests_total", "route", "GET /metrics", "code", "401") != 9 {
			t.Errorf("the refused scrapes are not counted: %v", sample(fams, "parley_http_requests_total", "route", "GET /metrics", "code", "401"))
		}
	})
	t.Run("no metrics", func(t *testing.T) {
		p := startProc(t, t.TempDir())
		if st, _ := getWithToken(t, p.base()+"/metrics", testMetricsToken); st != 404 {
			t.Errorf("without metrics: %d, want 404", st)
		}
	})
}

// TestMetricsTokenConfig: a metrics token too short or with spaces stops
// the start with an error that names the flag.
func TestMetricsTokenConfig(t *testing.T) {
	for _, tok := range []string{"short", "has a space in it 0123456789", "tab\tinside-0123456789abcdef"} {
		err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--metrics-token", tok},
			func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--metrics-token") {
			t.Errorf("token %q: %v, want an error naming --metrics-token", tok, err)
		}
	}
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--metrics-listen", "127.0.0.1:99999"},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "metrics listen") {
		t.Errorf("bad --metrics-listen: %v, want a metrics listen error", err)
	}
}

// TestMetricsRouteLabels: a thousand different unknown paths make one
// route label, "unmatched", a thousand thread ids one pattern, and a
// hundred invented methods no new label; no label carries a path or a
// method a client made up.
func TestMetricsRouteLabels(t *testing.T) {
	p := startProc(t, t.TempDir(), "PARLEY_METRICS_TOKEN="+testMetricsToken)
	for i := range 1000 {
		for _, path := range []string{fmt.Sprintf("/nope-%d/x%d", i, i), fmt.Sprintf("/conversations/v3/conversations/threads/%d", 1000+i)} {
			res, err := http.Get(p.base() + path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	for i := range 100 {
		req, _ := http.NewRequest(fmt.Sprintf("BREW%d", i), p.base()+"/healthz", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 {
			t.Fatalf("method %s: %d, want 405", req.Method, res.StatusCode)
		}
	}
	fams := scrape(t, p.base()+"/metrics", testMetricsToken)
	// Nothing but these requests came before the scrape.
	want := map[string]bool{"unmatched": true, "GET /conversations/v3/conversations/threads/{threadId}": true}
	for _, name := range []string{"parley_http_requests_total", "parley_http_request_duration_seconds"} {
		routes := map[string]bool{}
		for _, m := range fams[name].Metric {
			for _, l := range m.Label {
				if l.GetName() == "route" {
					routes[l.GetValue()] = true
				}
			}
		}
		if len(routes) != len(want) {
			t.Errorf("%s: route labels %v, want %v", name, routes, want)
		}
		for r := range routes {
			if !want[r] {
				t.Errorf("%s: route label %q", name, r)
			}
		}
	}
	if got := sample(fams, "parley_http_requests_total", "route", "unmatched", "code", "404"); got != 1000 {
		t.Errorf("unmatched 404s=%v, want 1000", got)
	}
	if got := sample(fams, "parley_http_requests_total", "route", "GET /conversations/v3/conversations/threads/{threadId}", "code", "401"); got != 1000 {
		t.Errorf("thread 401s=%v, want 1000", got)
	}
	if got := sample(fams, "parley_http_requests_total", "route", "unmatched", "code", "405"); got != 100 {
		t.Errorf("unmatched 405s=%v, want 100", got)
	}
	if n := len(fams["parley_http_requests_total"].Metric); n != 3 {
		t.Errorf("%d series of parley_http_requests_total after 2100 requests, want 3", n)
	}
}

// TestVersion: `parley version` and `--version` print the binary's
// version; a build with -ldflags -X names its version there, in /healthz
// and in parley_build_info.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"serve", "--version"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got := out.String(); !strings.HasPrefix(got, "parley ") || !strings.Contains(got, " go1.") || strings.Count(got, "\n") != 1 {
			t.Errorf("%v printed %q, want one line: parley <version> … go1.x", args, got)
		}
	}
	if err := run(context.Background(), []string{"version", "extra"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("version with an argument: no error")
	}

	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X main.version=v7.7.7-test -X main.revision=0123abc -X main.buildTime=2026-12-01T10:00:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "parley v7.7.7-test 0123abc") || !strings.Contains(got, "2026-12-01T10:00:00Z") {
		t.Errorf("version printed %q", got)
	}

	metricsAddr := freePort(t)
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--metrics-listen", metricsAddr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(15 * time.Second); fams == nil; {
		if res, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
			res.Body.Close()
			fams = scrape(t, "http://"+metricsAddr+"/metrics", "")
		} else if time.Now().After(deadline) {
			t.Fatalf("metrics listener: %v", err)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got := sample(fams, "parley_build_info", "version", "v7.7.7-test", "revision", "0123abc"); got != 1 {
		t.Errorf("parley_build_info{version=v7.7.7-test,revision=0123abc}=%v, want 1: %v", got, fams["parley_build_info"])
	}
}

// TestHealthzVersion: /healthz names the running version.
func TestHealthzVersion(t *testing.T) {
	p := startProc(t, t.TempDir())
	st, body := getWithToken(t, p.base()+"/healthz", "")
	want := fmt.Sprintf(`"version":%q`, readBuild().Version)
	if st != 200 || !strings.Contains(body, want) {
		t.Errorf("healthz: %d %s, want 200 with %s", st, body, want)
	}
}

// TestPprofOnlyOnMetricsListener: the Go profiler answers on the metrics'
// own listener and nowhere on the public one, not even for the holder of
// the metrics token.
func TestPprofOnlyOnMetricsListener(t *testing.T) {
	metricsAddr := freePort(t)
	p := startProc(t, t.TempDir(), "PARLEY_METRICS_LISTEN="+metricsAddr, "PARLEY_METRICS_TOKEN="+testMetricsToken)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if st, body := getWithToken(t, "http://"+metricsAddr+path, ""); st != 200 || body == "" {
			t.Errorf("metrics listener %s: %d, want 200 with a body", path, st)
		}
		for _, tok := range []string{"", testMetricsToken} {
			if st, _ := getWithToken(t, p.base()+path, tok); st != 404 {
				t.Errorf("public listener %s, token %q: %d, want 404", path, tok, st)
			}
		}
	}
}
