package parley

import (
	"time"
	"unicode/utf8"
)

// Role is what a user may do: admins configure, agents answer.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// User is an agent or admin who signs in to the console.
type User struct {
	ID           uint64 `json:"id"`
	Email        string `json:"email"` // unique, compared case-insensitively
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	PasswordHash string `json:"passwordHash,omitempty"` // argon2id, PHC string format
	Away         bool   `json:"away"`                   // away mode (I10)
	// ReassignWhileAway: while away, a visitor's reply on a conversation
	// assigned to the user goes to an available teammate (I10).
	ReassignWhileAway bool `json:"reassignWhileAway,omitempty"`
	RoutingSeat       bool `json:"routingSeat"` // may receive automatic routing (I1)
	// MaxOpenChats caps the open conversations routing gives the user; 0 is
	// no cap. The tighter of it and the widget's Routing.MaxOpenPerAgent
	// applies. Assigning by hand ignores it.
	MaxOpenChats int    `json:"maxOpenChats,omitempty"`
	Deactivated  bool   `json:"deactivated"`
	Notify       Notify `json:"notify"`
	// Language is the language the user's console shows, a language of
	// Parley's message catalogs ("en", "de"); "" until the console says.
	// Parley's mails to the user are written in it.
	Language string `json:"language,omitempty"`
	// Signature is added to the user's email replies (R4): rich text as
	// the richtext package's Clean keeps it, "" for none.
	Signature string    `json:"signature,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// MaxSignatureBytes bounds a signature, rich text.
const MaxSignatureBytes = 8 << 10

// ValidateSignature checks a signature as cleaned rich text: valid UTF-8 of
// at most MaxSignatureBytes ("" is none). It returns ETOOLARGE or
// EINVALID naming the field.
func ValidateSignature(field, s string) error {
	if len(s) > MaxSignatureBytes {
		return Errorf(ETOOLARGE, "%s is %d bytes; the limit is %d", field, len(s), MaxSignatureBytes)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	}
	return nil
}

// MaxOpenChatsLimit is the highest per-user cap of open chats.
const MaxOpenChatsLimit = 1000

// ValidateMaxOpenChats checks a user's cap of open chats (User.MaxOpenChats):
// 0 (no cap) to MaxOpenChatsLimit. It returns EINVALID naming the field.
func ValidateMaxOpenChats(n int) error {
	if n < 0 || n > MaxOpenChatsLimit {
		return Errorf(EINVALID, "maxOpenChats must be 0 (no limit) to %d, got %d", MaxOpenChatsLimit, n)
	}
	return nil
}

// Notify is a user's notification settings (R6).
type Notify struct {
	Muted   bool `json:"muted"`   // no sound
	Desktop bool `json:"desktop"` // browser notifications while the tab is hidden
}

// ActorID returns the user's actor id, "A-" + id.
func (u *User) ActorID() string { return UserActorID(u.ID) }

// IsAdmin reports whether u may change settings.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Session is a signed-in console session or an API token. Only the SHA-256 of
// the secret is stored; the secret itself is shown once.
type Session struct {
	Hash string `json:"hash"` // hex SHA-256 of the secret
	// ID names an API token in lists and revocations: assigned by the store,
	// stable, and unrelated to the secret. Console sessions have none.
	ID        uint64    `json:"id,omitempty"`
	UserID    uint64    `json:"userId"`
	Kind      string    `json:"kind"` // SessionCookie or SessionToken
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"` // zero: never (API tokens)
	// Scopes limit an API token; its user's role limits it too (see
	// Session.Rights). Console sessions have none and carry the role's.
	Scopes Scopes `json:"scopes,omitempty"`
	// LastUsedAt is when an API token was last used, to the hour or so
	// (TokenUseInterval); zero if never.
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
}

// TokenUseInterval is how stale an API token's LastUsedAt may grow before a
// request records it again: recording every request would cost a write each.
const TokenUseInterval = time.Hour

// Session kinds.
const (
	SessionCookie = "cookie"
	SessionToken  = "token"
)

// Expired reports whether s is no longer valid at now.
func (s *Session) Expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// Rights returns what s may do for user u: the scopes of u's role, narrowed
// to the session's own scopes when it is an API token that has any.
func (s *Session) Rights(u *User) Scopes {
	role := RoleScopes(u.Role)
	if s.Kind != SessionToken || s.Scopes == nil {
		return role
	}
	var out Scopes
	for _, sc := range s.Scopes {
		if role.Has(sc) {
			out = append(out, sc)
		}
	}
	return out
}

// Scope is one right an API token may carry.
type Scope string

// Scopes of API tokens. A read (GET, HEAD) needs ScopeRead, any other
// request ScopeWrite, and an admin-only request ScopeAdmin besides; asking
// for admin includes the other two (ParseScopes).
const (
	ScopeRead  Scope = "read"  // GET and HEAD requests; receiving events
	ScopeWrite Scope = "write" // every other request; sending messages
	ScopeAdmin Scope = "admin" // admin-only requests, with an admin user
)

// Scopes is a set of scopes, in the order read, write, admin.
type Scopes []Scope

// Has reports whether sc is in the set.
func (ss Scopes) Has(sc Scope) bool {
	for _, s := range ss {
		if s == sc {
			return true
		}
	}
	return false
}

// RoleScopes returns every scope role r grants: read and write for agents,
// and admin as well for admins. An unknown role grants none.
func RoleScopes(r Role) Scopes {
	switch r {
	case RoleAdmin:
		return Scopes{ScopeRead, ScopeWrite, ScopeAdmin}
	case RoleAgent:
		return Scopes{ScopeRead, ScopeWrite}
	}
	return nil
}

// ParseScopes checks the scope names asked for a token and returns them as a
// set in canonical order. Asking for admin includes read and write, so that
// an admin token can do what its name says. An unknown name is EINVALID
// naming it; an empty list is EINVALID.
func ParseScopes(names []string) (Scopes, error) {
	if len(names) == 0 {
		return nil, Errorf(EINVALID, "scopes must list at least one of read, write, admin (or be left out)")
	}
	want := map[Scope]bool{}
	for _, n := range names {
		switch sc := Scope(n); sc {
		case ScopeRead, ScopeWrite:
			want[sc] = true
		case ScopeAdmin:
			want[ScopeRead], want[ScopeWrite], want[ScopeAdmin] = true, true, true
		default:
			return nil, Errorf(EINVALID, "scopes: unknown scope %q; known are read, write, admin", truncate(n, 40))
		}
	}
	var out Scopes
	for _, sc := range []Scope{ScopeRead, ScopeWrite, ScopeAdmin} {
		if want[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Inbox is a team's shared inbox. Only its members see and act on its threads.
type Inbox struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	MemberIDs []uint64  `json:"memberIds"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Mailboxes are the inbox's team email addresses (E1), each its own
	// channel account; an address belongs to one inbox at most.
	Mailboxes []Mailbox `json:"mailboxes,omitempty"`
	// Notify are the inbox's outside notifications (M3).
	Notify InboxNotify `json:"notify,omitzero"`
	// Signature is added to every email reply from the inbox, after the
	// agent's own (R4): rich text as the richtext package's Clean keeps
	// it, "" for none.
	Signature string `json:"signature,omitempty"`
	// RetentionDays, when not 0, is how long the inbox keeps a conversation
	// that is closed or in the trash: once its latest message is that many
	// days old, it is deleted for good (retention.go in package app).
	RetentionDays int `json:"retentionDays,omitempty"`
}

// MaxRetentionDays bounds Inbox.RetentionDays (100 years).
const MaxRetentionDays = 36500

// HasMember reports whether user id is a member of the inbox.
func (in *Inbox) HasMember(id uint64) bool {
	for _, m := range in.MemberIDs {
		if m == id {
			return true
		}
	}
	return false
}
