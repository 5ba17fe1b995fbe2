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
		parley.AuditObject(ctx, typ, sid, nil, v)
	} else {
		parley.AuditObject(ctx, typ, sid, old, v)
	}
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
