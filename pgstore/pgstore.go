// Package pgstore keeps Parley's data in PostgreSQL, for several nodes that
// share one database. It implements the storage contract of package parley
// (stores.go) area by area with the observable behaviour of package store,
// the bbolt store: the same error codes, IDs, defaults and copies.
//
// Done so far: MetaStore, UserStore, SessionStore, InviteStore, TeamStore,
// InboxStore, AuditStore and WidgetStore. A write whose context carries a
// pending parley.AuditNote appends its entry in its own transaction, as the
// bbolt store does. DeleteInbox removes what those areas hold of an inbox
// (its addresses and widgets); each area added later removes its own part
// (threads) there too. Contact lists are not kept yet: a widget's list
// audience finds none and is EINVALID, as in a bbolt store without lists.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parley-chat/parley"
)

// Options configure a DB; nil means the defaults.
type Options struct {
	// Now is the clock that stamps records and decides expiry; time.Now if
	// nil.
	Now func() time.Time
}

// DB is a PostgreSQL store. Its methods are safe for concurrent use, also by
// several processes on one database.
type DB struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	version int
}

// Open connects to the database at url (postgres://…), brings its schema up
// to date and returns the store. Nodes that open one database together
// migrate it once: the first holds a lock while the others wait for it.
func Open(ctx context.Context, url string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "store URL: %v", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, now: opts.Now}
	if db.now == nil {
		db.now = time.Now
	}
	err = pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error {
		db.version, err = migrate(ctx, c.Conn())
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", cfg.ConnConfig.Database, err)
	}
	return db, nil
}

// Close closes the store's connections, waiting for those in use.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// SchemaVersion returns the schema version of the database.
func (db *DB) SchemaVersion() int { return db.version }

// utcNow is the time the store stamps records with: UTC without a monotonic
// reading, as the bbolt store's.
func (db *DB) utcNow() time.Time { return db.now().UTC().Round(0) }

// write runs fn in a transaction and commits it; it returns nil only once
// the commit succeeded. A transaction that PostgreSQL aborts because it
// clashed with another (a deadlock, a serialization failure) runs again, so
// fn may run more than once, as the contract allows. fn's own errors roll
// back and are returned as they are.
//
// Every write goes through here, with the shape of the bbolt store's
// update: a later write path that groups many calls into one transaction
// (a savepoint per call, released or rolled back alone) keeps the callers
// and their functions as they are.
//
// A pending parley.AuditNote in ctx is appended in the same transaction
// once fn succeeded, and marked written once it committed. Each attempt
// starts from the note as the caller gave it, so that an attempt that ran
// again describes its own change, not the first one's.
func (db *DB) write(ctx context.Context, fn func(pgx.Tx) error) error {
	n := parley.AuditFrom(ctx)
	var given parley.AuditEntry
	if n.Pending() {
		given = n.Entry
	}
	for attempt := 0; ; attempt++ {
		if n.Pending() {
			n.Entry = given
		}
		err := db.tryWrite(ctx, fn)
		if err == nil || attempt == 9 || !retryable(err) {
			return wrapErr(ctx, err)
		}
	}
}

func (db *DB) tryWrite(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := db.auditWrite(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	auditCommitted(ctx)
	return nil
}

// retryable reports whether err is a clash with another transaction that a
// new attempt resolves.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// conflicts maps the unique constraints to what the contract calls their
// violation: ECONFLICT with a message for the user. The constraint name
// decides, never the server's message text.
var conflicts = map[string]string{
	"meta_pkey":             "meta key already exists",
	"users_email_key":       "a user with this email already exists",
	"sessions_pkey":         "session already exists",
	"invites_pkey":          "invite already exists",
	"inbox_addresses_pkey":  "the email address already belongs to another inbox",
	"users_pkey":            "user already exists",
	"teams_pkey":            "team already exists",
	"inboxes_pkey":          "inbox already exists",
	"sessions_token_id_key": "token already exists",
}

// wrapErr turns a PostgreSQL error into the contract's: a unique violation
// is ECONFLICT, a context that ended is ctx.Err(). Parley's own errors and
// the functions' errors pass as they are.
func wrapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if msg, ok := conflicts[constraint(err)]; ok {
		return parley.Errorf(parley.ECONFLICT, "%s", msg)
	}
	if ctx.Err() != nil && !isParley(err) {
		return ctx.Err()
	}
	return err
}

// constraint returns the name of the unique constraint that err violated,
// or "".
func constraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

func isParley(err error) bool {
	var pe *parley.Error
	return errors.As(err, &pe)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// getJSON reads the one bytea column of query's row into v; ok is false if
// there is no row.
func getJSON(ctx context.Context, q querier, v any, query string, args ...any) (ok bool, err error) {
	var data []byte
	if err := q.QueryRow(ctx, query, args...).Scan(&data); err == pgx.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %T: %w", v, err)
	}
	return true, nil
}

// listJSON decodes the one bytea column of each of query's rows.
func listJSON[T any](ctx context.Context, q querier, query string, args ...any) ([]*T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("decode %T: %w", v, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// nextID takes the next id of a kind of record (a row of table ids) in tx:
// the row stays locked until tx ends, and a rollback gives the id back.
func nextID(ctx context.Context, tx pgx.Tx, kind string) (uint64, error) {
	var id int64
	err := tx.QueryRow(ctx, `UPDATE ids SET last = last + 1 WHERE name = $1 RETURNING last`, kind).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("next %s id: %w", kind, err)
	}
	return uint64(id), nil
}

// The areas of the contract this store keeps so far.
var _ interface {
	parley.MetaStore
	parley.UserStore
	parley.SessionStore
	parley.InviteStore
	parley.TeamStore
	parley.InboxStore
	parley.AuditStore
	parley.WidgetStore
} = (*DB)(nil)
