package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// router orders routing. Decisions are taken one at a time, under mu; the
// commits they lead to run outside it, so that the assignments of many new
// conversations share the store's group commits instead of queueing for
// one commit each. A decision counts the assignments still committing
// (pending) with the open counts it reads, so two conversations never both
// go to the agent who had room for one, and a thread is routed by one
// caller at a time (busy).
type router struct {
	mu   sync.Mutex
	idle *sync.Cond // broadcast when a routing commit ends
	// busy are the threads whose routing commits now.
	busy map[uint64]bool
	// pending counts, per agent, the assignments committing now, and
	// pendingAt is when the last of them was decided.
	pending   map[uint64]int
	pendingAt map[uint64]time.Time
	// queuedMeanwhile is set when a conversation was queued for want of
	// room while assignments were committing: a count can then have held
	// one of them twice (committed, and still pending), so the queue is
	// tried again once they end.
	queuedMeanwhile bool
	kick            chan struct{} // asks routeWaiting to drain the queue; buffer of one
}

func newRouter() *router {
	rt := &router{kick: make(chan struct{}, 1), busy: map[uint64]bool{},
		pending: map[uint64]int{}, pendingAt: map[uint64]time.Time{}}
	rt.idle = sync.NewCond(&rt.mu)
	return rt
}

// errNotRoutable aborts a routing commit whose thread changed meanwhile.
var errNotRoutable = errors.New("thread is no longer routable")

// routeThread gives thread t to an agent per its widget's routing (W6) when
// one can receive it now, and otherwise leaves it waiting unassigned in the
// routing queue, from which it is routed, oldest first, as soon as someone
// can receive it. The assignment is an ASSIGNMENT event by the system actor,
// committed with the thread's leaving the queue, then published. A thread
// that is closed, assigned, owned by a bot, filtered, or whose widget routes
// to no one is left as it is. It returns the thread as it is afterwards.
func (a *App) routeThread(ctx context.Context, t *parley.Thread) (*parley.Thread, error) {
	return a.routeThreadWith(ctx, t, nil)
}

// routeThreadWith is routeThread with routing r instead of the widget's (nil
// for the widget's): a bot handing off to a team or a user. A waiting
// conversation keeps r in the queue.
func (a *App) routeThreadWith(ctx context.Context, t *parley.Thread, r *parley.Routing) (*parley.Thread, error) {
	return a.route(context.WithoutCancel(ctx), t.ID, r, 0, true)
}

// route routes thread id with r (nil: its widget's). from, when not 0, is
// the away assignee whose conversation is reassigned. queue puts the thread
// in the queue when nobody can receive it. It decides under routing.mu and
// writes outside it (router).
func (a *App) route(ctx context.Context, id uint64, r *parley.Routing, from uint64, queue bool) (*parley.Thread, error) {
	rt := a.routing
	rt.mu.Lock()
	for rt.busy[id] {
		rt.idle.Wait()
	}
	t, write, to, err := a.decide(ctx, id, r, from, queue)
	if write == nil {
		rt.mu.Unlock()
		return t, err
	}
	rt.busy[id] = true
	if to != 0 {
		rt.pending[to]++
		rt.pendingAt[to] = a.Now()
	}
	overcount := to == 0 && queue && len(rt.pending) > 0
	if overcount {
		rt.queuedMeanwhile = true
	}
	rt.mu.Unlock()

	t, err = write()

	rt.mu.Lock()
	delete(rt.busy, id)
	kick := overcount
	if to != 0 {
		if rt.pending[to]--; rt.pending[to] == 0 {
			delete(rt.pending, to)
			delete(rt.pendingAt, to)
		}
		kick = kick || rt.queuedMeanwhile
		if len(rt.pending) == 0 {
			rt.queuedMeanwhile = false
		}
	}
	rt.idle.Broadcast()
	rt.mu.Unlock()
	if kick {
		a.KickRouting()
	}
	return t, err
}

// decide reads what routing thread id needs and returns the write that
// carries the decision out (nil for none; then t and err are the answer),
// and the agent it assigns to (0 for none). Callers hold routing.mu.
func (a *App) decide(ctx context.Context, id uint64, r *parley.Routing, from uint64, queue bool) (t *parley.Thread, write func() (*parley.Thread, error), to uint64, err error) {
	t, err = a.db.Thread(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, func() (*parley.Thread, error) { return nil, a.db.Dequeue(ctx, id) }, 0, nil
	} else if err != nil {
		return nil, nil, 0, err
	}
	routing, ok, err := a.routingOf(ctx, t, r)
	if err != nil {
		return t, nil, 0, err
	}
	if !ok || !routable(t, from) {
		if from == 0 {
			return t, func() (*parley.Thread, error) { return t, a.db.Dequeue(ctx, t.ID) }, 0, nil
		}
		return t, nil, 0, nil
	}
	cands, err := a.routingCandidates(ctx, t)
	if err != nil {
		return t, nil, 0, err
	}
	var owner uint64
	if routing.Mode == parley.RoutingOwner && t.ContactID != 0 {
		if c, err := a.db.Contact(ctx, t.ContactID); err == nil {
			owner = c.OwnerID
		}
	}
	chosen := parley.ChooseAgent(routing, cands, owner)
	if chosen == 0 || chosen == from {
		if queue && from == 0 {
			return t, func() (*parley.Thread, error) { return t, a.db.Enqueue(ctx, t.ID, r) }, 0, nil
		}
		return t, nil, 0, nil
	}
	return t, func() (*parley.Thread, error) { return a.commitRoute(ctx, t, chosen, from) }, chosen, nil
}

// routingOf returns the routing for t: r, or its widget's, or for an email
// thread its mailbox's. ok is false when nothing routes it: no widget or
// mailbox (deleted, or another channel) and no r, or mode "none".
func (a *App) routingOf(ctx context.Context, t *parley.Thread, r *parley.Routing) (parley.Routing, bool, error) {
	if r != nil {
		return *r, r.Mode != parley.RoutingNone, nil
	}
	if t.ChannelID == parley.ChannelEmail {
		return a.mailRoutingOf(ctx, t)
	}
	if t.ChannelID != parley.ChannelChat {
		return parley.Routing{}, false, nil
	}
	w, err := a.db.Widget(ctx, t.ChannelAccountID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.Routing{}, false, nil
	} else if err != nil {
		return parley.Routing{}, false, err
	}
	return w.Routing, w.Routing.Mode != parley.RoutingNone, nil
}

// mailRoutingOf returns the routing of the mailbox that received email
// thread t's first mail (E3); ok is false when the address is gone from the
// inbox or routes to no one (none, or empty: the default).
func (a *App) mailRoutingOf(ctx context.Context, t *parley.Thread) (parley.Routing, bool, error) {
	in, err := a.db.Inbox(ctx, t.InboxID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.Routing{}, false, nil
	} else if err != nil {
		return parley.Routing{}, false, err
	}
	mb := in.MailboxByID(t.ChannelAccountID)
	if mb == nil {
		return parley.Routing{}, false, nil
	}
	r := mb.Routing
	return r, r.Mode != "" && r.Mode != parley.RoutingNone, nil
}

// routable reports whether t may be routed now: open, in the main views,
// not a bot's, and unassigned (or, for a reassignment, still assigned to
// from).
func routable(t *parley.Thread, from uint64) bool {
	return t.Status == parley.StatusOpen && !t.Archived && !t.IsFiltered() && t.Owner != parley.OwnerBot && t.AssigneeID == from
}

// routingCandidates lists the active members of t's inbox as routing sees
// them now.
func (a *App) routingCandidates(ctx context.Context, t *parley.Thread) ([]parley.Candidate, error) {
	members, err := a.memberStates(ctx, t.InboxID)
	if err != nil {
		return nil, err
	}
	open, err := a.db.OpenAssigned(ctx, t.ChannelID)
	if err != nil {
		return nil, err
	}
	last, err := a.db.LastRouted(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]parley.Candidate, 0, len(members))
	for _, m := range members {
		// Assignments still committing count as made (router).
		lastAt := last[m.UserID]
		if at := a.routing.pendingAt[m.UserID]; at.After(lastAt) {
			lastAt = at
		}
		out = append(out, parley.Candidate{UserID: m.UserID, RoutingSeat: m.RoutingSeat, Available: m.Available(),
			TeamIDs: m.TeamIDs, Open: open[m.UserID] + a.routing.pending[m.UserID], LastAssignedAt: lastAt, Limit: m.MaxOpenChats})
	}
	return out, nil
}

// commitRoute assigns t to user to, by the system actor, in one commit with
// leaving the queue (and, when from is set, the note saying why it moved),
// then publishes. If t changed meanwhile so that it is no longer routable,
// nothing is written and t leaves the queue.
func (a *App) commitRoute(ctx context.Context, t *parley.Thread, to, from uint64) (*parley.Thread, error) {
	ro := parley.RouteOptions{Unqueue: true}
	if from != 0 {
		ro.Note = &parley.Message{
			ThreadID: t.ID, Type: parley.TypeSystem, Event: parley.EventReassignedAway, SenderID: parley.SystemActorID,
			Direction: parley.Outgoing, Text: a.userName(ctx, from) + " is away: the reply was reassigned to " + a.userName(ctx, to) + ".",
			// The API's text is English; the console says it in its
			// language from the change.
			Changes: &[]parley.Change{{Field: parley.ChangeAssignee, From: parley.UserActorID(from), To: parley.UserActorID(to)}},
		}
	}
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeAssignment, AssigneeID: to, SenderID: parley.SystemActorID,
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}
	res, err := a.db.AppendRouted(ctx, m, parley.AppendOptions{Update: func(t *parley.Thread) error {
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
			if err := a.db.Dequeue(ctx, t.ID); err != nil {
				return nil, err
			}
		}
		return a.db.Thread(ctx, t.ID)
	} else if err != nil {
		return nil, err
	}
	if res.Note != nil {
		a.events.MessageCreated(ctx, res.Thread, res.Note)
	}
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	a.events.ThreadUpdated(ctx, res.Thread, false)
	if from == 0 {
		a.ticketOwnerFromRouting(ctx, res.Thread, to)
	}
	return res.Thread, nil
}

func (a *App) userName(ctx context.Context, id uint64) string {
	if u, err := a.db.User(ctx, id); err == nil {
		return u.Name
	}
	return parley.UserActorID(id)
}

// routeNew routes a chat thread that a visitor's first message just
// created, unless a bot owns it. Errors are logged: the visitor's message
// is committed either way, and the thread stays queued.
func (a *App) routeNew(ctx context.Context, t *parley.Thread) {
	if t.Owner == parley.OwnerBot {
		return
	}
	if _, err := a.routeThread(ctx, t); err != nil {
		a.log.Error().Err(err).Uint64("thread", t.ID).Msg("route new conversation")
	}
}

// reassignIfAway moves a visitor's reply on thread t to an available
// teammate, per the widget's routing, when t's assignee is in away mode with
// ReassignWhileAway on (I10), recording why (EventReassignedAway). When
// nobody can take it, it stays with the away agent, who remains reachable
// in their open chats.
func (a *App) reassignIfAway(ctx context.Context, t *parley.Thread) {
	if t.AssigneeID == 0 {
		return
	}
	u, err := a.db.SharedUser(ctx, t.AssigneeID)
	if err != nil || !u.Away || !u.ReassignWhileAway {
		return
	}
	if _, err := a.route(context.WithoutCancel(ctx), t.ID, nil, u.ID, false); err != nil {
		a.log.Error().Err(err).Uint64("thread", t.ID).Msg("reassign a reply while away")
	}
}

// KickRouting asks routeWaiting to try the queue again: someone may have
// become available or got room. It never blocks.
func (a *App) KickRouting() {
	select {
	case a.routing.kick <- struct{}{}:
	default:
	}
}

// routeWaiting drains the routing queue, oldest first, whenever kicked,
// until the app closes.
func (a *App) routeWaiting() {
	defer a.wg.Done()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.routing.kick:
		}
		a.drainQueue(a.ctx)
	}
}

// drainQueue tries to route every waiting conversation, oldest first. It
// reads the queue once; conversations queued meanwhile wait for the next
// kick.
func (a *App) drainQueue(ctx context.Context) {
	if !a.anyoneAvailable() {
		return
	}
	q, err := a.db.Queue(ctx, 0)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("read the routing queue")
		}
		return
	}
	for _, e := range q {
		if ctx.Err() != nil || !a.anyoneAvailable() {
			return
		}
		if _, err := a.route(context.WithoutCancel(ctx), e.ThreadID, e.Routing, 0, false); err != nil {
			a.log.Error().Err(err).Uint64("thread", e.ThreadID).Msg("route a waiting conversation")
		}
	}
}

// anyoneAvailable reports whether any user is online and not away: without
// one, no waiting conversation can be routed.
func (a *App) anyoneAvailable() bool {
	for _, st := range a.presence.Snapshot() {
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
