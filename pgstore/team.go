package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// CreateTeam stores a new team and sets t.ID, t.CreatedAt if zero, and
// t.UpdatedAt.
func (db *DB) CreateTeam(ctx context.Context, t *parley.Team) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("create team: %w", err)
	}
	now := db.utcNow()
	var out *parley.Team
	err = db.write(ctx, func(tx pgx.Tx) error {
		w := new(parley.Team)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		id, err := nextID(ctx, tx, "teams")
		if err != nil {
			return err
		}
		w.ID = id
		stampTimes(&w.CreatedAt, &w.UpdatedAt, true, now)
		if err := putJSON(ctx, tx, `INSERT INTO teams (id, data) VALUES ($1, $2)`, w.ID, w); err != nil {
			return err
		}
		parley.AuditObject(ctx, "team", strconv.FormatUint(w.ID, 10), nil, w)
		out = w
		return nil
	})
	if err != nil {
		return err
	}
	*t = *out
	return nil
}

// putJSON runs query with id and v's JSON as its two arguments.
func putJSON(ctx context.Context, tx pgx.Tx, query string, id uint64, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, query, int64(id), data)
	return err
}

// Team returns team id, or ENOTFOUND.
func (db *DB) Team(ctx context.Context, id uint64) (*parley.Team, error) {
	return getTeam(ctx, db.pool, id, "")
}

func getTeam(ctx context.Context, q querier, id uint64, lock string) (*parley.Team, error) {
	t := new(parley.Team)
	ok, err := getJSON(ctx, q, t, `SELECT data FROM teams WHERE id = $1 `+lock, int64(id))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "team %d not found", id)
	}
	return t, nil
}

// Teams returns every team by id.
func (db *DB) Teams(ctx context.Context) ([]*parley.Team, error) {
	out, err := listJSON[parley.Team](ctx, db.pool, `SELECT data FROM teams ORDER BY id`)
	return out, wrapErr(ctx, err)
}

// UpdateTeam changes team id with fn in one transaction, sets UpdatedAt and
// returns the team as written; as TeamStore describes.
func (db *DB) UpdateTeam(ctx context.Context, id uint64, fn func(*parley.Team) error) (*parley.Team, error) {
	now := db.utcNow()
	var out *parley.Team
	err := db.write(ctx, func(tx pgx.Tx) error {
		old, err := getTeam(ctx, tx, id, "FOR UPDATE")
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
		if err := putJSON(ctx, tx, `UPDATE teams SET data = $2 WHERE id = $1`, id, &v); err != nil {
			return err
		}
		parley.AuditObject(ctx, "team", strconv.FormatUint(id, 10), before, &v)
		out = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTeam deletes team id, or returns ENOTFOUND. Its users stay.
func (db *DB) DeleteTeam(ctx context.Context, id uint64) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM teams WHERE id = $1`, int64(id))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "team %d not found", id)
		}
		return nil
	})
}
