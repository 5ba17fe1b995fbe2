package server

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// signinGuard bounds the work and the guesses that secrets invite: argon2id runs
// at once (each takes 19 MiB), failed attempts per client address and per
// account, and API tokens per user (Config.Login*, Token*, Hash*).
type signinGuard struct {
	slots chan struct{} // one per argon2id run at once; nil: no bound
	wait  time.Duration

	addr    *app.Limiter // failed sign-ins, setups, invitation acceptances per client
	account *app.Limiter // failed sign-ins per email tried
	known   *recentSet   // email and client pairs that signed in
	tokens  *app.Limiter // API tokens created per user
}

func newSigninGuard(c *Config) *signinGuard {
	g := &signinGuard{
		wait:    c.HashWait,
		addr:    app.NewLimiter(c.LoginAddrPerMinute, c.LoginAddrBurst, c.now),
		account: app.NewLimiter(c.LoginAccountPerMinute, c.LoginAccountBurst, c.now),
		known:   &recentSet{ttl: c.SessionTTL, max: 10_000, now: c.now},
		tokens:  app.NewLimiter(c.TokenPerMinute, c.TokenBurst, c.now),
	}
	if c.HashConcurrency > 0 {
		g.slots = make(chan struct{}, c.HashConcurrency)
	}
	return g
}

// defaultHashConcurrency is GOMAXPROCS, at most 4: more at once only wait
// for a core while holding their memory.
func defaultHashConcurrency() int {
	return min(4, max(1, runtime.GOMAXPROCS(0)))
}

// hashSlot waits for a turn to run argon2id, for at most Config.HashWait
// and while ctx lasts. It returns the function that ends the turn, or a
// 503 with Retry-After when none came in time.
func (s *Server) hashSlot(ctx context.Context) (release func(), err error) {
	g := s.signin
	if g.slots == nil {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-t.C:
		return nil, unavailable(time.Second, "too many sign-ins at once; try again in a moment")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword is HashPassword in a hashing turn (hashSlot).
func (s *Server) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPasswordWith(s.cfg.argon2, password)
}

// beginAttempt starts one try at a secret by r's client: a password for
// the account of email, or with email "" a setup link or an invitation.
// It refuses with 429 and Retry-After, before any work, when the client's
// address has failed too often, or, for a sign-in from an address that has
// not signed in to this account before, the email has (whether or not it
// has an account, so the answer tells nothing about that). Otherwise done
// must be called once with whether the attempt failed; failures count
// against both limits.
func (s *Server) beginAttempt(r *http.Request, email string) (done func(failed bool), err error) {
	client := clientKey(s.clientAddr(r))
	doneAddr, ok, after := s.signin.addr.Attempt(client)
	if !ok {
		return nil, rateLimited(after, "too many failed attempts from this address; try again in %s", waitText(after))
	}
	if email == "" || s.signin.known.has(knownKey(email, client)) {
		return doneAddr, nil
	}
	doneAccount, ok, after := s.signin.account.Attempt(accountKey(email))
	if !ok {
		doneAddr(false)
		return nil, rateLimited(after, "too many failed sign-ins for this email address; try again in %s", waitText(after))
	}
	return func(failed bool) {
		doneAddr(failed)
		doneAccount(failed)
	}, nil
}

// signedIn remembers that r's client signed in to the account of email:
// failed sign-ins for it from elsewhere no longer keep this client out.
func (s *Server) signedIn(r *http.Request, email string) {
	s.signin.known.add(knownKey(email, clientKey(s.clientAddr(r))))
}

// accountKey is the per-account limit's key for an email as typed: a hash,
// so that long emails cost no memory, of its trimmed lower-case form.
func accountKey(email string) string {
	return hashSecret(strings.ToLower(strings.TrimSpace(email)))
}

func knownKey(email, client string) string { return accountKey(email) + " " + client }

// limitTokenCreate refuses with 429 when the signed-in user has created
// API tokens too fast.
func (s *Server) limitTokenCreate(r *http.Request) error {
	u := userFrom(r.Context())
	if u == nil {
		return nil
	}
	if ok, after := s.signin.tokens.Allow(idString(u.ID)); !ok {
		return rateLimited(after, "too many API tokens created; try again in %s", waitText(after))
	}
	return nil
}

// recentSet remembers keys for ttl, at most max of them: when full, the
// expired ones and then the oldest are forgotten. It is safe for
// concurrent use.
type recentSet struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]time.Time
}

func (rs *recentSet) add(key string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	now := rs.now()
	if rs.m == nil {
		rs.m = map[string]time.Time{}
	}
	if _, ok := rs.m[key]; !ok && len(rs.m) >= rs.max {
		var oldest string
		var at time.Time
		for k, t := range rs.m {
			if now.Sub(t) >= rs.ttl {
				delete(rs.m, k)
			} else if oldest == "" || t.Before(at) {
				oldest, at = k, t
			}
		}
		if len(rs.m) >= rs.max {
			delete(rs.m, oldest)
		}
	}
	rs.m[key] = now
}

func (rs *recentSet) has(key string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	t, ok := rs.m[key]
	return ok && rs.now().Sub(t) < rs.ttl
}

// errWrongLogin is the one answer to a wrong email or password.
func errWrongLogin() error {
	return parley.Errorf(parley.EUNAUTHORIZED, "wrong email or password")
}
