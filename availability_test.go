package parley_test

import (
	"strings"
	"testing"
	"time"

	// The tests name time zones and must pass where the system has no
	// zoneinfo; the binary, not this package, embeds the database.
	_ "time/tzdata"

	"github.com/parley-chat/parley"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// hoursWidget is a widget in mode "hours" in zone tz with the given ranges.
func hoursWidget(tz string, hours ...parley.HoursRange) *parley.Widget {
	w := parley.DefaultWidget(1)
	w.Availability = parley.Availability{
		Mode: parley.AvailabilityHours, Timezone: tz, Hours: hours,
		AwayMessage: "Away", TypicalResponseTime: "A few minutes",
	}
	return w
}

func days(d ...string) []string { return d }

var (
	online  = parley.AgentState{UserID: 1, Online: true, RoutingSeat: true}
	away    = parley.AgentState{UserID: 1, Online: true, Away: true, RoutingSeat: true}
	offline = parley.AgentState{UserID: 1, RoutingSeat: true}
)

func TestDecideAvailability(t *testing.T) {
	team := func(mod func(w *parley.Widget)) *parley.Widget {
		w := parley.DefaultWidget(1)
		w.Availability.AwayMessage = "Away"
		w.Availability.TypicalResponseTime = "A few minutes"
		if mod != nil {
			mod(w)
		}
		return w
	}
	weekdays := days("mon", "tue", "wed", "thu", "fri")
	office := parley.HoursRange{Days: weekdays, From: "09:00", To: "17:00"}
	sunday := parley.HoursRange{Days: days("sun"), From: "09:00", To: "17:00"}
	availableNow := parley.WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: "A few minutes", Reason: parley.ReasonAgents}
	awayMsg := parley.WidgetStatus{ShowLauncher: true, AwayMessage: "Away", Reason: parley.ReasonNoAgents}
	hidden := parley.WidgetStatus{AwayMessage: "Away", Reason: parley.ReasonNoAgents}
	closed := func(next string) parley.WidgetStatus {
		return parley.WidgetStatus{ShowLauncher: true, AwayMessage: "Away", NextOpenAt: next, Reason: parley.ReasonOutsideHours}
	}
	noon := utc("2026-06-15T10:00:00Z") // a Monday, 12:00 in Berlin

	tests := []struct {
		name    string
		widget  *parley.Widget
		members []parley.AgentState
		now     time.Time
		want    parley.WidgetStatus
	}{
		{"always, nobody there", team(func(w *parley.Widget) { w.Availability.Mode = parley.AvailabilityAlways }), nil, noon,
			parley.WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: "A few minutes", Reason: parley.ReasonAlways}},
		{"team, one online", team(nil), []parley.AgentState{offline, {UserID: 2, Online: true, RoutingSeat: true}}, noon, availableNow},
		{"team, the only one away", team(nil), []parley.AgentState{away}, noon, awayMsg},
		{"team, the only one offline", team(nil), []parley.AgentState{offline}, noon, awayMsg},
		{"team, no members", team(nil), nil, noon, awayMsg},
		{"team, away hides the launcher", team(func(w *parley.Widget) { w.Availability.HideLauncherWhenAway = true }), []parley.AgentState{away}, noon, hidden},
		{"team, online but no routing seat", team(nil), []parley.AgentState{{UserID: 1, Online: true}}, noon, awayMsg},
		{"team, routing to users: another one online", team(func(w *parley.Widget) {
			w.Routing = parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{2}}
		}), []parley.AgentState{online}, noon, awayMsg},
		{"team, routing to users: the named one online", team(func(w *parley.Widget) {
			w.Routing = parley.Routing{Mode: parley.RoutingUsers, UserIDs: []uint64{2}}
		}), []parley.AgentState{offline, {UserID: 2, Online: true, RoutingSeat: true}}, noon, availableNow},
		{"team, routing to teams: member of another team online", team(func(w *parley.Widget) {
			w.Routing = parley.Routing{Mode: parley.RoutingTeams, TeamIDs: []uint64{7}}
		}), []parley.AgentState{{UserID: 1, Online: true, RoutingSeat: true, TeamIDs: []uint64{8}}}, noon, awayMsg},
		{"team, routing to teams: team member online", team(func(w *parley.Widget) {
			w.Routing = parley.Routing{Mode: parley.RoutingTeams, TeamIDs: []uint64{7}}
		}), []parley.AgentState{{UserID: 1, Online: true, RoutingSeat: true, TeamIDs: []uint64{8, 7}}}, noon, availableNow},
		{"team, routing to no one: any member counts", team(func(w *parley.Widget) {
			w.Routing = parley.Routing{Mode: parley.RoutingNone}
		}), []parley.AgentState{{UserID: 1, Online: true}}, noon, availableNow},
		{"bot overrides nobody there", team(func(w *parley.Widget) {
			w.Availability.HideLauncherWhenAway = true
			w.Bot = &parley.BotFlow{Enabled: true}
		}), nil, noon, parley.WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: "A few minutes", Reason: parley.ReasonBot}},
		{"bot overrides business hours", func() *parley.Widget {
			w := hoursWidget("Europe/Berlin", office)
			w.Bot = &parley.BotFlow{Enabled: true}
			return w
		}(), nil, utc("2026-06-13T10:00:00Z"), parley.WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: "A few minutes", Reason: parley.ReasonBot}},
		{"disabled bot does not", team(func(w *parley.Widget) { w.Bot = &parley.BotFlow{} }), nil, noon, awayMsg},

		{"hours, inside, agent online", hoursWidget("Europe/Berlin", office), []parley.AgentState{online}, noon, availableNow},
		{"hours, inside, everyone away: away message", hoursWidget("Europe/Berlin", office), []parley.AgentState{away}, noon, awayMsg},
		{"hours, inside, everyone away: hide launcher", func() *parley.Widget {
			w := hoursWidget("Europe/Berlin", office)
			w.Availability.InsideHoursWhenAway = parley.WhenHideLauncher
			return w
		}(), []parley.AgentState{offline}, noon, hidden},
		{"hours, inside, everyone away: available anyway", func() *parley.Widget {
			w := hoursWidget("Europe/Berlin", office)
			w.Availability.InsideHoursWhenAway = parley.WhenAvailable
			return w
		}(), []parley.AgentState{away}, noon, availableNow},
		{"hours, outside, agent online: away message and back at", hoursWidget("Europe/Berlin", office), []parley.AgentState{online},
			utc("2026-06-15T16:00:00Z"), closed("2026-06-16T07:00:00Z")},
		{"hours, outside: response time", func() *parley.Widget {
			w := hoursWidget("Europe/Berlin", office)
			w.Availability.OutsideHours = parley.WhenResponseTime
			return w
		}(), nil, utc("2026-06-15T16:00:00Z"),
			parley.WidgetStatus{ShowLauncher: true, TypicalResponseTime: "A few minutes", NextOpenAt: "2026-06-16T07:00:00Z", Reason: parley.ReasonOutsideHours}},
		{"hours, outside: hide launcher", func() *parley.Widget {
			w := hoursWidget("Europe/Berlin", office)
			w.Availability.OutsideHours = parley.WhenHideLauncher
			return w
		}(), []parley.AgentState{online}, utc("2026-06-13T10:00:00Z"),
			parley.WidgetStatus{AwayMessage: "Away", NextOpenAt: "2026-06-15T07:00:00Z", Reason: parley.ReasonOutsideHours}},
		{"hours, no ranges: never open", hoursWidget("Europe/Berlin"), []parley.AgentState{online}, noon, closed("")},

		// DST days. Berlin springs forward on 2026-03-29 (CET+1 → CEST+2)
		// and falls back on 2026-10-25; New York on 2026-03-08 (EST-5 →
		// EDT-4) and 2026-11-01. All four are Sundays.
		{"Berlin spring forward: 09:00 is 07:00Z", hoursWidget("Europe/Berlin", sunday), []parley.AgentState{online},
			utc("2026-03-29T06:30:00Z"), closed("2026-03-29T07:00:00Z")},
		{"Berlin spring forward: open at 09:30", hoursWidget("Europe/Berlin", sunday), []parley.AgentState{online},
			utc("2026-03-29T07:30:00Z"), availableNow},
		{"Berlin spring forward: the day before, back Sunday 09:00 CEST", hoursWidget("Europe/Berlin", sunday), nil,
			utc("2026-03-28T20:00:00Z"), closed("2026-03-29T07:00:00Z")},
		{"Berlin fall back: 09:00 is 08:00Z", hoursWidget("Europe/Berlin", sunday), []parley.AgentState{online},
			utc("2026-10-25T07:30:00Z"), closed("2026-10-25T08:00:00Z")},
		{"Berlin fall back: closed at 17:30", hoursWidget("Europe/Berlin", sunday), []parley.AgentState{online},
			utc("2026-10-25T16:30:00Z"), closed("2026-11-01T08:00:00Z")},
		{"New York spring forward: 09:00 is 13:00Z", hoursWidget("America/New_York", sunday), []parley.AgentState{online},
			utc("2026-03-08T12:30:00Z"), closed("2026-03-08T13:00:00Z")},
		{"New York spring forward: open at 09:30", hoursWidget("America/New_York", sunday), []parley.AgentState{online},
			utc("2026-03-08T13:30:00Z"), availableNow},
		{"New York fall back: 09:00 is 14:00Z", hoursWidget("America/New_York", sunday), []parley.AgentState{online},
			utc("2026-11-01T13:30:00Z"), closed("2026-11-01T14:00:00Z")},
		{"New York fall back: open at 16:30 EST", hoursWidget("America/New_York", sunday), []parley.AgentState{online},
			utc("2026-11-01T21:30:00Z"), availableNow},

		{"across midnight: open after midnight", hoursWidget("Europe/Berlin", parley.HoursRange{Days: days("fri"), From: "22:00", To: "02:00"}),
			[]parley.AgentState{online}, utc("2026-06-12T22:30:00Z"), availableNow},
		{"across midnight: closed before", hoursWidget("Europe/Berlin", parley.HoursRange{Days: days("fri"), From: "22:00", To: "02:00"}),
			[]parley.AgentState{online}, utc("2026-06-12T19:00:00Z"), closed("2026-06-12T20:00:00Z")},
		{"across midnight: closed after 02:00 Saturday", hoursWidget("Europe/Berlin", parley.HoursRange{Days: days("fri"), From: "22:00", To: "02:00"}),
			[]parley.AgentState{online}, utc("2026-06-13T00:30:00Z"), closed("2026-06-19T20:00:00Z")},
		{"two ranges: lunch break", hoursWidget("Europe/Berlin",
			parley.HoursRange{Days: days("mon"), From: "09:00", To: "12:00"}, parley.HoursRange{Days: days("mon"), From: "13:00", To: "17:00"}),
			[]parley.AgentState{online}, utc("2026-06-15T10:30:00Z"), closed("2026-06-15T11:00:00Z")},
		{"two ranges: afternoon", hoursWidget("Europe/Berlin",
			parley.HoursRange{Days: days("mon"), From: "09:00", To: "12:00"}, parley.HoursRange{Days: days("mon"), From: "13:00", To: "17:00"}),
			[]parley.AgentState{online}, utc("2026-06-15T11:30:00Z"), availableNow},
		{"until 24:00", hoursWidget("UTC", parley.HoursRange{Days: days("mon"), From: "20:00", To: "24:00"}),
			[]parley.AgentState{online}, utc("2026-06-15T23:59:00Z"), availableNow},
		{"whole day when from equals to", hoursWidget("UTC", parley.HoursRange{Days: days("mon"), From: "00:00", To: "00:00"}),
			[]parley.AgentState{online}, utc("2026-06-15T23:59:00Z"), availableNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parley.DecideAvailability(tt.widget, tt.members, tt.now)
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOpenAt(t *testing.T) {
	tests := []struct {
		name       string
		hours      []parley.HoursRange
		tz         string
		now        time.Time
		wantOpen   bool
		wantChange string
	}{
		{"overlapping ranges merge", []parley.HoursRange{{Days: days("mon"), From: "09:00", To: "12:00"}, {Days: days("mon"), From: "11:00", To: "14:00"}},
			"UTC", utc("2026-06-15T11:30:00Z"), true, "2026-06-15T14:00:00Z"},
		{"adjacent days merge across midnight", []parley.HoursRange{{Days: days("mon"), From: "18:00", To: "24:00"}, {Days: days("tue"), From: "00:00", To: "03:00"}},
			"UTC", utc("2026-06-15T20:00:00Z"), true, "2026-06-16T03:00:00Z"},
		{"Berlin fall back: 01:00-04:00 lasts four hours", []parley.HoursRange{{Days: days("sun"), From: "01:00", To: "04:00"}},
			"Europe/Berlin", utc("2026-10-25T02:30:00Z"), true, "2026-10-25T03:00:00Z"},
		{"Berlin fall back: starts at 01:00 CEST", []parley.HoursRange{{Days: days("sun"), From: "01:00", To: "04:00"}},
			"Europe/Berlin", utc("2026-10-24T22:30:00Z"), false, "2026-10-24T23:00:00Z"},
		{"Berlin spring forward: 01:00-04:00 lasts two hours", []parley.HoursRange{{Days: days("sun"), From: "01:00", To: "04:00"}},
			"Europe/Berlin", utc("2026-03-29T00:30:00Z"), true, "2026-03-29T02:00:00Z"},
		{"New York: across midnight on the fall-back night", []parley.HoursRange{{Days: days("sat"), From: "22:00", To: "02:00"}},
			"America/New_York", utc("2026-11-01T05:30:00Z"), true, "2026-11-01T07:00:00Z"},
		{"no days match", []parley.HoursRange{{Days: []string{}, From: "09:00", To: "17:00"}}, "UTC", utc("2026-06-15T10:00:00Z"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := parley.Availability{Mode: parley.AvailabilityHours, Timezone: tt.tz, Hours: tt.hours}
			open, change := a.OpenAt(tt.now)
			got := ""
			if !change.IsZero() {
				got = change.UTC().Format(time.RFC3339)
			}
			if open != tt.wantOpen || got != tt.wantChange {
				t.Errorf("open=%v change=%q, want %v %q", open, got, tt.wantOpen, tt.wantChange)
			}
		})
	}
}

func TestWidgetNextChange(t *testing.T) {
	w := hoursWidget("Europe/Berlin", parley.HoursRange{Days: days("mon"), From: "09:00", To: "17:00"})
	if got, want := w.NextChange(utc("2026-06-15T10:00:00Z")), utc("2026-06-15T15:00:00Z"); !got.Equal(want) {
		t.Errorf("inside: %v, want %v", got, want)
	}
	w.Bot = &parley.BotFlow{Enabled: true}
	if got := w.NextChange(utc("2026-06-15T10:00:00Z")); !got.IsZero() {
		t.Errorf("with a bot: %v, want none", got)
	}
	if got := parley.DefaultWidget(1).NextChange(utc("2026-06-15T10:00:00Z")); !got.IsZero() {
		t.Errorf("team mode: %v, want none", got)
	}
}

func TestValidateAvailability(t *testing.T) {
	ok := parley.HoursRange{Days: days("mon"), From: "09:00", To: "17:00"}
	tests := []struct {
		name string
		a    parley.Availability
		want string // "" for valid, else a part of the message
	}{
		{"team", parley.Availability{Mode: parley.AvailabilityTeam}, ""},
		{"empty mode", parley.Availability{}, ""},
		{"hours", parley.Availability{Mode: parley.AvailabilityHours, Timezone: "America/New_York", Hours: []parley.HoursRange{ok}}, ""},
		{"until 24:00", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{Days: days("sun"), From: "18:00", To: "24:00"}}}, ""},
		{"unknown mode", parley.Availability{Mode: "sometimes"}, "availability.mode"},
		{"unknown zone", parley.Availability{Mode: parley.AvailabilityHours, Timezone: "Mars/Olympus", Hours: []parley.HoursRange{ok}}, "availability.timezone"},
		{"Local is no zone", parley.Availability{Mode: parley.AvailabilityHours, Timezone: "Local", Hours: []parley.HoursRange{ok}}, "availability.timezone"},
		{"hours without ranges", parley.Availability{Mode: parley.AvailabilityHours}, "at least one range"},
		{"no days", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{From: "09:00", To: "10:00"}}}, "days is empty"},
		{"bad day", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{Days: days("Monday"), From: "09:00", To: "10:00"}}}, "days"},
		{"bad from", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{Days: days("mon"), From: "9:00", To: "10:00"}}}, "hours[0].from"},
		{"24:00 is no start", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{Days: days("mon"), From: "24:00", To: "10:00"}}}, "hours[0].from"},
		{"bad to", parley.Availability{Mode: parley.AvailabilityHours, Hours: []parley.HoursRange{{Days: days("mon"), From: "09:00", To: "10:60"}}}, "hours[0].to"},
		{"bad inside behaviour", parley.Availability{InsideHoursWhenAway: "responseTime"}, "insideHoursWhenAway"},
		{"bad outside behaviour", parley.Availability{OutsideHours: "available"}, "outsideHours"},
		{"away message with a control character", parley.Availability{AwayMessage: "a\x00b"}, "awayMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.ValidateAvailability(tt.a)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Errorf("err=%v, want EINVALID about %q", err, tt.want)
			}
		})
	}
}
