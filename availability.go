package parley

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AgentState is what availability and routing need to know of one inbox
// member.
type AgentState struct {
	UserID      uint64
	Online      bool     // at least one console connected
	Away        bool     // away mode on
	RoutingSeat bool     // may receive automatic routing (I1)
	TeamIDs     []uint64 // the teams the user is a member of
	// MaxOpenChats is the user's own cap of open conversations for routing
	// (User.MaxOpenChats); 0 is no cap.
	MaxOpenChats int
}

// Available reports whether the agent can take a new conversation now:
// online and not in away mode (I10).
func (a AgentState) Available() bool { return a.Online && !a.Away }

// What a widget in mode "hours" does when nobody can take a chat inside its
// hours (Availability.InsideHoursWhenAway) and outside them
// (Availability.OutsideHours).
const (
	WhenAwayMessage  = "awayMessage"  // show the away message (the default)
	WhenHideLauncher = "hideLauncher" // hide the launcher (an open chat still shows the away message)
	WhenAvailable    = "available"    // inside hours only: show available anyway
	WhenResponseTime = "responseTime" // outside hours only: show the typical response time
)

// Reasons of a WidgetStatus.
const (
	ReasonAlways       = "always"       // mode always
	ReasonBot          = "bot"          // an enabled bot answers (C4)
	ReasonAgents       = "agents"       // someone who can receive the chat is available
	ReasonNoAgents     = "noAgents"     // nobody who can receive the chat is available
	ReasonOutsideHours = "outsideHours" // mode hours, outside business hours
)

// WidgetStatus is what a widget shows a visitor about availability. It is
// comparable with ==, so that a change can be told from a repeat.
type WidgetStatus struct {
	Available           bool   `json:"available"`
	ShowLauncher        bool   `json:"showLauncher"`
	AwayMessage         string `json:"awayMessage,omitempty"`
	TypicalResponseTime string `json:"typicalResponseTime,omitempty"`
	// NextOpenAt is, outside business hours, the next opening as an RFC
	// 3339 instant in UTC (the widget shows it in the visitor's time zone as
	// "Back at 09:00"); empty otherwise or when the hours never open.
	NextOpenAt string `json:"nextOpenAt,omitempty"`
	// Reason is one of the Reason constants.
	Reason string `json:"reason,omitempty"`
}

// DecideAvailability is the one rule for what widget w shows at now (C3,
// C4), given the state of its inbox's members. Only members who can
// receive the widget's chats count (Widget.CanReceive).
//
//   - An enabled bot overrides everything: always available (C4).
//   - Mode "always": available.
//   - Mode "team" (and any unknown mode): available while at least one
//     member who can receive is available; otherwise the away message, and
//     no launcher if HideLauncherWhenAway.
//   - Mode "hours": inside the hours like "team", except that when nobody is
//     available InsideHoursWhenAway decides; outside the hours OutsideHours
//     decides, and NextOpenAt says when the hours open again.
//
// The typical response time is shown when available, and outside hours with
// OutsideHours "responseTime".
func DecideAvailability(w *Widget, members []AgentState, now time.Time) WidgetStatus {
	a := w.Availability
	available := WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: a.TypicalResponseTime, Reason: ReasonAgents}
	if w.Bot != nil && w.Bot.Enabled {
		available.Reason = ReasonBot
		return available
	}
	if a.Mode == AvailabilityAlways {
		available.Reason = ReasonAlways
		return available
	}
	someone := slices.ContainsFunc(members, func(m AgentState) bool { return m.Available() && w.CanReceive(m) })
	away := func(behaviour string) WidgetStatus {
		st := WidgetStatus{ShowLauncher: true, Reason: ReasonNoAgents}
		switch behaviour {
		case WhenHideLauncher:
			// The away message is for a visitor whose chat is open.
			st.ShowLauncher, st.AwayMessage = false, a.AwayMessage
		case WhenResponseTime:
			st.TypicalResponseTime = a.TypicalResponseTime
		default:
			st.AwayMessage = a.AwayMessage
		}
		return st
	}
	if a.Mode != AvailabilityHours {
		if someone {
			return available
		}
		return away(a.whenAway(""))
	}
	open, change := a.OpenAt(now)
	if !open {
		st := away(a.whenAway(a.OutsideHours))
		st.Reason = ReasonOutsideHours
		if !change.IsZero() {
			st.NextOpenAt = change.UTC().Format(time.RFC3339)
		}
		return st
	}
	if someone {
		return available
	}
	if a.InsideHoursWhenAway == WhenAvailable {
		return available
	}
	return away(a.whenAway(a.InsideHoursWhenAway))
}

// whenAway is the behaviour b, or when b is empty the one that
// HideLauncherWhenAway implies.
func (a Availability) whenAway(b string) string {
	if b != "" {
		return b
	}
	if a.HideLauncherWhenAway {
		return WhenHideLauncher
	}
	return WhenAwayMessage
}

// CanReceive reports whether inbox member m can receive w's new chats by its
// routing (W6, I1): a routing-seat holder named by the routing (its users,
// a member of its teams, or any member for modes "owner" and "inbox", since
// anyone may own a contact). With mode "none" chats wait for whoever picks
// them up, so every member counts.
func (w *Widget) CanReceive(m AgentState) bool {
	r := w.Routing
	if r.Mode == RoutingNone {
		return true
	}
	if !m.RoutingSeat {
		return false
	}
	switch r.Mode {
	case RoutingUsers:
		return slices.Contains(r.UserIDs, m.UserID)
	case RoutingTeams:
		return slices.ContainsFunc(r.TeamIDs, func(id uint64) bool { return slices.Contains(m.TeamIDs, id) })
	}
	return true
}

// ----- business hours -----

// Location returns the time zone of a's hours: Timezone, or UTC when it is
// empty or unknown (ValidateAvailability refuses unknown names).
func (a Availability) Location() *time.Location {
	if a.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(a.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// interval is one stretch of open hours, [start, end).
type interval struct{ start, end time.Time }

// OpenAt reports whether now is inside a's business hours, and the next
// instant after now at which that changes: the closing when open, the next
// opening when closed. change is zero when the hours never open. Ranges are
// local wall-clock times in a.Location(), so a day with a DST change is
// shorter or longer and an opening at 09:00 stays at 09:00; a range whose
// end is not after its start ends on the next day (22:00–02:00), and one
// whose end equals its start lasts until the same time the next day.
// Unparseable ranges are skipped (ValidateAvailability refuses them).
func (a Availability) OpenAt(now time.Time) (open bool, change time.Time) {
	loc := a.Location()
	local := now.In(loc)
	y, m, d := local.Date()
	var spans []interval
	// One day back (a range crossing midnight), eight ahead (a weekly
	// schedule repeats within seven days of any instant).
	for off := -1; off <= 8; off++ {
		day := time.Date(y, m, d+off, 12, 0, 0, 0, loc)
		wd := weekdayName(day.Weekday())
		for _, r := range a.Hours {
			from, ok1 := parseClock(r.From, false)
			to, ok2 := parseClock(r.To, true)
			if !ok1 || !ok2 || !slices.Contains(r.Days, wd) {
				continue
			}
			dy, dm, dd := day.Date()
			start := time.Date(dy, dm, dd, from/60, from%60, 0, 0, loc)
			endDay := dd
			if to <= from {
				endDay++
			}
			end := time.Date(dy, dm, endDay, to/60, to%60, 0, 0, loc)
			if end.After(start) {
				spans = append(spans, interval{start, end})
			}
		}
	}
	if len(spans) == 0 {
		return false, time.Time{}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	merged := []interval{spans[0]}
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if !s.start.After(last.end) {
			if s.end.After(last.end) {
				last.end = s.end
			}
			continue
		}
		merged = append(merged, s)
	}
	for _, s := range merged {
		if now.Before(s.start) {
			return false, s.start
		}
		if now.Before(s.end) {
			return true, s.end
		}
	}
	return false, time.Time{}
}

// NextChange returns the next instant after now at which widget w's status
// can change by the clock alone (a business-hours boundary), or zero if
// none: only mode "hours" without an enabled bot has one.
func (w *Widget) NextChange(now time.Time) time.Time {
	if w.Availability.Mode != AvailabilityHours || w.Bot != nil && w.Bot.Enabled {
		return time.Time{}
	}
	_, change := w.Availability.OpenAt(now)
	return change
}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekdayName(d time.Weekday) string { return weekdays[d] }

// parseClock parses "HH:MM" (00:00 to 23:59, and 24:00 when end) into
// minutes after midnight.
func parseClock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' {
		return 0, false
	}
	if h > 23 && !(end && h == 24 && m == 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Limits of availability settings.
const (
	MaxHoursRanges     = 50  // ranges in Availability.Hours
	MaxResponseTimeLen = 200 // bytes of Availability.TypicalResponseTime
)

// ValidateAvailability checks availability settings as an admin saves them
// (C3): a known mode (empty is "team"); for mode "hours" a known IANA time
// zone (empty is UTC) and at least one range; each range with days from
// mon…sun and times "HH:MM" (an end of "24:00" is midnight); known
// behaviours; an away message of valid text within MaxTextBytes and a
// response time within MaxResponseTimeLen. It returns EINVALID naming the
// field.
func ValidateAvailability(a Availability) error {
	switch a.Mode {
	case "", AvailabilityAlways, AvailabilityTeam, AvailabilityHours:
	default:
		return Errorf(EINVALID, "availability.mode must be always, team or hours")
	}
	if a.Timezone != "" {
		if _, err := time.LoadLocation(a.Timezone); err != nil || strings.EqualFold(a.Timezone, "local") {
			return Errorf(EINVALID, "availability.timezone %q is not an IANA time zone", truncate(a.Timezone, 40))
		}
	}
	if len(a.Hours) > MaxHoursRanges {
		return Errorf(EINVALID, "availability.hours has %d ranges; the limit is %d", len(a.Hours), MaxHoursRanges)
	}
	if a.Mode == AvailabilityHours && len(a.Hours) == 0 {
		return Errorf(EINVALID, "availability.hours needs at least one range in mode hours")
	}
	for i, r := range a.Hours {
		if len(r.Days) == 0 {
			return Errorf(EINVALID, "availability.hours[%d].days is empty", i)
		}
		for j, d := range r.Days {
			if !slices.Contains(weekdays[:], d) {
				return Errorf(EINVALID, "availability.hours[%d].days: %q is not one of mon, tue, wed, thu, fri, sat, sun", i, truncate(d, 20))
			}
			if slices.Contains(r.Days[:j], d) {
				return Errorf(EINVALID, "availability.hours[%d].days names %s twice", i, d)
			}
		}
		if _, ok := parseClock(r.From, false); !ok {
			return Errorf(EINVALID, "availability.hours[%d].from must be HH:MM from 00:00 to 23:59", i)
		}
		if _, ok := parseClock(r.To, true); !ok {
			return Errorf(EINVALID, "availability.hours[%d].to must be HH:MM from 00:00 to 24:00", i)
		}
	}
	switch a.InsideHoursWhenAway {
	case "", WhenAwayMessage, WhenHideLauncher, WhenAvailable:
	default:
		return Errorf(EINVALID, "availability.insideHoursWhenAway must be awayMessage, hideLauncher or available")
	}
	switch a.OutsideHours {
	case "", WhenAwayMessage, WhenHideLauncher, WhenResponseTime:
	default:
		return Errorf(EINVALID, "availability.outsideHours must be awayMessage, responseTime or hideLauncher")
	}
	if a.AwayMessage != "" {
		if err := ValidateText(a.AwayMessage); err != nil {
			return Errorf(ErrorCode(err), "availability.awayMessage: %s", ErrorMessage(err))
		}
	}
	if len(a.TypicalResponseTime) > MaxResponseTimeLen || !utf8.ValidString(a.TypicalResponseTime) || strings.ContainsAny(a.TypicalResponseTime, "\r\n") {
		return Errorf(EINVALID, "availability.typicalResponseTime must be one line of valid text of at most %d bytes", MaxResponseTimeLen)
	}
	return nil
}
