package server_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/server"
)

// behindProxy is an env whose loopback peer is a trusted proxy, so that
// X-Forwarded-For gives each request the client address a test chooses.
func envBehindProxy(t *testing.T, cfg server.Config, now ...func() time.Time) *env {
	t.Helper()
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	o := &envOptions{cfg: cfg}
	if len(now) > 0 {
		o.app.Now = now[0]
	}
	return newEnv(t, o)
}

// post sends a JSON body as the client at addr would, through the proxy.
func (e *env) post(addr, path, body string) response {
	e.t.Helper()
	c := &client{e: e, hc: &http.Client{Timeout: 30 * time.Second}}
	return c.do("POST", path, body, map[string]string{"X-Forwarded-For": addr})
}

func signInBody(email, password string) string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
}

// wantLimited fails unless res is a 429 with a Retry-After of whole seconds.
func wantLimited(t *testing.T, res response, what string) {
	t.Helper()
	secs, err := strconv.Atoi(res.header.Get("Retry-After"))
	if res.status != http.StatusTooManyRequests || err != nil || secs < 1 {
		t.Fatalf("%s: status=%d Retry-After=%q body=%s, want 429 with Retry-After", what, res.status, res.header.Get("Retry-After"), res.body)
	}
}

// TestSignInGuessingFromOneAddress: 30 wrong passwords in a row from one
// address get 429 with Retry-After from the 11th on, and the refused ones
// hash nothing; other addresses are unaffected, and someone who mistypes a
// few times signs in.
func TestSignInGuessingFromOneAddress(t *testing.T) {
	var cfg server.Config
	runs, _ := server.CountHashes(&cfg, nil)
	// The clock stands still: on a slow machine the guesses take long
	// enough for the bucket to refill between them.
	clock := &fakeClock{t: time.Now()}
	e := envBehindProxy(t, cfg, clock.Now)
	const attacker = "203.0.113.7"
	firstLimited := 0
	for i := 1; i <= 30; i++ {
		before := runs.Load()
		res := e.post(attacker, "/api/v1/session", signInBody("admin@example.com", fmt.Sprint("guess ", i)))
		if res.status == http.StatusUnauthorized {
			if firstLimited > 0 {
				t.Fatalf("attempt %d: 401 after a 429", i)
			}
			continue
		}
		wantLimited(t, res, fmt.Sprintf("attempt %d", i))
		if firstLimited == 0 {
			firstLimited = i
		}
		if n := runs.Load() - before; n != 0 {
			t.Fatalf("attempt %d: refused, but ran argon2id %d times", i, n)
		}
	}
	if firstLimited == 0 || firstLimited > 11 {
		t.Fatalf("first 429 at attempt %d, want by the 11th", firstLimited)
	}
	// Even the right password: this address is over its limit.
	wantLimited(t, e.post(attacker, "/api/v1/session", signInBody("admin@example.com", testPassword)), "attacker with the right password")

	if res := e.post("198.51.100.9", "/api/v1/session", signInBody("admin@example.com", testPassword)); res.status != 200 {
		t.Fatalf("another address: status=%d body=%s, want 200", res.status, res.body)
	}
	const typist = "198.51.100.10"
	for i := range 3 {
		if res := e.post(typist, "/api/v1/session", signInBody("admin@example.com", fmt.Sprint("typo ", i))); res.status != 401 {
			t.Fatalf("typo %d: status=%d, want 401", i, res.status)
		}
	}
	if res := e.post(typist, "/api/v1/session", signInBody("admin@example.com", testPassword)); res.status != 200 {
		t.Fatalf("right password after typos: status=%d body=%s, want 200", res.status, res.body)
	}
}

// TestSignInGuessingAcrossAddresses: guesses at one account from a new
// address each are limited per account too, with the same answer for an
// email without an account. Where the owner signed in before, they still
// sign in; a new address waits until the account's bucket refills.
func TestSignInGuessingAcrossAddresses(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	e := envBehindProxy(t, server.Config{}, now)
	const home = "192.0.2.1"
	if res := e.post(home, "/api/v1/session", signInBody("admin@example.com", testPassword)); res.status != 200 {
		t.Fatalf("owner's first sign-in: %d %s", res.status, res.body)
	}
	for _, email := range []string{"admin@example.com", "nobody@example.com"} {
		firstLimited := 0
		for i := 1; i <= 25 && firstLimited == 0; i++ {
			addr := fmt.Sprintf("10.%d.0.%d", len(email), i)
			res := e.post(addr, "/api/v1/session", signInBody(email, fmt.Sprint("guess ", i)))
			if res.status == http.StatusTooManyRequests {
				wantLimited(t, res, email)
				firstLimited = i
			} else if res.status != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: status=%d, want 401 or 429", email, i, res.status)
			}
		}
		if firstLimited != 21 {
			t.Fatalf("%s: first 429 at attempt %d, want 21 (after the account's burst of 20)", email, firstLimited)
		}
	}
	if res := e.post(home, "/api/v1/session", signInBody("admin@example.com", testPassword)); res.status != 200 {
		t.Fatalf("owner at home during the attack: status=%d body=%s, want 200", res.status, res.body)
	}
	wantLimited(t, e.post("192.0.2.99", "/api/v1/session", signInBody("admin@example.com", testPassword)), "owner on a new address during the attack")
	clock.Add(int64(61 * time.Second))
	if res := e.post("192.0.2.99", "/api/v1/session", signInBody("admin@example.com", testPassword)); res.status != 200 {
		t.Fatalf("owner on a new address a minute after the attack: status=%d body=%s, want 200", res.status, res.body)
	}
}

// TestSignInHashingBounded: 40 concurrent wrong sign-ins run at most
// HashConcurrency argon2id hashes at once; when the turns do not come
// within HashWait, the rest get 503 with Retry-After instead of waiting.
func TestSignInHashingBounded(t *testing.T) {
	const n = 40
	noLimits := server.Config{LoginAddrBurst: -1, LoginAccountBurst: -1, HashConcurrency: 2, HashWait: time.Minute}
	send := func(e *env, statuses chan<- response) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.base+"/api/v1/session", strings.NewReader(signInBody("admin@example.com", fmt.Sprint("wrong ", i))))
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- response{}
					return
				}
				res.Body.Close()
				statuses <- response{status: res.StatusCode, header: res.Header}
			}()
		}
		wg.Wait()
	}

	t.Run("all wait their turn", func(t *testing.T) {
		cfg := noLimits
		runs, peak := server.CountHashes(&cfg, nil)
		e := newEnv(t, &envOptions{cfg: cfg})
		runs.Store(0)
		statuses := make(chan response, n)
		send(e, statuses)
		for range n {
			if res := <-statuses; res.status != 401 {
				t.Fatalf("status=%d, want 401", res.status)
			}
		}
		if runs.Load() != n || peak.Load() > 2 {
			t.Fatalf("%d argon2id runs, %d at once; want %d, at most 2", runs.Load(), peak.Load(), n)
		}
	})
	t.Run("busy is refused", func(t *testing.T) {
		release := make(chan struct{})
		var armed atomic.Bool // not while newEnv hashes the admin's password
		cfg := noLimits
		cfg.HashWait = 50 * time.Millisecond
		runs, peak := server.CountHashes(&cfg, func() {
			if armed.Load() {
				<-release
			}
		})
		e := newEnv(t, &envOptions{cfg: cfg})
		runs.Store(0)
		armed.Store(true)
		statuses := make(chan response, n)
		go send(e, statuses)
		// Two hold their turns until 38 have been refused.
		for range n - 2 {
			var res response
			select {
			case res = <-statuses:
			case <-time.After(30 * time.Second):
				close(release)
				t.Fatal("no answer in 30s: the sign-ins pile up waiting for argon2id")
			}
			if res.status != 503 || res.header.Get("Retry-After") == "" {
				t.Errorf("status=%d Retry-After=%q, want 503 with Retry-After", res.status, res.header.Get("Retry-After"))
			}
		}
		close(release)
		for range 2 {
			if res := <-statuses; res.status != 401 {
				t.Errorf("status=%d, want 401", res.status)
			}
		}
		if runs.Load() != 2 || peak.Load() != 2 {
			t.Fatalf("%d argon2id runs, %d at once; want 2", runs.Load(), peak.Load())
		}
	})
}

// TestSetupGuessing: wrong setup links from one address get 429 from the
// 11th on, without hashing, and the right link still works from elsewhere.
func TestSetupGuessing(t *testing.T) {
	var cfg server.Config
	runs, _ := server.CountHashes(&cfg, nil)
	clock := &fakeClock{t: time.Now()} // no refill between the guesses
	e := envBehindProxy(t, cfg, clock.Now)
	token, err := server.NewSetupToken(t.Context(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	runs.Store(0)
	body := func(token string) string {
		return fmt.Sprintf(`{"token":%q,"email":"new@example.com","password":%q}`, token, testPassword)
	}
	for i := 1; i <= 10; i++ {
		if res := e.post("203.0.113.7", "/api/v1/setup", body(fmt.Sprint("setup_guess", i))); res.status != 403 {
			t.Fatalf("guess %d: status=%d, want 403", i, res.status)
		}
	}
	wantLimited(t, e.post("203.0.113.7", "/api/v1/setup", body(token)), "11th setup from the guesser")
	if n := runs.Load(); n != 0 {
		t.Fatalf("wrong and refused setups ran argon2id %d times", n)
	}
	if res := e.post("198.51.100.9", "/api/v1/setup", body(token)); res.status != 201 {
		t.Fatalf("setup from another address: status=%d body=%s, want 201", res.status, res.body)
	}
}

// TestInviteGuessing: wrong invitation links from one address get 429
// from the 11th on; another address accepts its invitation.
func TestInviteGuessing(t *testing.T) {
	clock := &fakeClock{t: time.Now()} // no refill between the guesses
	e := envBehindProxy(t, server.Config{}, clock.Now)
	var inv struct{ URL string }
	e.login("admin@example.com").want(201, "POST", "/api/v1/invites", map[string]any{"email": "new@example.com", "role": "agent"}).decode(t, &inv)
	token := strings.TrimPrefix(inv.URL, e.base+"/invite?token=")
	body := func(token string) string { return fmt.Sprintf(`{"token":%q,"password":%q}`, token, testPassword) }
	for i := 1; i <= 10; i++ {
		if res := e.post("203.0.113.7", "/api/v1/invites/accept", body(fmt.Sprint("pi_guess", i))); res.status != 404 {
			t.Fatalf("guess %d: status=%d, want 404", i, res.status)
		}
	}
	wantLimited(t, e.post("203.0.113.7", "/api/v1/invites/accept", body(token)), "11th acceptance from the guesser")
	if res := e.post("198.51.100.9", "/api/v1/invites/accept", body(token)); res.status != 201 {
		t.Fatalf("accept from another address: status=%d body=%s, want 201", res.status, res.body)
	}
}

// TestTokenCreateLimit: a user who creates API tokens in a loop gets 429
// after the burst of 10; another user still creates theirs.
func TestTokenCreateLimit(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("bo@example.com", true)
	admin, bo := e.login("admin@example.com"), e.login("bo@example.com")
	for i := 1; i <= 10; i++ {
		admin.want(201, "POST", "/api/v1/tokens", map[string]string{"name": fmt.Sprint("t", i)})
	}
	wantLimited(t, admin.do("POST", "/api/v1/tokens", map[string]string{"name": "t11"}, nil), "11th token")
	bo.want(201, "POST", "/api/v1/tokens", map[string]string{"name": "mine"})
}

// TestLegitimateUseNotLimited: signing in again and again with the odd
// typo, creating a few tokens and a working day's API calls are never
// refused.
func TestLegitimateUseNotLimited(t *testing.T) {
	e := newEnv(t, nil)
	var c *client
	for i := range 8 {
		if i%3 == 0 {
			anon := &client{e: e, hc: e.ts.Client()}
			anon.want(401, "POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "typo typo typo"})
		}
		c = e.login("admin@example.com")
	}
	for i := range 3 {
		c.want(201, "POST", "/api/v1/tokens", map[string]string{"name": fmt.Sprint("script ", i)})
	}
	for i := range 300 {
		if res := c.do("GET", "/api/v1/users/me", nil, nil); res.status != 200 {
			t.Fatalf("call %d: status=%d body=%s", i, res.status, res.body)
		}
	}
}
