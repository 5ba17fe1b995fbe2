package server

import "net/http"

// routes lists Parley's whole HTTP surface.
//
// Each resource's handlers live in http_<resource>.go, with the request and
// response shapes and helpers only they use: http_threads.go serves
// threads, http_widgets.go widgets, and so on; the comments below name the
// file of each group. Shapes several resources share are in files named for
// what they are (paging.go, ids.go, people.go, wire.go), the HTTP plumbing
// in http.go, handlers.go, errors.go and auth.go, and the WebSocket
// endpoints in ws_*.go.
func (s *Server) routes() http.Handler {
	mux := newRouter()
	user, admin := s.requireUser, s.requireAdmin

	mux.Handle("GET /healthz", s.handleHealth())
	// This API's OpenAPI document (openapi.go).
	mux.Handle("GET /api/openapi.json", s.handleOpenAPI())
	// Prometheus metrics, with the metrics token only (metrics.go).
	mux.Handle("GET /metrics", s.handleMetrics())
	// An archive of the whole store, to admins (http_backup.go).
	mux.Handle("GET /api/v1/backup", admin(s.handleBackup()))
	// The audit log, to admins (http_audit.go).
	mux.Handle("GET /api/v1/audit", admin(s.handleAuditLog()))

	// The widget, public and cross-origin (http_widget_public.go; the
	// visitor WebSocket: ws_visitor.go).
	mux.Handle("GET /embed.js", s.handleAsset(func() assetRef { return s.assetLoader() }))
	mux.Handle("GET /widget/v1/chat.js", s.handleAsset(func() assetRef { return s.assetChatJS() }))
	mux.Handle("GET /widget/v1/chat.css", s.handleAsset(func() assetRef { return s.assetChatCSS() }))
	mux.Handle("GET /widget/v1/boot", s.handleBoot())
	mux.Handle("GET /widget/v1/preview", s.handleWidgetPreviewPage())
	mux.Handle("GET /widget/v1/preview.css", s.handleWidgetPreviewCSS())
	mux.Handle("GET /widget/v1/ws", s.handleVisitorWS())
	mux.Handle("POST /widget/v1/files", s.handleVisitorUpload())

	// Console: the page, its files (http_console.go), first-run setup
	// (http_setup.go).
	mux.Handle("GET /{$}", s.handleConsolePage())
	mux.Handle("GET /threads/{threadId}", s.handleConsolePage())
	mux.Handle("GET /console/", s.handleConsoleFiles())
	mux.Handle("GET /setup", s.handleSetupPage())
	mux.Handle("POST /api/v1/setup", s.handleSetup())

	// Settings API: session (http_session.go), tokens (http_tokens.go), users
	// (http_users.go), the agent WebSocket (ws_agent.go), widgets
	// (http_widgets.go).
	mux.Handle("POST /api/v1/session", s.handleSessionCreate())
	mux.Handle("DELETE /api/v1/session", s.requireSignedIn(s.handleSessionDelete()))
	mux.Handle("POST /api/v1/tokens", user(s.handleTokenCreate()))
	mux.Handle("GET /api/v1/tokens", user(s.handleTokens()))
	mux.Handle("DELETE /api/v1/tokens/{id}", user(s.handleTokenDelete()))
	mux.Handle("GET /api/v1/users/me", user(s.handleMe()))
	mux.Handle("PATCH /api/v1/users/me", user(s.handleMeUpdate()))
	mux.Handle("GET /api/v1/users", user(s.handleUsers()))
	mux.Handle("GET /api/v1/ws", s.handleAgentWS())
	mux.Handle("GET /api/v1/widgets", admin(s.handleWidgets()))
	mux.Handle("GET /api/v1/widgets/{id}", admin(s.handleWidgetGet()))

	// Conversations API, HubSpot v3 shape: http_inboxes.go, http_channels.go,
	// http_threads.go, http_messages.go, http_actors.go.
	mux.Handle("GET "+v3+"/inboxes", user(s.handleInboxes()))
	mux.Handle("GET "+v3+"/inboxes/{inboxId}", user(s.handleInboxGet()))
	mux.Handle("GET "+v3+"/channels", user(s.handleChannels()))
	mux.Handle("GET "+v3+"/channels/{channelId}", user(s.handleChannelGet()))
	mux.Handle("GET "+v3+"/channel-accounts", user(s.handleChannelAccounts()))
	mux.Handle("GET "+v3+"/channel-accounts/{id}", user(s.handleChannelAccountGet()))
	mux.Handle("GET "+v3+"/threads", user(s.handleThreadsList()))
	mux.Handle("GET "+v3+"/threads/{threadId}", user(s.handleThreadGet()))
	mux.Handle("PATCH "+v3+"/threads/{threadId}", user(s.handleThreadPatch()))
	mux.Handle("DELETE "+v3+"/threads/{threadId}", user(s.handleThreadArchive()))
	mux.Handle("PUT "+v3+"/threads/{threadId}/assignee", user(s.handleAssigneePut()))
	mux.Handle("DELETE "+v3+"/threads/{threadId}/assignee", user(s.handleAssigneeDelete()))
	mux.Handle("GET "+v3+"/threads/{threadId}/messages", user(s.handleMessagesList()))
	mux.Handle("POST "+v3+"/threads/{threadId}/messages", user(s.handleMessagePost()))
	mux.Handle("GET "+v3+"/threads/{threadId}/messages/{messageId}", user(s.handleMessageGet()))
	mux.Handle("GET "+v3+"/threads/{threadId}/messages/{messageId}/original-content", user(s.handleMessageOriginal()))
	mux.Handle("POST "+v3+"/threads/{threadId}/messages/{messageId}/retry", user(s.handleMessageRetry()))
	mux.Handle("GET /api/v1/threads/{threadId}/messages/{messageId}/html", user(s.handleMessageHTML())) // http_mail_html.go

	// Files (http_files.go): uploads for a thread's next message, and the
	// files themselves, to whoever may read them.
	mux.Handle("POST /api/v1/threads/{threadId}/files", user(s.handleFileUpload()))
	mux.Handle("GET /files/{fileId}/{name}", s.handleFileGet())
	mux.Handle("GET "+v3+"/actors/{actorId}", user(s.handleActorGet()))
	mux.Handle("POST "+v3+"/actors/batch/read", s.requireReader(s.handleActorsBatch()))

	// People: users (http_users.go), invites (http_invites.go), teams
	// (http_teams.go), inboxes (http_inboxes.go).
	// The console's settings screens are deep links into the console page.
	mux.Handle("GET /settings", s.handleConsolePage())
	mux.Handle("GET /settings/{section}", s.handleConsolePage())

	mux.Handle("GET /api/v1/users/{id}", user(s.handleUserGet()))
	mux.Handle("PATCH /api/v1/users/{id}", admin(s.handleUserPatch()))

	mux.Handle("GET /api/v1/invites", admin(s.handleInvites()))
	mux.Handle("POST /api/v1/invites", admin(s.handleInviteCreate()))
	mux.Handle("DELETE /api/v1/invites/{id}", admin(s.handleInviteDelete()))
	mux.Handle("POST /api/v1/invites/accept", s.handleInviteAccept())
	mux.Handle("GET /invite", s.handleInvitePage())

	mux.Handle("GET /api/v1/teams", admin(s.handleTeams()))
	mux.Handle("POST /api/v1/teams", admin(s.handleTeamCreate()))
	mux.Handle("PATCH /api/v1/teams/{id}", admin(s.handleTeamPatch()))
	mux.Handle("DELETE /api/v1/teams/{id}", admin(s.handleTeamDelete()))

	mux.Handle("GET /api/v1/inboxes", user(s.handleSettingsInboxes()))
	mux.Handle("GET /api/v1/inboxes/{id}", user(s.handleSettingsInboxGet()))
	mux.Handle("POST /api/v1/inboxes", admin(s.handleInboxCreate()))
	mux.Handle("PATCH /api/v1/inboxes/{id}", admin(s.handleInboxPatch()))
	mux.Handle("DELETE /api/v1/inboxes/{id}", admin(s.handleInboxDelete()))
	mux.Handle("GET /api/v1/inboxes/{id}/retention", admin(s.handleRetentionPreview()))
	// Connected mailboxes (http_mailboxes.go).
	mux.Handle("PUT /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection", admin(s.handleMailConnectionPut()))
	mux.Handle("DELETE /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection", admin(s.handleMailConnectionDelete()))
	mux.Handle("POST /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection/test", admin(s.handleMailConnectionTest()))

	// Search (http_search.go) and views (http_views.go).
	mux.Handle("GET /api/v1/search", user(s.handleSearch()))
	mux.Handle("GET /api/v1/views/counts", user(s.handleViewCounts()))

	// Thread actions (http_threads.go) and snippets (http_snippets.go).
	mux.Handle("DELETE /api/v1/threads/{threadId}", admin(s.threadOpHandler(http.StatusNoContent, s.app.DeleteThread)))
	mux.Handle("POST /api/v1/threads/{threadId}/block", user(s.handleThreadAction(s.app.SetBlocked, true)))
	mux.Handle("POST /api/v1/threads/{threadId}/unblock", user(s.handleThreadAction(s.app.SetBlocked, false)))
	mux.Handle("POST /api/v1/threads/{threadId}/spam", user(s.handleThreadAction(s.app.SetSpam, true)))
	mux.Handle("POST /api/v1/threads/{threadId}/not-spam", user(s.handleThreadAction(s.app.SetSpam, false)))
	// Chat transcripts sent by hand (http_transcript.go).
	mux.Handle("GET /api/v1/threads/{threadId}/transcript", user(s.handleTranscriptDraft()))
	mux.Handle("POST /api/v1/threads/{threadId}/transcript", user(s.handleTranscriptSend()))
	// Email copies and forwarding (http_forward.go).
	mux.Handle("GET /api/v1/threads/{threadId}/reply-recipients", user(s.handleReplyRecipients()))
	mux.Handle("POST /api/v1/threads/{threadId}/forward", user(s.handleForward()))

	mux.Handle("GET /api/v1/snippets", user(s.handleSnippets()))
	mux.Handle("POST /api/v1/snippets", user(s.handleSnippetCreate()))
	mux.Handle("GET /api/v1/snippets/{id}", user(s.handleSnippetGet()))
	mux.Handle("PATCH /api/v1/snippets/{id}", user(s.handleSnippetUpdate()))
	mux.Handle("DELETE /api/v1/snippets/{id}", user(s.handleSnippetDelete()))

	// Email templates (http_templates.go): admins keep them, agents use
	// them.
	mux.Handle("GET /api/v1/templates", user(s.handleTemplates()))
	mux.Handle("POST /api/v1/templates", admin(s.handleTemplateCreate()))
	mux.Handle("GET /api/v1/templates/{id}", user(s.handleTemplateGet()))
	mux.Handle("PATCH /api/v1/templates/{id}", admin(s.handleTemplateUpdate()))
	mux.Handle("DELETE /api/v1/templates/{id}", admin(s.handleTemplateDelete()))
	mux.Handle("POST /api/v1/templates/{id}/render", s.requireReader(s.handleTemplateRender()))

	// Contacts (http_contacts.go), records (http_records.go), engagements
	// (http_engagements.go).
	mux.Handle("GET /contacts/{contactId}", s.handleConsolePage()) // deep link to the contact page

	mux.Handle("GET /api/v1/contacts/{contactId}", user(s.handleContactGet()))
	mux.Handle("PATCH /api/v1/contacts/{contactId}", user(s.handleContactPatch()))
	mux.Handle("GET /api/v1/contacts/{contactId}/export", admin(s.handleContactExport()))
	mux.Handle("POST /api/v1/contacts/{contactId}/records", user(s.handleRecordCreate()))
	mux.Handle("GET /api/v1/contacts/{contactId}/engagements", user(s.handleEngagementsList()))
	mux.Handle("POST /api/v1/contacts/{contactId}/engagements", user(s.handleEngagementCreate()))
	mux.Handle("GET /api/v1/records/{recordId}", user(s.handleRecordGet()))
	mux.Handle("PATCH /api/v1/records/{recordId}", user(s.handleRecordPatch()))
	mux.Handle("GET /api/v1/threads/{threadId}/records", user(s.handleThreadRecords()))
	mux.Handle("POST /api/v1/threads/{threadId}/disassociate", user(s.handleDisassociate()))

	// CRM objects, HubSpot's CRM v3 shape: contacts (http_crm_contacts.go),
	// companies (http_companies.go), and their associations in v4's shape
	// (http_associations.go). Searches only read.
	mux.Handle("GET "+crmV3+"/contacts", user(crmListHandler(s, s.crmContacts())))
	mux.Handle("GET "+crmV3+"/contacts/{contactId}", user(s.handleCRMContactGet()))
	mux.Handle("POST "+crmV3+"/contacts/search", s.requireReader(crmSearchHandler(s, s.crmContacts())))
	mux.Handle("POST "+crmV3+"/contacts/gdpr-delete", admin(s.handleContactErase()))
	mux.Handle("GET "+crmV3+"/companies", user(crmListHandler(s, s.crmCompanies())))
	mux.Handle("POST "+crmV3+"/companies", user(s.handleCompanyCreate()))
	mux.Handle("GET "+crmV3+"/companies/{companyId}", user(s.handleCompanyGet()))
	mux.Handle("PATCH "+crmV3+"/companies/{companyId}", user(s.handleCompanyPatch()))
	mux.Handle("POST "+crmV3+"/companies/search", s.requireReader(crmSearchHandler(s, s.crmCompanies())))
	mux.Handle("GET "+crmAssociations+"/{toObjectType}", user(s.handleAssociationsList()))
	mux.Handle("PUT "+crmAssociations+"/default/{toObjectType}/{toObjectId}", user(s.handleAssociationPutDefault()))
	mux.Handle("DELETE "+crmAssociations+"/{toObjectType}/{toObjectId}", user(s.handleAssociationDelete()))

	// Theme stylesheets (http_widget_public.go).
	mux.Handle("GET "+themePath+"{file}", s.handleTheme())

	// Mail (http_mail.go).
	mux.Handle("GET /api/v1/mail", s.requireUser(s.handleMailStatus()))

	// Widgets (http_widgets.go) and contact lists (http_lists.go).
	mux.Handle("GET /settings/chat/{id}", s.handleConsolePage())

	mux.Handle("POST /api/v1/widgets", admin(s.handleWidgetCreate()))
	mux.Handle("POST /api/v1/widgets/preview", admin(s.handleWidgetPreview()))
	mux.Handle("PATCH /api/v1/widgets/{id}", admin(s.handleWidgetPatch()))
	mux.Handle("DELETE /api/v1/widgets/{id}", admin(s.handleWidgetDelete()))

	mux.Handle("GET /api/v1/lists", admin(s.handleLists()))
	mux.Handle("POST /api/v1/lists", admin(s.handleListCreate()))
	mux.Handle("GET /api/v1/lists/{id}", admin(s.handleListGet()))
	mux.Handle("PATCH /api/v1/lists/{id}", admin(s.handleListPatch()))
	mux.Handle("DELETE /api/v1/lists/{id}", admin(s.handleListDelete()))

	// Visitor identification (http_identify.go) and consents
	// (http_consents.go).
	// Identification tokens let their holder chat as any contact: only a
	// site's back end makes them, with an admin-scoped API token.
	mux.Handle("POST /visitor-identification/v3/tokens/create", s.requireAdminToken(s.handleIdentificationToken()))
	mux.Handle("GET /api/v1/contacts/{contactId}/consents", user(s.handleContactConsents()))

	// Bots (http_bots.go).
	mux.Handle("GET /api/v1/widgets/{id}/bot", admin(s.handleBotGet()))
	mux.Handle("PUT /api/v1/widgets/{id}/bot", admin(s.handleBotPut()))
	mux.Handle("POST /api/v1/bots/preview", admin(s.handleBotPreview()))
	mux.Handle("POST /api/v1/threads/{threadId}/takeover", user(s.handleTakeOver()))

	// Webhooks, HubSpot's Webhooks v3 shape, and Parley's extensions for
	// the console (http_webhooks.go).
	hook := s.requireWebhookAdmin
	mux.Handle("GET "+webhooksV3+"/settings", hook(s.handleWebhookSettingsGet()))
	mux.Handle("PUT "+webhooksV3+"/settings", hook(s.handleWebhookSettingsPut()))
	mux.Handle("DELETE "+webhooksV3+"/settings", hook(s.handleWebhookSettingsDelete()))
	mux.Handle("GET "+webhooksV3+"/subscriptions", hook(s.handleWebhookSubscriptions()))
	mux.Handle("POST "+webhooksV3+"/subscriptions", hook(s.handleWebhookSubscriptionCreate()))
	mux.Handle("POST "+webhooksV3+"/subscriptions/batch/update", hook(s.handleWebhookSubscriptionsBatch()))
	mux.Handle("GET "+webhooksV3+"/subscriptions/{subscriptionId}", hook(s.handleWebhookSubscriptionGet()))
	mux.Handle("PATCH "+webhooksV3+"/subscriptions/{subscriptionId}", hook(s.handleWebhookSubscriptionPatch()))
	mux.Handle("DELETE "+webhooksV3+"/subscriptions/{subscriptionId}", hook(s.handleWebhookSubscriptionDelete()))
	mux.Handle("GET "+webhooksV3+"/deliveries", hook(s.handleWebhookLog()))
	mux.Handle("POST "+webhooksV3+"/test", hook(s.handleWebhookTest()))
	mux.Handle("GET /api/v1/webhooks", admin(s.handleWebhookApps()))

	// Custom channels, HubSpot's custom channels shape
	// (http_customchannels.go): admins, with hapikey as for webhooks.
	mux.Handle("POST "+customChannels, hook(s.handleCustomChannelCreate()))
	mux.Handle("GET "+customChannels, hook(s.handleCustomChannels()))
	mux.Handle("GET "+customChannels+"/{channelId}", hook(s.handleCustomChannelGet()))
	mux.Handle("PATCH "+customChannels+"/{channelId}", hook(s.handleCustomChannelPatch()))
	mux.Handle("DELETE "+customChannels+"/{channelId}", hook(s.handleCustomChannelDelete()))
	mux.Handle("POST "+customChannels+"/{channelId}/channel-accounts", hook(s.handleCustomAccountCreate()))
	mux.Handle("GET "+customChannels+"/{channelId}/channel-accounts", hook(s.handleCustomAccounts()))
	mux.Handle("GET "+customChannels+"/{channelId}/channel-accounts/{channelAccountId}", hook(s.handleCustomAccountGet()))
	mux.Handle("PATCH "+customChannels+"/{channelId}/channel-accounts/{channelAccountId}", hook(s.handleCustomAccountPatch()))
	mux.Handle("POST "+customChannels+"/{channelId}/messages", hook(s.handleChannelMessageCreate()))
	mux.Handle("GET "+customChannels+"/{channelId}/messages/{messageId}", hook(s.handleChannelMessageGet()))
	mux.Handle("PATCH "+customChannels+"/{channelId}/messages/{messageId}", hook(s.handleChannelMessagePatch()))

	// Widget status stream (http_widget_public.go).
	mux.Handle("GET /widget/v1/status", s.handleStatusStream())

	// Knowledge and meeting links (http_links.go).
	mux.Handle("GET /api/v1/knowledge-links", user(s.handleKnowledgeLinks()))
	mux.Handle("POST /api/v1/knowledge-links", admin(s.handleKnowledgeLinkCreate()))
	mux.Handle("GET /api/v1/knowledge-links/{id}", user(s.handleKnowledgeLinkGet()))
	mux.Handle("PATCH /api/v1/knowledge-links/{id}", admin(s.handleKnowledgeLinkUpdate()))
	mux.Handle("DELETE /api/v1/knowledge-links/{id}", admin(s.handleKnowledgeLinkDelete()))

	mux.Handle("GET /api/v1/users/me/meeting-link", user(s.handleMeetingLinkGet()))
	mux.Handle("PUT /api/v1/users/me/meeting-link", user(s.handleMeetingLinkPut()))

	// Unknown paths and methods, and query parameters a route does not
	// read (queryParams, params.go), answer in the API's error shape.
	s.patterns = mux.patterns
	return s.logRequests(securityHeaders(s.limitBodyTime(s.checkQuery(mux))))
}
