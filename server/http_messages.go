package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// A thread's messages in the conversations API, HubSpot v3 shape.

type actorRef struct {
	// ActorID names the actor; a recipient who is only an address (a
	// copy) has none, as in HubSpot.
	ActorID string `json:"actorId,omitempty"`
	Name    string `json:"name,omitempty"`
	// DeliveryIdentifier is the address an email message came from or
	// went to, as in HubSpot.
	DeliveryIdentifier *deliveryIdentifier `json:"deliveryIdentifier,omitempty"`
	// RecipientField is, for a recipient of an email message, the header
	// that named it: TO, CC or BCC (HubSpot's name).
	RecipientField string `json:"recipientField,omitempty"`
}

type deliveryIdentifier struct {
	Type  string `json:"type"` // HS_EMAIL_ADDRESS
	Value string `json:"value"`
}

type messageJSON struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	ConversationsThreadID string            `json:"conversationsThreadId"`
	CreatedAt             msTime            `json:"createdAt"`
	UpdatedAt             msTime            `json:"updatedAt"` // a message does not change: its creation
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
	AssignedFrom          string            `json:"assignedFrom,omitempty"` // ASSIGNMENT: the assignee before
	Archived              bool              `json:"archived"`               // the thread's: a message is archived with it
	Client                clientJSON        `json:"client"`
	TruncationStatus      string            `json:"truncationStatus"` // always NOT_TRUNCATED: Parley keeps whole messages
	Event                 string            `json:"event,omitempty"`
	Changes               *[]parley.Change  `json:"changes,omitempty"`
	ClientID              string            `json:"clientId,omitempty"`
	Seq                   uint64            `json:"seq"`
	// Attachments are the message's files and a bot question's quick
	// replies, in HubSpot's shapes (fileAttachmentJSON, attachmentJSON).
	Attachments []any `json:"attachments"`
}

// clientJSON is HubSpot's client of a message: what made it. SYSTEM for
// what Parley records itself (events, bots, transcripts), HUBSPOT for
// what people write (Parley is the product here, as HubSpot is there).
type clientJSON struct {
	ClientType string `json:"clientType"`
	// IntegrationAppID is, for INTEGRATION, the app whose custom channel
	// published the message.
	IntegrationAppID uint64 `json:"integrationAppId,omitempty"`
}

// messageClient is the client of m.
func messageClient(m *parley.Message) clientJSON {
	if strings.HasPrefix(m.SenderID, parley.ActorBot) || strings.HasPrefix(m.SenderID, parley.ActorSystem) || (m.Type != parley.TypeMessage && m.Type != parley.TypeComment) {
		return clientJSON{ClientType: "SYSTEM"}
	}
	return clientJSON{ClientType: "HUBSPOT"}
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
		CreatedAt: msTime(m.CreatedAt), UpdatedAt: msTime(m.CreatedAt), CreatedBy: m.SenderID,
		Senders:    []actorRef{ref(m.SenderID)},
		Recipients: []actorRef{},
		Text:       m.Text, RichText: m.RichText, Direction: string(m.Direction),
		ChannelID: strconv.Itoa(m.ChannelID), ChannelAccountID: idString(m.ChannelAccountID),
		Subject: t.Subject, Status: s.messageStatus(ctx, t, m),
		NewStatus: string(m.NewStatus), Event: m.Event, Changes: m.Changes, ClientID: m.ClientID, Seq: m.Seq,
		Attachments: []any{},
		AssignedTo:  userActorID(m.AssigneeID), Archived: t.Archived, Client: messageClient(m), TruncationStatus: "NOT_TRUNCATED",
	}
	if m.Type == parley.TypeAssignment {
		j.AssignedFrom = userActorID(m.AssignedFromID)
	}
	// What the team sends goes to the thread's contact; what comes in
	// (from the contact or someone else) comes to the team. Email keeps
	// who else it went to (recipientsJSON).
	if len(m.Recipients) > 0 {
		j.Recipients = recipientsJSON(m.Recipients, func(addr string) string {
			if c, ok := names["contact"]; ok {
				if c == addr {
					return contact
				}
				return ""
			}
			ca := s.actorAddress(ctx, contact, t, m)
			names["contact"] = strings.ToLower(ca)
			if strings.ToLower(ca) == addr {
				return contact
			}
			return ""
		})
	} else if m.Type == parley.TypeMessage && m.SenderID != contact && m.Direction != parley.Incoming {
		j.Recipients = append(j.Recipients, ref(contact))
	}
	for _, at := range m.Attachments {
		j.Attachments = append(j.Attachments, fileAttachmentJSON{Type: "FILE", FileID: idString(at.FileID), Name: at.Name,
			URL: s.fileURL(ctx, at), FileUsageType: fileUsageType(at)})
	}
	if len(m.QuickReplies) > 0 {
		j.Attachments = append(j.Attachments, quickRepliesJSON(m.QuickReplies))
	}
	if parley.IsCustomChannel(m.ChannelID) && m.Type == parley.TypeMessage {
		s.channelActors(ctx, t, m, &j)
	}
	return j
}

// channelActors completes j, message m of custom channel thread t: the
// contact's and the account's delivery identifiers, and for what the
// integration published its client (INTEGRATION and the channel's app).
func (s *Server) channelActors(ctx context.Context, t *parley.Thread, m *parley.Message, j *messageJSON) {
	var contact, account *deliveryIdentifier
	if ti := t.Integration; ti != nil {
		contact = &deliveryIdentifier{Type: ti.Contact.Type, Value: ti.Contact.Value}
	}
	if acc, err := s.db.ChannelAccount(ctx, m.ChannelAccountID); err == nil && acc.DeliveryIdentifier != nil {
		account = &deliveryIdentifier{Type: acc.DeliveryIdentifier.Type, Value: acc.DeliveryIdentifier.Value}
	}
	contactID := parley.ContactActorID(t.ContactID)
	if m.Direction == parley.Incoming {
		if m.SenderID == contactID {
			j.Senders[0].DeliveryIdentifier = contact
		}
		j.Recipients = []actorRef{}
		if account != nil {
			j.Recipients = append(j.Recipients, actorRef{DeliveryIdentifier: account})
		}
		if ch, err := s.db.CustomChannel(ctx, uint64(m.ChannelID)); err == nil {
			j.Client = clientJSON{ClientType: "INTEGRATION", IntegrationAppID: ch.AppID}
		}
		return
	}
	j.Senders[0].DeliveryIdentifier = account
	for i := range j.Recipients {
		if j.Recipients[i].ActorID == contactID {
			j.Recipients[i].DeliveryIdentifier = contact
		}
	}
}

// recipientsJSON are the recipients of an email message (or of a forward)
// in HubSpot's shape, each with its recipientField; actor gives the actor
// id of a lower-cased address ("" for none). The API is for agents only, so
// BCC is among them.
func recipientsJSON(rs []parley.Recipient, actor func(addr string) string) []actorRef {
	out := make([]actorRef, 0, len(rs))
	for _, r := range rs {
		out = append(out, actorRef{
			ActorID: actor(strings.ToLower(r.Email)), Name: r.Name,
			DeliveryIdentifier: &deliveryIdentifier{Type: "HS_EMAIL_ADDRESS", Value: r.Email},
			RecipientField:     r.Field,
		})
	}
	return out
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

// messageParam resolves {threadId} as threadParam does and {messageId} as a
// message of that thread; a message of another thread is ENOTFOUND.
func (s *Server) messageParam(r *http.Request) (*parley.Thread, *parley.Message, error) {
	t, err := s.threadParam(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "messageId")
	if err != nil {
		return nil, nil, err
	}
	m, err := s.db.Message(r.Context(), id)
	if err != nil {
		return nil, nil, err
	} else if m.ThreadID != t.ID {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "message not found")
	}
	return t, m, nil
}

func (s *Server) handleMessageGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		t, m, err := s.messageParam(r)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}

// handleMessageOriginal answers HubSpot's original content of a message:
// its text and rich text, whole (Parley never truncates what it keeps).
func (s *Server) handleMessageOriginal() http.Handler {
	type original struct {
		Text     string `json:"text"`
		RichText string `json:"richText"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, m, err := s.messageParam(r)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, original{Text: m.Text, RichText: m.RichText})
		return nil
	})
}

// messageRecipient is a recipient in a request to post a message, in
// HubSpot's shape.
type messageRecipient struct {
	ActorID             string               `json:"actorId"`
	Name                string               `json:"name"`
	RecipientField      string               `json:"recipientField"`
	DeliveryIdentifiers []deliveryIdentifier `json:"deliveryIdentifiers"`
	// DeliveryIdentifier, the singular of HubSpot's answers, is taken too.
	DeliveryIdentifier *deliveryIdentifier `json:"deliveryIdentifier"`
}

func (s *Server) handleMessagePost() http.Handler {
	type request struct {
		Type             string              `json:"type"`
		Text             string              `json:"text"`
		RichText         string              `json:"richText"`
		SenderActorID    string              `json:"senderActorId"`
		ChannelID        string              `json:"channelId"`
		ChannelAccountID string              `json:"channelAccountId"`
		ClientID         string              `json:"clientId"`
		Recipients       *[]messageRecipient `json:"recipients"`
		// Subject is taken when it is the thread's own (below).
		Subject string `json:"subject"`
		// Attachments are HubSpot's: [{"type":"FILE","fileId"}], the
		// caller's uploads (POST /api/v1/threads/{threadId}/files).
		Attachments json.RawMessage `json:"attachments"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var raw json.RawMessage
		t, err := s.threadBody(w, r, &raw)
		if err != nil {
			return err
		}
		var req request
		if err := exactFields(raw, reflect.TypeOf(&req), ""); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return fieldError(err)
		}
		// A reply keeps its thread's subject: the subject a HubSpot client
		// sends along (the thread's, with or without "Re: ") is taken, any
		// other refused.
		if sub := strings.TrimSpace(req.Subject); sub != "" && !strings.EqualFold(sub, t.Subject) && !strings.EqualFold(sub, parley.ReplySubject(t.Subject)) {
			return parley.Errorf(parley.EINVALID, "subject: a reply keeps its thread's subject %q; another subject is not supported", t.Subject)
		}
		files, err := postedFiles(req.Attachments)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		if req.Type == "" {
			req.Type = string(parley.TypeMessage)
		}
		// Posting as someone else is for integrations that relay answers:
		// an admin-scoped API token only, never a console session.
		as := req.SenderActorID
		if as == u.ActorID() {
			as = ""
		}
		if a := authFrom(r.Context()); as != "" && (a.cookie || !u.IsAdmin() || !a.can(parley.ScopeAdmin)) {
			return parley.Errorf(parley.EFORBIDDEN, "senderActorId: only an admin-scoped API token may post as someone else; leave it out or send your own %s", u.ActorID())
		}
		if req.ChannelID != "" && req.ChannelID != strconv.Itoa(t.ChannelID) {
			return parley.Errorf(parley.EINVALID, "channelId must be the thread's channel %d", t.ChannelID)
		}
		if req.ChannelAccountID != "" && req.ChannelAccountID != idString(t.ChannelAccountID) {
			return parley.Errorf(parley.EINVALID, "channelAccountId must be the thread's channel account %d", t.ChannelAccountID)
		}
		copies, err := s.postedCopies(r.Context(), t, req.Recipients)
		if err != nil {
			return err
		}
		var m *parley.Message
		if as != "" {
			m, t, err = s.app.PostReplyAs(r.Context(), u, as, t.ID, parley.MessageType(req.Type), req.ClientID, req.Text, req.RichText, copies, files)
		} else {
			m, t, err = s.app.PostReply(r.Context(), u, t.ID, parley.MessageType(req.Type), req.ClientID, req.Text, req.RichText, copies, files)
		}
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}

// postedCopies reads the recipients of a posted message: nil (the
// thread's current Cc) when there are none; else their CC and BCC. A TO
// recipient must be the thread's contact (a reply goes to them); a
// recipientField other than TO, CC or BCC, a recipient without one
// address, and more than parley.MaxCopies copies are 400s naming the
// recipient.
func (s *Server) postedCopies(ctx context.Context, t *parley.Thread, rs *[]messageRecipient) (*app.ReplyCopies, error) {
	if rs == nil {
		return nil, nil
	}
	if len(*rs) > parley.MaxCopies+1 {
		return nil, parley.Errorf(parley.EINVALID, "recipients: at most %d (the contact and %d copies), not %d", parley.MaxCopies+1, parley.MaxCopies, len(*rs))
	}
	copies := &app.ReplyCopies{}
	onlyTo := true
	for i, r := range *rs {
		field := fmt.Sprintf("recipients[%d]", i)
		var addr string
		switch {
		case len(r.DeliveryIdentifiers) == 1 && r.DeliveryIdentifier == nil:
			addr = r.DeliveryIdentifiers[0].Value
			if r.DeliveryIdentifiers[0].Type != "HS_EMAIL_ADDRESS" {
				return nil, parley.Errorf(parley.EINVALID, "%s.deliveryIdentifiers[0].type must be HS_EMAIL_ADDRESS", field)
			}
		case len(r.DeliveryIdentifiers) == 0 && r.DeliveryIdentifier != nil:
			addr = r.DeliveryIdentifier.Value
			if r.DeliveryIdentifier.Type != "HS_EMAIL_ADDRESS" {
				return nil, parley.Errorf(parley.EINVALID, "%s.deliveryIdentifier.type must be HS_EMAIL_ADDRESS", field)
			}
		case r.RecipientField == parley.RecipientTo && r.ActorID != "" && len(r.DeliveryIdentifiers) == 0 && r.DeliveryIdentifier == nil:
			// The contact named by actor id alone.
		default:
			return nil, parley.Errorf(parley.EINVALID, "%s needs one deliveryIdentifiers entry of type HS_EMAIL_ADDRESS", field)
		}
		a, err := parley.CopyAddress(field, parley.Address{Name: r.Name, Email: addr})
		if err != nil && addr != "" {
			return nil, err
		}
		switch r.RecipientField {
		case parley.RecipientTo:
			if !s.isContact(ctx, t, r.ActorID, a.Email) {
				return nil, parley.Errorf(parley.EINVALID, "%s: a reply goes TO the thread's contact only; put other addresses on CC or BCC", field)
			}
		case parley.RecipientCc:
			copies.Cc, onlyTo = append(copies.Cc, a), false
		case parley.RecipientBcc:
			copies.Bcc, onlyTo = append(copies.Bcc, a), false
		default:
			return nil, parley.Errorf(parley.EINVALID, "%s.recipientField must be TO, CC or BCC", field)
		}
	}
	if onlyTo && len(*rs) > 0 {
		// Only the contact named, as a HubSpot client always does: the
		// thread's current Cc, as if nothing was said.
		return nil, nil
	}
	if t.ChannelID != parley.ChannelEmail && len(*rs) > 0 {
		return nil, parley.Errorf(parley.EINVALID, "recipients apply only to email threads")
	}
	return copies, nil
}

// isContact reports whether actor id or address addr names thread t's
// contact.
func (s *Server) isContact(ctx context.Context, t *parley.Thread, actorID, addr string) bool {
	if actorID != "" && actorID == parley.ContactActorID(t.ContactID) {
		return true
	}
	c, err := s.db.Contact(ctx, t.ContactID)
	return err == nil && addr != "" && strings.EqualFold(c.Email, addr)
}

// handleMessageRetry queues an email reply whose sending failed for good
// again and answers the message with its status PENDING. Not failed: 409.
func (s *Server) handleMessageRetry() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		t, m, err := s.messageParam(r)
		if err != nil {
			return err
		}
		if _, err := s.app.RetryReply(r.Context(), userFrom(r.Context()), t.ID, m.ID); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}

// fileAttachmentJSON is a file of a message in HubSpot's shape: url
// serves it to whoever holds it (a signed link).
type fileAttachmentJSON struct {
	Type          string `json:"type"` // FILE
	FileID        string `json:"fileId"`
	Name          string `json:"name"`
	URL           string `json:"url"`
	FileUsageType string `json:"fileUsageType"` // IMAGE, AUDIO or OTHER
}

// fileUsageType is HubSpot's kind of file at: IMAGE for an image shown
// inline, AUDIO for sound, OTHER for everything else.
func fileUsageType(at parley.Attachment) string {
	switch {
	case at.Inline:
		return "IMAGE"
	case strings.HasPrefix(at.Type, "audio/"):
		return "AUDIO"
	}
	return "OTHER"
}

// attachmentJSON is a bot question's quick replies in HubSpot's shape.
type attachmentJSON struct {
	Type             string           `json:"type"` // QUICK_REPLIES
	QuickReplies     []quickReplyJSON `json:"quickReplies"`
	AllowMultiSelect bool             `json:"allowMultiSelect"`
}

type quickReplyJSON struct {
	Label     string `json:"label"`
	Value     string `json:"value"`
	ValueType string `json:"valueType"` // TEXT
}

func quickRepliesJSON(options []string) attachmentJSON {
	a := attachmentJSON{Type: "QUICK_REPLIES", QuickReplies: make([]quickReplyJSON, len(options))}
	for i, o := range options {
		a.QuickReplies[i] = quickReplyJSON{Label: o, Value: o, ValueType: "TEXT"}
	}
	return a
}

// postedFiles reads the attachments of a posted message, HubSpot's
// [{"type":"FILE","fileId":"…"}]: the ids of the caller's uploads. Any
// other type or field is a 400 naming it.
func postedFiles(raw json.RawMessage) ([]uint64, error) {
	if a := bytes.TrimSpace(raw); len(a) == 0 || bytes.Equal(a, []byte("null")) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "attachments must be a list of {\"type\":\"FILE\",\"fileId\"}")
	}
	if len(list) > parley.MaxMessageFiles {
		return nil, parley.Errorf(parley.EINVALID, "attachments: at most %d files, not %d", parley.MaxMessageFiles, len(list))
	}
	files := make([]uint64, 0, len(list))
	for i, item := range list {
		var a struct {
			Type   string `json:"type"`
			FileID string `json:"fileId"`
		}
		if err := exactFields(item, reflect.TypeOf(&a), fmt.Sprintf("attachments[%d].", i)); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(item))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "attachments[%d]: %s", i, parley.ErrorMessage(fieldError(err)))
		}
		if a.Type != "FILE" {
			return nil, parley.Errorf(parley.EINVALID, "attachments[%d].type must be FILE", i)
		}
		id, err := parseID(a.FileID)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "attachments[%d].fileId must name an upload", i)
		}
		files = append(files, id)
	}
	return files, nil
}
