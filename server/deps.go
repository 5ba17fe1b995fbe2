package server

import (
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// Store is what the server needs from persistence: the areas of the
// storage contract (stores.go in package parley says what each promises)
// that its routes read and write themselves; the use cases reach the rest
// through the app (app.Store). *store.DB implements it.
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
	parley.WebhookStore
	parley.CustomChannelStore
	parley.FileStore
	parley.TemplateStore
	parley.CompanyStore
	parley.AuditStore
}

// WidgetFiles are the widget's script and style files, by name: "embed.js"
// (the loader), "chat.js" and "chat.css", none of them nil. *widget.Assets
// implements it.
type WidgetFiles interface {
	File(name string) *widget.Asset
}
