package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// AppendMessage appends m to its thread (m.ThreadID, or see
// parley.AppendOptions.NewThread) in one transaction and returns once it is durable.
//
// It sets m.ID (unique across threads), m.Seq to the thread's LastSeq+1,
// m.CreatedAt if zero, and m.ChannelID and m.ChannelAccountID to the thread's
// if zero; on the thread it sets LastSeq, LatestMessageAt (unless m is older)
// and, for TypeMessage, Preview. parley.AppendResult.Message is m.
//
// If m.ClientID is not empty and the thread already holds a message with the
// same sender (SenderID) and ClientID, nothing is written: the result holds
// that first copy (its ID and Seq) with Duplicate set, and m is not changed.
//
// It returns ENOTFOUND if the thread does not exist, EINVALID if m has no
// thread and opts no NewThread, and ctx.Err() if ctx ends first, in which
// case the message may still be appended.
func (db *DB) AppendMessage(ctx context.Context, m *parley.Message, opts parley.AppendOptions) (parley.AppendResult, error) {
	if m.ThreadID == 0 && opts.NewThread == nil {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	// Copies the writer owns. Of what they point to (a thread's bot state,
	// a message's quick replies) the writer only reads.
	in := *m
	var newThread parley.Thread
	if opts.NewThread != nil {
		newThread = *opts.NewThread
	}
	now := db.utcNow()

	var res parley.AppendResult
	err := db.update(ctx, func(tx *bolt.Tx) (err error) {
		res, err = appendMessageLeaving(tx, in, newThread, opts.Leave, opts.Update, now)
		return err
	})
	if err != nil {
		return parley.AppendResult{}, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
	}
	return res, nil
}

func appendMessage(tx *bolt.Tx, m parley.Message, newThread parley.Thread, update func(*parley.Thread) error, now time.Time) (parley.AppendResult, error) {
	return appendMessageLeaving(tx, m, newThread, 0, update, now)
}

// appendMessageLeaving is appendMessage that starts a new chat thread when
// the contact's newest one is leave (parley.AppendOptions.Leave).
func appendMessageLeaving(tx *bolt.Tx, m parley.Message, newThread parley.Thread, leave uint64, update func(*parley.Thread) error, now time.Time) (parley.AppendResult, error) {
	var res parley.AppendResult
	threads := threadTable()
	var t *parley.Thread
	var err error
	switch {
	case m.ThreadID != 0:
		t, err = threads.get(tx, m.ThreadID)
	case newThread.ChannelID == parley.ChannelChat:
		if id := chatThreadID(tx, newThread.ContactID, newThread.ChannelAccountID); id != 0 && id != leave {
			t, err = threads.get(tx, id)
		}
	}
	if err != nil {
		return res, err
	}

	// A new thread gets its id now but is written once, below, with the
	// changes of its first message.
	if t == nil {
		t = &newThread
		if err := threads.assign(tx, t, now); err != nil {
			return res, err
		}
		res.ThreadCreated = true
	}
	msgs := messageBucket(tx)
	dedup := dedupKey(t.ID, m.SenderID, m.ClientID)
	var old *parley.Thread // the thread as stored, nil if new
	if !res.ThreadCreated {
		if dedup != nil {
			if seq := msgs.Get(dedup); seq != nil {
				first, err := threadMessage(msgs, t.ID, seq)
				if err != nil {
					return res, err
				}
				return parley.AppendResult{Message: first, Thread: t, Duplicate: true}, nil
			}
		}
		stored := *t
		old = &stored
	}

	if m.Type == parley.TypeAssignment {
		m.AssignedFromID = t.AssigneeID
	}
	if update != nil {
		before := *t
		if err := update(t); err != nil {
			return res, err
		}
		threads.fix(t, &before, now)
	}

	ids := appendBucket(bucket(tx, bucketMessageIDs))
	if m.ID, err = ids.NextSequence(); err != nil {
		return res, err
	}
	m.ThreadID = t.ID
	if m.Seq = t.LastSeq + 1; m.Seq >= maxSeq {
		return res, fmt.Errorf("thread %d is full (seq %d)", t.ID, m.Seq)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.ChannelID == 0 {
		m.ChannelID = t.ChannelID
	}
	if m.ChannelAccountID == 0 {
		m.ChannelAccountID = t.ChannelAccountID
	}
	if err := recordAttachments(tx, &m, t, now); err != nil {
		return res, err
	}

	t.LastSeq = m.Seq
	// Events (status changes, assignments, SYSTEM) do not move the
	// latest message time: as in HubSpot, only messages and notes do.
	if (m.Type == parley.TypeMessage || m.Type == parley.TypeComment) && m.CreatedAt.After(t.LatestMessageAt) {
		t.LatestMessageAt = m.CreatedAt
	}
	if m.Type == parley.TypeMessage {
		t.Preview = parley.MessagePreview(&m)
		switch {
		case m.Direction == parley.Incoming && m.CreatedAt.After(t.LatestReceivedAt):
			t.LatestReceivedAt = m.CreatedAt
		case m.Direction == parley.Outgoing && m.CreatedAt.After(t.LatestSentAt):
			t.LatestSentAt = m.CreatedAt
		}
	}
	if err := threads.put(tx, bucket(tx, bucketThreads), t, old); err != nil {
		return res, err
	}
	if err := threads.changed(tx, t, old, now); err != nil {
		return res, err
	}
	key := key2(t.ID, m.Seq)
	v, err := encodeMessage(&m)
	if err != nil {
		return res, err
	}
	if err := msgs.Put(key, v); err != nil {
		return res, err
	}
	if dedup != nil {
		if err := msgs.Put(dedup, key[8:]); err != nil {
			return res, err
		}
	}
	if err := ids.Put(itob(m.ID), key); err != nil {
		return res, err
	}
	if err := queueMessageWebhook(tx, &m, now); err != nil {
		return res, err
	}
	if err := queueChannelMessage(tx, &m, now); err != nil {
		return res, err
	}
	res.Message, res.Thread = &m, t
	return res, nil
}

// Bucket messages holds the messages of every thread and their dedup index,
// each thread's keys together, with its thread id (8 bytes, big-endian) in
// front:
//
//   - thread ‖ seq (8 bytes, big-endian) → Message;
//   - thread ‖ dedupPrefix ‖ uvarint(len(sender)) ‖ sender ‖ clientId → seq
//     (8 bytes), for messages with a ClientID.
//
// An append thus writes next to the thread's last message: the new message,
// and its dedup entry right after the thread's messages, most often on the
// same page. Seqs stay below maxSeq, so no seq starts with dedupPrefix and a
// thread's dedup entries sort after all its messages: walks over a thread's
// messages stop at the first key that is not thread ‖ seq.
const dedupPrefix = 0xFF

// maxSeq is the first seq that would start with dedupPrefix.
const maxSeq = dedupPrefix << 56

// messageBucket returns bucket messages for writing. It keeps bbolt's
// default FillPercent (0.5): a thread's messages are appended in the middle
// of the bucket, where full pages would split again at the next append.
func messageBucket(tx *bolt.Tx) *bolt.Bucket { return bucket(tx, bucketMessages) }

// messageSeq returns the seq of k, a key of bucket messages, if k is the
// key of a message of thread threadID.
func messageSeq(k []byte, threadID uint64) (uint64, bool) {
	if len(k) != 16 || btoi(k) != threadID || k[8] == dedupPrefix {
		return 0, false
	}
	return btoi(k[8:]), true
}

// dedupKey is the key of the dedup entry of a message of thread threadID
// from sender with clientID, or nil when there is no clientID. The sender's
// length goes first so that no two (sender, clientId) pairs share a key.
func dedupKey(threadID uint64, sender, clientID string) []byte {
	if clientID == "" {
		return nil
	}
	k := make([]byte, 9, 9+binary.MaxVarintLen64+len(sender)+len(clientID))
	binary.BigEndian.PutUint64(k, threadID)
	k[8] = dedupPrefix
	k = binary.AppendUvarint(k, uint64(len(sender)))
	k = append(k, sender...)
	return append(k, clientID...)
}

// threadMessage returns message seq (8 bytes) of thread threadID from msgs,
// bucket messages.
func threadMessage(msgs *bolt.Bucket, threadID uint64, seq []byte) (*parley.Message, error) {
	if len(seq) != 8 {
		return nil, fmt.Errorf("thread %d: bad seq %x", threadID, seq)
	}
	key := key2(threadID, btoi(seq))
	v := msgs.Get(key)
	if v == nil {
		return nil, fmt.Errorf("thread %d: message %d is missing", threadID, btoi(seq))
	}
	m, err := decodeMessage(key, v)
	if err != nil {
		return nil, fmt.Errorf("decode message %d of thread %d: %w", btoi(seq), threadID, err)
	}
	return m, nil
}

// getMessage returns message id through the id index, or ENOTFOUND.
func getMessage(tx *bolt.Tx, id uint64) (*parley.Message, error) {
	loc := bucket(tx, bucketMessageIDs).Get(itob(id))
	if loc == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message %d not found", id)
	}
	if len(loc) != 16 {
		return nil, fmt.Errorf("message %d: bad location %x", id, loc)
	}
	v := bucket(tx, bucketMessages).Get(loc)
	if v == nil {
		return nil, fmt.Errorf("message %d: index names seq %d of thread %d, which is missing", id, btoi(loc[8:]), btoi(loc))
	}
	m, err := decodeMessage(loc, v)
	if err != nil {
		return nil, fmt.Errorf("decode message %d: %w", id, err)
	}
	return m, nil
}

// Message returns message id, or ENOTFOUND.
func (db *DB) Message(ctx context.Context, id uint64) (m *parley.Message, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		m, err = getMessage(tx, id)
		return err
	})
	return m, err
}

// Messages returns up to limit messages of the thread with Seq after
// afterSeq, oldest first, and whether more follow. limit defaults to 100 and
// is at most 500. It returns ENOTFOUND if the thread does not exist.
func (db *DB) Messages(ctx context.Context, threadID, afterSeq uint64, limit int) ([]*parley.Message, bool, error) {
	limit = pageLimit(limit)
	msgs := []*parley.Message{}
	more := false
	err := db.view(func(tx *bolt.Tx) error {
		if bucket(tx, bucketThreads).Get(itob(threadID)) == nil {
			return threadTable().notFound(threadID)
		}
		if afterSeq >= maxSeq-1 {
			return nil // no seq follows
		}
		c := bucket(tx, bucketMessages).Cursor()
		for k, v := c.Seek(key2(threadID, afterSeq+1)); k != nil; k, v = c.Next() {
			seq, ok := messageSeq(k, threadID)
			if !ok {
				break // the thread's dedup index, or the next thread
			}
			if len(msgs) == limit {
				more = true
				break
			}
			m, err := decodeMessage(k, v)
			if err != nil {
				return fmt.Errorf("decode message %d of thread %d: %w", seq, threadID, err)
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return msgs, more, nil
}
