package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Buckets of schema version 1. Keys are big-endian uint64 unless noted;
// values are JSON unless noted. The package documentation describes them.
const (
	bucketMeta = "meta" // schemaVersion

	bucketKV = "kv" // Meta/SetMeta: key string → bytes

	bucketUsers      = "users"       // id → User
	bucketUserEmails = "user_emails" // lowercase email → id
	bucketSessions   = "sessions"    // hash → Session
	bucketInboxes    = "inboxes"     // id → Inbox
	bucketWidgets    = "widgets"     // id → Widget

	bucketContacts      = "contacts"       // id → Contact
	bucketContactEmails = "contact_emails" // lowercase email → id
	bucketVisitors      = "visitors"       // hash → Visitor

	bucketThreads      = "threads"       // id → row (binary, see type row) ‖ Thread
	bucketThreadLatest = "thread_latest" // (latestMessageAt, id) → row
	bucketChatThreads  = "thread_chats"  // (contact, widget, thread) → empty

	bucketMessages   = "messages"    // (thread, seq) → Message; (thread, 0xFF, sender, clientId) → seq (see dedupKey)
	bucketMessageIDs = "message_ids" // message id → (thread, seq); its sequence numbers messages
)

// keySchemaVersion holds the schema version in bucket meta, a big-endian
// uint64. A file without it has version 0.
const keySchemaVersion = "schemaVersion"

// A migration brings a file from its index in the list of migrations to the
// next version: migrations()[0] turns version 0 into 1, and so on.
type migration struct {
	name string
	up   func(tx *bolt.Tx) error
}

// migrations returns every migration in order; the newest schema version is
// its length. Append new steps; never change or reorder released ones.
func migrations() []migration {
	return []migration{
		{"create the buckets of version 1", createBuckets1},
		{"create the buckets of version 2", createBuckets2},
		{"widen thread rows for the list's views and count open threads", migrateListRows},
		{"create the buckets of version 4 and index threads by contact", migrate4},
		{"make the emails visitors typed unverified", migrate5},
		{"give API tokens ids and scopes", migrate6},
		{"create the buckets of files and email templates", migrate7},
		{"create the buckets of webhooks", migrate8},
		{"create the buckets of companies", migrateCompanies},
		{"create the buckets of custom channels", migrateCustomChannels},
		{"let widgets' default texts follow the page's language", migrateWidgetTexts},
		{"create the bucket of the audit log", migrateAudit},
		{"store messages in a binary form", migrateMessages},
	}
}

func createBuckets1(tx *bolt.Tx) error {
	for _, name := range []string{
		bucketKV,
		bucketUsers, bucketUserEmails, bucketSessions, bucketInboxes, bucketWidgets,
		bucketContacts, bucketContactEmails, bucketVisitors,
		bucketThreads, bucketThreadLatest, bucketChatThreads,
		bucketMessages, bucketMessageIDs,
	} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrate brings the file up to len(steps) in one transaction, so a failing
// step leaves the file as it was, and returns the resulting version. It
// refuses a file whose version is newer than len(steps).
func migrate(bdb *bolt.DB, steps []migration) (int, error) {
	want := len(steps)
	var have int
	err := bdb.View(func(tx *bolt.Tx) (err error) {
		have, err = readSchemaVersion(tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	if have > want {
		return 0, fmt.Errorf("the data file has schema version %d, but this Parley knows only versions up to %d: run a newer Parley", have, want)
	}
	if have == want {
		return have, nil
	}
	if err := bdb.View(checkFirstLayout); err != nil {
		return 0, err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		have, err := readSchemaVersion(tx) // the file is locked: still the same
		if err != nil {
			return err
		}
		for v := have; v < want; v++ {
			if err := steps[v].up(tx); err != nil {
				return fmt.Errorf("migrate schema from version %d to %d (%s): %w", v, v+1, steps[v].name, err)
			}
		}
		meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
		if err != nil {
			return fmt.Errorf("create bucket meta: %w", err)
		}
		return meta.Put([]byte(keySchemaVersion), itob(uint64(want)))
	})
	if err != nil {
		return 0, err
	}
	return want, nil
}

func readSchemaVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return 0, nil
	}
	v := meta.Get([]byte(keySchemaVersion))
	switch {
	case v == nil:
		return 0, nil
	case len(v) != 8:
		return 0, fmt.Errorf("schema version: want 8 bytes, found %d", len(v))
	}
	n := binary.BigEndian.Uint64(v)
	if n > 1<<31 {
		return 0, fmt.Errorf("schema version %d is out of range", n)
	}
	return int(n), nil
}

// checkFirstLayout refuses a file of the first layout of version 1 (the
// store of 2026-11-25 before the inbox: messages in a bucket per thread,
// deduplicated in message_clients), which version 1 then dropped without
// a migration: no migration reads it, and it would fail midway.
func checkFirstLayout(tx *bolt.Tx) error {
	if tx.Bucket([]byte("message_clients")) != nil || tx.Bucket([]byte("thread_rows")) != nil {
		return errors.New("the data file has the layout of a development build of Parley from before its inbox (schema version 1 of November 2026), which no release reads: start afresh with an empty data directory")
	}
	return nil
}
