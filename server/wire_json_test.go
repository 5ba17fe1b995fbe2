package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// wireSamples are message events with every field empty, set, or set to
// text that JSON must escape.
func wireSamples() []evMessage {
	hostile := "a\"b\\c<d>e&f\u2028g\u2029h\x00\x1f\b\f\n\r\t\x7f é 😀 \xff\xfe end"
	changes := []parley.Change{{Field: "assignee", From: "<a>", To: "b&c"}}
	full := wireMessage{
		ID: "12", ThreadID: "34", Seq: 1<<64 - 1, Type: "MESSAGE", Text: hostile, Direction: "INCOMING",
		SenderActorID: "V-1", SenderName: hostile, SenderAddress: "x@example.com", HTML: true,
		Delivery:   &wireDelivery{Status: "FAILED", Error: hostile},
		Recipients: []parley.Recipient{{Field: "TO", Name: hostile, Email: "a@example.com"}},
		ClientID:   hostile, NewStatus: "CLOSED", AssignedTo: "A-2", Event: "ASSIGNED",
		CreatedAt:    msTime(time.Date(2026, 12, 8, 1, 2, 3, 456789000, time.FixedZone("x", 3600))),
		QuickReplies: []string{"yes", hostile},
		Attachments:  []wireAttachment{{ID: "1", Name: hostile, Type: "image/png", Size: 5, Inline: true, Width: 2, Height: 3, URL: "/f?a=1&b=2"}},
		Changes:      &changes,
	}
	return []evMessage{
		{},
		{Type: "message.created", Message: wireMessage{ID: "1", ThreadID: "2", Seq: 3, Type: "MESSAGE", Text: "hello", Direction: "INCOMING", SenderActorID: "V-9", CreatedAt: msTime(time.Unix(0, 0))}},
		{Type: "message.ack", ClientID: "c-1", Message: full},
		{Type: hostile, ClientID: hostile, Message: wireMessage{Changes: &[]parley.Change{}, Recipients: []parley.Recipient{}, QuickReplies: []string{}}},
	}
}

// TestWireJSON: message events encoded by hand are byte for byte what
// encoding/json writes, and mustJSON uses the hand encoding.
func TestWireJSON(t *testing.T) {
	for i, ev := range wireSamples() {
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("sample %d:\n got %s\nwant %s", i, got, want)
		}
		if got := mustJSON(ev); !bytes.Equal(got, want) {
			t.Errorf("sample %d, mustJSON:\n got %s\nwant %s", i, got, want)
		}
		if got := mustJSON(&ev); !bytes.Equal(got, want) {
			t.Errorf("sample %d, mustJSON of a pointer:\n got %s\nwant %s", i, got, want)
		}
	}
	if got, want := mustJSON(msTime(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))), `"2026-01-02T03:04:05.006Z"`; string(got) != want {
		t.Errorf("msTime: %s, want %s", got, want)
	}
}

// FuzzWireJSON: any text in any string field encodes as encoding/json
// encodes it.
func FuzzWireJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "<script>&amp;</script>", "\u2028\u2029", "\xff\xfe\xfd", "\x00\x01\x1f\"\\", "é😀\xed\xa0\x80"} {
		f.Add(s, s, int64(0))
	}
	f.Fuzz(func(t *testing.T, text, name string, ns int64) {
		ev := evMessage{Type: "message.ack", ClientID: name, Message: wireMessage{ID: text, Text: text, SenderName: name,
			Event: text, CreatedAt: msTime(time.Unix(0, ns))}}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}
