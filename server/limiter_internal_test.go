package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestKeyedLimiterReserve: a reserved token counts like an allowed one
// until it is given back.
// TestVisitorLimitsTakeNew: a new visitor's first message costs a visitor
// and a conversation, both or neither; a switched-off limit costs nothing.
func TestVisitorLimitsTakeNew(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newVisitorLimits(&Config{NewVisitorsPerIP: 2, NewConversationsPerIP: 1, now: func() time.Time { return now }})
	if err := l.takeNew("a", true, true); err != nil {
		t.Fatal(err)
	}
	// The conversation is used up: the visitor it would cost is given back.
	if err := l.takeNew("a", true, true); err == nil {
		t.Fatal("second conversation allowed")
	} else if secs, _ := retryAfter(err); secs != 60 {
		t.Errorf("Retry-After=%d, want 60", secs)
	}
	if err := l.takeNew("a", true, false); err != nil {
		t.Fatalf("the second visitor: %v", err)
	}
	if err := l.takeNew("a", true, false); err == nil {
		t.Fatal("third visitor allowed")
	}
	off := newVisitorLimits(&Config{NewVisitorsPerIP: -1, NewConversationsPerIP: -1, VisitorConnsPerIP: -1})
	for range 1000 {
		if err := off.takeNew("a", true, true); err != nil {
			t.Fatal(err)
		}
		if _, ok := off.conns.acquire("a"); !ok {
			t.Fatal("connections limited with the limit off")
		}
	}
}

func TestConnCounter(t *testing.T) {
	c := connCounter{max: 2}
	r1, ok1 := c.acquire("x")
	_, ok2 := c.acquire("x")
	_, ok3 := c.acquire("x")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("acquire: %v %v %v, want true true false", ok1, ok2, ok3)
	}
	r1()
	r1() // a second release is a no-op
	if _, ok := c.acquire("x"); !ok {
		t.Fatal("acquire after a release refused")
	}
	if _, ok := c.acquire("x"); ok {
		t.Fatal("a double release freed two slots")
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{TrustedProxies: proxies}}
	for _, tc := range []struct {
		name, peer, xff, want string
	}{
		{"direct", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:443", "198.51.100.1", "198.51.100.1"},
		{"client-chosen prefix skipped", "10.1.2.3:443", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "[::1]:443", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbled hop", "10.1.2.3:443", "nonsense", "10.1.2.3"},
		{"only proxies", "10.1.2.3:443", "10.0.0.1", "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := s.clientAddr(r).String(); got != tc.want {
				t.Errorf("clientAddr=%s, want %s", got, tc.want)
			}
		})
	}
	if got := clientKey(netip.MustParseAddr("2001:db8::1")); got != "2001:db8::/64" {
		t.Errorf("clientKey(v6)=%s, want its /64", got)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,bogus"); err == nil {
		t.Error("ParseTrustedProxies accepted bogus")
	}
}

// TestKeyedLimiterAttempt: attempts under way hold their tokens, so no
// more can begin than the bucket has; a success gives its token back, a
// failure takes it.
