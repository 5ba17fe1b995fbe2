package server

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// The audit log: which routes note what they change (auditRoutes), the
// notes of signing in and out, and the log's list for admins.

// auditRoute is what a route that changes settings records: its action,
// the type of object it changes, and the path parameter naming that
// object ("" when the store assigns the id; "me" for the caller).
type auditRoute struct {
	action, objectType, idParam string
}

// auditRoutes are the routes whose changes the audit log records, by
// pattern. The guard attaches a note to each such request's context
// (auditRequest); the store appends it in the transaction of the change.
var auditRoutes = map[string]auditRoute{
	"PATCH /api/v1/users/me":            {parley.AuditSettingsUpdate, "user", "me"},
	"PATCH /api/v1/users/{id}":          {parley.AuditUserUpdate, "user", "id"},
	"PUT /api/v1/users/me/meeting-link": {parley.AuditSettingsUpdate, "user", "me"},
	"DELETE /api/v1/session":            {parley.AuditSessionDelete, "user", "me"},

	"POST /api/v1/tokens":        {parley.AuditTokenCreate, "token", ""},
	"DELETE /api/v1/tokens/{id}": {parley.AuditTokenDelete, "token", "id"},

	"POST /api/v1/invites":        {parley.AuditUserInvite, "invite", ""},
	"DELETE /api/v1/invites/{id}": {parley.AuditUserUninvite, "invite", "id"},

	"POST /api/v1/teams":          {parley.AuditTeamCreate, "team", ""},
	"PATCH /api/v1/teams/{id}":    {parley.AuditTeamUpdate, "team", "id"},
	"DELETE /api/v1/teams/{id}":   {parley.AuditTeamDelete, "team", "id"},
	"POST /api/v1/inboxes":        {parley.AuditInboxCreate, "inbox", ""},
	"PATCH /api/v1/inboxes/{id}":  {parley.AuditInboxUpdate, "inbox", "id"},
	"DELETE /api/v1/inboxes/{id}": {parley.AuditInboxDelete, "inbox", "id"},

	"PUT /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection":    {parley.AuditMailboxUpdate, "mailbox", "mailboxId"},
	"DELETE /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection": {parley.AuditMailboxDelete, "mailbox", "mailboxId"},

	"POST /api/v1/widgets":         {parley.AuditWidgetCreate, "widget", ""},
	"PATCH /api/v1/widgets/{id}":   {parley.AuditWidgetUpdate, "widget", "id"},
	"DELETE /api/v1/widgets/{id}":  {parley.AuditWidgetDelete, "widget", "id"},
	"PUT /api/v1/widgets/{id}/bot": {parley.AuditBotUpdate, "bot", "id"},

	"PUT " + webhooksV3 + "/settings":                          {parley.AuditWebhookUpdate, "webhook", "appId"},
	"DELETE " + webhooksV3 + "/settings":                       {parley.AuditWebhookDelete, "webhook", "appId"},
	"POST " + webhooksV3 + "/subscriptions":                    {parley.AuditWebhookSubscriptionCreate, "webhook-subscription", ""},
	"POST " + webhooksV3 + "/subscriptions/batch/update":       {parley.AuditWebhookSubscriptionUpdate, "webhook-subscription", ""},
	"PATCH " + webhooksV3 + "/subscriptions/{subscriptionId}":  {parley.AuditWebhookSubscriptionUpdate, "webhook-subscription", "subscriptionId"},
	"DELETE " + webhooksV3 + "/subscriptions/{subscriptionId}": {parley.AuditWebhookSubscriptionDelete, "webhook-subscription", "subscriptionId"},

	"POST /api/v1/lists":            {parley.AuditListCreate, "list", ""},
	"PATCH /api/v1/lists/{id}":      {parley.AuditListUpdate, "list", "id"},
	"DELETE /api/v1/lists/{id}":     {parley.AuditListDelete, "list", "id"},
	"POST /api/v1/templates":        {parley.AuditTemplateCreate, "template", ""},
	"PATCH /api/v1/templates/{id}":  {parley.AuditTemplateUpdate, "template", "id"},
	"DELETE /api/v1/templates/{id}": {parley.AuditTemplateDelete, "template", "id"},

	"POST " + customChannels:                    {parley.AuditChannelCreate, "channel", ""},
	"PATCH " + customChannels + "/{channelId}":  {parley.AuditChannelUpdate, "channel", "channelId"},
	"DELETE " + customChannels + "/{channelId}": {parley.AuditChannelDelete, "channel", "channelId"},
}

// auditActor is who a's credential is: an API token, or a user.
func auditActor(a *auth) parley.AuditActor {
	if a.token != nil {
		return parley.AuditActor{Kind: parley.AuditActorToken, ID: a.token.ID, Name: a.token.Name, UserID: a.user.ID, UserEmail: a.user.Email}
	}
	return parley.AuditActor{Kind: parley.AuditActorUser, ID: a.user.ID, Name: a.user.Email}
}

// auditRequest returns r carrying the audit note of its route, if the
// route is one the audit log records.
func (s *Server) auditRequest(r *http.Request, a *auth) *http.Request {
	rt, ok := auditRoutes[r.Pattern]
	if !ok {
		return r
	}
	id := r.PathValue(rt.idParam)
	if rt.idParam == "me" {
		id = strconv.FormatUint(a.user.ID, 10)
	}
	n := &parley.AuditNote{Entry: parley.AuditEntry{
		Actor: auditActor(a), Address: s.auditAddr(r),
		Action: rt.action, ObjectType: rt.objectType, ObjectID: id,
	}}
	return r.WithContext(parley.WithAudit(r.Context(), n))
}

func (s *Server) auditAddr(r *http.Request) string {
	if a := s.clientAddr(r); a.IsValid() {
		return a.String()
	}
	return ""
}

// withSignIn returns r carrying the note of u signing in.
func (s *Server) withSignIn(r *http.Request, u *parley.User) *http.Request {
	n := &parley.AuditNote{Entry: parley.AuditEntry{
		Actor:   parley.AuditActor{Kind: parley.AuditActorUser, ID: u.ID, Name: u.Email},
		Address: s.auditAddr(r), Action: parley.AuditSessionCreate,
		ObjectType: "user", ObjectID: strconv.FormatUint(u.ID, 10),
		Changes: []parley.AuditChange{}, // nothing of the session is worth showing
	}}
	return r.WithContext(parley.WithAudit(r.Context(), n))
}

// Failed sign-ins are worth an entry, but a stranger must not fill the
// disk with them: one entry per client address a minute, and at most
// auditFailMax entries a minute in all.
const (
	auditFailWindow = time.Minute
	auditFailMax    = 10
)

// auditFails counts failed sign-ins in the current minute.
type auditFails struct {
	mu     sync.Mutex
	window time.Time       // start of the current minute
	seen   map[string]bool // client keys with an entry this minute
	count  int             // entries this minute
}

// take reports whether a failed sign-in from key at now gets an entry.
func (f *auditFails) take(key string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := now.Truncate(auditFailWindow); !w.Equal(f.window) {
		f.window, f.seen, f.count = w, map[string]bool{}, 0
	}
	if f.seen[key] || f.count >= auditFailMax {
		return false
	}
	f.seen[key] = true
	f.count++
	return true
}

// auditFailedSignIn records a failed sign-in from r's client, within the
// bounds of auditFails; u is the user whose email was given, if any (an
// email naming no user is not kept: it may be anything a stranger typed).
func (s *Server) auditFailedSignIn(r *http.Request, u *parley.User) {
	addr := s.clientAddr(r)
	if !s.auditFails.take(clientKey(addr), s.now()) {
		return
	}
	e := &parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorNobody}, Address: s.auditAddr(r), Action: parley.AuditSessionFail}
	if u != nil {
		e.ObjectType, e.ObjectID = "user", strconv.FormatUint(u.ID, 10)
	}
	if err := s.db.AppendAudit(r.Context(), e); err != nil {
		s.log.Warn().Err(err).Msg("record a failed sign-in in the audit log")
	}
}

// auditEntryJSON is an entry of the audit log as the API lists it.
type auditEntryJSON struct {
	ID         string               `json:"id"`
	Time       msTime               `json:"time"`
	Actor      parley.AuditActor    `json:"actor"`
	Address    string               `json:"address,omitempty"`
	Action     string               `json:"action"`
	ObjectType string               `json:"objectType,omitempty"`
	ObjectID   string               `json:"objectId,omitempty"`
	Changes    []parley.AuditChange `json:"changes"`
}

func toAuditJSON(e *parley.AuditEntry) auditEntryJSON {
	ch := e.Changes
	if ch == nil {
		ch = []parley.AuditChange{}
	}
	return auditEntryJSON{ID: idString(e.ID), Time: msTime(e.Time), Actor: e.Actor, Address: e.Address,
		Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Changes: ch}
}

// handleAuditLog lists the audit log, newest first, to admins: filters
// actor ("user:7", "token:3", "system", "anonymous"), action (whole, or a
// prefix ending in a dot: "user."), objectType, objectId, since and until
// (RFC 3339 or milliseconds since 1970, inclusive); limit (1 to 500,
// default 100) and after (paging.next.after).
func (s *Server) handleAuditLog() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		f := parley.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), ObjectType: q.Get("objectType"), ObjectID: q.Get("objectId")}
		if f.Actor != "" && !validAuditActor(f.Actor) {
			return parley.Errorf(parley.EINVALID, `actor must be "user:<id>", "token:<id>", "system" or "anonymous"`)
		}
		if f.Action != "" && !validAuditAction(f.Action) {
			return parley.Errorf(parley.EINVALID, `action must be an action such as "user.update" or a prefix ending in a dot such as "user."`)
		}
		if len(f.ObjectType) > 40 || len(f.ObjectID) > 40 {
			return parley.Errorf(parley.EINVALID, "objectType and objectId must be at most 40 characters")
		}
		var err error
		if f.Since, err = queryInstant(r, "since"); err != nil {
			return err
		}
		if f.Until, err = queryInstant(r, "until"); err != nil {
			return err
		}
		if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
			return parley.Errorf(parley.EINVALID, "until must not be before since")
		}
		if f.Limit, err = queryLimit(r, 100, 500); err != nil {
			return err
		}
		if f.Before, err = queryCursor(r, 1); err != nil {
			return err
		}
		limit := f.Limit
		f.Limit++ // one more tells whether a next page exists
		entries, err := s.db.AuditLog(r.Context(), f)
		if err != nil {
			return err
		}
		more := len(entries) > limit
		entries = entries[:min(len(entries), limit)]
		s.writeJSON(w, http.StatusOK, listPage(entries, more, toAuditJSON, func(e *parley.AuditEntry) string { return idString(e.ID) }))
		return nil
	})
}

func validAuditActor(v string) bool {
	switch v {
	case parley.AuditActorSystem, parley.AuditActorNobody:
		return true
	}
	kind, id, ok := strings.Cut(v, ":")
	if !ok || kind != parley.AuditActorUser && kind != parley.AuditActorToken {
		return false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return err == nil && n > 0
}

func validAuditAction(v string) bool {
	if len(v) > 60 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c == '.' || c == '-') {
			return false
		}
	}
	return !strings.HasPrefix(v, ".") && !strings.Contains(v, "..")
}

// queryInstant parses query parameter name as an RFC 3339 time or as
// milliseconds since 1970 (as HubSpot's timestamps); the zero time when
// it is absent.
func queryInstant(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 && ms < 1<<53 {
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, parley.Errorf(parley.EINVALID, "%s must be an RFC 3339 time or milliseconds since 1970", name)
	}
	return t, nil
}
