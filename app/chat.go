package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/richtext"
)

// The operations below are shared by the REST API and the WebSockets, so an
// action is the same whether a console or a script does it. Each one commits
// first and publishes after.

// errUnchanged aborts an update that would change nothing.
var errUnchanged = errors.New("unchanged")

// ThreadForUser returns thread id if u is a member of its inbox, and
// ENOTFOUND otherwise: a thread in someone else's inbox does not exist for u.
func (a *App) ThreadForUser(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
	t, err := a.db.Thread(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := a.IsMember(ctx, u, t.InboxID); err != nil {
		return nil, err
	} else if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "thread %d not found", id)
	}
	return t, nil
}

func (a *App) IsMember(ctx context.Context, u *parley.User, inboxID uint64) (bool, error) {
	in, err := a.db.Inbox(ctx, inboxID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return in.HasMember(u.ID), nil
}

// UserInboxIDs lists the inboxes u is a member of.
func (a *App) UserInboxIDs(ctx context.Context, u *parley.User) ([]uint64, error) {
	inboxes, err := a.db.Inboxes(ctx)
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

// PostAgentMessage stores a reply or internal note of user u on thread id.
// An email reply copies the thread's current Cc (PostReply with nil
// copies).
func (a *App) PostAgentMessage(ctx context.Context, u *parley.User, threadID uint64, typ parley.MessageType, clientID, text string) (*parley.Message, *parley.Thread, error) {
	return a.PostReply(ctx, u, threadID, typ, clientID, text, "", nil, nil)
}

// PostReply is PostAgentMessage with the Cc and Bcc of an email reply:
// copies, when not nil, replace the thread's current Cc. Copies on a
// chat thread or on a COMMENT are EINVALID.
//
// files are the ids of u's uploads (Upload) that the message carries; with
// files the text may be empty. richText, on an email reply only, is its
// rich text (HTML, kept as richtext.Clean keeps it); without text, the
// text is made from it.
func (a *App) PostReply(ctx context.Context, u *parley.User, threadID uint64, typ parley.MessageType, clientID, text, richText string, copies *ReplyCopies, files []uint64) (*parley.Message, *parley.Thread, error) {
	return a.postReply(ctx, u, u, u.ActorID(), threadID, typ, clientID, text, richText, copies, files)
}

// PostReplyAs is PostReply for an integration that relays answers: admin u
// posts as sender, the actor id of an active user who is a member of the
// thread's inbox (A-…) or of the bot of a chat widget of that inbox (B-…,
// chat threads only). u must be an admin who may see the thread; the
// caller checks that u's credential carries the admin scope. A sender who
// does not exist, is not a member, or is neither kind of actor is
// EINVALID, a u who is no admin EFORBIDDEN; nothing is stored then.
func (a *App) PostReplyAs(ctx context.Context, u *parley.User, sender string, threadID uint64, typ parley.MessageType, clientID, text, richText string, copies *ReplyCopies, files []uint64) (*parley.Message, *parley.Thread, error) {
	if !u.IsAdmin() {
		return nil, nil, parley.Errorf(parley.EFORBIDDEN, "only an admin may post as someone else")
	}
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, nil, err
	}
	prefix, id, err := parley.ParseActorID(sender)
	if err != nil {
		return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId %q is no actor id", limitString(sender, 64))
	}
	switch prefix {
	case parley.ActorUser:
		as, err := a.db.User(ctx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && as.Deactivated {
			return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId: %s is not an active user", sender)
		} else if err != nil {
			return nil, nil, err
		}
		if ok, err := a.IsMember(ctx, as, t.InboxID); err != nil {
			return nil, nil, err
		} else if !ok {
			return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId: %s is not a member of this thread's inbox", sender)
		}
		return a.postReply(ctx, u, as, sender, threadID, typ, clientID, text, richText, copies, files)
	case parley.ActorBot:
		wd, err := a.db.Widget(ctx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && wd.InboxID != t.InboxID {
			return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId: %s is not the bot of a chat widget of this thread's inbox", sender)
		} else if err != nil {
			return nil, nil, err
		}
		if t.ChannelID != parley.ChannelChat {
			return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId: a bot answers chats only")
		}
		return a.postReply(ctx, u, nil, sender, threadID, typ, clientID, text, richText, copies, files)
	}
	return nil, nil, parley.Errorf(parley.EINVALID, "senderActorId must be a user (A-…) or a bot (B-…)")
}

// postReply posts for u, who must see the thread, as sender: the user as
// (the sender's own user; nil for a bot).
func (a *App) postReply(ctx context.Context, u, as *parley.User, sender string, threadID uint64, typ parley.MessageType, clientID, text, richText string, copies *ReplyCopies, files []uint64) (*parley.Message, *parley.Thread, error) {
	if typ == "" {
		typ = parley.TypeMessage
	}
	if typ != parley.TypeMessage && typ != parley.TypeComment {
		return nil, nil, parley.Errorf(parley.EINVALID, "message type must be MESSAGE or COMMENT")
	}
	rich := ""
	if richText != "" {
		if len(richText) > parley.MaxRichTextBytes {
			return nil, nil, parley.Errorf(parley.ETOOLARGE, "richText is %d bytes; the limit is %d", len(richText), parley.MaxRichTextBytes)
		}
		rich = richtext.Clean(richText)
		if strings.TrimSpace(text) == "" {
			text = limitString(strings.TrimSpace(richtext.Text(rich)), parley.MaxTextBytes)
		}
		// The images it shows of the sender's uploads go with it as files.
		for _, id := range imageFiles(rich) {
			if !slices.Contains(files, id) {
				files = append(files, id)
			}
		}
	}
	atts, err := messageFiles(files)
	if err != nil {
		return nil, nil, err
	}
	if err := validBody(text, len(atts)); err != nil {
		return nil, nil, err
	}
	if err := parley.ValidateClientID(clientID); err != nil {
		return nil, nil, err
	}
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, nil, err
	}
	if t.ChannelID == parley.ChannelEmail && typ == parley.TypeMessage {
		return a.postEmailReply(ctx, as, t, clientID, text, rich, copies, atts) // stored and queued to be sent (mail.go)
	}
	if parley.IsCustomChannel(t.ChannelID) && typ == parley.TypeMessage {
		// Stored and, in the same commit, queued for the channel's
		// webhook (customchannel.go).
		if err := a.checkChannelReply(ctx, t, atts); err != nil {
			return nil, nil, err
		}
	}
	if rich != "" {
		return nil, nil, parley.Errorf(parley.EINVALID, "richText applies only to an email reply (type MESSAGE on an email thread); chat replies are plain text")
	}
	if copies != nil && (len(copies.Cc) > 0 || len(copies.Bcc) > 0) {
		return nil, nil, parley.Errorf(parley.EINVALID, "recipients (Cc, Bcc) apply only to an email reply (type MESSAGE on an email thread)")
	}
	res, err := a.db.AppendMessage(ctx, &parley.Message{
		ThreadID: t.ID, Type: typ, Text: text, SenderID: sender, Direction: parley.Outgoing,
		ClientID: clientID, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID, Attachments: atts,
	}, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if typ == parley.TypeMessage && t.Owner == parley.OwnerBot && as != nil {
			return errNotBot() // bot and agent never both answer (B1); notes are fine
		}
		return nil
	}})
	if err != nil {
		return nil, nil, err
	}
	if !res.Duplicate {
		a.events.MessageCreated(ctx, res.Thread, res.Message)
	}
	return res.Message, res.Thread, nil
}

// SetThreadStatus opens or closes a thread and records the change on it.
func (a *App) SetThreadStatus(ctx context.Context, u *parley.User, threadID uint64, status parley.ThreadStatus) (*parley.Thread, error) {
	if status != parley.StatusOpen && status != parley.StatusClosed {
		return nil, parley.Errorf(parley.EINVALID, "status must be OPEN or CLOSED")
	}
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	if t.BotOnly() {
		return nil, errNotBot() // it closes itself (I7)
	}
	now := a.Now()
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeStatusChange, NewStatus: status, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID, CreatedAt: now,
	}
	closed := false
	t, err = a.recordChange(ctx, t, m, true, func(t *parley.Thread) bool {
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
		a.afterThreadClosed(ctx, t) // the transcript (mail_transcript.go)
	}
	return t, err
}

// AssignThread sets (assigneeID > 0) or clears (0) a thread's assignee, who
// must be an active member of the thread's inbox.
func (a *App) AssignThread(ctx context.Context, u *parley.User, threadID, assigneeID uint64) (*parley.Thread, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	if t.BotOnly() {
		return nil, errNotBot()
	}
	if assigneeID != 0 {
		as, err := a.db.User(ctx, assigneeID)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && as.Deactivated {
			return nil, parley.Errorf(parley.EINVALID, "actor %s is not an active user", parley.UserActorID(assigneeID))
		} else if err != nil {
			return nil, err
		}
		if ok, err := a.IsMember(ctx, as, t.InboxID); err != nil {
			return nil, err
		} else if !ok {
			return nil, parley.Errorf(parley.EINVALID, "%s is not a member of this thread's inbox", as.Name)
		}
	}
	m := &parley.Message{
		ThreadID: t.ID, Type: parley.TypeAssignment, AssigneeID: assigneeID, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}
	return a.recordChange(ctx, t, m, false, func(t *parley.Thread) bool {
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
func (a *App) recordChange(ctx context.Context, t *parley.Thread, m *parley.Message, toVisitor bool, change func(*parley.Thread) bool) (*parley.Thread, error) {
	res, err := a.db.AppendMessage(ctx, m, parley.AppendOptions{Update: func(t *parley.Thread) error {
		if !change(t) {
			return errUnchanged
		}
		return nil
	}})
	if errors.Is(err, errUnchanged) {
		return a.db.Thread(ctx, t.ID)
	} else if err != nil {
		return nil, err
	}
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	a.events.ThreadUpdated(ctx, res.Thread, toVisitor)
	a.KickRouting() // a close or an unassignment may make room for a waiting conversation
	return res.Thread, nil
}

// systemEvent is the system message that records event, done by u, on t.
func systemEvent(u *parley.User, t *parley.Thread, event string) *parley.Message {
	return &parley.Message{
		ThreadID: t.ID, Type: parley.TypeSystem, Event: event, SenderID: u.ActorID(), Direction: parley.Outgoing,
		ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID,
	}
}

// threadEvent changes thread id for user u with change and records event on
// it, in one commit; then it announces both to the inbox's agents. change
// reports whether it changed anything: if not, nothing is written or
// announced and the thread is returned as it is.
func (a *App) threadEvent(ctx context.Context, u *parley.User, threadID uint64, event string, change func(*parley.Thread) bool) (*parley.Thread, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	return a.recordChange(ctx, t, systemEvent(u, t, event), false, change)
}

// SetSpam marks one thread as spam or not (I9: it touches only that thread).
func (a *App) SetSpam(ctx context.Context, u *parley.User, threadID uint64, spam bool) (*parley.Thread, error) {
	return a.setFlag(ctx, u, threadID, spam, parley.EventSpam, parley.EventNotSpam, func(t *parley.Thread) *bool { return &t.Spam })
}

// setFlag sets the flag of thread threadID that field points to, recording
// onEvent or offEvent with it (threadEvent); a flag already so changes
// nothing.
func (a *App) setFlag(ctx context.Context, u *parley.User, threadID uint64, on bool, onEvent, offEvent string, field func(*parley.Thread) *bool) (*parley.Thread, error) {
	event := offEvent
	if on {
		event = onEvent
	}
	return a.threadEvent(ctx, u, threadID, event, func(t *parley.Thread) bool {
		if f := field(t); *f != on {
			*f = on
			return true
		}
		return false
	})
}

// SetBlocked blocks or unblocks the sender of a thread (I9). Blocking marks
// the contact, whose new conversations then start in Filtered, and moves this
// thread to Filtered. Unblocking clears both: this thread returns to the
// inbox, and so do the contact's future conversations. Both are recorded on
// the thread in the same commit.
func (a *App) SetBlocked(ctx context.Context, u *parley.User, threadID uint64, blocked bool) (*parley.Thread, error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	event := parley.EventUnblocked
	if blocked {
		event = parley.EventBlocked
	}
	res, _, err := a.db.AppendWithContact(ctx, systemEvent(u, t, event), func(t *parley.Thread, c *parley.Contact) error {
		if t.Blocked == blocked && c.Blocked == blocked {
			return errUnchanged
		}
		t.Blocked, c.Blocked = blocked, blocked
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return a.db.Thread(ctx, threadID)
	} else if err != nil {
		return nil, err
	}
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	a.events.ThreadUpdated(ctx, res.Thread, false)
	return res.Thread, nil
}

// DeleteThread deletes a thread in the trash for good (I6): its messages,
// files, index entries and queued mail, in one commit. u must be a member
// of its inbox (the server lets only admins ask). A thread not in the trash
// is ECONFLICT: deletion is the second step, after moving it there.
func (a *App) DeleteThread(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, error) {
	if _, err := a.ThreadForUser(ctx, u, threadID); err != nil {
		return nil, err
	}
	t, err := a.db.DeleteThread(ctx, threadID, func(t *parley.Thread) error {
		if !t.Archived {
			return parley.Errorf(parley.ECONFLICT, "thread %d is not in the trash; move it there first", t.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.events.ThreadDeleted(ctx, t)
	a.FilesDeleted()
	return t, nil
}

// SetArchived moves a thread to or from the trash (HubSpot's "archived") and
// records that on it (EventArchived, EventRestored).
func (a *App) SetArchived(ctx context.Context, u *parley.User, threadID uint64, archived bool) (*parley.Thread, error) {
	return a.setFlag(ctx, u, threadID, archived, parley.EventArchived, parley.EventRestored, func(t *parley.Thread) *bool { return &t.Archived })
}

// NewVisitor creates a contact and the browser credential that stands for
// it, stored by the hash of its secret (the caller keeps the secret).
func (a *App) NewVisitor(ctx context.Context, hash string) (*parley.Contact, error) {
	c := &parley.Contact{CreatedAt: a.Now()}
	if err := a.db.CreateContact(ctx, c); err != nil {
		return nil, err
	}
	if err := a.db.CreateVisitor(ctx, &parley.Visitor{Hash: hash, ContactID: c.ID, CreatedAt: a.Now()}); err != nil {
		return nil, err
	}
	return c, nil
}

// PostVisitorMessage stores a visitor's chat message in its thread on widget
// w, starting the thread or reopening it as needed. On a conversation that
// the widget's bot owns, the bot answers in the same commit (bot.go); lang
// is the visitor's language for the bot's built-in texts. The caller reads w
// and the contact for this message (the widget may have been switched off or
// its bot changed since the visitor connected) and says whether the contact
// is blocked: every message of every chat comes through here, so nothing is
// read twice. leave, if not 0, is a conversation the visitor left: while it
// is the visitor's newest, the message starts a new one
// (parley.AppendOptions.Leave).
func (a *App) PostVisitorMessage(ctx context.Context, w *parley.Widget, contactID uint64, blocked bool, pageURL, lang, clientID, text string, files []uint64, leave uint64) (parley.TurnResult, error) {
	atts, err := messageFiles(files)
	if err != nil {
		return parley.TurnResult{}, err
	}
	if len(atts) > 0 && !w.AttachmentsAllowed() {
		return parley.TurnResult{}, parley.Errorf(parley.EINVALID, "this chat takes no files")
	}
	if err := validBody(text, len(atts)); err != nil {
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
		turn = botTurn(w, lang, text, a.Now(), a.handoffTargets(ctx, w.Bot))
	}
	reopened, filtered := false, false
	// A new conversation enters the routing queue in the commit that
	// creates it, so that it is routed even if Parley stops right after.
	res, err := a.db.AppendTurn(ctx, &parley.Message{
		Type: parley.TypeMessage, Text: text, SenderID: parley.ContactActorID(contactID), Direction: parley.Incoming,
		ClientID: clientID, ChannelID: parley.ChannelChat, ChannelAccountID: w.ID, Attachments: atts,
	}, parley.AppendOptions{
		NewThread: &parley.Thread{
			InboxID: w.InboxID, ChannelID: parley.ChannelChat, ChannelAccountID: w.ID, ContactID: contactID,
			Status: parley.StatusOpen, PageURL: limitString(pageURL, 2000), Blocked: blocked, Owner: owner,
			Language: locale.Match(lang),
		},
		Leave: leave,
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
		a.events.ThreadCreated(ctx, res.Thread)
	case reopened:
		a.events.ThreadUpdated(ctx, res.Thread, true)
	case filtered:
		a.events.ThreadUpdated(ctx, res.Thread, false)
	}
	a.events.MessageCreated(ctx, res.Thread, res.Message)
	res.Thread = a.publishTurn(ctx, res)
	if res.Thread.Owner != parley.OwnerBot {
		// A bot's conversation tells no one outside until it is handed off.
		a.notifyOutside(ctx, res.Thread, res.Message, res.ThreadCreated) // outside notifications (mail.go)
	}
	// Routing (W6, I10): a new conversation goes to an agent; a reply on a
	// conversation whose assignee is away may go to a teammate.
	if res.ThreadCreated {
		if res.Queued {
			a.routeNew(ctx, res.Thread)
		}
	} else {
		a.reassignIfAway(ctx, res.Thread)
	}
	return res, nil
}

func limitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// messageFiles turns the upload ids a message names into its attachments:
// at most parley.MaxMessageFiles, each once. That they are the sender's
// uploads, for this thread or none, is checked as the message is appended.
func messageFiles(ids []uint64) ([]parley.Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > parley.MaxMessageFiles {
		return nil, parley.Errorf(parley.EINVALID, "a message carries at most %d files, not %d", parley.MaxMessageFiles, len(ids))
	}
	out := make([]parley.Attachment, len(ids))
	for i, id := range ids {
		if id == 0 || slices.Contains(ids[:i], id) {
			return nil, parley.Errorf(parley.EINVALID, "attachments[%d]: each file once, by its id", i)
		}
		out[i] = parley.Attachment{FileID: id}
	}
	return out, nil
}

// validBody checks a message's text: required (parley.ValidateText)
// unless the message carries files, and then, if given, valid all the
// same.
func validBody(text string, files int) error {
	if files > 0 && text == "" {
		return nil
	}
	return parley.ValidateText(text)
}
