package app

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/parley-chat/parley"
)

// "Also viewing" (I6): each console says which thread it shows; the app
// keeps, in memory, who views which thread and tells the thread's inbox
// whenever that changes (Events.Viewers), so that two agents don't answer
// at once.

// Viewer is one user viewing a thread.
type Viewer struct {
	UserID  uint64
	ActorID string
	Name    string
}

// Viewers lists everyone viewing a thread now (each user once), by name.
type Viewers struct {
	ThreadID uint64
	Users    []Viewer
}

// viewerSet is who views which thread: one entry per console connection,
// whatever comparable value stands for it. It is safe for concurrent use.
type viewerSet struct {
	mu       sync.Mutex
	byConn   map[any]viewing
	byThread map[uint64]map[any]Viewer
}

// viewing is what one connection shows.
type viewing struct {
	threadID, inboxID uint64
}

func newViewerSet() *viewerSet {
	return &viewerSet{byConn: map[any]viewing{}, byThread: map[uint64]map[any]Viewer{}}
}

// usersLocked lists the users viewing thread id, each once, by name.
func (vs *viewerSet) usersLocked(id uint64) []Viewer {
	out := []Viewer{}
	for _, v := range vs.byThread[id] {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b Viewer) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(idString(a.UserID), idString(b.UserID)))
	})
	return out
}

// set records that connection cn (of user u) now shows thread to (zero:
// none) and tells the inboxes of the threads whose viewers changed. When cn's
// view changed no one's list, it returns the list of its thread for cn alone
// (nil if it shows none): a second tab of the same user needs it too.
func (vs *viewerSet) set(ev Events, cn any, u *parley.User, to viewing) *Viewers {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	from, had := vs.byConn[cn]
	if had && from == to {
		return &Viewers{ThreadID: to.threadID, Users: vs.usersLocked(to.threadID)}
	}
	// Publishing under the lock keeps each thread's events in order; Events
	// never block.
	change := func(v viewing, edit func()) bool {
		before := vs.usersLocked(v.threadID)
		edit()
		after := vs.usersLocked(v.threadID)
		if slices.Equal(before, after) {
			return false
		}
		ev.Viewers(v.inboxID, Viewers{ThreadID: v.threadID, Users: after})
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
			m = map[any]Viewer{}
			vs.byThread[to.threadID] = m
		}
		m[cn] = Viewer{UserID: u.ID, ActorID: u.ActorID(), Name: u.Name}
	})
	if published {
		return nil
	}
	return &Viewers{ThreadID: to.threadID, Users: vs.usersLocked(to.threadID)}
}

// View records that console connection cn, a comparable value that stands
// for it, of user u now shows thread threadID (0: none). A thread u may not
// see is ENOTFOUND, and leaves what cn views as it was. When cn's view
// changed no one's list (Events.Viewers), View returns the list of its
// thread for cn alone (nil if it shows none): a second tab of the same user
// needs it too.
func (a *App) View(ctx context.Context, cn any, u *parley.User, threadID uint64) (*Viewers, error) {
	var to viewing
	if threadID != 0 {
		t, err := a.ThreadForUser(ctx, u, threadID)
		if err != nil {
			return nil, err
		}
		to = viewing{threadID: t.ID, inboxID: t.InboxID}
	}
	return a.viewers.set(a.events, cn, u, to), nil
}

// LeaveViewing forgets what connection cn views, telling the inbox if that
// changes its thread's viewers: when cn ends or loses access to inboxes.
func (a *App) LeaveViewing(cn any) {
	_ = a.viewers.set(a.events, cn, nil, viewing{})
}
