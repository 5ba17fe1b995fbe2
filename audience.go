package parley

// InAudience reports whether a visitor belongs to audience a (W1). c is the
// contact the visitor's browser is linked to, nil for an anonymous visitor;
// list is the audience's list for modes "list" and "notList" (nil if missing).
//
// A visitor is "known" when linked to a contact with an email (one it typed
// counts: it only changes which widget greets it), "anonymous" otherwise.
// Lists match on verified emails only (ListCriterion). Mode "list" admits members of list only; "notList" admits
// everyone but its members, anonymous visitors included. The zero mode is
// everyone; an unknown mode admits nobody.
func InAudience(a Audience, c *Contact, list *ContactList) bool {
	known := c != nil && c.HasEmail()
	switch a.Mode {
	case "", AudienceEveryone:
		return true
	case AudienceAnonymous:
		return !known
	case AudienceKnown:
		return known
	case AudienceList:
		return list.Matches(c)
	case AudienceNotList:
		return !list.Matches(c)
	}
	return false
}
