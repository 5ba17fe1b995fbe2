package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// auditLimit is the most entries AuditLog returns at once, as the bbolt
// store's.
const auditLimit = 500

// appendAudit writes e as the next entry in tx, setting its ID, and its
// Time to now if zero.
func appendAudit(ctx context.Context, tx pgx.Tx, e *parley.AuditEntry, now time.Time) error {
	id, err := nextID(ctx, tx, "audit")
	if err != nil {
		return err
	}
	e.ID = id
	if e.Time.IsZero() {
		e.Time = now
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit (id, time_s, time_ns, actor, action, object_type, object_id, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		int64(id), e.Time.Unix(), e.Time.Nanosecond(), []byte(e.Actor.Key()), []byte(e.Action),
		[]byte(e.ObjectType), []byte(e.ObjectID), data)
	return err
}

// auditWrite appends the pending audit note of the write whose context is
// ctx, if any, in its transaction tx: called after the write's function
// succeeded.
func (db *DB) auditWrite(ctx context.Context, tx pgx.Tx) error {
	n := parley.AuditFrom(ctx)
	if !n.Pending() {
		return nil
	}
	n.Entry.ID, n.Entry.Time = 0, time.Time{}
	return appendAudit(ctx, tx, &n.Entry, db.utcNow())
}

// auditCommitted marks the note of a committed write as written.
func auditCommitted(ctx context.Context) {
	if n := parley.AuditFrom(ctx); n.Pending() {
		n.Done()
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
	err = db.write(ctx, func(tx pgx.Tx) error {
		out = parley.AuditEntry{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		return appendAudit(ctx, tx, &out, now)
	})
	if err != nil {
		return err
	}
	*e = out
	return nil
}

// AuditLog returns the entries of the audit log that f selects, newest
// first, at most f.Limit (100 if zero, never more than 500), as the bbolt
// store answers. That store walks back from f.Before and stops at the
// first entry older than f.Since, matching or not; the floor below is that
// entry, so an entry appended with an older time than one before it ends
// the walk here too.
func (db *DB) AuditLog(ctx context.Context, f parley.AuditFilter) ([]*parley.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, auditLimit)
	before := int64(-1) // no bound
	if f.Before > 0 {
		before = int64(min(f.Before, 1<<63-1))
	}
	var where []string
	args := []any{before}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, `($1 < 0 OR id < $1)`)
	if !f.Since.IsZero() {
		s, ns := arg(f.Since.Unix()), arg(f.Since.Nanosecond())
		where = append(where, `id > COALESCE((SELECT max(id) FROM audit
			WHERE ($1 < 0 OR id < $1) AND (time_s, time_ns) < (`+s+`, `+ns+`)), 0)`)
	}
	if !f.Until.IsZero() {
		where = append(where, `(time_s, time_ns) <= (`+arg(f.Until.Unix())+`, `+arg(f.Until.Nanosecond())+`)`)
	}
	if f.Actor != "" {
		where = append(where, `actor = `+arg([]byte(f.Actor)))
	}
	if f.Action != "" {
		a := arg([]byte(f.Action))
		if strings.HasSuffix(f.Action, ".") {
			where = append(where, `(action = `+a+` OR substring(action FROM 1 FOR length(`+a+`)) = `+a+`)`)
		} else {
			where = append(where, `action = `+a)
		}
	}
	if f.ObjectType != "" {
		where = append(where, `object_type = `+arg([]byte(f.ObjectType)))
	}
	if f.ObjectID != "" {
		where = append(where, `object_id = `+arg([]byte(f.ObjectID)))
	}
	q := `SELECT data FROM audit WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY id DESC LIMIT ` + arg(limit)
	out, err := listJSON[parley.AuditEntry](ctx, db.pool, q, args...)
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	return out, nil
}
