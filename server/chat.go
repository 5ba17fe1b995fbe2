package server

import (
	"context"
	"errors"
	"strings"

	"github.com/parley-chat/parley"
)

// The operations below are shared by the REST API and the WebSockets, so an
// action is the same whether a console or a script does it. Each one commits
// first and publishes after.

// errUnchanged aborts an update that would change nothing.
var errUnchanged = errors.New("unchanged")

// threadForUser returns thread id if u is a member of its inbox, and
// ENOTFOUND otherwise: a thread in someone else's inbox does not exist for u.
func (s *Server) threadForUser(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
	t, err := s.db.Thread(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.isMember(ctx, u, t.InboxID); err != nil {
		return nil, err
	} else if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "thread %d not found", id)
	}
	return t, nil
}

func (s *Server) isMember(ctx context.Context, u *parley.User, inboxID uint64) (bool, error) {
	in, err := s.db.Inbox(ctx, inboxID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return in.HasMember(u.ID), nil
}

// userInboxIDs lists the inboxes u is a member of.
func (s *Server) userInboxIDs(ctx context.Context, u *parley.User) ([]uint64, error) {
	inboxes, err := s.db.Inboxes(ctx)
	if err != nil {
		return nil, err
	}
	ids := []uint64{}
	for _, in := range inboxes {
		if in.HasMember(u.ID) {
			ids = append(ids, in.ID)
		}
	}
	return ids, nil
}

// postAgentMessage stores a reply or internal note of user u on thread id.
func (s *Server) postAgentMessage(ctx context.Context, u *parley.User, threadID uint64, typ parley.MessageType, clientID, text string) (*parley.Message, *parley.Thread, error) {
	if typ == "" {
		typ = parley.TypeMessage
	}
	if typ != parley.TypeMessage && typ != parley.TypeComment {
		return nil, nil, parley.Errorf(parley.EINVALID, "message type must be MESSAGE or COMMENT")
	}
	if err := parley.ValidateText(text); err != nil {
		return nil, nil, err
	}
	if err := parley.ValidateClientID(clientID); err != nil {
		return nil, nil, err
	}
	t, err := s.threadForUser(ctx, u, threadID)
	if err != nil {
		return nil, nil, err
	}
	if t.ChannelID == parley.ChannelEmail && typ == parley.TypeMessage {
		return s.postEmailReply(ctx, u, t, clientID, text) // stored and queued to be sent (mail.go)
	}
	res, err := s.db.AppendMessage(ctx, &parley.Message{
		ThreadID: t.ID, Type: typ, Text: text, SenderID: u.ActorID(), Direction: parley.Outgoing,
		ClientID: clientID, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if typ == parley.TypeMessage && t.Owner == parley.OwnerBot {
			return errNotBot() // bot and agent never both answer (B1); notes are fine
		}
		return nil
	}})
	if err != nil {
		return nil, nil, err
	}
	if !res.Duplicate {
		s.publishMessage(ctx, res.Thread, res.Message)
	}
	return res.Message, res.Thread, nil
}

// setThreadStatus opens or closes a thread and records the change on it.
func (s *Server) setThreadStatus(ctx context.Context, u *parley.User, threadID uint64, status parley.ThreadStatus) (*parley.Thread, error) {
	if status != parley.StatusOpen && status != parley.StatusClosed {
		return nil, parley.Errorf(parley.EINVALID, "status must be OPEN or CLOSED")
	}
	t, err := s.threadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	if t.BotOnly() {
		return nil, errNotBot() // it closes itself (I7)
	}
	now := s.now()
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeStatusChange, NewStatus: status, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID, CreatedAt: now,
	}
	closed := false
	t, err = s.recordChange(ctx, t, m, true, func(t *parley.Thread) bool {
		if t.Status == status {
			return false
		}
		t.Status = status
		if status == parley.StatusClosed {
			t.ClosedAt = now
		} else {
			t.ClosedAt = parley.Thread{}.ClosedAt
		}
		closed = status == parley.StatusClosed
		return true
	})
	if err == nil && closed {
		s.afterThreadClosed(ctx, t) // the transcript (mail_transcript.go)
	}
	return t, err
}

// assignThread sets (assigneeID > 0) or clears (0) a thread's assignee, who
// must be an active member of the thread's inbox.
func (s *Server) assignThread(ctx context.Context, u *parley.User, threadID, assigneeID uint64) (*parley.Thread, error) {
	t, err := s.threadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	if t.BotOnly() {
		return nil, errNotBot()
	}
	if assigneeID != 0 {
		a, err := s.db.User(ctx, assigneeID)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && a.Deactivated {
			return nil, parley.Errorf(parley.EINVALID, "actor %s is not an active user", parley.UserActorID(assigneeID))
		} else if err != nil {
			return nil, err
		}
		if ok, err := s.isMember(ctx, a, t.InboxID); err != nil {
			return nil, err
		} else if !ok {
			return nil, parley.Errorf(parley.EINVALID, "%s is not a member of this thread's inbox", a.Name)
		}
	}
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeAssignment, AssigneeID: assigneeID, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}
	return s.recordChange(ctx, t, m, false, func(t *parley.Thread) bool {
		if t.AssigneeID == assigneeID {
			return false
		}
		t.AssigneeID = assigneeID
		return true
	})
}

// recordChange applies change to thread t and appends m, the message that
// records it, in one commit; then it announces both to the inbox's agents,
// and to the visitor when toVisitor. change reports whether it changed
// anything: if not, nothing is written or announced and the thread is
// returned as it is.
func (s *Server) recordChange(ctx context.Context, t *parley.Thread, m *parley.Message, toVisitor bool, change func(*parley.Thread) bool) (*parley.Thread, error) {
	res, err := s.db.AppendMessage(ctx, m, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if !change(t) {
			return errUnchanged
		}
		return nil
	}})
	if errors.Is(err, errUnchanged) {
		return s.db.Thread(ctx, t.ID)
	} else if err != nil {
		return nil, err
	}
	s.publishMessage(ctx, res.Thread, res.Message)
	s.publishThread(ctx, "thread.updated", res.Thread, toVisitor)
	s.kickRouting() // a close or an unassignment may make room for a waiting conversation
	return res.Thread, nil
}

// setArchived moves a thread to or from the trash (HubSpot's "archived") and
// records that on it (EventArchived, EventRestored).
func (s *Server) setArchived(ctx context.Context, u *parley.User, threadID uint64, archived bool) (*parley.Thread, error) {
	event := parley.EventRestored
	if archived {
		event = parley.EventArchived
	}
	return s.threadEvent(ctx, u, threadID, event, func(t *parley.Thread) bool {
		if t.Archived == archived {
			return false
		}
		t.Archived = archived
		return true
	})
}

// newVisitor creates a contact and the browser credential that stands for it.
func (s *Server) newVisitor(ctx context.Context) (token string, c *parley.Contact, err error) {
	c = &parley.Contact{CreatedAt: s.now()}
	if err := s.db.CreateContact(ctx, c); err != nil {
		return "", nil, err
	}
	token, hash := newSecret("pv_")
	if err := s.db.CreateVisitor(ctx, &parley.Visitor{Hash: hash, ContactID: c.ID, CreatedAt: s.now()}); err != nil {
		return "", nil, err
	}
	return token, c, nil
}

// postVisitorMessage stores a visitor's chat message in its thread on widget
// w, starting the thread or reopening it as needed. On a conversation that
// the widget's bot owns, the bot answers in the same commit (bot.go); lang
// is the visitor's language for the bot's built-in texts. The caller reads w
// and the contact for this message (the widget may have been switched off or
// its bot changed since the visitor connected) and says whether the contact
// is blocked: every message of every chat comes through here, so nothing is
// read twice.
func (s *Server) postVisitorMessage(ctx context.Context, w *parley.Widget, contactID uint64, blocked bool, pageURL, lang, clientID, text string) (parley.TurnResult, error) {
	if err := parley.ValidateText(text); err != nil {
		return parley.TurnResult{}, err
	}
	if clientID == "" {
		return parley.TurnResult{}, parley.Errorf(parley.EINVALID, "clientId is required")
	}
	if err := parley.ValidateClientID(clientID); err != nil {
		return parley.TurnResult{}, err
	}
	// A switched-off widget (C1) takes no messages.
	if !w.Enabled {
		return parley.TurnResult{}, parley.Errorf(parley.ENOTFOUND, "this chat is switched off")
	}
	// A blocked sender's messages are kept, but only in Filtered (I9).
	// A new conversation on a widget whose bot runs is the bot's (B1).
	owner := parley.OwnerAgent
	var turn parley.TurnFunc
	if w.Bot.Running() {
		owner = parley.OwnerBot
	}
	if w.Bot != nil {
		turn = botTurn(w, lang, text, s.now(), s.handoffTargets(ctx, w.Bot))
	}
	reopened, filtered := false, false
	// A new conversation enters the routing queue in the commit that
	// creates it, so that it is routed even if the server stops right after.
	res, err := s.db.AppendTurn(ctx, &parley.Message{
		Type: parley.TypeMessage, Text: text, SenderID: parley.ContactActorID(contactID), Direction: parley.Incoming,
		ClientID: clientID, ChannelID: parley.ChannelChat, ChannelAccountID: w.ID,
	}, parley.AppendOptions{
		NewThread: &parley.Thread{
			InboxID: w.InboxID, ChannelID: parley.ChannelChat, ChannelAccountID: w.ID, ContactID: contactID,
			Status: parley.StatusOpen, PageURL: limitString(pageURL, 2000), Blocked: blocked, Owner: owner,
		},
		Update: func(t *parley.Thread) error {
			reopened, filtered = false, false
			if t.Status == parley.StatusClosed {
				t.Status, t.ClosedAt, reopened = parley.StatusOpen, parley.Thread{}.ClosedAt, true
				if t.BotOnly() {
					t.Bot = nil // a closed bot conversation starts its flow again
				}
			}
			if blocked && !t.Blocked {
				t.Blocked, filtered = true, true
			}
			return nil
		},
	}, turn, parley.RouteOptions{QueueNew: queuesNew(w, blocked)})
	if err != nil {
		return res, err
	}
	if res.Duplicate {
		return res, nil
	}
	switch {
	case res.ThreadCreated:
		s.publishThread(ctx, "thread.created", res.Thread, false)
	case reopened:
		s.publishThread(ctx, "thread.updated", res.Thread, true)
	case filtered:
		s.publishThread(ctx, "thread.updated", res.Thread, false)
	}
	s.publishMessage(ctx, res.Thread, res.Message)
	res.Thread = s.publishTurn(ctx, res)
	if res.Thread.Owner != parley.OwnerBot {
		// A bot's conversation tells no one outside until it is handed off.
		s.notifyOutside(ctx, res.Thread, res.Message, res.ThreadCreated) // outside notifications (mail.go)
	}
	// Routing (W6, I10): a new conversation goes to an agent; a reply on a
	// conversation whose assignee is away may go to a teammate.
	if res.ThreadCreated {
		if res.Queued {
			s.routeNew(ctx, res.Thread)
		}
	} else {
		s.reassignIfAway(ctx, res.Thread)
	}
	return res, nil
}

func limitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
