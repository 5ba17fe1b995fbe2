package app

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket (golang.org/x/time/rate) per key, such as
// a client address, an account or a mail sender, for limits on how often
// something may happen. Its memory is bounded: it holds at most max keys,
// least recently used last; to make room it forgets the oldest buckets that
// have filled up again (as good as new), and if that is not enough the
// oldest with no attempt under way. Forgetting a key only ever gives it a
// full bucket again. It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // key → element of lru
	lru  *list.List               // of *limiterBucket, most recently used first
}

type limiterBucket struct {
	key     string
	lim     *rate.Limiter
	pending int // attempts begun and not yet done
}

// defaultLimiterKeys is how many keys a Limiter holds by default.
const defaultLimiterKeys = 100_000

// NewLimiter returns a limiter that lets each key do burst things at
// once and then perMinute a minute, or nil, which is no limit at all, for a
// negative perMinute or burst. now is the clock (nil: time.Now). Every
// method of a nil *Limiter allows everything.
func NewLimiter(perMinute float64, burst int, now func() time.Time) *Limiter {
	if perMinute < 0 || burst < 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: rate.Limit(perMinute / 60), burst: max(burst, 1), max: defaultLimiterKeys, now: now,
		keys: map[string]*list.Element{}, lru: list.New()}
}

// wait is how long until a bucket holding tokens (less than one) has one.
func (l *Limiter) wait(tokens float64) time.Duration {
	if l.limit <= 0 {
		return time.Minute
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second))
}

// bucket returns key's bucket, making it if needed, and marks it used.
// l.mu must be held.
func (l *Limiter) bucket(key string, now time.Time) *limiterBucket {
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*limiterBucket)
	}
	if len(l.keys) >= l.max {
		l.evict(now)
	}
	b := &limiterBucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
	l.keys[key] = l.lru.PushFront(b)
	return b
}

// evict makes room for one more key. l.mu must be held.
func (l *Limiter) evict(now time.Time) {
	for el := l.lru.Back(); el != nil; {
		prev := el.Prev()
		if b := el.Value.(*limiterBucket); b.pending == 0 && b.lim.TokensAt(now) >= float64(l.burst) {
			l.remove(el)
		} else {
			break // the oldest are still in use: stop, and drop one below
		}
		el = prev
	}
	for el := l.lru.Back(); el != nil && len(l.keys) >= l.max; el = el.Prev() {
		if el.Value.(*limiterBucket).pending == 0 {
			l.remove(el)
			return
		}
	}
	// Every bucket has an attempt under way: the map grows by those.
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*limiterBucket).key)
	l.lru.Remove(el)
}

// len is how many keys the limiter holds.
func (l *Limiter) len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Allow takes one token for key. When there is none it takes nothing and
// returns false and how long until there will be one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	_, ok, after := l.Reserve(key)
	return ok, after
}

// AllowN takes n tokens for key at once, or none: when there are fewer it
// takes nothing and returns false and how long until there will be n (a
// minute when n is more than the burst).
func (l *Limiter) AllowN(key string, n int) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.bucket(key, now).lim.ReserveN(now, n)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Reserve takes one token for key as Allow does, and returns a function
// that gives it back, for when what the token was taken for did not happen
// after all (another limit refused it). The function may be called once.
func (l *Limiter) Reserve(key string) (undo func(), ok bool, after time.Duration) {
	if l == nil {
		return func() {}, true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.bucket(key, now).lim.ReserveN(now, 1)
	if !r.OK() {
		return nil, false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, false, d
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		r.CancelAt(l.now())
	}, true, 0
}

// Check reports whether key has a token, without taking it, and if not how
// long until it will. It is for limits that count failures only: Check
// first, take (Allow) when the attempt failed.
func (l *Limiter) Check(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	el, ok := l.keys[key]
	if !ok {
		return true, 0
	}
	if tokens := el.Value.(*limiterBucket).lim.TokensAt(now); tokens < 1 {
		return false, l.wait(tokens)
	}
	return true, 0
}

// Attempt is Check for limits that count failures, made safe for
// concurrent attempts: an attempt begun holds one of key's tokens until done
// reports how it went, so that many at once cannot all pass a check that
// only one failure would refuse. When key has no token left that another
// Attempt does not hold, it returns false and how long until it will, and
// done is nil; otherwise done must be called exactly once, with whether
// the attempt failed: a failure takes the token, a success gives it back.
// A nil limiter allows everything.
func (l *Limiter) Attempt(key string) (done func(failed bool), ok bool, after time.Duration) {
	if l == nil {
		return func(bool) {}, true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key, now)
	if free := b.lim.TokensAt(now) - float64(b.pending); free < 1 {
		return nil, false, l.wait(free)
	}
	b.pending++
	var once sync.Once
	return func(failed bool) {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			b.pending--
			if failed {
				now := l.now()
				b.lim.ReserveN(now, 1) // may go into debt: each failure counts
			}
		})
	}, true, 0
}
