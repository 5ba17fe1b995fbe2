package store

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestMain fails the run if goroutines outlive the tests (a writer not
// stopped by Close, a test's helper left blocked).
func TestMain(m *testing.M) {
	before := goroutines()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for goroutines() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := goroutines(); n > before {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "leaked goroutines: %d before the tests, %d after\n%s\n",
				before, n, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

// goroutines counts the running goroutines but the one that go test -fuzz
// starts to watch for signals, which stays.
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := strings.Split(string(buf), "\n\n")
	n := 0
	for _, g := range all {
		if !strings.Contains(g, "os/signal.signal_recv") {
			n++
		}
	}
	return n
}

// MustOpen opens a store in a fresh temporary directory and closes it when
// the test ends. A nil opts means no fsync, for speed.
func MustOpen(tb testing.TB, opts *Options) *DB {
	tb.Helper()
	if opts == nil {
		opts = &Options{NoSync: true}
	}
	return MustOpenDir(tb, tb.TempDir(), opts)
}

// MustOpenDir opens the store in dir and closes it when the test ends.
func MustOpenDir(tb testing.TB, dir string, opts *Options) *DB {
	tb.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// wantCode fails the test unless err carries the Parley error code want ("" for
// nil).
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := parley.ErrorCode(err); got != want {
		tb.Fatalf("error code=%q (%v), want %q", got, err, want)
	}
}

var errTest = errors.New("test error")
