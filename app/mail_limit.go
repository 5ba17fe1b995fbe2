package app

import (
	"strings"
	"time"
)

// Defaults of the new email threads one sender may start (Config).
const (
	defaultMailNewThreadsPerHour = 20
	defaultMailNewThreadBurst    = 10
	// maxMailSenders bounds how many senders' buckets are kept: about 2 MB.
	maxMailSenders = 10000
)

// newSenderLimits bounds the new email threads per sender address (lower
// case): perHour on average and burst at once, at most size senders
// remembered (Limiter). A negative perHour is no limit (nil). now is
// the clock.
func newSenderLimits(perHour float64, burst, size int, now func() time.Time) *Limiter {
	l := NewLimiter(perHour/60, burst, now)
	if l != nil {
		l.max = max(size, 1)
	}
	return l
}

// senderKey is the key a sender address counts under.
func senderKey(addr string) string { return strings.ToLower(addr) }
