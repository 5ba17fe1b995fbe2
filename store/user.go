package store

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Meta returns the value stored under key by SetMeta, or ENOTFOUND.
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	var val []byte
	err := db.view(func(tx *bolt.Tx) error {
		var v []byte
		if key != "" {
			v = bucket(tx, bucketKV).Get([]byte(key))
		}
		if v == nil {
			return parley.Errorf(parley.ENOTFOUND, "meta %q not found", key)
		}
		val = bytes.Clone(v)
		return nil
	})
	return val, err
}

// SetMeta stores val under key; a nil val deletes key (no error if missing).
// An empty key is EINVALID. These keys live apart from the schema's own
// metadata, so no key can disturb it.
func (db *DB) SetMeta(ctx context.Context, key string, val []byte) error {
	if key == "" {
		return parley.Errorf(parley.EINVALID, "meta key is empty")
	}
	if err := checkKey("meta key", key); err != nil {
		return err
	}
	val = bytes.Clone(val) // nil stays nil
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketKV)
		if val == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), val)
	})
}

// ClaimMeta creates user u and deletes the meta value under key, in one
// transaction, provided that value equals want: it is how a one-time secret
// kept with SetMeta, such as the setup link's hash, is used up, so that of
// many concurrent claims exactly one succeeds. u is stored as CreateUser
// stores it (u.ID, and u.CreatedAt if zero, are set) and, when
// joinInboxes, made a member of every inbox. A missing or different value
// is ENOTFOUND; u's email taken is ECONFLICT; on any error nothing is
// written.
func (db *DB) ClaimMeta(ctx context.Context, key string, want []byte, u *parley.User, joinInboxes bool) error {
	if key == "" {
		return parley.Errorf(parley.EINVALID, "meta key is empty")
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("claim %q: %w", key, err)
	}
	want = bytes.Clone(want)
	now := db.utcNow()
	var out *parley.User
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		kv := bucket(tx, bucketKV)
		got := kv.Get([]byte(key))
		if got == nil || len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
			return parley.Errorf(parley.ENOTFOUND, "meta %q not found", key)
		}
		w := new(parley.User)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		if err := userTable().insert(tx, w, now); err != nil {
			return err
		}
		if joinInboxes {
			inboxes := inboxTable()
			var ids []uint64
			if err := bucket(tx, bucketInboxes).ForEach(func(k, _ []byte) error {
				ids = append(ids, btoi(k))
				return nil
			}); err != nil {
				return err
			}
			for _, id := range ids {
				old, err := inboxes.get(tx, id)
				if err != nil {
					return err
				}
				if old.HasMember(w.ID) {
					continue
				}
				v := *old
				v.MemberIDs = append(slices.Clone(old.MemberIDs), w.ID)
				v.UpdatedAt = now
				if err := inboxes.replace(tx, &v, old, now); err != nil {
					return err
				}
			}
		}
		if err := kv.Delete([]byte(key)); err != nil {
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

func userTable() table[parley.User] {
	return table[parley.User]{
		name:   "user",
		bucket: bucketUsers,
		id:     func(u *parley.User) *uint64 { return &u.ID },
		prepare: func(u, old *parley.User, now time.Time) {
			if old == nil && u.CreatedAt.IsZero() {
				u.CreatedAt = now
			}
		},
		index: func(tx *bolt.Tx, u, old *parley.User) error {
			if u.Email == "" {
				return parley.Errorf(parley.EINVALID, "user email is empty")
			}
			if err := checkKey("user email", u.Email); err != nil {
				return err
			}
			var oldEmail string
			if old != nil {
				oldEmail = old.Email
			}
			return reindexEmail(bucket(tx, bucketUserEmails), "user", u.ID, u.Email, oldEmail)
		},
	}
}

// CreateUser stores a new user and sets u.ID, and u.CreatedAt if zero. Emails
// are unique regardless of case: another user's email is ECONFLICT; an empty
// email is EINVALID.
func (db *DB) CreateUser(ctx context.Context, u *parley.User) error {
	return createRecord(ctx, db, userTable(), u)
}

// User returns user id, or ENOTFOUND.
func (db *DB) User(ctx context.Context, id uint64) (*parley.User, error) {
	return readRecord(db, userTable(), id)
}

// UserByEmail returns the user with this email in any case, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*parley.User, error) {
	return byEmail(db, userTable(), bucketUserEmails, email)
}

// Users returns every user (deactivated ones too) by id.
func (db *DB) Users(ctx context.Context) ([]*parley.User, error) {
	return listRecords(db, userTable())
}

// CountUsers returns the number of users, deactivated ones included.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketUsers).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// UpdateUser changes user id with fn in one transaction and returns the user
// as written. An error from fn aborts with nothing written and is returned
// as it is; ENOTFOUND if the user does not exist; ECONFLICT if fn gives it
// another user's email. fn may not change the ID (a change is undone). fn runs
// on the store's writer goroutine, maybe more than once and maybe after
// UpdateUser has returned ctx.Err(); it must not call db.
func (db *DB) UpdateUser(ctx context.Context, id uint64, fn func(*parley.User) error) (*parley.User, error) {
	return updateRecord(ctx, db, userTable(), id, fn)
}

// CreateSession stores a session under s.Hash and sets s.CreatedAt if zero;
// an API token (Kind SessionToken) also gets its ID. An empty hash is
// EINVALID; a hash already stored is ECONFLICT.
func (db *DB) CreateSession(ctx context.Context, s *parley.Session) error {
	w := *s
	if w.CreatedAt.IsZero() {
		w.CreatedAt = db.utcNow()
	}
	if w.Kind != parley.SessionToken {
		if err := insertKeyed(ctx, db, bucketSessions, "session", w.Hash, &w); err != nil {
			return err
		}
		*s = w
		return nil
	}
	if w.Hash == "" {
		return parley.Errorf(parley.EINVALID, "session hash is empty")
	}
	if err := checkKey("session hash", w.Hash); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		t := w
		sessions := bucket(tx, bucketSessions)
		if sessions.Get([]byte(t.Hash)) != nil {
			return parley.Errorf(parley.ECONFLICT, "session already exists")
		}
		t.ID = 0
		if err := putToken(bucket(tx, bucketTokenIDs), sessions, &t); err != nil {
			return err
		}
		parley.AuditObject(ctx, "token", strconv.FormatUint(t.ID, 10), nil, &t)
		w = t
		return nil
	})
	if err != nil {
		return err
	}
	*s = w
	return nil
}

// Session returns the session with this hash, or ENOTFOUND if there is none
// or it has expired (by Options.Now). Expired sessions stay stored until
// DeleteSession.
func (db *DB) Session(ctx context.Context, hash string) (*parley.Session, error) {
	s := new(parley.Session)
	if err := readKeyed(db, bucketSessions, "session", hash, s); err != nil {
		return nil, err
	}
	if s.Expired(db.now()) {
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
	return db.update(ctx, func(tx *bolt.Tx) error {
		return deleteSession(tx, []byte(hash))
	})
}
