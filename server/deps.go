package server

import (
	"github.com/parley-chat/parley"
)

// Store is what the server needs from persistence: every area of the
// storage contract (stores.go in package parley says what each promises).
// *store.DB implements it.
type Store interface {
	parley.MetaStore
	parley.UserStore
	parley.SessionStore
	parley.InviteStore
	parley.TeamStore
	parley.InboxStore
	parley.WidgetStore
	parley.ContactListStore
	parley.ContactStore
	parley.ThreadStore
	parley.MessageStore
	parley.ListStore
	parley.RecordStore
	parley.SnippetStore
	parley.LinkStore
	parley.MailStore
	parley.BotStore
	parley.RoutingStore
}
