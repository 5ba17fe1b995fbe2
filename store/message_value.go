package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// The stored form of a message (bucket messages, schema version 13 on): a
// binary record of the fields every message has, then the JSON of the rest.
// JSON throughout cost a message about 180 bytes besides its text (field
// names, quoted types, a time as text); this form costs about 25.
//
//	messageFormat (1 byte)
//	uvarint id
//	word type, word senderId, word direction
//	varint channelId, uvarint channelAccountId
//	varint createdAt's Unix seconds, uvarint its nanoseconds, varint its zone offset in seconds
//	uvarint len(text), text
//	the JSON of the other fields (richText, clientId, attachments, …), absent when all are empty
//
// The thread and seq are the key's. A word is uvarint(i) for the i-th entry
// of messageWords, or uvarint(len(s)+messageWordsMax) followed by s. The
// JSON tail takes every field this list does not, so that a field added to
// parley.Message is stored without a change here.
const messageFormat = 0x01

// messageWords are the strings most messages repeat. Entries are never
// reordered or removed: files hold their indexes. New ones go at the end,
// up to messageWordsMax.
var messageWords = [...]string{
	"",
	string(parley.TypeMessage), string(parley.TypeComment), string(parley.TypeStatusChange),
	string(parley.TypeAssignment), string(parley.TypeSystem),
	string(parley.Incoming), string(parley.Outgoing),
}

const messageWordsMax = 16

func appendWord(b []byte, s string) []byte {
	for i, w := range messageWords {
		if w == s {
			return binary.AppendUvarint(b, uint64(i))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s)+messageWordsMax))
	return append(b, s...)
}

// encodeMessage returns the stored form of m.
func encodeMessage(m *parley.Message) ([]byte, error) {
	var tail []byte
	if rest := messageRest(m); !reflect.ValueOf(rest).IsZero() {
		var err error
		if tail, err = json.Marshal(&rest); err != nil {
			return nil, err
		}
		// Drop the record's fields, which the tail has as zeros.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(tail, &fields); err != nil {
			return nil, err
		}
		for _, name := range recordFields {
			delete(fields, name)
		}
		tail = nil
		if len(fields) > 0 {
			if tail, err = json.Marshal(fields); err != nil {
				return nil, err
			}
		}
	}
	_, offset := m.CreatedAt.Zone()
	b := make([]byte, 0, 48+len(m.Text)+len(m.SenderID)+len(tail))
	b = append(b, messageFormat)
	b = binary.AppendUvarint(b, m.ID)
	b = appendWord(b, string(m.Type))
	b = appendWord(b, m.SenderID)
	b = appendWord(b, string(m.Direction))
	b = binary.AppendVarint(b, int64(m.ChannelID))
	b = binary.AppendUvarint(b, m.ChannelAccountID)
	b = binary.AppendVarint(b, m.CreatedAt.Unix())
	b = binary.AppendUvarint(b, uint64(m.CreatedAt.Nanosecond()))
	b = binary.AppendVarint(b, int64(offset))
	b = binary.AppendUvarint(b, uint64(len(m.Text)))
	b = append(b, m.Text...)
	return append(b, tail...), nil
}

// recordFields are the JSON names of the fields in the binary record or the
// key.
var recordFields = []string{"id", "threadId", "seq", "type", "senderId", "direction", "channelId", "channelAccountId", "createdAt", "text"}

// messageRest returns m without the fields of the binary record and the key.
func messageRest(m *parley.Message) parley.Message {
	rest := *m
	rest.ID, rest.ThreadID, rest.Seq = 0, 0, 0
	rest.Type, rest.SenderID, rest.Direction, rest.Text = "", "", "", ""
	rest.ChannelID, rest.ChannelAccountID, rest.CreatedAt = 0, 0, time.Time{}
	return rest
}

// messageReader reads the binary record, remembering its first error.
type messageReader struct {
	b   []byte
	err error
}

func (r *messageReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("bad %s", what)
	}
}

func (r *messageReader) uvarint(what string) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *messageReader) varint(what string) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *messageReader) bytes(n uint64, what string) string {
	if n > uint64(len(r.b)) {
		r.fail(what)
		r.b = nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *messageReader) word(what string) string {
	i := r.uvarint(what)
	switch {
	case i < uint64(len(messageWords)):
		return messageWords[i]
	case i < messageWordsMax:
		r.fail(what)
		return ""
	}
	return r.bytes(i-messageWordsMax, what)
}

// decodeMessage decodes message v stored at key (thread ‖ seq) of bucket
// messages. It reads JSON too, the form of schema versions up to 12, for
// migrateMessages.
func decodeMessage(key, v []byte) (*parley.Message, error) {
	m := new(parley.Message)
	if len(v) > 0 && v[0] == '{' {
		return m, json.Unmarshal(v, m)
	}
	if len(key) != 16 {
		return nil, fmt.Errorf("bad message key %x", key)
	}
	if len(v) == 0 || v[0] != messageFormat {
		return nil, errors.New("unknown message format")
	}
	r := &messageReader{b: v[1:]}
	id := r.uvarint("id")
	typ, sender, dir := r.word("type"), r.word("senderId"), r.word("direction")
	channel, account := r.varint("channelId"), r.uvarint("channelAccountId")
	sec, nsec, offset := r.varint("createdAt"), r.uvarint("createdAt"), r.varint("createdAt")
	text := r.bytes(r.uvarint("text"), "text")
	if r.err != nil {
		return nil, r.err
	}
	if nsec >= 1e9 {
		return nil, errors.New("bad createdAt")
	}
	if len(r.b) > 0 {
		if err := json.Unmarshal(r.b, m); err != nil {
			return nil, err
		}
	}
	m.ID, m.ThreadID, m.Seq = id, btoi(key), btoi(key[8:])
	m.Type, m.SenderID, m.Direction = parley.MessageType(typ), sender, parley.Direction(dir)
	m.ChannelID, m.ChannelAccountID, m.Text = int(channel), account, text
	m.CreatedAt = time.Unix(sec, int64(nsec)).UTC()
	if offset != 0 {
		m.CreatedAt = m.CreatedAt.In(time.FixedZone("", int(offset)))
	}
	return m, nil
}

// messageID returns the id of message v, stored at key in bucket messages,
// without decoding the rest.
func messageID(key, v []byte) (uint64, error) {
	if len(v) > 0 && v[0] == '{' {
		var m struct {
			ID uint64 `json:"id"`
		}
		return m.ID, json.Unmarshal(v, &m)
	}
	if len(v) == 0 || v[0] != messageFormat {
		return 0, fmt.Errorf("message %x: unknown format", key)
	}
	id, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, fmt.Errorf("message %x: bad id", key)
	}
	return id, nil
}

// migrateMessages rewrites every message from JSON to its binary form
// (schema version 13). It drops the bucket and writes it afresh, in key
// order, filling its pages: values shrunk in place would leave their pages
// as sparse as they were.
func migrateMessages(tx *bolt.Tx) error {
	old := bucket(tx, bucketMessages)
	type kv struct{ k, v []byte }
	var all []kv
	c := old.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		k, v = bytes.Clone(k), bytes.Clone(v) // the old pages go with the bucket
		if len(k) == 16 && k[8] != dedupPrefix {
			m, err := decodeMessage(k, v)
			if err != nil {
				return fmt.Errorf("message %d of thread %d: %w", btoi(k[8:]), btoi(k), err)
			}
			if v, err = encodeMessage(m); err != nil {
				return err
			}
		}
		all = append(all, kv{k, v})
	}
	seq := old.Sequence()
	if err := tx.DeleteBucket([]byte(bucketMessages)); err != nil {
		return err
	}
	fresh, err := tx.CreateBucket([]byte(bucketMessages))
	if err != nil {
		return err
	}
	fresh.FillPercent = 1.0
	for _, e := range all {
		if err := fresh.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return fresh.SetSequence(seq)
}
