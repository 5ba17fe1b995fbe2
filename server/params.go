package server

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/parley-chat/parley"
)

// anyQuery marks a route whose query string Parley does not read and does
// not judge: the console's pages, whose links people share with whatever a
// mail client or tracker appends.
var anyQuery = []string{"*"}

// Query parameters several routes share.
var (
	pageQuery = []string{"after", "limit"}
	// crmListQuery is what a CRM object list reads.
	crmListQuery = []string{"properties", "associations", "archived", "limit", "after"}
	// threadQuery is what GET …/threads reads: HubSpot's parameters, then
	// Parley's views and filters (http_views.go).
	threadQuery = []string{
		"after", "limit", "sort", "inboxId", "threadStatus", "associatedContactId", "associatedTicketId",
		"association", "archived", "latestMessageTimestampAfter",
		"view", "assignee", "channelId", "latestMessageTimestampBefore",
	}
)

// queryParams names, for each route of routes() by its pattern, the query
// parameters its handler reads. A request with any other parameter is
// refused before its handler runs, with EINVALID naming the parameter, so
// nothing a caller sends is silently ignored. A route that reads none has
// an empty list; a route missing here takes none (and TestRoutesHaveQuery
// fails, so that a new route states what it reads on purpose).
var queryParams = map[string][]string{
	"GET /healthz":                          nil,
	"GET /embed.js":                         {"v"},
	"GET /widget/v1/chat.js":                {"v"},
	"GET /widget/v1/chat.css":               {"v"},
	"GET /widget/v1/boot":                   {"url", "vt", "ie", "it", "lang"},
	"GET /widget/v1/ws":                     {"widgetId"},
	"POST /widget/v1/files":                 {"g", "name"},
	"GET /widget/v1/status":                 {"widgetId"},
	"GET " + themePath + "{file}":           nil,
	"GET /{$}":                              anyQuery,
	"GET /threads/{threadId}":               anyQuery,
	"GET /console/":                         anyQuery,
	"GET /setup":                            anyQuery,
	"GET /invite":                           anyQuery,
	"GET /settings":                         anyQuery,
	"GET /settings/{section}":               anyQuery,
	"GET /settings/chat/{id}":               anyQuery,
	"GET /contacts/{contactId}":             anyQuery,
	"GET /files/{fileId}/{name}":            {"e", "s"},
	"GET /api/v1/search":                    {"q", "inboxId", "limit", "after"},
	"GET /api/v1/audit":                     {"actor", "action", "objectType", "objectId", "since", "until", "limit", "after"},
	"GET /api/v1/views/counts":              {"inboxId"},
	"POST /api/v1/threads/{threadId}/files": {"name"},
	"GET /api/v1/threads/{threadId}/messages/{messageId}/html": {"remoteImages"},
	"GET /api/v1/contacts/{contactId}/engagements":             pageQuery,
	"GET /api/v1/knowledge-links":                              {"q"},

	"GET " + v3 + "/threads":                     threadQuery,
	"GET " + v3 + "/threads/{threadId}":          {"association"},
	"GET " + v3 + "/threads/{threadId}/messages": pageQuery,
	"GET " + v3 + "/inboxes":                     pageQuery,
	"GET " + v3 + "/channels":                    pageQuery,
	"GET " + v3 + "/channel-accounts":            {"after", "limit", "inboxId", "channelId"},

	"GET /metrics":       nil,
	"GET /api/v1/backup": nil,

	// CRM objects (crm.go): HubSpot's parameters.
	"GET " + crmV3 + "/contacts":                                      crmListQuery,
	"GET " + crmV3 + "/contacts/{contactId}":                          {"properties", "associations", "archived", "idProperty"},
	"POST " + crmV3 + "/contacts/search":                              nil,
	"GET " + crmV3 + "/companies":                                     crmListQuery,
	"POST " + crmV3 + "/companies":                                    nil,
	"GET " + crmV3 + "/companies/{companyId}":                         {"properties", "associations", "archived"},
	"PATCH " + crmV3 + "/companies/{companyId}":                       {"idProperty"},
	"POST " + crmV3 + "/companies/search":                             nil,
	"GET " + crmAssociations + "/{toObjectType}":                      pageQuery,
	"PUT " + crmAssociations + "/default/{toObjectType}/{toObjectId}": nil,
	"DELETE " + crmAssociations + "/{toObjectType}/{toObjectId}":      nil,

	// Webhooks (http_webhooks.go): HubSpot's client sends its key as hapikey.
	"GET " + webhooksV3 + "/settings":                          {"hapikey"},
	"PUT " + webhooksV3 + "/settings":                          {"hapikey"},
	"DELETE " + webhooksV3 + "/settings":                       {"hapikey"},
	"GET " + webhooksV3 + "/subscriptions":                     {"hapikey"},
	"POST " + webhooksV3 + "/subscriptions":                    {"hapikey"},
	"POST " + webhooksV3 + "/subscriptions/batch/update":       {"hapikey"},
	"GET " + webhooksV3 + "/subscriptions/{subscriptionId}":    {"hapikey"},
	"PATCH " + webhooksV3 + "/subscriptions/{subscriptionId}":  {"hapikey"},
	"DELETE " + webhooksV3 + "/subscriptions/{subscriptionId}": {"hapikey"},
	"GET " + webhooksV3 + "/deliveries":                        {"hapikey"},
	"POST " + webhooksV3 + "/test":                             {"hapikey"},
	"GET /api/v1/webhooks":                                     nil,
	"GET /api/v1/inboxes/{id}/retention":                       {"days"},

	"POST " + customChannels:                                                       {"hapikey", "appId"},
	"GET " + customChannels:                                                        {"hapikey", "appId"},
	"GET " + customChannels + "/{channelId}":                                       {"hapikey"},
	"PATCH " + customChannels + "/{channelId}":                                     {"hapikey"},
	"DELETE " + customChannels + "/{channelId}":                                    {"hapikey"},
	"POST " + customChannels + "/{channelId}/channel-accounts":                     {"hapikey"},
	"GET " + customChannels + "/{channelId}/channel-accounts":                      {"hapikey"},
	"GET " + customChannels + "/{channelId}/channel-accounts/{channelAccountId}":   {"hapikey"},
	"PATCH " + customChannels + "/{channelId}/channel-accounts/{channelAccountId}": {"hapikey"},
	"POST " + customChannels + "/{channelId}/messages":                             {"hapikey"},
	"GET " + customChannels + "/{channelId}/messages/{messageId}":                  {"hapikey"},
	"PATCH " + customChannels + "/{channelId}/messages/{messageId}":                {"hapikey"},
}

// The base paths of the APIs in HubSpot's shapes: conversations (v3), CRM
// objects and their associations, and webhooks.
const (
	v3              = "/conversations/v3/conversations"
	crmV3           = "/crm/v3/objects"
	crmAssociations = "/crm/v4/objects/{objectType}/{objectId}/associations"
	webhooksV3      = "/webhooks/v3/{appId}"
)

// router is the mux of routes() that remembers its patterns, so that the
// query check and the tests know every route.
type router struct {
	*http.ServeMux
	patterns []string
}

func newRouter() *router { return &router{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern, as http.ServeMux does.
func (rt *router) Handle(pattern string, h http.Handler) {
	rt.patterns = append(rt.patterns, pattern)
	rt.ServeMux.Handle(pattern, h)
}

// checkQuery refuses a request whose query string does not parse or holds
// a parameter its route does not read (queryParams), and answers a path no
// route serves, or a method its route does not take, in the API's error
// shape.
func (s *Server) checkQuery(rt *router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := rt.Handler(r)
		if pattern == "" {
			s.unrouted(w, r, h)
			return
		}
		if slot, ok := r.Context().Value(keyRoute).(*routeSlot); ok {
			slot.pattern = pattern // the route the metrics count it under
		}
		if err := queryAllowed(r.URL.RawQuery, queryParams[pattern]); err != nil {
			s.writeError(w, r, err)
			return
		}
		rt.ServeHTTP(w, r)
	})
}

// queryAllowed returns EINVALID naming the first parameter of raw (in
// name order) that allowed does not hold, or the reason raw does not parse.
func queryAllowed(raw string, allowed []string) error {
	if raw == "" || slices.Equal(allowed, anyQuery) {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "malformed query string: %s", strings.TrimPrefix(err.Error(), "invalid URL escape "))
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return parley.Errorf(parley.EINVALID, "unknown query parameter %q: this endpoint takes none", limitString(k, 64))
			}
			return parley.Errorf(parley.EINVALID, "unknown query parameter %q: this endpoint takes %s", limitString(k, 64), strings.Join(allowed, ", "))
		}
	}
	return nil
}

// unrouted answers what the mux's own handler h would (404, or 405 with
// Allow), in the API's error shape.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &statusOnly{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeErrorBody(w, r, http.StatusMethodNotAllowed, "VALIDATION_ERROR", "method_not_allowed",
			"method "+r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+rec.header.Get("Allow"))
		return
	}
	s.writeError(w, r, parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
}

// statusOnly is a ResponseWriter that keeps the status and headers and
// drops the body.
type statusOnly struct {
	header http.Header
	status int
}

func (w *statusOnly) Header() http.Header { return w.header }
func (w *statusOnly) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
func (w *statusOnly) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
