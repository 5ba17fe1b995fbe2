package app

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// The bot's runtime (I7, B1). A chat that starts on a widget whose bot runs
// is created owned by the bot (Owner OwnerBot). Each visitor message on it
// is answered in the commit that stores it (parley.BotStore.AppendTurn): the engine
// (parley.BotFlow.Next) runs on the bot state kept on the thread, and what
// it does becomes messages from the bot's actor "B-<widgetId>", contact
// properties, a hand-off (Owner OwnerWaiting, then routeThread) or a close.
// Then everything is published, as agents' messages are. A timer closes bot
// conversations after 30 minutes of visitor silence (sweepBots).

// botTurn returns the turn that answers text, a visitor's message on widget
// w in language lang, received at now (the app's clock, which the
// 30-minute auto-close reads). targets names the teams and users that w's
// hand-off steps name (handoffTargets). The turn does nothing on a thread
// that the bot does not own.
func botTurn(w *parley.Widget, lang, text string, now time.Time, targets map[string]string) parley.TurnFunc {
	return func(t *parley.Thread, c *parley.Contact) ([]*parley.Message, error) {
		if t.Owner != parley.OwnerBot {
			return nil, nil
		}
		bot := parley.BotActorID(w.ID)
		var out []*parley.Message
		say := func(m *parley.Message) {
			m.SenderID, m.Direction = bot, parley.Outgoing
			out = append(out, m)
		}
		var state parley.BotState
		if t.Bot != nil {
			state = *t.Bot
		}
		in := &parley.BotInput{Text: text, Lang: lang}
		if c != nil {
			in.Email = c.ReplyEmail()
		}
		var acts []parley.BotAction
		if w.Bot.Running() {
			if t.Bot == nil {
				say(&parley.Message{Type: parley.TypeSystem, Event: parley.EventBotStarted})
			}
			state, acts = w.Bot.Next(state, in)
		} else {
			// The bot was switched off while it owned the conversation:
			// hand it to the agents rather than leave the visitor alone.
			state.Step, state.Done = "", true
			acts = []parley.BotAction{{Kind: parley.ActHandoff, To: parley.HandoffRouting}}
		}
		state.LastVisitorAt = now
		t.Bot = &state
		for _, a := range acts {
			switch a.Kind {
			case parley.ActSay, parley.ActAskEmail:
				say(&parley.Message{Type: parley.TypeMessage, Text: a.Text})
			case parley.ActAsk:
				say(&parley.Message{Type: parley.TypeMessage, Text: a.Text, QuickReplies: a.Options})
			case parley.ActSave:
				if c != nil {
					c.Properties[a.Property] = a.Value
				}
			case parley.ActSaveEmail:
				if c != nil && c.Email == "" {
					// Typed, so a claim only (Contact.UnverifiedEmail).
					c.UnverifiedEmail = a.Value
				}
			case parley.ActHandoff:
				t.Owner = parley.OwnerWaiting
				t.HandoffRouting = handoffRouting(a)
				say(&parley.Message{Type: parley.TypeSystem, Event: parley.EventHandedOff, Text: targets[a.Step]})
			case parley.ActClose:
				t.Status, t.ClosedAt = parley.StatusClosed, now
				say(&parley.Message{Type: parley.TypeStatusChange, NewStatus: parley.StatusClosed})
			}
		}
		return out, nil
	}
}

// handoffRouting is where a hand-off action sends the conversation: nil for
// the widget's routing, else a team or a user.
func handoffRouting(a parley.BotAction) *parley.Routing {
	switch a.To {
	case parley.HandoffTeam:
		return &parley.Routing{Mode: parley.RoutingTeams, TeamIDs: []uint64{a.TeamID}}
	case parley.HandoffUser:
		return &parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{a.UserID}}
	}
	return nil
}

// handoffTargets names, by step id, the team or user each hand-off step of
// flow f sends to, for the text of the hand-off event. A target that is gone
// is named by its id.
func (a *App) handoffTargets(ctx context.Context, f *parley.BotFlow) map[string]string {
	if f == nil {
		return nil
	}
	out := map[string]string{}
	for _, st := range f.Steps {
		if st.Kind != parley.BotHandoff {
			continue
		}
		switch st.To {
		case parley.HandoffTeam:
			out[st.ID] = "team " + idString(st.TeamID)
			if tm, err := a.db.Team(ctx, st.TeamID); err == nil {
				out[st.ID] = tm.Name
			}
		case parley.HandoffUser:
			out[st.ID] = parley.UserActorID(st.UserID)
			if u, err := a.db.User(ctx, st.UserID); err == nil {
				out[st.ID] = u.Name
			}
		}
	}
	return out
}

// publishTurn announces what a committed bot turn did, after the message it
// answered was announced: its messages, the thread when the bot handed it
// off or closed it, and the contact when the turn changed it. A hand-off
// then goes to routing (routeThread). It returns the thread as it is in the
// end.
func (a *App) publishTurn(ctx context.Context, res parley.TurnResult) *parley.Thread {
	t := res.Thread
	handedOff, closed := false, false
	for _, m := range res.Replies {
		a.events.MessageCreated(ctx, t, m)
		handedOff = handedOff || m.Event == parley.EventHandedOff
		closed = closed || m.Type == parley.TypeStatusChange
	}
	if handedOff || closed {
		// The visitor too: their widget's email capture waits for the bot.
		a.events.ThreadUpdated(ctx, t, true)
	}
	if res.Contact != nil {
		a.events.ContactUpdated(ctx, res.Contact)
	}
	if handedOff && t.Owner == parley.OwnerWaiting {
		// To the step's team or user, if it names one, else per the widget.
		routed, err := a.routeThreadWith(ctx, t, t.HandoffRouting)
		if err != nil {
			a.log.Error().Err(err).Uint64("thread", t.ID).Msg("route a conversation the bot handed off")
		} else if routed != nil {
			t = routed
		}
	}
	return t
}

// errNotBot refuses, while the bot owns a conversation, what only its owner
// may do: reply, close, assign.
func errNotBot() error {
	return parley.Errorf(parley.ECONFLICT, "the bot is answering this conversation: take over the conversation first")
}

// TakeOver gives a conversation that the bot owns, or that waits for an
// agent after the bot's hand-off, to user u (B1): Owner becomes the agents',
// u the assignee, and the change is recorded as EventTakenOver in the same
// commit. A conversation that is already the agents' is ECONFLICT.
func (a *App) TakeOver(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	m := systemEvent(u, t, parley.EventTakenOver)
	m.AssigneeID = u.ID
	res, err := a.db.AppendMessage(ctx, m, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if t.Owner == parley.OwnerAgent {
			return parley.Errorf(parley.ECONFLICT, "the conversation is already with an agent; assign it instead")
		}
		t.Owner, t.AssigneeID, t.HandoffRouting = parley.OwnerAgent, u.ID, nil
		return nil
	}})
	if err != nil {
		return nil, err
	}
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	a.events.ThreadUpdated(ctx, res.Thread, true) // the visitor's widget: the bot is done
	return res.Thread, nil
}

// sweepBots closes, every cfg.BotSweepInterval until the app closes, the
// bot conversations whose visitor has been silent for cfg.BotIdleTimeout
// (I7). It reads the store's index of idle bot conversations, so a sweep
// costs in proportion to what it closes, and it reads the time from
// cfg.Now, so tests drive it with their own clock.
func (a *App) sweepBots() {
	defer a.wg.Done()
	tick := time.NewTicker(a.cfg.BotSweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-tick.C:
			if err := a.closeIdleBots(a.ctx); err != nil && a.ctx.Err() == nil {
				a.log.Error().Err(err).Msg("close idle bot conversations")
			}
		}
	}
}

// closeIdleBots closes every bot conversation idle for cfg.BotIdleTimeout
// now, recording the close as a THREAD_STATUS_CHANGE by the bot.
func (a *App) closeIdleBots(ctx context.Context) error {
	for {
		now := a.Now()
		cutoff := now.Add(-a.cfg.BotIdleTimeout)
		ids, err := a.db.IdleBotThreads(ctx, cutoff, 100)
		if err != nil || len(ids) == 0 {
			return err
		}
		closed := 0
		for _, id := range ids {
			ok, err := a.closeIdleBot(ctx, id, cutoff, now)
			if err != nil {
				return err
			}
			if ok {
				closed++
			}
		}
		if len(ids) < 100 || closed == 0 {
			return nil
		}
	}
}

// closeIdleBot closes thread id if, as it is in the commit, the bot still
// owns it, it is open and its visitor has been silent since cutoff, and
// reports whether it did.
func (a *App) closeIdleBot(ctx context.Context, id uint64, cutoff, now time.Time) (bool, error) {
	t, err := a.db.Thread(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeStatusChange, NewStatus: parley.StatusClosed,
		SenderID: parley.BotActorID(t.ChannelAccountID), Direction: parley.Outgoing, CreatedAt: now,
	}
	closed := false
	_, err = a.recordChange(ctx, t, m, true, func(t *parley.Thread) bool {
		closed = false
		last := t.CreatedAt
		if t.Bot != nil && !t.Bot.LastVisitorAt.IsZero() {
			last = t.Bot.LastVisitorAt
		}
		if !t.BotOnly() || t.Status != parley.StatusOpen || last.After(cutoff) {
			return false
		}
		t.Status, t.ClosedAt, closed = parley.StatusClosed, now, true
		return true
	})
	return closed, err
}

// ValidateBot checks flow (parley.BotFlow.Validate) and that the teams and
// active users its hand-offs name exist.
func (a *App) ValidateBot(ctx context.Context, flow *parley.BotFlow) error {
	if err := flow.Validate(); err != nil {
		return err
	}
	for i, st := range flow.Steps {
		if st.Kind != parley.BotHandoff {
			continue
		}
		switch st.To {
		case parley.HandoffTeam:
			if _, err := a.db.Team(ctx, st.TeamID); parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.EINVALID, "bot.steps[%d].teamId %d names no team", i, st.TeamID)
			} else if err != nil {
				return err
			}
		case parley.HandoffUser:
			u, err := a.db.User(ctx, st.UserID)
			if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
				return parley.Errorf(parley.EINVALID, "bot.steps[%d].userId %d names no active user", i, st.UserID)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}
