package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
	"github.com/parley-chat/parley/widget"
)

// widgetRefs loads what a widget's settings may refer to.
func (s *Server) widgetRefs(ctx context.Context) (parley.WidgetRefs, error) {
	var refs parley.WidgetRefs
	var err error
	if refs.Inboxes, err = s.db.Inboxes(ctx); err != nil {
		return refs, err
	}
	if refs.Users, err = s.db.Users(ctx); err != nil {
		return refs, err
	}
	if refs.Teams, err = s.db.Teams(ctx); err != nil {
		return refs, err
	}
	refs.Lists, err = s.db.ContactLists(ctx)
	return refs, err
}

// checkWidget validates w completely: its own settings, then what it refers
// to. It also compiles w's theme, so that an admin's change of appearance is
// compiled once, here, and not on a visitor's page view (a failed compile is
// logged; visitors then get the fallback theme).
func (s *Server) checkWidget(ctx context.Context, w *parley.Widget) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if l := w.Options.Language; l != "" && l != parley.WidgetLanguageVisitor && locale.WidgetCatalog(l) == nil {
		return parley.Errorf(parley.EINVALID, "options.language: the widget has no texts in %q; it speaks %s", l, strings.Join(locale.WidgetLanguages(), ", "))
	}
	refs, err := s.widgetRefs(ctx)
	if err != nil {
		return err
	}
	if err := w.ValidateRefs(refs); err != nil {
		return err
	}
	return s.prepareTheme(ctx, w.Appearance)
}

// newWidgetBase is what POST /widgets merges its body into: the default
// widget's settings without a name or an inbox.
func newWidgetBase() *parley.Widget {
	w := parley.DefaultWidget(0)
	w.Name = ""
	return w
}

func (s *Server) handleWidgets() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		widgets, err := s.db.Widgets(r.Context())
		if err != nil {
			return err
		}
		out := make([]widgetJSON, len(widgets))
		for i, wd := range widgets {
			out[i] = s.toWidgetJSON(r, wd)
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleWidgetGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		wd, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toWidgetJSON(r, wd))
		return nil
	})
}

func (s *Server) handleWidgetCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		patch, err := readWidgetPatch(w, r)
		if err != nil {
			return err
		}
		wd := newWidgetBase()
		if err := patch.applyTo(wd); err != nil {
			return err
		}
		if err := s.checkWidget(ctx, wd); err != nil {
			return err
		}
		if err := s.db.CreateWidget(ctx, wd); err != nil {
			return err
		}
		s.app.WidgetsChanged()
		s.writeJSON(w, http.StatusCreated, s.toWidgetJSON(r, wd))
		return nil
	})
}

// handleWidgetPatch merges the body into the widget (RFC 7386), validates
// the result and stores it, then tells the widget's connected visitors.
func (s *Server) handleWidgetPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		cur, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		id := cur.ID
		patch, err := readWidgetPatch(w, r)
		if err != nil {
			return err
		}
		// A dry run on what was read checks the references too; the write
		// merges into the widget as stored then, in its transaction.
		if err := patch.applyTo(cur); err != nil {
			return err
		}
		if err := s.checkWidget(ctx, cur); err != nil {
			return err
		}
		wd, err := s.db.UpdateWidget(ctx, id, func(wd *parley.Widget) error {
			if err := patch.applyTo(wd); err != nil {
				return err
			}
			return wd.Validate()
		})
		if err != nil {
			return err
		}
		s.publishWidget(ctx, wd)
		s.writeJSON(w, http.StatusOK, s.toWidgetJSON(r, wd))
		return nil
	})
}

// handleWidgetDelete deletes a widget; its threads stay in the inbox, and
// its connected visitors' launchers hide.
func (s *Server) handleWidgetDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteWidget(r.Context(), id); err != nil {
			return err
		}
		s.hub.Publish(mustJSON(evStatus{Type: "status", Status: parley.WidgetStatus{}}), widgetTopic(id))
		s.app.WidgetsChanged()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// evWidget tells a widget's visitors its new public settings.
type evWidget struct {
	Type   string             `json:"type"` // widget.updated
	Widget *widget.BootWidget `json:"widget"`
}

// publishWidget tells the visitors connected to a committed widget what
// they should show now: its status (a disabled widget's hides the launcher)
// and its public settings.
func (s *Server) publishWidget(ctx context.Context, wd *parley.Widget) {
	st := s.app.WidgetStatus(ctx, wd) // hidden for a switched-off widget
	boot := widget.NewBoot(wd, st, "", "", "")
	s.hub.Publish(mustJSON(evStatus{Type: "status", Status: st}), widgetTopic(wd.ID))
	s.hub.Publish(mustJSON(evWidget{Type: "widget.updated", Widget: boot.Widget}), widgetTopic(wd.ID))
	// Availability and routing depend on the settings too: business-hours
	// timers, routing targets, a bot's override.
	s.app.WidgetsChanged()
}

// widgetParam resolves {id} to a widget; anything else is ENOTFOUND.
func (s *Server) widgetParam(r *http.Request) (*parley.Widget, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.db.Widget(r.Context(), id)
}

// widgetBody is what an admin may set on a widget: the settings API's widget
// without its read-only fields. Its JSON is the input of POST and of the
// merge that PATCH does. It is not parley.Widget's JSON (the store's) on
// purpose: ids are flexIDs, written as strings, and the modes and
// maxOpenPerAgent are always written, so that a widget read back shows every
// setting; the nested types that need neither are parley's own.
type widgetBody struct {
	Name         string               `json:"name"`
	InboxID      flexID               `json:"inboxId"`
	Enabled      bool                 `json:"enabled"`
	Targeting    parley.Targeting     `json:"targeting"`
	Availability parley.Availability  `json:"availability"`
	Message      widgetMessageJSON    `json:"message"`
	Appearance   parley.Appearance    `json:"appearance"`
	Audience     audienceJSON         `json:"audience"`
	Routing      routingJSON          `json:"routing"`
	Options      parley.WidgetOptions `json:"options"`
	Consent      parley.Consent       `json:"consent"`
	Bot          *parley.BotFlow      `json:"bot,omitempty"`
}

type widgetMessageJSON struct {
	Welcome       string               `json:"welcome"`
	HideWelcome   bool                 `json:"hideWelcome"`
	OpenByDefault bool                 `json:"openByDefault"`
	Heading       headingJSON          `json:"heading"`
	EmailCapture  parley.EmailCapture  `json:"emailCapture"`
	Mobile        parley.MobileOptions `json:"mobile"`
}

type headingJSON struct {
	Mode           string   `json:"mode"`
	UserIDs        []flexID `json:"userIds,omitempty"`
	TeamID         flexID   `json:"teamId,omitempty"`
	FallbackUserID flexID   `json:"fallbackUserId,omitempty"`
	Name           string   `json:"name,omitempty"`
	AvatarURL      string   `json:"avatarUrl,omitempty"`
}

type audienceJSON struct {
	Mode   string `json:"mode"`
	ListID flexID `json:"listId,omitempty"`
}

type routingJSON struct {
	Mode            string   `json:"mode"`
	UserIDs         []flexID `json:"userIds,omitempty"`
	TeamIDs         []flexID `json:"teamIds,omitempty"`
	FallbackUserID  flexID   `json:"fallbackUserId,omitempty"`
	MaxOpenPerAgent int      `json:"maxOpenPerAgent"`
}

// widgetJSON is a widget in the settings API (CONTRACT §5, docs/api.md).
type widgetJSON struct {
	ID string `json:"id"`
	widgetBody
	Snippet  string   `json:"snippet"`
	Warnings []string `json:"warnings"`
	// Languages are the languages options.language may name: those the
	// widget has texts in (locale/widget).
	Languages []string  `json:"languages"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// widgetReadOnly are the fields of widgetJSON that requests may carry (a
// widget read back and sent again) but never change.
var widgetReadOnly = []string{"id", "snippet", "warnings", "languages", "createdAt", "updatedAt"}

func toWidgetBody(w *parley.Widget) widgetBody {
	rules := w.Targeting.Rules
	if rules == nil {
		rules = []parley.TargetRule{}
	}
	av := w.Availability
	if av.Hours == nil {
		av.Hours = []parley.HoursRange{}
	}
	m, hd, r := w.Message, w.Message.Heading, w.Routing
	return widgetBody{
		Name: w.Name, InboxID: flexID(w.InboxID), Enabled: w.Enabled,
		Targeting: parley.Targeting{Rules: rules}, Availability: av,
		Message: widgetMessageJSON{
			Welcome: m.Welcome, HideWelcome: m.HideWelcome, OpenByDefault: m.OpenByDefault, EmailCapture: m.EmailCapture, Mobile: m.Mobile,
			Heading: headingJSON{Mode: hd.Mode, UserIDs: flexIDs(hd.UserIDs), TeamID: flexID(hd.TeamID),
				FallbackUserID: flexID(hd.FallbackUserID), Name: hd.Name, AvatarURL: hd.AvatarURL},
		},
		Appearance: w.Appearance,
		Audience:   audienceJSON{Mode: w.Audience.EffectiveMode(), ListID: flexID(w.Audience.ListID)},
		Routing: routingJSON{Mode: r.Mode, UserIDs: flexIDs(r.UserIDs), TeamIDs: flexIDs(r.TeamIDs),
			FallbackUserID: flexID(r.FallbackUserID), MaxOpenPerAgent: r.MaxOpenPerAgent},
		Options: w.Options, Consent: w.Consent, Bot: w.Bot,
	}
}

// apply sets every setting of w from b; id and times stay.
func (b widgetBody) apply(w *parley.Widget) {
	w.Name, w.InboxID, w.Enabled = b.Name, uint64(b.InboxID), b.Enabled
	w.Targeting, w.Availability, w.Appearance = b.Targeting, b.Availability, b.Appearance
	hd := b.Message.Heading
	w.Message = parley.WidgetMessage{
		Welcome: b.Message.Welcome, HideWelcome: b.Message.HideWelcome, OpenByDefault: b.Message.OpenByDefault,
		EmailCapture: b.Message.EmailCapture, Mobile: b.Message.Mobile,
		Heading: parley.Heading{Mode: hd.Mode, UserIDs: uint64s(hd.UserIDs), TeamID: uint64(hd.TeamID),
			FallbackUserID: uint64(hd.FallbackUserID), Name: hd.Name, AvatarURL: hd.AvatarURL},
	}
	w.Audience = parley.Audience{Mode: b.Audience.Mode, ListID: uint64(b.Audience.ListID)}
	r := b.Routing
	w.Routing = parley.Routing{Mode: r.Mode, UserIDs: uint64s(r.UserIDs), TeamIDs: uint64s(r.TeamIDs),
		FallbackUserID: uint64(r.FallbackUserID), MaxOpenPerAgent: r.MaxOpenPerAgent}
	w.Options, w.Consent, w.Bot = b.Options, b.Consent, b.Bot
}

func (s *Server) toWidgetJSON(r *http.Request, w *parley.Widget) widgetJSON {
	warnings := w.Warnings()
	if warnings == nil {
		warnings = []string{}
	}
	return widgetJSON{
		ID: idString(w.ID), widgetBody: toWidgetBody(w),
		Snippet:   `<script async src="` + s.baseURL(r) + `/embed.js"></script>`,
		Warnings:  warnings,
		Languages: locale.WidgetLanguages(),
		CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(),
	}
}

// widgetPatch is a request body for POST or PATCH /widgets: a JSON object
// merged into a widget's settings as RFC 7386 describes (objects merge
// field by field, anything else replaces, null resets to the default).
type widgetPatch map[string]any

// readWidgetPatch reads the body as a JSON object, numbers kept exact, and
// drops the read-only fields.
func readWidgetPatch(w http.ResponseWriter, r *http.Request) (widgetPatch, error) {
	var raw json.RawMessage
	if err := decodeJSON(w, r, &raw); err != nil {
		return nil, err
	}
	return parseWidgetPatch(raw)
}

// parseWidgetPatch is readWidgetPatch of a body already read.
func parseWidgetPatch(raw json.RawMessage) (widgetPatch, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "malformed JSON")
	}
	p, ok := v.(map[string]any)
	if !ok {
		return nil, parley.Errorf(parley.EINVALID, "request body must be a JSON object")
	}
	for _, k := range widgetReadOnly {
		delete(p, k)
	}
	return p, nil
}

// applyTo merges the patch into w's settings and writes the result back to
// w, normalised. It returns EINVALID for unknown fields or wrong types,
// naming the field; w is unchanged then. It does not validate.
func (p widgetPatch) applyTo(w *parley.Widget) error {
	cur, err := json.Marshal(toWidgetBody(w))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(cur))
	dec.UseNumber()
	var base any
	if err := dec.Decode(&base); err != nil {
		return err
	}
	merged, err := json.Marshal(mergePatch(base, map[string]any(p)))
	if err != nil {
		return err
	}
	var b widgetBody
	if err := exactFields(merged, reflect.TypeOf(&b), ""); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return fieldError(err)
	}
	b.apply(w)
	w.Normalize()
	return nil
}

// mergePatch returns target with patch merged in (RFC 7386).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// fieldError turns a JSON decoding error into EINVALID naming the field.
func fieldError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		want := "of another type"
		switch {
		case typ.Type == reflect.TypeFor[flexID]():
			want = "an id (a string of digits)"
		case typ.Type.Kind() == reflect.String:
			want = "a string"
		case typ.Type.Kind() == reflect.Bool:
			want = "true or false"
		case typ.Type.Kind() == reflect.Int, typ.Type.Kind() == reflect.Uint64:
			want = "a whole number"
		case typ.Type.Kind() == reflect.Slice:
			want = "a list"
		case typ.Type.Kind() == reflect.Struct, typ.Type.Kind() == reflect.Map, typ.Type.Kind() == reflect.Pointer:
			want = "an object"
		}
		if typ.Field == "" {
			return parley.Errorf(parley.EINVALID, "a value must be %s", want)
		}
		return parley.Errorf(parley.EINVALID, "%s must be %s", typ.Field, want)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return parley.Errorf(parley.EINVALID, "unknown field %s", msg)
	}
	return parley.Errorf(parley.EINVALID, "malformed settings: %s", strings.TrimPrefix(err.Error(), "json: "))
}
