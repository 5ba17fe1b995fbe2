package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// stampTimes sets the times of a record that has both, as the bbolt store
// does: on create, CreatedAt if zero and UpdatedAt if zero (to CreatedAt);
// on update, UpdatedAt.
func stampTimes(createdAt, updatedAt *time.Time, isNew bool, now time.Time) {
	switch {
	case !isNew:
		*updatedAt = now
	case createdAt.IsZero():
		*createdAt, *updatedAt = now, now
	case updatedAt.IsZero():
		*updatedAt = *createdAt
	}
}

// CreateInbox stores a new inbox and sets in.ID, in.CreatedAt if zero, and
// in.UpdatedAt.
func (db *DB) CreateInbox(ctx context.Context, in *parley.Inbox) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("create inbox: %w", err)
	}
	now := db.utcNow()
	var out *parley.Inbox
	err = db.write(ctx, func(tx pgx.Tx) error {
		w := new(parley.Inbox)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		id, err := nextID(ctx, tx, "inboxes")
		if err != nil {
			return err
		}
		w.ID = id
		stampTimes(&w.CreatedAt, &w.UpdatedAt, true, now)
		if err := putInbox(ctx, tx, w, nil); err != nil {
			return err
		}
		parley.AuditObject(ctx, "inbox", strconv.FormatUint(w.ID, 10), nil, w)
		out = w
		return nil
	})
	if err != nil {
		return err
	}
	*in = *out
	return nil
}

// putInbox writes inbox in over old (nil: a new inbox) and keeps the index
// of its email addresses as the bbolt store's indexInboxMail does: an
// address is unique across inboxes regardless of case, keeps its mailbox's
// id while it stays, and a new one takes the next widget id. A shared
// mailbox slice is copied first: the write may run again. A new inbox
// (old nil) is inserted, a changed one replaced.
func putInbox(ctx context.Context, tx pgx.Tx, in, old *parley.Inbox) error {
	oldIDs := map[string]uint64{}
	if old != nil {
		for _, mb := range old.Mailboxes {
			oldIDs[emailKey(mb.Address)] = mb.ID
		}
	}
	in.Mailboxes = slices.Clone(in.Mailboxes)
	seen := map[string]bool{}
	for i := range in.Mailboxes {
		mb := &in.Mailboxes[i]
		key := emailKey(mb.Address)
		if key == "" {
			return parley.Errorf(parley.EINVALID, "an email address of the inbox is empty")
		}
		if err := checkKey("an email address of the inbox", mb.Address); err != nil {
			return err
		}
		if seen[key] {
			return parley.Errorf(parley.EINVALID, "email address %s is listed twice", mb.Address)
		}
		seen[key] = true
		var otherID int64
		err := tx.QueryRow(ctx, `SELECT inbox_id FROM inbox_addresses WHERE address_key = $1`, []byte(key)).Scan(&otherID)
		if err == nil && uint64(otherID) != in.ID {
			name := fmt.Sprintf("%d", otherID)
			var other parley.Inbox
			if ok, _ := getJSON(ctx, tx, &other, `SELECT data FROM inboxes WHERE id = $1`, otherID); ok {
				name = other.Name
			}
			return parley.Errorf(parley.ECONFLICT, "email address %s already belongs to inbox %q", mb.Address, name)
		} else if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if id, ok := oldIDs[key]; ok && (mb.ID == 0 || mb.ID == id) {
			mb.ID = id
		} else {
			if mb.ID, err = nextID(ctx, tx, "widgets"); err != nil {
				return err
			}
		}
	}
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	query := `UPDATE inboxes SET data = $2 WHERE id = $1`
	if old == nil {
		query = `INSERT INTO inboxes (id, data) VALUES ($1, $2)`
	}
	if _, err := tx.Exec(ctx, query, int64(in.ID), data); err != nil {
		return err
	}
	for key := range oldIDs {
		if !seen[key] {
			if _, err := tx.Exec(ctx, `DELETE FROM inbox_addresses WHERE address_key = $1`, []byte(key)); err != nil {
				return err
			}
		}
	}
	for _, mb := range in.Mailboxes {
		// Another inbox may have taken the address since the check above,
		// in a transaction that committed meanwhile: then no row is
		// written here, and that is the conflict.
		tag, err := tx.Exec(ctx, `INSERT INTO inbox_addresses (address_key, inbox_id, mailbox_id) VALUES ($1, $2, $3)
			ON CONFLICT (address_key) DO UPDATE SET mailbox_id = excluded.mailbox_id
			WHERE inbox_addresses.inbox_id = excluded.inbox_id`,
			[]byte(emailKey(mb.Address)), int64(in.ID), int64(mb.ID))
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return parley.Errorf(parley.ECONFLICT, "email address %s already belongs to another inbox", mb.Address)
		}
	}
	return nil
}

// Inbox returns inbox id, or ENOTFOUND.
func (db *DB) Inbox(ctx context.Context, id uint64) (*parley.Inbox, error) {
	return getInbox(ctx, db.pool, id, "")
}

func getInbox(ctx context.Context, q querier, id uint64, lock string) (*parley.Inbox, error) {
	in := new(parley.Inbox)
	ok, err := getJSON(ctx, q, in, `SELECT data FROM inboxes WHERE id = $1 `+lock, int64(id))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "inbox %d not found", id)
	}
	return in, nil
}

// Inboxes returns every inbox by id.
func (db *DB) Inboxes(ctx context.Context) ([]*parley.Inbox, error) {
	out, err := listJSON[parley.Inbox](ctx, db.pool, `SELECT data FROM inboxes ORDER BY id`)
	return out, wrapErr(ctx, err)
}

// UpdateInbox changes inbox id with fn in one transaction, sets UpdatedAt and
// returns the inbox as written; as InboxStore describes.
func (db *DB) UpdateInbox(ctx context.Context, id uint64, fn func(*parley.Inbox) error) (*parley.Inbox, error) {
	now := db.utcNow()
	var out *parley.Inbox
	err := db.write(ctx, func(tx pgx.Tx) error {
		old, err := getInbox(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		v := *old
		before := parley.AuditCopy(ctx, old)
		if err := fn(&v); err != nil {
			return err
		}
		v.ID = old.ID
		stampTimes(&v.CreatedAt, &v.UpdatedAt, false, now)
		if err := putInbox(ctx, tx, &v, old); err != nil {
			return err
		}
		parley.AuditObject(ctx, "inbox", strconv.FormatUint(id, 10), before, &v)
		out = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteInbox deletes inbox id for good in one transaction, or returns
// ENOTFOUND, or ECONFLICT if it is the only inbox. Its widgets and email
// addresses (ON DELETE CASCADE) go with it; the area that keeps an inbox's
// threads adds their deletion here when it comes to this store.
func (db *DB) DeleteInbox(ctx context.Context, id uint64) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		// Locking every inbox keeps two deletions from leaving none.
		rows, err := tx.Query(ctx, `SELECT id FROM inboxes ORDER BY id FOR UPDATE`)
		if err != nil {
			return err
		}
		var ids []uint64
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, uint64(v))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !slices.Contains(ids, id) {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d not found", id)
		}
		if len(ids) == 1 {
			return parley.Errorf(parley.ECONFLICT, "inbox %d is the only inbox; one must remain", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM widgets WHERE inbox_id = $1`, int64(id)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM inboxes WHERE id = $1`, int64(id))
		return err
	})
}
