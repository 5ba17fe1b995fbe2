package server

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/widget"
)

// The widget's public, cross-origin endpoints: its files (embed.js,
// chat.js, chat.css), the boot answer, the status stream and the theme
// stylesheets. The visitor WebSocket is in ws_visitor.go.

// maxVisitorTokenBytes bounds the vt parameter; real tokens are far shorter.
const maxVisitorTokenBytes = 256

// bootContact resolves the visitor a boot request comes from, for widget
// audiences (W1) and the heading: first the page's identification (query
// parameters ie and it, CONTRACT §4), then vt, the visitor token the widget
// keeps (docs/websocket.md, "identity"), looked up by its hash as the
// visitor WebSocket does. A missing, malformed or unknown token is an
// anonymous visitor: nil contact, nil error. An error is returned only when
// the store fails; callers treat the visitor as anonymous then too. The
// token is never logged.
func (s *Server) bootContact(r *http.Request) (*parley.Contact, error) {
	ctx := r.Context()
	q := r.URL.Query()
	if c, err := s.app.IdentifiedContact(ctx, q.Get("ie"), q.Get("it")); err != nil || c != nil {
		return c, err
	}
	vt := q.Get("vt")
	if vt == "" || len(vt) > maxVisitorTokenBytes {
		return nil, nil
	}
	v, err := s.db.Visitor(ctx, hashSecret(vt))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c, err := s.db.Contact(ctx, v.ContactID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	}
	return c, err
}

// bootWidget picks the widget a page gets (docs/api.md, "Which widget a page
// gets"): among the enabled widgets whose targeting matches pageURL and whose
// audience admits contact c (nil: anonymous), the most specific, then the
// oldest. It returns nil when none does.
func (s *Server) bootWidget(ctx context.Context, pageURL string, c *parley.Contact) (*parley.Widget, error) {
	widgets, err := s.db.Widgets(ctx)
	if err != nil {
		return nil, err
	}
	lists := map[uint64]*parley.ContactList{}
	candidates := widgets[:0:0]
	for _, w := range widgets {
		if !w.Enabled || !parley.MatchTargeting(w.Targeting, pageURL) {
			continue
		}
		var list *parley.ContactList
		if id := w.Audience.ListID; id != 0 && (w.Audience.Mode == parley.AudienceList || w.Audience.Mode == parley.AudienceNotList) {
			l, ok := lists[id]
			if !ok {
				l, err = s.db.ContactList(ctx, id)
				if parley.ErrorCode(err) == parley.ENOTFOUND {
					l, err = nil, nil
				} else if err != nil {
					return nil, err
				}
				lists[id] = l
			}
			list = l
		}
		if parley.InAudience(w.Audience, c, list) {
			candidates = append(candidates, w)
		}
	}
	return widget.Select(candidates, pageURL), nil
}

// handleStatusStream serves a widget's status as server-sent events (public,
// any origin): the current status at once, then every change. The loader
// holds one while no chat is mounted, so that its launcher hides and comes
// back without a reload as availability changes; a mounted chat gets status
// on its WebSocket instead. These are the most numerous connections Parley
// holds, so over HTTP/1.1 the handler takes the connection over once the
// first event is out (statusStream) and an idle stream costs no goroutine.
func (s *Server) handleStatusStream() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		wd, err := s.queryWidget(r)
		if err != nil {
			return err
		}
		// Status streams count with the visitor sockets: a browser that
		// gets 429 here does not try again by itself.
		release, ok := s.limits.conns.acquire(clientKey(s.clientAddr(r)))
		if !ok {
			return rateLimited(connsRetryAfter, tooManyConns)
		}
		s.conns.Add(1)
		closed := s.opened(connStatus)
		end := func() {
			closed()
			release()
			s.conns.Done()
		}
		sub := s.hub.SubscribeBuffer(16, widgetTopic(wd.ID))
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		first := sseEvent(mustJSON(evStatus{Type: "status", Status: s.app.WidgetStatus(r.Context(), wd)}))
		if s.hijackStatus(w, r, sub, first, end) {
			return nil
		}
		defer end()
		defer sub.Close()
		s.serveStatus(w, r, sub, first)
		return nil
	})
}

// serveStatus serves a status stream in its handler's goroutine: over
// HTTP/2, where the connection cannot be taken over.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request, sub parley.Subscription, first []byte) {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	write := func(data []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if _, err := w.Write(data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(first) {
		return
	}
	ready := make(chan struct{}, 1)
	sub.Notify(func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	})
	tick := time.NewTicker(s.cfg.StatusKeepAlive)
	defer tick.Stop()
	var evs [][]byte
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-ready:
			if sub.Err() != nil {
				return // too slow: the browser reconnects
			}
			evs, _ = sub.Take(evs[:0], 0)
			for _, b := range evs {
				if !write(sseEvent(b)) {
					return
				}
			}
			s.wrote(connStatus, len(evs))
		case <-tick.C:
			if !write([]byte(sseKeepAlive)) {
				return
			}
		}
	}
}

// handleTheme serves a theme stylesheet by its hash. The URL names the
// content, so it is cached for good; an unknown hash is ENOTFOUND.
func (s *Server) handleTheme() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		hash, ok := strings.CutSuffix(r.PathValue("file"), ".css")
		var a widget.Asset
		if ok && isThemeHash(hash) {
			a, ok = s.cfg.Themes.Lookup(hash)
		} else {
			ok = false
		}
		if !ok {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			return parley.Errorf(parley.ENOTFOUND, "no theme %q", truncateForError(r.PathValue("file")))
		}
		s.serveAsset(w, r, &a, true)
		return nil
	})
}

// isThemeHash reports whether s has the form of an Asset.Hash.
func isThemeHash(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

type assetRef = *widget.Asset

func (s *Server) assetLoader() assetRef { return s.assets.File("embed.js") }

func (s *Server) assetChatJS() assetRef { return s.assets.File("chat.js") }

func (s *Server) assetChatCSS() assetRef { return s.assets.File("chat.css") }

// handleAsset serves a widget file to any origin, gzipped when the browser
// takes it. Versioned URLs (?v=hash) are cached for a year.
func (s *Server) handleAsset(get func() assetRef) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a := get()
		v := r.URL.Query().Get("v")
		s.serveAsset(w, r, a, v != "" && v == a.Hash)
		return nil
	})
}

// serveAsset writes a widget file for any origin, gzipped when the browser
// takes it; immutable (the URL names the content) means cached for a year,
// otherwise for five minutes.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, a assetRef, immutable bool) {
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("ETag", `"`+a.Hash+`"`)
	h.Set("Vary", "Accept-Encoding")
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	if match := r.Header.Get("If-None-Match"); match == `"`+a.Hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.Body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.Gzip
	}
	_, _ = w.Write(body)
}

// handleBoot tells the loader which widget, if any, a page gets: per
// targeting and audience (bootWidget), for the visitor that the optional
// ie/it or vt parameters name (bootContact).
func (s *Server) handleBoot() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		pageURL := r.URL.Query().Get("url")
		if len(pageURL) > 4096 {
			return parley.Errorf(parley.EINVALID, "url is longer than 4096 bytes")
		}
		c, err := s.bootContact(r)
		if err != nil {
			// Audiences then see an anonymous visitor; the page still loads.
			s.log.Error().Err(err).Str("correlationId", correlationID(r)).Msg("boot: look up visitor")
			c = nil
		}
		wd, err := s.bootWidget(r.Context(), pageURL, c)
		if err != nil {
			return err
		}
		if wd == nil {
			s.writeJSON(w, http.StatusOK, widget.NewBoot(nil, parley.WidgetStatus{}, "", "", ""))
			return nil
		}
		base := s.baseURL(r)
		b := widget.NewBoot(wd, s.app.WidgetStatus(r.Context(), wd),
			base+"/widget/v1/chat.js?v="+s.assetChatJS().Hash,
			base+"/widget/v1/chat.css?v="+s.assetChatCSS().Hash,
			"ws"+strings.TrimPrefix(base, "http")+"/widget/v1/ws?widgetId="+idString(wd.ID))
		b.Assets.Theme = s.themeURL(r, wd)
		bootTexts(&b, wd, locale.PickWidget(wd.Options.Language, r.URL.Query().Get("lang"), r.Header.Get("Accept-Language")))
		s.dressBoot(r.Context(), wd, c, &b)
		s.writeJSON(w, http.StatusOK, b)
		return nil
	})
}

// bootTexts gives boot answer b for widget wd the widget's texts in lang,
// and the default welcome and heading in lang where the admin has written
// none: a widget's own texts are shown as written, in any language. The
// heading is never the widget's name, which is for agents: a heading of
// users or a team that finds nobody (dressBoot) shows the default too.
func bootTexts(b *widget.Boot, wd *parley.Widget, lang string) {
	b.Lang, b.Texts = lang, locale.WidgetCatalog(lang)
	if wd.Message.HideWelcome {
		b.Widget.Welcome = ""
	} else if b.Widget.Welcome == "" {
		b.Widget.Welcome = b.Texts["welcome"]
	}
	if hd := wd.Message.Heading; hd.Mode != parley.HeadingCustom || hd.Name == "" {
		b.Widget.Heading.Name = b.Texts["heading"]
	}
}

// dressBoot fills in the parts of boot answer b for widget wd that depend on
// the store and the visitor c (nil: anonymous): the heading's name and
// whether the visitor is known (W4).
func (s *Server) dressBoot(ctx context.Context, wd *parley.Widget, c *parley.Contact, b *widget.Boot) {
	if b.Widget == nil {
		return
	}
	if name := s.headingName(ctx, wd.Message.Heading, c); name != "" {
		b.Widget.Heading.Name = name
	}
	b.Widget.Known = contactKnown(c)
}

// headingName is the name the chat heading shows for heading h and visitor
// c, or "" for the widget's own (custom headings are the widget's own). Only
// names leave the server: never a user's email.
func (s *Server) headingName(ctx context.Context, h parley.Heading, c *parley.Contact) string {
	userName := func(id uint64) string {
		if id == 0 {
			return ""
		}
		u, err := s.db.User(ctx, id)
		if err != nil || u.Deactivated {
			return ""
		}
		return u.Name
	}
	switch h.Mode {
	case parley.HeadingUser:
		for _, id := range h.UserIDs {
			if n := userName(id); n != "" {
				return n
			}
		}
	case parley.HeadingUsers:
		var names []string
		for _, id := range h.UserIDs {
			if n := userName(id); n != "" {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			return names[rand.IntN(len(names))]
		}
	case parley.HeadingTeam:
		if t, err := s.db.Team(ctx, h.TeamID); err == nil {
			return t.Name
		}
	case parley.HeadingOwner:
		if c != nil {
			if n := userName(c.OwnerID); n != "" {
				return n
			}
		}
		return userName(h.FallbackUserID)
	}
	return ""
}
