package store

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func inboxTable() table[parley.Inbox] {
	return table[parley.Inbox]{
		name:   "inbox",
		bucket: bucketInboxes,
		id:     func(in *parley.Inbox) *uint64 { return &in.ID },
		prepare: func(in, old *parley.Inbox, now time.Time) {
			stampTimes(&in.CreatedAt, &in.UpdatedAt, old == nil, now)
		},
		index: indexInboxMail, // its email addresses (mail.go)
	}
}

// CreateInbox stores a new inbox and sets in.ID, in.CreatedAt if zero, and
// in.UpdatedAt.
func (db *DB) CreateInbox(ctx context.Context, in *parley.Inbox) error {
	return createRecord(ctx, db, inboxTable(), in)
}

// Inbox returns inbox id, or ENOTFOUND.
func (db *DB) Inbox(ctx context.Context, id uint64) (*parley.Inbox, error) {
	return readRecord(db, inboxTable(), id)
}

// Inboxes returns every inbox by id.
func (db *DB) Inboxes(ctx context.Context) ([]*parley.Inbox, error) {
	return listRecords(db, inboxTable())
}

// UpdateInbox changes inbox id with fn in one transaction, sets UpdatedAt and
// returns the inbox as written. An error from fn aborts with nothing written
// and is returned as it is; ENOTFOUND if the inbox does not exist. fn may not
// change the ID. fn runs on the store's writer goroutine, maybe more than once
// and maybe after UpdateInbox has returned ctx.Err(); it must not call db.
func (db *DB) UpdateInbox(ctx context.Context, id uint64, fn func(*parley.Inbox) error) (*parley.Inbox, error) {
	return updateRecord(ctx, db, inboxTable(), id, fn)
}

func widgetTable() table[parley.Widget] {
	return table[parley.Widget]{
		name:   "widget",
		bucket: bucketWidgets,
		id:     func(w *parley.Widget) *uint64 { return &w.ID },
		prepare: func(w, old *parley.Widget, now time.Time) {
			stampTimes(&w.CreatedAt, &w.UpdatedAt, old == nil, now)
		},
		index: checkWidgetList,
	}
}

// CreateWidget stores a new widget and sets w.ID, w.CreatedAt if zero, and
// w.UpdatedAt. Its id is the channel account id of the chats it starts. A
// list audience must name an existing list (EINVALID); nothing else is
// validated here.
func (db *DB) CreateWidget(ctx context.Context, w *parley.Widget) error {
	return createRecord(ctx, db, widgetTable(), w)
}

// Widget returns widget id, or ENOTFOUND.
func (db *DB) Widget(ctx context.Context, id uint64) (*parley.Widget, error) {
	return readRecord(db, widgetTable(), id)
}

// Widgets returns every widget by id.
func (db *DB) Widgets(ctx context.Context) ([]*parley.Widget, error) {
	return listRecords(db, widgetTable())
}

// UpdateWidget changes widget id with fn in one transaction, sets UpdatedAt
// and returns the widget as written. An error from fn aborts with nothing
// written and is returned as it is; ENOTFOUND if the widget does not exist.
// fn may not change the ID. fn runs on the store's writer goroutine, maybe
// more than once and maybe after UpdateWidget has returned ctx.Err(); it must
// not call db.
func (db *DB) UpdateWidget(ctx context.Context, id uint64, fn func(*parley.Widget) error) (*parley.Widget, error) {
	return updateRecord(ctx, db, widgetTable(), id, fn)
}

// DeleteWidget deletes widget id, or returns ENOTFOUND. The threads it
// started stay.
func (db *DB) DeleteWidget(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketWidgets)
		if b.Get(itob(id)) == nil {
			return widgetTable().notFound(id)
		}
		return b.Delete(itob(id))
	})
}
