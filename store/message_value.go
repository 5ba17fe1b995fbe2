package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
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
//
// messageFormat is never '{', with which the JSON of versions up to 12
// starts: readers tell the two forms apart by the first byte, so a file
// whose conversion is under way reads as well as one it is done with.
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
	if rest := messageTail(m); !rest.IsZero() {
		var err error
		if tail, err = json.Marshal(rest.Addr().Interface()); err != nil {
			return nil, err
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

// tailType is parley.Message without the fields of recordFields: a struct
// of the other fields with their JSON tags, made once, so that the JSON
// tail is one Marshal of a struct (a map of the fields, made and
// marshalled for every message, cost more than the JSON it replaced).
// tailFrom[i] is the index in parley.Message of tailType's field i.
var tailType, tailFrom = func() (reflect.Type, []int) {
	mt := reflect.TypeFor[parley.Message]()
	var fields []reflect.StructField
	var from []int
	for i := range mt.NumField() {
		f := mt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("store: parley.Message.%s has no JSON name; the message tail needs one", f.Name))
		}
		if slices.Contains(recordFields, name) {
			continue
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
		from = append(from, i)
	}
	return reflect.StructOf(fields), from
}()

// messageTail returns the fields of m that the binary record and the key
// do not hold, as a tailType.
func messageTail(m *parley.Message) reflect.Value {
	src := reflect.ValueOf(m).Elem()
	t := reflect.New(tailType).Elem()
	for i, j := range tailFrom {
		t.Field(i).Set(src.Field(j))
	}
	return t
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
// messages. It reads JSON too, the form of schema versions up to 12, which
// a file keeps until convertMessages is done with it.
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

// keyMessagesFrom, in bucket meta, marks a conversion of messages to their
// binary form as pending: its value is the key of bucket messages from which
// values may still be JSON. Migration 13 puts it; convertMessages moves it a
// chunk at a time and deletes it when the last chunk is done, so that later
// opens only look it up.
var keyMessagesFrom = []byte("messagesFrom")

// messagesFromStart is the value of keyMessagesFrom before the first chunk:
// every key of bucket messages sorts at or after it.
var messagesFromStart = []byte{0}

// migrateMessages (schema version 13) records that the messages are to be
// converted from JSON to their binary form. It converts none itself: the
// migrations share one transaction, and bbolt keeps every page a transaction
// dirties in memory until it commits, so rewriting a large file's messages
// there took memory in proportion to the file (683 MiB of heap for a million
// messages). convertMessages does it after the migrations, in chunks.
func migrateMessages(tx *bolt.Tx) error {
	if k, _ := bucket(tx, bucketMessages).Cursor().First(); k == nil {
		return nil // a new file: nothing to convert
	}
	meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return err
	}
	return meta.Put(keyMessagesFrom, messagesFromStart)
}

// convertSize bounds one chunk of convertMessages: at most keys keys of
// bucket messages looked at, and JSON values of about bytes bytes at most
// converted (one more if a single value is larger).
type convertSize struct{ keys, bytes int }

var defaultConvertSize = convertSize{keys: 5000, bytes: 4 << 20}

// convertMessages rewrites the messages that a file of schema version 12 or
// older stored as JSON in their binary form, in place, a chunk per committed
// transaction, so that its memory does not grow with the file. Each chunk
// moves keyMessagesFrom in the same transaction: a crash leaves a file that
// opens and resumes after the last committed chunk. Dedup entries and every
// value not in JSON stay as they are. observe, when set, hears after each
// chunk how many messages this call has converted, and done after the last.
// afterChunk, when set, hears the number of chunks committed after each one
// that leaves work; its error stops the conversion (tests stop it midway so).
func convertMessages(bdb *bolt.DB, size convertSize, observe func(converted int, done bool), afterChunk func(chunks int) error) error {
	pending := false
	err := bdb.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		pending = meta != nil && meta.Get(keyMessagesFrom) != nil
		return nil
	})
	if err != nil || !pending {
		return err
	}
	if size.keys <= 0 {
		size.keys = defaultConvertSize.keys
	}
	if size.bytes <= 0 {
		size.bytes = defaultConvertSize.bytes
	}
	converted := 0
	for chunks := 1; ; chunks++ {
		done, n := false, 0
		err := bdb.Update(func(tx *bolt.Tx) (err error) {
			done, n, err = convertChunk(tx, size)
			return err
		})
		if err != nil {
			return fmt.Errorf("convert messages to their binary form: %w", err)
		}
		converted += n
		if observe != nil {
			observe(converted, done)
		}
		if done {
			return nil
		}
		if afterChunk != nil {
			if err := afterChunk(chunks); err != nil {
				return err
			}
		}
	}
}

// convertChunk converts the JSON messages among the next size.keys keys of
// bucket messages from keyMessagesFrom and moves it on, or deletes it at the
// bucket's end, reporting done then. It returns how many it converted.
func convertChunk(tx *bolt.Tx, size convertSize) (done bool, converted int, err error) {
	meta := bucket(tx, bucketMeta)
	from := meta.Get(keyMessagesFrom)
	if from == nil {
		return true, 0, nil
	}
	msgs := bucket(tx, bucketMessages)
	type kv struct{ k, v []byte }
	var todo []kv
	c := msgs.Cursor()
	k, v := c.Seek(from)
	for keys, n := 0, 0; k != nil && keys < size.keys && n < size.bytes; k, v = c.Next() {
		keys++
		if len(k) != 16 || k[8] == dedupPrefix || len(v) == 0 || v[0] != '{' {
			continue // a dedup entry, or converted already
		}
		m, err := decodeMessage(k, v)
		if err != nil {
			return false, 0, fmt.Errorf("message %d of thread %d: %w", btoi(k[8:]), btoi(k), err)
		}
		data, err := encodeMessage(m)
		if err != nil {
			return false, 0, fmt.Errorf("message %d of thread %d: %w", btoi(k[8:]), btoi(k), err)
		}
		todo = append(todo, kv{bytes.Clone(k), data})
		n += len(v)
	}
	next := bytes.Clone(k) // nil at the end
	// Written after the walk: a cursor is not to be trusted across a Put.
	for _, e := range todo {
		if err := msgs.Put(e.k, e.v); err != nil {
			return false, 0, err
		}
	}
	if next == nil {
		return true, len(todo), meta.Delete(keyMessagesFrom)
	}
	return false, len(todo), meta.Put(keyMessagesFrom, next)
}
