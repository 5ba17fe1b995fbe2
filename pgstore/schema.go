package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrateLock is the advisory lock that Open holds while it migrates, so
// that of several nodes starting together one migrates and the others find
// the schema done. Any constant will do that no other part of Parley uses.
const migrateLock = 0x7061726c6579 // "parley"

// migrations are the schema's steps, in order: migration i brings the schema
// from version i to i+1. Append; never change a step that has shipped.
//
// Records are kept as the JSON that encoding/json writes for them, as bytea,
// so that a record reads back exactly as the bbolt store gives it (jsonb
// would reorder keys and refuse \u0000). Columns beside the JSON are what
// the store looks up, orders or keeps unique by; emails and hashes are bytea
// because a text column refuses NUL bytes, which bbolt keys may hold.
var migrations = []string{
	// 1: meta, users, sessions and API tokens, invitations, teams, inboxes
	// and their email addresses.
	`CREATE TABLE meta (
		key bytea CONSTRAINT meta_pkey PRIMARY KEY,
		val bytea NOT NULL
	);
	CREATE TABLE users (
		id bigint CONSTRAINT users_pkey PRIMARY KEY,
		email_key bytea NOT NULL CONSTRAINT users_email_key UNIQUE,
		data bytea NOT NULL
	);
	CREATE TABLE sessions (
		hash bytea CONSTRAINT sessions_pkey PRIMARY KEY,
		token_id bigint CONSTRAINT sessions_token_id_key UNIQUE,
		user_id bigint NOT NULL,
		data bytea NOT NULL
	);
	CREATE INDEX sessions_user_id ON sessions (user_id);
	CREATE TABLE invites (
		hash bytea CONSTRAINT invites_pkey PRIMARY KEY,
		data bytea NOT NULL
	);
	CREATE TABLE teams (
		id bigint CONSTRAINT teams_pkey PRIMARY KEY,
		data bytea NOT NULL
	);
	CREATE TABLE inboxes (
		id bigint CONSTRAINT inboxes_pkey PRIMARY KEY,
		data bytea NOT NULL
	);
	CREATE TABLE inbox_addresses (
		address_key bytea CONSTRAINT inbox_addresses_pkey PRIMARY KEY,
		inbox_id bigint NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
		mailbox_id bigint NOT NULL
	);
	CREATE INDEX inbox_addresses_inbox_id ON inbox_addresses (inbox_id);
	-- The last id given to each kind of record. An id is taken in the
	-- transaction that creates the record, as bbolt's bucket sequences
	-- are: a create that fails gives its id back. Mailboxes and widgets
	-- share one kind of ids, as in the bbolt store.
	CREATE TABLE ids (
		name text CONSTRAINT ids_pkey PRIMARY KEY,
		last bigint NOT NULL
	);
	INSERT INTO ids (name, last) VALUES
		('users', 0), ('tokens', 0), ('teams', 0), ('inboxes', 0), ('widgets', 0);`,
	// 2: the audit log. Its ids come from table ids, taken under the
	// row's lock until the write commits: entries commit in the order of
	// their ids, so a page read with Before never misses one that commits
	// later with a smaller id. The columns beside the JSON are what
	// AuditLog filters by, bytea as they may hold NUL bytes; the time is
	// seconds and nanoseconds so that it compares as exactly as Go's.
	`CREATE TABLE audit (
		id bigint CONSTRAINT audit_pkey PRIMARY KEY,
		time_s bigint NOT NULL,
		time_ns integer NOT NULL,
		actor bytea NOT NULL,
		action bytea NOT NULL,
		object_type bytea NOT NULL,
		object_id bytea NOT NULL,
		data bytea NOT NULL
	);
	INSERT INTO ids (name, last) VALUES ('audit', 0);`,
	// 3: widgets, by the inbox they belong to, which DeleteInbox removes
	// with it; their ids are the kind 'widgets' that mailboxes share. No
	// foreign key: the bbolt store keeps a widget whose inbox is gone, too.
	// contact_lists is there for the check that a widget's audience names
	// an existing list; ContactListStore will keep it.
	`CREATE TABLE widgets (
		id bigint CONSTRAINT widgets_pkey PRIMARY KEY,
		inbox_id bigint NOT NULL,
		data bytea NOT NULL
	);
	CREATE INDEX widgets_inbox_id ON widgets (inbox_id);
	CREATE TABLE contact_lists (
		id bigint CONSTRAINT contact_lists_pkey PRIMARY KEY,
		data bytea NOT NULL
	);`,
}

// migrate brings the schema to the newest version in one transaction under
// migrateLock and returns that version.
func migrate(ctx context.Context, conn *pgx.Conn) (int, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return 0, fmt.Errorf("lock for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
		return 0, err
	}
	var version int
	err = tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case err == pgx.ErrNoRows:
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	}
	if version > len(migrations) {
		return 0, fmt.Errorf("the database has schema version %d; this Parley knows up to %d: upgrade Parley", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return 0, fmt.Errorf("migrate to schema version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, len(migrations)); err != nil {
		return 0, err
	}
	return len(migrations), tx.Commit(ctx)
}
