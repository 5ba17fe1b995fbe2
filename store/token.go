package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// API tokens live in bucket sessions with the console sessions, keyed by the
// hash of their secret; bucket token_ids names each by an id of its own, in
// the order they were made, so that a token can be listed and revoked
// without its secret.
const bucketTokenIDs = "token_ids" // token id → session hash

// migrate6 creates bucket token_ids and gives every API token an id and
// explicit scopes: those its user's role grants, as tokens made before
// scopes existed had every right of their user.
func migrate6(tx *bolt.Tx) error {
	ids, err := tx.CreateBucketIfNotExists([]byte(bucketTokenIDs))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketTokenIDs, err)
	}
	sessions := bucket(tx, bucketSessions)
	var tokens []*parley.Session
	err = sessions.ForEach(func(k, v []byte) error {
		var s parley.Session
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		if s.Kind == parley.SessionToken && s.ID == 0 {
			tokens = append(tokens, &s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Oldest first, so that ids follow the order the tokens were made in.
	slices.SortStableFunc(tokens, func(a, b *parley.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, s := range tokens {
		if s.Scopes == nil {
			var u parley.User
			if ok, err := getJSON(bucket(tx, bucketUsers), itob(s.UserID), &u); err != nil {
				return fmt.Errorf("decode user: %w", err)
			} else if ok {
				s.Scopes = parley.RoleScopes(u.Role)
			}
		}
		if err := putToken(ids, sessions, s); err != nil {
			return err
		}
	}
	return nil
}

// putToken gives token s an id if it has none and writes it and its index
// entry.
func putToken(ids, sessions *bolt.Bucket, s *parley.Session) error {
	if s.ID == 0 {
		id, err := ids.NextSequence()
		if err != nil {
			return err
		}
		s.ID = id
	}
	if err := putJSON(sessions, []byte(s.Hash), s); err != nil {
		return err
	}
	return ids.Put(itob(s.ID), []byte(s.Hash))
}

// Tokens returns the API tokens of user userID, or every user's if userID
// is 0, oldest first.
func (db *DB) Tokens(ctx context.Context, userID uint64) ([]*parley.Session, error) {
	var out []*parley.Session
	err := db.view(func(tx *bolt.Tx) error {
		sessions := bucket(tx, bucketSessions)
		return bucket(tx, bucketTokenIDs).ForEach(func(k, hash []byte) error {
			s := new(parley.Session)
			if ok, err := getJSON(sessions, hash, s); err != nil {
				return fmt.Errorf("decode session: %w", err)
			} else if ok && (userID == 0 || s.UserID == userID) {
				out = append(out, s)
			}
			return nil
		})
	})
	return out, err
}

// Token returns the API token with this id, or ENOTFOUND.
func (db *DB) Token(ctx context.Context, id uint64) (*parley.Session, error) {
	s := new(parley.Session)
	err := db.view(func(tx *bolt.Tx) error {
		return getToken(tx, id, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func getToken(tx *bolt.Tx, id uint64, s *parley.Session) error {
	hash := bucket(tx, bucketTokenIDs).Get(itob(id))
	if hash == nil {
		return parley.Errorf(parley.ENOTFOUND, "token not found")
	}
	if ok, err := getJSON(bucket(tx, bucketSessions), hash, s); err != nil {
		return fmt.Errorf("decode session: %w", err)
	} else if !ok {
		return parley.Errorf(parley.ENOTFOUND, "token not found")
	}
	return nil
}

// DeleteToken deletes the API token with this id and returns it as it was,
// or ENOTFOUND.
func (db *DB) DeleteToken(ctx context.Context, id uint64) (*parley.Session, error) {
	var out *parley.Session
	err := db.update(ctx, func(tx *bolt.Tx) error {
		s := new(parley.Session)
		if err := getToken(tx, id, s); err != nil {
			return err
		}
		if err := deleteSession(tx, []byte(s.Hash)); err != nil {
			return err
		}
		out = s
		return nil
	})
	return out, err
}

// deleteSession deletes the session under hash and, for a token, its id.
func deleteSession(tx *bolt.Tx, hash []byte) error {
	b := bucket(tx, bucketSessions)
	v := b.Get(hash)
	if v == nil {
		return nil
	}
	var s struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return fmt.Errorf("decode session: %w", err)
	}
	if s.ID != 0 {
		if err := bucket(tx, bucketTokenIDs).Delete(itob(s.ID)); err != nil {
			return err
		}
	}
	return b.Delete(bytes.Clone(hash))
}

// dropAdminScope takes the admin scope from every token of user id, so that a
// demoted admin's tokens keep only what an agent may do, even if they are
// made an admin again later.
func dropAdminScope(tx *bolt.Tx, id uint64) error {
	ids, sessions := bucket(tx, bucketTokenIDs), bucket(tx, bucketSessions)
	var change []*parley.Session
	err := ids.ForEach(func(k, hash []byte) error {
		s := new(parley.Session)
		if ok, err := getJSON(sessions, hash, s); err != nil {
			return fmt.Errorf("decode session: %w", err)
		} else if ok && s.UserID == id && (s.Scopes == nil || s.Scopes.Has(parley.ScopeAdmin)) {
			change = append(change, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range change {
		if s.Scopes == nil {
			s.Scopes = parley.RoleScopes(parley.RoleAgent)
		}
		s.Scopes = slices.DeleteFunc(s.Scopes, func(sc parley.Scope) bool { return sc == parley.ScopeAdmin })
		if len(s.Scopes) == 0 {
			if err := deleteSession(tx, []byte(s.Hash)); err != nil {
				return err
			}
			continue
		}
		if err := putToken(ids, sessions, s); err != nil {
			return err
		}
	}
	return nil
}

// TouchToken sets the LastUsedAt of the API token with this hash to at,
// unless it is gone (revoked meanwhile: it stays gone) or already as late.
func (db *DB) TouchToken(ctx context.Context, hash string, at time.Time) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		sessions := bucket(tx, bucketSessions)
		s := new(parley.Session)
		if ok, err := getJSON(sessions, []byte(hash), s); err != nil {
			return fmt.Errorf("decode session: %w", err)
		} else if !ok || s.Kind != parley.SessionToken || !s.LastUsedAt.Before(at) {
			return nil
		}
		s.LastUsedAt = at.UTC().Round(0)
		return putJSON(sessions, []byte(hash), s)
	})
}
