package server

import (
	"context"
	"errors"
	"sync"

	"github.com/parley-chat/parley"
)

// router serialises routing: one decision and its commit at a time, so that
// the open counts a decision reads are those of the previous commit and two
// conversations never both go to the agent who had room for one.
type router struct {
	mu   sync.Mutex
	kick chan struct{} // asks routeWaiting to drain the queue; buffer of one
}

func newRouter() *router { return &router{kick: make(chan struct{}, 1)} }

// errNotRoutable aborts a routing commit whose thread changed meanwhile.
var errNotRoutable = errors.New("thread is no longer routable")

// routeThread gives thread t to an agent per its widget's routing (W6) when
// one can receive it now, and otherwise leaves it waiting unassigned in the
// routing queue, from which it is routed, oldest first, as soon as someone
// can receive it. The assignment is an ASSIGNMENT event by the system actor,
// committed with the thread's leaving the queue, then published. A thread
// that is closed, assigned, owned by a bot, filtered, or whose widget routes
// to no one is left as it is. It returns the thread as it is afterwards.
func (s *Server) routeThread(ctx context.Context, t *parley.Thread) (*parley.Thread, error) {
	return s.routeThreadWith(ctx, t, nil)
}

// routeThreadWith is routeThread with routing r instead of the widget's (nil
// for the widget's): a bot handing off to a team or a user. A waiting
// conversation keeps r in the queue.
func (s *Server) routeThreadWith(ctx context.Context, t *parley.Thread, r *parley.Routing) (*parley.Thread, error) {
	ctx = context.WithoutCancel(ctx)
	s.routing.mu.Lock()
	defer s.routing.mu.Unlock()
	return s.routeLocked(ctx, t.ID, r, 0, true)
}

// routeLocked routes thread id with r (nil: its widget's). from, when not
// 0, is the away assignee whose conversation is reassigned. queue puts the
// thread in the queue when nobody can receive it. Callers hold routing.mu.
func (s *Server) routeLocked(ctx context.Context, id uint64, r *parley.Routing, from uint64, queue bool) (*parley.Thread, error) {
	t, err := s.db.Thread(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, s.db.Dequeue(ctx, id)
	} else if err != nil {
		return nil, err
	}
	routing, ok, err := s.routingOf(ctx, t, r)
	if err != nil {
		return t, err
	}
	if !ok || !routable(t, from) {
		if from == 0 {
			return t, s.db.Dequeue(ctx, t.ID)
		}
		return t, nil
	}
	cands, err := s.routingCandidates(ctx, t)
	if err != nil {
		return t, err
	}
	var owner uint64
	if routing.Mode == parley.RoutingOwner && t.ContactID != 0 {
		if c, err := s.db.Contact(ctx, t.ContactID); err == nil {
			owner = c.OwnerID
		}
	}
	chosen := parley.ChooseAgent(routing, cands, owner)
	if chosen == 0 || chosen == from {
		if queue && from == 0 {
			return t, s.db.Enqueue(ctx, t.ID, r)
		}
		return t, nil
	}
	return s.commitRoute(ctx, t, chosen, from)
}

// routingOf returns the routing for t: r, or its widget's. ok is false when
// nothing routes it: no widget (deleted, or not a chat) and no r, or mode
// "none".
func (s *Server) routingOf(ctx context.Context, t *parley.Thread, r *parley.Routing) (parley.Routing, bool, error) {
	if r != nil {
		return *r, r.Mode != parley.RoutingNone, nil
	}
	if t.ChannelID != parley.ChannelChat {
		return parley.Routing{}, false, nil
	}
	w, err := s.db.Widget(ctx, t.ChannelAccountID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.Routing{}, false, nil
	} else if err != nil {
		return parley.Routing{}, false, err
	}
	return w.Routing, w.Routing.Mode != parley.RoutingNone, nil
}

// routable reports whether t may be routed now: open, in the main views,
// not a bot's, and unassigned (or, for a reassignment, still assigned to
// from).
func routable(t *parley.Thread, from uint64) bool {
	return t.Status == parley.StatusOpen && !t.Archived && !t.IsFiltered() && t.Owner != parley.OwnerBot && t.AssigneeID == from
}

// routingCandidates lists the active members of t's inbox as routing sees
// them now.
func (s *Server) routingCandidates(ctx context.Context, t *parley.Thread) ([]parley.Candidate, error) {
	members, err := s.memberStates(ctx, t.InboxID)
	if err != nil {
		return nil, err
	}
	open, err := s.db.OpenAssigned(ctx, t.ChannelID)
	if err != nil {
		return nil, err
	}
	last, err := s.db.LastRouted(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]parley.Candidate, 0, len(members))
	for _, m := range members {
		out = append(out, parley.Candidate{UserID: m.UserID, RoutingSeat: m.RoutingSeat, Available: m.Available(),
			TeamIDs: m.TeamIDs, Open: open[m.UserID], LastAssignedAt: last[m.UserID], Limit: m.MaxOpenChats})
	}
	return out, nil
}

// commitRoute assigns t to user to, by the system actor, in one commit with
// leaving the queue (and, when from is set, the note saying why it moved),
// then publishes. If t changed meanwhile so that it is no longer routable,
// nothing is written and t leaves the queue.
func (s *Server) commitRoute(ctx context.Context, t *parley.Thread, to, from uint64) (*parley.Thread, error) {
	ro := parley.RouteOptions{Unqueue: true}
	if from != 0 {
		ro.Note = &parley.Message{
			ThreadID: t.ID, Type: parley.TypeSystem, Event: parley.EventReassignedAway, SenderID: parley.SystemActorID,
			Direction: parley.Outgoing, Text: s.userName(ctx, from) + " is away: the reply was reassigned to " + s.userName(ctx, to) + ".",
		}
	}
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeAssignment, AssigneeID: to, SenderID: parley.SystemActorID,
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}
	res, err := s.db.AppendRouted(ctx, m, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if !routable(t, from) {
			return errNotRoutable
		}
		t.AssigneeID = to
		if t.Owner == parley.OwnerWaiting {
			t.Owner = parley.OwnerAgent
		}
		return nil
	}}, ro)
	if errors.Is(err, errNotRoutable) {
		if from == 0 {
			if err := s.db.Dequeue(ctx, t.ID); err != nil {
				return nil, err
			}
		}
		return s.db.Thread(ctx, t.ID)
	} else if err != nil {
		return nil, err
	}
	if res.Note != nil {
		s.publishMessage(ctx, res.Thread, res.Note)
	}
	s.publishMessage(ctx, res.Thread, res.Message)
	s.publishThread(ctx, "thread.updated", res.Thread, false)
	return res.Thread, nil
}

func (s *Server) userName(ctx context.Context, id uint64) string {
	if u, err := s.db.User(ctx, id); err == nil {
		return u.Name
	}
	return parley.UserActorID(id)
}

// routeNew routes a chat thread that a visitor's first message just
// created, unless a bot owns it. Errors are logged: the visitor's message
// is committed either way, and the thread stays queued.
func (s *Server) routeNew(ctx context.Context, t *parley.Thread) {
	if t.Owner == parley.OwnerBot {
		return
	}
	if _, err := s.routeThread(ctx, t); err != nil {
		s.log.Error().Err(err).Uint64("thread", t.ID).Msg("route new conversation")
	}
}

// reassignIfAway moves a visitor's reply on thread t to an available
// teammate, per the widget's routing, when t's assignee is in away mode with
// ReassignWhileAway on (I10), recording why (EventReassignedAway). When
// nobody can take it, it stays with the away agent, who remains reachable
// in their open chats.
func (s *Server) reassignIfAway(ctx context.Context, t *parley.Thread) {
	if t.AssigneeID == 0 {
		return
	}
	u, err := s.db.User(ctx, t.AssigneeID)
	if err != nil || !u.Away || !u.ReassignWhileAway {
		return
	}
	ctx = context.WithoutCancel(ctx)
	s.routing.mu.Lock()
	defer s.routing.mu.Unlock()
	if _, err := s.routeLocked(ctx, t.ID, nil, u.ID, false); err != nil {
		s.log.Error().Err(err).Uint64("thread", t.ID).Msg("reassign a reply while away")
	}
}

// kickRouting asks routeWaiting to try the queue again: someone may have
// become available or got room. It never blocks.
func (s *Server) kickRouting() {
	select {
	case s.routing.kick <- struct{}{}:
	default:
	}
}

// routeWaiting drains the routing queue, oldest first, whenever kicked,
// until the server closes.
func (s *Server) routeWaiting() {
	defer s.conns.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.routing.kick:
		}
		s.drainQueue(s.ctx)
	}
}

// drainQueue tries to route every waiting conversation, oldest first. It
// reads the queue once; conversations queued meanwhile wait for the next
// kick.
func (s *Server) drainQueue(ctx context.Context) {
	if !s.anyoneAvailable() {
		return
	}
	q, err := s.db.Queue(ctx, 0)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error().Err(err).Msg("read the routing queue")
		}
		return
	}
	for _, e := range q {
		if ctx.Err() != nil || !s.anyoneAvailable() {
			return
		}
		s.routing.mu.Lock()
		_, err := s.routeLocked(context.WithoutCancel(ctx), e.ThreadID, e.Routing, 0, false)
		s.routing.mu.Unlock()
		if err != nil {
			s.log.Error().Err(err).Uint64("thread", e.ThreadID).Msg("route a waiting conversation")
		}
	}
}

// anyoneAvailable reports whether any user is online and not away: without
// one, no waiting conversation can be routed.
func (s *Server) anyoneAvailable() bool {
	for _, st := range s.presence.Snapshot() {
		if st.Online && !st.Away {
			return true
		}
	}
	return false
}

// queuesNew reports whether a new conversation on widget w enters the
// routing queue: not when w routes to no one, when its bot answers first
// (it hands off later), or when the sender is blocked.
func queuesNew(w *parley.Widget, blocked bool) bool {
	return w.Routing.Mode != parley.RoutingNone && !(w.Bot != nil && w.Bot.Enabled) && !blocked
}
