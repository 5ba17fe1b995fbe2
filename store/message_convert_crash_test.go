package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// convertCrashDirEnv names the data directory of TestConvertCrashChild.
const convertCrashDirEnv = "PARLEY_STORE_CONVERT_CRASH_DIR"

// TestConvertCrashChild is the process that TestConvertCrash kills. Run by
// TestConvertCrash, it opens the store in its directory, converting the
// messages in chunks of 20 keys with real fsync, and prints "chunk <n>"
// after each chunk committed. In a normal run it does nothing.
func TestConvertCrashChild(t *testing.T) {
	dir := os.Getenv(convertCrashDirEnv)
	if dir == "" {
		return
	}
	db, err := Open(dir, &Options{convertSize: convertSize{keys: 20}, afterConvertChunk: func(n int) error {
		_, err := fmt.Printf("chunk %d\n", n)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("opened")
	db.Close()
}

// TestConvertCrash kills a process (SIGKILL) while it converts the messages
// of a store of schema version 12: the file passes bbolt's check, holds
// messages in both forms, and the next Open converts the rest, every
// message as it was written and every dedup entry kept.
func TestConvertCrash(t *testing.T) {
	const messages, killAfter = 20000, 3 // about 1,500 chunks: the kill comes long before the end
	dir := t.TempDir()
	writeVersion12(t, dir, messages)
	cmd := exec.Command(os.Args[0], "-test.run=^TestConvertCrashChild$", "-test.count=1", "-test.timeout=120s")
	cmd.Env = append(os.Environ(), convertCrashDirEnv+"="+dir)
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
	timer := time.AfterFunc(60*time.Second, func() { timedOut.Store(true); kill() })
	defer timer.Stop()

	chunks, opened := 0, false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // until the child is gone
		line := sc.Text()
		if _, err := fmt.Sscanf(line, "chunk %d", &chunks); err == nil && chunks == killAfter {
			kill()
		}
		opened = opened || line == "opened"
	}
	err = cmd.Wait()
	if timedOut.Load() {
		t.Fatalf("%d chunks in 60s, want %d; child's stderr:\n%s", chunks, killAfter, stderr.String())
	}
	if opened || chunks < killAfter {
		t.Fatalf("child ended by itself after %d chunks, opened %v (%v); stderr:\n%s", chunks, opened, err, stderr.String())
	}
	t.Logf("killed after chunk %d", chunks)

	err = viewFile(t, dir, func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		if bucket(tx, bucketMeta).Get(keyMessagesFrom) == nil {
			t.Error("no conversion pending after the kill")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if j, b, _ := countForms(t, dir); j == 0 || b < killAfter*20/2 || j+b != messages {
		t.Errorf("after the kill: %d messages in JSON, %d binary; want both, %d in all", j, b, messages)
	}

	db, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if j, b, d := countForms(t, dir); j != 0 || b != messages || d != messages/2 {
		t.Errorf("after the reopen: %d messages in JSON, %d binary, %d dedup entries; want 0, %d, %d", j, b, d, messages, messages/2)
	}
	err = viewFile(t, dir, func(tx *bolt.Tx) error {
		if v := bucket(tx, bucketMeta).Get(keyMessagesFrom); v != nil {
			t.Errorf("conversion still pending at %x after the reopen", v)
		}
		msgs := bucket(tx, bucketMessages)
		for i := range messages {
			want := version12Message(i)
			key := append(itob(want.ThreadID), itob(want.Seq)...)
			got, err := decodeMessage(key, msgs.Get(key))
			if err != nil {
				return fmt.Errorf("message %d: %w", want.ID, err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("message %d after the reopen:\n%s\nwant\n%s", want.ID, g, w)
			}
			if want.ClientID != "" {
				if seq := msgs.Get(dedupKey(want.ThreadID, want.SenderID, want.ClientID)); len(seq) != 8 || btoi(seq) != want.Seq {
					t.Errorf("message %d: dedup entry %x, want seq %d", want.ID, seq, want.Seq)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
