package server

import "net/http"

// routes lists Parley's whole HTTP surface.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	user, admin := s.requireUser, s.requireAdmin

	mux.Handle("GET /healthz", s.handleHealth())

	// The widget, public and cross-origin.
	mux.Handle("GET /embed.js", s.handleAsset(func() assetRef { return s.assetLoader() }))
	mux.Handle("GET /widget/v1/chat.js", s.handleAsset(func() assetRef { return s.assetChatJS() }))
	mux.Handle("GET /widget/v1/chat.css", s.handleAsset(func() assetRef { return s.assetChatCSS() }))
	mux.Handle("GET /widget/v1/boot", s.handleBoot())
	mux.Handle("GET /widget/v1/ws", s.handleVisitorWS())

	// Console: the page, its files, first-run setup.
	mux.Handle("GET /{$}", s.handleConsolePage())
	mux.Handle("GET /threads/{threadId}", s.handleConsolePage())
	mux.Handle("GET /console/", s.handleConsoleFiles())
	mux.Handle("GET /setup", s.handleSetupPage())
	mux.Handle("POST /api/v1/setup", s.handleSetup())

	// Settings API.
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

	// Conversations API, HubSpot v3 shape.
	const v3 = "/conversations/v3/conversations"
	mux.Handle("GET "+v3+"/inboxes", user(s.handleInboxes()))
	mux.Handle("GET "+v3+"/inboxes/{inboxId}", user(s.handleInboxGet()))
	mux.Handle("GET "+v3+"/channels", user(s.handleChannels()))
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
	mux.Handle("GET "+v3+"/actors/{actorId}", user(s.handleActorGet()))
	mux.Handle("POST "+v3+"/actors/batch/read", s.requireReader(s.handleActorsBatch()))

	// Areas that grow on their own: people and inboxes, the conversation
	// list and search, conversation actions, contacts and their records,
	// bots.
	s.routesPeople(mux)
	s.routesList(mux)
	s.routesActions(mux)
	s.routesContacts(mux)
	s.routesTheme(mux)
	s.routesMail(mux)
	s.routesWidgets(mux)
	s.routesVisitor(mux)
	s.routesBots(mux)
	s.routesPresence(mux)
	s.routesLinks(mux)

	// Unknown API paths answer in the API's error shape.
	mux.Handle("/api/", s.handleNotFound())
	mux.Handle("/conversations/", s.handleNotFound())

	return s.logRequests(securityHeaders(s.limitBodyTime(mux)))
}
