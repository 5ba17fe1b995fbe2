package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestUpgradeLogsConversion starts Parley on a data file of schema version
// 12: it logs that it converts the messages, then how many it converted,
// before it listens. The next start converts nothing and says nothing of it.
func TestUpgradeLogsConversion(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "store", "testdata", "schema", "v12.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "parley.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	// startLogs runs Parley on dir until it listens and returns the
	// messages it logged until then, with their lines.
	startLogs := func() (msgs []string, lines []map[string]any) {
		t.Helper()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pr, pw := io.Pipe()
		env := map[string]string{"PARLEY_DATA": dir}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--log-format", "json"}, func(k string) string { return env[k] }, io.Discard, pw)
			pw.Close()
		}()
		listening := make(chan struct{})
		read := make(chan struct{})
		go func() {
			defer close(read)
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				var line map[string]any
				if json.Unmarshal(sc.Bytes(), &line) != nil {
					continue
				}
				msg, _ := line["message"].(string)
				if msg == "listening" {
					close(listening)
					break
				}
				msgs, lines = append(msgs, msg), append(lines, line)
			}
			io.Copy(io.Discard, pr) // until run ends
		}()
		select {
		case <-listening:
		case err := <-done:
			t.Fatalf("run ended before listening: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("parley did not listen within 30s")
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		<-read
		return msgs, lines
	}

	const converting, converted = "converting the messages to the form of schema version 13 before serving (15 to 30s per million; if stopped, it goes on at the next start)", "messages converted"
	msgs, lines := startLogs()
	at := map[string]int{}
	for i, m := range msgs {
		at[m] = i + 1
	}
	if at[converting] == 0 || at[converted] <= at[converting] {
		t.Fatalf("first start logged %q; want %q, then %q", msgs, converting, converted)
	}
	if n, _ := lines[at[converted]-1]["messages"].(float64); n != 2 { // the fixture's conversation
		t.Errorf("converted %v messages, want 2", lines[at[converted]-1]["messages"])
	}
	msgs, _ = startLogs()
	for _, m := range msgs {
		if m == converting || m == converted {
			t.Errorf("second start logged %q", m)
		}
	}
}
