package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Buckets of conversation actions (schema version 2).
const (
	bucketSnippets         = "snippets"          // id → Snippet
	bucketSnippetShortcuts = "snippet_shortcuts" // lowercase shortcut → id
)

// actionBuckets lists the buckets of conversation actions: snippets.
func actionBuckets() []string { return []string{bucketSnippets, bucketSnippetShortcuts} }

// ----- Snippets (R1) -----

func snippetTable() table[parley.Snippet] {
	return table[parley.Snippet]{
		name:    "snippet",
		bucket:  bucketSnippets,
		id:      func(s *parley.Snippet) *uint64 { return &s.ID },
		prepare: prepareAuthored(func(s *parley.Snippet) *parley.Authored { return &s.Authored }),
		index: func(tx *bolt.Tx, s, old *parley.Snippet) error {
			var was string
			if old != nil {
				was = old.Shortcut
			}
			return reindexShortcut(bucket(tx, bucketSnippetShortcuts), s.ID, s.Shortcut, was)
		},
	}
}

// reindexShortcut keeps the case-insensitive shortcut index right when
// snippet id changes its shortcut from old to shortcut. A shortcut another
// snippet holds, in any case, is ECONFLICT.
func reindexShortcut(b *bolt.Bucket, id uint64, shortcut, old string) error {
	key, oldKey := strings.ToLower(shortcut), strings.ToLower(old)
	if key == "" {
		return parley.Errorf(parley.EINVALID, "shortcut is required")
	}
	if key == oldKey {
		return nil
	}
	if v := b.Get([]byte(key)); v != nil && btoi(v) != id {
		return parley.Errorf(parley.ECONFLICT, "another snippet already has the shortcut %q", shortcut)
	}
	if err := b.Put([]byte(key), itob(id)); err != nil {
		return err
	}
	if oldKey != "" {
		return b.Delete([]byte(oldKey))
	}
	return nil
}

// CreateSnippet stores a new snippet and sets s.ID, s.CreatedAt if zero and
// s.UpdatedAt. Shortcuts are unique regardless of case: one another snippet
// holds is ECONFLICT; an empty one EINVALID. Other fields are the caller's to
// validate (parley.Snippet.Validate).
func (db *DB) CreateSnippet(ctx context.Context, s *parley.Snippet) error {
	return createRecord(ctx, db, snippetTable(), s)
}

// Snippet returns snippet id, or ENOTFOUND.
func (db *DB) Snippet(ctx context.Context, id uint64) (*parley.Snippet, error) {
	return readRecord(db, snippetTable(), id)
}

// Snippets returns every snippet, ordered by shortcut (case-insensitively).
func (db *DB) Snippets(ctx context.Context) ([]*parley.Snippet, error) {
	out := []*parley.Snippet{}
	err := db.view(func(tx *bolt.Tx) error {
		tb := snippetTable()
		return bucket(tx, bucketSnippetShortcuts).ForEach(func(_, id []byte) error {
			s, err := tb.get(tx, btoi(id))
			if err != nil {
				return fmt.Errorf("snippet index: %w", err)
			}
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateSnippet changes snippet id with fn in one transaction, sets UpdatedAt
// and returns the snippet as written. An error from fn aborts with nothing
// written and is returned as it is; ENOTFOUND if the snippet does not exist;
// ECONFLICT if fn gives it another snippet's shortcut. fn may not change ID,
// CreatedBy or CreatedAt (changes are undone). fn runs on the store's writer
// goroutine, maybe more than once; it must not call db.
func (db *DB) UpdateSnippet(ctx context.Context, id uint64, fn func(*parley.Snippet) error) (*parley.Snippet, error) {
	return updateRecord(ctx, db, snippetTable(), id, fn)
}

// DeleteSnippet removes snippet id and frees its shortcut, or returns
// ENOTFOUND.
func (db *DB) DeleteSnippet(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		tb := snippetTable()
		s, err := tb.get(tx, id)
		if err != nil {
			return err
		}
		idx := bucket(tx, bucketSnippetShortcuts)
		key := []byte(strings.ToLower(s.Shortcut))
		if v := idx.Get(key); v != nil && bytes.Equal(v, itob(id)) {
			if err := idx.Delete(key); err != nil {
				return err
			}
		}
		return bucket(tx, tb.bucket).Delete(itob(id))
	})
}

// ----- A thread's contact -----

// AppendWithContact appends m to its thread (m.ThreadID, which must be set)
// and changes the thread's contact, all in one transaction: for actions such
// as blocking a sender (I9), which mark both the contact and the thread and
// record the action on the thread.
//
// update is called inside the transaction with the thread and its contact,
// as stored, before m is appended; it changes either or both in place. An
// error from it aborts with nothing written and is returned as it is. It may
// not change the thread's ID or LastSeq nor the contact's ID (changes are
// undone). It runs on the store's writer goroutine, maybe more than once and
// maybe after AppendWithContact has returned ctx.Err(); it must not call db.
//
// Apart from that, m is appended as AppendMessage does it (m.ClientID is not
// deduplicated: leave it empty). It returns the append's result and the
// contact as written; ENOTFOUND if the thread does not exist, EINVALID if m
// has no thread or the thread has no contact.
func (db *DB) AppendWithContact(ctx context.Context, m *parley.Message, update func(*parley.Thread, *parley.Contact) error) (parley.AppendResult, *parley.Contact, error) {
	if m.ThreadID == 0 {
		return parley.AppendResult{}, nil, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	if update == nil {
		return parley.AppendResult{}, nil, parley.Errorf(parley.EINVALID, "no update")
	}
	in := *m
	in.ClientID = ""
	now := db.utcNow()

	var res parley.AppendResult
	var contact *parley.Contact
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res, contact = parley.AppendResult{}, nil
		t, err := threadTable().get(tx, in.ThreadID)
		if err != nil {
			return err
		}
		if t.ContactID == 0 {
			return parley.Errorf(parley.EINVALID, "thread %d has no contact", t.ID)
		}
		contacts := contactTable()
		old, err := contacts.get(tx, t.ContactID)
		if err != nil {
			return err
		}
		c := *old
		res, err = appendMessage(tx, in, parley.Thread{}, func(t *parley.Thread) error {
			return update(t, &c)
		}, now)
		if err != nil {
			return err
		}
		if !sameJSON(&c, old) {
			if err := contacts.replace(tx, &c, old, now); err != nil {
				return err
			}
		}
		contact = &c
		return nil
	})
	if err != nil {
		return parley.AppendResult{}, nil, err
	}
	*m = *res.Message
	res.Message = m
	return res, contact, nil
}

// sameJSON reports whether a and b encode alike: whether an update changed
// a record at all.
func sameJSON[T any](a, b *T) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
