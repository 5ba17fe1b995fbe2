package parley

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The audit log: who changed which setting, user, inbox, widget, bot, API
// token, webhook, mailbox or custom channel, and who signed in, when and
// from where. It holds what users, API tokens and Parley's own jobs did,
// never what visitors wrote; entries are only ever appended.
//
// A write that is one store transaction carries its entry in its context
// (WithAudit): the store appends the entry in the same transaction, so an
// entry exists if and only if the change committed.

// Audit actions: "<object type>.<verb>". The list is documented in
// docs/operations.md; the console names each in words.
const (
	AuditSettingsUpdate = "settings.update"

	AuditUserInvite   = "user.invite"
	AuditUserUninvite = "user.uninvite"
	AuditUserUpdate   = "user.update"

	AuditTeamCreate = "team.create"
	AuditTeamUpdate = "team.update"
	AuditTeamDelete = "team.delete"

	AuditInboxCreate = "inbox.create"
	AuditInboxUpdate = "inbox.update"
	AuditInboxDelete = "inbox.delete"

	AuditMailboxUpdate = "mailbox.update"
	AuditMailboxDelete = "mailbox.delete"

	AuditWidgetCreate = "widget.create"
	AuditWidgetUpdate = "widget.update"
	AuditWidgetDelete = "widget.delete"

	AuditBotUpdate = "bot.update"

	AuditTokenCreate = "token.create"
	AuditTokenDelete = "token.delete"

	AuditWebhookUpdate             = "webhook.update"
	AuditWebhookDelete             = "webhook.delete"
	AuditWebhookSubscriptionCreate = "webhook.subscription.create"
	AuditWebhookSubscriptionUpdate = "webhook.subscription.update"
	AuditWebhookSubscriptionDelete = "webhook.subscription.delete"

	AuditListCreate = "list.create"
	AuditListUpdate = "list.update"
	AuditListDelete = "list.delete"

	AuditTemplateCreate = "template.create"
	AuditTemplateUpdate = "template.update"
	AuditTemplateDelete = "template.delete"

	AuditChannelCreate = "channel.create"
	AuditChannelUpdate = "channel.update"
	AuditChannelDelete = "channel.delete"

	// AuditContactErase is an admin's erasure of a contact (GDPR): the
	// entry names the contact's id, nothing of what was erased.
	AuditContactErase = "contact.erase"

	AuditSessionCreate = "session.create" // a sign-in
	AuditSessionDelete = "session.delete" // a sign-out
	AuditSessionFail   = "session.fail"   // failed sign-ins from one address, one entry per minute
)

// Kinds of AuditActor.
const (
	AuditActorUser   = "user"
	AuditActorToken  = "token"
	AuditActorSystem = "system"
	// AuditActorNobody is who failed to sign in: Name is the email typed.
	AuditActorNobody = "anonymous"
)

// AuditActor is who did what an entry records, as it was then: a user (ID
// and email), an API token (ID and name, and its owner's user id and
// email), Parley's own jobs ("system"), or someone who failed to sign in.
type AuditActor struct {
	Kind      string `json:"kind"`
	ID        uint64 `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	UserID    uint64 `json:"userId,omitempty"`
	UserEmail string `json:"userEmail,omitempty"`
}

// AuditChange is one field a change touched. Old and New are the field's
// JSON values before and after; both are left out for a secret (a
// password, a token's or webhook's secret, anything named like one), for
// which Secret is true, and for values longer than auditValueMax bytes.
type AuditChange struct {
	Field  string          `json:"field"`
	Old    json.RawMessage `json:"old,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
	Secret bool            `json:"secret,omitempty"`
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID         uint64        `json:"id"`
	Time       time.Time     `json:"time"`
	Actor      AuditActor    `json:"actor"`
	Address    string        `json:"address,omitempty"` // the client's IP address
	Action     string        `json:"action"`
	ObjectType string        `json:"objectType,omitempty"`
	ObjectID   string        `json:"objectId,omitempty"`
	Changes    []AuditChange `json:"changes,omitempty"`
}

// AuditFilter selects entries of the audit log. Zero fields select all.
type AuditFilter struct {
	// Actor is "user:<id>", "token:<id>", "system" or "anonymous".
	Actor string
	// Action is an action ("user.update") or the start of one ending in a
	// dot ("user.").
	Action     string
	ObjectType string
	ObjectID   string
	// Since and Until bound the entries' times, both inclusive.
	Since, Until time.Time
	// Before returns only entries older than the entry with this id: the
	// cursor of the next page.
	Before uint64
	// Limit is the most entries returned; 0 means 100.
	Limit int
}

// Match reports whether e is one that f selects (Before and Limit aside).
func (f AuditFilter) Match(e *AuditEntry) bool {
	switch {
	case f.Actor != "" && f.Actor != e.Actor.Key(),
		f.Action != "" && e.Action != f.Action && !(strings.HasSuffix(f.Action, ".") && strings.HasPrefix(e.Action, f.Action)),
		f.ObjectType != "" && e.ObjectType != f.ObjectType,
		f.ObjectID != "" && e.ObjectID != f.ObjectID,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && e.Time.After(f.Until):
		return false
	}
	return true
}

// Key is what AuditFilter.Actor matches: "user:7", "token:3", "system".
func (a AuditActor) Key() string {
	if a.ID == 0 {
		return a.Kind
	}
	return a.Kind + ":" + strconv.FormatUint(a.ID, 10)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit appends e on its own, setting e.ID and e.Time if zero
	// (for what is not a change of stored state: a sign-in that failed).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditLog returns the entries f selects, newest first.
	AuditLog(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// An AuditNote is the entry a write appends in its own transaction; see
// WithAudit. The store sets the entry's ID and Time, and, for a record it
// creates or updates through its generic tables, ObjectID and Changes when
// they are empty.
type AuditNote struct {
	Entry AuditEntry
	done  bool
}

// Pending reports whether n is yet to be written.
func (n *AuditNote) Pending() bool { return n != nil && !n.done && n.Entry.Action != "" }

// Done marks n as written: later writes under the same context add no
// second entry. The store calls it once the transaction committed.
func (n *AuditNote) Done() { n.done = true }

type auditKey struct{}

// WithAudit returns ctx carrying n: the next write made with it that
// commits appends n's entry in its own transaction, and no later one does.
func WithAudit(ctx context.Context, n *AuditNote) context.Context {
	return context.WithValue(ctx, auditKey{}, n)
}

// WithoutAudit returns ctx carrying no note: for a write that only keeps
// Parley's own bookkeeping in a request that changes something else, so
// that the change, not the bookkeeping, carries the entry.
func WithoutAudit(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditKey{}, (*AuditNote)(nil))
}

// AuditFrom returns the note ctx carries, or nil.
func AuditFrom(ctx context.Context) *AuditNote {
	n, _ := ctx.Value(auditKey{}).(*AuditNote)
	return n
}

// auditValueMax is the longest JSON value an AuditChange shows.
const auditValueMax = 2000

// auditSkip are fields every record stamps on each write: not changes.
var auditSkip = []string{"id", "createdAt", "updatedAt", "lastUsedAt"}

// IsSecretField reports whether a JSON field name holds a secret whose value
// the audit log never shows: passwords, secrets, hashes, tokens.
func IsSecretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "secret", "hash", "token", "apikey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// AuditDiff returns the top-level JSON fields in which new differs from
// old (nil for a created record: every field new has), by name. Values are
// shown with every secret field inside them removed; a field whose change
// was only in a secret, or which is a secret itself, is marked Secret
// without values.
func AuditDiff(old, new any) []AuditChange {
	o, n := jsonFields(old), jsonFields(new)
	var names []string
	for k := range n {
		names = append(names, k)
	}
	for k := range o {
		if _, ok := n[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []AuditChange
	for _, k := range names {
		ov, nv := o[k], n[k]
		if slices.Contains(auditSkip, k) || bytes.Equal(ov, nv) || isEmptyJSON(ov) && isEmptyJSON(nv) {
			continue
		}
		c := AuditChange{Field: k}
		if IsSecretField(k) {
			c.Secret = true
			out = append(out, c)
			continue
		}
		if bytes.Equal(cleanJSON(ov, false), cleanJSON(nv, false)) {
			continue // null became [] or the like: no change
		}
		ro, rn := cleanJSON(ov, true), cleanJSON(nv, true)
		if bytes.Equal(ro, rn) {
			c.Secret = true // only a secret inside changed
		} else if len(ro) <= auditValueMax && len(rn) <= auditValueMax {
			c.Old, c.New = ro, rn
		}
		out = append(out, c)
	}
	return out
}

func jsonFields(v any) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if v == nil {
		return m
	}
	data, err := json.Marshal(v)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(data, &m) // not an object: no fields
	return m
}

func isEmptyJSON(v json.RawMessage) bool {
	switch string(v) {
	case "", "null", `""`, "[]", "{}", "false", "0":
		return true
	}
	return false
}

// cleanJSON returns v without empty object fields (null, "", [], {},
// false, 0, the zero time) and, if redact, without any object field whose name
// IsSecretField, at any depth; nil for an empty value.
func cleanJSON(v json.RawMessage, redact bool) json.RawMessage {
	if isEmptyJSON(v) {
		return nil
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return nil
	}
	x = clean(x, redact)
	if isEmptyValue(x) {
		return nil
	}
	out, err := json.Marshal(x)
	if err != nil {
		return nil
	}
	return out
}

func clean(x any, redact bool) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			v = clean(v, redact)
			if redact && IsSecretField(k) || isEmptyValue(v) {
				delete(x, k)
			} else {
				x[k] = v
			}
		}
	case []any:
		for i, v := range x {
			x[i] = clean(v, redact)
		}
	}
	return x
}

func isEmptyValue(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == "" || v == "0001-01-01T00:00:00Z" // the zero time
	case bool:
		return !v
	case json.Number:
		return v == "0"
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// The stores fill a pending note with the two functions below, so that a
// note reads the same whichever store wrote it.

// AuditCopy returns a deep copy of v when ctx carries a pending note, else
// v: an update's fn may change what its shallow copy shares with v (an
// inbox's mailboxes), and the note must see v as it was.
func AuditCopy[T any](ctx context.Context, v *T) *T {
	if !AuditFrom(ctx).Pending() {
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	c := new(T)
	if json.Unmarshal(data, c) != nil {
		return v
	}
	return c
}

// AuditObject fills the pending note of ctx with what a write did to the
// object typ id, from old (nil if new) to v: the note's object type and id
// and the changed fields, where the caller left them empty. A note about a
// part of the object (a widget's bot, an inbox's mailbox) gets the changes
// of that part; a note about anything else is left alone (a write in
// passing).
func AuditObject(ctx context.Context, typ, id string, old, v any) {
	n := AuditFrom(ctx)
	if !n.Pending() {
		return
	}
	e := &n.Entry
	if e.ObjectType == "" {
		e.ObjectType = typ
	}
	if e.ObjectType != typ {
		old, v = auditPart(e.ObjectType, e.ObjectID, old), auditPart(e.ObjectType, e.ObjectID, v)
		if old == nil && v == nil {
			return
		}
	} else if e.ObjectID == "" {
		e.ObjectID = id
	}
	if e.Changes == nil {
		e.Changes = AuditDiff(old, v)
	}
}

// auditPart returns the part typ id of record v that an audit entry is
// about, or nil.
func auditPart(typ, id string, v any) any {
	switch v := v.(type) {
	case *Widget:
		if typ == "bot" && v.Bot != nil {
			return v.Bot
		}
	case *Inbox:
		for i := range v.Mailboxes {
			if typ == "mailbox" && strconv.FormatUint(v.Mailboxes[i].ID, 10) == id {
				return &v.Mailboxes[i]
			}
		}
	}
	return nil
}
