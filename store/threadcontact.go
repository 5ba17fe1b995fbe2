package store

import (
	"bytes"
	"cmp"
	"math"
	"slices"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Threads by contact: a contact's past conversations (the contact sidebar,
// GET threads?associatedContactId=, actor lookups) read the few keys of one
// contact instead of every thread's row. The index is kept by the thread
// table's index function, in the transaction of every thread write, and by
// deleteThread; migrate4 fills it for the threads stored before.

// bucketThreadContacts holds the threads of each contact; threads without a
// contact (ContactID 0) are not in it.
const bucketThreadContacts = "thread_contacts" // (contact, thread) → empty

// threadContactBuckets lists the buckets of this area, created by migrate4:
// the index of threads by contact and the reply editor's links (links.go).
func threadContactBuckets() []string {
	return append([]string{bucketThreadContacts}, linkBuckets()...)
}

// indexThreadContacts fills this area's indexes over the threads stored
// before schema version 4.
func indexThreadContacts(tx *bolt.Tx) error {
	index := bucket(tx, bucketThreadContacts)
	c := bucket(tx, bucketThreads).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := threadRow(btoi(k), v)
		if err != nil {
			return err
		}
		if r.contact() == 0 {
			continue
		}
		if err := index.Put(key2(r.contact(), btoi(k)), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// indexThreadContact moves thread t in thread_contacts when it is new (old
// nil) or its contact changed. It is part of indexThread.
func indexThreadContact(tx *bolt.Tx, t, old *parley.Thread) error {
	if old != nil && old.ContactID == t.ContactID {
		return nil
	}
	index := bucket(tx, bucketThreadContacts)
	if old != nil && old.ContactID != 0 {
		if err := index.Delete(key2(old.ContactID, old.ID)); err != nil {
			return err
		}
	}
	if t.ContactID == 0 {
		return nil
	}
	return index.Put(key2(t.ContactID, t.ID), []byte{})
}

// unindexThreadContact removes thread t (as stored) from thread_contacts, in
// the transaction that deletes it (deleteThread).
func unindexThreadContact(tx *bolt.Tx, t *parley.Thread) error {
	if t.ContactID == 0 {
		return nil
	}
	return bucket(tx, bucketThreadContacts).Delete(key2(t.ContactID, t.ID))
}

// contactThreadIDs returns the ids of contact's threads above afterID, in
// ascending order.
func contactThreadIDs(tx *bolt.Tx, contact, afterID uint64) []uint64 {
	if afterID == math.MaxUint64 {
		return nil
	}
	var ids []uint64
	prefix := itob(contact)
	c := bucket(tx, bucketThreadContacts).Cursor()
	for k, _ := c.Seek(key2(contact, afterID+1)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, btoi(k[8:]))
	}
	return ids
}

// scanContact appends to ids up to n threads of f.ContactID that match, in
// the order of f.Sort (parley.SortByLatest or parley.SortByLatestAsc; by id,
// Threads uses scanIDs) after f.AfterID, reading only that contact's threads.
// A contact has few threads, so it reads all their rows and sorts them; an AfterID that
// names no thread is EINVALID there, as in scanLatest.
func scanContact(tx *bolt.Tx, f *parley.ThreadFilter, n int, match func(row) bool, ids *[]uint64) error {
	threads := bucket(tx, bucketThreads)
	type ranked struct{ latest, id uint64 }
	// order is f.Sort's: latest, then id, both descending (parley.SortByLatest)
	// or both ascending (parley.SortByLatestAsc).
	order := func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.latest, a.latest), cmp.Compare(b.id, a.id))
	}
	if f.Sort == parley.SortByLatestAsc {
		order = func(a, b ranked) int {
			return cmp.Or(cmp.Compare(a.latest, b.latest), cmp.Compare(a.id, b.id))
		}
	}
	var cursor *ranked
	if f.AfterID != 0 {
		v := threads.Get(itob(f.AfterID))
		if v == nil {
			return parley.Errorf(parley.EINVALID, "paging cursor: thread %d not found", f.AfterID)
		}
		r, err := threadRow(f.AfterID, v)
		if err != nil {
			return err
		}
		cursor = &ranked{r.latest(), f.AfterID}
	}
	var found []ranked
	for _, id := range contactThreadIDs(tx, f.ContactID, 0) {
		r, err := threadRow(id, threads.Get(itob(id)))
		if err != nil {
			return err
		}
		rk := ranked{r.latest(), id}
		if cursor != nil && order(rk, *cursor) <= 0 || !match(r) {
			continue // the cursor itself or before it
		}
		found = append(found, rk)
	}
	slices.SortFunc(found, order)
	for _, rk := range found[:min(n, len(found))] {
		*ids = append(*ids, rk.id)
	}
	return nil
}
