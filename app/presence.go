package app

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// Availability and presence, live (C3, C4, I10).
//
// One goroutine, watchPresence, owns the pushes: whenever an input of
// parley.DecideAvailability changes — an agent's console connects or goes
// (presence), away mode, users, teams or inbox members (PeopleChanged), a
// widget's settings (WidgetsChanged), or the clock passes a
// business-hours boundary — it decides every widget's status again and
// publishes those that changed to the widget's visitors, and the users'
// states to the consoles. For the clock it keeps one timer, set to the
// earliest next boundary over all widgets and set again after every pass:
// nothing polls.
//
// A console that vanishes without closing (a killed tab, a dropped network)
// stops answering pings and is counted gone after at most the server's
// PingInterval + PingTimeout (30s by default).

// livePush is the state of watchPresence that others signal.
type livePush struct {
	widgetsChanged chan struct{} // buffer of one
}

func newLivePush() *livePush { return &livePush{widgetsChanged: make(chan struct{}, 1)} }

// startLive starts the goroutines that push availability and presence and
// route waiting conversations. Close waits for them.
func (a *App) startLive() {
	a.wg.Add(2)
	go a.watchPresence()
	go a.routeWaiting()
}

// WidgetsChanged asks watchPresence to decide every widget's status again:
// call it after a widget was created, changed or deleted. It never blocks.
func (a *App) WidgetsChanged() {
	select {
	case a.live.widgetsChanged <- struct{}{}:
	default:
	}
}

// PeopleChanged asks watchPresence to announce the users and every
// widget's availability again: who may take chats changed (members, routing
// seats, deactivation). It never blocks.
func (a *App) PeopleChanged() {
	select {
	case a.peopleChanged <- struct{}{}:
	default: // one is pending already
	}
}

// memberStates returns the state of every active member of inbox id, for
// DecideAvailability and routing. A missing inbox has none.
func (a *App) memberStates(ctx context.Context, inboxID uint64) ([]parley.AgentState, error) {
	in, err := a.db.Inbox(ctx, inboxID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	teams, err := a.db.Teams(ctx)
	if err != nil {
		return nil, err
	}
	return a.statesOf(ctx, in, teams), nil
}

// statesOf returns the states of in's active members, with their teams.
func (a *App) statesOf(ctx context.Context, in *parley.Inbox, teams []*parley.Team) []parley.AgentState {
	out := make([]parley.AgentState, 0, len(in.MemberIDs))
	for _, id := range in.MemberIDs {
		u, err := a.db.User(ctx, id)
		if err != nil || u.Deactivated {
			continue
		}
		st := a.presence.State(id)
		var teamIDs []uint64
		for _, t := range teams {
			if t.HasMember(id) {
				teamIDs = append(teamIDs, t.ID)
			}
		}
		out = append(out, parley.AgentState{UserID: id, Online: st.Online, Away: u.Away, RoutingSeat: u.RoutingSeat, TeamIDs: teamIDs,
			MaxOpenChats: u.MaxOpenChats})
	}
	return out
}

// WidgetStatus decides what widget w shows now.
func (a *App) WidgetStatus(ctx context.Context, w *parley.Widget) parley.WidgetStatus {
	if !w.Enabled {
		return parley.WidgetStatus{} // switched off: the launcher hides
	}
	members, err := a.memberStates(ctx, w.InboxID)
	if err != nil {
		a.log.Error().Err(err).Uint64("widget", w.ID).Msg("read inbox members for availability")
	}
	return parley.DecideAvailability(w, members, a.Now())
}

// newTimer returns a channel that receives once the clock reaches at, and
// a function that stops it: Config.Timer, or a time.Timer.
func (a *App) newTimer(at time.Time) (<-chan time.Time, func() bool) {
	if a.cfg.Timer != nil {
		return a.cfg.Timer(at)
	}
	t := time.NewTimer(max(at.Sub(a.Now()), 0))
	return t.C, t.Stop
}

// watchPresence pushes availability to connected widgets and presence to
// agents whenever an input changes (see the top of this file), and kicks
// routing when someone may have become available. It runs until Close.
func (a *App) watchPresence() {
	defer a.wg.Done()
	ctx := a.ctx
	if users, err := a.db.Users(ctx); err == nil {
		for _, u := range users {
			if u.Away {
				a.presence.SetAway(u.ID, true)
			}
		}
	}
	ch, cancel := a.presence.Watch()
	defer cancel()
	last := map[uint64]parley.WidgetStatus{}
	var timer <-chan time.Time
	stop := func() bool { return false }
	defer func() { stop() }()
	// people: announce presence on this pass; clock: only the clock moved,
	// which changes nothing for routing (it ignores business hours, C4).
	people, clock := true, false
	for {
		// One instant for the statuses and the next boundary: with two, a
		// boundary passing between them would be neither decided nor timed.
		now := a.Now()
		a.pushStatuses(ctx, last, people, now)
		stop()
		timer, stop = nil, func() bool { return false }
		if next := a.nextBoundary(ctx, now); !next.IsZero() {
			timer, stop = a.newTimer(next)
		}
		if !clock {
			a.KickRouting()
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
			people, clock = true, false
		case <-a.peopleChanged:
			people, clock = true, false
		case <-a.live.widgetsChanged:
			people, clock = false, false
		case <-timer:
			people, clock = false, true
		}
	}
}

// pushStatuses decides every widget's status at now and publishes those
// that differ from last (which it updates); with people, it also announces
// the users' states.
func (a *App) pushStatuses(ctx context.Context, last map[uint64]parley.WidgetStatus, people bool, now time.Time) {
	if people {
		a.events.Presence(ctx)
	}
	widgets, err := a.db.Widgets(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("list widgets for availability")
		}
		return
	}
	teams, err := a.db.Teams(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("list teams for availability")
		}
		return
	}
	members := map[uint64][]parley.AgentState{} // per inbox, read once a pass
	seen := make(map[uint64]bool, len(widgets))
	for _, w := range widgets {
		seen[w.ID] = true
		m, ok := members[w.InboxID]
		if !ok {
			if in, err := a.db.Inbox(ctx, w.InboxID); err == nil {
				m = a.statesOf(ctx, in, teams)
			}
			members[w.InboxID] = m
		}
		st := parley.DecideAvailability(w, m, now)
		if prev, ok := last[w.ID]; ok && prev == st {
			continue
		}
		last[w.ID] = st
		a.events.WidgetStatus(w.ID, st)
	}
	for id := range last {
		if !seen[id] {
			delete(last, id)
		}
	}
}

// nextBoundary is the earliest instant after now at which some widget's
// status changes by the clock alone, or zero.
func (a *App) nextBoundary(ctx context.Context, now time.Time) time.Time {
	widgets, err := a.db.Widgets(ctx)
	if err != nil {
		return time.Time{}
	}
	var next time.Time
	for _, w := range widgets {
		if !w.Enabled {
			continue
		}
		if b := w.NextChange(now); !b.IsZero() && (next.IsZero() || b.Before(next)) {
			next = b
		}
	}
	return next
}
