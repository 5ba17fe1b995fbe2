package parley

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ECONSENT is the error code for a message sent before the visitor agreed
// to the widget's consent text (G1 explicit). It maps to HTTP 403 like
// EFORBIDDEN, but says what to do about it: show the consent box.
const ECONSENT = "consent_required"

// Consent record kinds (G1, G2).
const (
	ConsentKindProcess     = "process"     // consent to process data (G1)
	ConsentKindCommunicate = "communicate" // consent to communicate: a subscription (G2)
)

// ConsentVersion returns the version of a consent text: the first 16 hex
// digits of its SHA-256. A record whose version differs from the text a widget
// shows now was given for an earlier text.
func ConsentVersion(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// HasConsent reports whether c gave consent of kind in widget widgetID for
// the text of the given version.
func (c *Contact) HasConsent(kind string, widgetID uint64, version string) bool {
	for _, r := range c.Consents {
		if r.Kind == kind && r.WidgetID == widgetID && r.Version == version {
			return true
		}
	}
	return false
}

// NeedsProcessConsent reports whether a visitor must click "I agree" in
// widget w before sending anything (G1 explicit) and c (nil: a visitor
// without a contact yet) has not done so for the text shown now.
func (w *Widget) NeedsProcessConsent(c *Contact) bool {
	if w.Consent.Process != ConsentExplicit {
		return false
	}
	return c == nil || !c.HasConsent(ConsentKindProcess, w.ID, ConsentVersion(w.Consent.ProcessText))
}

// ValidateVisitorEmail checks an email a visitor typed into the widget (or
// a site passed for identification) and returns it without surrounding
// space: one plain address with a dotted domain, at most MaxNameBytes. It
// returns EINVALID.
func ValidateVisitorEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", Errorf(EINVALID, "email is required")
	}
	c := Contact{Email: email}
	if err := c.Validate(); err != nil {
		return "", err
	}
	return email, nil
}

// PropertyCapturedEmail is the contact property where Parley before schema
// version 5 kept an email a visitor typed when another contact had it. The
// migration to version 5 moves it to Contact.UnverifiedEmail.
const PropertyCapturedEmail = "capturedEmail"
