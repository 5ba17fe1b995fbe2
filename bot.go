package parley

// BotFlow is a widget's bot (I7, B1, C4): an ordered list of steps that runs
// when a visitor starts a chat, until a step hands the conversation off to an
// agent or closes it.
type BotFlow struct {
	Enabled bool      `json:"enabled"`
	Steps   []BotStep `json:"steps"`
}

// BotStep is one step of a bot flow. Its ID is unique within the flow and
// names it as a branch target.
type BotStep struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Text string `json:"text,omitempty"`
}

// Validate checks a bot flow: every step has a unique, non-empty id. It
// returns EINVALID naming the first bad step.
func (f *BotFlow) Validate() error {
	seen := make(map[string]bool, len(f.Steps))
	for i, st := range f.Steps {
		if st.ID == "" {
			return Errorf(EINVALID, "bot.steps[%d].id is empty", i)
		}
		if seen[st.ID] {
			return Errorf(EINVALID, "bot.steps[%d].id %q is used twice", i, st.ID)
		}
		seen[st.ID] = true
	}
	return nil
}
