package server

import (
	"context"
	"time"
)

// Availability and presence, live (C3, C4, I10): package app decides and
// pushes them (Events.Presence, Events.WidgetStatus); the consoles' typing
// indicators are throttled here.

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

// typingAllowed throttles typing events to one per actor and thread every 2s.
func (s *Server) typingAllowed(actorID string, threadID uint64) bool {
	key := actorID + "/" + idString(threadID)
	now := s.now()
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
