package pgstore

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
)

// emailKey is how emails are compared: strings.ToLower, as the bbolt store
// does, so that both stores fold the same letters (Unicode's simple lower
// case, not full case folding: "STRASSE" and "straße" stay apart).
func emailKey(email string) string { return strings.ToLower(email) }

// checkKey returns EINVALID naming what if key is longer than
// parley.MaxKeyLen bytes.
func checkKey(what, key string) error {
	if len(key) > parley.MaxKeyLen {
		return parley.Errorf(parley.EINVALID, "%s is longer than %d bytes", what, parley.MaxKeyLen)
	}
	return nil
}

// usersLock serializes the writes that change a user's role or activity, so
// that the last active admin is counted by one of them at a time.
const usersLock = 0x7061726c6575 // "parleu"

// Meta returns the value stored under key by SetMeta, or ENOTFOUND.
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	var val []byte
	err := db.pool.QueryRow(ctx, `SELECT val FROM meta WHERE key = $1`, []byte(key)).Scan(&val)
	if err == pgx.ErrNoRows {
		return nil, parley.Errorf(parley.ENOTFOUND, "meta %q not found", key)
	}
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	return val, nil
}

// SetMeta stores val under key; a nil val deletes key (no error if missing).
// An empty key is EINVALID.
func (db *DB) SetMeta(ctx context.Context, key string, val []byte) error {
	if key == "" {
		return parley.Errorf(parley.EINVALID, "meta key is empty")
	}
	if err := checkKey("meta key", key); err != nil {
		return err
	}
	return db.write(ctx, func(tx pgx.Tx) error {
		if val == nil {
			_, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = $1`, []byte(key))
			return err
		}
		// An empty value is stored as one, not as NULL.
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, val) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET val = excluded.val`, []byte(key), append([]byte{}, val...))
		return err
	})
}

// ClaimMeta creates user u and deletes the meta value under key in one
// transaction, provided that value equals want; as MetaStore describes. The
// value's row stays locked from the comparison to the commit, so of many
// concurrent claims one finds it and the others find it gone.
func (db *DB) ClaimMeta(ctx context.Context, key string, want []byte, u *parley.User, joinInboxes bool) error {
	if key == "" {
		return parley.Errorf(parley.EINVALID, "meta key is empty")
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("claim %q: %w", key, err)
	}
	want = slices.Clone(want)
	now := db.utcNow()
	var out *parley.User
	err = db.write(ctx, func(tx pgx.Tx) error {
		out = nil
		var got []byte
		err := tx.QueryRow(ctx, `SELECT val FROM meta WHERE key = $1 FOR UPDATE`, []byte(key)).Scan(&got)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		if got == nil || len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
			return parley.Errorf(parley.ENOTFOUND, "meta %q not found", key)
		}
		w := new(parley.User)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		if w.CreatedAt.IsZero() {
			w.CreatedAt = now
		}
		if err := insertUser(ctx, tx, w); err != nil {
			return err
		}
		if joinInboxes {
			if err := joinUser(ctx, tx, w.ID, nil, true, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meta WHERE key = $1`, []byte(key)); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		return err
	}
	*u = *out
	return nil
}

// joinUser makes user id a member of the inboxes ids that exist, or of
// every inbox if all, stamping them with now. The inboxes are locked in id
// order, as every write that locks several does; their email addresses
// stay as they are.
func joinUser(ctx context.Context, tx pgx.Tx, id uint64, ids []uint64, all bool, now time.Time) error {
	list := make([]int64, len(ids))
	for i, v := range ids {
		list[i] = int64(v)
	}
	inboxes, err := listJSON[parley.Inbox](ctx, tx, `SELECT data FROM inboxes
		WHERE $1 OR id = ANY($2) ORDER BY id FOR UPDATE`, all, list)
	if err != nil {
		return err
	}
	for _, in := range inboxes {
		if in.HasMember(id) {
			continue
		}
		in.MemberIDs = append(in.MemberIDs, id)
		in.UpdatedAt = now
		if err := putJSON(ctx, tx, `UPDATE inboxes SET data = $2 WHERE id = $1`, in.ID, in); err != nil {
			return err
		}
	}
	return nil
}

// validUser returns EINVALID for what a user may not be stored with.
func validUser(u *parley.User) error {
	if u.Email == "" {
		return parley.Errorf(parley.EINVALID, "user email is empty")
	}
	return checkKey("user email", u.Email)
}

// insertUser gives u the next id and stores it.
func insertUser(ctx context.Context, tx pgx.Tx, u *parley.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	id, err := nextID(ctx, tx, "users")
	if err != nil {
		return err
	}
	u.ID = id
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO users (id, email_key, data) VALUES ($1, $2, $3)`,
		int64(u.ID), []byte(emailKey(u.Email)), data)
	return userConflict(err, u.Email)
}

// userConflict returns err, or for a unique violation of the users' emails
// ECONFLICT naming the email, as the bbolt store's message does.
func userConflict(err error, email string) error {
	if constraint(err) == "users_email_key" {
		return parley.Errorf(parley.ECONFLICT, "a user with email %s already exists", email)
	}
	return err
}

// CreateUser stores a new user and sets u.ID, and u.CreatedAt if zero. Emails
// are unique regardless of case: another user's email is ECONFLICT; an empty
// email is EINVALID.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	now := db.utcNow()
	var out *parley.User
	err = db.write(ctx, func(tx pgx.Tx) error {
		w := new(parley.User)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		if w.CreatedAt.IsZero() {
			w.CreatedAt = now
		}
		if err := insertUser(ctx, tx, w); err != nil {
			return err
		}
		parley.AuditObject(ctx, "user", strconv.FormatUint(w.ID, 10), nil, w)
		out = w
		return nil
	})
	if err != nil {
		return err
	}
	*u = *out
	return nil
}

// User returns user id, or ENOTFOUND.
func (db *DB) User(ctx context.Context, id uint64) (*parley.User, error) {
	return getUser(ctx, db.pool, id, "")
}

// SharedUser is User: each read decodes a record of its own.
func (db *DB) SharedUser(ctx context.Context, id uint64) (*parley.User, error) {
	return db.User(ctx, id)
}

// getUser reads user id, with lock appended to the query ("FOR UPDATE").
func getUser(ctx context.Context, q querier, id uint64, lock string) (*parley.User, error) {
	u := new(parley.User)
	ok, err := getJSON(ctx, q, u, `SELECT data FROM users WHERE id = $1 `+lock, int64(id))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "user %d not found", id)
	}
	return u, nil
}

// UserByEmail returns the user with this email in any case, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*parley.User, error) {
	u := new(parley.User)
	ok, err := getJSON(ctx, db.pool, u, `SELECT data FROM users WHERE email_key = $1`, []byte(emailKey(email)))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok || email == "" {
		return nil, parley.Errorf(parley.ENOTFOUND, "no user with email %s", email)
	}
	return u, nil
}

// Users returns every user (deactivated ones too) by id.
func (db *DB) Users(ctx context.Context) ([]*parley.User, error) {
	out, err := listJSON[parley.User](ctx, db.pool, `SELECT data FROM users ORDER BY id`)
	return out, wrapErr(ctx, err)
}

// UpdateUser changes user id with fn in one transaction and returns the user
// as written; as UserStore describes.
func (db *DB) UpdateUser(ctx context.Context, id uint64, fn func(*parley.User) error) (*parley.User, error) {
	return db.updateUser(ctx, id, fn, false)
}

// UpdateUserAccess is UpdateUser keeping the rules that UserStore gives it:
// one active admin remains, and a user deactivated or demoted loses their
// sessions or their tokens' admin scope in the same transaction.
func (db *DB) UpdateUserAccess(ctx context.Context, id uint64, fn func(*parley.User) error) (*parley.User, error) {
	return db.updateUser(ctx, id, fn, true)
}

func (db *DB) updateUser(ctx context.Context, id uint64, fn func(*parley.User) error, access bool) (*parley.User, error) {
	var out *parley.User
	err := db.write(ctx, func(tx pgx.Tx) error {
		// Every change of a user waits for the others: one that demotes an
		// admin must count the active admins after any other has.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(usersLock)); err != nil {
			return err
		}
		old, err := getUser(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		v := *old
		before := parley.AuditCopy(ctx, old)
		if err := fn(&v); err != nil {
			return err
		}
		v.ID = old.ID
		if err := validUser(&v); err != nil {
			return err
		}
		data, err := json.Marshal(&v)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET email_key = $2, data = $3 WHERE id = $1`,
			int64(id), []byte(emailKey(v.Email)), data)
		if err := userConflict(err, v.Email); err != nil {
			return err
		}
		parley.AuditObject(ctx, "user", strconv.FormatUint(id, 10), before, &v)
		if access {
			if err := keepAccessRules(ctx, tx, old, &v); err != nil {
				return err
			}
		}
		out = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keepAccessRules applies UpdateUserAccess's rules to the change of old to v,
// already written in tx.
func keepAccessRules(ctx context.Context, tx pgx.Tx, old, v *parley.User) error {
	if old.IsAdmin() && !old.Deactivated && (!v.IsAdmin() || v.Deactivated) {
		users, err := listJSON[parley.User](ctx, tx, `SELECT data FROM users`)
		if err != nil {
			return err
		}
		n := 0
		for _, u := range users {
			if u.IsAdmin() && !u.Deactivated {
				n++
			}
		}
		if n == 0 {
			return parley.Errorf(parley.ECONFLICT, "%s is the last active admin; make someone else an admin first", old.Name)
		}
	}
	if v.Deactivated && !old.Deactivated {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, int64(old.ID))
		return err
	}
	if old.IsAdmin() && !v.IsAdmin() {
		return dropAdminScope(ctx, tx, old.ID)
	}
	return nil
}
