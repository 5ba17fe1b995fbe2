// Package storetest holds the storage contract's tests, written only against
// the interfaces of package parley (stores.go), so that every store runs the
// same cases: package store over bbolt, package pgstore over PostgreSQL.
// Each Run function takes open, which returns a new empty store whose clock
// is now.
//
// Where the stores could differ the suite pins one behaviour for both:
//   - Emails compare by strings.ToLower: Unicode simple lower case, so
//     "ÄDA" and "äda" or the Kelvin sign and "k" are one email, while "ß"
//     and "ss" are two.
//   - NUL bytes are data like any other, in keys (emails, hashes, meta
//     keys) and in values: stored and found as given, and "a\x00" is not
//     "a".
//   - Keys longer than parley.MaxKeyLen bytes are EINVALID naming the key.
package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// Stores is what the suite tests so far: the areas every store under test
// implements.
type Stores interface {
	parley.MetaStore
	parley.UserStore
	parley.SessionStore
	parley.InviteStore
	parley.TeamStore
	parley.InboxStore
	parley.AuditStore
	parley.WidgetStore
}

// Open returns a new empty store that reads the time from now; it closes the
// store when t ends.
type Open func(t *testing.T, now func() time.Time) Stores

// Run runs every case of the suite, each in parallel on a store of its own.
func Run(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, Open)
	}{
		{"Meta", RunMeta},
		{"ClaimMeta", RunClaimMeta},
		{"Users", RunUsers},
		{"UpdateUser", RunUpdateUser},
		{"UpdateUserAccess", RunUpdateUserAccess},
		{"Sessions", RunSessions},
		{"Tokens", RunTokens},
		{"Invites", RunInvites},
		{"AcceptInvite", RunAcceptInvite},
		{"Teams", RunTeams},
		{"Inboxes", RunInboxes},
		{"InboxAddresses", RunInboxAddresses},
		{"DeleteInbox", RunDeleteInbox},
		{"HostileEmails", RunHostileEmails},
		{"Metacharacters", RunMetacharacters},
		{"NULBytes", RunNULBytes},
		{"Oversized", RunOversized},
		{"ConcurrentWrites", RunConcurrentWrites},
		{"AuditNotes", RunAuditNotes},
		{"AuditPaging", RunAuditPaging},
		{"AuditSince", RunAuditSince},
		{"AuditPart", RunAuditPart},
		{"AuditHostile", RunAuditHostile},
		{"Widgets", RunWidgets},
		{"WidgetAudience", RunWidgetAudience},
		{"DeleteInboxWidgets", RunDeleteInboxWidgets},
		{"WidgetAudit", RunWidgetAudit},
		{"WidgetHostile", RunWidgetHostile},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// clock is a settable clock for a store.
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
