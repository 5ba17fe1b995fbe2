package parley

import (
	"strings"
	"time"
)

// Contact is a person Parley talks to: a chat visitor or an email sender. A
// visitor who never left an email is a contact without one.
type Contact struct {
	ID        uint64 `json:"id"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	// Blocked senders' new conversations go to the Filtered view and never
	// notify (I9).
	Blocked   bool      `json:"blocked,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ActorID returns the contact's actor id, "V-" + id.
func (c *Contact) ActorID() string { return ContactActorID(c.ID) }

// DisplayName returns the best name to show for c: its full name, its email,
// or "Visitor #id".
func (c *Contact) DisplayName() string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return "Visitor #" + uitoa(c.ID)
}

// Visitor binds a browser to a contact. The browser holds a random secret;
// Parley stores only its SHA-256 hash.
type Visitor struct {
	Hash      string    `json:"hash"`
	ContactID uint64    `json:"contactId"`
	CreatedAt time.Time `json:"createdAt"`
}
