package parley

import (
	"net/mail"
	"strings"
)

// The rules of the contact sidebar's small CRM (I8, R5): which stages a
// ticket or deal moves through, what an amount looks like, what a contact's
// editable fields may hold.

// Record stages, in the order a ticket or deal moves through them.
const (
	TicketNew     = "new"
	TicketWaiting = "waiting"
	TicketClosed  = "closed"

	DealAppointment  = "appointment"
	DealQualified    = "qualified"
	DealPresentation = "presentation"
	DealDecision     = "decision"
	DealContract     = "contract"
	DealWon          = "won"
	DealLost         = "lost"
)

// MaxAmountDigits bounds the integer part of a deal's amount; MaxAmountDecimals
// its fraction.
const (
	MaxAmountDigits   = 15
	MaxAmountDecimals = 4
)

// RecordStages returns the stages of records of kind, in order, or nil for an
// unknown kind. The first is a new record's default. The slice is the
// caller's.
func RecordStages(kind string) []string {
	switch kind {
	case RecordTicket:
		return []string{TicketNew, TicketWaiting, TicketClosed}
	case RecordDeal:
		return []string{DealAppointment, DealQualified, DealPresentation, DealDecision, DealContract, DealWon, DealLost}
	}
	return nil
}

// Validate checks the fields a user gives a record: Kind is RecordTicket or
// RecordDeal; Name is 1 to MaxNameBytes of one line of text without
// surrounding space; Stage is one of RecordStages(Kind); Amount is empty or,
// for deals only, a non-negative decimal such as "1200" or "99.95" (at most
// MaxAmountDigits digits before the point and MaxAmountDecimals after). It
// returns EINVALID naming the field. Whether the owner and contact exist is
// the caller's to check.
func (r *Record) Validate() error {
	stages := RecordStages(r.Kind)
	if stages == nil {
		return Errorf(EINVALID, "kind must be %q or %q", RecordTicket, RecordDeal)
	}
	if err := ValidateLine("name", r.Name, true); err != nil {
		return err
	}
	ok := false
	for _, s := range stages {
		ok = ok || s == r.Stage
	}
	if !ok {
		return Errorf(EINVALID, "stage of a %s must be one of %s", r.Kind, strings.Join(stages, ", "))
	}
	if r.Amount != "" {
		if r.Kind != RecordDeal {
			return Errorf(EINVALID, "only deals have an amount")
		}
		if err := crmAmount(r.Amount); err != nil {
			return err
		}
	}
	return nil
}

// crmAmount checks a decimal amount string: digits, optionally a point and
// more digits; no sign, exponent or separators.
func crmAmount(s string) error {
	whole, frac, hasPoint := strings.Cut(s, ".")
	digits := func(p string) bool {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
		return p != ""
	}
	if !digits(whole) || hasPoint && !digits(frac) {
		return Errorf(EINVALID, "amount must be a decimal number such as 1200 or 99.95")
	}
	if len(whole) > MaxAmountDigits || len(frac) > MaxAmountDecimals {
		return Errorf(EINVALID, "amount may have at most %d digits before the point and %d after", MaxAmountDigits, MaxAmountDecimals)
	}
	return nil
}

// Validate checks a logged engagement: Kind is EngagementCall,
// EngagementEmail or EngagementNote; Body is message text (see ValidateText).
// It returns EINVALID or ETOOLARGE naming the field.
func (e *Engagement) Validate() error {
	switch e.Kind {
	case EngagementCall, EngagementEmail, EngagementNote:
	default:
		return Errorf(EINVALID, "kind must be %q, %q or %q", EngagementCall, EngagementEmail, EngagementNote)
	}
	if err := ValidateText(e.Body); err != nil {
		return Errorf(ErrorCode(err), "body: %s", ErrorMessage(err))
	}
	return nil
}

// Validate checks the fields an agent may edit on a contact: FirstName and
// LastName are at most MaxNameBytes of one line of text without surrounding
// space (empty is allowed); Email is empty or one plain address
// ("ada@example.com", no display name) of at most MaxNameBytes. It returns
// EINVALID naming the field. Uniqueness of the email is the store's to check.
func (c *Contact) Validate() error {
	if err := ValidateLine("firstName", c.FirstName, false); err != nil {
		return err
	}
	if err := ValidateLine("lastName", c.LastName, false); err != nil {
		return err
	}
	if err := validateContactEmail("email", c.Email); err != nil {
		return err
	}
	return validateContactEmail("unverifiedEmail", c.UnverifiedEmail)
}

// validateContactEmail checks an optional plain address ("ada@example.com",
// no display name, a dotted domain) of at most MaxNameBytes.
func validateContactEmail(field, email string) error {
	if email == "" {
		return nil
	}
	if len(email) > MaxNameBytes {
		return Errorf(EINVALID, "%s is longer than %d bytes", field, MaxNameBytes)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
		return Errorf(EINVALID, "%s %q is not an email address", field, truncate(email, 60))
	}
	return nil
}
