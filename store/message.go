package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// AppendOptions are the choices of AppendMessage.
type AppendOptions struct {
	// NewThread is used when the message's ThreadID is 0. For a chat thread
	// (ChannelChat), AppendMessage first looks for ChatThread(NewThread.
	// ContactID, NewThread.ChannelAccountID) and appends to it if found;
	// otherwise, and for other channels always, it creates a thread like
	// NewThread (as CreateThread does). All of that happens in the
	// transaction of the append. NewThread itself is not changed: the thread
	// is in AppendResult.Thread.
	NewThread *parley.Thread

	// Update, if set, is called inside the transaction on the thread before
	// the message is appended: to reopen a closed thread, say, or to refuse
	// the message with an error, which aborts with nothing written (not even
	// a new thread) and is returned as it is. It is not called for a
	// duplicate. It may not change the thread's ID or LastSeq (changes are
	// undone). It runs on the store's writer goroutine, maybe more than once
	// and maybe after AppendMessage has returned ctx.Err(); it must not call
	// the DB.
	Update func(t *parley.Thread) error
}

// AppendResult is what AppendMessage did.
type AppendResult struct {
	Message       *parley.Message // the message as stored
	Thread        *parley.Thread  // its thread as stored after the append
	Duplicate     bool            // Message is an earlier copy; nothing was written
	ThreadCreated bool            // Thread was created by this append
}

// AppendMessage appends m to its thread (m.ThreadID, or see
// AppendOptions.NewThread) in one transaction and returns once it is durable.
//
// It sets m.ID (unique across threads), m.Seq to the thread's LastSeq+1,
// m.CreatedAt if zero, and m.ChannelID and m.ChannelAccountID to the thread's
// if zero; on the thread it sets LastSeq, LatestMessageAt (unless m is older)
// and, for TypeMessage, Preview. AppendResult.Message is m.
//
// If m.ClientID is not empty and the thread already holds a message with the
// same sender (SenderID) and ClientID, nothing is written: the result holds
// that first copy (its ID and Seq) with Duplicate set, and m is not changed.
//
// It returns ENOTFOUND if the thread does not exist, EINVALID if m has no
// thread and opts no NewThread, and ctx.Err() if ctx ends first, in which
// case the message may still be appended.
func (db *DB) AppendMessage(ctx context.Context, m *parley.Message, opts AppendOptions) (AppendResult, error) {
	if m.ThreadID == 0 && opts.NewThread == nil {
		return AppendResult{}, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	// Copies the writer owns: neither type holds slices or pointers.
	in := *m
	var newThread parley.Thread
	if opts.NewThread != nil {
		newThread = *opts.NewThread
	}
	now := db.utcNow()

	var res AppendResult
	err := db.update(ctx, func(tx *bolt.Tx) (err error) {
		res, err = appendMessage(tx, in, newThread, opts.Update, now)
		return err
	})
	if err != nil {
		return AppendResult{}, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
	}
	return res, nil
}

func appendMessage(tx *bolt.Tx, m parley.Message, newThread parley.Thread, update func(*parley.Thread) error, now time.Time) (AppendResult, error) {
	var res AppendResult
	threads := threadTable()
	var t *parley.Thread
	var err error
	switch {
	case m.ThreadID != 0:
		t, err = threads.get(tx, m.ThreadID)
	case newThread.ChannelID == parley.ChannelChat:
		if id := chatThreadID(tx, newThread.ContactID, newThread.ChannelAccountID); id != 0 {
			t, err = threads.get(tx, id)
		}
	}
	if err != nil {
		return res, err
	}
	if t == nil {
		t = &newThread
		if err := threads.insert(tx, t, now); err != nil {
			return res, err
		}
		res.ThreadCreated = true
	}

	clientKey := messageClientKey(t.ID, m.SenderID, m.ClientID)
	if clientKey != nil && !res.ThreadCreated {
		if id := bucket(tx, bucketMessageClients).Get(clientKey); id != nil {
			first, err := getMessage(tx, btoi(id))
			if err != nil {
				return res, err
			}
			return AppendResult{Message: first, Thread: t, Duplicate: true}, nil
		}
	}

	old := *t
	if update != nil {
		if err := update(t); err != nil {
			return res, err
		}
		threads.fix(t, &old, now)
	}

	ids := appendBucket(bucket(tx, bucketMessageIDs))
	if m.ID, err = ids.NextSequence(); err != nil {
		return res, err
	}
	m.ThreadID = t.ID
	m.Seq = t.LastSeq + 1
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.ChannelID == 0 {
		m.ChannelID = t.ChannelID
	}
	if m.ChannelAccountID == 0 {
		m.ChannelAccountID = t.ChannelAccountID
	}
	msgs := bucket(tx, bucketMessages).Bucket(itob(t.ID))
	if msgs == nil {
		return res, fmt.Errorf("thread %d has no message bucket", t.ID)
	}
	if err := putJSON(appendBucket(msgs), itob(m.Seq), &m); err != nil {
		return res, err
	}
	if err := ids.Put(itob(m.ID), key2(t.ID, m.Seq)); err != nil {
		return res, err
	}
	if clientKey != nil {
		if err := bucket(tx, bucketMessageClients).Put(clientKey, itob(m.ID)); err != nil {
			return res, err
		}
	}

	t.LastSeq = m.Seq
	if m.CreatedAt.After(t.LatestMessageAt) {
		t.LatestMessageAt = m.CreatedAt
	}
	if m.Type == parley.TypeMessage {
		t.Preview = parley.Preview(m.Text)
	}
	if err := threads.put(tx, bucket(tx, bucketThreads), t, &old); err != nil {
		return res, err
	}
	res.Message, res.Thread = &m, t
	return res, nil
}

// messageClientKey is the key of the dedup index, (thread, sender, clientId),
// or nil when the message has no client id. The sender's length goes first so
// that no two (sender, clientId) pairs share a key.
func messageClientKey(threadID uint64, sender, clientID string) []byte {
	if clientID == "" {
		return nil
	}
	k := make([]byte, 8, 8+binary.MaxVarintLen64+len(sender)+len(clientID))
	binary.BigEndian.PutUint64(k, threadID)
	k = binary.AppendUvarint(k, uint64(len(sender)))
	k = append(k, sender...)
	return append(k, clientID...)
}

// getMessage returns message id through the id index, or ENOTFOUND.
func getMessage(tx *bolt.Tx, id uint64) (*parley.Message, error) {
	loc := bucket(tx, bucketMessageIDs).Get(itob(id))
	if loc == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message %d not found", id)
	}
	threadID, seq := btoi(loc), btoi(loc[8:])
	msgs := bucket(tx, bucketMessages).Bucket(loc[:8])
	m := new(parley.Message)
	if msgs == nil {
		return nil, fmt.Errorf("message %d: thread %d has no message bucket", id, threadID)
	} else if ok, err := getJSON(msgs, loc[8:], m); err != nil {
		return nil, fmt.Errorf("decode message %d: %w", id, err)
	} else if !ok {
		return nil, fmt.Errorf("message %d: index names seq %d of thread %d, which is missing", id, seq, threadID)
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
		b := bucket(tx, bucketMessages).Bucket(itob(threadID))
		if b == nil {
			return threadTable().notFound(threadID)
		}
		if afterSeq == math.MaxUint64 {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(itob(afterSeq + 1)); k != nil; k, v = c.Next() {
			if len(msgs) == limit {
				more = true
				break
			}
			m := new(parley.Message)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("decode message %d of thread %d: %w", btoi(k), threadID, err)
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
