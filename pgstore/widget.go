package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// CreateWidget stores a new widget and sets w.ID, w.CreatedAt if zero, and
// w.UpdatedAt; as the bbolt store's, a list audience must name an existing
// list (EINVALID) and nothing else is validated here.
func (db *DB) CreateWidget(ctx context.Context, w *parley.Widget) error {
	data, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("create widget: %w", err)
	}
	now := db.utcNow()
	var out *parley.Widget
	err = db.write(ctx, func(tx pgx.Tx) error {
		v := new(parley.Widget)
		if err := json.Unmarshal(data, v); err != nil {
			return err
		}
		id, err := nextID(ctx, tx, "widgets")
		if err != nil {
			return err
		}
		v.ID = id
		stampTimes(&v.CreatedAt, &v.UpdatedAt, true, now)
		if err := putWidget(ctx, tx, v, `INSERT INTO widgets (id, inbox_id, data) VALUES ($1, $2, $3)`); err != nil {
			return err
		}
		parley.AuditObject(ctx, "widget", strconv.FormatUint(id, 10), nil, v)
		out = v
		return nil
	})
	if err != nil {
		return err
	}
	*w = *out
	return nil
}

// putWidget checks w's list and runs query with its id, inbox and JSON.
func putWidget(ctx context.Context, tx pgx.Tx, w *parley.Widget, query string) error {
	if id := usesList(w); id != 0 {
		var n int
		// FOR SHARE keeps the list from going before this write commits.
		err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM contact_lists WHERE id = $1 FOR SHARE) l`, int64(id)).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return parley.Errorf(parley.EINVALID, "audience.listId: list %d does not exist", id)
		}
	}
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, query, int64(w.ID), int64(w.InboxID), data)
	return err
}

// usesList returns the list w's audience names, or 0.
func usesList(w *parley.Widget) uint64 {
	switch w.Audience.Mode {
	case parley.AudienceList, parley.AudienceNotList:
		return w.Audience.ListID
	}
	return 0
}

// Widget returns widget id, or ENOTFOUND.
func (db *DB) Widget(ctx context.Context, id uint64) (*parley.Widget, error) {
	return getWidget(ctx, db.pool, id, "")
}

// SharedWidget is Widget: each read decodes a record of its own.
func (db *DB) SharedWidget(ctx context.Context, id uint64) (*parley.Widget, error) {
	return db.Widget(ctx, id)
}

func getWidget(ctx context.Context, q querier, id uint64, lock string) (*parley.Widget, error) {
	w := new(parley.Widget)
	ok, err := getJSON(ctx, q, w, `SELECT data FROM widgets WHERE id = $1 `+lock, int64(id))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "widget %d not found", id)
	}
	return w, nil
}

// Widgets returns every widget by id.
func (db *DB) Widgets(ctx context.Context) ([]*parley.Widget, error) {
	out, err := listJSON[parley.Widget](ctx, db.pool, `SELECT data FROM widgets ORDER BY id`)
	return out, wrapErr(ctx, err)
}

// UpdateWidget changes widget id with fn in one transaction, sets UpdatedAt
// and returns the widget as written; as WidgetStore describes.
func (db *DB) UpdateWidget(ctx context.Context, id uint64, fn func(*parley.Widget) error) (*parley.Widget, error) {
	now := db.utcNow()
	var out *parley.Widget
	err := db.write(ctx, func(tx pgx.Tx) error {
		old, err := getWidget(ctx, tx, id, "FOR UPDATE")
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
		if err := putWidget(ctx, tx, &v, `UPDATE widgets SET inbox_id = $2, data = $3 WHERE id = $1`); err != nil {
			return err
		}
		parley.AuditObject(ctx, "widget", strconv.FormatUint(id, 10), before, &v)
		out = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteWidget deletes widget id, or returns ENOTFOUND. The threads it
// started stay.
func (db *DB) DeleteWidget(ctx context.Context, id uint64) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM widgets WHERE id = $1`, int64(id))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "widget %d not found", id)
		}
		return nil
	})
}
