package server

import (
	"context"
	"slices"
	"sync"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
)

// closeRightsChanged closes an agent connection whose user's role changed,
// beside the close codes of errors.go: the console reconnects at once and gets
// the new rights (4000 + 205 Reset Content).
const closeRightsChanged websocket.StatusCode = 4205

// userTopic is the topic of events meant for one user's consoles only, such
// as "you were removed from this inbox".
func userTopic(id uint64) string { return "user:" + idString(id) }

// agentConns is the registry of live agent connections, per user, with the
// inboxes each one is subscribed to. It lets a change of access reach open
// consoles at once: an inbox a user joins or leaves is added to or removed
// from the subscriptions of their connections, and deactivation closes them.
// The zero value is ready to use.
//
// One mutex serialises registration and every sync, and each of them reads
// the memberships from the store while holding it, after the change was
// committed. So whichever runs last has read the newest state: a console
// that connects while an admin removes it from an inbox either reads the
// membership without the inbox or is registered in time for the sync to
// remove it.
//
// The credentials work the same way: each connection is kept under the hash
// of the session or token that opened it, registration reads the credential
// and the user under the mutex, and whatever ends a credential commits first
// and then closes its connections under the mutex (closeCredential,
// closeAgents). So a connection is either refused or closed.
type agentConns struct {
	mu    sync.Mutex
	users map[uint64]map[*wsConn]map[uint64]bool // user → connection → inboxes subscribed
	creds map[string]map[*wsConn]bool            // credential hash → connections
}

// registerAgent subscribes cn, whose subscription already exists, to the
// inbox topics of the user whose credential hash opened it and keeps it in
// the registry until unregister is called. It returns the user and their
// rights as they are now, which may differ from what the handshake saw, and
// the inboxes. A credential ended or a user deactivated meanwhile is
// EUNAUTHORIZED.
func (s *Server) registerAgent(ctx context.Context, cn *wsConn, hash string) (u *parley.User, rights parley.Scopes, inboxIDs []uint64, unregister func(), err error) {
	a := &s.agents
	a.mu.Lock()
	defer a.mu.Unlock()
	sess, err := s.db.Session(ctx, hash)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && sess.Expired(s.now()) {
		return nil, nil, nil, nil, parley.Errorf(parley.EUNAUTHORIZED, "the session or token has ended")
	} else if err != nil {
		return nil, nil, nil, nil, err
	}
	id := sess.UserID
	u, err = s.db.User(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
		return nil, nil, nil, nil, parley.Errorf(parley.EUNAUTHORIZED, "the account was deactivated")
	} else if err != nil {
		return nil, nil, nil, nil, err
	}
	inboxIDs, err = s.app.UserInboxIDs(ctx, u)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	subscribed := make(map[uint64]bool, len(inboxIDs))
	topics := make([]string, 0, len(inboxIDs))
	for _, in := range inboxIDs {
		subscribed[in] = true
		topics = append(topics, parley.InboxTopic(in))
	}
	cn.sub.Add(topics...)
	if a.users == nil {
		a.users = map[uint64]map[*wsConn]map[uint64]bool{}
	}
	if a.users[id] == nil {
		a.users[id] = map[*wsConn]map[uint64]bool{}
	}
	a.users[id][cn] = subscribed
	if a.creds == nil {
		a.creds = map[string]map[*wsConn]bool{}
	}
	if a.creds[hash] == nil {
		a.creds[hash] = map[*wsConn]bool{}
	}
	a.creds[hash][cn] = true
	return u, sess.Rights(u), inboxIDs, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		delete(a.users[id], cn)
		if len(a.users[id]) == 0 {
			delete(a.users, id)
		}
		delete(a.creds[hash], cn)
		if len(a.creds[hash]) == 0 {
			delete(a.creds, hash)
		}
	}, nil
}

// syncAgents brings the inbox subscriptions of every live connection of the
// given users in line with the memberships in the store. Call it after a
// commit changed them. When it returns, a connection that lost an inbox gets
// none of the inbox's later events (and stops being shown as viewing a
// thread), and one that gained an inbox gets them. If the memberships cannot
// be read, the connections are closed so that their consoles reconnect.
func (s *Server) syncAgents(ctx context.Context, userIDs ...uint64) {
	a := &s.agents
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.users) == 0 {
		return
	}
	inboxes, err := s.db.Inboxes(context.WithoutCancel(ctx))
	if err != nil {
		s.log.Error().Err(err).Msg("read inboxes to update live subscriptions")
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(userIDs))) {
		for cn, subscribed := range a.users[id] {
			if err != nil {
				cn.failCode(parley.EINTERNAL, "internal error")
				continue
			}
			want := map[uint64]bool{}
			for _, in := range inboxes {
				if in.HasMember(id) {
					want[in.ID] = true
				}
			}
			var add, remove []string
			for in := range want {
				if !subscribed[in] {
					add = append(add, parley.InboxTopic(in))
				}
			}
			for in := range subscribed {
				if !want[in] {
					remove = append(remove, parley.InboxTopic(in))
				}
			}
			if len(remove) > 0 {
				cn.sub.Remove(remove...)
				s.app.LeaveViewing(cn)
			}
			if len(add) > 0 {
				cn.sub.Add(add...)
			}
			a.users[id][cn] = want
		}
	}
}

// closeCredential closes every live connection opened with the session or
// token hash with 4401 and reason. Call it after the credential's deletion
// was committed: when it returns, none of them gets another event.
func (s *Server) closeCredential(hash, reason string) {
	a := &s.agents
	a.mu.Lock()
	defer a.mu.Unlock()
	for cn := range a.creds[hash] {
		cn.failCode(parley.EUNAUTHORIZED, reason)
	}
}

// closeAgents closes every live connection of user id with code and reason.
func (s *Server) closeAgents(id uint64, code websocket.StatusCode, reason string) {
	a := &s.agents
	a.mu.Lock()
	defer a.mu.Unlock()
	for cn := range a.users[id] {
		cn.fail(code, reason)
	}
}
