package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/parley-chat/parley"
)

//go:embed dist/embed.js dist/chat.js dist/chat.css
var dist embed.FS

// Asset is one browser file, ready to serve.
type Asset struct {
	Name        string // file name: "embed.js", "chat.js" or "chat.css"
	ContentType string // with charset
	Body        []byte // the file
	Gzip        []byte // Body, gzip-compressed at best compression
	Hash        string // first 16 hex digits of Body's SHA-256, for cache busting and ETags
}

// Assets are the three files of the widget. The loader (Loader, served at
// {base}/embed.js) must be served under a stable URL with a short cache
// lifetime; ChatJS and ChatCSS can be served under URLs containing their Hash
// and cached for good. The boot response gives the loader their absolute URLs.
type Assets struct {
	Loader, ChatJS, ChatCSS Asset
}

// File returns the file called name: "embed.js" (Loader), "chat.js" (ChatJS)
// or "chat.css" (ChatCSS); nil for any other name.
func (a *Assets) File(name string) *Asset {
	switch name {
	case a.Loader.Name:
		return &a.Loader
	case a.ChatJS.Name:
		return &a.ChatJS
	case a.ChatCSS.Name:
		return &a.ChatCSS
	}
	return nil
}

// Load reads the embedded files, compresses and hashes each once. It fails only
// if the binary was built without dist/ (never in a normal build). The result
// is read-only and safe for concurrent use; call Load once at start-up.
func Load() (*Assets, error) {
	var a Assets
	for _, f := range []struct {
		dst         *Asset
		name, ctype string
	}{
		{&a.Loader, "embed.js", "text/javascript; charset=utf-8"},
		{&a.ChatJS, "chat.js", "text/javascript; charset=utf-8"},
		{&a.ChatCSS, "chat.css", "text/css; charset=utf-8"},
	} {
		body, err := dist.ReadFile("dist/" + f.name)
		if err != nil {
			return nil, fmt.Errorf("widget: load %s: %w", f.name, err)
		}
		gz, err := gzipBytes(body)
		if err != nil {
			return nil, fmt.Errorf("widget: gzip %s: %w", f.name, err)
		}
		sum := sha256.Sum256(body)
		*f.dst = Asset{
			Name:        f.name,
			ContentType: f.ctype,
			Body:        body,
			Gzip:        gz,
			Hash:        hex.EncodeToString(sum[:])[:16],
		}
	}
	return &a, nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Select returns the widget that the page at pageURL gets: among the enabled
// widgets whose targeting matches (parley.MatchTargeting), the one whose
// matching rule is the most specific, then the oldest (lowest id). It returns
// nil when no widget matches. widgets may hold nils; they are skipped.
//
// Specificity is the length of the longest matching positive rule's value (for
// a query rule, of "name=value"). Catch-all matches score 0: no rules, "all",
// and the negated operators (isNot, notContains, notStartsWith), which say
// where a widget must not appear rather than where it belongs. So a widget for
// "https://a.example/pricing" beats one for "https://a.example/*", which beats
// one for all pages.
func Select(widgets []*parley.Widget, pageURL string) *parley.Widget {
	var best *parley.Widget
	bestScore := -1
	for _, w := range widgets {
		if w == nil || !w.Enabled {
			continue
		}
		score, ok := specificity(w.Targeting, pageURL)
		if !ok {
			continue
		}
		if score > bestScore || score == bestScore && w.ID < best.ID {
			best, bestScore = w, score
		}
	}
	return best
}

// specificity reports whether t matches pageURL and how specifically.
func specificity(t parley.Targeting, pageURL string) (int, bool) {
	if len(t.Rules) == 0 {
		return 0, true
	}
	score, ok := 0, false
	for _, r := range t.Rules {
		if !parley.MatchTargetRule(r, pageURL) {
			continue
		}
		ok = true
		s := 0
		switch {
		case r.Kind == parley.TargetKindQuery:
			s = len(r.Name) + 1 + len(r.Value)
		case r.Op == parley.TargetIs || r.Op == parley.TargetContains || r.Op == parley.TargetStartsWith:
			s = len(r.Value)
		}
		score = max(score, s)
	}
	return score, ok
}

// Boot is the answer of GET {base}/widget/v1/boot?url=…, which the loader
// reads to decide what to draw. A page without a widget gets a Boot with only
// Widget nil, encoded as {"widget":null}.
type Boot struct {
	Widget *BootWidget `json:"widget"`
	// Lang is the language of the widget's texts for this page view, and
	// Texts those texts by key (locale/widget/<lang>.json): the server
	// picks them (locale.PickWidget), the loader and chat panel show them.
	Lang  string            `json:"lang,omitempty"`
	Texts map[string]string `json:"texts,omitempty"`
	// Preview marks the boot of a draft in the widget editor's preview
	// (POST /api/v1/widgets/preview): the chat panel opens no socket and
	// echoes what is typed locally.
	Preview bool        `json:"preview,omitempty"`
	Assets  *BootAssets `json:"assets,omitempty"`
	WS      string      `json:"ws,omitempty"` // absolute ws:// or wss:// URL of the visitor endpoint, with ?widgetId=
}

// BootWidget is what the visitor's browser learns about a widget: what it
// says and how it looks, never a user's email.
type BootWidget struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Welcome    string              `json:"welcome"`
	Appearance parley.Appearance   `json:"appearance"`
	Status     parley.WidgetStatus `json:"status"`
	// OpenByDefault opens the panel with the welcome message on load (W4).
	OpenByDefault bool `json:"openByDefault,omitempty"`
	// Heading is who the panel's heading shows, resolved by the server.
	Heading BootHeading `json:"heading"`
	// EmailCapture says when to ask for the visitor's email; When is never
	// empty ("after" by default).
	EmailCapture parley.EmailCapture `json:"emailCapture"`
	// Mobile are the small-screen options (max-width 480px).
	Mobile parley.MobileOptions `json:"mobile"`
	// Consent is what the visitor is asked to agree to; nil for nothing.
	Consent *BootConsent `json:"consent,omitempty"`
	// Known is set when the visitor is a contact with an email already, so
	// the widget does not ask for one.
	Known bool `json:"known,omitempty"`
	// Attachments offers visitors to send files (unless the page's
	// hsConversationsSettings.disableAttachment says no).
	Attachments bool `json:"attachments,omitempty"`
	// Bot is set when the widget's bot answers new conversations first: the
	// email capture waits until it hands off or closes (the visitor's
	// thread then says bot no more).
	Bot bool `json:"bot,omitempty"`
}

// BootHeading is the name and avatar at the top of the chat panel (W4).
type BootHeading struct {
	Name      string `json:"name"`
	AvatarURL string `json:"avatarUrl,omitempty"`
}

// BootConsent is a widget's consent texts with their versions
// (parley.ConsentVersion), which the visitor WebSocket records (G1, G2).
type BootConsent struct {
	Process            string `json:"process,omitempty"` // parley.ConsentExplicit or parley.ConsentLegitimate
	ProcessText        string `json:"processText,omitempty"`
	ProcessVersion     string `json:"processVersion,omitempty"`
	Communicate        bool   `json:"communicate,omitempty"`
	SubscriptionType   string `json:"subscriptionType,omitempty"`
	CommunicateText    string `json:"communicateText,omitempty"`
	CommunicateVersion string `json:"communicateVersion,omitempty"`
}

// BootAssets are the absolute URLs of the chat UI files and of the widget's
// theme stylesheet (Themes), which the loader links in the shadow root.
type BootAssets struct {
	JS    string `json:"js"`
	CSS   string `json:"css"`
	Theme string `json:"theme,omitempty"`
}

// NewBoot returns the boot answer for widget w (nil: no widget for the page)
// with its current status and the absolute URLs the server serves the chat
// files and the visitor WebSocket at. The heading is the widget's name (or
// its custom heading); the server resolves user, team and owner headings
// and sets Known for the visitor it recognises.
func NewBoot(w *parley.Widget, st parley.WidgetStatus, jsURL, cssURL, wsURL string) Boot {
	if w == nil {
		return Boot{}
	}
	msg := w.Message
	capture := msg.EmailCapture
	if capture.When == "" {
		capture.When = parley.EmailCaptureAfter
	}
	b := Boot{
		Widget: &BootWidget{
			ID:            strconv.FormatUint(w.ID, 10),
			Name:          w.Name,
			Welcome:       msg.Welcome,
			Appearance:    w.Appearance,
			Status:        st,
			OpenByDefault: msg.OpenByDefault,
			Heading:       BootHeading{Name: w.Name, AvatarURL: w.Appearance.AvatarURL},
			EmailCapture:  capture,
			Mobile:        msg.Mobile,
			Attachments:   w.AttachmentsAllowed(),
			Bot:           w.Bot.Running(),
		},
		Assets: &BootAssets{JS: jsURL, CSS: cssURL},
		WS:     wsURL,
	}
	if msg.Heading.Mode == parley.HeadingCustom {
		if msg.Heading.Name != "" {
			b.Widget.Heading.Name = msg.Heading.Name
		}
		if msg.Heading.AvatarURL != "" {
			b.Widget.Heading.AvatarURL = msg.Heading.AvatarURL
		}
	}
	c := w.Consent
	if c.Process != parley.ConsentNone || c.Communicate {
		bc := &BootConsent{}
		if c.Process != parley.ConsentNone {
			bc.Process, bc.ProcessText, bc.ProcessVersion = c.Process, c.ProcessText, parley.ConsentVersion(c.ProcessText)
		}
		if c.Communicate {
			bc.Communicate, bc.SubscriptionType = true, c.SubscriptionType
			bc.CommunicateText, bc.CommunicateVersion = c.CommunicateText, parley.ConsentVersion(c.CommunicateText)
		}
		b.Widget.Consent = bc
	}
	return b
}
