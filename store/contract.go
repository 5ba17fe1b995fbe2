package store

import "github.com/parley-chat/parley"

// DB implements every area of the storage contract.
var (
	_ parley.MetaStore        = (*DB)(nil)
	_ parley.UserStore        = (*DB)(nil)
	_ parley.SessionStore     = (*DB)(nil)
	_ parley.InviteStore      = (*DB)(nil)
	_ parley.TeamStore        = (*DB)(nil)
	_ parley.InboxStore       = (*DB)(nil)
	_ parley.WidgetStore      = (*DB)(nil)
	_ parley.ContactListStore = (*DB)(nil)
	_ parley.ContactStore     = (*DB)(nil)
	_ parley.ThreadStore      = (*DB)(nil)
	_ parley.MessageStore     = (*DB)(nil)
	_ parley.ListStore        = (*DB)(nil)
	_ parley.RecordStore      = (*DB)(nil)
	_ parley.SnippetStore     = (*DB)(nil)
	_ parley.LinkStore        = (*DB)(nil)
	_ parley.MailStore        = (*DB)(nil)
	_ parley.BotStore         = (*DB)(nil)
	_ parley.RoutingStore     = (*DB)(nil)
	_ parley.FileStore        = (*DB)(nil)
	_ parley.TemplateStore    = (*DB)(nil)
	_ parley.WebhookStore     = (*DB)(nil)
	_ parley.CompanyStore     = (*DB)(nil)
)
