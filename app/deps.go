package app

import (
	"context"

	"github.com/parley-chat/parley"
)

// Store is what the application needs from persistence: the areas of the
// root's storage contract that the use cases read and write. *store.DB
// implements it.
type Store interface {
	parley.MetaStore
	parley.UserStore
	parley.TeamStore
	parley.InboxStore
	parley.WidgetStore
	parley.ContactStore
	parley.ThreadStore
	parley.MessageStore
	parley.MailStore
	parley.BotStore
	parley.RoutingStore
	parley.FileStore
	parley.RecordStore
	parley.WebhookStore
	parley.CustomChannelStore
}

// Mailer sends one email and returns once an SMTP server accepted it. A
// parley error with code EINVALID is a refusal for good; any other error is
// worth a retry. *mail.Sender implements it.
type Mailer interface {
	Send(ctx context.Context, e *parley.Email) error
}

// Events hears of what the app committed, to tell the consoles and
// visitors concerned: package server encodes and publishes each. The app
// calls them only after the commit, in the order things happened; none may
// block for long.
type Events interface {
	// MessageCreated announces message m of thread t.
	MessageCreated(ctx context.Context, t *parley.Thread, m *parley.Message)
	// ThreadCreated announces a new thread to its inbox's agents.
	ThreadCreated(ctx context.Context, t *parley.Thread)
	// ThreadUpdated announces a changed thread to its inbox's agents and,
	// when toVisitor, its status to its visitor.
	ThreadUpdated(ctx context.Context, t *parley.Thread, toVisitor bool)
	// ThreadDeleted announces a thread deleted for good to its inbox's
	// agents and its visitor.
	ThreadDeleted(ctx context.Context, t *parley.Thread)
	// ContactUpdated announces a changed contact to the inboxes of its
	// threads.
	ContactUpdated(ctx context.Context, c *parley.Contact)
	// RecordChanged announces a ticket or deal created or changed to the
	// consoles showing its threads and contact.
	RecordChanged(ctx context.Context, r *parley.Record)
	// Delivery announces how sending email reply messageID of thread t
	// went.
	Delivery(t *parley.Thread, messageID uint64, d *parley.Delivery)
	// Presence announces the users' states to the consoles.
	Presence(ctx context.Context)
	// WidgetStatus announces widget id's new status to its visitors.
	WidgetStatus(id uint64, st parley.WidgetStatus)
	// Viewers announces to inbox inboxID who views thread v.ThreadID now.
	Viewers(inboxID uint64, v Viewers)
}

// noEvents is the Events of an App that nobody listens to.
type noEvents struct{}

func (noEvents) MessageCreated(context.Context, *parley.Thread, *parley.Message) {}
func (noEvents) ThreadCreated(context.Context, *parley.Thread)                   {}
func (noEvents) ThreadUpdated(context.Context, *parley.Thread, bool)             {}
func (noEvents) ThreadDeleted(context.Context, *parley.Thread)                   {}
func (noEvents) ContactUpdated(context.Context, *parley.Contact)                 {}
func (noEvents) RecordChanged(context.Context, *parley.Record)                   {}
func (noEvents) Delivery(*parley.Thread, uint64, *parley.Delivery)               {}
func (noEvents) Presence(context.Context)                                        {}
func (noEvents) WidgetStatus(uint64, parley.WidgetStatus)                        {}
func (noEvents) Viewers(uint64, Viewers)                                         {}
