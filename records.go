package parley

import "time"

// Team is a named group of users. Routing and widget headings can name a
// team instead of single users.
type Team struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	MemberIDs []uint64  `json:"memberIds"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// HasMember reports whether user id is in the team.
func (t *Team) HasMember(id uint64) bool {
	for _, m := range t.MemberIDs {
		if m == id {
			return true
		}
	}
	return false
}

// Invite lets one person create their account through a link. Only the
// SHA-256 of the link's secret is stored.
type Invite struct {
	Hash        string    `json:"hash"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	RoutingSeat bool      `json:"routingSeat"`
	InboxIDs    []uint64  `json:"inboxIds,omitempty"` // inboxes the new user joins
	InvitedBy   uint64    `json:"invitedBy"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// Record kinds that can be associated with a contact and threads (R5).
const (
	RecordTicket = "ticket"
	RecordDeal   = "deal"
)

// Record is a ticket or a deal: a small CRM object associated with a contact
// and with the threads it came from.
type Record struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"` // RecordTicket or RecordDeal
	Name      string    `json:"name"`
	Stage     string    `json:"stage"`
	Amount    string    `json:"amount,omitempty"` // decimal string, deals only
	OwnerID   uint64    `json:"ownerId,omitempty"`
	ContactID uint64    `json:"contactId"`
	ThreadIDs []uint64  `json:"threadIds,omitempty"`
	CreatedBy uint64    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Fields of a record named by a Change (EventRecordUpdated).
const (
	FieldName   = "name"
	FieldStage  = "stage"  // a stage of RecordStages, such as "closed"
	FieldAmount = "amount" // a decimal string
	FieldOwner  = "owner"  // the owner's actor id ("A-3"), "" for none
)

// RecordChanges returns the changes from old to r in the fields a user may
// edit (name, stage, amount, owner), in that order; none if they are equal.
func RecordChanges(old, r *Record) []Change {
	owner := func(id uint64) string {
		if id == 0 {
			return ""
		}
		return UserActorID(id)
	}
	var out []Change
	for _, f := range []Change{
		{FieldName, old.Name, r.Name},
		{FieldStage, old.Stage, r.Stage},
		{FieldAmount, old.Amount, r.Amount},
		{FieldOwner, owner(old.OwnerID), owner(r.OwnerID)},
	} {
		if f.From != f.To {
			out = append(out, f)
		}
	}
	return out
}

// Engagement kinds (I8).
const (
	EngagementCall  = "call"
	EngagementEmail = "email"
	EngagementNote  = "note"
)

// Engagement is a logged call, email or note on a contact.
type Engagement struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`
	ContactID uint64    `json:"contactId"`
	ThreadID  uint64    `json:"threadId,omitempty"`
	Body      string    `json:"body"`
	CreatedBy uint64    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// Snippet is a saved reply an agent inserts by typing "#" and its shortcut.
type Snippet struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Shortcut string `json:"shortcut"` // letters, digits, '-' and '_'; unique
	Body     string `json:"body"`
	Authored
}

// Authored is who wrote an entry of a library the team shares (a snippet,
// a knowledge link) and when. The store sets the times and keeps the
// author and creation time through updates.
type Authored struct {
	CreatedBy uint64    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}
