package parley

import "time"

// Widget is a chat widget: which pages show it, how it looks and when it is
// available. Each widget belongs to one inbox; its id is the channel account id
// of the threads it starts.
type Widget struct {
	ID           uint64        `json:"id"`
	Name         string        `json:"name"`
	InboxID      uint64        `json:"inboxId"`
	Enabled      bool          `json:"enabled"`
	Targeting    Targeting     `json:"targeting"`
	Availability Availability  `json:"availability"`
	Message      WidgetMessage `json:"message"`
	Appearance   Appearance    `json:"appearance"`
	CreatedAt    time.Time     `json:"createdAt"`
	UpdatedAt    time.Time     `json:"updatedAt"`
}

// Targeting decides which pages show a widget. Rules are OR-ed; no rules means
// every page.
type Targeting struct {
	Rules []TargetRule `json:"rules"`
}

// TargetRule is one targeting rule. Kind "url" compares the page's whole URL
// with Value using Op; kind "query" requires query parameter Name to equal
// Value.
type TargetRule struct {
	Kind  string `json:"kind"`            // "url" or "query"
	Op    string `json:"op,omitempty"`    // all|is|isNot|contains|notContains|startsWith|notStartsWith
	Name  string `json:"name,omitempty"`  // query parameter name
	Value string `json:"value,omitempty"` // compared case-sensitively
}

// Availability modes (C3).
const (
	AvailabilityAlways = "always"
	AvailabilityTeam   = "team"
	AvailabilityHours  = "hours"
)

// Availability is when a widget shows agents as available (C3).
type Availability struct {
	Mode                 string       `json:"mode"`
	Timezone             string       `json:"timezone,omitempty"` // IANA name, for Mode "hours"
	Hours                []HoursRange `json:"hours,omitempty"`
	AwayMessage          string       `json:"awayMessage,omitempty"`
	HideLauncherWhenAway bool         `json:"hideLauncherWhenAway"`
	TypicalResponseTime  string       `json:"typicalResponseTime,omitempty"`
}

// HoursRange is one business-hours range on the given days, "HH:MM" local time.
type HoursRange struct {
	Days []string `json:"days"` // mon, tue, wed, thu, fri, sat, sun
	From string   `json:"from"`
	To   string   `json:"to"`
}

// WidgetMessage is what the widget says.
type WidgetMessage struct {
	Welcome string `json:"welcome,omitempty"`
}

// Appearance is how the widget looks (C2).
type Appearance struct {
	AccentColor string `json:"accentColor,omitempty"` // #rrggbb
	Position    string `json:"position,omitempty"`    // "right" (default) or "left"
}

// DefaultWidget returns the settings of the widget a first start creates:
// enabled on every page, available while a team member is, launcher shown
// while away.
func DefaultWidget(inboxID uint64) *Widget {
	return &Widget{
		Name:    "Website chat",
		InboxID: inboxID,
		Enabled: true,
		Availability: Availability{
			Mode:        AvailabilityTeam,
			AwayMessage: "We're away right now. Leave a message and we'll get back to you.",
		},
		Message:    WidgetMessage{Welcome: "Hi! How can we help?"},
		Appearance: Appearance{AccentColor: "#2563eb", Position: "right"},
	}
}
