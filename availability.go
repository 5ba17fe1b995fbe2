package parley

// AgentState is what availability needs to know of one inbox member.
type AgentState struct {
	UserID      uint64
	Online      bool // at least one console connected
	Away        bool // away mode on
	RoutingSeat bool
}

// Available reports whether the agent can take a new conversation now.
func (a AgentState) Available() bool { return a.Online && !a.Away }

// WidgetStatus is what a widget shows a visitor about availability.
type WidgetStatus struct {
	Available           bool   `json:"available"`
	ShowLauncher        bool   `json:"showLauncher"`
	AwayMessage         string `json:"awayMessage,omitempty"`
	TypicalResponseTime string `json:"typicalResponseTime,omitempty"`
}

// DecideAvailability is the one rule for what a widget shows: from its
// settings and the state of its inbox's members. Mode "hours" is treated like
// "team" until business hours are evaluated.
func DecideAvailability(w *Widget, members []AgentState) WidgetStatus {
	a := w.Availability
	available := true
	if a.Mode != AvailabilityAlways {
		available = false
		for _, m := range members {
			if m.Available() {
				available = true
				break
			}
		}
	}
	st := WidgetStatus{Available: available, ShowLauncher: true}
	if available {
		st.TypicalResponseTime = a.TypicalResponseTime
	} else {
		st.AwayMessage = a.AwayMessage
		st.ShowLauncher = !a.HideLauncherWhenAway
	}
	return st
}
