package parley

import (
	"slices"
	"time"
)

// Candidate is one user whom routing may give a conversation to: an active
// member of the conversation's inbox, as routing sees them now.
type Candidate struct {
	UserID      uint64
	RoutingSeat bool     // only seat holders receive (I1)
	Available   bool     // online and not away (AgentState.Available)
	TeamIDs     []uint64 // teams the user is a member of, for mode "teams"
	// Open is the number of open conversations assigned to the user now.
	Open int
	// LastAssignedAt is when routing last gave the user a conversation;
	// zero if never.
	LastAssignedAt time.Time
	// Limit caps the user's open conversations for routing; 0 is no cap. The
	// lower of Limit and Routing.MaxOpenPerAgent applies.
	Limit int
}

// canTake reports whether c may receive one more conversation under r.
func (c Candidate) canTake(r Routing) bool {
	if !c.RoutingSeat || !c.Available {
		return false
	}
	limit := c.Limit
	if r.MaxOpenPerAgent > 0 && (limit == 0 || r.MaxOpenPerAgent < limit) {
		limit = r.MaxOpenPerAgent
	}
	return limit == 0 || c.Open < limit
}

// ChooseAgent decides who gets a new conversation (W6, E3): the user id
// routing r picks among candidates, for a contact owned by ownerID (0 for
// none), or 0 when nobody can receive it now, in which case the
// conversation waits unassigned.
//
// Only routing-seat holders who are available and below the limit of open
// conversations (MaxOpenPerAgent, Candidate.Limit) receive. The modes:
//
//   - "users": the candidates among r.UserIDs;
//   - "teams": the candidates in any of r.TeamIDs;
//   - "owner": the contact's owner if they can receive; otherwise (no
//     owner, or the owner is away, offline, without a seat or at the limit)
//     r.FallbackUserID if they can; otherwise nobody, as HubSpot does;
//   - "none": nobody, ever: the conversation waits in the inbox;
//   - "inbox" (and empty): every candidate.
//
// Among several, the one with the fewest open conversations wins; ties go to
// the one whose last routed conversation is the oldest (never first), then
// to the lowest user id, so the choice is deterministic.
func ChooseAgent(r Routing, candidates []Candidate, ownerID uint64) uint64 {
	find := func(id uint64) (Candidate, bool) {
		i := slices.IndexFunc(candidates, func(c Candidate) bool { return c.UserID == id })
		if id == 0 || i < 0 {
			return Candidate{}, false
		}
		return candidates[i], true
	}
	var pool []Candidate
	switch r.Mode {
	case RoutingNone:
		return 0
	case RoutingOwner:
		for _, id := range []uint64{ownerID, r.FallbackUserID} {
			if c, ok := find(id); ok && c.canTake(r) {
				return id
			}
		}
		return 0
	case RoutingUsers:
		for _, c := range candidates {
			if slices.Contains(r.UserIDs, c.UserID) {
				pool = append(pool, c)
			}
		}
	case RoutingTeams:
		for _, c := range candidates {
			if slices.ContainsFunc(r.TeamIDs, func(id uint64) bool { return slices.Contains(c.TeamIDs, id) }) {
				pool = append(pool, c)
			}
		}
	default:
		pool = candidates
	}
	var best *Candidate
	for i := range pool {
		c := &pool[i]
		if !c.canTake(r) {
			continue
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best == nil {
		return 0
	}
	return best.UserID
}

func better(a, b *Candidate) bool {
	if a.Open != b.Open {
		return a.Open < b.Open
	}
	if !a.LastAssignedAt.Equal(b.LastAssignedAt) {
		return a.LastAssignedAt.Before(b.LastAssignedAt)
	}
	return a.UserID < b.UserID
}

// Limits of routing settings.
const MaxRoutingTargets = 100 // users or teams one routing names

// ValidateRouting checks routing settings as an admin saves them (W6): a
// known mode (empty is "inbox"), at least one user for "users" and one team
// for "teams", at most MaxRoutingTargets of each, and a limit that is not
// negative. Whether the ids exist is the caller's to check. It returns
// EINVALID naming the field.
func ValidateRouting(r Routing) error {
	switch r.Mode {
	case "", RoutingUsers, RoutingTeams, RoutingOwner, RoutingNone, RoutingInbox:
	default:
		return Errorf(EINVALID, "routing.mode must be users, teams, owner, none or inbox")
	}
	if r.Mode == RoutingUsers && len(r.UserIDs) == 0 {
		return Errorf(EINVALID, "routing.userIds needs at least one user in mode users")
	}
	if r.Mode == RoutingTeams && len(r.TeamIDs) == 0 {
		return Errorf(EINVALID, "routing.teamIds needs at least one team in mode teams")
	}
	if len(r.UserIDs) > MaxRoutingTargets || len(r.TeamIDs) > MaxRoutingTargets {
		return Errorf(EINVALID, "routing names at most %d users and %d teams", MaxRoutingTargets, MaxRoutingTargets)
	}
	if r.MaxOpenPerAgent < 0 {
		return Errorf(EINVALID, "routing.maxOpenPerAgent must not be negative")
	}
	return nil
}

// EventReassignedAway is the system event recorded on a thread when a
// visitor's reply was reassigned because its assignee is away and has
// ReassignWhileAway on (I10). Message.Text says who to whom; the
// ASSIGNMENT that follows it in the same commit records the change.
const EventReassignedAway = "reassigned_away"
