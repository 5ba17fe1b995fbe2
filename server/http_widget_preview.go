package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/widget"
)

// The widget editor's preview is the widget itself: the page at
// /widget/v1/preview loads the same loader and chat bundle visitors get, in
// preview mode (no socket; what the visitor types is echoed locally), and
// the editor hands it the boot answer of its draft, which
// POST /api/v1/widgets/preview builds the way GET /widget/v1/boot does for
// a stored widget: the same texts in the picked language, the same
// resolved heading, the draft's compiled theme.

// previewCSP lets the preview page run the widget's files from this origin,
// show avatars from anywhere an admin points them, and be framed only by
// the console.
const previewCSP = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// previewPage is the page the editor frames: a blank customer's page with
// the snippet, marked for preview mode.
const previewPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley widget preview</title><link rel="stylesheet" href="/widget/v1/preview.css"></head>
<body><script src="/embed.js" data-preview></script></body></html>
`

// previewCSS is the preview page's stylesheet: a plain page behind the
// widget.
const previewCSS = `html,body{margin:0;height:100%;background:#f3f4f6}`

func (s *Server) handleWidgetPreviewPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", previewCSP)
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(previewPage))
	})
}

func (s *Server) handleWidgetPreviewCSS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(previewCSS))
	})
}

// previewRequest is the body of POST /api/v1/widgets/preview: the draft
// (a widget as the settings API writes it, merged into the defaults as
// POST /widgets does, unvalidated: a draft may be half done), the
// language of the page to pretend (the console's), and whether to show the
// widget as away.
type previewRequest struct {
	Widget json.RawMessage `json:"widget"`
	Lang   string          `json:"lang"`
	Away   bool            `json:"away"`
}

func (s *Server) handleWidgetPreview() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req previewRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if len(req.Widget) == 0 || bytes.Equal(req.Widget, []byte("null")) {
			return parley.Errorf(parley.EINVALID, "widget is required")
		}
		patch, err := parseWidgetPatch(req.Widget)
		if err != nil {
			return err
		}
		wd := newWidgetBase()
		if err := patch.applyTo(wd); err != nil {
			return err
		}
		if l := wd.Options.Language; l != "" && l != parley.WidgetLanguageVisitor && locale.WidgetCatalog(l) == nil {
			wd.Options.Language = ""
		}
		if parley.ValidateAppearance(wd.Appearance) != nil {
			// Half-typed colours show the default until they are whole.
			wd.Appearance = parley.DefaultWidget(0).Appearance
		}
		av := wd.Availability
		st := parley.WidgetStatus{Available: true, ShowLauncher: true, TypicalResponseTime: av.TypicalResponseTime}
		if req.Away && av.Mode != parley.AvailabilityAlways {
			st = parley.WidgetStatus{ShowLauncher: !av.HideLauncherWhenAway, AwayMessage: av.AwayMessage, TypicalResponseTime: av.TypicalResponseTime}
		}
		base := s.baseURL(r)
		b := widget.NewBoot(wd, st, base+"/widget/v1/chat.js?v="+s.assetChatJS().Hash, base+"/widget/v1/chat.css?v="+s.assetChatCSS().Hash, "")
		b.Widget.ID = "0" // no stored widget
		b.Preview = true
		b.Assets.Theme = s.themeURL(r, wd)
		bootTexts(&b, wd, locale.PickWidget(wd.Options.Language, strings.TrimSpace(req.Lang), r.Header.Get("Accept-Language")))
		s.dressBoot(r.Context(), wd, nil, &b)
		s.writeJSON(w, http.StatusOK, b)
		return nil
	})
}
