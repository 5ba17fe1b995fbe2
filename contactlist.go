package parley

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

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

// How a list combines its criteria.
const (
	MatchAll = "all"
	MatchAny = "any"
)

// Built-in contact properties a list criterion can test. Any other name is a
// custom property (Contact.Properties).
const (
	PropEmail       = "email"
	PropEmailDomain = "emailDomain" // the part of the email after "@"
	PropFirstName   = "firstName"
	PropLastName    = "lastName"
	PropOwner       = "owner" // Value is a user id
)

// List criterion operators on text properties.
const (
	OpIs          = "is"
	OpIsNot       = "isNot"
	OpContains    = "contains"
	OpNotContains = "notContains"
	OpStartsWith  = "startsWith"
	OpEndsWith    = "endsWith"
	OpIsKnown     = "isKnown"
	OpIsUnknown   = "isUnknown"
)

// Limits of lists and custom properties.
const (
	MaxListCriteria      = 50
	MaxPropertyNameBytes = 64
	MaxPropertyBytes     = 1000 // a property value or a criterion value
	MaxContactProperties = 50
)

// builtinProps are the property names that are not custom properties.
var builtinProps = map[string]bool{PropEmail: true, PropEmailDomain: true, PropFirstName: true, PropLastName: true, PropOwner: true}

// Matches reports whether contact c is a member of the list: whether its
// properties meet all (Match "all") or any (Match "any") of the criteria. A
// nil contact (an anonymous visitor) and a list without criteria match
// nothing.
//
// Text comparisons ignore case (Unicode simple folding) and surrounding
// space of the value. A property that is not set (an empty string, a contact
// without owner) is "unknown": isUnknown matches it, isNot and notContains
// match it too (it is not that value), every other operator does not. The
// owner property compares the owner's user id ("7", or "A-7"). An unknown
// operator never matches. Matches never panics.
func (l *ContactList) Matches(c *Contact) bool {
	if l == nil || c == nil || len(l.Criteria) == 0 {
		return false
	}
	anyOf := l.Match == MatchAny
	for _, cr := range l.Criteria {
		ok := cr.matches(c)
		if anyOf && ok {
			return true
		}
		if !anyOf && !ok {
			return false
		}
	}
	return !anyOf
}

// property returns contact c's value of the criterion's property, "" when it
// is not set.
func (cr ListCriterion) property(c *Contact) string {
	switch cr.Property {
	case PropEmail:
		return c.Email
	case PropEmailDomain:
		if i := strings.LastIndexByte(c.Email, '@'); i >= 0 {
			return c.Email[i+1:]
		}
		return ""
	case PropFirstName:
		return c.FirstName
	case PropLastName:
		return c.LastName
	case PropOwner:
		if c.OwnerID == 0 {
			return ""
		}
		return strconv.FormatUint(c.OwnerID, 10)
	}
	return c.Properties[cr.Property]
}

func (cr ListCriterion) matches(c *Contact) bool {
	have := strings.TrimSpace(cr.property(c))
	want := strings.TrimSpace(cr.Value)
	if cr.Property == PropOwner {
		want = strings.TrimPrefix(want, ActorUser)
	}
	switch cr.Op {
	case OpIsKnown:
		return have != ""
	case OpIsUnknown:
		return have == ""
	case OpIsNot:
		return !textOp(OpIs, have, want)
	case OpNotContains:
		return !textOp(OpContains, have, want)
	}
	return textOp(cr.Op, have, want)
}

// textOp applies a positive text operator; an unknown value (have "") meets
// none of them.
func textOp(op, have, want string) bool {
	if have == "" {
		return false
	}
	switch op {
	case OpIs:
		return strings.EqualFold(have, want)
	case OpContains:
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	case OpStartsWith:
		return strings.HasPrefix(strings.ToLower(have), strings.ToLower(want))
	case OpEndsWith:
		return strings.HasSuffix(strings.ToLower(have), strings.ToLower(want))
	}
	return false
}

// Validate checks a list as an admin saves it: a name of 1 to MaxNameBytes
// bytes on one line, Match "all" or "any", 1 to MaxListCriteria criteria, each
// with a built-in or well-formed custom property name, a known operator and,
// but for isKnown and isUnknown, a value of at most MaxPropertyBytes (for
// owner, a user id). It returns EINVALID naming the field, or nil.
func (l *ContactList) Validate() error {
	if err := widgetLine("name", l.Name, true); err != nil {
		return err
	}
	if l.Match != MatchAll && l.Match != MatchAny {
		return Errorf(EINVALID, "match must be all or any")
	}
	if len(l.Criteria) == 0 {
		return Errorf(EINVALID, "criteria: a list needs at least one criterion")
	}
	if len(l.Criteria) > MaxListCriteria {
		return Errorf(EINVALID, "criteria has %d entries; at most %d are allowed", len(l.Criteria), MaxListCriteria)
	}
	for i, cr := range l.Criteria {
		field := fmt.Sprintf("criteria[%d]", i)
		if !builtinProps[cr.Property] && !ValidPropertyName(cr.Property) {
			return Errorf(EINVALID, "%s.property must be email, emailDomain, firstName, lastName, owner or a custom property name (a letter, then up to 63 letters, digits or _)", field)
		}
		switch cr.Op {
		case OpIsKnown, OpIsUnknown:
			if cr.Value != "" {
				return Errorf(EINVALID, "%s.value must be empty for operator %s", field, cr.Op)
			}
			continue
		case OpIs, OpIsNot, OpContains, OpNotContains, OpStartsWith, OpEndsWith:
		default:
			return Errorf(EINVALID, "%s.op must be is, isNot, contains, notContains, startsWith, endsWith, isKnown or isUnknown", field)
		}
		if !utf8.ValidString(cr.Value) || strings.TrimSpace(cr.Value) == "" {
			return Errorf(EINVALID, "%s.value is required for operator %s", field, cr.Op)
		}
		if len(cr.Value) > MaxPropertyBytes {
			return Errorf(EINVALID, "%s.value is longer than %d bytes", field, MaxPropertyBytes)
		}
		if cr.Property == PropOwner {
			if _, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(cr.Value), ActorUser), 10, 64); err != nil {
				return Errorf(EINVALID, "%s.value must be a user id for property owner", field)
			}
		}
	}
	return nil
}

// ValidPropertyName reports whether name is a well-formed custom property
// name: a letter, then up to 63 ASCII letters, digits or '_'. Built-in names
// such as "email" are well-formed too; ValidateProperties refuses them.
func ValidPropertyName(name string) bool {
	if name == "" || len(name) > MaxPropertyNameBytes {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// ValidateProperties checks a contact's custom properties: at most
// MaxContactProperties, each named per ValidPropertyName but not a built-in
// property (email, emailDomain, firstName, lastName, owner), with a value of
// valid UTF-8 text of at most MaxPropertyBytes bytes and no control characters
// but tab and newlines. It returns EINVALID naming the property, or nil.
func ValidateProperties(props map[string]string) error {
	if len(props) > MaxContactProperties {
		return Errorf(EINVALID, "properties: at most %d custom properties are allowed, got %d", MaxContactProperties, len(props))
	}
	for name, v := range props {
		if !ValidPropertyName(name) {
			return Errorf(EINVALID, "properties: name %q must be a letter, then up to 63 letters, digits or _", truncate(name, 70))
		}
		if builtinProps[name] {
			return Errorf(EINVALID, "properties.%s: the name is reserved for a built-in property", name)
		}
		if len(v) > MaxPropertyBytes {
			return Errorf(EINVALID, "properties.%s is longer than %d bytes", name, MaxPropertyBytes)
		}
		if !utf8.ValidString(v) {
			return Errorf(EINVALID, "properties.%s is not valid UTF-8", name)
		}
		for _, r := range v {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
				return Errorf(EINVALID, "properties.%s contains control character U+%04X", name, r)
			}
		}
	}
	return nil
}
