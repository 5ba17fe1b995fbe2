package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// bucketAudit holds the audit log: id from the bucket's sequence →
// parley.AuditEntry. It is only ever appended to: neither retention nor a
// contact's erasure touches it.
const bucketAudit = "audit"

// migrateAudit creates the bucket of the audit log.
func migrateAudit(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists([]byte(bucketAudit)); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketAudit, err)
	}
	return nil
}

// auditLimit is the most entries AuditLog returns at once.
const auditLimit = 500

// appendAudit writes e as the next entry, setting its ID, and its Time to
// now if zero.
func appendAudit(tx *bolt.Tx, e *parley.AuditEntry, now time.Time) error {
	b := appendBucket(bucket(tx, bucketAudit))
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.ID = id
	if e.Time.IsZero() {
		e.Time = now
	}
	return putJSON(b, itob(id), e)
}

// auditWrite appends the pending audit note of the write whose context is
// ctx, if any, in its transaction tx: called after the write's function
// succeeded.
func (db *DB) auditWrite(ctx context.Context, tx *bolt.Tx) error {
	n := parley.AuditFrom(ctx)
	if !n.Pending() {
		return nil
	}
	n.Entry.ID, n.Entry.Time = 0, time.Time{} // a rerun of the write starts afresh
	return appendAudit(tx, &n.Entry, db.utcNow())
}

// auditCommitted marks the note of a committed write as written.
func auditCommitted(ctx context.Context) {
	if n := parley.AuditFrom(ctx); n.Pending() {
		n.Done()
	}
}

// auditRecord fills the pending note of ctx with what a write of a
// generic table did to record id (old is nil for a new record); see
// auditObject.
func auditRecord[T any](ctx context.Context, tb table[T], id uint64, old, v *T) {
	typ := strings.ReplaceAll(strings.TrimPrefix(tb.name, "custom "), " ", "-") // "custom channel": "channel"
	sid := strconv.FormatUint(id, 10)
	if old == nil {
		auditObject(ctx, typ, sid, nil, v)
	} else {
		auditObject(ctx, typ, sid, old, v)
	}
}

// auditCopy returns a deep copy of v when ctx carries a pending note, else
// v: an update's fn may change what its shallow copy shares with v (an
// inbox's mailboxes), and the note must see v as it was.
func auditCopy[T any](ctx context.Context, v *T) *T {
	if !parley.AuditFrom(ctx).Pending() {
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	c := new(T)
	if json.Unmarshal(data, c) != nil {
		return v
	}
	return c
}

// auditObject fills the pending note of ctx with what a write did to the
// object typ id, from old (nil if new) to v: the note's object type and id
// and the changed fields, where the caller left them empty. A note about a
// part of the object (a widget's bot, an inbox's mailbox) gets the changes
// of that part; a note about anything else is left alone (a write in
// passing).
func auditObject(ctx context.Context, typ, id string, old, v any) {
	n := parley.AuditFrom(ctx)
	if !n.Pending() {
		return
	}
	e := &n.Entry
	if e.ObjectType == "" {
		e.ObjectType = typ
	}
	if e.ObjectType != typ {
		old, v = auditPart(e.ObjectType, e.ObjectID, old), auditPart(e.ObjectType, e.ObjectID, v)
		if old == nil && v == nil {
			return
		}
	} else if e.ObjectID == "" {
		e.ObjectID = id
	}
	if e.Changes == nil {
		e.Changes = parley.AuditDiff(old, v)
	}
}

// auditPart returns the part typ id of record v that an audit entry is
// about, or nil.
func auditPart(typ, id string, v any) any {
	switch v := v.(type) {
	case *parley.Widget:
		if typ == "bot" && v.Bot != nil {
			return v.Bot
		}
	case *parley.Inbox:
		for i := range v.Mailboxes {
			if typ == "mailbox" && strconv.FormatUint(v.Mailboxes[i].ID, 10) == id {
				return &v.Mailboxes[i]
			}
		}
	}
	return nil
}

// AppendAudit appends e to the audit log on its own and sets e.ID, and
// e.Time if zero.
func (db *DB) AppendAudit(ctx context.Context, e *parley.AuditEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	now := db.utcNow()
	var out parley.AuditEntry
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = parley.AuditEntry{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		return appendAudit(tx, &out, now)
	})
	if err != nil {
		return err
	}
	*e = out
	return nil
}

// AuditLog returns the entries of the audit log that f selects, newest
// first, at most f.Limit (100 if zero, never more than 500). It walks the
// bucket backwards from f.Before, so a page costs what it skips.
func (db *DB) AuditLog(ctx context.Context, f parley.AuditFilter) ([]*parley.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, auditLimit)
	var out []*parley.AuditEntry
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketAudit).Cursor()
		var k, v []byte
		if f.Before > 0 {
			c.Seek(itob(f.Before))
			k, v = c.Prev()
		} else {
			k, v = c.Last()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e := new(parley.AuditEntry)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("decode audit entry %d: %w", btoi(k), err)
			}
			if !f.Since.IsZero() && e.Time.Before(f.Since) {
				break // ids grow with time: nothing older matches
			}
			if f.Match(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
