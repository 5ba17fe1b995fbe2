package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// The conversation list (I2–I5): the filters of Threads read a thread's row,
// the view counts are kept as counters, and search lives in search*.go.

// bucketThreadCounts holds the view counts: for each (inbox, channel,
// kind, assignee) the number of open, not archived threads, where kind is
// countFiltered, countBot or 0 (the main views). CountThreads sums an
// inbox's few keys instead of scanning its threads.
const bucketThreadCounts = "thread_counts" // inbox ‖ channel (2) ‖ kind (1) ‖ assignee → count (8)

// Kinds of a thread_counts key. Keys written before bots have 0 or
// countFiltered, which mean the same still.
const (
	countFiltered = 1 // spam or from a blocked sender: Filtered
	countBot      = 2 // owned by a bot, not filtered: Bots
)

// listBuckets lists the buckets of the conversation list: views, counts and search.
func listBuckets() []string { return append(searchBuckets(), bucketThreadCounts) }

// Row fields after the first 26 bytes (see type row): the assignee, the
// channel and whether the thread is filtered, so that the list's views and
// filters never decode a thread.
const (
	rowAssignee = 26 // 8 bytes: user id, 0 for unassigned
	rowChannel  = 34 // 2 bytes: ChannelChat, ChannelEmail
	rowFlags    = 36 // 1 byte: rowSpam | rowBlocked | rowBot | rowRoleSender | rowAutomatic
)

// Flags of a row. Rows written before bots have rowBot clear, which is
// right: their threads are the agents' (parley.OwnerAgent).
const (
	rowSpam       = 1
	rowBlocked    = 2
	rowBot        = 4  // Owner is parley.OwnerBot: the Bots view
	rowRoleSender = 8  // email from a role address (parley.IsRoleAddress)
	rowAutomatic  = 16 // started by automatic mail (parley.Thread.Automatic)

	rowFiltered = rowSpam | rowBlocked | rowRoleSender | rowAutomatic // parley.Thread.IsFiltered
)

func (r row) assignee() uint64 { return binary.BigEndian.Uint64(r[rowAssignee:]) }
func (r row) channel() int     { return int(binary.BigEndian.Uint16(r[rowChannel:])) }
func (r row) filtered() bool   { return r[rowFlags]&rowFiltered != 0 }
func (r row) bot() bool        { return r[rowFlags]&rowBot != 0 }

// putListRow writes the list's fields of t into r, a row of rowLen bytes.
func putListRow(r row, t *parley.Thread) {
	binary.BigEndian.PutUint64(r[rowAssignee:], t.AssigneeID)
	binary.BigEndian.PutUint16(r[rowChannel:], uint16(t.ChannelID))
	var flags byte
	if t.Spam {
		flags |= rowSpam
	}
	if t.Blocked {
		flags |= rowBlocked
	}
	if t.RoleSender {
		flags |= rowRoleSender
	}
	if t.Automatic {
		flags |= rowAutomatic
	}
	if t.Owner == parley.OwnerBot {
		flags |= rowBot
	}
	r[rowFlags] = flags
}

// ----- view counts -----

// countKey is a thread's key in thread_counts, or nil if it is not counted
// (closed or archived).
func countKey(r row) []byte {
	if r.status() != rowOpen || r.archived() {
		return nil
	}
	k := make([]byte, 19)
	binary.BigEndian.PutUint64(k, r.inbox())
	binary.BigEndian.PutUint16(k[8:], uint16(r.channel()))
	switch {
	case r.filtered():
		k[10] = countFiltered
	case r.bot():
		k[10] = countBot
	}
	binary.BigEndian.PutUint64(k[11:], r.assignee())
	return k
}

// countRow moves a thread in the view counts from its old row (nil if new)
// to its new row (nil if deleted). It is called wherever a thread's row is
// written or deleted.
func countRow(tx *bolt.Tx, r, old row) error {
	var k, oldK []byte
	if r != nil {
		k = countKey(r)
	}
	if old != nil {
		oldK = countKey(old)
	}
	if bytes.Equal(k, oldK) {
		return nil
	}
	counts := bucket(tx, bucketThreadCounts)
	add := func(k []byte, d int64) error {
		if k == nil {
			return nil
		}
		var n int64
		if v := counts.Get(k); len(v) == 8 {
			n = int64(btoi(v))
		}
		if n += d; n <= 0 {
			return counts.Delete(k)
		}
		return counts.Put(k, itob(uint64(n)))
	}
	if err := add(oldK, -1); err != nil {
		return err
	}
	return add(k, 1)
}

// countAll rebuilds the view counts from the threads' rows.
func countAll(tx *bolt.Tx) error {
	if tx.Bucket([]byte(bucketThreadCounts)) != nil {
		if err := tx.DeleteBucket([]byte(bucketThreadCounts)); err != nil {
			return err
		}
	}
	if _, err := tx.CreateBucket([]byte(bucketThreadCounts)); err != nil {
		return err
	}
	c := bucket(tx, bucketThreads).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := threadRow(btoi(k), v)
		if err != nil {
			return err
		}
		if err := countRow(tx, r, nil); err != nil {
			return err
		}
	}
	return nil
}

// CountThreads returns the view counts over the inboxes inboxIDs (nil means
// all inboxes, empty none), with Mine counting the threads assigned to user
// userID. It reads a few counters per inbox, whatever the number of threads.
func (db *DB) CountThreads(ctx context.Context, inboxIDs []uint64, userID uint64) (parley.ViewCounts, error) {
	var vc parley.ViewCounts
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketThreadCounts).Cursor()
		add := func(k, v []byte) error {
			if len(k) != 19 || len(v) != 8 {
				return fmt.Errorf("thread counts: bad entry %x → %x", k, v)
			}
			n := int(btoi(v))
			switch k[10] {
			case countFiltered:
				vc.Filtered += n
				return nil
			case countBot:
				vc.Bots += n
				return nil
			}
			vc.All += n
			switch a := btoi(k[11:]); {
			case a == 0:
				vc.Unassigned += n
			case a == userID:
				vc.Mine += n
			}
			switch int(binary.BigEndian.Uint16(k[8:])) {
			case parley.ChannelEmail:
				vc.Email += n
			case parley.ChannelChat:
				vc.Chat += n
			}
			return nil
		}
		if inboxIDs == nil {
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := add(k, v); err != nil {
					return err
				}
			}
			return nil
		}
		for _, id := range inboxIDs {
			prefix := itob(id)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if err := add(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return vc, err
}

// rowMatcher returns the test of a parley.ThreadFilter on rows, or EINVALID for a
// bad Status.
func rowMatcher(f *parley.ThreadFilter) (func(row) bool, error) {
	var status byte
	if f.Status != "" {
		if status = rowStatus(f.Status); status == 0 {
			return nil, parley.Errorf(parley.EINVALID, "unknown thread status %q", f.Status)
		}
	}
	archived := f.Archived != nil && *f.Archived
	after, before := timeKey(f.LatestAfter), timeKey(f.LatestBefore)
	return func(r row) bool {
		if status != 0 && r.status() != status ||
			f.ContactID != 0 && r.contact() != f.ContactID ||
			r.archived() != archived ||
			after != 0 && r.latest() <= after ||
			before != 0 && (r.latest() >= before || r.latest() == 0) ||
			f.AssigneeID != 0 && r.assignee() != f.AssigneeID ||
			f.Unassigned && r.assignee() != 0 ||
			f.ChannelID != 0 && r.channel() != f.ChannelID ||
			f.Filtered != nil && r.filtered() != *f.Filtered ||
			f.Bot != nil && r.bot() != *f.Bot {
			return false
		}
		if f.InboxIDs == nil {
			return true
		}
		for _, id := range f.InboxIDs {
			if r.inbox() == id {
				return true
			}
		}
		return false
	}, nil
}

// deleteThreadList removes thread t (as stored) from the view counts, the
// bots' idle index and the search index, in the transaction that deletes it
// (deleteThread).
func deleteThreadList(tx *bolt.Tx, t *parley.Thread) error {
	if err := countRow(tx, nil, newRow(t)); err != nil {
		return err
	}
	if err := indexBotIdle(tx, nil, t); err != nil {
		return err
	}
	return deleteThreadSearch(tx, t.ID)
}

// migrateListRows is the schema migration to version 3: it widens the rows
// of threads written before the list's views (26 bytes: inbox, contact,
// latest, status, archived) to rowLen, in threads and thread_latest, and
// counts the open threads for the views.
func migrateListRows(tx *bolt.Tx) error {
	const oldLen = 26
	threads, latest := bucket(tx, bucketThreads), bucket(tx, bucketThreadLatest)
	type entry struct {
		id   uint64
		r    row
		json []byte
	}
	var all []entry
	c := threads.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(v) < oldLen {
			return fmt.Errorf("thread %d: value of %d bytes has no row", btoi(k), len(v))
		}
		var t parley.Thread
		if err := json.Unmarshal(v[oldLen:], &t); err != nil {
			return fmt.Errorf("decode thread %d: %w", btoi(k), err)
		}
		all = append(all, entry{btoi(k), newRow(&t), bytes.Clone(v[oldLen:])})
	}
	for _, e := range all {
		if err := threads.Put(itob(e.id), append(e.r, e.json...)); err != nil {
			return err
		}
		if err := latest.Put(key2(e.r.latest(), e.id), e.r); err != nil {
			return err
		}
	}
	return countAll(tx)
}
