package blob_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
)

func mustOpen(tb testing.TB, root string, opts *blob.Options) *blob.Dir {
	tb.Helper()
	d, err := blob.Open(root, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func keyOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readBlob(t *testing.T, d *blob.Dir, key string) []byte {
	t.Helper()
	b, err := d.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("size=%d, want %d", b.Size(), len(data))
	}
	return data
}

// files returns every regular file under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutOpen(t *testing.T) {
	ctx := context.Background()
	d := mustOpen(t, t.TempDir(), nil)
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, Parley")},
		{"binary", bytes.Repeat([]byte{0, 0xff, 0x89, 'P', 'N', 'G'}, 10000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, size, err := d.Put(ctx, bytes.NewReader(tt.data), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if key != keyOf(tt.data) || size != int64(len(tt.data)) {
				t.Errorf("key=%s size=%d, want %s %d", key, size, keyOf(tt.data), len(tt.data))
			}
			if got := readBlob(t, d, key); !bytes.Equal(got, tt.data) {
				t.Errorf("read %d bytes back, want the %d put", len(got), len(tt.data))
			}
		})
	}
}

func TestPutSameContentOnce(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := mustOpen(t, root, nil)
	data := []byte("the same invoice")
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, _, err := d.Put(ctx, bytes.NewReader(data), 100)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if k != keyOf(data) {
			t.Errorf("key=%s, want %s", k, keyOf(data))
		}
	}
	if got, want := files(t, root), []string{filepath.Join(keyOf(data)[:2], keyOf(data))}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("files=%v, want %v", got, want)
	}
}

func TestPutTooLarge(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := mustOpen(t, root, nil)
	_, _, err := d.Put(ctx, bytes.NewReader(make([]byte, 101)), 100)
	if got := parley.ErrorCode(err); got != parley.ETOOLARGE {
		t.Fatalf("code=%q (%v), want %q", got, err, parley.ETOOLARGE)
	}
	if !strings.Contains(parley.ErrorMessage(err), "100 bytes") {
		t.Errorf("message=%q, want the limit named", parley.ErrorMessage(err))
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("files=%v after a refused put, want none", got)
	}
	if _, _, err := d.Put(ctx, bytes.NewReader(make([]byte, 100)), 100); err != nil {
		t.Errorf("put of exactly the limit: %v", err)
	}
}

func TestPutCancelled(t *testing.T) {
	root := t.TempDir()
	d := mustOpen(t, root, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := io.MultiReader(bytes.NewReader(make([]byte, 1000)), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, nil
	}), bytes.NewReader(make([]byte, 1000)))
	if _, _, err := d.Put(ctx, r, 1<<20); err == nil {
		t.Fatal("put whose context ended succeeded")
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("files=%v after a cancelled put, want none", got)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestOpenHostileKeys(t *testing.T) {
	root := t.TempDir()
	d := mustOpen(t, root, nil)
	secret := filepath.Join(root, "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"", "secret", "../secret", "/etc/passwd", ".tmp",
		strings.Repeat("A", 64),                           // upper case
		strings.Repeat("a", 63),                           // short
		strings.Repeat("a", 65),                           // long
		"../" + strings.Repeat("a", 61),                   // traversal of the right length
		keyOf([]byte("never stored")),                     // well-formed, missing
		strings.Repeat("a", 62) + "/" + "a",               // a separator
		strings.Repeat("a", 62) + "\x00" + "a",            // a NUL
		strings.Repeat("g", 64),                           // not hex
		"..%2f" + strings.Repeat("a", 59),                 // escaped traversal
		strings.Repeat("a", 32) + strings.Repeat("é", 16), // multi-byte
	} {
		b, err := d.Open(context.Background(), key)
		if got := parley.ErrorCode(err); got != parley.ENOTFOUND {
			if b != nil {
				b.Close()
			}
			t.Errorf("Open(%q): code=%q, want %q", key, got, parley.ENOTFOUND)
		}
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	root := t.TempDir()
	d := mustOpen(t, root, &blob.Options{Now: now})
	put := func(s string) string {
		t.Helper()
		k, _, err := d.Put(ctx, strings.NewReader(s), 100)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	named, orphan, renewed := put("named"), put("orphan"), put("renewed")
	tick(time.Hour)
	fresh := put("fresh")
	put("renewed") // stored again: as new as fresh
	cutoff := now().Add(-time.Minute)
	keep := map[string]bool{named: true}
	n, err := d.Sweep(ctx, cutoff, func(k string) bool { return keep[k] })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("swept %d, want 1 (the orphan)", n)
	}
	for k, want := range map[string]bool{named: true, orphan: false, renewed: true, fresh: true} {
		_, err := d.Open(ctx, k)
		if got := err == nil; got != want {
			t.Errorf("blob %s present=%v, want %v", k[:8], got, want)
		}
	}
	// Once nothing names them and they are old, all go.
	tick(time.Hour)
	n, err = d.Sweep(ctx, now(), func(string) bool { return false })
	if err != nil || n != 3 {
		t.Errorf("swept %d (%v), want 3", n, err)
	}
	for _, f := range files(t, root) {
		t.Errorf("file %s left after sweeping everything", f)
	}
}

// TestSweepRacesPut puts the same content again and again while sweeps that
// keep nothing run: a Put that returned must find its blob there until a
// sweep whose cutoff is after that Put.
func TestSweepRacesPut(t *testing.T) {
	ctx := context.Background()
	d := mustOpen(t, t.TempDir(), nil)
	data := []byte("raced")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// A cutoff an hour back: nothing Put in this test is that old.
			if _, err := d.Sweep(ctx, time.Now().Add(-time.Hour), func(string) bool { return false }); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		k, _, err := d.Put(ctx, bytes.NewReader(data), 100)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Open(ctx, k)
		if err != nil {
			t.Fatalf("blob gone right after Put: %v", err)
		}
		b.Close()
	}
	close(stop)
	wg.Wait()
}

func TestOpenRemovesUnfinishedWrites(t *testing.T) {
	root := t.TempDir()
	mustOpen(t, root, nil)
	left := filepath.Join(root, ".tmp", "put-123")
	if err := os.WriteFile(left, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, root, nil)
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("unfinished write still there after reopening: %v", err)
	}
}

// TestKilledMidPut kills a process that puts blobs without pause (kill -9)
// and checks the directory it leaves: every key it reported is there with
// its bytes, and every file under a key holds the bytes that key names.
func TestKilledMidPut(t *testing.T) {
	if os.Getenv("BLOB_PUT_LOOP") != "" {
		putLoop(os.Getenv("BLOB_PUT_LOOP"))
		return
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidPut$")
	cmd.Env = append(os.Environ(), "BLOB_PUT_LOOP="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var reported []string
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "put "); ok {
			reported = append(reported, k)
		}
		if len(reported) == 50 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(reported) < 50 {
		t.Fatalf("the child reported %d puts before it ended, want 50", len(reported))
	}
	d := mustOpen(t, root, nil)
	for _, k := range reported {
		if got := keyOf(readBlob(t, d, k)); got != k {
			t.Errorf("blob %s holds bytes of %s", k, got)
		}
	}
	for _, f := range files(t, root) {
		k := filepath.Base(f)
		if filepath.Dir(f) != k[:2] {
			t.Errorf("stray file %s", f)
			continue
		}
		if got := keyOf(readBlob(t, d, k)); got != k {
			t.Errorf("file %s holds bytes of %s", f, got)
		}
	}
}

// putLoop stores random blobs of up to 256 KiB until killed, printing each
// key once Put has returned.
func putLoop(root string) {
	d, err := blob.Open(root, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 256<<10)
	for i := 0; ; i++ {
		b := buf[:1+i*7919%len(buf)]
		rand.Read(b)
		k, _, err := d.Put(context.Background(), bytes.NewReader(b), int64(len(buf)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("put %s\n", k)
	}
}
