package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// EraseContact deletes contact id for good, as ContactStore describes, in
// one transaction. What it removes, bucket by bucket:
//
//   - contacts, contact_emails, search_dirty: the contact itself;
//   - visitors, contact_visitors: the browser credentials that stood for it,
//     so that a visitor token resumes nothing;
//   - every thread of the contact (thread_contacts), in or out of the trash,
//     with all it has in any bucket (deleteThread: messages, dedup ids,
//     search terms, files' records, mail, queue entries), each reported as
//     conversation.privacyDeletion;
//   - uploads the contact made that no message claimed yet;
//   - records and engagements of the contact, with their indexes;
//   - channel_contacts entries that name it (the sender's address on a
//     custom channel);
//   - company_contacts, and the company itself when Parley made it for the
//     contact's domain (CreatedBy 0) and no other contact belongs to it:
//     its name and domain came from the contact's address.
//
// Threads of other contacts stay as they are, agents' notes about the
// contact in them too; a message there that the contact sent keeps its
// sender id, which names no one any more (shown as an erased contact).
// Whoever adds a bucket keyed by or naming a contact adds its removal
// here; TestEraseContactLeavesNothing walks every bucket to check.
func (db *DB) EraseContact(ctx context.Context, id uint64) (*parley.Erasure, error) {
	now := db.utcNow()
	var out *parley.Erasure
	err := db.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		c, err := contactTable().get(tx, id)
		if err != nil {
			return err
		}
		e := &parley.Erasure{Contact: c}
		keys := map[string]bool{}
		// Files first: deleteThread drops their records.
		if err := contactFileKeys(tx, id, keys); err != nil {
			return err
		}
		threads := threadTable()
		for _, tid := range contactThreadIDs(tx, id, 0) {
			t, err := threads.get(tx, tid)
			if err != nil {
				return err
			}
			if err := deleteThread(tx, t, now); err != nil {
				return fmt.Errorf("delete thread %d: %w", tid, err)
			}
			e.Threads = append(e.Threads, t)
		}
		if err := deleteContactUploads(tx, id); err != nil {
			return err
		}
		if err := deleteContactRecords(tx, id); err != nil {
			return err
		}
		if err := deleteContactVisitors(tx, id); err != nil {
			return err
		}
		if err := deleteChannelContacts(tx, id); err != nil {
			return err
		}
		if err := unindexContactSearch(tx, id); err != nil {
			return err
		}
		if err := eraseContactCompany(tx, c); err != nil {
			return err
		}
		// Indexes whose entries went with the threads; an entry left
		// over by a thread that changed contact goes too.
		for _, name := range []string{bucketThreadContacts, bucketChatThreads} {
			if err := deletePrefix(bucket(tx, name), itob(id)); err != nil {
				return err
			}
		}
		if k := emailKey(c.Email); k != "" {
			b := bucket(tx, bucketContactEmails)
			if v := b.Get([]byte(k)); v != nil && btoi(v) == id {
				if err := b.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
		if err := bucket(tx, bucketContacts).Delete(itob(id)); err != nil {
			return err
		}
		e.FileKeys = slices.Sorted(maps.Keys(keys))
		out = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.shared.contacts.forget(id)
	return out, nil
}

// contactFileKeys adds to keys the blob keys of the files of contact id:
// those of its threads and its unclaimed uploads.
func contactFileKeys(tx *bolt.Tx, id uint64, keys map[string]bool) error {
	files := fileTable()
	add := func(fid uint64) error {
		f, err := files.get(tx, fid)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		keys[f.Key] = true
		return nil
	}
	tf := bucket(tx, bucketThreadFiles)
	for _, tid := range contactThreadIDs(tx, id, 0) {
		prefix := itob(tid)
		c := tf.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := add(btoi(k[8:])); err != nil {
				return err
			}
		}
	}
	fids, err := contactUploads(tx, id)
	if err != nil {
		return err
	}
	for _, fid := range fids {
		if err := add(fid); err != nil {
			return err
		}
	}
	return nil
}

// contactUploads returns the ids of the unclaimed uploads contact id made.
func contactUploads(tx *bolt.Tx, id uint64) ([]uint64, error) {
	actor := parley.ContactActorID(id)
	files := fileTable()
	var out []uint64
	err := bucket(tx, bucketUploads).ForEach(func(k, _ []byte) error {
		f, err := files.get(tx, btoi(k))
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if f.UploadedBy == actor {
			out = append(out, f.ID)
		}
		return nil
	})
	return out, err
}

// deleteContactUploads deletes the records of the unclaimed uploads of
// contact id.
func deleteContactUploads(tx *bolt.Tx, id uint64) error {
	fids, err := contactUploads(tx, id)
	if err != nil {
		return err
	}
	for _, fid := range fids {
		f, err := fileTable().get(tx, fid)
		if err != nil {
			return err
		}
		if err := deleteFile(tx, f); err != nil {
			return err
		}
	}
	return nil
}

// deleteContactRecords deletes the tickets, deals and engagements of
// contact id with their index entries. The system messages that announced
// them on threads that are not the contact's stay with those threads.
func deleteContactRecords(tx *bolt.Tx, id uint64) error {
	prefix := itob(id)
	var recordIDs []uint64
	c := bucket(tx, bucketRecordContacts).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		recordIDs = append(recordIDs, btoi(k[8:]))
	}
	records, byThread := bucket(tx, bucketRecords), bucket(tx, bucketRecordThreads)
	for _, rid := range recordIDs {
		r, err := recordTable().get(tx, rid)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		for _, t := range r.ThreadIDs {
			if err := byThread.Delete(key2(t, rid)); err != nil {
				return err
			}
		}
		if err := records.Delete(itob(rid)); err != nil {
			return err
		}
	}
	if err := deletePrefix(bucket(tx, bucketRecordContacts), prefix); err != nil {
		return err
	}
	var engagementIDs []uint64
	c = bucket(tx, bucketEngagementContacts).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		engagementIDs = append(engagementIDs, btoi(k[8:]))
	}
	engagements := bucket(tx, bucketEngagements)
	for _, eid := range engagementIDs {
		if err := engagements.Delete(itob(eid)); err != nil {
			return err
		}
	}
	return deletePrefix(bucket(tx, bucketEngagementContacts), prefix)
}

// deleteContactVisitors deletes the visitor credentials of contact id.
func deleteContactVisitors(tx *bolt.Tx, id uint64) error {
	visitors := bucket(tx, bucketVisitors)
	for _, h := range contactVisitorHashes(tx, id) {
		if err := visitors.Delete([]byte(h)); err != nil {
			return err
		}
	}
	return deletePrefix(bucket(tx, bucketContactVisitors), itob(id))
}

// deleteChannelContacts deletes the entries of channel_contacts that lead
// to contact id. The bucket is keyed by sender, so it is read whole.
func deleteChannelContacts(tx *bolt.Tx, id uint64) error {
	b := bucket(tx, bucketChannelContacts)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if len(v) == 8 && btoi(v) == id {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// unindexContactSearch forgets contact id in the search index: its dirty
// mark, and the fields of threads that still have it indexed although they
// are no longer its own (a detached chat the indexer has not caught up
// with), which are indexed again without it.
func unindexContactSearch(tx *bolt.Tx, id uint64) error {
	if !searchBucketsExist(tx) {
		return nil
	}
	if err := bucket(tx, bucketSearchDirty).Delete(itob(id)); err != nil {
		return err
	}
	prefix := itob(id)
	var tids []uint64
	c := bucket(tx, bucketSearchContacts).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		tids = append(tids, btoi(k[8:]))
	}
	if err := deletePrefix(bucket(tx, bucketSearchContacts), prefix); err != nil {
		return err
	}
	iw := newIndexWriter(tx)
	for _, tid := range tids {
		t, err := threadTable().get(tx, tid)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		// Make the indexer's state differ, so indexFields rewrites the
		// thread's field terms from its present contact.
		if err := bucket(tx, bucketSearchThreads).Delete(itob(tid)); err != nil {
			return err
		}
		if err := iw.indexFields(t); err != nil {
			return err
		}
	}
	return iw.flush()
}

// eraseContactCompany takes contact c out of its company, and deletes the
// company if Parley made it (from c's domain, CreatedBy 0) and no other
// contact belongs to it.
func eraseContactCompany(tx *bolt.Tx, c *parley.Contact) error {
	if c.CompanyID == 0 || tx.Bucket([]byte(bucketCompanies)) == nil {
		return nil
	}
	members := bucket(tx, bucketCompanyContacts)
	if err := members.Delete(key2(c.CompanyID, c.ID)); err != nil {
		return err
	}
	co, err := companyTable().get(tx, c.CompanyID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	prefix := itob(co.ID)
	if k, _ := members.Cursor().Seek(prefix); co.CreatedBy != 0 || k != nil && bytes.HasPrefix(k, prefix) {
		return nil
	}
	if co.Domain != "" {
		if err := bucket(tx, bucketCompanyDomains).Delete(domainKey(co.Domain, co.ID)); err != nil {
			return err
		}
	}
	return bucket(tx, bucketCompanies).Delete(prefix)
}
