package parley

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// BotFlow is a widget's bot (I7, B1, C4): an ordered list of steps that runs
// when a visitor starts a chat, until a step hands the conversation off to an
// agent or closes it. Running off the end of the flow hands off to the
// widget's routing, so that no visitor is left without an answer.
type BotFlow struct {
	Enabled bool `json:"enabled"`
	// Name is the bot's name, shown as the sender of its messages. Empty
	// means DefaultBotName.
	Name  string    `json:"name,omitempty"`
	Steps []BotStep `json:"steps"`
}

// DefaultBotName is the name of a bot that has none.
const DefaultBotName = "Bot"

// Bot step kinds.
const (
	BotMessage  = "message"  // says Text
	BotQuestion = "question" // asks Text, offers Options, saves the answer to Property
	BotEmail    = "email"    // asks Text for the visitor's email, saves it on the contact
	BotBranch   = "branch"   // goes on by the answer to question On: Cases, else Next
	BotHandoff  = "handoff"  // says Text if set, hands the conversation to To
	BotClose    = "close"    // says Text if set, closes the conversation
)

// Hand-off targets of a handoff step.
const (
	HandoffRouting = "routing" // the widget's routing (W6)
	HandoffTeam    = "team"    // TeamID's members
	HandoffUser    = "user"    // UserID
)

// Limits of a bot flow.
const (
	MaxBotSteps       = 50
	MaxBotOptions     = 10
	MaxBotOptionBytes = 80   // one quick reply's text
	MaxBotAnswerBytes = 1024 // what a saved answer keeps of the visitor's text
)

// BotStep is one step of a bot flow. Its ID is unique within the flow and
// names it as a branch target. The step after it is Next, or the following
// step when Next is empty; for a branch, Next is where it goes when no case
// matches.
type BotStep struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Text string `json:"text,omitempty"`
	Next string `json:"next,omitempty"`

	// Question: the quick replies offered. Without options any text is an
	// answer; with options only one of them is (compared regardless of case
	// and surrounding space), unless FreeText allows any text too. The
	// answer is saved to the contact property Property, if set.
	Options  []string `json:"options,omitempty"`
	FreeText bool     `json:"freeText,omitempty"`
	Property string   `json:"property,omitempty"`
	// RetryText is what a question or email step says when the answer does
	// not fit. Empty means a built-in text in the visitor's language.
	RetryText string `json:"retryText,omitempty"`

	// Branch: the question or email step whose answer decides, and the
	// cases, tried in order.
	On    string    `json:"on,omitempty"`
	Cases []BotCase `json:"cases,omitempty"`

	// Handoff: HandoffRouting, HandoffTeam with TeamID or HandoffUser with
	// UserID.
	To     string `json:"to,omitempty"`
	TeamID uint64 `json:"teamId,omitempty,string"`
	UserID uint64 `json:"userId,omitempty,string"`
}

// BotCase is one case of a branch: an answer equal to Value (regardless of
// case and surrounding space) goes on at step Goto.
type BotCase struct {
	Value string `json:"value"`
	Goto  string `json:"goto"`
}

var (
	botStepID   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	botProperty = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
)

// Validate checks a bot flow: at most MaxBotSteps steps (at least one when
// enabled), each with a unique id of 1–64 letters, digits, '-' or '_', a
// known kind and the fields its kind needs; texts by the rules of
// ValidateText; property names [a-zA-Z][a-zA-Z0-9_]{0,63}; every Next, Goto
// and On naming an existing step (On an earlier question or email step); and
// no cycle that a visitor could not break, that is, every cycle passes a
// question or email step. It returns EINVALID (or ETOOLARGE for a text over
// its limit) naming the first bad step and field. That a team or user named
// by a handoff exists is for the caller to check.
func (f *BotFlow) Validate() error {
	if len(f.Steps) > MaxBotSteps {
		return Errorf(EINVALID, "bot has %d steps; at most %d are allowed", len(f.Steps), MaxBotSteps)
	}
	if f.Enabled && len(f.Steps) == 0 {
		return Errorf(EINVALID, "bot is enabled but has no steps")
	}
	if f.Name != "" {
		if err := ValidateLine("bot.name", f.Name, true); err != nil {
			return err
		}
	}
	index := make(map[string]int, len(f.Steps))
	for i, st := range f.Steps {
		if st.ID == "" {
			return Errorf(EINVALID, "bot.steps[%d].id is empty", i)
		}
		if !botStepID.MatchString(st.ID) {
			return Errorf(EINVALID, "bot.steps[%d].id %q may hold only 1 to 64 letters, digits, '-' and '_'", i, truncate(st.ID, 40))
		}
		if _, dup := index[st.ID]; dup {
			return Errorf(EINVALID, "bot.steps[%d].id %q is used twice", i, st.ID)
		}
		index[st.ID] = i
	}
	for i := range f.Steps {
		if err := f.validateStep(i, index); err != nil {
			return err
		}
	}
	return f.validateCycles(index)
}

func (f *BotFlow) validateStep(i int, index map[string]int) error {
	st := &f.Steps[i]
	field := func(name string) string { return "bot.steps[" + itoa(i) + "]." + name }
	text := func(name, s string, required bool) error {
		if s == "" && !required {
			return nil
		}
		if err := ValidateText(s); err != nil {
			return Errorf(ErrorCode(err), "%s: %s", field(name), ErrorMessage(err))
		}
		return nil
	}
	target := func(name, id string) error {
		if id == "" {
			return nil
		}
		if _, ok := index[id]; !ok {
			return Errorf(EINVALID, "%s names step %q, which does not exist", field(name), truncate(id, 40))
		}
		return nil
	}
	if err := target("next", st.Next); err != nil {
		return err
	}
	switch st.Kind {
	case BotMessage:
		return text("text", st.Text, true)
	case BotQuestion:
		if err := text("text", st.Text, true); err != nil {
			return err
		}
		if len(st.Options) > MaxBotOptions {
			return Errorf(EINVALID, "%s holds %d options; at most %d are allowed", field("options"), len(st.Options), MaxBotOptions)
		}
		seen := map[string]bool{}
		for j, o := range st.Options {
			name := field("options[" + itoa(j) + "]")
			if err := ValidateLine(name, o, true); err != nil {
				return err
			}
			if len(o) > MaxBotOptionBytes {
				return Errorf(EINVALID, "%s is longer than %d bytes", name, MaxBotOptionBytes)
			}
			k := strings.ToLower(o)
			if seen[k] {
				return Errorf(EINVALID, "%s %q is offered twice", name, o)
			}
			seen[k] = true
		}
		if st.Property != "" && !botProperty.MatchString(st.Property) {
			return Errorf(EINVALID, "%s %q must start with a letter and hold at most 64 letters, digits and '_'", field("property"), truncate(st.Property, 40))
		}
		return text("retryText", st.RetryText, false)
	case BotEmail:
		if err := text("text", st.Text, true); err != nil {
			return err
		}
		return text("retryText", st.RetryText, false)
	case BotBranch:
		on, ok := index[st.On]
		if st.On == "" || !ok {
			return Errorf(EINVALID, "%s must name a question or email step", field("on"))
		}
		if k := f.Steps[on].Kind; k != BotQuestion && k != BotEmail || on >= i {
			return Errorf(EINVALID, "%s must name an earlier question or email step", field("on"))
		}
		if len(st.Cases) > MaxBotOptions*2 {
			return Errorf(EINVALID, "%s holds %d cases; at most %d are allowed", field("cases"), len(st.Cases), MaxBotOptions*2)
		}
		for j, c := range st.Cases {
			name := "cases[" + itoa(j) + "]"
			if err := ValidateLine(field(name+".value"), c.Value, true); err != nil {
				return err
			}
			if c.Goto == "" {
				return Errorf(EINVALID, "%s.goto is empty", field(name))
			}
			if err := target(name+".goto", c.Goto); err != nil {
				return err
			}
		}
		return nil
	case BotHandoff:
		switch st.To {
		case HandoffRouting:
		case HandoffTeam:
			if st.TeamID == 0 {
				return Errorf(EINVALID, "%s is required for a hand-off to a team", field("teamId"))
			}
		case HandoffUser:
			if st.UserID == 0 {
				return Errorf(EINVALID, "%s is required for a hand-off to a user", field("userId"))
			}
		default:
			return Errorf(EINVALID, "%s must be routing, team or user", field("to"))
		}
		return text("text", st.Text, false)
	case BotClose:
		return text("text", st.Text, false)
	case "":
		return Errorf(EINVALID, "%s is empty", field("kind"))
	}
	return Errorf(EINVALID, "%s %q must be message, question, email, branch, handoff or close", field("kind"), truncate(st.Kind, 40))
}

// validateCycles refuses a cycle of steps that runs without the visitor: one
// through message and branch steps only. Question and email steps wait for
// the visitor, and handoff and close steps end the flow, so the graph that
// must be acyclic is the one of message and branch steps and their edges.
func (f *BotFlow) validateCycles(index map[string]int) error {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(f.Steps))
	var visit func(i int) error
	visit = func(i int) error {
		k := f.Steps[i].Kind
		if k != BotMessage && k != BotBranch {
			return nil
		}
		switch state[i] {
		case onPath:
			return Errorf(EINVALID, "bot.steps[%d] (%q) is part of a loop without a question: the bot would never stop talking", i, f.Steps[i].ID)
		case done:
			return nil
		}
		state[i] = onPath
		for _, j := range f.successors(i, index) {
			if err := visit(j); err != nil {
				return err
			}
		}
		state[i] = done
		return nil
	}
	for i := range f.Steps {
		if err := visit(i); err != nil {
			return err
		}
	}
	return nil
}

// successors lists the indexes of the steps that may follow step i; an end
// of the flow is left out.
func (f *BotFlow) successors(i int, index map[string]int) []int {
	st := &f.Steps[i]
	var out []int
	if st.Kind == BotBranch {
		for _, c := range st.Cases {
			if j, ok := index[c.Goto]; ok {
				out = append(out, j)
			}
		}
	}
	if j := f.after(i); j >= 0 {
		out = append(out, j)
	}
	return out
}

// after returns the index of the step after step i: its Next, or the
// following one; -1 at the end of the flow.
func (f *BotFlow) after(i int) int {
	if n := f.Steps[i].Next; n != "" {
		return f.indexOf(n)
	}
	if i+1 < len(f.Steps) {
		return i + 1
	}
	return -1
}

func (f *BotFlow) indexOf(id string) int {
	for i := range f.Steps {
		if f.Steps[i].ID == id {
			return i
		}
	}
	return -1
}

// Running returns whether f is a bot that starts on new conversations.
func (f *BotFlow) Running() bool { return f != nil && f.Enabled && len(f.Steps) > 0 }

// DisplayName returns the bot's name, or DefaultBotName.
func (f *BotFlow) DisplayName() string {
	if f == nil || f.Name == "" {
		return DefaultBotName
	}
	return f.Name
}

// BotState is where a conversation is in its bot's flow. The zero value is
// a flow not yet started.
type BotState struct {
	// Step is the question or email step waiting for the visitor's answer.
	Step string `json:"step,omitempty"`
	// Answers are the answers given so far, by step id, each at most
	// MaxBotAnswerBytes.
	Answers map[string]string `json:"answers,omitempty"`
	// Done is set once the flow handed off or closed: the bot is silent.
	Done bool `json:"done,omitempty"`
	// LastVisitorAt is when the visitor last wrote while the bot answered;
	// 30 minutes later the conversation closes itself (I7). Next leaves it
	// alone: it is the runtime's.
	LastVisitorAt time.Time `json:"lastVisitorAt,omitzero"`
}

// BotInput is what the visitor said to the bot.
type BotInput struct {
	// Text is the visitor's message.
	Text string
	// Lang picks the language of the built-in texts: "de" for German,
	// anything else English.
	Lang string
	// Email is the contact's email if known: an email step then asks
	// nothing and takes it as the answer.
	Email string
}

// Bot action kinds.
const (
	ActSay       = "say"       // Text
	ActAsk       = "ask"       // Text, with Options as quick replies
	ActAskEmail  = "askEmail"  // Text
	ActSave      = "save"      // the contact's property Property = Value
	ActSaveEmail = "saveEmail" // the contact's email = Value
	ActHandoff   = "handoff"   // to To (TeamID, UserID)
	ActClose     = "close"     // close the conversation
)

// BotAction is one thing the bot does, in the order Next returns them. Step
// is the id of the step it comes from ("" for the end of the flow).
type BotAction struct {
	Kind     string   `json:"kind"`
	Step     string   `json:"step,omitempty"`
	Text     string   `json:"text,omitempty"`
	Options  []string `json:"options,omitempty"`
	Property string   `json:"property,omitempty"`
	Value    string   `json:"value,omitempty"`
	To       string   `json:"to,omitempty"`
	TeamID   uint64   `json:"teamId,omitempty,string"`
	UserID   uint64   `json:"userId,omitempty,string"`
}

// Built-in texts, by language: what a bot says to an answer that does not
// fit when its step has no RetryText.
var botRetry = map[string][2]string{
	"en": {"Please choose one of the options.", "That doesn't look like an email address. Please try again."},
	"de": {"Bitte wählen Sie eine der Optionen.", "Das sieht nicht nach einer E-Mail-Adresse aus. Bitte versuchen Sie es noch einmal."},
}

// Next is the bot's engine, a pure function: from state st and the
// visitor's input in (nil when the flow starts), it returns the new state
// and what the bot does. A flow not yet started runs from its first step
// and ignores in.Text. Otherwise in answers the waiting step: an answer that
// does not fit is asked again (the state stays); one that fits is saved and
// the flow runs on, through messages and branches, until it waits for the
// next answer, hands off or closes. The end of the flow, or a state whose
// step is gone (the flow was edited), hands off to the widget's routing. A
// finished state (Done) gets no actions. Next does not change st; it
// assumes f is valid (Validate) and stops with a hand-off should a loop
// without a question run all the same.
func (f *BotFlow) Next(st BotState, in *BotInput) (BotState, []BotAction) {
	out := BotState{Step: st.Step, Done: st.Done, LastVisitorAt: st.LastVisitorAt, Answers: make(map[string]string, len(st.Answers)+1)}
	for k, v := range st.Answers {
		out.Answers[k] = v
	}
	if out.Done {
		return out, nil
	}
	if in == nil {
		in = &BotInput{}
	}
	var acts []BotAction
	from := 0
	if out.Step != "" {
		i := f.indexOf(out.Step)
		if i < 0 {
			return f.finish(out, nil, BotAction{Kind: ActHandoff, To: HandoffRouting})
		}
		step := &f.Steps[i]
		value, ok := step.accept(in.Text)
		if !ok {
			return out, []BotAction{step.reask(in.Lang)}
		}
		out.Answers[step.ID] = value
		switch {
		case step.Kind == BotEmail:
			acts = append(acts, BotAction{Kind: ActSaveEmail, Step: step.ID, Value: value})
		case step.Property != "":
			acts = append(acts, BotAction{Kind: ActSave, Step: step.ID, Property: step.Property, Value: value})
		}
		out.Step = ""
		from = f.after(i)
	}
	for guard := 0; ; guard++ {
		if from < 0 || from >= len(f.Steps) || guard > len(f.Steps) {
			return f.finish(out, acts, BotAction{Kind: ActHandoff, To: HandoffRouting})
		}
		step := &f.Steps[from]
		switch step.Kind {
		case BotMessage:
			acts = append(acts, BotAction{Kind: ActSay, Step: step.ID, Text: step.Text})
			from = f.after(from)
		case BotQuestion:
			out.Step = step.ID
			return out, append(acts, BotAction{Kind: ActAsk, Step: step.ID, Text: step.Text, Options: step.Options})
		case BotEmail:
			if in.Email != "" {
				out.Answers[step.ID] = in.Email
				from = f.after(from)
				continue
			}
			out.Step = step.ID
			return out, append(acts, BotAction{Kind: ActAskEmail, Step: step.ID, Text: step.Text})
		case BotBranch:
			from = f.after(from)
			if answer, ok := out.Answers[step.On]; ok {
				for _, c := range step.Cases {
					if equalAnswer(answer, c.Value) {
						from = f.indexOf(c.Goto)
						break
					}
				}
			}
		case BotHandoff:
			if step.Text != "" {
				acts = append(acts, BotAction{Kind: ActSay, Step: step.ID, Text: step.Text})
			}
			return f.finish(out, acts, BotAction{Kind: ActHandoff, Step: step.ID, To: step.To, TeamID: step.TeamID, UserID: step.UserID})
		case BotClose:
			if step.Text != "" {
				acts = append(acts, BotAction{Kind: ActSay, Step: step.ID, Text: step.Text})
			}
			return f.finish(out, acts, BotAction{Kind: ActClose, Step: step.ID})
		default:
			return f.finish(out, acts, BotAction{Kind: ActHandoff, To: HandoffRouting})
		}
	}
}

// finish ends the flow with a last action.
func (f *BotFlow) finish(st BotState, acts []BotAction, last BotAction) (BotState, []BotAction) {
	st.Step, st.Done = "", true
	return st, append(acts, last)
}

// accept returns the answer that text gives to step st (a question or email
// step), and whether it fits.
func (st *BotStep) accept(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", false
	}
	if st.Kind == BotEmail {
		c := Contact{Email: text}
		if c.Validate() != nil {
			return "", false
		}
		return text, true
	}
	for _, o := range st.Options {
		if equalAnswer(text, o) {
			return o, true
		}
	}
	if len(st.Options) > 0 && !st.FreeText {
		return "", false
	}
	return cutUTF8(text, MaxBotAnswerBytes), true
}

// reask is what step st does on an answer that does not fit.
func (st *BotStep) reask(lang string) BotAction {
	texts, ok := botRetry[lang]
	if !ok {
		texts = botRetry["en"]
	}
	if st.Kind == BotEmail {
		return BotAction{Kind: ActAskEmail, Step: st.ID, Text: cmpOr(st.RetryText, texts[1])}
	}
	return BotAction{Kind: ActAsk, Step: st.ID, Text: cmpOr(st.RetryText, texts[0]), Options: st.Options}
}

func equalAnswer(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cutUTF8 returns at most n bytes of s, cut at a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func itoa(n int) string { return uitoa(uint64(n)) }
