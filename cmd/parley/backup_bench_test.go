package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkBackupUnderLoad measures an online backup against a running
// Parley (a child process) with about 25 MB of messages and 16 MB of files
// while eight visitors write without pause: the backup's speed (MB/s, the
// archive written and checked) and the visitors' send-to-ack p99 while no
// backup runs and while backups run back to back. Run it with
//
//	go test ./cmd/parley -run '^$' -bench BackupUnderLoad -benchtime 3x
func BenchmarkBackupUnderLoad(b *testing.B) {
	p := startProc(b, b.TempDir(), noPerIPLimits...)
	token := benchToken(b, p.base())

	// Fill: messages of about 2 KB from the visitors themselves, and four
	// 4 MB files.
	vs, stop := startLoad(b, p.base(), 8, strings.Repeat(" lorem ipsum", 170))
	for deadline := time.Now().Add(90 * time.Second); totalAcked(vs) < 12000; {
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("only %d messages in 90s", totalAcked(vs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	for i := range 4 {
		benchUpload(b, p.base(), token, bytes.Repeat([]byte{byte('a' + i)}, 4<<20))
	}

	vs, stop = startLoad(b, p.base(), 8, "")
	defer stop()
	// latencies returns the sorted send-to-ack latencies while during
	// ran, and how long it ran.
	latencies := func(during func()) ([]time.Duration, time.Duration) {
		for _, v := range vs {
			v.mu.Lock()
			v.lat = v.lat[:0]
			v.mu.Unlock()
		}
		start := time.Now()
		during()
		d := time.Since(start)
		var all []time.Duration
		for _, v := range vs {
			v.mu.Lock()
			all = append(all, v.lat...)
			v.mu.Unlock()
		}
		slices.Sort(all)
		return all, d
	}
	p99 := func(l []time.Duration) float64 {
		if len(l) == 0 {
			return 0
		}
		return float64(l[len(l)*99/100].Microseconds()) / 1000
	}
	quiet, quietFor := latencies(func() { time.Sleep(3 * time.Second) })

	var bytesOut int64
	var took time.Duration
	dir := b.TempDir()
	n := 0
	b.ResetTimer()
	busy, busyFor := latencies(func() {
		for range b.N {
			n++
			st, err := backupTo(filepath.Join(dir, fmt.Sprintf("b%d.tar", n)), func(w io.Writer) error {
				return downloadBackup(context.Background(), p.base(), token, w)
			})
			if err != nil {
				b.Fatal(err)
			}
			bytesOut += st.bytes
			took += st.took
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(bytesOut)/1e6/took.Seconds(), "MB/s")
	b.ReportMetric(float64(bytesOut)/float64(n)/1e6, "MB/backup")
	b.ReportMetric(p99(quiet), "p99-ms-no-backup")
	b.ReportMetric(p99(busy), "p99-ms-during-backup")
	b.ReportMetric(float64(len(quiet))/quietFor.Seconds(), "acks/s-no-backup")
	b.ReportMetric(float64(len(busy))/busyFor.Seconds(), "acks/s-during-backup")
}

// benchToken signs in as the admin and makes an API token.
func benchToken(b *testing.B, base string) string {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	post := func(path, body string) []byte {
		res, err := hc.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			b.Fatalf("POST %s: %d %s", path, res.StatusCode, out)
		}
		return out
	}
	post("/api/v1/session", `{"email":"admin@example.com","password":"correct horse battery"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal(post("/api/v1/tokens", `{"name":"bench"}`), &tok); err != nil {
		b.Fatal(err)
	}
	return tok.Token
}

// benchUpload stores a file of thread 1.
func benchUpload(b *testing.B, base, token string, body []byte) {
	req, _ := http.NewRequest("POST", base+"/api/v1/threads/1/files?name=big.bin", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		b.Fatalf("upload: %d %s", res.StatusCode, out)
	}
}
