package server

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
)

func TestDecodeFrame(t *testing.T) {
	allowed := []string{"hello", "message.send", "typing"}
	for _, tc := range []struct {
		name, in string
		wantType string
		wantErr  string
	}{
		{"hello", `{"type":"hello","visitorToken":"pv_x","lastSeq":3}`, "hello", ""},
		{"send", `{"type":"message.send","clientId":"a","text":"hi"}`, "message.send", ""},
		{"unknown fields ignored", `{"type":"typing","future":true}`, "typing", ""},
		{"resume", `{"type":"hello","resume":[{"threadId":"1","lastSeq":2}]}`, "hello", ""},
		{"empty", ``, "", "not a JSON object"},
		{"null", `null`, "", "no type"},
		{"string", `"hello"`, "", "not a JSON object"},
		{"array", `[{"type":"hello"}]`, "", "not a JSON object"},
		{"truncated", `{"type":"hel`, "", "not a JSON object"},
		{"no type", `{}`, "", "no type"},
		{"unknown type", `{"type":"admin.delete"}`, "", `unknown event type "admin.delete"`},
		{"long unknown type is cut", `{"type":"` + strings.Repeat("x", 100) + `"}`, "", "…"},
		{"wrong type for text", `{"type":"message.send","text":{}}`, "", `"text" must be string`},
		{"negative seq", `{"type":"hello","lastSeq":-1}`, "", `"lastSeq" must be uint64`},
		{"invalid utf8", "{\"type\":\"hello\",\"pageUrl\":\"\xc3\x28\"}", "", "not valid UTF-8"},
		{"too many resumes", `{"type":"hello","resume":[` + strings.TrimSuffix(strings.Repeat(`{"threadId":"1"},`, 101), ",") + `]}`, "", "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decodeFrame([]byte(tc.in), allowed...)
			if tc.wantErr != "" {
				if err == nil || parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tc.wantErr) {
					t.Fatalf("err=%v, want EINVALID containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != tc.wantType {
				t.Fatalf("type=%q, want %q", f.Type, tc.wantType)
			}
		})
	}
}

// FuzzDecodeFrame: the decoder never panics, accepts only allowed types, and
// every error it returns is EINVALID with a valid UTF-8 message.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"hello","visitorToken":"pv_abc","lastSeq":12,"pageUrl":"https://a.example/x?y=1#hs-chat-open","lang":"de"}`,
		`{"type":"hello","resume":[{"threadId":"42","lastSeq":7},{"threadId":"x"}]}`,
		`{"type":"message.send","clientId":"c-1","text":"Hallo 👋 <b>x</b>","messageType":"COMMENT","threadId":"9"}`,
		`{"type":"typing","threadId":"18446744073709551615"}`,
		`{"type":"typing","threadId":18446744073709551616}`,
		`{"type":"message.send","text":"\u0000\ud800"}`,
		`[{"type":"hello"}]`, `{"type":null}`, `{"type":"hello","lastSeq":1e400}`, "\xff\xfe", ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	allowed := []string{"hello", "message.send", "typing"}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data, allowed...)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("code=%s for %q", parley.ErrorCode(err), data)
			}
			if !utf8.ValidString(parley.ErrorMessage(err)) {
				t.Fatalf("error message is not UTF-8: %q", parley.ErrorMessage(err))
			}
			return
		}
		switch fr.Type {
		case "hello", "message.send", "typing":
		default:
			t.Fatalf("decoded disallowed type %q", fr.Type)
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
	})
}
