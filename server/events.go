package server

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// appEvents tells the consoles and visitors what the app committed: it
// encodes each event as docs/websocket.md says and publishes it on the
// broker's topics.
type appEvents struct{ s *Server }

var _ app.Events = appEvents{}

func (e appEvents) MessageCreated(ctx context.Context, t *parley.Thread, m *parley.Message) {
	e.s.publishMessage(ctx, t, m)
}

func (e appEvents) ThreadCreated(ctx context.Context, t *parley.Thread) {
	e.s.publishThread(ctx, "thread.created", t, false)
}

func (e appEvents) ThreadUpdated(ctx context.Context, t *parley.Thread, toVisitor bool) {
	e.s.publishThread(ctx, "thread.updated", t, toVisitor)
}

func (e appEvents) ThreadDeleted(_ context.Context, t *parley.Thread) {
	e.s.hub.Publish(mustJSON(evThreadDeleted{Type: "thread.deleted", ThreadID: idString(t.ID), InboxID: idString(t.InboxID)}),
		parley.InboxTopic(t.InboxID), parley.ThreadTopic(t.ID))
}

func (e appEvents) ContactUpdated(ctx context.Context, c *parley.Contact) { e.s.publishContact(ctx, c) }

func (e appEvents) RecordChanged(ctx context.Context, r *parley.Record) {
	e.s.publishRecordChange(ctx, r)
}

func (e appEvents) Delivery(t *parley.Thread, messageID uint64, d *parley.Delivery) {
	e.s.hub.Publish(mustJSON(evDelivery{Type: "message.delivery", ThreadID: idString(t.ID), MessageID: idString(messageID),
		Status: d.Status, Error: d.Error}), parley.InboxTopic(t.InboxID))
	// The thread list marks a thread whose latest reply failed.
	e.s.publishThread(context.Background(), "thread.updated", t, false)
}

func (e appEvents) Presence(ctx context.Context) {
	e.s.hub.Publish(mustJSON(evPresence{Type: "presence", Users: e.s.presenceList(ctx)}), presenceTopic)
}

func (e appEvents) WidgetStatus(id uint64, st parley.WidgetStatus) {
	e.s.hub.Publish(mustJSON(evStatus{Type: "status", Status: st}), widgetTopic(id))
}

func (e appEvents) Viewers(inboxID uint64, v app.Viewers) {
	e.s.hub.Publish(mustJSON(toEvViewers(v)), parley.InboxTopic(inboxID))
}
