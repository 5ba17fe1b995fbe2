package store

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// The reply editor's links (R1): the admins' library of knowledge links and
// each user's meeting-scheduling link. Both are small: the library is read
// whole, and a meeting link is one key per user.

// Buckets of the reply editor's links (schema version 4, listed by
// threadContactBuckets).
const (
	bucketKnowledgeLinks = "knowledge_links" // id → KnowledgeLink
	bucketMeetingLinks   = "meeting_links"   // user id → URL (bytes)
)

// linkBuckets lists the buckets of the reply editor's links.
func linkBuckets() []string { return []string{bucketKnowledgeLinks, bucketMeetingLinks} }

func knowledgeLinkTable() table[parley.KnowledgeLink] {
	return table[parley.KnowledgeLink]{
		name:    "knowledge link",
		bucket:  bucketKnowledgeLinks,
		id:      func(l *parley.KnowledgeLink) *uint64 { return &l.ID },
		prepare: prepareAuthored(func(l *parley.KnowledgeLink) *parley.Authored { return &l.Authored }),
	}
}

// CreateKnowledgeLink stores a new knowledge link and sets l.ID,
// l.CreatedAt if zero and l.UpdatedAt. The fields are the caller's to
// validate (parley.KnowledgeLink.Validate). A library that already holds
// parley.MaxKnowledgeLinks links is ECONFLICT.
func (db *DB) CreateKnowledgeLink(ctx context.Context, l *parley.KnowledgeLink) error {
	return createCapped(ctx, db, knowledgeLinkTable(), l, parley.MaxKnowledgeLinks, "knowledge links")
}

// KnowledgeLink returns knowledge link id, or ENOTFOUND.
func (db *DB) KnowledgeLink(ctx context.Context, id uint64) (*parley.KnowledgeLink, error) {
	return readRecord(db, knowledgeLinkTable(), id)
}

// KnowledgeLinks returns the whole library, ordered by title
// (case-insensitively), then by id.
func (db *DB) KnowledgeLinks(ctx context.Context) ([]*parley.KnowledgeLink, error) {
	out, err := listRecords(db, knowledgeLinkTable())
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []*parley.KnowledgeLink{}
	}
	slices.SortStableFunc(out, func(a, b *parley.KnowledgeLink) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateKnowledgeLink changes knowledge link id with fn in one transaction,
// sets UpdatedAt and returns the link as written. An error from fn aborts
// with nothing written and is returned as it is; ENOTFOUND if the link does
// not exist. fn may not change ID, CreatedBy or CreatedAt (changes are
// undone). fn runs on the store's writer goroutine, maybe more than once; it
// must not call db.
func (db *DB) UpdateKnowledgeLink(ctx context.Context, id uint64, fn func(*parley.KnowledgeLink) error) (*parley.KnowledgeLink, error) {
	return updateRecord(ctx, db, knowledgeLinkTable(), id, fn)
}

// DeleteKnowledgeLink removes knowledge link id, or returns ENOTFOUND.
func (db *DB) DeleteKnowledgeLink(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketKnowledgeLinks)
		if b.Get(itob(id)) == nil {
			return knowledgeLinkTable().notFound(id)
		}
		return b.Delete(itob(id))
	})
}

// MeetingLink returns user id's meeting-scheduling link, "" if the user has
// none (or does not exist).
func (db *DB) MeetingLink(ctx context.Context, userID uint64) (string, error) {
	var link string
	err := db.view(func(tx *bolt.Tx) error {
		link = string(bucket(tx, bucketMeetingLinks).Get(itob(userID)))
		return nil
	})
	return link, err
}

// SetMeetingLink saves url as user id's meeting-scheduling link; "" removes
// it. The address is the caller's to validate (parley.ValidateLinkURL). A
// user that does not exist is ENOTFOUND.
func (db *DB) SetMeetingLink(ctx context.Context, userID uint64, url string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if bucket(tx, bucketUsers).Get(itob(userID)) == nil {
			return userTable().notFound(userID)
		}
		links := bucket(tx, bucketMeetingLinks)
		if url == "" {
			return links.Delete(itob(userID))
		}
		return links.Put(itob(userID), []byte(url))
	})
}
