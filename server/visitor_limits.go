package server

import (
	"time"

	"github.com/parley-chat/parley/app"
)

// Per-address limits on what the widget's public endpoints let anyone do
// (Config.VisitorConnsPerIP, NewVisitorsPerIP, NewConversationsPerIP). They
// count by clientKey(s.clientAddr(r)): behind a reverse proxy that is only
// right with Config.TrustedProxies set.
const (
	defaultVisitorConnsPerIP     = 100
	defaultNewVisitorsPerIP      = 60
	defaultNewConversationsPerIP = 30

	// connsRetryAfter is the Retry-After of a status stream refused for too
	// many connections: nobody knows when one of the others ends.
	connsRetryAfter = 30 * time.Second
)

// visitorLimits holds the per-address limits of the widget's endpoints. A
// nil limiter is a limit switched off.
type visitorLimits struct {
	conns         connCounter  // visitor sockets and status streams at once
	visitors      *app.Limiter // new visitors (contacts) a minute
	conversations *app.Limiter // new chat conversations a minute
}

func newVisitorLimits(cfg *Config) *visitorLimits {
	l := &visitorLimits{conns: connCounter{max: cfg.VisitorConnsPerIP}}
	// The whole minute's allowance may come at once, then it refills
	// evenly: a burst of visitors from one office is still served. A
	// negative limit (switched off) gives a nil limiter.
	perMinute := func(n int) *app.Limiter { return app.NewLimiter(float64(n), n, cfg.now) }
	l.visitors = perMinute(cfg.NewVisitorsPerIP)
	l.conversations = perMinute(cfg.NewConversationsPerIP)
	return l
}

// tooManyConns is the reason for refusing of a visitor socket or status stream over
// Config.VisitorConnsPerIP.
const tooManyConns = "too many connections from this address"

// takeNew takes what a visitor's action costs from the address key's
// limits: a new visitor when newVisitor, a new conversation when
// newConversation. It takes both or neither, and returns ERATELIMIT (with a
// Retry-After) when one of them is used up; then nothing may be stored.
func (l *visitorLimits) takeNew(key string, newVisitor, newConversation bool) error {
	undo := func() {}
	if newVisitor {
		u, ok, after := l.visitors.Reserve(key)
		if !ok {
			return rateLimited(after, "too many new visitors from this address; try again in %s", waitText(after))
		}
		undo = u
	}
	if newConversation {
		if ok, after := l.conversations.Allow(key); !ok {
			undo()
			return rateLimited(after, "too many new conversations from this address; try again in %s", waitText(after))
		}
	}
	return nil
}
