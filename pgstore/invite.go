package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// CreateInvite stores an invitation under inv.Hash and sets inv.CreatedAt if
// zero. In the same transaction it drops expired invitations and any other
// pending invitation for the same email (in any case), so that only the
// newest link of a person works. An empty hash or email is EINVALID, a hash
// already stored ECONFLICT.
func (db *DB) CreateInvite(ctx context.Context, inv *parley.Invite) error {
	w := *inv
	w.InboxIDs = slices.Clone(inv.InboxIDs)
	if w.Hash == "" {
		return parley.Errorf(parley.EINVALID, "invite hash is empty")
	}
	if w.Email == "" {
		return parley.Errorf(parley.EINVALID, "invite email is empty")
	}
	if err := checkKey("invite hash", w.Hash); err != nil {
		return err
	}
	if err := checkKey("invite email", w.Email); err != nil {
		return err
	}
	now := db.utcNow()
	if w.CreatedAt.IsZero() {
		w.CreatedAt = now
	}
	data, err := json.Marshal(&w)
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	err = db.write(ctx, func(tx pgx.Tx) error {
		// Invitations are few: every one is locked and judged here, in
		// Go, by the same rules as the bbolt store's.
		rows, err := tx.Query(ctx, `SELECT hash, data FROM invites ORDER BY hash FOR UPDATE`)
		if err != nil {
			return err
		}
		var stale [][]byte
		for rows.Next() {
			var hash, v []byte
			if err := rows.Scan(&hash, &v); err != nil {
				rows.Close()
				return err
			}
			if string(hash) == w.Hash {
				rows.Close()
				return parley.Errorf(parley.ECONFLICT, "invite already exists")
			}
			var old parley.Invite
			if err := json.Unmarshal(v, &old); err != nil {
				rows.Close()
				return fmt.Errorf("decode invite: %w", err)
			}
			if !now.Before(old.ExpiresAt) || emailKey(old.Email) == emailKey(w.Email) {
				stale = append(stale, hash)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(stale) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE hash = ANY($1)`, stale); err != nil {
				return err
			}
		}
		parley.AuditObject(ctx, "invite", w.Hash, nil, &w) // the hash is the invite's id in the API
		_, err = tx.Exec(ctx, `INSERT INTO invites (hash, data) VALUES ($1, $2)`, []byte(w.Hash), data)
		return err
	})
	if err != nil {
		return err
	}
	*inv = w
	return nil
}

// Invite returns the invitation with this hash, or ENOTFOUND if there is none
// or it has expired (by Options.Now).
func (db *DB) Invite(ctx context.Context, hash string) (*parley.Invite, error) {
	inv := new(parley.Invite)
	ok, err := getJSON(ctx, db.pool, inv, `SELECT data FROM invites WHERE hash = $1`, []byte(hash))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok || hash == "" || !db.now().Before(inv.ExpiresAt) {
		return nil, parley.Errorf(parley.ENOTFOUND, "invite not found")
	}
	return inv, nil
}

// Invites returns the invitations that have not expired, oldest first.
func (db *DB) Invites(ctx context.Context) ([]*parley.Invite, error) {
	now := db.now()
	// Ordered by hash, as bbolt lists them, before the stable sort by
	// creation time: invitations created at the same time come in the
	// same order from both stores.
	all, err := listJSON[parley.Invite](ctx, db.pool, `SELECT data FROM invites ORDER BY hash`)
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	out := []*parley.Invite{}
	for _, inv := range all {
		if now.Before(inv.ExpiresAt) {
			out = append(out, inv)
		}
	}
	slices.SortStableFunc(out, func(a, b *parley.Invite) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// DeleteInvite deletes the invitation with this hash, or returns ENOTFOUND.
func (db *DB) DeleteInvite(ctx context.Context, hash string) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM invites WHERE hash = $1`, []byte(hash))
		if err != nil {
			return err
		}
		if hash == "" || tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "invite not found")
		}
		return nil
	})
}

// AcceptInvite turns the invitation with this hash into user u in one
// transaction, as InviteStore describes. The invitation's row stays locked
// until the commit: of two acceptances one finds it and the other not.
func (db *DB) AcceptInvite(ctx context.Context, hash string, u *parley.User) (*parley.Invite, error) {
	in := *u
	now := db.utcNow()
	var inv *parley.Invite
	var out *parley.User
	err := db.write(ctx, func(tx pgx.Tx) error {
		inv, out = nil, nil
		i := new(parley.Invite)
		ok, err := getJSON(ctx, tx, i, `SELECT data FROM invites WHERE hash = $1 FOR UPDATE`, []byte(hash))
		if err != nil {
			return err
		}
		if !ok || hash == "" || !now.Before(i.ExpiresAt) {
			return parley.Errorf(parley.ENOTFOUND, "invite not found")
		}
		w := in
		w.Email, w.Role, w.RoutingSeat = i.Email, i.Role, i.RoutingSeat
		if w.CreatedAt.IsZero() {
			w.CreatedAt = now
		}
		if err := insertUser(ctx, tx, &w); err != nil {
			return err
		}
		if err := joinUser(ctx, tx, w.ID, i.InboxIDs, false, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE hash = $1`, []byte(hash)); err != nil {
			return err
		}
		inv, out = i, &w
		return nil
	})
	if err != nil {
		return nil, err
	}
	*u = *out
	return inv, nil
}
