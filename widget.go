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
	Audience     Audience      `json:"audience"`
	Routing      Routing       `json:"routing"`
	Options      WidgetOptions `json:"options"`
	Consent      Consent       `json:"consent"`
	Bot          *BotFlow      `json:"bot,omitempty"` // nil: no bot (C4)
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
	Timezone             string       `json:"timezone"` // IANA name, for Mode "hours"
	Hours                []HoursRange `json:"hours"`
	AwayMessage          string       `json:"awayMessage"`
	HideLauncherWhenAway bool         `json:"hideLauncherWhenAway"`
	TypicalResponseTime  string       `json:"typicalResponseTime"`
	// InsideHoursWhenAway is what mode "hours" shows inside the hours while
	// nobody who can receive the chat is available: WhenAwayMessage,
	// WhenHideLauncher or WhenAvailable. Empty follows HideLauncherWhenAway.
	InsideHoursWhenAway string `json:"insideHoursWhenAway,omitempty"`
	// OutsideHours is what mode "hours" shows outside the hours:
	// WhenAwayMessage, WhenResponseTime or WhenHideLauncher. Empty follows
	// HideLauncherWhenAway.
	OutsideHours string `json:"outsideHours,omitempty"`
}

// HoursRange is one business-hours range on the given days, "HH:MM" local time.
type HoursRange struct {
	Days []string `json:"days"` // mon, tue, wed, thu, fri, sat, sun
	From string   `json:"from"`
	To   string   `json:"to"`
}

// WidgetMessage is what the widget says (W4).
type WidgetMessage struct {
	// Welcome is the first message a visitor reads; empty shows the
	// default welcome in the widget's language (locale/widget), unless
	// HideWelcome says to show none.
	Welcome       string        `json:"welcome,omitempty"`
	HideWelcome   bool          `json:"hideWelcome,omitempty"`
	OpenByDefault bool          `json:"openByDefault,omitempty"` // open the welcome message on load
	Heading       Heading       `json:"heading"`
	EmailCapture  EmailCapture  `json:"emailCapture"`
	Mobile        MobileOptions `json:"mobile"`
}

// Heading modes: whom the chat heading shows (W4).
const (
	HeadingUser   = "user"   // one user
	HeadingUsers  = "users"  // several users, one picked at random per page load
	HeadingTeam   = "team"   // a team's name
	HeadingOwner  = "owner"  // the contact's owner, else FallbackUserID
	HeadingCustom = "custom" // Name and AvatarURL
)

// Heading is who the chat heading shows. The zero value shows the widget's
// name.
type Heading struct {
	Mode           string   `json:"mode,omitempty"`
	UserIDs        []uint64 `json:"userIds,omitempty"`
	TeamID         uint64   `json:"teamId,omitempty"`
	FallbackUserID uint64   `json:"fallbackUserId,omitempty"`
	Name           string   `json:"name,omitempty"`
	AvatarURL      string   `json:"avatarUrl,omitempty"`
}

// Email capture moments (W4).
const (
	EmailCaptureNever  = "never"  // never ask
	EmailCaptureBefore = "before" // before the first message can be sent
	EmailCaptureAfter  = "after"  // after the visitor's first message (default)
)

// EmailCapture is when the widget asks an unknown visitor for an email.
type EmailCapture struct {
	When    string `json:"when,omitempty"`
	Message string `json:"message,omitempty"`
}

// MobileOptions are the widget's settings for small screens (W4).
type MobileOptions struct {
	WelcomeAsPrompt bool `json:"welcomeAsPrompt,omitempty"`
	HideLauncher    bool `json:"hideLauncher,omitempty"`
}

// Appearance is how the widget looks (C2).
type Appearance struct {
	AccentColor   string `json:"accentColor,omitempty"`   // #rrggbb
	Position      string `json:"position,omitempty"`      // "right" (default) or "left"
	LauncherLabel string `json:"launcherLabel,omitempty"` // text beside the launcher icon; empty: icon only
	AvatarURL     string `json:"avatarUrl,omitempty"`     // http(s) image shown in the heading
	FontSize      string `json:"fontSize,omitempty"`      // "small", "medium" (default) or "large"
}

// Audience modes: who sees a widget (W1).
const (
	AudienceEveryone  = "everyone"
	AudienceAnonymous = "anonymous" // visitors not linked to a contact with an email
	AudienceKnown     = "known"     // visitors linked to a contact with an email
	AudienceList      = "list"      // members of ListID
	AudienceNotList   = "notList"   // everyone but members of ListID
)

// Audience is who a widget is shown to. The zero value is everyone.
type Audience struct {
	Mode   string `json:"mode,omitempty"`
	ListID uint64 `json:"listId,omitempty"`
}

// EffectiveMode returns a's mode, AudienceEveryone for the zero mode (a
// widget stored before it had an audience, or sent without one).
func (a Audience) EffectiveMode() string {
	if a.Mode == "" {
		return AudienceEveryone
	}
	return a.Mode
}

// Routing modes: who gets a widget's new conversations (W6).
const (
	RoutingUsers = "users" // UserIDs
	RoutingTeams = "teams" // members of TeamIDs
	RoutingOwner = "owner" // the contact's owner, else FallbackUserID
	RoutingNone  = "none"  // nobody: the conversation waits unassigned
	RoutingInbox = "inbox" // every member of the widget's inbox (default)
)

// Routing is how a widget's new conversations are assigned. Only routing-seat
// holders who are available receive. The zero value routes to the inbox's
// members.
type Routing struct {
	Mode           string   `json:"mode,omitempty"`
	UserIDs        []uint64 `json:"userIds,omitempty"`
	TeamIDs        []uint64 `json:"teamIds,omitempty"`
	FallbackUserID uint64   `json:"fallbackUserId,omitempty"`
	// MaxOpenPerAgent caps an agent's open assigned conversations; 0 is no cap.
	MaxOpenPerAgent int `json:"maxOpenPerAgent,omitempty"`
}

// WidgetOptions are a widget's other switches (C5).
type WidgetOptions struct {
	// Transcripts emails the chat transcript to the visitor on close (R2).
	Transcripts bool `json:"transcripts"`
	// DisableAttachment keeps visitors from sending files, as HubSpot's
	// hsConversationsSettings.disableAttachment does for one page.
	DisableAttachment bool `json:"disableAttachment,omitempty"`
	// Language is the language of the widget's own texts: "" the language
	// of the page (its <html lang>), WidgetLanguageVisitor the visitor's
	// browser's where the widget speaks it, or a fixed language ("de").
	Language string `json:"language,omitempty"`
}

// WidgetLanguageVisitor is the widget language that follows the visitor's
// browser (WidgetOptions.Language).
const WidgetLanguageVisitor = "visitor"

// AttachmentsAllowed reports whether the widget's visitors may send files.
func (w *Widget) AttachmentsAllowed() bool { return !w.Options.DisableAttachment }

// Consent modes for processing data (G1).
const (
	ConsentNone       = ""           // no consent text
	ConsentExplicit   = "explicit"   // "I agree" before the first message
	ConsentLegitimate = "legitimate" // the text is shown; chatting implies consent
)

// Consent is what a widget asks of a visitor before chatting (G1, G2).
type Consent struct {
	Process     string `json:"process,omitempty"`
	ProcessText string `json:"processText,omitempty"`
	// Communicate, when set, subscribes the visitor to SubscriptionType on
	// starting a chat, with CommunicateText shown (G2).
	Communicate      bool   `json:"communicate,omitempty"`
	SubscriptionType string `json:"subscriptionType,omitempty"`
	CommunicateText  string `json:"communicateText,omitempty"`
}

// DefaultWidget returns the settings of the widget a first start creates,
// and that a new widget starts from: enabled on every page, available
// while a team member is, launcher shown while away, transcripts on (R2).
// Its texts are empty: the widget shows its default texts in the language
// of the page until an admin writes the widget's own.
func DefaultWidget(inboxID uint64) *Widget {
	return &Widget{
		Name:         "Website chat",
		InboxID:      inboxID,
		Enabled:      true,
		Availability: Availability{Mode: AvailabilityTeam},
		Message:      WidgetMessage{EmailCapture: EmailCapture{When: EmailCaptureAfter}},
		Audience:     Audience{Mode: AudienceEveryone},
		Routing:      Routing{Mode: RoutingInbox},
		Appearance:   Appearance{AccentColor: "#2563eb", Position: "right"},
		Options:      WidgetOptions{Transcripts: true},
	}
}
