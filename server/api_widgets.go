package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// flexID is an id in the settings API: written as a string of digits,
// read from a string of digits or a number; "" and null read as 0 (none),
// and 0 is left out when written with omitempty.
type flexID uint64

// MarshalJSON writes the id as a string.
func (id flexID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(id), 10) + `"`), nil
}

// UnmarshalJSON reads "12", 12, "" or null.
func (id *flexID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*id = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		if s == "" {
			*id = 0
			return nil
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[flexID]()}
	}
	*id = flexID(n)
	return nil
}

// flexIDs returns ids as flexIDs, written as a list of strings; never nil,
// so that a list without ids is written [].
func flexIDs(ids []uint64) []flexID {
	out := make([]flexID, len(ids))
	for i, id := range ids {
		out[i] = flexID(id)
	}
	return out
}

func uint64s(ids []flexID) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out
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
	Snippet   string    `json:"snippet"`
	Warnings  []string  `json:"warnings"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// widgetReadOnly are the fields of widgetJSON that requests may carry (a
// widget read back and sent again) but never change.
var widgetReadOnly = []string{"id", "snippet", "warnings", "createdAt", "updatedAt"}

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
			Welcome: m.Welcome, OpenByDefault: m.OpenByDefault, EmailCapture: m.EmailCapture, Mobile: m.Mobile,
			Heading: headingJSON{Mode: hd.Mode, UserIDs: flexIDs(hd.UserIDs), TeamID: flexID(hd.TeamID),
				FallbackUserID: flexID(hd.FallbackUserID), Name: hd.Name, AvatarURL: hd.AvatarURL},
		},
		Appearance: w.Appearance,
		Audience:   audienceJSON{Mode: w.Audience.Mode, ListID: flexID(w.Audience.ListID)},
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
		Welcome: b.Message.Welcome, OpenByDefault: b.Message.OpenByDefault,
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

// ----- contact lists -----

// listJSON is a contact list in the settings API: parley.ContactList with
// the id as a string, criteria always a list, and the widgets using it.
type listJSON struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Match     string                 `json:"match"`
	Criteria  []parley.ListCriterion `json:"criteria"`
	UsedBy    []string               `json:"usedBy"` // ids of the widgets whose audience it is
	CreatedAt time.Time              `json:"createdAt"`
	UpdatedAt time.Time              `json:"updatedAt"`
}

func toListJSON(l *parley.ContactList, widgets []*parley.Widget) listJSON {
	crit := l.Criteria
	if crit == nil {
		crit = []parley.ListCriterion{}
	}
	used := []string{}
	for _, w := range widgets {
		if (w.Audience.Mode == parley.AudienceList || w.Audience.Mode == parley.AudienceNotList) && w.Audience.ListID == l.ID {
			used = append(used, idString(w.ID))
		}
	}
	return listJSON{ID: idString(l.ID), Name: l.Name, Match: l.Match, Criteria: crit, UsedBy: used,
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
}

// listRequest is the body of POST and PATCH /lists; PATCH changes the fields
// given.
type listRequest struct {
	Name     *string                 `json:"name"`
	Match    *string                 `json:"match"`
	Criteria *[]parley.ListCriterion `json:"criteria"`
}

func (req listRequest) apply(l *parley.ContactList) {
	if req.Name != nil {
		l.Name = strings.TrimSpace(*req.Name)
	}
	if req.Match != nil {
		l.Match = *req.Match
	}
	if req.Criteria != nil {
		l.Criteria = make([]parley.ListCriterion, len(*req.Criteria))
		for i, c := range *req.Criteria {
			c.Property, c.Op = strings.TrimSpace(c.Property), strings.TrimSpace(c.Op)
			l.Criteria[i] = c
		}
	}
}
