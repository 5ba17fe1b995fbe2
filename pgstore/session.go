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

// CreateSession stores a session under s.Hash and sets s.CreatedAt if zero;
// an API token (Kind SessionToken) also gets its ID. An empty hash is
// EINVALID; a hash already stored is ECONFLICT.
func (db *DB) CreateSession(ctx context.Context, s *parley.Session) error {
	if s.Hash == "" {
		return parley.Errorf(parley.EINVALID, "session hash is empty")
	}
	if err := checkKey("session hash", s.Hash); err != nil {
		return err
	}
	w := *s
	w.Scopes = slices.Clone(s.Scopes)
	if w.CreatedAt.IsZero() {
		w.CreatedAt = db.utcNow()
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		t := w
		if t.Kind == parley.SessionToken {
			id, err := nextID(ctx, tx, "tokens")
			if err != nil {
				return err
			}
			t.ID = id
		}
		if err := putSession(ctx, tx, &t, true); err != nil {
			return err
		}
		if t.Kind == parley.SessionToken {
			parley.AuditObject(ctx, "token", strconv.FormatUint(t.ID, 10), nil, &t)
		}
		w = t
		return nil
	})
	if err != nil {
		return err
	}
	*s = w
	return nil
}

// putSession writes s, as a new row or over the one under its hash. Only
// API tokens have a token id.
func putSession(ctx context.Context, tx pgx.Tx, s *parley.Session, isNew bool) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var tokenID *int64
	if s.Kind == parley.SessionToken {
		id := int64(s.ID)
		tokenID = &id
	}
	if isNew {
		_, err = tx.Exec(ctx, `INSERT INTO sessions (hash, token_id, user_id, data) VALUES ($1, $2, $3, $4)`,
			[]byte(s.Hash), tokenID, int64(s.UserID), data)
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE sessions SET data = $2 WHERE hash = $1`, []byte(s.Hash), data)
	return err
}

// Session returns the session with this hash, or ENOTFOUND if there is none
// or it has expired (by Options.Now). Expired sessions stay stored until
// DeleteSession.
func (db *DB) Session(ctx context.Context, hash string) (*parley.Session, error) {
	s := new(parley.Session)
	ok, err := getJSON(ctx, db.pool, s, `SELECT data FROM sessions WHERE hash = $1`, []byte(hash))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok || hash == "" || s.Expired(db.now()) {
		return nil, parley.Errorf(parley.ENOTFOUND, "session not found")
	}
	return s, nil
}

// DeleteSession deletes the session or API token with this hash. A missing
// session is not an error.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	if hash == "" {
		return nil
	}
	return db.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, []byte(hash))
		return err
	})
}

// Tokens returns the API tokens of user userID, or every user's if userID
// is 0, oldest first.
func (db *DB) Tokens(ctx context.Context, userID uint64) ([]*parley.Session, error) {
	out, err := listJSON[parley.Session](ctx, db.pool, `SELECT data FROM sessions
		WHERE token_id IS NOT NULL AND ($1 = 0 OR user_id = $1) ORDER BY token_id`, int64(userID))
	return out, wrapErr(ctx, err)
}

// Token returns the API token with this id, or ENOTFOUND.
func (db *DB) Token(ctx context.Context, id uint64) (*parley.Session, error) {
	return getToken(ctx, db.pool, id, "")
}

func getToken(ctx context.Context, q querier, id uint64, lock string) (*parley.Session, error) {
	s := new(parley.Session)
	ok, err := getJSON(ctx, q, s, `SELECT data FROM sessions WHERE token_id = $1 `+lock, int64(id))
	if err != nil {
		return nil, wrapErr(ctx, err)
	}
	if !ok || id == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "token not found")
	}
	return s, nil
}

// DeleteToken deletes the API token with this id and returns it as it was,
// or ENOTFOUND.
func (db *DB) DeleteToken(ctx context.Context, id uint64) (*parley.Session, error) {
	var out *parley.Session
	err := db.write(ctx, func(tx pgx.Tx) error {
		s := new(parley.Session)
		ok, err := getJSON(ctx, tx, s, `DELETE FROM sessions WHERE token_id = $1 RETURNING data`, int64(id))
		if err != nil {
			return err
		}
		if !ok || id == 0 {
			return parley.Errorf(parley.ENOTFOUND, "token not found")
		}
		out = s
		return nil
	})
	return out, err
}

// dropAdminScope takes the admin scope from every token of user id, as the
// bbolt store does: a token left without scopes is deleted.
func dropAdminScope(ctx context.Context, tx pgx.Tx, id uint64) error {
	tokens, err := listJSON[parley.Session](ctx, tx, `SELECT data FROM sessions
		WHERE token_id IS NOT NULL AND user_id = $1 ORDER BY token_id FOR UPDATE`, int64(id))
	if err != nil {
		return err
	}
	for _, s := range tokens {
		if s.Scopes != nil && !s.Scopes.Has(parley.ScopeAdmin) {
			continue
		}
		if s.Scopes == nil {
			s.Scopes = parley.RoleScopes(parley.RoleAgent)
		}
		s.Scopes = slices.DeleteFunc(s.Scopes, func(sc parley.Scope) bool { return sc == parley.ScopeAdmin })
		if len(s.Scopes) == 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, []byte(s.Hash)); err != nil {
				return err
			}
			continue
		}
		if err := putSession(ctx, tx, s, false); err != nil {
			return err
		}
	}
	return nil
}

// TouchToken sets the LastUsedAt of the API token with this hash to at,
// unless it is gone (revoked meanwhile: it stays gone) or already as late.
func (db *DB) TouchToken(ctx context.Context, hash string, at time.Time) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		s := new(parley.Session)
		ok, err := getJSON(ctx, tx, s, `SELECT data FROM sessions WHERE hash = $1 FOR UPDATE`, []byte(hash))
		if err != nil {
			return fmt.Errorf("touch token: %w", err)
		}
		if !ok || s.Kind != parley.SessionToken || !s.LastUsedAt.Before(at) {
			return nil
		}
		s.LastUsedAt = at.UTC().Round(0)
		return putSession(ctx, tx, s, false)
	})
}
