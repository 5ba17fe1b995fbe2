package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// BenchmarkConsoleFirstLoad measures the first load of the signed-in console
// in headless Chromium on loopback with a cold cache: every request the page
// makes until it shows its inbox, their bytes (body as sent and decoded), the
// Navigation Timing loadEventEnd and the moment the inbox list shows. Each
// iteration is one load in a fresh browser context (so with an empty cache);
// the metrics are the medians, and -v logs every request of the last load:
//
//	go test ./cmd/parley/ -run '^$' -bench ConsoleFirstLoad -benchtime 15x -v
func BenchmarkConsoleFirstLoad(b *testing.B) {
	browser := newBrowser(b)
	base := startInProcess(b)
	cookie := signIn(b, base)

	// Records the moment the inbox shows (a thread row or the empty note),
	// in the page's own clock, before any of the page's scripts run.
	const observe = `(() => {
  const seen = () => document.querySelector('a.thread-row, .empty-title');
  new MutationObserver((_, obs) => {
    if (seen()) { window.__inboxAt = performance.now(); obs.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
})();`

	var loads, inboxes []float64
	var last []request
	b.ResetTimer()
	for range b.N {
		// A new browser context has its own, empty, cache and cookie jar.
		reqs := &requests{byID: map[network.RequestID]*request{}}
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(reqs.listen))
		err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "parley_session", Value: cookie, URL: base + "/"}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: observe})
			return err
		}), chromedp.Navigate(base+"/"))
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		if err := waitJS(tab, `document.readyState === 'complete' && performance.getEntriesByType('navigation')[0].loadEventEnd > 0 && window.__inboxAt > 0`, 20*time.Second); err != nil {
			cancel()
			b.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let late requests finish
		times, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`[performance.getEntriesByType('navigation')[0].loadEventEnd, window.__inboxAt]`))
		if err != nil || len(times) != 2 {
			cancel()
			b.Fatalf("timings: %v %v", times, err)
		}
		sizes, err := chromedp.Run(tab, chromedp.Evaluate[[]resourceSize](`[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map(e => ({url: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))`))
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		last = reqs.list(sizes)
		cancel()
		loads = append(loads, times[0])
		inboxes = append(inboxes, times[1])
	}

	var sb strings.Builder
	var count, static, encoded, decoded, sEncoded, sDecoded, sGzip, wire int
	for _, r := range last {
		count++
		encoded += r.encoded
		decoded += r.decoded
		wire += r.wire
		gz := 0
		if r.static() {
			static++
			sEncoded += r.encoded
			sDecoded += r.decoded
			gz = gzipSize(b, r.url, cookie)
			sGzip += gz
		}
		fmt.Fprintf(&sb, "  %-11s %7d %7d %7d %7d  %s\n", r.kind, r.decoded, r.encoded, gz, r.wire, strings.TrimPrefix(r.url, base))
	}
	b.Logf("requests of the last run (type, body decoded, body as sent, body gzipped at best compression, bytes on the wire with headers, path):\n%s", sb.String())
	b.Logf("requests: %d (%d page and static files)", count, static)
	b.Logf("page and static files: %d bytes raw, %d bytes as sent, %d bytes gzipped", sDecoded, sEncoded, sGzip)
	b.Logf("all requests: %d bytes raw, %d bytes as sent, %d on the wire", decoded, encoded, wire)
	b.Logf("median of %d runs: loadEventEnd %.0f ms, inbox shown %.0f ms", b.N, median(loads), median(inboxes))
	b.ReportMetric(0, "ns/op") // the load times below, not the loop's, are the measurement
	b.ReportMetric(median(loads), "load-ms")
	b.ReportMetric(median(inboxes), "inbox-ms")
	b.ReportMetric(float64(static), "files")
	b.ReportMetric(float64(sEncoded), "file-bytes-sent")
	b.ReportMetric(float64(sDecoded), "file-bytes-raw")
	b.Logf("loadEventEnd runs: %v", rounded(loads))
	b.Logf("inbox shown runs:  %v", rounded(inboxes))
}

// signIn creates a session for the admin over HTTP and returns its secret.
func signIn(t testing.TB, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/session", strings.NewReader(`{"email":"admin@example.com","password":"correct horse battery"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "parley_session" {
			return c.Value
		}
	}
	t.Fatalf("sign in: %s, no session cookie", res.Status)
	return ""
}

// gzipSize fetches url uncompressed and returns the size of its body gzipped
// at best compression, whether or not the server compresses it.
func gzipSize(t testing.TB, url, cookie string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.AddCookie(&http.Cookie{Name: "parley_session", Value: cookie})
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := io.Copy(zw, res.Body); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Len()
}

type resourceSize struct {
	URL     string  `json:"url"`
	Encoded float64 `json:"encoded"`
	Decoded float64 `json:"decoded"`
}

type request struct {
	url, kind        string
	wire             int // bytes received, headers included (DevTools)
	encoded, decoded int // body as sent and decoded (Resource Timing)
	order            int
}

// static reports whether r is the page or one of its files, not API or
// socket traffic.
func (r request) static() bool {
	switch r.kind {
	case "Document", "Script", "Stylesheet", "Image", "Font", "Other":
		return !strings.Contains(r.url, "/api/") && !strings.Contains(r.url, "/conversations/")
	}
	return false
}

type requests struct {
	mu   sync.Mutex
	byID map[network.RequestID]*request
}

func (q *requests) listen(ev any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if strings.HasPrefix(ev.Request.URL, "data:") {
			return
		}
		if _, ok := q.byID[ev.RequestID]; !ok {
			q.byID[ev.RequestID] = &request{url: ev.Request.URL, kind: string(ev.Type), order: len(q.byID)}
		}
	case *network.EventWebSocketCreated:
		q.byID[network.RequestID(ev.RequestID)] = &request{url: ev.URL, kind: "WebSocket", order: len(q.byID)}
	case *network.EventLoadingFinished:
		if r := q.byID[ev.RequestID]; r != nil {
			r.wire = int(ev.EncodedDataLength)
		}
	}
}

func (q *requests) list(sizes []resourceSize) []request {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []request
	for _, r := range q.byID {
		for _, s := range sizes {
			if s.URL == r.url {
				r.encoded, r.decoded = int(s.Encoded), int(s.Decoded)
				break
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b request) int { return a.order - b.order })
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func rounded(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x + 0.5)
	}
	return out
}
