package parley

import (
	"strings"
	"time"
)

// Contact is a person Parley talks to: a chat visitor or an email sender. A
// visitor who never left an email is a contact without one.
type Contact struct {
	ID    uint64 `json:"id"`
	Email string `json:"email,omitempty"`
	// UnverifiedEmail is an address the visitor typed into the widget or a
	// bot's question: a claim, never an identity. Agents see it, marked as
	// unverified, but it is not unique, is never looked up to find a
	// contact, never joins a visitor to anyone else's conversations, and
	// gets no transcripts (Parley would mail a stranger on a visitor's
	// say-so). Only Email, which comes from the site's identification, the
	// sender of an email, or an agent, is an identity and gets transcripts.
	UnverifiedEmail string `json:"unverifiedEmail,omitempty"`
	FirstName       string `json:"firstName,omitempty"`
	LastName        string `json:"lastName,omitempty"`
	// Blocked senders' new conversations go to the Filtered view and never
	// notify (I9).
	Blocked bool `json:"blocked,omitempty"`
	// OwnerID is the user who owns the contact, 0 for none (W4, W6).
	OwnerID uint64 `json:"ownerId,omitempty"`
	// CompanyID is the company the contact belongs to, 0 for none. When a
	// contact gets an email address and has no company, the store gives it
	// the company of the address's domain (CompanyDomain), making one if
	// none has that domain.
	CompanyID uint64 `json:"companyId,omitempty"`
	// Properties are custom properties, such as answers a bot saved.
	Properties map[string]string `json:"properties,omitempty"`
	// Consents are the consents the contact gave, oldest first (G1, G2).
	Consents  []ConsentRecord `json:"consents,omitempty"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// HasEmail reports whether c has an email, verified or not: whether the
// widget may stop asking for one.
func (c *Contact) HasEmail() bool { return c.Email != "" || c.UnverifiedEmail != "" }

// ReplyEmail returns the address mail to c goes to: its email, or else the
// unverified one it typed. It returns "" when c has neither.
func (c *Contact) ReplyEmail() string {
	if c.Email != "" {
		return c.Email
	}
	return c.UnverifiedEmail
}

// ActorID returns the contact's actor id, "V-" + id.
func (c *Contact) ActorID() string { return ContactActorID(c.ID) }

// DisplayName returns the best name to show for c: its full name, its email,
// or "Visitor #id". The API speaks English; texts for people in another
// language name a contact without KnownName in that language.
func (c *Contact) DisplayName() string {
	if n := c.KnownName(); n != "" {
		return n
	}
	return "Visitor #" + uitoa(c.ID)
}

// KnownName returns c's full name, else its email, else "".
func (c *Contact) KnownName() string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	return c.Email
}

// ConsentRecord is one consent a contact gave in a widget (G1, G2).
type ConsentRecord struct {
	Kind     string    `json:"kind"`           // "process" or "communicate"
	Mode     string    `json:"mode,omitempty"` // ConsentExplicit or ConsentLegitimate, for "process"
	Text     string    `json:"text"`           // the text shown, as shown
	Version  string    `json:"version"`        // hash of Text, to tell text versions apart
	WidgetID uint64    `json:"widgetId"`
	PageURL  string    `json:"pageUrl,omitempty"`
	At       time.Time `json:"at"`

	// SubscriptionType is what a "communicate" consent subscribes to (G2).
	SubscriptionType string `json:"subscriptionType,omitempty"`
}

// Visitor binds a browser to a contact. The browser holds a random secret;
// Parley stores only its SHA-256 hash.
type Visitor struct {
	Hash      string    `json:"hash"`
	ContactID uint64    `json:"contactId"`
	CreatedAt time.Time `json:"createdAt"`
}
