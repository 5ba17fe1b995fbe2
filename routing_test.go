package parley_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestChooseAgent(t *testing.T) {
	t0 := utc("2026-06-15T10:00:00Z")
	c := func(id uint64, open int, last time.Time) parley.Candidate {
		return parley.Candidate{UserID: id, RoutingSeat: true, Available: true, Open: open, LastAssignedAt: last}
	}
	awayC := func(id uint64) parley.Candidate { return parley.Candidate{UserID: id, RoutingSeat: true} }
	noSeat := func(id uint64) parley.Candidate { return parley.Candidate{UserID: id, Available: true} }
	inTeam := func(cd parley.Candidate, teams ...uint64) parley.Candidate { cd.TeamIDs = teams; return cd }
	limited := func(cd parley.Candidate, n int) parley.Candidate { cd.Limit = n; return cd }
	inbox := parley.Routing{Mode: parley.RoutingInbox}
	tests := []struct {
		name       string
		routing    parley.Routing
		candidates []parley.Candidate
		owner      uint64
		want       uint64
	}{
		{"fewest open wins", inbox, []parley.Candidate{c(1, 3, time.Time{}), c(2, 1, t0), c(3, 2, time.Time{})}, 0, 2},
		{"tie: longest since last assignment", inbox, []parley.Candidate{c(1, 1, t0), c(2, 1, t0.Add(-time.Hour)), c(3, 1, t0.Add(time.Minute))}, 0, 2},
		{"tie: never assigned first", inbox, []parley.Candidate{c(1, 1, t0), c(2, 1, time.Time{})}, 0, 2},
		{"tie on everything: lowest id", inbox, []parley.Candidate{c(3, 0, t0), c(2, 0, t0)}, 0, 2},
		{"empty mode is inbox", parley.Routing{}, []parley.Candidate{c(4, 0, t0)}, 0, 4},
		{"away and offline never receive", inbox, []parley.Candidate{awayC(1), c(2, 9, t0)}, 0, 2},
		{"no seat never receives", inbox, []parley.Candidate{noSeat(1), c(2, 9, t0)}, 0, 2},
		{"nobody available", inbox, []parley.Candidate{awayC(1), noSeat(2)}, 0, 0},
		{"no candidates", inbox, nil, 0, 0},
		{"limit of the widget", parley.Routing{MaxOpenPerAgent: 2}, []parley.Candidate{c(1, 2, time.Time{}), c(2, 5, time.Time{})}, 0, 0},
		{"limit of the widget leaves room", parley.Routing{MaxOpenPerAgent: 2}, []parley.Candidate{c(1, 2, time.Time{}), c(2, 1, t0)}, 0, 2},
		{"limit of the agent", inbox, []parley.Candidate{limited(c(1, 1, time.Time{}), 1), c(2, 4, t0)}, 0, 2},
		{"the lower limit applies", parley.Routing{MaxOpenPerAgent: 5}, []parley.Candidate{limited(c(1, 2, time.Time{}), 2)}, 0, 0},
		{"the widget's lower limit applies", parley.Routing{MaxOpenPerAgent: 2}, []parley.Candidate{limited(c(1, 2, time.Time{}), 5), c(2, 3, t0)}, 0, 0},
		{"below both limits", parley.Routing{MaxOpenPerAgent: 5}, []parley.Candidate{limited(c(1, 2, time.Time{}), 3), c(2, 3, t0)}, 0, 1},
		{"agent at their limit: a teammate with more open", inbox, []parley.Candidate{limited(c(1, 1, time.Time{}), 1), limited(c(2, 2, t0), 3)}, 0, 2},
		{"every agent at their limit: nobody", inbox, []parley.Candidate{limited(c(1, 1, t0), 1), limited(c(2, 2, t0), 2)}, 0, 0},
		{"users: the named at their limit", parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{1}}, []parley.Candidate{limited(c(1, 4, t0), 4), c(2, 0, t0)}, 0, 0},
		{"owner at their own limit: fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{limited(c(1, 3, t0), 3), c(2, 5, time.Time{})}, 1, 2},
		{"users: only the named", parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{2, 3}}, []parley.Candidate{c(1, 0, time.Time{}), c(2, 4, t0), c(3, 3, t0)}, 0, 3},
		{"users: named but away", parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{2}}, []parley.Candidate{c(1, 0, time.Time{}), awayC(2)}, 0, 0},
		{"teams: only members", parley.Routing{Mode: parley.RoutingTeams, TeamIDs: []uint64{7}},
			[]parley.Candidate{inTeam(c(1, 0, time.Time{}), 8), inTeam(c(2, 2, t0), 7, 8), inTeam(c(3, 3, t0), 7)}, 0, 2},
		{"owner available", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{c(1, 9, t0), c(2, 0, time.Time{})}, 1, 1},
		{"owner away: fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{awayC(1), c(2, 0, time.Time{})}, 1, 2},
		{"no owner: fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{c(1, 0, t0), c(2, 3, time.Time{})}, 0, 2},
		{"owner not a member: fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{c(2, 3, time.Time{})}, 9, 2},
		{"owner at the limit: fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2, MaxOpenPerAgent: 1}, []parley.Candidate{c(1, 1, t0), c(2, 0, time.Time{})}, 1, 2},
		{"owner and fallback away: nobody", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 2}, []parley.Candidate{awayC(1), awayC(2), c(3, 0, t0)}, 1, 0},
		{"none: nobody even if available", parley.Routing{Mode: parley.RoutingNone}, []parley.Candidate{c(1, 0, t0)}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parley.ChooseAgent(tt.routing, tt.candidates, tt.owner); got != tt.want {
				t.Errorf("chose %d, want %d", got, tt.want)
			}
		})
	}
}

// TestRoutingFairness routes 1,000 conversations among four seat holders,
// one more who is away for the first half, and one without a seat, with a
// limit of open chats. Every routed conversation goes to an available seat
// holder under the limit who had the fewest open conversations. With equal
// conversation lengths the load is shared exactly (spread ≤ 1); with random
// lengths it follows who is busy, and the spread is reported.
func TestRoutingFairness(t *testing.T) {
	const n = 1000
	r := parley.Routing{Mode: parley.RoutingInbox, MaxOpenPerAgent: 4}
	simulate := func(t *testing.T, length func(i int) int) map[uint64]int {
		agents := []parley.Candidate{
			{UserID: 1, RoutingSeat: true, Available: true},
			{UserID: 2, RoutingSeat: true, Available: true},
			{UserID: 3, RoutingSeat: true, Available: true},
			{UserID: 4, RoutingSeat: true, Available: true},
			{UserID: 5, RoutingSeat: true}, // away until conversation 500
			{UserID: 6, Available: true},   // no seat
		}
		ends := map[uint64][]int{} // agent → when each open conversation ends
		assigned := map[uint64]int{}
		waiting := 0
		now := utc("2026-06-15T08:00:00Z")
		for i := range n {
			now = now.Add(time.Minute)
			if i == n/2 {
				agents[4].Available = true
			}
			for j := range agents {
				id := agents[j].UserID
				ends[id] = slices.DeleteFunc(ends[id], func(end int) bool { return end <= i })
				agents[j].Open = len(ends[id])
			}
			got := parley.ChooseAgent(r, agents, 0)
			if got == 0 {
				waiting++
				continue
			}
			a := &agents[slices.IndexFunc(agents, func(c parley.Candidate) bool { return c.UserID == got })]
			if !a.RoutingSeat || !a.Available {
				t.Fatalf("conversation %d went to %d, who cannot receive", i, got)
			}
			if a.Open >= r.MaxOpenPerAgent {
				t.Fatalf("conversation %d went to %d with %d open (limit %d)", i, got, a.Open, r.MaxOpenPerAgent)
			}
			for _, o := range agents {
				if o.RoutingSeat && o.Available && o.Open < a.Open {
					t.Fatalf("conversation %d went to %d with %d open while %d had %d", i, got, a.Open, o.UserID, o.Open)
				}
			}
			a.LastAssignedAt = now
			ends[got] = append(ends[got], i+length(i))
			assigned[got]++
		}
		if assigned[6] != 0 {
			t.Fatalf("the agent without a seat received: %v", assigned)
		}
		if assigned[5] == 0 {
			t.Fatalf("the agent back from away received nothing: %v", assigned)
		}
		lo, hi := n, 0
		for _, id := range []uint64{1, 2, 3, 4} {
			lo, hi = min(lo, assigned[id]), max(hi, assigned[id])
		}
		t.Logf("%d conversations: assigned %v, not routed (all at the limit) %d, spread (max-min) over agents 1-4: %d", n, assigned, waiting, hi-lo)
		assigned[0] = hi - lo
		return assigned
	}
	t.Run("equal lengths", func(t *testing.T) {
		got := simulate(t, func(int) int { return 6 })
		if got[0] > 1 {
			t.Errorf("spread %d, want at most 1", got[0])
		}
	})
	t.Run("random lengths", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		got := simulate(t, func(int) int { return 1 + rng.IntN(24) })
		if got[0] > n/20 {
			t.Errorf("spread %d is over 5%% of the conversations", got[0])
		}
	})
}

func TestValidateRouting(t *testing.T) {
	tests := []struct {
		name string
		r    parley.Routing
		want string
	}{
		{"inbox", parley.Routing{Mode: parley.RoutingInbox}, ""},
		{"empty", parley.Routing{}, ""},
		{"owner with fallback", parley.Routing{Mode: parley.RoutingOwner, FallbackUserID: 3}, ""},
		{"unknown mode", parley.Routing{Mode: "random"}, "routing.mode"},
		{"users without users", parley.Routing{Mode: parley.RoutingUsers}, "routing.userIds"},
		{"teams without teams", parley.Routing{Mode: parley.RoutingTeams}, "routing.teamIds"},
		{"negative limit", parley.Routing{MaxOpenPerAgent: -1}, "maxOpenPerAgent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateRouting(tt.r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Errorf("err=%v, want EINVALID about %q", err, tt.want)
			}
		})
	}
}

func TestValidateMaxOpenChats(t *testing.T) {
	tests := []struct {
		name string
		n    int
		ok   bool
	}{
		{"no limit", 0, true},
		{"one", 1, true},
		{"the highest", parley.MaxOpenChatsLimit, true},
		{"negative", -1, false},
		{"above the highest", parley.MaxOpenChatsLimit + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateMaxOpenChats(tt.n)
			if got := err == nil; got != tt.ok {
				t.Fatalf("ValidateMaxOpenChats(%d)=%v, want ok=%v", tt.n, err, tt.ok)
			}
			if err != nil && (parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(err.Error(), "maxOpenChats")) {
				t.Errorf("err=%v, want EINVALID naming maxOpenChats", err)
			}
		})
	}
}
