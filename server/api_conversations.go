package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// The conversations API in HubSpot's v3 shape (CONTRACT §4, docs/api.md).

type threadJSON struct {
	ID                       string     `json:"id"`
	CreatedAt                time.Time  `json:"createdAt"`
	ClosedAt                 *time.Time `json:"closedAt,omitempty"`
	Status                   string     `json:"status"`
	OriginalChannelID        string     `json:"originalChannelId"`
	OriginalChannelAccountID string     `json:"originalChannelAccountId"`
	LatestMessageTimestamp   *time.Time `json:"latestMessageTimestamp,omitempty"`
	AssignedTo               string     `json:"assignedTo,omitempty"`
	Spam                     bool       `json:"spam"`
	Blocked                  bool       `json:"blocked"`
	RoleSender               bool       `json:"roleSender"` // email from a role address: Filtered
	Automatic                bool       `json:"automatic"`  // started by automatic mail: Filtered
	InboxID                  string     `json:"inboxId"`
	AssociatedContactID      string     `json:"associatedContactId"`
	Archived                 bool       `json:"archived"`
	// Parley's additions for list views.
	ContactName string `json:"contactName"`
	Subject     string `json:"subject,omitempty"` // email threads: the list shows it
	Preview     string `json:"preview"`
	LastSeq     uint64 `json:"lastSeq"`
	// Owner is who answers (B1): "bot", "waiting" (handed off by the bot,
	// for an agent) or "agent".
	Owner string `json:"owner"`
}

func (s *Server) toThreadJSON(ctx context.Context, t *parley.Thread) threadJSON {
	j := threadJSON{
		ID: idString(t.ID), CreatedAt: t.CreatedAt.UTC(), Status: string(t.Status),
		OriginalChannelID: strconv.Itoa(t.ChannelID), OriginalChannelAccountID: idString(t.ChannelAccountID),
		Spam: t.Spam, Blocked: t.Blocked, RoleSender: t.RoleSender, Automatic: t.Automatic, InboxID: idString(t.InboxID), AssociatedContactID: idString(t.ContactID),
		Archived: t.Archived, Subject: t.Subject, Preview: t.Preview, LastSeq: t.LastSeq,
		ContactName: s.app.ActorName(ctx, parley.ContactActorID(t.ContactID)), Owner: ownerJSON(t.Owner),
		AssignedTo: userActorID(t.AssigneeID),
	}
	if !t.ClosedAt.IsZero() {
		c := t.ClosedAt.UTC()
		j.ClosedAt = &c
	}
	if !t.LatestMessageAt.IsZero() {
		l := t.LatestMessageAt.UTC()
		j.LatestMessageTimestamp = &l
	}
	return j
}

type actorRef struct {
	ActorID string `json:"actorId"`
	Name    string `json:"name,omitempty"`
	// DeliveryIdentifier is the address an email message came from or
	// went to, as in HubSpot.
	DeliveryIdentifier *deliveryIdentifier `json:"deliveryIdentifier,omitempty"`
}

type deliveryIdentifier struct {
	Type  string `json:"type"` // HS_EMAIL_ADDRESS
	Value string `json:"value"`
}

type messageJSON struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	ConversationsThreadID string            `json:"conversationsThreadId"`
	CreatedAt             time.Time         `json:"createdAt"`
	CreatedBy             string            `json:"createdBy"`
	Senders               []actorRef        `json:"senders"`
	Recipients            []actorRef        `json:"recipients"`
	Text                  string            `json:"text"`
	RichText              string            `json:"richText"`
	Direction             string            `json:"direction"`
	ChannelID             string            `json:"channelId"`
	ChannelAccountID      string            `json:"channelAccountId"`
	Subject               string            `json:"subject"`
	Status                map[string]string `json:"status"`
	NewStatus             string            `json:"newStatus,omitempty"`
	AssignedTo            string            `json:"assignedTo,omitempty"`
	Event                 string            `json:"event,omitempty"`
	Changes               *[]parley.Change  `json:"changes,omitempty"`
	ClientID              string            `json:"clientId,omitempty"`
	Seq                   uint64            `json:"seq"`
	// Attachments hold a bot question's quick replies, in HubSpot's shape.
	Attachments []attachmentJSON `json:"attachments,omitempty"`
}

func (s *Server) toMessageJSON(ctx context.Context, t *parley.Thread, m *parley.Message, names map[string]string) messageJSON {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := s.app.ActorName(ctx, id)
		names[id] = n
		return n
	}
	// An email message's actors carry their addresses: a contact's own
	// (who may not be the thread's contact: a colleague in CC), an
	// agent's the mailbox's.
	ref := func(id string) actorRef {
		r := actorRef{ActorID: id, Name: name(id)}
		if m.ChannelID != parley.ChannelEmail || m.Type != parley.TypeMessage {
			return r
		}
		key := "address " + id
		addr, ok := names[key]
		if !ok {
			addr = s.actorAddress(ctx, id, t, m)
			names[key] = addr
		}
		if addr != "" {
			r.DeliveryIdentifier = &deliveryIdentifier{Type: "HS_EMAIL_ADDRESS", Value: addr}
		}
		return r
	}
	contact := parley.ContactActorID(t.ContactID)
	j := messageJSON{
		ID: idString(m.ID), Type: string(m.Type), ConversationsThreadID: idString(m.ThreadID),
		CreatedAt: m.CreatedAt.UTC(), CreatedBy: m.SenderID,
		Senders:    []actorRef{ref(m.SenderID)},
		Recipients: []actorRef{},
		Text:       m.Text, RichText: m.RichText, Direction: string(m.Direction),
		ChannelID: strconv.Itoa(m.ChannelID), ChannelAccountID: idString(m.ChannelAccountID),
		Subject: t.Subject, Status: s.messageStatus(ctx, t, m),
		NewStatus: string(m.NewStatus), Event: m.Event, Changes: m.Changes, ClientID: m.ClientID, Seq: m.Seq,
		AssignedTo: userActorID(m.AssigneeID),
	}
	// What the team sends goes to the thread's contact; what comes in
	// (from the contact or someone else) comes to the team.
	if m.Type == parley.TypeMessage && m.SenderID != contact && m.Direction != parley.Incoming {
		j.Recipients = append(j.Recipients, ref(contact))
	}
	if len(m.QuickReplies) > 0 {
		j.Attachments = []attachmentJSON{quickRepliesJSON(m.QuickReplies)}
	}
	return j
}

// actorAddress is the email address of actor id on email message m of
// thread t: a contact's email, or for an agent the mailbox the thread
// uses; "" if none.
func (s *Server) actorAddress(ctx context.Context, id string, t *parley.Thread, m *parley.Message) string {
	prefix, n, err := parley.ParseActorID(id)
	if err != nil {
		return ""
	}
	switch prefix {
	case parley.ActorVisitor:
		if c, err := s.db.Contact(ctx, n); err == nil {
			return c.Email
		}
	case parley.ActorUser:
		if in, err := s.db.Inbox(ctx, t.InboxID); err == nil {
			if mb := in.MailboxByID(m.ChannelAccountID); mb != nil {
				return mb.Address
			}
		}
	}
	return ""
}

type page struct {
	Results any        `json:"results"`
	Paging  *pagingOut `json:"paging,omitempty"`
}

type pagingOut struct {
	Next struct {
		After string `json:"after"`
	} `json:"next"`
}

func nextPage(after string) *pagingOut {
	p := &pagingOut{}
	p.Next.After = after
	return p
}

// listPage converts items with conv into a page of results; when more
// follow, paging.next.after is the cursor of the last item.
func listPage[T, J any](items []T, more bool, conv func(T) J, cursor func(T) string) page {
	out := make([]J, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	p := page{Results: out}
	if more && len(items) > 0 {
		p.Paging = nextPage(cursor(items[len(items)-1]))
	}
	return p
}

func (s *Server) handleThreadsList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		u := userFrom(ctx)
		q := r.URL.Query()
		limit, err := queryLimit(r, 100, 500)
		if err != nil {
			return err
		}
		f := parley.ThreadFilter{Limit: limit}
		if f.InboxIDs, err = s.queryInboxes(r, u); err != nil {
			return err
		}
		switch v := strings.ToUpper(q.Get("threadStatus")); v {
		case "":
		case "OPEN", "CLOSED":
			f.Status = parley.ThreadStatus(v)
		default:
			return parley.Errorf(parley.EINVALID, "threadStatus must be OPEN or CLOSED")
		}
		if f.ContactID, err = queryID(r, "associatedContactId"); err != nil {
			return err
		}
		if f.Archived, err = queryBool(r, "archived"); err != nil {
			return err
		}
		switch q.Get("sort") {
		case "", "id":
			f.Sort = "id"
		case "latestMessageTimestamp":
			if q.Get("latestMessageTimestampAfter") == "" {
				return parley.Errorf(parley.EINVALID, "sort=latestMessageTimestamp needs latestMessageTimestampAfter")
			}
			if f.LatestAfter, err = queryTime(r, "latestMessageTimestampAfter"); err != nil {
				return err
			}
			f.Sort = parley.SortByLatestAsc
		case "-latestMessageTimestamp":
			f.Sort = "latest"
		default:
			return parley.Errorf(parley.EINVALID, "sort must be id, latestMessageTimestamp or -latestMessageTimestamp")
		}
		if f.AfterID, err = queryCursor(r, 0); err != nil {
			return err
		}
		// Parley's views and filters (routes_list.go).
		lp, err := parseListParams(r, u)
		if err != nil {
			return err
		} else if lp.empty {
			s.writeJSON(w, http.StatusOK, page{Results: []threadJSON{}})
			return nil
		}
		lp.apply(&f)
		threads, more, err := s.db.Threads(ctx, f)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, listPage(threads, more,
			func(t *parley.Thread) threadJSON { return s.toThreadJSON(ctx, t) },
			func(t *parley.Thread) string { return idString(t.ID) }))
		return nil
	})
}

// threadParam resolves {threadId} to a thread the caller may see; anything
// else is ENOTFOUND.
func (s *Server) threadParam(r *http.Request) (*parley.Thread, error) {
	id, err := pathID(r, "threadId")
	if err != nil {
		return nil, err
	}
	return s.app.ThreadForUser(r.Context(), userFrom(r.Context()), id)
}

// threadBody resolves {threadId} as threadParam does and then reads the
// request's body into req (decodeJSON).
func (s *Server) threadBody(w http.ResponseWriter, r *http.Request, req any) (*parley.Thread, error) {
	t, err := s.threadParam(r)
	if err != nil {
		return nil, err
	}
	return t, decodeJSON(w, r, req)
}

// threadOp is a change of thread threadID that user u makes; it checks that
// u may see the thread.
type threadOp func(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, error)

// threadOpHandler answers a request on {threadId} that needs no body with
// what op makes of the thread: the thread with status 200, or nothing with
// status 204.
func (s *Server) threadOpHandler(status int, op threadOp) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "threadId")
		if err != nil {
			return err
		}
		t, err := op(r.Context(), userFrom(r.Context()), id)
		if err != nil {
			return err
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return nil
		}
		s.writeJSON(w, status, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

func (s *Server) handleThreadGet() http.Handler {
	return s.threadOpHandler(http.StatusOK, s.app.ThreadForUser)
}

func (s *Server) handleThreadPatch() http.Handler {
	type request struct {
		Status   *string `json:"status"`
		Archived *bool   `json:"archived"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		if req.Status == nil && req.Archived == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send status or archived")
		}
		if req.Status != nil && *req.Status != "OPEN" && *req.Status != "CLOSED" {
			return parley.Errorf(parley.EINVALID, "status must be OPEN or CLOSED")
		}
		u := userFrom(r.Context())
		if req.Archived != nil {
			if t, err = s.app.SetArchived(r.Context(), u, t.ID, *req.Archived); err != nil {
				return err
			}
		}
		if req.Status != nil {
			if t, err = s.app.SetThreadStatus(r.Context(), u, t.ID, parley.ThreadStatus(*req.Status)); err != nil {
				return err
			}
		}
		s.writeJSON(w, http.StatusOK, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

func (s *Server) handleThreadArchive() http.Handler {
	return s.threadOpHandler(http.StatusNoContent, func(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
		return s.app.SetArchived(ctx, u, id, true)
	})
}

func (s *Server) handleAssigneePut() http.Handler {
	type request struct {
		ActorID string `json:"actorId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		prefix, id, err := parley.ParseActorID(req.ActorID)
		if err == nil && prefix != parley.ActorUser {
			err = parley.Errorf(parley.EINVALID, "actorId must be a user actor (A-…)")
		}
		if err != nil {
			return err
		}
		if t, err = s.app.AssignThread(r.Context(), userFrom(r.Context()), t.ID, id); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

func (s *Server) handleAssigneeDelete() http.Handler {
	return s.threadOpHandler(http.StatusNoContent, func(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
		return s.app.AssignThread(ctx, u, id, 0)
	})
}

func (s *Server) handleMessagesList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.threadParam(r)
		if err != nil {
			return err
		}
		limit, err := queryLimit(r, 100, 500)
		if err != nil {
			return err
		}
		after, err := queryCursor(r, 0)
		if err != nil {
			return err
		}
		msgs, more, err := s.db.Messages(r.Context(), t.ID, after, limit)
		if err != nil {
			return err
		}
		names := map[string]string{}
		s.writeJSON(w, http.StatusOK, listPage(msgs, more,
			func(m *parley.Message) messageJSON { return s.toMessageJSON(r.Context(), t, m, names) },
			func(m *parley.Message) string { return strconv.FormatUint(m.Seq, 10) }))
		return nil
	})
}

func (s *Server) handleMessageGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.threadParam(r)
		if err != nil {
			return err
		}
		id, err := pathID(r, "messageId")
		if err != nil {
			return err
		}
		m, err := s.db.Message(r.Context(), id)
		if err != nil {
			return err
		} else if m.ThreadID != t.ID {
			return parley.Errorf(parley.ENOTFOUND, "message not found")
		}
		s.writeJSON(w, http.StatusOK, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}

func (s *Server) handleMessagePost() http.Handler {
	type request struct {
		Type             string `json:"type"`
		Text             string `json:"text"`
		RichText         string `json:"richText"`
		SenderActorID    string `json:"senderActorId"`
		ChannelID        string `json:"channelId"`
		ChannelAccountID string `json:"channelAccountId"`
		ClientID         string `json:"clientId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		if req.Type == "" {
			req.Type = string(parley.TypeMessage)
		}
		if req.SenderActorID != "" && req.SenderActorID != u.ActorID() {
			return parley.Errorf(parley.EFORBIDDEN, "senderActorId must be your own actor id %s", u.ActorID())
		}
		if req.ChannelID != "" && req.ChannelID != strconv.Itoa(t.ChannelID) {
			return parley.Errorf(parley.EINVALID, "channelId must be the thread's channel %d", t.ChannelID)
		}
		if req.ChannelAccountID != "" && req.ChannelAccountID != idString(t.ChannelAccountID) {
			return parley.Errorf(parley.EINVALID, "channelAccountId must be the thread's channel account %d", t.ChannelAccountID)
		}
		text := req.Text
		if text == "" && req.RichText != "" {
			return parley.Errorf(parley.EINVALID, "text is required (richText alone is not accepted on chat)")
		}
		m, t, err := s.app.PostAgentMessage(r.Context(), u, t.ID, parley.MessageType(req.Type), req.ClientID, text)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}

type inboxJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Archived  bool      `json:"archived"`
}

func toInboxJSON(in *parley.Inbox) inboxJSON {
	return inboxJSON{ID: idString(in.ID), Name: in.Name, CreatedAt: in.CreatedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC()}
}

func (s *Server) handleInboxes() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		inboxes, err := s.db.Inboxes(r.Context())
		if err != nil {
			return err
		}
		out := []inboxJSON{}
		for _, in := range inboxes {
			if in.HasMember(u.ID) {
				out = append(out, toInboxJSON(in))
			}
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleInboxGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "inboxId")
		if err != nil {
			return err
		}
		in, err := s.db.Inbox(r.Context(), id)
		if err != nil {
			return err
		} else if !in.HasMember(userFrom(r.Context()).ID) {
			return parley.Errorf(parley.ENOTFOUND, "inbox not found")
		}
		s.writeJSON(w, http.StatusOK, toInboxJSON(in))
		return nil
	})
}

func (s *Server) handleChannels() http.Handler {
	type channel struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		s.writeJSON(w, http.StatusOK, page{Results: []channel{
			{ID: strconv.Itoa(parley.ChannelChat), Name: "Chat", CreatedAt: epoch},
			{ID: strconv.Itoa(parley.ChannelEmail), Name: "Email", CreatedAt: epoch},
		}})
		return nil
	})
}

type channelAccountJSON struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channelId"`
	InboxID   string    `json:"inboxId"`
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	Archived  bool      `json:"archived"`
}

func (s *Server) visibleWidgets(ctx context.Context, u *parley.User) ([]channelAccountJSON, error) {
	widgets, err := s.db.Widgets(ctx)
	if err != nil {
		return nil, err
	}
	member, err := s.app.UserInboxIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	out := []channelAccountJSON{}
	for _, wd := range widgets {
		for _, id := range member {
			if id == wd.InboxID {
				out = append(out, channelAccountJSON{ID: idString(wd.ID), ChannelID: strconv.Itoa(parley.ChannelChat),
					InboxID: idString(wd.InboxID), Name: wd.Name, Active: wd.Enabled, CreatedAt: wd.CreatedAt.UTC()})
			}
		}
	}
	mailboxes, err := s.visibleMailboxes(ctx, member) // team mailboxes (routes_mail.go)
	return append(out, mailboxes...), err
}

func (s *Server) handleChannelAccounts() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.visibleWidgets(r.Context(), userFrom(r.Context()))
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleChannelAccountGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.visibleWidgets(r.Context(), userFrom(r.Context()))
		if err != nil {
			return err
		}
		for _, ca := range out {
			if ca.ID == r.PathValue("id") {
				s.writeJSON(w, http.StatusOK, ca)
				return nil
			}
		}
		return parley.Errorf(parley.ENOTFOUND, "channel account not found")
	})
}

type actorJSON struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// actor resolves an actor id the caller may see: any user, a contact only
// if it has a thread in one of the caller's inboxes.
func (s *Server) actor(ctx context.Context, u *parley.User, actorID string) (actorJSON, error) {
	prefix, id, err := parley.ParseActorID(actorID)
	if err != nil {
		return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
	}
	switch prefix {
	case parley.ActorUser:
		a, err := s.db.User(ctx, id)
		if err != nil {
			return actorJSON{}, err
		}
		return actorJSON{ID: actorID, Type: "AGENT", Name: a.Name, Email: a.Email}, nil
	case parley.ActorVisitor:
		c, err := s.db.Contact(ctx, id)
		if err != nil {
			return actorJSON{}, err
		}
		inboxes, err := s.app.UserInboxIDs(ctx, u)
		if err != nil {
			return actorJSON{}, err
		}
		ts, _, err := s.db.Threads(ctx, parley.ThreadFilter{InboxIDs: inboxes, ContactID: id, Limit: 1, Archived: ptr(false)})
		if err != nil {
			return actorJSON{}, err
		}
		if len(ts) == 0 {
			archived, _, err := s.db.Threads(ctx, parley.ThreadFilter{InboxIDs: inboxes, ContactID: id, Limit: 1, Archived: ptr(true)})
			if err != nil {
				return actorJSON{}, err
			}
			if len(archived) == 0 {
				return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
			}
		}
		return actorJSON{ID: actorID, Type: "VISITOR", Name: c.DisplayName(), Email: c.Email}, nil
	case parley.ActorSystem:
		return actorJSON{ID: actorID, Type: "SYSTEM", Name: "Parley"}, nil
	case parley.ActorBot:
		return s.botActor(ctx, u, actorID, id)
	}
	return actorJSON{}, parley.Errorf(parley.ENOTFOUND, "actor not found")
}

func ptr[T any](v T) *T { return &v }

func (s *Server) handleActorGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.actor(r.Context(), userFrom(r.Context()), r.PathValue("actorId"))
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleActorsBatch() http.Handler {
	type request struct {
		Inputs []string `json:"inputs"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if len(req.Inputs) > 100 {
			return parley.Errorf(parley.EINVALID, "inputs holds at most 100 actor ids")
		}
		out := []actorJSON{}
		for _, id := range req.Inputs {
			a, err := s.actor(r.Context(), userFrom(r.Context()), id)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			out = append(out, a)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": out})
		return nil
	})
}
