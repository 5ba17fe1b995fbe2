package parley

import "time"

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
	MaxOpenChats int       `json:"maxOpenChats,omitempty"`
	Deactivated  bool      `json:"deactivated"`
	Notify       Notify    `json:"notify"`
	CreatedAt    time.Time `json:"createdAt"`
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
	Hash      string    `json:"hash"` // hex SHA-256 of the secret
	UserID    uint64    `json:"userId"`
	Kind      string    `json:"kind"` // SessionCookie or SessionToken
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"` // zero: never (API tokens)
}

// Session kinds.
const (
	SessionCookie = "cookie"
	SessionToken  = "token"
)

// Expired reports whether s is no longer valid at now.
func (s *Session) Expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
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
}

// HasMember reports whether user id is a member of the inbox.
func (in *Inbox) HasMember(id uint64) bool {
	for _, m := range in.MemberIDs {
		if m == id {
			return true
		}
	}
	return false
}
