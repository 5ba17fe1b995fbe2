package widget_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
	"github.com/parley-chat/parley/widget/internal/bundle"
)

// Download budgets, gzip-compressed (docs: ARCHITECTURE "Performance by
// design"). The loader is on every page of every customer site.
const (
	loaderBudget = 4 << 10
	totalBudget  = 30 << 10
)

func mustLoad(tb testing.TB) *widget.Assets {
	tb.Helper()
	a, err := widget.Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return a
}

func TestSizeBudget(t *testing.T) {
	a := mustLoad(t)
	total := 0
	for _, f := range []widget.Asset{a.Loader, a.ChatJS, a.ChatCSS} {
		t.Logf("%-8s %6d bytes, %5d gzip", f.Name, len(f.Body), len(f.Gzip))
		total += len(f.Gzip)
	}
	t.Logf("total    %5d gzip (budget %d; loader budget %d)", total, totalBudget, loaderBudget)
	if got := len(a.Loader.Gzip); got > loaderBudget {
		t.Errorf("loader gzip=%d bytes, want <= %d", got, loaderBudget)
	}
	if total > totalBudget {
		t.Errorf("loader+chat gzip=%d bytes, want <= %d", total, totalBudget)
	}
}

func TestDistIsFresh(t *testing.T) {
	files, err := bundle.Build("src")
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	a := mustLoad(t)
	for _, f := range []widget.Asset{a.Loader, a.ChatJS, a.ChatCSS} {
		if !bytes.Equal(files[f.Name], f.Body) {
			t.Errorf("dist/%s is stale: run go generate ./widget", f.Name)
		}
	}
}

func TestLoad(t *testing.T) {
	a := mustLoad(t)
	for _, tt := range []struct {
		asset       widget.Asset
		name, ctype string
	}{
		{a.Loader, "embed.js", "text/javascript; charset=utf-8"},
		{a.ChatJS, "chat.js", "text/javascript; charset=utf-8"},
		{a.ChatCSS, "chat.css", "text/css; charset=utf-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.asset
			if f.Name != tt.name || f.ContentType != tt.ctype {
				t.Errorf("name=%q type=%q, want %q %q", f.Name, f.ContentType, tt.name, tt.ctype)
			}
			if len(f.Hash) != 16 {
				t.Errorf("hash=%q, want 16 hex digits", f.Hash)
			}
			zr, err := gzip.NewReader(bytes.NewReader(f.Gzip))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, f.Body) {
				t.Error("gunzipped body differs from Body")
			}
		})
	}
	if a.ChatJS.Hash == a.Loader.Hash {
		t.Error("different files have the same hash")
	}
}

func TestAssetsFile(t *testing.T) {
	a := mustLoad(t)
	for name, want := range map[string]*widget.Asset{"embed.js": &a.Loader, "chat.js": &a.ChatJS, "chat.css": &a.ChatCSS} {
		if got := a.File(name); got != want {
			t.Errorf("File(%q) = %p, want %p", name, got, want)
		}
	}
	if got := a.File("other.js"); got != nil {
		t.Errorf("File(other.js) = %v, want nil", got)
	}
}

func TestSelect(t *testing.T) {
	url := func(op, v string) parley.TargetRule { return parley.TargetRule{Kind: "url", Op: op, Value: v} }
	w := func(id uint64, enabled bool, rules ...parley.TargetRule) *parley.Widget {
		return &parley.Widget{ID: id, Enabled: enabled, Targeting: parley.Targeting{Rules: rules}}
	}
	var (
		all      = w(5, true)
		allOld   = w(2, true, url("all", ""))
		off      = w(1, false)
		blog     = w(7, true, url("startsWith", "https://a.example/blog"))
		blogWild = w(6, true, url("is", "https://a.example/blog/*"))
		post     = w(9, true, url("is", "https://a.example/blog/post"))
		notBlog  = w(3, true, url("notStartsWith", "https://a.example/blog"))
		campaign = w(8, true, parley.TargetRule{Kind: "query", Name: "utm_campaign", Value: "spring"})
		nowhere  = w(4, true, url("is", "https://b.example/"))
	)
	tests := []struct {
		name    string
		widgets []*parley.Widget
		url     string
		want    *parley.Widget
	}{
		{"none", nil, "https://a.example/", nil},
		{"only disabled", []*parley.Widget{off}, "https://a.example/", nil},
		{"no match", []*parley.Widget{nowhere}, "https://a.example/", nil},
		{"nil entries skipped", []*parley.Widget{nil, all, nil}, "https://a.example/", all},
		{"all pages", []*parley.Widget{all}, "https://a.example/", all},
		{"oldest of equals", []*parley.Widget{all, off, allOld}, "https://a.example/", allOld},
		{"longer value wins", []*parley.Widget{all, blog, blogWild, post}, "https://a.example/blog/post", post},
		{"longer value wins below", []*parley.Widget{all, blog, blogWild}, "https://a.example/blog/other", blogWild},
		{"prefix beats all pages", []*parley.Widget{all, blog}, "https://a.example/blog", blog},
		{"specific beats catch-all", []*parley.Widget{allOld, blogWild}, "https://a.example/blog/x", blogWild},
		{"negated rule counts as catch-all", []*parley.Widget{notBlog, allOld}, "https://a.example/about", allOld},
		{"negated rule alone", []*parley.Widget{notBlog, blog}, "https://a.example/about", notBlog},
		{"query rule", []*parley.Widget{all, campaign}, "https://a.example/?utm_campaign=spring#x", campaign},
		{"query rule no match", []*parley.Widget{all, campaign}, "https://a.example/?utm_campaign=fall", all},
		{"disabled specific skipped", []*parley.Widget{all, w(10, false, url("is", "https://a.example/"))}, "https://a.example/", all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := widget.Select(tt.widgets, tt.url)
			if got != tt.want {
				t.Errorf("Select=%v, want %v", id(got), id(tt.want))
			}
		})
	}
}

func id(w *parley.Widget) any {
	if w == nil {
		return nil
	}
	return w.ID
}

func TestNewBootJSON(t *testing.T) {
	b, err := json.Marshal(widget.NewBoot(nil, parley.WidgetStatus{}, "", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"widget":null}`; got != want {
		t.Errorf("no widget: %s, want %s", got, want)
	}
	w := &parley.Widget{ID: 12, Name: "Help", Message: parley.WidgetMessage{Welcome: "Hi"},
		Appearance: parley.Appearance{AccentColor: "#2563eb", Position: "left"}}
	st := parley.WidgetStatus{Available: true, ShowLauncher: true}
	b, err = json.Marshal(widget.NewBoot(w, st, "https://p.example/c.js", "https://p.example/c.css", "wss://p.example/widget/v1/ws?widgetId=12"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"widget":{"id":"12","name":"Help","welcome":"Hi","appearance":{"accentColor":"#2563eb","position":"left"},` +
		`"status":{"available":true,"showLauncher":true},"heading":{"name":"Help"},"emailCapture":{"when":"after"},"mobile":{},"attachments":true},"assets":{"js":"https://p.example/c.js","css":"https://p.example/c.css"},` +
		`"ws":"wss://p.example/widget/v1/ws?widgetId=12"}`
	if got := string(b); got != want {
		t.Errorf("boot=%s\nwant %s", got, want)
	}
}

func TestNewBootVisitorParts(t *testing.T) {
	const text = "We process your data to answer you."
	base := func() *parley.Widget {
		return &parley.Widget{ID: 3, Name: "Help", Appearance: parley.Appearance{AvatarURL: "https://a.example/logo.png"}}
	}
	tests := []struct {
		name  string
		edit  func(w *parley.Widget)
		check func(t *testing.T, b *widget.BootWidget)
	}{
		{"defaults", func(w *parley.Widget) {}, func(t *testing.T, b *widget.BootWidget) {
			if b.EmailCapture.When != parley.EmailCaptureAfter || b.Consent != nil || b.OpenByDefault || b.Known {
				t.Errorf("boot=%+v, want capture after, no consent, closed, unknown", b)
			}
			if b.Heading != (widget.BootHeading{Name: "Help", AvatarURL: "https://a.example/logo.png"}) {
				t.Errorf("heading=%+v, want the widget's name and avatar", b.Heading)
			}
		}},
		{"message options", func(w *parley.Widget) {
			w.Message = parley.WidgetMessage{Welcome: "Hi", OpenByDefault: true,
				EmailCapture: parley.EmailCapture{When: parley.EmailCaptureBefore, Message: "Your email?"},
				Mobile:       parley.MobileOptions{WelcomeAsPrompt: true, HideLauncher: true}}
		}, func(t *testing.T, b *widget.BootWidget) {
			if !b.OpenByDefault || b.Welcome != "Hi" || b.EmailCapture.When != "before" || b.EmailCapture.Message != "Your email?" ||
				!b.Mobile.WelcomeAsPrompt || !b.Mobile.HideLauncher {
				t.Errorf("boot=%+v", b)
			}
		}},
		{"custom heading", func(w *parley.Widget) {
			w.Message.Heading = parley.Heading{Mode: parley.HeadingCustom, Name: "Ada from Acme", AvatarURL: "https://a.example/ada.png"}
		}, func(t *testing.T, b *widget.BootWidget) {
			if b.Heading != (widget.BootHeading{Name: "Ada from Acme", AvatarURL: "https://a.example/ada.png"}) {
				t.Errorf("heading=%+v", b.Heading)
			}
		}},
		{"user heading stays the widget's until the server resolves it", func(w *parley.Widget) {
			w.Message.Heading = parley.Heading{Mode: parley.HeadingUser, UserIDs: []uint64{1}}
		}, func(t *testing.T, b *widget.BootWidget) {
			if b.Heading.Name != "Help" {
				t.Errorf("heading=%+v", b.Heading)
			}
		}},
		{"explicit consent with subscription", func(w *parley.Widget) {
			w.Consent = parley.Consent{Process: parley.ConsentExplicit, ProcessText: text,
				Communicate: true, SubscriptionType: "newsletter", CommunicateText: "Send me news."}
		}, func(t *testing.T, b *widget.BootWidget) {
			want := widget.BootConsent{Process: "explicit", ProcessText: text, ProcessVersion: parley.ConsentVersion(text),
				Communicate: true, SubscriptionType: "newsletter", CommunicateText: "Send me news.",
				CommunicateVersion: parley.ConsentVersion("Send me news.")}
			if b.Consent == nil || *b.Consent != want {
				t.Errorf("consent=%+v, want %+v", b.Consent, want)
			}
		}},
		{"legitimate interest", func(w *parley.Widget) {
			w.Consent = parley.Consent{Process: parley.ConsentLegitimate, ProcessText: text}
		}, func(t *testing.T, b *widget.BootWidget) {
			if b.Consent == nil || b.Consent.Process != "legitimate" || b.Consent.Communicate || b.Consent.ProcessVersion == "" {
				t.Errorf("consent=%+v", b.Consent)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base()
			tt.edit(w)
			b := widget.NewBoot(w, parley.WidgetStatus{}, "j", "c", "ws")
			tt.check(t, b.Widget)
		})
	}
}
