package store

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// bucketContactLists holds the saved contact segments of widget audiences (W1).
const bucketContactLists = "contact_lists" // id → ContactList

// contactListBuckets lists the buckets of this area, created by migrate4.
func contactListBuckets() []string { return []string{bucketContactLists} }

func contactListTable() table[parley.ContactList] {
	return table[parley.ContactList]{
		name:   "list",
		bucket: bucketContactLists,
		id:     func(l *parley.ContactList) *uint64 { return &l.ID },
		prepare: func(l, old *parley.ContactList, now time.Time) {
			stampTimes(&l.CreatedAt, &l.UpdatedAt, old == nil, now)
		},
	}
}

// CreateContactList stores a new list and sets l.ID, l.CreatedAt if zero and
// l.UpdatedAt. It does not validate l.
func (db *DB) CreateContactList(ctx context.Context, l *parley.ContactList) error {
	return createRecord(ctx, db, contactListTable(), l)
}

// ContactList returns list id, or ENOTFOUND.
func (db *DB) ContactList(ctx context.Context, id uint64) (*parley.ContactList, error) {
	return readRecord(db, contactListTable(), id)
}

// ContactLists returns every list by id.
func (db *DB) ContactLists(ctx context.Context) ([]*parley.ContactList, error) {
	return listRecords(db, contactListTable())
}

// UpdateContactList changes list id with fn in one transaction, sets
// UpdatedAt and returns the list as written. An error from fn aborts with
// nothing written and is returned as it is; ENOTFOUND if the list does not
// exist. fn may not change the ID. fn runs on the store's writer goroutine,
// maybe more than once and maybe after UpdateContactList has returned
// ctx.Err(); it must not call db.
func (db *DB) UpdateContactList(ctx context.Context, id uint64, fn func(*parley.ContactList) error) (*parley.ContactList, error) {
	return updateRecord(ctx, db, contactListTable(), id, fn)
}

// DeleteContactList deletes list id. It returns ENOTFOUND if there is no such
// list, and ECONFLICT naming the widget if a widget's audience uses it: the
// check and the delete are one transaction, and widgets are written only
// with an existing list (checkWidgetList), so no widget is left with a
// missing list.
func (db *DB) DeleteContactList(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketContactLists)
		if b.Get(itob(id)) == nil {
			return contactListTable().notFound(id)
		}
		wt := widgetTable()
		err := bucket(tx, bucketWidgets).ForEach(func(k, v []byte) error {
			var w parley.Widget
			if err := wt.decode(btoi(k), v, &w); err != nil {
				return err
			}
			if usesList(&w) == id {
				return parley.Errorf(parley.ECONFLICT, "list %d is the audience of widget %q (id %d); change that widget's audience first", id, w.Name, w.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return b.Delete(itob(id))
	})
}

// usesList returns the list id a widget's audience depends on, 0 for none.
func usesList(w *parley.Widget) uint64 {
	switch w.Audience.Mode {
	case parley.AudienceList, parley.AudienceNotList:
		return w.Audience.ListID
	}
	return 0
}

// checkWidgetList refuses to write a widget whose audience names a list that
// does not exist (EINVALID), in the writing transaction.
func checkWidgetList(tx *bolt.Tx, w, _ *parley.Widget) error {
	if id := usesList(w); id != 0 && bucket(tx, bucketContactLists).Get(itob(id)) == nil {
		return parley.Errorf(parley.EINVALID, "audience.listId: list %d does not exist", id)
	}
	return nil
}
