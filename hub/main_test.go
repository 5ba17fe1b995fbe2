package hub

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the run if goroutines started by tests or benchmarks are
// still running after them.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := checkLeaks(before, 5*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkLeaks waits up to wait for the number of goroutines to fall back to
// want, and describes the survivors if it does not.
func checkLeaks(want int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		got := runtime.NumGoroutine()
		if got <= want {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return fmt.Errorf("leaked goroutines: got %d, want %d\n%s", got, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
