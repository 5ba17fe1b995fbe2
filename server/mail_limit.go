package server

import (
	"container/list"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of the new email threads one sender may start (Config).
const (
	defaultMailNewThreadsPerHour = 20
	defaultMailNewThreadBurst    = 10
	// maxMailSenders bounds how many senders' buckets are kept: about 2 MB.
	maxMailSenders = 10000
)

// senderLimits bounds the new email threads per sender address: one token
// bucket (golang.org/x/time/rate) per lower-cased address. It keeps at
// most max buckets, least recently used last: a bucket that has filled up
// again is dropped once it is the oldest (it is as good as a new one), and
// when all are busy the oldest goes. A flood of distinct senders thus
// costs bounded memory; the senders it pushes out lose only their history.
// It is safe for concurrent use.
type senderLimits struct {
	limit rate.Limit
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*list.Element // address → element of lru
	lru  *list.List               // of *senderBucket, most recently used first
}

type senderBucket struct {
	key string
	lim *rate.Limiter
}

// newSenderLimits allows perHour new threads per sender on average and
// burst at once (perHour < 0: no limit), keeping at most size senders.
func newSenderLimits(perHour float64, burst, size int) *senderLimits {
	l := rate.Limit(perHour / 3600)
	if perHour < 0 {
		l = rate.Inf
	}
	return &senderLimits{limit: l, burst: max(burst, 1), max: max(size, 1), keys: map[string]*list.Element{}, lru: list.New()}
}

// allow takes one new thread from addr's bucket at now, and reports
// whether there was one.
func (l *senderLimits) allow(addr string, now time.Time) bool {
	if l.limit == rate.Inf {
		return true
	}
	key := strings.ToLower(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*senderBucket).lim.AllowN(now, 1)
	}
	// Room for one more: first the oldest buckets that are full again.
	for el := l.lru.Back(); el != nil && el.Value.(*senderBucket).lim.TokensAt(now) >= float64(l.burst); el = l.lru.Back() {
		l.remove(el)
	}
	if len(l.keys) >= l.max {
		l.remove(l.lru.Back())
	}
	b := &senderBucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
	l.keys[key] = l.lru.PushFront(b)
	return b.lim.AllowN(now, 1)
}

func (l *senderLimits) remove(el *list.Element) {
	delete(l.keys, el.Value.(*senderBucket).key)
	l.lru.Remove(el)
}

// len is how many senders' buckets are kept.
func (l *senderLimits) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
