package server

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
)

// Store is what the server needs from persistence. *store.DB implements it.
// Each area of the API declares what it adds in its own routes_*.go file.
type Store interface {
	peopleStore
	listStore
	actionsStore
	contactsStore
	mailStore
	widgetsStore
	botStore
	routingStore
	linksStore

	Meta(ctx context.Context, key string) ([]byte, error)
	SetMeta(ctx context.Context, key string, val []byte) error
	// ClaimMeta creates u and deletes the meta value under key in one
	// transaction if that value is want (the setup link), else ENOTFOUND.
	ClaimMeta(ctx context.Context, key string, want []byte, u *parley.User, joinInboxes bool) error

	CreateUser(ctx context.Context, u *parley.User) error
	User(ctx context.Context, id uint64) (*parley.User, error)
	UserByEmail(ctx context.Context, email string) (*parley.User, error)
	Users(ctx context.Context) ([]*parley.User, error)
	UpdateUser(ctx context.Context, id uint64, fn func(*parley.User) error) (*parley.User, error)

	CreateSession(ctx context.Context, s *parley.Session) error
	Session(ctx context.Context, hash string) (*parley.Session, error)
	DeleteSession(ctx context.Context, hash string) error
	Tokens(ctx context.Context, userID uint64) ([]*parley.Session, error)
	Token(ctx context.Context, id uint64) (*parley.Session, error)
	DeleteToken(ctx context.Context, id uint64) (*parley.Session, error)
	TouchToken(ctx context.Context, hash string, at time.Time) error

	CreateInbox(ctx context.Context, in *parley.Inbox) error
	Inbox(ctx context.Context, id uint64) (*parley.Inbox, error)
	Inboxes(ctx context.Context) ([]*parley.Inbox, error)
	UpdateInbox(ctx context.Context, id uint64, fn func(*parley.Inbox) error) (*parley.Inbox, error)

	Widget(ctx context.Context, id uint64) (*parley.Widget, error)
	Widgets(ctx context.Context) ([]*parley.Widget, error)

	CreateContact(ctx context.Context, c *parley.Contact) error
	Contact(ctx context.Context, id uint64) (*parley.Contact, error)
	ContactByEmail(ctx context.Context, email string) (*parley.Contact, error)
	UpdateContact(ctx context.Context, id uint64, fn func(*parley.Contact) error) (*parley.Contact, error)
	CreateVisitor(ctx context.Context, v *parley.Visitor) error
	Visitor(ctx context.Context, hash string) (*parley.Visitor, error)

	Thread(ctx context.Context, id uint64) (*parley.Thread, error)
	UpdateThread(ctx context.Context, id uint64, fn func(*parley.Thread) error) (*parley.Thread, error)
	ChatThread(ctx context.Context, contactID, widgetID uint64) (*parley.Thread, error)
	Threads(ctx context.Context, f parley.ThreadFilter) ([]*parley.Thread, bool, error)

	AppendMessage(ctx context.Context, m *parley.Message, opts parley.AppendOptions) (parley.AppendResult, error)
	Messages(ctx context.Context, threadID, afterSeq uint64, limit int) ([]*parley.Message, bool, error)
	Message(ctx context.Context, id uint64) (*parley.Message, error)
}

// Broker fans encoded events out to subscribers. *hub.Hub implements it.
type Broker interface {
	Subscribe(topics ...string) *hub.Subscription
	SubscribeBuffer(size int, topics ...string) *hub.Subscription
	Publish(data []byte, topics ...string)
}
