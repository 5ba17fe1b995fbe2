package parley_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// validWidget is a widget that passes Validate and ValidateRefs with
// validRefs: every section set.
func validWidget() *parley.Widget {
	w := parley.DefaultWidget(1)
	w.Targeting.Rules = []parley.TargetRule{urlRule("startsWith", "https://shop.example/")}
	w.Availability = parley.Availability{Mode: "hours", Timezone: "Europe/Berlin", Hours: []parley.HoursRange{
		{Days: []string{"mon", "tue"}, From: "09:00", To: "12:00"},
		{Days: []string{"mon"}, From: "13:00", To: "24:00"},
	}, AwayMessage: "Back soon.", TypicalResponseTime: "a few minutes"}
	w.Message.Heading = parley.Heading{Mode: "users", UserIDs: []uint64{10, 11}}
	w.Audience = parley.Audience{Mode: "list", ListID: 5}
	w.Routing = parley.Routing{Mode: "users", UserIDs: []uint64{10}, MaxOpenPerAgent: 5}
	w.Consent = parley.Consent{Process: "explicit", ProcessText: "We store your messages.", Communicate: true, SubscriptionType: "Newsletter", CommunicateText: "Send me news."}
	w.Appearance = parley.Appearance{AccentColor: "#1d4ed8", Position: "left", LauncherLabel: "Chat", AvatarURL: "https://cdn.example/a.png", FontSize: "large"}
	return w
}

func validRefs() parley.WidgetRefs {
	return parley.WidgetRefs{
		Inboxes: []*parley.Inbox{{ID: 1, Name: "Support", MemberIDs: []uint64{10, 11}}},
		Users:   []*parley.User{{ID: 10}, {ID: 11}, {ID: 12}, {ID: 13, Deactivated: true}},
		Teams:   []*parley.Team{{ID: 3, Name: "Sales"}},
		Lists:   []*parley.ContactList{{ID: 5, Name: "VIP"}},
	}
}

func TestWidgetValidate(t *testing.T) {
	long := strings.Repeat("x", parley.MaxWidgetTextRunes+1)
	tests := []struct {
		name   string
		change func(w *parley.Widget)
		want   string // a part of the error message; "" for valid
	}{
		{"valid", func(w *parley.Widget) {}, ""},
		{"default widget", func(w *parley.Widget) { *w = *parley.DefaultWidget(1) }, ""},
		{"name empty", func(w *parley.Widget) { w.Name = " " }, "name is required"},
		{"name too long", func(w *parley.Widget) { w.Name = strings.Repeat("n", 257) }, "name is longer than 256 bytes"},
		{"name 256 bytes", func(w *parley.Widget) { w.Name = strings.Repeat("n", 256) }, ""},
		{"name two lines", func(w *parley.Widget) { w.Name = "a\nb" }, "name must be one line"},
		{"name bad utf-8", func(w *parley.Widget) { w.Name = "\xff" }, "name is not valid UTF-8"},
		{"no inbox", func(w *parley.Widget) { w.InboxID = 0 }, "inboxId is required"},
		{"targeting", func(w *parley.Widget) { w.Targeting.Rules = []parley.TargetRule{urlRule("equals", "x")} }, "targeting rule 1: unknown operator"},
		{"availability mode", func(w *parley.Widget) { w.Availability.Mode = "sometimes" }, "availability.mode must be always, team or hours"},
		{"availability mode empty", func(w *parley.Widget) { w.Availability.Mode = "" }, ""}, // empty is team
		{"timezone unknown", func(w *parley.Widget) { w.Availability.Timezone = "Mars/Olympus" }, `availability.timezone "Mars/Olympus" is not an IANA time zone`},
		{"timezone Local", func(w *parley.Widget) { w.Availability.Timezone = "Local" }, "availability.timezone"},
		{"timezone path", func(w *parley.Widget) { w.Availability.Timezone = "../../etc/passwd" }, "availability.timezone"},
		{"timezone missing for hours", func(w *parley.Widget) { w.Availability.Timezone = "" }, ""}, // UTC,
		{"timezone UTC", func(w *parley.Widget) { w.Availability.Timezone = "UTC" }, ""},
		{"timezone checked in team mode", func(w *parley.Widget) {
			w.Availability.Mode, w.Availability.Timezone, w.Availability.Hours = "team", "Nowhere", nil
		}, "availability.timezone"},
		{"hours none", func(w *parley.Widget) { w.Availability.Hours = nil }, "availability.hours needs at least one range"},
		{"hours no days", func(w *parley.Widget) { w.Availability.Hours[0].Days = nil }, "availability.hours[0].days is empty"},
		{"hours bad day", func(w *parley.Widget) { w.Availability.Hours[1].Days = []string{"monday"} }, `availability.hours[1].days: "monday" is not one of`},
		{"hours day twice", func(w *parley.Widget) { w.Availability.Hours[0].Days = []string{"tue", "tue"} }, "availability.hours[0].days names tue twice"},
		{"hours bad from", func(w *parley.Widget) { w.Availability.Hours[0].From = "9:00" }, "availability.hours[0].from must be HH:MM"},
		{"hours from 24:00", func(w *parley.Widget) { w.Availability.Hours[0].From = "24:00" }, "availability.hours[0].from"},
		{"hours bad to", func(w *parley.Widget) { w.Availability.Hours[0].To = "12:60" }, "availability.hours[0].to must be HH:MM"},
		{"hours to 24:30", func(w *parley.Widget) { w.Availability.Hours[1].To = "24:30" }, "availability.hours[1].to"},
		{"hours touching", func(w *parley.Widget) { w.Availability.Hours[1].From = "12:00" }, ""},
		{"hours across midnight", func(w *parley.Widget) { w.Availability.Hours[0].From, w.Availability.Hours[0].To = "22:00", "02:00" }, ""},
		{"away too long", func(w *parley.Widget) { w.Availability.AwayMessage = long }, "availability.awayMessage is longer than 1000 characters"},
		{"away 1000 runes of ü", func(w *parley.Widget) { w.Availability.AwayMessage = strings.Repeat("ü", 1000) }, ""},
		{"away control char", func(w *parley.Widget) { w.Availability.AwayMessage = "a\x00b" }, "availability.awayMessage: text contains control character U+0000"},
		{"away with newline", func(w *parley.Widget) { w.Availability.AwayMessage = "line 1\nline 2" }, ""},
		{"response time two lines", func(w *parley.Widget) { w.Availability.TypicalResponseTime = "a\nb" }, "availability.typicalResponseTime"},
		{"welcome too long", func(w *parley.Widget) { w.Message.Welcome = long }, "message.welcome is longer than 1000 characters"},
		{"heading mode", func(w *parley.Widget) { w.Message.Heading.Mode = "bot" }, "message.heading.mode must be"},
		{"heading user needs one", func(w *parley.Widget) { w.Message.Heading.Mode = "user" }, "message.heading.userIds must name exactly one user"},
		{"heading users none", func(w *parley.Widget) { w.Message.Heading.UserIDs = nil }, "message.heading.userIds must name at least one user"},
		{"heading users twice", func(w *parley.Widget) { w.Message.Heading.UserIDs = []uint64{10, 10} }, "message.heading.userIds names 10 twice"},
		{"heading team missing", func(w *parley.Widget) { w.Message.Heading = parley.Heading{Mode: "team"} }, "message.heading.teamId is required"},
		{"heading owner no fallback", func(w *parley.Widget) { w.Message.Heading = parley.Heading{Mode: "owner"} }, "message.heading.fallbackUserId is required"},
		{"heading custom no name", func(w *parley.Widget) { w.Message.Heading = parley.Heading{Mode: "custom"} }, "message.heading.name is required"},
		{"heading custom bad avatar", func(w *parley.Widget) {
			w.Message.Heading = parley.Heading{Mode: "custom", Name: "Team", AvatarURL: "javascript:alert(1)"}
		}, "message.heading.avatarUrl must be an absolute http or https URL"},
		{"heading custom ok", func(w *parley.Widget) {
			w.Message.Heading = parley.Heading{Mode: "custom", Name: "Team", AvatarURL: "https://cdn.example/t.png"}
		}, ""},
		{"email capture when", func(w *parley.Widget) { w.Message.EmailCapture.When = "later" }, "message.emailCapture.when must be never, before or after"},
		{"email capture message", func(w *parley.Widget) { w.Message.EmailCapture.Message = long }, "message.emailCapture.message is longer"},
		{"accent colour", func(w *parley.Widget) { w.Appearance.AccentColor = "red" }, "appearance.accentColor must be #rrggbb"},
		{"accent colour short", func(w *parley.Widget) { w.Appearance.AccentColor = "#fff" }, "appearance.accentColor must be #rrggbb"},
		{"position", func(w *parley.Widget) { w.Appearance.Position = "top" }, "appearance.position must be left or right"},
		{"font size", func(w *parley.Widget) { w.Appearance.FontSize = "huge" }, "appearance.fontSize"},
		{"launcher label", func(w *parley.Widget) { w.Appearance.LauncherLabel = strings.Repeat("l", 41) }, "appearance.launcherLabel"},
		{"avatar", func(w *parley.Widget) { w.Appearance.AvatarURL = "ftp://x" }, "appearance.avatarUrl"},
		{"audience mode", func(w *parley.Widget) { w.Audience.Mode = "friends" }, "audience.mode must be everyone, anonymous, known, list or notList"},
		{"audience list without id", func(w *parley.Widget) { w.Audience.ListID = 0 }, "audience.listId is required for audience mode list"},
		{"audience notList without id", func(w *parley.Widget) { w.Audience = parley.Audience{Mode: "notList"} }, "audience.listId is required for audience mode notList"},
		{"routing mode", func(w *parley.Widget) { w.Routing.Mode = "random" }, "routing.mode must be users, teams, owner, none or inbox"},
		{"routing users none", func(w *parley.Widget) { w.Routing.UserIDs = nil }, "routing.userIds needs at least one user"},
		{"routing teams none", func(w *parley.Widget) { w.Routing = parley.Routing{Mode: "teams"} }, "routing.teamIds needs at least one team"},
		{"routing team twice", func(w *parley.Widget) { w.Routing = parley.Routing{Mode: "teams", TeamIDs: []uint64{3, 3}} }, "routing.teamIds names 3 twice"},
		{"routing max open", func(w *parley.Widget) { w.Routing.MaxOpenPerAgent = -1 }, "routing.maxOpenPerAgent must not be negative"},
		{"consent mode", func(w *parley.Widget) { w.Consent.Process = "implicit" }, "consent.process must be explicit or legitimate"},
		{"consent text missing", func(w *parley.Widget) { w.Consent.ProcessText = "  " }, "consent.processText is required"},
		{"consent legitimate text missing", func(w *parley.Widget) { w.Consent.Process, w.Consent.ProcessText = "legitimate", "" }, "consent.processText is required"},
		{"consent text too long", func(w *parley.Widget) { w.Consent.ProcessText = long }, "consent.processText is longer"},
		{"subscription type missing", func(w *parley.Widget) { w.Consent.SubscriptionType = "" }, "consent.subscriptionType is required"},
		{"communicate text missing", func(w *parley.Widget) { w.Consent.CommunicateText = "" }, "consent.communicateText is required"},
		{"bot", func(w *parley.Widget) {
			w.Bot = &parley.BotFlow{Steps: []parley.BotStep{{ID: "a"}, {ID: "a"}}}
		}, `bot.steps[1].id "a" is used twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := validWidget()
			tt.change(w)
			err := w.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Fatalf("err=%v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestWidgetValidateRefs(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *parley.Widget, r *parley.WidgetRefs)
		want   string
	}{
		{"valid", func(w *parley.Widget, r *parley.WidgetRefs) {}, ""},
		{"inbox missing", func(w *parley.Widget, r *parley.WidgetRefs) { w.InboxID = 9 }, "inboxId: inbox 9 does not exist"},
		{"list missing", func(w *parley.Widget, r *parley.WidgetRefs) { w.Audience.ListID = 6 }, "audience.listId: list 6 does not exist"},
		{"list not checked for everyone", func(w *parley.Widget, r *parley.WidgetRefs) { w.Audience.Mode = "everyone"; r.Lists = nil }, ""},
		{"heading user missing", func(w *parley.Widget, r *parley.WidgetRefs) { w.Message.Heading.UserIDs = []uint64{10, 99} }, "message.heading.userIds[1]: user 99 is not an active user"},
		{"heading user deactivated", func(w *parley.Widget, r *parley.WidgetRefs) { w.Message.Heading.UserIDs = []uint64{13} }, "message.heading.userIds[0]: user 13 is not an active user"},
		{"heading user need not be a member", func(w *parley.Widget, r *parley.WidgetRefs) { w.Message.Heading.UserIDs = []uint64{12} }, ""},
		{"heading team missing", func(w *parley.Widget, r *parley.WidgetRefs) {
			w.Message.Heading = parley.Heading{Mode: "team", TeamID: 4}
		}, "message.heading.teamId: team 4 does not exist"},
		{"heading team", func(w *parley.Widget, r *parley.WidgetRefs) {
			w.Message.Heading = parley.Heading{Mode: "team", TeamID: 3}
		}, ""},
		{"heading fallback missing", func(w *parley.Widget, r *parley.WidgetRefs) {
			w.Message.Heading = parley.Heading{Mode: "owner", FallbackUserID: 77}
		}, "message.heading.fallbackUserId: user 77 is not an active user"},
		{"routing user not a member", func(w *parley.Widget, r *parley.WidgetRefs) { w.Routing.UserIDs = []uint64{12} }, `routing.userIds[0]: user 12 is not a member of inbox "Support"`},
		{"routing user missing", func(w *parley.Widget, r *parley.WidgetRefs) { w.Routing.UserIDs = []uint64{10, 50} }, "routing.userIds[1]: user 50 is not an active user"},
		{"routing team missing", func(w *parley.Widget, r *parley.WidgetRefs) {
			w.Routing = parley.Routing{Mode: "teams", TeamIDs: []uint64{3, 8}}
		}, "routing.teamIds[1]: team 8 does not exist"},
		{"routing owner fallback not a member", func(w *parley.Widget, r *parley.WidgetRefs) {
			w.Routing = parley.Routing{Mode: "owner", FallbackUserID: 12}
		}, "routing.fallbackUserId: user 12 is not a member"},
		{"routing owner without fallback", func(w *parley.Widget, r *parley.WidgetRefs) { w.Routing = parley.Routing{Mode: "owner"} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, refs := validWidget(), validRefs()
			tt.change(w, &refs)
			if err := w.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			err := w.ValidateRefs(refs)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err=%v, want nil", err)
				}
				return
			}
			if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.want) {
				t.Fatalf("err=%v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestWidgetNormalize(t *testing.T) {
	w := validWidget()
	w.Name = "  Shop  "
	w.Audience.Mode = "known"
	w.Message.Heading.Mode = "team"
	w.Message.Heading.TeamID = 3
	w.Routing.Mode = "inbox"
	w.Availability.Mode = "always"
	w.Consent.Process, w.Consent.Communicate = "", false
	w.Normalize()
	switch {
	case w.Name != "Shop":
		t.Errorf("name=%q", w.Name)
	case w.Audience.ListID != 0:
		t.Errorf("listId=%d, want 0 for audience known", w.Audience.ListID)
	case w.Message.Heading.UserIDs != nil || w.Message.Heading.TeamID != 3:
		t.Errorf("heading=%+v", w.Message.Heading)
	case w.Routing.UserIDs != nil || w.Routing.MaxOpenPerAgent != 5:
		t.Errorf("routing=%+v", w.Routing)
	case w.Availability.Hours != nil || w.Availability.Timezone != "Europe/Berlin":
		t.Errorf("availability=%+v", w.Availability)
	case w.Consent != parley.Consent{}:
		t.Errorf("consent=%+v", w.Consent)
	}
}

func TestWidgetWarnings(t *testing.T) {
	tests := []struct {
		name   string
		accent string
		warn   bool
	}{
		{"default", "", false},
		{"dark blue", "#1d4ed8", false},
		{"yellow", "#facc15", true},
		{"light grey", "#aaaaaa", true},
		{"black", "#000000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := validWidget()
			w.Appearance.AccentColor = tt.accent
			got := w.Warnings()
			if (len(got) > 0) != tt.warn {
				t.Fatalf("warnings=%q, want warning %v", got, tt.warn)
			}
			if tt.warn && !strings.Contains(got[0], "appearance.accentColor") {
				t.Fatalf("warning %q does not name the field", got[0])
			}
		})
	}
}
