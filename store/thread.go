package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func threadTable() table[parley.Thread] {
	return table[parley.Thread]{
		name:   "thread",
		bucket: bucketThreads,
		id:     func(t *parley.Thread) *uint64 { return &t.ID },
		prepare: func(t, old *parley.Thread, now time.Time) {
			if t.Owner == parley.OwnerWaiting && t.AssigneeID != 0 {
				t.Owner = parley.OwnerAgent // an assignment ends the wait (B1)
			}
			if old != nil {
				t.LastSeq = old.LastSeq // AppendMessage's alone
				return
			}
			t.LastSeq = 0
			if t.Status == "" {
				t.Status = parley.StatusOpen
			}
			if t.CreatedAt.IsZero() {
				t.CreatedAt = now
			}
		},
		index:   indexThread,
		changed: queueThreadWebhooks, // webhook.go
		head:    func(t *parley.Thread) []byte { return newRow(t) },
		headLen: rowLen,
		memo:    &threadMemo,
		copyOf:  copyThread,
	}
}

// indexThread keeps the thread indexes right: the chat index, threads by
// contact and thread_latest. (The thread's row, which Threads scans by id, is
// the head of its value in threads: table.put writes it.)
func indexThread(tx *bolt.Tx, t, old *parley.Thread) error {
	if err := indexThreadContact(tx, t, old); err != nil { // threadcontact.go
		return err
	}
	if old == nil || old.ChannelID != t.ChannelID || old.ContactID != t.ContactID || old.ChannelAccountID != t.ChannelAccountID {
		chats := bucket(tx, bucketChatThreads)
		if old != nil && old.ChannelID == parley.ChannelChat {
			if err := chats.Delete(key3(old.ContactID, old.ChannelAccountID, old.ID)); err != nil {
				return err
			}
		}
		if t.ChannelID == parley.ChannelChat {
			if err := chats.Put(key3(t.ContactID, t.ChannelAccountID, t.ID), []byte{}); err != nil {
				return err
			}
		}
	}

	if err := indexBotIdle(tx, t, old); err != nil { // the bots' auto-close (bot.go)
		return err
	}
	r := newRow(t)
	var oldRow row
	if old != nil {
		if oldRow = newRow(old); bytes.Equal(r, oldRow) {
			return nil
		}
	}
	if err := countRow(tx, r, oldRow); err != nil { // the view counts (list.go)
		return err
	}
	latest := appendBucket(bucket(tx, bucketThreadLatest))
	if old != nil && timeKey(old.LatestMessageAt) != timeKey(t.LatestMessageAt) {
		if err := latest.Delete(key2(timeKey(old.LatestMessageAt), t.ID)); err != nil {
			return err
		}
	}
	return latest.Put(key2(timeKey(t.LatestMessageAt), t.ID), r)
}

// A row is what Threads needs to filter a thread without decoding it: 37
// bytes of inbox, contact, timeKey(LatestMessageAt), status and archived,
// then assignee, channel and the flags spam and blocked (list.go). It is the
// head of the thread's value in threads (row ‖ JSON) and the value of its
// key in thread_latest.
type row []byte

// threadRow returns the row at the head of v, thread id's value in threads.
func threadRow(id uint64, v []byte) (row, error) {
	if len(v) < rowLen {
		return nil, fmt.Errorf("thread %d: value of %d bytes has no row", id, len(v))
	}
	return row(v[:rowLen]), nil
}

const rowLen = 37

// Status bytes of a row.
const (
	rowOpen   = 1
	rowClosed = 2
)

func newRow(t *parley.Thread) row {
	r := make(row, rowLen)
	binary.BigEndian.PutUint64(r, t.InboxID)
	binary.BigEndian.PutUint64(r[8:], t.ContactID)
	binary.BigEndian.PutUint64(r[16:], timeKey(t.LatestMessageAt))
	r[24] = rowStatus(t.Status)
	if t.Archived {
		r[25] = 1
	}
	putListRow(r, t)
	return r
}

func rowStatus(s parley.ThreadStatus) byte {
	switch s {
	case parley.StatusOpen:
		return rowOpen
	case parley.StatusClosed:
		return rowClosed
	}
	return 0
}

func (r row) inbox() uint64   { return binary.BigEndian.Uint64(r) }
func (r row) contact() uint64 { return binary.BigEndian.Uint64(r[8:]) }
func (r row) latest() uint64  { return binary.BigEndian.Uint64(r[16:]) }
func (r row) status() byte    { return r[24] }
func (r row) archived() bool  { return r[25] != 0 }

// timeKey maps times to uint64s in the same order: 0 for the zero time (no
// message yet, sorted last in parley.SortByLatest), UnixNano with the sign bit
// flipped otherwise.
func timeKey(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) ^ 1<<63
}

// CreateThread stores a new thread and sets t.ID, t.CreatedAt if zero, and
// t.Status to OPEN if empty. LastSeq starts at 0 whatever t says.
func (db *DB) CreateThread(ctx context.Context, t *parley.Thread) error {
	return createRecord(ctx, db, threadTable(), t)
}

// Thread returns thread id, or ENOTFOUND.
func (db *DB) Thread(ctx context.Context, id uint64) (*parley.Thread, error) {
	return readRecord(db, threadTable(), id)
}

// UpdateThread changes thread id with fn in one transaction and returns the
// thread as written. An error from fn aborts with nothing written and is
// returned as it is; ENOTFOUND if the thread does not exist. fn may not change
// ID or LastSeq (changes are undone); LatestMessageAt and Preview are
// AppendMessage's to set but fn may correct them. fn runs on the store's writer
// goroutine, maybe more than once and maybe after UpdateThread has returned
// ctx.Err(); it must not call db.
func (db *DB) UpdateThread(ctx context.Context, id uint64, fn func(*parley.Thread) error) (*parley.Thread, error) {
	return updateRecord(ctx, db, threadTable(), id, fn)
}

// ChatThread returns the newest chat thread (ChannelChat) of the contact on
// the widget (its channel account), whatever its status, or ENOTFOUND.
func (db *DB) ChatThread(ctx context.Context, contactID, widgetID uint64) (t *parley.Thread, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		id := chatThreadID(tx, contactID, widgetID)
		if id == 0 {
			return parley.Errorf(parley.ENOTFOUND, "no chat thread of contact %d on widget %d", contactID, widgetID)
		}
		t, err = threadTable().get(tx, id)
		return err
	})
	return t, err
}

// chatThreadID returns the id of the newest chat thread of the contact on the
// widget, or 0: the last key with prefix (contact, widget).
func chatThreadID(tx *bolt.Tx, contactID, widgetID uint64) uint64 {
	c := bucket(tx, bucketChatThreads).Cursor()
	k, _ := c.Seek(key3(contactID, widgetID, math.MaxUint64))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, key2(contactID, widgetID)) {
		return 0
	}
	return btoi(k[16:])
}

// Threads returns a page of the threads that f selects, and whether more
// follow. Bad filter values (an unknown Sort or Status, an AfterID naming no
// thread with parley.SortByLatest) are EINVALID. Threads filters compact rows, not
// the threads themselves, and decodes only the threads it returns. With a
// ContactID it reads only that contact's threads (thread_contacts).
func (db *DB) Threads(ctx context.Context, f parley.ThreadFilter) (threads []*parley.Thread, more bool, err error) {
	limit := pageLimit(f.Limit)
	match, err := rowMatcher(&f)
	if err != nil {
		return nil, false, err
	}
	byID := f.Sort == "" || f.Sort == parley.SortByID || f.Sort == parley.SortByIDDesc
	switch {
	case !byID && f.Sort != parley.SortByLatest && f.Sort != parley.SortByLatestAsc:
		return nil, false, parley.Errorf(parley.EINVALID, "unknown sort %q", f.Sort)
	case f.Sort == parley.SortByIDDesc && f.ContactID == 0 && f.ThreadIDs == nil:
		return nil, false, parley.Errorf(parley.EINVALID, "sort -id lists one contact's or one ticket's threads only")
	case f.ThreadIDs != nil && !byID:
		return nil, false, parley.Errorf(parley.EINVALID, "one ticket's threads list by id only")
	}
	threads = []*parley.Thread{}
	if f.InboxIDs != nil && len(f.InboxIDs) == 0 {
		return threads, false, nil
	}
	after, before := timeKey(f.LatestAfter), timeKey(f.LatestBefore)

	ids := make([]uint64, 0, min(limit+1, 64))
	err = db.view(func(tx *bolt.Tx) error {
		if f.ThreadIDs != nil || f.ContactID != 0 && byID {
			cand := f.ThreadIDs
			if cand == nil {
				cand = contactThreadIDs(tx, f.ContactID, 0)
			}
			if err := scanIDs(tx, cand, f.Sort == parley.SortByIDDesc, f.AfterID, limit+1, match, &ids); err != nil {
				return err
			}
		} else if f.ContactID != 0 {
			if err := scanContact(tx, &f, limit+1, match, &ids); err != nil {
				return err
			}
		} else if f.Sort == parley.SortByLatest {
			if err := scanLatest(tx, f.AfterID, after, before, limit+1, match, &ids); err != nil {
				return err
			}
		} else if f.Sort == parley.SortByLatestAsc {
			if err := scanLatestAsc(tx, f.AfterID, after, before, limit+1, match, &ids); err != nil {
				return err
			}
		} else if f.AfterID < math.MaxUint64 {
			c := bucket(tx, bucketThreads).Cursor()
			for k, v := c.Seek(itob(f.AfterID + 1)); k != nil && len(ids) <= limit; k, v = c.Next() {
				r, err := threadRow(btoi(k), v)
				if err != nil {
					return err
				}
				if match(r) {
					ids = append(ids, btoi(k))
				}
			}
		}
		if len(ids) > limit {
			ids, more = ids[:limit], true
		}
		for _, id := range ids {
			t, err := threadTable().get(tx, id)
			if err != nil {
				return err
			}
			threads = append(threads, t)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return threads, more, nil
}

// scanIDs appends to ids up to n of the threads cand that exist and match,
// by id (descending if desc) after the cursor afterID.
func scanIDs(tx *bolt.Tx, cand []uint64, desc bool, afterID uint64, n int, match func(row) bool, ids *[]uint64) error {
	cand = slices.Clone(cand)
	slices.Sort(cand)
	if desc {
		slices.Reverse(cand)
	}
	threads := bucket(tx, bucketThreads)
	for _, id := range cand {
		if len(*ids) >= n {
			break
		}
		if afterID != 0 && (!desc && id <= afterID || desc && id >= afterID) {
			continue
		}
		v := threads.Get(itob(id))
		if v == nil {
			continue
		}
		r, err := threadRow(id, v)
		if err != nil {
			return err
		}
		if match(r) {
			*ids = append(*ids, id)
		}
	}
	return nil
}

// scanLatest appends to ids, newest first, up to n threads that match, from
// the thread after afterID on (from the newest if 0, or from the newest
// before the time key before), stopping at threads whose latest message is
// not after the time key after.
func scanLatest(tx *bolt.Tx, afterID, after, before uint64, n int, match func(row) bool, ids *[]uint64) error {
	c := bucket(tx, bucketThreadLatest).Cursor()
	var k, v []byte
	if afterID == 0 && before != 0 {
		// Keys before (before, 0) are the threads active before it.
		if k, _ = c.Seek(key2(before, 0)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	} else if afterID == 0 {
		k, v = c.Last()
	} else {
		tv := bucket(tx, bucketThreads).Get(itob(afterID))
		if tv == nil {
			return parley.Errorf(parley.EINVALID, "paging cursor: thread %d not found", afterID)
		}
		r, err := threadRow(afterID, tv)
		if err != nil {
			return err
		}
		// The cursor's own key, or what follows it, is the first key not
		// before the cursor; one step back is the next in descending order.
		if k, _ = c.Seek(key2(r.latest(), afterID)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	for ; k != nil && len(*ids) < n; k, v = c.Prev() {
		if after != 0 && btoi(k) <= after {
			break
		}
		if match(v) {
			*ids = append(*ids, btoi(k[8:]))
		}
	}
	return nil
}

// scanLatestAsc appends to ids, oldest activity first, up to n threads that
// match, from the thread after afterID on (from the first whose latest
// message is after the time key after, if 0), stopping at threads whose
// latest message is not before the time key before.
func scanLatestAsc(tx *bolt.Tx, afterID, after, before uint64, n int, match func(row) bool, ids *[]uint64) error {
	c := bucket(tx, bucketThreadLatest).Cursor()
	var k, v []byte
	switch {
	case afterID != 0:
		tv := bucket(tx, bucketThreads).Get(itob(afterID))
		if tv == nil {
			return parley.Errorf(parley.EINVALID, "paging cursor: thread %d not found", afterID)
		}
		r, err := threadRow(afterID, tv)
		if err != nil {
			return err
		}
		from := key2(r.latest(), afterID)
		if k, v = c.Seek(from); k != nil && bytes.Equal(k, from) {
			k, v = c.Next()
		}
	case after != 0:
		k, v = c.Seek(key2(after+1, 0))
	default:
		k, v = c.First()
	}
	for ; k != nil && len(*ids) < n; k, v = c.Next() {
		if after != 0 && btoi(k) <= after {
			continue // a cursor from before the bound
		}
		if before != 0 && btoi(k) >= before {
			break
		}
		if match(v) {
			*ids = append(*ids, btoi(k[8:]))
		}
	}
	return nil
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return parley.DefaultLimit
	case n > parley.MaxLimit:
		return parley.MaxLimit
	}
	return n
}
