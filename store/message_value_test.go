package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

// TestMessageValue stores messages in the binary form and reads them back
// as they went in, as JSON did: bare ones, ones with every field set (by
// reflection, so that a field added to parley.Message is covered), and
// times in other zones.
func TestMessageValue(t *testing.T) {
	full := parley.Message{}
	fillFields(t, reflect.ValueOf(&full).Elem(), 1)
	berlin := time.FixedZone("", 3600)
	for _, tc := range []struct {
		name string
		m    parley.Message
	}{
		{"bare", parley.Message{ID: 7, ThreadID: 3, Seq: 2, Type: parley.TypeMessage, Text: "hello", SenderID: "A-1",
			Direction: parley.Outgoing, ChannelID: 1, ChannelAccountID: 1, CreatedAt: time.Date(2026, 12, 7, 23, 0, 0, 123456789, time.UTC)}},
		{"every field", full},
		{"unknown words", parley.Message{ID: 1 << 40, ThreadID: 1, Seq: 1, Type: "FUTURE_TYPE", Direction: "SIDEWAYS", SenderID: "V-123456789",
			ChannelID: -2, CreatedAt: time.Date(1950, 1, 1, 0, 0, 0, 0, berlin)}},
		{"event", parley.Message{ID: 9, ThreadID: 2, Seq: 5, Type: parley.TypeStatusChange, NewStatus: parley.StatusClosed, SenderID: "A-2",
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{"empty slices", parley.Message{ID: 1, ThreadID: 1, Seq: 1, Attachments: []parley.Attachment{}, CreatedAt: time.Unix(0, 0).UTC()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := encodeMessage(&tc.m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeMessage(key2(tc.m.ThreadID, tc.m.Seq), v)
			if err != nil {
				t.Fatal(err)
			}
			// What JSON made of it: the form the store kept before.
			data, err := json.Marshal(&tc.m)
			if err != nil {
				t.Fatal(err)
			}
			want, err := decodeMessage(key2(tc.m.ThreadID, tc.m.Seq), data)
			if err != nil {
				t.Fatal(err)
			}
			if !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("createdAt=%v, want %v", got.CreatedAt, want.CreatedAt)
			}
			if _, off := got.CreatedAt.Zone(); off != func() int { _, o := tc.m.CreatedAt.Zone(); return o }() {
				t.Errorf("createdAt zone offset=%d, want that of %v", off, tc.m.CreatedAt)
			}
			got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
			if id, err := messageID(key2(tc.m.ThreadID, tc.m.Seq), v); err != nil || id != tc.m.ID {
				t.Errorf("messageID=%d, %v; want %d", id, err, tc.m.ID)
			}
			if tc.name == "bare" && len(v) > 24+len(tc.m.Text) {
				t.Errorf("a bare message takes %d bytes besides its text, want at most 24", len(v)-len(tc.m.Text))
			}
		})
	}
	for _, bad := range [][]byte{nil, {}, {0x02}, {messageFormat}, {messageFormat, 1, 15}, {messageFormat, 1, 1, 1, 1, 2, 1, 2, 0, 0, 50, 'x'}} {
		if _, err := decodeMessage(key2(1, 1), bad); err == nil {
			t.Errorf("decodeMessage(%x): no error", bad)
		}
	}
}

// fillFields sets every settable field of v, recursively, to a value that is
// not zero.
func fillFields(t *testing.T, v reflect.Value, n int) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+n%26)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint8:
		v.SetUint(uint64(n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 2, 3, 4, 5, 6, n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillFields(t, v.Field(i), n+i+1)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillFields(t, s.Index(0), n+1)
		fillFields(t, s.Index(1), n+2)
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillFields(t, p.Elem(), n+1)
		v.Set(p)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillFields(t, k, n+1)
		fillFields(t, e, n+2)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		t.Fatalf("fillFields: %s of kind %s", v.Type(), v.Kind())
	}
}

// FuzzMessageValue reads back what it stores, whatever the strings and
// numbers, and decodes any bytes (a damaged file) without panicking.
//
//	go test -fuzz FuzzMessageValue -fuzztime 30s ./store/
func FuzzMessageValue(f *testing.F) {
	f.Add(uint64(1), "MESSAGE", "V-1", "INCOMING", 1, uint64(1), int64(1700000000), 5, 0, "hello", "", []byte{messageFormat, 1, 1, 17, 'x', 6, 2, 2, 0, 0, 0, 0})
	f.Add(uint64(1<<60), "ODD", "", "", -3, uint64(0), int64(-1), 999999999, -3600, "{\"id\":1}", "cid", []byte("{\"id\":2}"))
	f.Fuzz(func(t *testing.T, id uint64, typ, sender, dir string, channel int, account uint64, sec int64, nsec, offset int, text, clientID string, raw []byte) {
		decodeMessage(key2(1, 1), raw) // must not panic
		messageID(key2(1, 1), raw)
		if nsec < 0 || nsec >= 1e9 || offset <= -24*3600 || offset >= 24*3600 || sec < -1e11 || sec > 1e11 {
			return
		}
		m := parley.Message{ID: id, ThreadID: 9, Seq: 4, Type: parley.MessageType(typ), SenderID: sender, Direction: parley.Direction(dir),
			ChannelID: channel, ChannelAccountID: account, Text: text, ClientID: clientID,
			CreatedAt: time.Unix(sec, int64(nsec)).In(time.FixedZone("", offset))}
		v, err := encodeMessage(&m)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		got, err := decodeMessage(key2(9, 4), v)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !got.CreatedAt.Equal(m.CreatedAt) {
			t.Fatalf("createdAt=%v, want %v", got.CreatedAt, m.CreatedAt)
		}
		got.CreatedAt, m.CreatedAt = time.Time{}, time.Time{}
		if clientID != "" && !utf8.ValidString(clientID) {
			got.ClientID, m.ClientID = "", "" // JSON replaces invalid bytes, as it always did
		}
		if !reflect.DeepEqual(*got, m) {
			t.Fatalf("decoded %+v, want %+v", *got, m)
		}
	})
}
