package parley

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// salesFlow asks what the visitor needs and branches on it: sales asks for
// an email and hands off to a team, support hands off to routing, "just
// looking" closes.
func salesFlow() *BotFlow {
	return &BotFlow{Enabled: true, Name: "Parley Bot", Steps: []BotStep{
		{ID: "hi", Kind: BotMessage, Text: "Hi! I'm the bot."},
		{ID: "need", Kind: BotQuestion, Text: "What do you need?", Options: []string{"Sales", "Support", "Just looking"}, Property: "need"},
		{ID: "route", Kind: BotBranch, On: "need", Cases: []BotCase{{Value: "sales", Goto: "mail"}, {Value: "Just looking", Goto: "bye"}}, Next: "help"},
		{ID: "mail", Kind: BotEmail, Text: "Your email?"},
		{ID: "team", Kind: BotHandoff, To: HandoffTeam, TeamID: 4, Text: "Connecting you with sales."},
		{ID: "help", Kind: BotHandoff, To: HandoffRouting},
		{ID: "bye", Kind: BotClose, Text: "Bye!"},
	}}
}

func TestBotFlowValidate(t *testing.T) {
	long := strings.Repeat("x", MaxTextBytes+1)
	steps := func(s ...BotStep) *BotFlow { return &BotFlow{Enabled: true, Steps: s} }
	msg := func(id, next string) BotStep { return BotStep{ID: id, Kind: BotMessage, Text: "hello", Next: next} }
	q := BotStep{ID: "q", Kind: BotQuestion, Text: "Which?", Options: []string{"A", "B"}}
	many := make([]BotStep, MaxBotSteps+1)
	for i := range many {
		many[i] = msg("m"+itoa(i), "")
	}
	for _, tt := range []struct {
		name string
		flow *BotFlow
		want string // substring of the error; "" for valid
	}{
		{"sales flow", salesFlow(), ""},
		{"disabled and empty", &BotFlow{}, ""},
		{"enabled and empty", &BotFlow{Enabled: true}, "no steps"},
		{"too many steps", steps(many...), "at most 50"},
		{"empty id", steps(BotStep{Kind: BotMessage, Text: "x"}), "steps[0].id is empty"},
		{"bad id", steps(BotStep{ID: "a b", Kind: BotMessage, Text: "x"}), "may hold only"},
		{"duplicate id", steps(msg("a", ""), msg("a", "")), `"a" is used twice`},
		{"unknown kind", steps(BotStep{ID: "a", Kind: "dance"}), "must be message, question"},
		{"no kind", steps(BotStep{ID: "a"}), "kind is empty"},
		{"message without text", steps(BotStep{ID: "a", Kind: BotMessage}), "steps[0].text: text is empty"},
		{"text with a control character", steps(BotStep{ID: "a", Kind: BotMessage, Text: "a\x00b"}), "control character"},
		{"text too long", steps(BotStep{ID: "a", Kind: BotMessage, Text: long}), "the limit is"},
		{"next names nothing", steps(msg("a", "zz")), `next names step "zz"`},
		{"question without text", steps(BotStep{ID: "q", Kind: BotQuestion}), "text is empty"},
		{"free-text question", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "Name?", Property: "name"}), ""},
		{"too many options", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Options: strings.Split("a b c d e f g h i j k", " ")}), "at most 10"},
		{"duplicate option", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Options: []string{"Yes", "yes"}}), "offered twice"},
		{"blank option", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Options: []string{""}}), "options[0] is required"},
		{"long option", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Options: []string{strings.Repeat("o", 81)}}), "longer than 80"},
		{"bad property", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Property: "1st"}), "property"},
		{"property with a dash", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Property: "first-name"}), "property"},
		{"property of 64", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Property: "p" + strings.Repeat("_", 63)}), ""},
		{"property of 65", steps(BotStep{ID: "q", Kind: BotQuestion, Text: "?", Property: "p" + strings.Repeat("_", 64)}), "property"},
		{"email without text", steps(BotStep{ID: "e", Kind: BotEmail}), "text is empty"},
		{"branch on nothing", steps(q, BotStep{ID: "b", Kind: BotBranch}), "must name a question"},
		{"branch on a message", steps(msg("m", ""), BotStep{ID: "b", Kind: BotBranch, On: "m"}), "must name an earlier question"},
		{"branch on a later question", steps(BotStep{ID: "b", Kind: BotBranch, On: "q"}, q), "earlier question"},
		{"branch to nothing", steps(q, BotStep{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Value: "A", Goto: "zz"}}}), `goto names step "zz"`},
		{"branch case without goto", steps(q, BotStep{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Value: "A"}}}), "goto is empty"},
		{"branch case without value", steps(q, BotStep{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Goto: "q"}}}), "value is required"},
		{"handoff without target", steps(BotStep{ID: "h", Kind: BotHandoff}), "routing, team or user"},
		{"handoff to team 0", steps(BotStep{ID: "h", Kind: BotHandoff, To: HandoffTeam}), "teamId is required"},
		{"handoff to user 0", steps(BotStep{ID: "h", Kind: BotHandoff, To: HandoffUser}), "userId is required"},
		{"handoff to a user", steps(BotStep{ID: "h", Kind: BotHandoff, To: HandoffUser, UserID: 3}), ""},
		{"close without text", steps(BotStep{ID: "c", Kind: BotClose}), ""},
		{"bad name", &BotFlow{Name: " Bot", Steps: []BotStep{msg("a", "")}}, "bot.name"},
		{"loop of messages", steps(msg("a", "b"), msg("b", "a")), "loop without a question"},
		{"message to itself", steps(msg("a", "a")), "loop without a question"},
		{"loop through a branch", steps(q, msg("a", ""), BotStep{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Value: "A", Goto: "a"}}}), "loop without a question"},
		{"loop through a question", steps(msg("a", ""), BotStep{ID: "q", Kind: BotQuestion, Text: "Again?", Next: "a"}), ""},
		{"loop back to a question", steps(q, BotStep{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Value: "A", Goto: "q"}}}), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.flow.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate=%v, want nil", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Validate=nil, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(ErrorMessage(err), tt.want):
				t.Fatalf("Validate=%q, want it to contain %q", ErrorMessage(err), tt.want)
			case err != nil && ErrorCode(err) != EINVALID && ErrorCode(err) != ETOOLARGE:
				t.Fatalf("code=%s, want invalid or too_large", ErrorCode(err))
			}
		})
	}
}

func TestBotFlowNext(t *testing.T) {
	f := salesFlow()
	ask := func(step, text string, options ...string) BotAction {
		return BotAction{Kind: ActAsk, Step: step, Text: text, Options: options}
	}
	needOptions := []string{"Sales", "Support", "Just looking"}
	atNeed := BotState{Step: "need", Answers: map[string]string{}}
	atMail := BotState{Step: "mail", Answers: map[string]string{"need": "Sales"}}
	for _, tt := range []struct {
		name      string
		flow      *BotFlow
		state     BotState
		in        *BotInput
		wantState BotState
		want      []BotAction
	}{
		{
			name:      "start: messages up to the first question, input ignored",
			state:     BotState{},
			in:        &BotInput{Text: "Hello there"},
			wantState: atNeed,
			want:      []BotAction{{Kind: ActSay, Step: "hi", Text: "Hi! I'm the bot."}, ask("need", "What do you need?", needOptions...)},
		},
		{
			name:      "a quick reply is saved and a branch case leads on",
			state:     atNeed,
			in:        &BotInput{Text: "  sales "},
			wantState: atMail,
			want: []BotAction{
				{Kind: ActSave, Step: "need", Property: "need", Value: "Sales"},
				{Kind: ActAskEmail, Step: "mail", Text: "Your email?"},
			},
		},
		{
			name:      "an answer that is no option is asked again",
			state:     atNeed,
			in:        &BotInput{Text: "pizza"},
			wantState: atNeed,
			want:      []BotAction{ask("need", "Please choose one of the options.", needOptions...)},
		},
		{
			name:      "asked again in German",
			state:     atNeed,
			in:        &BotInput{Text: "pizza", Lang: "de"},
			wantState: atNeed,
			want:      []BotAction{ask("need", "Bitte wählen Sie eine der Optionen.", needOptions...)},
		},
		{
			name:      "no case matches: the branch's default",
			state:     atNeed,
			in:        &BotInput{Text: "Support"},
			wantState: BotState{Done: true, Answers: map[string]string{"need": "Support"}},
			want: []BotAction{
				{Kind: ActSave, Step: "need", Property: "need", Value: "Support"},
				{Kind: ActHandoff, Step: "help", To: HandoffRouting},
			},
		},
		{
			name:      "a case leads to close",
			state:     atNeed,
			in:        &BotInput{Text: "just looking"},
			wantState: BotState{Done: true, Answers: map[string]string{"need": "Just looking"}},
			want: []BotAction{
				{Kind: ActSave, Step: "need", Property: "need", Value: "Just looking"},
				{Kind: ActSay, Step: "bye", Text: "Bye!"},
				{Kind: ActClose, Step: "bye"},
			},
		},
		{
			name:      "a valid email is saved and the flow hands off to a team",
			state:     atMail,
			in:        &BotInput{Text: "ada@example.com"},
			wantState: BotState{Done: true, Answers: map[string]string{"need": "Sales", "mail": "ada@example.com"}},
			want: []BotAction{
				{Kind: ActSaveEmail, Step: "mail", Value: "ada@example.com"},
				{Kind: ActSay, Step: "team", Text: "Connecting you with sales."},
				{Kind: ActHandoff, Step: "team", To: HandoffTeam, TeamID: 4},
			},
		},
		{
			name:      "an invalid email is asked again",
			state:     atMail,
			in:        &BotInput{Text: "ada at example"},
			wantState: atMail,
			want:      []BotAction{{Kind: ActAskEmail, Step: "mail", Text: "That doesn't look like an email address. Please try again."}},
		},
		{
			name:      "a known email skips the email step",
			state:     atNeed,
			in:        &BotInput{Text: "Sales", Email: "known@example.com"},
			wantState: BotState{Done: true, Answers: map[string]string{"need": "Sales", "mail": "known@example.com"}},
			want: []BotAction{
				{Kind: ActSave, Step: "need", Property: "need", Value: "Sales"},
				{Kind: ActSay, Step: "team", Text: "Connecting you with sales."},
				{Kind: ActHandoff, Step: "team", To: HandoffTeam, TeamID: 4},
			},
		},
		{
			name:      "done: the bot is silent",
			state:     BotState{Done: true},
			in:        &BotInput{Text: "hello?"},
			wantState: BotState{Done: true, Answers: map[string]string{}},
		},
		{
			name:      "a step that is gone hands off",
			state:     BotState{Step: "deleted"},
			in:        &BotInput{Text: "Sales"},
			wantState: BotState{Done: true, Answers: map[string]string{}},
			want:      []BotAction{{Kind: ActHandoff, To: HandoffRouting}},
		},
		{
			name: "the end of the flow hands off to routing",
			flow: &BotFlow{Enabled: true, Steps: []BotStep{
				{ID: "q", Kind: BotQuestion, Text: "Name?", Property: "firstname"},
				{ID: "m", Kind: BotMessage, Text: "Thanks!"},
			}},
			state:     BotState{Step: "q"},
			in:        &BotInput{Text: "Ada"},
			wantState: BotState{Done: true, Answers: map[string]string{"q": "Ada"}},
			want: []BotAction{
				{Kind: ActSave, Step: "q", Property: "firstname", Value: "Ada"},
				{Kind: ActSay, Step: "m", Text: "Thanks!"},
				{Kind: ActHandoff, To: HandoffRouting},
			},
		},
		{
			name: "free text besides options, with its own retry text and next",
			flow: &BotFlow{Enabled: true, Steps: []BotStep{
				{ID: "q", Kind: BotQuestion, Text: "Size?", Options: []string{"S", "M"}, FreeText: true, Next: "end"},
				{ID: "skipped", Kind: BotMessage, Text: "never said"},
				{ID: "end", Kind: BotClose},
			}},
			state:     BotState{Step: "q"},
			in:        &BotInput{Text: "XXL please"},
			wantState: BotState{Done: true, Answers: map[string]string{"q": "XXL please"}},
			want:      []BotAction{{Kind: ActClose, Step: "end"}},
		},
		{
			name: "a blank answer is asked again with the step's retry text",
			flow: &BotFlow{Enabled: true, Steps: []BotStep{
				{ID: "q", Kind: BotQuestion, Text: "Name?", RetryText: "Your name, please."},
			}},
			state:     BotState{Step: "q"},
			in:        &BotInput{Text: "   "},
			wantState: BotState{Step: "q", Answers: map[string]string{}},
			want:      []BotAction{{Kind: ActAsk, Step: "q", Text: "Your name, please."}},
		},
		{
			name: "a loop back to a question asks it again",
			flow: &BotFlow{Enabled: true, Steps: []BotStep{
				{ID: "q", Kind: BotQuestion, Text: "Ready?", Options: []string{"Yes", "No"}},
				{ID: "b", Kind: BotBranch, On: "q", Cases: []BotCase{{Value: "No", Goto: "wait"}}, Next: "go"},
				{ID: "wait", Kind: BotMessage, Text: "Take your time.", Next: "q"},
				{ID: "go", Kind: BotHandoff, To: HandoffUser, UserID: 9},
			}},
			state:     BotState{Step: "q"},
			in:        &BotInput{Text: "no"},
			wantState: BotState{Step: "q", Answers: map[string]string{"q": "No"}},
			want: []BotAction{
				{Kind: ActSay, Step: "wait", Text: "Take your time."},
				{Kind: ActAsk, Step: "q", Text: "Ready?", Options: []string{"Yes", "No"}},
			},
		},
		{
			name: "a loop without a question stops with a hand-off",
			flow: &BotFlow{Enabled: true, Steps: []BotStep{
				{ID: "a", Kind: BotMessage, Text: "a", Next: "b"},
				{ID: "b", Kind: BotMessage, Text: "b", Next: "a"},
			}},
			state:     BotState{},
			wantState: BotState{Done: true, Answers: map[string]string{}},
			want: []BotAction{
				{Kind: ActSay, Step: "a", Text: "a"}, {Kind: ActSay, Step: "b", Text: "b"},
				{Kind: ActSay, Step: "a", Text: "a"}, {Kind: ActHandoff, To: HandoffRouting},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			flow := tt.flow
			if flow == nil {
				flow = f
			}
			before := clone(t, tt.state)
			got, acts := flow.Next(tt.state, tt.in)
			if !reflect.DeepEqual(tt.state, before) {
				t.Errorf("Next changed its input state to %+v", tt.state)
			}
			if len(tt.wantState.Answers) == 0 && len(got.Answers) == 0 {
				got.Answers, tt.wantState.Answers = nil, nil
			}
			if !reflect.DeepEqual(got, tt.wantState) {
				t.Errorf("state=%+v, want %+v", got, tt.wantState)
			}
			if len(acts) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(acts, tt.want) {
				g, _ := json.Marshal(acts)
				w, _ := json.Marshal(tt.want)
				t.Errorf("actions=%s\nwant     %s", g, w)
			}
		})
	}
}

func clone(t *testing.T, st BotState) BotState {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out BotState
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if st.Answers != nil && out.Answers == nil {
		out.Answers = map[string]string{}
	}
	return out
}

func TestThreadBotOnly(t *testing.T) {
	for _, tt := range []struct {
		owner ThreadOwner
		want  bool
	}{{OwnerBot, true}, {OwnerWaiting, false}, {OwnerAgent, false}} {
		if got := (&Thread{Owner: tt.owner}).BotOnly(); got != tt.want {
			t.Errorf("owner %q: BotOnly=%v, want %v", tt.owner, got, tt.want)
		}
	}
	if (&Thread{}).BotStarted() || !(&Thread{Owner: OwnerWaiting, Bot: &BotState{Done: true}}).BotStarted() {
		t.Error("BotStarted should follow the bot state")
	}
}
