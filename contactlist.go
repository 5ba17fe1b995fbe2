package parley

import "time"

// ContactList is a saved segment of contacts (W1): the contacts whose
// properties meet its criteria, all of them (Match "all") or any (Match
// "any"). Membership is evaluated when it is needed, never stored.
type ContactList struct {
	ID        uint64          `json:"id"`
	Name      string          `json:"name"`
	Match     string          `json:"match"` // "all" or "any"
	Criteria  []ListCriterion `json:"criteria"`
	CreatedAt time.Time       `json:"createdAt"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// ListCriterion is one condition on a contact property.
type ListCriterion struct {
	Property string `json:"property"` // "email", "emailDomain", "firstName", "lastName", "owner" or a custom property name
	Op       string `json:"op"`
	Value    string `json:"value,omitempty"`
}
