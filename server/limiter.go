package server

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// connCounter counts what each key holds open at once, such as a client
// address's sockets. Keys holding nothing take no memory. It is safe for
// concurrent use.
type connCounter struct {
	max int // at most this many per key; 0 or less: no limit

	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more for key. It returns false, and counts nothing,
// when key already holds max; otherwise release undoes the count and must
// be called exactly once.
func (c *connCounter) acquire(key string) (release func(), ok bool) {
	if c.max <= 0 {
		return func() {}, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[key] >= c.max {
		return nil, false
	}
	c.n[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.n[key]--; c.n[key] <= 0 {
				delete(c.n, key)
			}
		})
	}, true
}

// errRateLimited is a parley error, ERATELIMIT or EUNAVAILABLE, that also
// says when to try again; writeError turns that into a Retry-After header.
type errRateLimited struct {
	err   *parley.Error
	after time.Duration
}

func (e *errRateLimited) Error() string { return e.err.Error() }
func (e *errRateLimited) Unwrap() error { return e.err }

// rateLimited returns an ERATELIMIT error with the message given that tells
// the caller to retry after the given time (at least a second).
func rateLimited(after time.Duration, format string, args ...any) error {
	return &errRateLimited{err: parley.Errorf(parley.ERATELIMIT, format, args...), after: after}
}

// unavailable returns an EUNAVAILABLE error (503) with the message given
// that tells the caller to retry after the given time (at least a second).
func unavailable(after time.Duration, format string, args ...any) error {
	return &errRateLimited{err: parley.Errorf(parley.EUNAVAILABLE, format, args...), after: after}
}

// retryAfter returns the whole seconds to put in Retry-After for err, and
// false when err says nothing about it.
func retryAfter(err error) (int, bool) {
	var rl *errRateLimited
	if errors.As(err, &rl) {
		return waitSeconds(rl.after), true
	}
	// The app's limits (a transcript's recipient) say it themselves.
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return waitSeconds(ra.RetryAfter()), true
	}
	return 0, false
}

// waitSeconds is d in whole seconds, rounded up, at least one.
func waitSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// waitText says a wait in whole seconds, for error messages.
func waitText(d time.Duration) string {
	if secs := waitSeconds(d); secs != 1 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return "1 second"
}
