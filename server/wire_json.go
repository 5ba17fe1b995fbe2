package server

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// The message events are the most frequent frames: every message is one
// message.created and, for its sender, one message.ack. They are encoded
// here by hand, byte for byte as encoding/json encodes them
// (TestWireJSON compares the two), without reflection. Fields that are
// rare on chat messages (attachments, recipients, delivery, changes, quick
// replies) still go through encoding/json.

// appendJSON appends ev as JSON.
func (ev *evMessage) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, ev.Type)
	b = append(b, `,"message":`...)
	b = ev.Message.appendJSON(b)
	if ev.ClientID != "" {
		b = append(b, `,"clientId":`...)
		b = appendJSONString(b, ev.ClientID)
	}
	return append(b, '}')
}

// appendJSON appends w as JSON.
func (w *wireMessage) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, w.ID)
	b = append(b, `,"threadId":`...)
	b = appendJSONString(b, w.ThreadID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, w.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, w.Type)
	b = appendOptString(b, `,"text":`, w.Text)
	b = append(b, `,"direction":`...)
	b = appendJSONString(b, w.Direction)
	b = append(b, `,"senderActorId":`...)
	b = appendJSONString(b, w.SenderActorID)
	b = appendOptString(b, `,"senderName":`, w.SenderName)
	b = appendOptString(b, `,"senderAddress":`, w.SenderAddress)
	if w.HTML {
		b = append(b, `,"html":true`...)
	}
	if w.Delivery != nil {
		b = appendMarshal(b, `,"delivery":`, w.Delivery)
	}
	if len(w.Recipients) > 0 {
		b = appendMarshal(b, `,"recipients":`, w.Recipients)
	}
	b = appendOptString(b, `,"clientId":`, w.ClientID)
	b = appendOptString(b, `,"newStatus":`, w.NewStatus)
	b = appendOptString(b, `,"assignedTo":`, w.AssignedTo)
	b = appendOptString(b, `,"event":`, w.Event)
	b = append(b, `,"createdAt":`...)
	b = appendMsTime(b, time.Time(w.CreatedAt))
	if len(w.QuickReplies) > 0 {
		b = appendMarshal(b, `,"quickReplies":`, w.QuickReplies)
	}
	if len(w.Attachments) > 0 {
		b = appendMarshal(b, `,"attachments":`, w.Attachments)
	}
	if w.Changes != nil {
		b = appendMarshal(b, `,"changes":`, w.Changes)
	}
	return append(b, '}')
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendMarshal(b []byte, key string, v any) []byte {
	return append(append(b, key...), mustJSON(v)...)
}

// appendMsTime appends t as msTime's MarshalJSON writes it.
func appendMsTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does:
// <, > and & escaped for HTML, U+2028 and U+2029 escaped, and each byte of
// invalid UTF-8 written as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonMarshal is json.Marshal, but for the types encoded by hand above.
func jsonMarshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case evMessage:
		return v.appendJSON(make([]byte, 0, 256)), nil
	case *evMessage:
		return v.appendJSON(make([]byte, 0, 256)), nil
	}
	return json.Marshal(v)
}
