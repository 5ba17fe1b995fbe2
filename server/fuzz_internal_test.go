package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// checkInputError fails t unless err is what a caller with bad input may
// get: invalid or too large, with a UTF-8 message.
func checkInputError(t *testing.T, err error, input []byte) {
	t.Helper()
	switch parley.ErrorCode(err) {
	case parley.EINVALID, parley.ETOOLARGE:
	default:
		t.Fatalf("code=%s (%v) for %q", parley.ErrorCode(err), err, input)
	}
	if !utf8.ValidString(parley.ErrorMessage(err)) {
		t.Fatalf("error message is not UTF-8: %q", parley.ErrorMessage(err))
	}
}

// FuzzWidgetPatch feeds PATCH /widgets bodies through the decoder and the
// RFC 7386 merge: it never panics, refuses with invalid naming what is
// wrong, and a patch it takes and that validates gives a widget whose
// settings, sent back whole, change nothing (the merge is a fixed point).
func FuzzWidgetPatch(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Sales","enabled":true}`,
		`{"targeting":{"rules":[{"kind":"url","op":"startsWith","value":"https://a.example/*"},{"kind":"query","name":"utm","value":"x"}]}}`,
		`{"availability":{"mode":"hours","timezone":"Europe/Berlin","hours":[{"days":["mon","tue"],"from":"22:00","to":"02:00"}]}}`,
		`{"appearance":{"accent":"#b91c1c","side":"left"},"message":{"welcome":"Hi","heading":{"mode":"custom","name":"Team"}}}`,
		`{"routing":{"mode":"users","userIds":["1",2]},"audience":{"mode":"list","listId":"3"}}`,
		`{"bot":{"name":"Bot","steps":[{"id":"a","kind":"message","text":"Hi"}]}}`,
		`{"message":null,"targeting":{"rules":null}}`,
		`{"id":"7","createdAt":"x","unknown":1}`,
		`{"inboxId":1e400}`, `[]`, `null`, `{"name":"\u0000"}`, "\xff", `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("PATCH", "/api/v1/widgets/1", bytes.NewReader(data))
		r.Header.Set("Content-Type", "application/json")
		p, err := readWidgetPatch(httptest.NewRecorder(), r)
		if err != nil {
			checkInputError(t, err, data)
			return
		}
		w := newWidgetBase()
		if err := p.applyTo(w); err != nil {
			checkInputError(t, err, data)
			return
		}
		if err := w.Validate(); err != nil {
			checkInputError(t, err, data)
			return
		}
		whole, err := json.Marshal(toWidgetBody(w))
		if err != nil {
			t.Fatalf("marshal an accepted widget: %v", err)
		}
		var again widgetPatch
		if err := json.Unmarshal(whole, &again); err != nil {
			t.Fatal(err)
		}
		w2 := newWidgetBase()
		if err := again.applyTo(w2); err != nil {
			t.Fatalf("the widget's own settings are refused: %v\n%s", err, whole)
		}
		second, _ := json.Marshal(toWidgetBody(w2))
		if !bytes.Equal(whole, second) {
			t.Fatalf("not a fixed point:\n%s\n%s", whole, second)
		}
	})
}

// FuzzListParams feeds the conversation list's query strings (view,
// assignee, channelId, the date range) to their parser: it never panics and
// refuses only with invalid.
func FuzzListParams(f *testing.F) {
	for _, seed := range []string{
		"view=mine&assignee=A-2", "view=filtered&channelId=1002", "assignee=none&view=unassigned",
		"latestMessageTimestampAfter=2026-01-01T00:00:00Z&latestMessageTimestampBefore=2025-01-01T00:00:00Z",
		"assignee=A-18446744073709551616", "view=%ff", "channelId=1000&channelId=1002", "a=%zz&&==",
	} {
		f.Add(seed)
	}
	u := &parley.User{ID: 1, Role: parley.RoleAgent}
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = query
		if _, err := parseListParams(r, u); err != nil {
			checkInputError(t, err, []byte(query))
		}
	})
}

// FuzzListBody feeds contact list bodies (POST/PATCH /lists) to the decoder
// and the check: it never panics, refuses with invalid, and a list it takes
// evaluates on any contact without panicking.
func FuzzListBody(f *testing.F) {
	for _, seed := range []string{
		`{"name":"VIP","match":"all","criteria":[{"property":"emailDomain","operator":"is","value":"corp.example"}]}`,
		`{"name":"x","match":"any","criteria":[{"property":"owner","operator":"is","value":"A-1"},{"property":"plan","operator":"isKnown"}]}`,
		`{"name":"x","criteria":[{"property":"","operator":"is"}]}`, `{"criteria":null}`, `{"match":7}`, `[]`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	contacts := []*parley.Contact{{}, {Email: "a@corp.example", OwnerID: 1, Properties: map[string]string{"plan": "pro"}}, {UnverifiedEmail: "b@corp.example"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := httptest.NewRequest("POST", "/api/v1/lists", bytes.NewReader(data))
		r.Header.Set("Content-Type", "application/json")
		var req listRequest
		if err := decodeJSON(httptest.NewRecorder(), r, &req); err != nil {
			checkInputError(t, err, data)
			return
		}
		l := &parley.ContactList{}
		req.apply(l)
		if err := l.Validate(); err != nil {
			checkInputError(t, err, data)
			return
		}
		for _, c := range contacts {
			l.Matches(c)
		}
	})
}

// FuzzQueryAllowed feeds raw query strings to the check every route runs
// before its handler: it never panics, refuses with invalid and a UTF-8
// message, and what it takes parses and holds only allowed names.
func FuzzQueryAllowed(f *testing.F) {
	for _, s := range []string{"", "limit=5", "limit=5&after=x", "x=1", "a=%zz", "limit=1;after=2", "%00=1", "inboxId=1&inboxId=2", strings.Repeat("a", 300) + "=1"} {
		f.Add(s)
	}
	allowed := []string{"after", "limit", "inboxId"}
	f.Fuzz(func(t *testing.T, raw string) {
		err := queryAllowed(raw, allowed)
		if err != nil {
			checkInputError(t, err, []byte(raw))
			return
		}
		q, perr := url.ParseQuery(raw)
		if perr != nil {
			t.Fatalf("took %q, which does not parse: %v", raw, perr)
		}
		for k := range q {
			if !slices.Contains(allowed, k) {
				t.Fatalf("took %q with parameter %q", raw, k)
			}
		}
	})
}

// FuzzCRMSearch feeds CRM search bodies through the decoder and the checks
// of a contact search: it never panics, and refuses with invalid and a
// UTF-8 message.
func FuzzCRMSearch(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"a@example.com"}]}]}`,
		`{"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"BETWEEN","value":"1","highValue":"2"}]}],"sorts":[{"propertyName":"createdate","direction":"DESCENDING"}],"limit":5,"after":"10"}`,
		`{"filtergroups":[]}`, `{"limit":0}`, `{"query":"ada","properties":["email"]}`, `[`, `{"filterGroups":[{"filters":[{"propertyName":"","operator":"IN","values":[]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/crm/v3/objects/contacts/search", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req crmSearchRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err == nil {
			_, err = checkSearch(contactKind, &req)
		}
		if err != nil {
			checkInputError(t, err, body)
		}
	})
}
