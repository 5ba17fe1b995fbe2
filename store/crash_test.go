package store

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// crashDirEnv names the data directory of TestCrashChild.
const crashDirEnv = "PARLEY_STORE_CRASH_DIR"

// TestCrashChild is the process that TestCrash kills. Run by TestCrash, it
// appends messages from several goroutines as fast as it can, with real
// fsync, and prints "ack <id> <thread> <seq> <text>" for each append that
// returned nil, until it is killed. In a normal run it does nothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	const writers, threads = 16, 8
	var ids [threads]uint64
	for i := range ids {
		th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: uint64(i + 1)}
		if err := db.CreateThread(t.Context(), th); err != nil {
			t.Fatal(err)
		}
		ids[i] = th.ID
	}
	var mu sync.Mutex // one line per write
	for w := range writers {
		go func() {
			for i := 0; ; i++ {
				m := &parley.Message{ThreadID: ids[(w+i)%threads], Type: parley.TypeMessage, Text: fmt.Sprintf("w%d-%d", w, i)}
				if _, err := db.AppendMessage(t.Context(), m, parley.AppendOptions{}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				line := fmt.Sprintf("ack %d %d %d %s\n", m.ID, m.ThreadID, m.Seq, m.Text)
				mu.Lock()
				_, err := io.WriteString(os.Stdout, line)
				mu.Unlock()
				if err != nil {
					os.Exit(1)
				}
			}
		}()
	}
	select {} // until killed, or -test.timeout
}

// TestCrash kills a process that is appending (SIGKILL, no chance to close
// the store) and checks that every append it acknowledged is there after a
// reopen, and that no thread has a gap. A killed process loses no page
// cache, so this tests that acks come only after commit and that a commit
// cut short leaves a consistent file; it cannot test fsync against power
// loss.
func TestCrash(t *testing.T) {
	const wantAcks = 2000
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { cmd.Process.Kill() }) }
	t.Cleanup(kill)
	var timedOut atomic.Bool
	timer := time.AfterFunc(20*time.Second, func() { timedOut.Store(true); kill() })
	defer timer.Stop()

	var acks []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // until the child is gone: killed, or failed
		if line := sc.Text(); strings.HasPrefix(line, "ack ") {
			acks = append(acks, line)
		}
		if len(acks) == wantAcks {
			kill() // the acks still in the pipe are read too
		}
	}
	err = cmd.Wait() // only now is stderr complete
	if timedOut.Load() {
		t.Fatalf("%d acks in 20s, want %d; child's stderr:\n%s", len(acks), wantAcks, stderr.String())
	}
	if len(acks) < wantAcks {
		t.Fatalf("child ended by itself after %d acks (%v); stderr:\n%s", len(acks), err, stderr.String())
	}
	t.Logf("%d acks read, including those in the pipe at the kill", len(acks))

	// Check the file as the kill left it, before Open starts the background
	// indexer: bbolt's check reads the freelist, which a concurrent write
	// transaction changes.
	raw, err := bolt.Open(filepath.Join(dir, fileName), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	raw.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db := MustOpenDir(t, dir, &Options{Timeout: 5 * time.Second})
	threads, _, err := db.Threads(t.Context(), parley.ThreadFilter{Limit: parley.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, th := range threads {
		ids = append(ids, th.ID)
	}
	stored := checkGapless(t, db, ids)
	for _, line := range acks {
		var id, thread, seq uint64
		var text string
		if _, err := fmt.Sscanf(line, "ack %d %d %d %s", &id, &thread, &seq, &text); err != nil {
			t.Fatalf("bad ack %q: %v", line, err)
		}
		m, ok := stored[id]
		if !ok {
			t.Errorf("acknowledged message %d (thread %d, seq %d) is lost", id, thread, seq)
			continue
		}
		if m.ThreadID != thread || m.Seq != seq || m.Text != text {
			t.Errorf("message %d=%+v, want thread %d, seq %d, text %q", id, m, thread, seq, text)
		}
	}
	t.Logf("%d messages stored, %d acknowledged", len(stored), len(acks))
}
