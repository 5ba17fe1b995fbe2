package server

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/parley-chat/parley"
)

// "Also viewing" (I6): each console says which thread it shows; the server
// keeps, in memory, who views which thread and tells the thread's inbox
// whenever that changes, so that two agents don't answer at once.

// viewerJSON is one user viewing a thread.
type viewerJSON struct {
	ID      string `json:"id"`
	ActorID string `json:"actorId"`
	Name    string `json:"name"`
}

// evViewers lists everyone viewing a thread now (each user once).
type evViewers struct {
	Type     string       `json:"type"` // viewers
	ThreadID string       `json:"threadId"`
	Users    []viewerJSON `json:"users"`
}

// viewerSet is who views which thread: one entry per agent connection. It is
// safe for concurrent use.
type viewerSet struct {
	mu       sync.Mutex
	byConn   map[*wsConn]viewing
	byThread map[uint64]map[*wsConn]viewerJSON
}

// viewing is what one connection shows.
type viewing struct {
	threadID, inboxID uint64
}

func newViewerSet() *viewerSet {
	return &viewerSet{byConn: map[*wsConn]viewing{}, byThread: map[uint64]map[*wsConn]viewerJSON{}}
}

// usersLocked lists the users viewing thread id, each once, by name.
func (vs *viewerSet) usersLocked(id uint64) []viewerJSON {
	out := []viewerJSON{}
	for _, v := range vs.byThread[id] {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b viewerJSON) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

// set records that connection cn (of user u) now shows thread to (zero:
// none) and tells the inboxes of the threads whose viewers changed. When cn's
// view changed no one's list, it returns the list of its thread for cn alone
// (nil if it shows none): a second tab of the same user needs it too.
func (vs *viewerSet) set(s *Server, cn *wsConn, u *parley.User, to viewing) *evViewers {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	from, had := vs.byConn[cn]
	if had && from == to {
		return &evViewers{Type: "viewers", ThreadID: idString(to.threadID), Users: vs.usersLocked(to.threadID)}
	}
	// Publishing under the lock keeps each thread's events in order; Publish
	// never blocks.
	change := func(v viewing, edit func()) bool {
		before := vs.usersLocked(v.threadID)
		edit()
		after := vs.usersLocked(v.threadID)
		if slices.Equal(before, after) {
			return false
		}
		s.hub.Publish(mustJSON(evViewers{Type: "viewers", ThreadID: idString(v.threadID), Users: after}), parley.InboxTopic(v.inboxID))
		return true
	}
	if had {
		delete(vs.byConn, cn)
		change(from, func() {
			delete(vs.byThread[from.threadID], cn)
			if len(vs.byThread[from.threadID]) == 0 {
				delete(vs.byThread, from.threadID)
			}
		})
	}
	if to.threadID == 0 {
		return nil
	}
	vs.byConn[cn] = to
	published := change(to, func() {
		m := vs.byThread[to.threadID]
		if m == nil {
			m = map[*wsConn]viewerJSON{}
			vs.byThread[to.threadID] = m
		}
		m[cn] = viewerJSON{ID: idString(u.ID), ActorID: u.ActorID(), Name: u.Name}
	})
	if published {
		return nil
	}
	return &evViewers{Type: "viewers", ThreadID: idString(to.threadID), Users: vs.usersLocked(to.threadID)}
}

// setViewing handles the agent event {"type":"viewing","threadId":…}: an
// empty threadId means the console shows no thread. A thread the user may not
// see is ENOTFOUND, and leaves what the connection views as it was.
func (s *Server) setViewing(ctx context.Context, cn *wsConn, u *parley.User, threadID string) error {
	var to viewing
	if threadID != "" {
		id, err := parseID(threadID)
		if err != nil {
			return parley.Errorf(parley.ENOTFOUND, "thread not found")
		}
		t, err := s.threadForUser(ctx, u, id)
		if err != nil {
			return err
		}
		to = viewing{threadID: t.ID, inboxID: t.InboxID}
	}
	if ev := s.viewers.set(s, cn, u, to); ev != nil {
		cn.reply(*ev) // outside the lock: reply waits while cn's queue is full
	}
	return nil
}

// trackViewing makes connection cn drop out of the viewers as soon as it
// starts closing, not only once its close handshake is over (which can take
// seconds when the browser has gone). Defer the function it returns: it
// removes cn for good once cn's handler is done, in case a viewing frame
// raced with the close.
func (s *Server) trackViewing(cn *wsConn) (leave func()) {
	go func() {
		<-cn.ctx.Done()
		s.leaveViewing(cn)
	}()
	return func() { s.leaveViewing(cn) }
}

// leaveViewing forgets what connection cn views, telling the inbox if that
// changes its thread's viewers: when cn ends or loses access to inboxes.
func (s *Server) leaveViewing(cn *wsConn) {
	_ = s.viewers.set(s, cn, nil, viewing{})
}
