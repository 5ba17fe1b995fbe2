package server

import (
	"context"
	"strings"

	"github.com/parley-chat/parley"
)

// Topics beyond the hub's thread and inbox topics.
const presenceTopic = "presence"

func widgetTopic(id uint64) string { return "widget:" + idString(id) }

// wireMessage is a message on the WebSocket (docs/websocket.md).
type wireMessage struct {
	ID            string `json:"id"`
	ThreadID      string `json:"threadId"`
	Seq           uint64 `json:"seq"`
	Type          string `json:"type"`
	Text          string `json:"text,omitempty"`
	Direction     string `json:"direction"`
	SenderActorID string `json:"senderActorId"`
	SenderName    string `json:"senderName,omitempty"`
	// SenderAddress is, on an email message sent to agents, the address
	// it came from (a contact's own, who may not be the thread's
	// contact) or went out from (the mailbox).
	SenderAddress string `json:"senderAddress,omitempty"`
	// HTML is set, on an email message sent to agents, when it came with
	// HTML that GET /api/v1/threads/{threadId}/messages/{messageId}/html
	// shows.
	HTML bool `json:"html,omitempty"`
	// Delivery is, on an email reply or a forward sent to agents, how
	// sending it went.
	Delivery *wireDelivery `json:"delivery,omitempty"`
	// Recipients are, on an email message or a forward sent to agents, who
	// it went to or came to: {field: TO|CC|BCC, name, email}. Bcc is
	// for agents only, as all of it.
	Recipients []parley.Recipient `json:"recipients,omitempty"`
	ClientID   string             `json:"clientId,omitempty"`
	NewStatus  string             `json:"newStatus,omitempty"`
	AssignedTo string             `json:"assignedTo,omitempty"`
	Event      string             `json:"event,omitempty"`
	CreatedAt  msTime             `json:"createdAt"` // milliseconds, as the REST API writes times
	// QuickReplies are a bot question's answers, shown as buttons.
	QuickReplies []string `json:"quickReplies,omitempty"`
	// Attachments are the message's files.
	Attachments []wireAttachment `json:"attachments,omitempty"`

	// Changes are the fields an EventRecordUpdated changed.
	Changes *[]parley.Change `json:"changes,omitempty"`
}

// wireDelivery is an email reply's sending status, as message.delivery
// reports it.
type wireDelivery struct {
	Status string `json:"status"` // PENDING, SENT or FAILED
	Error  string `json:"error,omitempty"`
}

// agentWireMessage is m for agents: on an email message it adds the
// sender's address and a reply's delivery status. addrs caches addresses
// by actor id across calls (nil: no cache).
func (s *Server) agentWireMessage(ctx context.Context, t *parley.Thread, m *parley.Message, senderName string, addrs map[string]string) wireMessage {
	w := s.toWireMessage(ctx, m, senderName)
	if t != nil && m.Type == parley.TypeSystem && (m.Event == parley.EventTranscriptSent || m.Event == parley.EventForwarded) {
		// A transcript sent by hand, a forward: how its sending goes, and
		// a forward's addresses.
		if m.Event == parley.EventForwarded {
			w.Recipients = m.Recipients
		}
		st := s.messageStatus(ctx, t, m)
		w.Delivery = &wireDelivery{Status: st["statusType"], Error: st["failureDetails"]}
		return w
	}
	if t != nil && parley.IsCustomChannel(t.ChannelID) && m.Type == parley.TypeMessage && m.Direction == parley.Outgoing {
		// An agent's reply on a custom channel: how sending it goes.
		st := s.messageStatus(ctx, t, m)
		w.Delivery = &wireDelivery{Status: st["statusType"], Error: st["failureDetails"]}
		return w
	}
	if t == nil || t.ChannelID != parley.ChannelEmail || m.Type != parley.TypeMessage {
		return w
	}
	w.Recipients = m.Recipients
	addr, ok := addrs[m.SenderID]
	if !ok {
		addr = s.actorAddress(ctx, m.SenderID, t, m)
		if addrs != nil {
			addrs[m.SenderID] = addr
		}
	}
	w.SenderAddress = addr
	w.HTML = m.RichText != ""
	if st := s.messageStatus(ctx, t, m); m.Direction == parley.Outgoing {
		w.Delivery = &wireDelivery{Status: st["statusType"], Error: st["failureDetails"]}
	}
	return w
}

// wireAttachment is a file of a message on the WebSocket: url serves it to
// whoever holds it (a signed link, app.FileLink), so it goes only to those
// who may read the message.
type wireAttachment struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"` // the media type its bytes sniffed as
	Size   int64  `json:"size"`
	Inline bool   `json:"inline,omitempty"` // an image shown in the page
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	URL    string `json:"url"`
}

// fileURL returns the absolute signed link of attachment at, "" if it
// cannot be made (logged).
func (s *Server) fileURL(ctx context.Context, at parley.Attachment) string {
	link, err := s.app.FileLink(ctx, at)
	if err != nil {
		s.log.Error().Err(err).Uint64("fileId", at.FileID).Msg("sign a file link")
		return ""
	}
	return strings.TrimRight(s.cfg.BaseURL, "/") + link
}

func (s *Server) wireAttachments(ctx context.Context, m *parley.Message) []wireAttachment {
	if len(m.Attachments) == 0 {
		return nil
	}
	out := make([]wireAttachment, len(m.Attachments))
	for i, at := range m.Attachments {
		out[i] = wireAttachment{ID: idString(at.FileID), Name: at.Name, Type: at.Type, Size: at.Size,
			Inline: at.Inline, Width: at.Width, Height: at.Height, URL: s.fileURL(ctx, at)}
	}
	return out
}

// toWireMessage is m on the WebSocket, as everyone who may read it gets it.
func (s *Server) toWireMessage(ctx context.Context, m *parley.Message, senderName string) wireMessage {
	w := wireMessage{
		ID: idString(m.ID), ThreadID: idString(m.ThreadID), Seq: m.Seq, Type: string(m.Type), Text: m.Text,
		Direction: string(m.Direction), SenderActorID: m.SenderID, SenderName: senderName, ClientID: m.ClientID,
		NewStatus: string(m.NewStatus), Event: m.Event, CreatedAt: msTime(m.CreatedAt), QuickReplies: m.QuickReplies, Changes: m.Changes,
		AssignedTo: userActorID(m.AssigneeID), Attachments: s.wireAttachments(ctx, m),
	}
	return w
}

// userActorID is the actor id of user id, "" for none (0).
func userActorID(id uint64) string {
	if id == 0 {
		return ""
	}
	return parley.UserActorID(id)
}

// optIDString is id as a string, "" for none (0).
func optIDString(id uint64) string {
	if id == 0 {
		return ""
	}
	return idString(id)
}

// visitorThread is all a visitor learns about its thread.
type visitorThread struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Bot is set while the widget's bot answers (until it hands off or
	// closes, or an agent takes over): the widget's email capture waits.
	Bot bool `json:"bot,omitempty"`
}

// toVisitorThread is t as its visitor sees it.
func toVisitorThread(t *parley.Thread) visitorThread {
	return visitorThread{ID: idString(t.ID), Status: string(t.Status), Bot: t.BotOnly()}
}

// Events, server to client. One struct per type keeps field order stable.
type (
	evMessage struct {
		Type    string      `json:"type"` // message.created or message.ack
		Message wireMessage `json:"message"`
		// ClientID echoes the sender's key on message.ack.
		ClientID string `json:"clientId,omitempty"`
	}
	evThread struct {
		Type   string `json:"type"` // thread.created or thread.updated
		Thread any    `json:"thread"`
	}
	// evThreadDeleted tells agents and the visitor that a thread is gone
	// for good.
	evThreadDeleted struct {
		Type     string `json:"type"` // thread.deleted
		ThreadID string `json:"threadId"`
		InboxID  string `json:"inboxId"`
	}
	evTyping struct {
		Type     string `json:"type"`
		ThreadID string `json:"threadId"`
		ActorID  string `json:"actorId"`
		Name     string `json:"name,omitempty"`
	}
	evStatus struct {
		Type   string              `json:"type"`
		Status parley.WidgetStatus `json:"status"`
	}
	evPresence struct {
		Type  string     `json:"type"`
		Users []userJSON `json:"users"`
	}
	evError struct {
		Type     string `json:"type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		ClientID string `json:"clientId,omitempty"`
		// RetryAfter is, for rate_limited, the seconds until trying
		// again can succeed.
		RetryAfter int `json:"retryAfter,omitempty"`
	}
)

func mustJSON(v any) []byte {
	b, err := jsonMarshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable types are passed
	}
	return b
}

// publishMessage announces a committed message: to agents of the thread's
// inbox always, to the visitor's connections when the type is visible to
// them. Call only after the commit.
func (s *Server) publishMessage(ctx context.Context, t *parley.Thread, m *parley.Message) {
	name := s.app.ActorName(ctx, m.SenderID)
	ev := mustJSON(evMessage{Type: "message.created", Message: s.agentWireMessage(ctx, t, m, name, nil)})
	if t.ChannelID == parley.ChannelEmail && m.Type == parley.TypeMessage {
		// Addresses and delivery are for agents only.
		s.hub.Publish(ev, parley.InboxTopic(t.InboxID))
		if m.Type.VisibleToVisitor() {
			s.hub.Publish(mustJSON(evMessage{Type: "message.created", Message: s.toWireMessage(ctx, m, name)}), parley.ThreadTopic(t.ID))
		}
		return
	}
	if m.Type.VisibleToVisitor() {
		s.hub.Publish(ev, parley.InboxTopic(t.InboxID), parley.ThreadTopic(t.ID))
	} else {
		s.hub.Publish(ev, parley.InboxTopic(t.InboxID))
	}
}

// publishThread announces a committed thread change to agents (whole thread)
// and, for status changes, to the visitor (id and status only).
func (s *Server) publishThread(ctx context.Context, typ string, t *parley.Thread, toVisitor bool) {
	s.hub.Publish(mustJSON(evThread{Type: typ, Thread: s.toThreadJSON(ctx, t)}), parley.InboxTopic(t.InboxID))
	if toVisitor {
		s.hub.Publish(mustJSON(evThread{Type: typ, Thread: toVisitorThread(t)}),
			parley.ThreadTopic(t.ID))
	}
}
