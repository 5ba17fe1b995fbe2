package server

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// widgetStatus decides what widget w shows now, from its inbox members'
// presence. A disabled widget shows nothing: its launcher hides.
func (s *Server) widgetStatus(ctx context.Context, w *parley.Widget) parley.WidgetStatus {
	if !w.Enabled {
		return parley.WidgetStatus{}
	}
	var members []parley.AgentState
	if in, err := s.db.Inbox(ctx, w.InboxID); err == nil {
		for _, id := range in.MemberIDs {
			u, err := s.db.User(ctx, id)
			if err != nil || u.Deactivated {
				continue
			}
			st := s.presence.State(id)
			members = append(members, parley.AgentState{UserID: id, Online: st.Online, Away: u.Away, RoutingSeat: u.RoutingSeat})
		}
	}
	return parley.DecideAvailability(w, members)
}

// presenceList is every active user's state, for the agents' presence event.
func (s *Server) presenceList(ctx context.Context) []userJSON {
	users, err := s.db.Users(ctx)
	if err != nil {
		s.log.Error().Err(err).Msg("list users for presence")
		return nil
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		if !u.Deactivated {
			out = append(out, s.toUserJSON(u, true))
		}
	}
	return out
}

// watchPresence pushes availability to connected widgets and presence to
// agents whenever an agent connects, disconnects or changes away mode. It
// runs until Close.
func (s *Server) watchPresence() {
	ctx := s.ctx
	if users, err := s.db.Users(ctx); err == nil {
		for _, u := range users {
			if u.Away {
				s.presence.SetAway(u.ID, true)
			}
		}
	}
	ch, cancel := s.presence.Watch()
	defer cancel()
	last := map[uint64]parley.WidgetStatus{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-s.peopleChanged:
		}
		s.hub.Publish(mustJSON(evPresence{Type: "presence", Users: s.presenceList(ctx)}), presenceTopic)
		widgets, err := s.db.Widgets(ctx)
		if err != nil {
			s.log.Error().Err(err).Msg("list widgets for availability")
			continue
		}
		for _, w := range widgets {
			st := s.widgetStatus(ctx, w)
			if prev, ok := last[w.ID]; ok && prev == st {
				continue
			}
			last[w.ID] = st
			s.hub.Publish(mustJSON(evStatus{Type: "status", Status: st}), widgetTopic(w.ID))
		}
	}
}

// typingAllowed throttles typing events to one per actor and thread every 2s.
func (s *Server) typingAllowed(actorID string, threadID uint64) bool {
	key := actorID + "/" + idString(threadID)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.lastType[key]; ok && now.Sub(t) < 2*time.Second {
		return false
	}
	if len(s.lastType) > 10000 {
		for k, t := range s.lastType {
			if now.Sub(t) > 2*time.Second {
				delete(s.lastType, k)
			}
		}
	}
	s.lastType[key] = now
	return true
}
