package parley

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Widget setting limits enforced by Validate.
const (
	// MaxWidgetTextRunes bounds the texts a visitor reads: welcome, away,
	// email-capture and consent texts.
	MaxWidgetTextRunes = 1000
	// MaxWidgetPicks bounds the users or teams a heading or routing names.
	MaxWidgetPicks = 100
	// MaxOpenPerAgentLimit is the highest cap on an agent's open conversations.
	MaxOpenPerAgentLimit = 1000
	// MinAccentContrast is the WCAG AA contrast ratio for normal text that
	// white text on the accent colour should reach.
	MinAccentContrast = 4.5
)

// Days are the day names of business-hours ranges, Monday first.
var Days = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Validate checks a widget's settings on their own, as an admin saves them:
// every field that is not a reference to another record (those are checked
// by ValidateRefs). It returns an *Error with code EINVALID whose message
// names the first bad field, e.g. "appearance.accentColor must be #rrggbb", or
// nil. Validate does not change w; call Normalize first so that fields unused
// by the chosen modes are not checked.
func (w *Widget) Validate() error {
	if err := widgetLine("name", w.Name, true); err != nil {
		return err
	}
	if w.InboxID == 0 {
		return Errorf(EINVALID, "inboxId is required")
	}
	if err := ValidateTargeting(w.Targeting); err != nil {
		return err
	}
	if err := ValidateAvailability(w.Availability); err != nil {
		return err
	}
	if err := widgetText("availability.awayMessage", w.Availability.AwayMessage, false); err != nil {
		return err
	}
	if err := validateWidgetMessage(w.Message); err != nil {
		return err
	}
	if err := ValidateAppearance(w.Appearance); err != nil {
		return err
	}
	if err := validateAudience(w.Audience); err != nil {
		return err
	}
	if err := validateRouting(w.Routing); err != nil {
		return err
	}
	if err := validateConsent(w.Consent); err != nil {
		return err
	}
	if l := w.Options.Language; l != "" && l != WidgetLanguageVisitor && !languageCode(l) {
		return Errorf(EINVALID, "options.language must be empty (the page's language), %q or a language code such as \"de\"", WidgetLanguageVisitor)
	}
	if w.Bot != nil {
		if err := w.Bot.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Normalize clears the settings that the chosen modes do not use, so that a
// stored widget never refers to a list, user or team it does not need: a
// widget shown to everyone keeps no list id, a heading that shows a team keeps
// no user ids. Text fields lose surrounding space where it has no meaning
// (name, ids-like fields); message texts are kept as written.
func (w *Widget) Normalize() {
	w.Name = strings.TrimSpace(w.Name)
	a := &w.Audience
	a.Mode = a.EffectiveMode()
	if a.Mode != AudienceList && a.Mode != AudienceNotList {
		a.ListID = 0
	}
	av := &w.Availability
	av.Timezone = strings.TrimSpace(av.Timezone)
	if av.Mode != AvailabilityHours {
		av.Hours = nil
	}
	hd := &w.Message.Heading
	keepUsers, keepTeam, keepFallback, keepCustom := false, false, false, false
	switch hd.Mode {
	case HeadingUser, HeadingUsers:
		keepUsers = true
	case HeadingTeam:
		keepTeam = true
	case HeadingOwner:
		keepFallback = true
	case HeadingCustom:
		keepCustom = true
	}
	if !keepUsers {
		hd.UserIDs = nil
	}
	if !keepTeam {
		hd.TeamID = 0
	}
	if !keepFallback {
		hd.FallbackUserID = 0
	}
	if !keepCustom {
		hd.Name, hd.AvatarURL = "", ""
	}
	hd.Name = strings.TrimSpace(hd.Name)
	hd.AvatarURL = strings.TrimSpace(hd.AvatarURL)
	r := &w.Routing
	if r.Mode != RoutingUsers {
		r.UserIDs = nil
	}
	if r.Mode != RoutingTeams {
		r.TeamIDs = nil
	}
	if r.Mode != RoutingOwner {
		r.FallbackUserID = 0
	}
	c := &w.Consent
	if c.Process == ConsentNone {
		c.ProcessText = ""
	}
	if !c.Communicate {
		c.SubscriptionType, c.CommunicateText = "", ""
	}
	c.SubscriptionType = strings.TrimSpace(c.SubscriptionType)
	w.Appearance.AvatarURL = strings.TrimSpace(w.Appearance.AvatarURL)
}

// Warnings returns what is allowed but worth an admin's attention, one
// sentence each, or nil: white text on the accent colour below
// MinAccentContrast (WCAG AA) is hard to read.
func (w *Widget) Warnings() []string {
	var out []string
	accent := w.Appearance.AccentColor
	if accent == "" {
		accent = DefaultAccentColor
	}
	if ratio, err := ContrastRatio(accent, "#ffffff"); err == nil && ratio < MinAccentContrast {
		out = append(out, fmt.Sprintf("appearance.accentColor: white text on %s has a contrast ratio of %.2f:1, below the %.1f:1 that WCAG AA asks for; visitors may find the launcher and headings hard to read", accent, ratio, MinAccentContrast))
	}
	return out
}

// DefaultAccentColor is the accent colour of a widget that sets none.
const DefaultAccentColor = "#2563eb"

// WidgetRefs are the records a widget's settings may refer to, for
// ValidateRefs: everything the store holds of each kind, or at least every
// record the widget names.
type WidgetRefs struct {
	Inboxes []*Inbox
	Users   []*User
	Teams   []*Team
	Lists   []*ContactList
}

// ValidateRefs checks that what w refers to exists: its inbox; the list of a
// list audience; the users, team and fallback user of its heading (active
// users); the users of its routing (active members of the widget's inbox), its
// teams and its owner-routing fallback user (an active member too). It returns
// EINVALID naming the field, or nil.
func (w *Widget) ValidateRefs(refs WidgetRefs) error {
	var inbox *Inbox
	for _, in := range refs.Inboxes {
		if in != nil && in.ID == w.InboxID {
			inbox = in
		}
	}
	if inbox == nil {
		return Errorf(EINVALID, "inboxId: inbox %d does not exist", w.InboxID)
	}
	users := make(map[uint64]*User, len(refs.Users))
	for _, u := range refs.Users {
		if u != nil {
			users[u.ID] = u
		}
	}
	activeUser := func(field string, id uint64) error {
		if u, ok := users[id]; !ok || u.Deactivated {
			return Errorf(EINVALID, "%s: user %d is not an active user", field, id)
		}
		return nil
	}
	member := func(field string, id uint64) error {
		if err := activeUser(field, id); err != nil {
			return err
		}
		if !inbox.HasMember(id) {
			return Errorf(EINVALID, "%s: user %d is not a member of inbox %q", field, id, inbox.Name)
		}
		return nil
	}
	team := func(field string, id uint64) error {
		for _, t := range refs.Teams {
			if t != nil && t.ID == id {
				return nil
			}
		}
		return Errorf(EINVALID, "%s: team %d does not exist", field, id)
	}
	if a := w.Audience; a.Mode == AudienceList || a.Mode == AudienceNotList {
		found := false
		for _, l := range refs.Lists {
			if l != nil && l.ID == a.ListID {
				found = true
			}
		}
		if !found {
			return Errorf(EINVALID, "audience.listId: list %d does not exist", a.ListID)
		}
	}
	hd := w.Message.Heading
	for i, id := range hd.UserIDs {
		if err := activeUser(fmt.Sprintf("message.heading.userIds[%d]", i), id); err != nil {
			return err
		}
	}
	if hd.Mode == HeadingTeam {
		if err := team("message.heading.teamId", hd.TeamID); err != nil {
			return err
		}
	}
	if hd.FallbackUserID != 0 {
		if err := activeUser("message.heading.fallbackUserId", hd.FallbackUserID); err != nil {
			return err
		}
	}
	r := w.Routing
	for i, id := range r.UserIDs {
		if err := member(fmt.Sprintf("routing.userIds[%d]", i), id); err != nil {
			return err
		}
	}
	for i, id := range r.TeamIDs {
		if err := team(fmt.Sprintf("routing.teamIds[%d]", i), id); err != nil {
			return err
		}
	}
	if r.FallbackUserID != 0 {
		if err := member("routing.fallbackUserId", r.FallbackUserID); err != nil {
			return err
		}
	}
	return nil
}

func validateWidgetMessage(m WidgetMessage) error {
	if err := widgetText("message.welcome", m.Welcome, false); err != nil {
		return err
	}
	hd := m.Heading
	if len(hd.UserIDs) > MaxWidgetPicks {
		return Errorf(EINVALID, "message.heading.userIds has %d users; at most %d are allowed", len(hd.UserIDs), MaxWidgetPicks)
	}
	switch hd.Mode {
	case "":
	case HeadingUser:
		if len(hd.UserIDs) != 1 {
			return Errorf(EINVALID, "message.heading.userIds must name exactly one user for heading mode user")
		}
	case HeadingUsers:
		if len(hd.UserIDs) == 0 {
			return Errorf(EINVALID, "message.heading.userIds must name at least one user for heading mode users")
		}
	case HeadingTeam:
		if hd.TeamID == 0 {
			return Errorf(EINVALID, "message.heading.teamId is required for heading mode team")
		}
	case HeadingOwner:
		if hd.FallbackUserID == 0 {
			return Errorf(EINVALID, "message.heading.fallbackUserId is required for heading mode owner (shown for new or unowned visitors)")
		}
	case HeadingCustom:
		if err := widgetLine("message.heading.name", hd.Name, true); err != nil {
			return err
		}
		if hd.AvatarURL != "" && !IsWebURL(hd.AvatarURL) {
			return Errorf(EINVALID, "message.heading.avatarUrl must be an absolute http or https URL")
		}
	default:
		return Errorf(EINVALID, "message.heading.mode must be user, users, team, owner or custom (or empty for the widget's name)")
	}
	if err := uniqueIDs("message.heading.userIds", hd.UserIDs); err != nil {
		return err
	}
	switch m.EmailCapture.When {
	case "", EmailCaptureNever, EmailCaptureBefore, EmailCaptureAfter:
	default:
		return Errorf(EINVALID, "message.emailCapture.when must be never, before or after")
	}
	return widgetText("message.emailCapture.message", m.EmailCapture.Message, false)
}

func validateAudience(a Audience) error {
	switch a.Mode {
	case "", AudienceEveryone, AudienceAnonymous, AudienceKnown:
	case AudienceList, AudienceNotList:
		if a.ListID == 0 {
			return Errorf(EINVALID, "audience.listId is required for audience mode %s", a.Mode)
		}
	default:
		return Errorf(EINVALID, "audience.mode must be everyone, anonymous, known, list or notList")
	}
	return nil
}

// validateRouting adds to ValidateRouting what a widget's routing must also
// meet: no id named twice, and a bounded cap.
func validateRouting(r Routing) error {
	if err := ValidateRouting(r); err != nil {
		return err
	}
	if len(r.UserIDs) > MaxWidgetPicks || len(r.TeamIDs) > MaxWidgetPicks {
		return Errorf(EINVALID, "routing names more than %d users or teams", MaxWidgetPicks)
	}
	if err := uniqueIDs("routing.userIds", r.UserIDs); err != nil {
		return err
	}
	if err := uniqueIDs("routing.teamIds", r.TeamIDs); err != nil {
		return err
	}
	if r.MaxOpenPerAgent < 0 || r.MaxOpenPerAgent > MaxOpenPerAgentLimit {
		return Errorf(EINVALID, "routing.maxOpenPerAgent must be from 0 (no cap) to %d", MaxOpenPerAgentLimit)
	}
	return nil
}

func validateConsent(c Consent) error {
	switch c.Process {
	case ConsentNone:
	case ConsentExplicit, ConsentLegitimate:
		if err := widgetText("consent.processText", c.ProcessText, true); err != nil {
			return err
		}
	default:
		return Errorf(EINVALID, "consent.process must be explicit or legitimate (or empty for none)")
	}
	if err := widgetText("consent.processText", c.ProcessText, false); err != nil {
		return err
	}
	if c.Communicate {
		if err := widgetLine("consent.subscriptionType", c.SubscriptionType, true); err != nil {
			return err
		}
		if err := widgetText("consent.communicateText", c.CommunicateText, true); err != nil {
			return err
		}
	}
	if err := widgetLine("consent.subscriptionType", c.SubscriptionType, false); err != nil {
		return err
	}
	return widgetText("consent.communicateText", c.CommunicateText, false)
}

func uniqueIDs(field string, ids []uint64) error {
	seen := make(map[uint64]bool, len(ids))
	for i, id := range ids {
		if id == 0 {
			return Errorf(EINVALID, "%s[%d] is not an id", field, i)
		}
		if seen[id] {
			return Errorf(EINVALID, "%s names %d twice", field, id)
		}
		seen[id] = true
	}
	return nil
}

// widgetText checks a text a visitor reads: valid UTF-8, at most
// MaxWidgetTextRunes, no control characters but tab, newline and carriage
// return; not blank if required.
func widgetText(field, s string, required bool) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	case required && strings.TrimSpace(s) == "":
		return Errorf(EINVALID, "%s is required", field)
	case utf8.RuneCountInString(s) > MaxWidgetTextRunes:
		return Errorf(EINVALID, "%s is longer than %d characters", field, MaxWidgetTextRunes)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return Errorf(EINVALID, "%s contains control character U+%04X", field, r)
		}
	}
	return nil
}

// widgetLine checks a one-line setting: valid UTF-8, 1 (if required) to
// MaxNameBytes bytes, no control characters.
func widgetLine(field, s string, required bool) error {
	switch {
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	case required && strings.TrimSpace(s) == "":
		return Errorf(EINVALID, "%s is required (1 to %d bytes)", field, MaxNameBytes)
	case len(s) > MaxNameBytes:
		return Errorf(EINVALID, "%s is longer than %d bytes", field, MaxNameBytes)
	}
	if _, bad := lineBreaker(s); bad {
		return Errorf(EINVALID, "%s must be one line without control characters", field)
	}
	return nil
}

// languageCode reports whether s is a lower-case two- or three-letter
// language code ("de", "fil").
func languageCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
