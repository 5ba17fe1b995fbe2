package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func contactTable() table[parley.Contact] {
	return table[parley.Contact]{
		name:   "contact",
		bucket: bucketContacts,
		id:     func(c *parley.Contact) *uint64 { return &c.ID },
		prepare: func(c, old *parley.Contact, now time.Time) {
			stampTimes(&c.CreatedAt, &c.UpdatedAt, old == nil, now)
		},
		index: func(tx *bolt.Tx, c, old *parley.Contact) error {
			var oldEmail string
			if old != nil {
				oldEmail = old.Email
			}
			if err := searchContactChanged(tx, c, old); err != nil {
				return err
			}
			// prepare has stamped UpdatedAt with the time of this write.
			if err := indexContactCompany(tx, c, old, c.UpdatedAt); err != nil {
				return err
			}
			return reindexEmail(bucket(tx, bucketContactEmails), "contact", c.ID, c.Email, oldEmail)
		},
	}
}

// CreateContact stores a new contact and sets c.ID, c.CreatedAt if zero, and
// c.UpdatedAt. A contact's email, if any, is unique regardless of case:
// another contact's email is ECONFLICT.
func (db *DB) CreateContact(ctx context.Context, c *parley.Contact) error {
	return createRecord(ctx, db, contactTable(), c)
}

// Contact returns contact id, or ENOTFOUND.
func (db *DB) Contact(ctx context.Context, id uint64) (*parley.Contact, error) {
	return readRecord(db, contactTable(), id)
}

// ContactByEmail returns the contact with this email in any case, or
// ENOTFOUND (always for ""; contacts without email are not indexed).
func (db *DB) ContactByEmail(ctx context.Context, email string) (*parley.Contact, error) {
	return byEmail(db, contactTable(), bucketContactEmails, email)
}

// UpdateContact changes contact id with fn in one transaction, sets UpdatedAt
// and returns the contact as written. An error from fn aborts with nothing
// written and is returned as it is; ENOTFOUND if the contact does not exist;
// ECONFLICT if fn gives it another contact's email. fn may not change the ID.
// fn runs on the store's writer goroutine, maybe more than once and maybe
// after UpdateContact has returned ctx.Err(); it must not call db.
func (db *DB) UpdateContact(ctx context.Context, id uint64, fn func(*parley.Contact) error) (*parley.Contact, error) {
	return updateRecord(ctx, db, contactTable(), id, fn)
}

// CreateVisitor stores a visitor under v.Hash and sets v.CreatedAt if zero.
// An empty hash is EINVALID; a hash already stored is ECONFLICT. The
// credential is indexed by its contact (contact_visitors), so that
// DisassociateContact can move it.
func (db *DB) CreateVisitor(ctx context.Context, v *parley.Visitor) error {
	w := *v
	if w.CreatedAt.IsZero() {
		w.CreatedAt = db.utcNow()
	}
	if w.Hash == "" {
		return parley.Errorf(parley.EINVALID, "visitor hash is empty")
	}
	data, err := json.Marshal(&w)
	if err != nil {
		return fmt.Errorf("create visitor: %w", err)
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketVisitors)
		if b.Get([]byte(w.Hash)) != nil {
			return parley.Errorf(parley.ECONFLICT, "visitor already exists")
		}
		if err := b.Put([]byte(w.Hash), data); err != nil {
			return err
		}
		return indexVisitor(tx, &w)
	})
	if err != nil {
		return err
	}
	*v = w
	return nil
}

// Visitor returns the visitor with this hash, or ENOTFOUND.
func (db *DB) Visitor(ctx context.Context, hash string) (*parley.Visitor, error) {
	v := new(parley.Visitor)
	if err := readKeyed(db, bucketVisitors, "visitor", hash, v); err != nil {
		return nil, err
	}
	return v, nil
}
