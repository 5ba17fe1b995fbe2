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

// Buckets of contacts' tickets, deals and engagements and of the visitor
// credentials by contact (schema version 2). Keys are big-endian uint64s
// unless noted; index values are empty.
const (
	bucketRecords            = "records"             // id → Record
	bucketRecordContacts     = "record_contacts"     // (contact, record) → empty
	bucketRecordThreads      = "record_threads"      // (thread, record) → empty
	bucketEngagements        = "engagements"         // id → Engagement
	bucketEngagementContacts = "engagement_contacts" // (contact, engagement) → empty
	bucketContactVisitors    = "contact_visitors"    // contact ‖ visitor hash → empty
)

// contactBuckets lists the buckets of contacts' tickets, deals and engagements.
func contactBuckets() []string {
	return []string{
		bucketRecords, bucketRecordContacts, bucketRecordThreads,
		bucketEngagements, bucketEngagementContacts, bucketContactVisitors,
	}
}

// ----- Records: tickets and deals (R5) -----

func recordTable() table[parley.Record] {
	return table[parley.Record]{
		name:   "record",
		bucket: bucketRecords,
		id:     func(r *parley.Record) *uint64 { return &r.ID },
		prepare: func(r, old *parley.Record, now time.Time) {
			if old != nil {
				// What a record is and whose: fixed at creation. Threads
				// join only with their recorded event (CreateRecord).
				r.Kind, r.ContactID, r.CreatedBy, r.CreatedAt = old.Kind, old.ContactID, old.CreatedBy, old.CreatedAt
				r.ThreadIDs = old.ThreadIDs
			}
			stampTimes(&r.CreatedAt, &r.UpdatedAt, old == nil, now)
		},
		index: indexRecord,
	}
}

// indexRecord keeps record_contacts and record_threads right.
func indexRecord(tx *bolt.Tx, r, old *parley.Record) error {
	byContact, byThread := bucket(tx, bucketRecordContacts), bucket(tx, bucketRecordThreads)
	var was []uint64
	if old != nil {
		was = old.ThreadIDs
		if old.ContactID != r.ContactID {
			if err := byContact.Delete(key2(old.ContactID, r.ID)); err != nil {
				return err
			}
		}
	}
	if err := byContact.Put(key2(r.ContactID, r.ID), []byte{}); err != nil {
		return err
	}
	for _, t := range was {
		if !slices.Contains(r.ThreadIDs, t) {
			if err := byThread.Delete(key2(t, r.ID)); err != nil {
				return err
			}
		}
	}
	for _, t := range r.ThreadIDs {
		if err := byThread.Put(key2(t, r.ID), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// CreateRecord stores a new ticket or deal of contact r.ContactID and sets
// r.ID, r.CreatedAt if zero, and r.UpdatedAt. The fields are the caller's to
// validate (parley.Record.Validate); the contact must exist (ENOTFOUND).
//
// With event nil the record is associated with no thread, and r.ThreadIDs
// must be empty (EINVALID). Otherwise the record is associated with thread
// event.ThreadID, which must be a thread of the contact (EINVALID, checked
// inside the transaction), and event (a TypeSystem message such as
// EventRecordCreated) is appended to it in the same transaction, as
// AppendMessage does it; the result describes that append (zero without an
// event) and *event is the message as stored.
func (db *DB) CreateRecord(ctx context.Context, r *parley.Record, event *parley.Message) (parley.AppendResult, error) {
	if event == nil && len(r.ThreadIDs) > 0 {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "a record joins a thread only with its recorded event")
	}
	in := *r
	var threadID uint64
	if event != nil {
		if event.ThreadID == 0 {
			return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "event has no thread")
		}
		threadID = event.ThreadID
		in.ThreadIDs = []uint64{threadID}
	}
	res, err := createOnContact(ctx, db, recordTable(), &in, in.ContactID, threadID, event)
	if err == nil {
		*r = in
	}
	return res, err
}

// createOnContact writes v, a new record of tb that belongs to contact
// contactID, which must exist (ENOTFOUND). With event, it appends event to
// thread threadID in the same transaction, as AppendMessage does it; the
// thread must be one of the contact's (EINVALID). On success v is what was
// written and *event the message as stored; the result describes the
// append (zero without an event). v is copied deeply first, so that the
// writer owns what it writes.
func createOnContact[T any](ctx context.Context, db *DB, tb table[T], v *T, contactID, threadID uint64, event *parley.Message) (parley.AppendResult, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return parley.AppendResult{}, fmt.Errorf("create %s: %w", tb.name, err)
	}
	var ev parley.Message
	if event != nil {
		ev = *event
		ev.ThreadID, ev.ClientID = threadID, "" // system events are never retried by a client
	}
	now := db.utcNow()

	var out *T
	var res parley.AppendResult
	err = db.update(ctx, func(tx *bolt.Tx) error {
		w := new(T)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		if err := requireContact(tx, contactID); err != nil {
			return err
		}
		if err := tb.insert(tx, w, now); err != nil {
			return err
		}
		res = parley.AppendResult{}
		if event != nil {
			var err error
			if res, err = appendMessage(tx, ev, parley.Thread{}, threadOfContact(contactID), now); err != nil {
				return err
			}
		}
		out = w
		return nil
	})
	if err != nil {
		return parley.AppendResult{}, err
	}
	*v = *out
	if event != nil {
		*event = *res.Message
		res.Message = event
	}
	return res, nil
}

// requireContact returns ENOTFOUND unless contact id exists.
func requireContact(tx *bolt.Tx, id uint64) error {
	if id == 0 || bucket(tx, bucketContacts).Get(itob(id)) == nil {
		return contactTable().notFound(id)
	}
	return nil
}

// threadOfContact is an append's Update that refuses a thread of another
// contact: what the caller checked may have changed before the write.
func threadOfContact(contactID uint64) func(*parley.Thread) error {
	return func(t *parley.Thread) error {
		if t.ContactID != contactID {
			return parley.Errorf(parley.EINVALID, "thread %d is not a conversation of contact %d", t.ID, contactID)
		}
		return nil
	}
}

// Record returns record id, or ENOTFOUND.
func (db *DB) Record(ctx context.Context, id uint64) (*parley.Record, error) {
	return readRecord(db, recordTable(), id)
}

// UpdateRecord changes record id with fn in one transaction, sets UpdatedAt
// and returns the record as written. An error from fn aborts with nothing
// written and is returned as it is; ENOTFOUND if the record does not exist.
// fn may change Name, Stage, Amount and OwnerID; changes to anything else
// are undone. fn runs on the store's writer goroutine, maybe more than once
// and maybe after UpdateRecord has returned ctx.Err(); it must not call db.
func (db *DB) UpdateRecord(ctx context.Context, id uint64, fn func(*parley.Record) error) (*parley.Record, error) {
	return updateRecord(ctx, db, recordTable(), id, fn)
}

// UpdateRecordWithEvents is UpdateRecord that also records the change on
// each thread the record is associated with, in the same transaction (R5).
// After fn, note is called with the record as stored and as it would be
// written; it returns the system message that records the change (a
// TypeSystem message such as EventRecordUpdated), or nil if there is
// nothing to record, in which case nothing is written and the record is
// returned as stored. Otherwise a copy of the message is appended to each of
// the record's threads, as AppendMessage does it (its ThreadID set to the
// thread's, its ClientID dropped), and the results describe those appends
// in the order of the record's ThreadIDs. fn and note run on the store's
// writer goroutine, maybe more than once; they must not call db.
func (db *DB) UpdateRecordWithEvents(ctx context.Context, id uint64, fn func(*parley.Record) error, note func(old, r *parley.Record) *parley.Message) (*parley.Record, []parley.AppendResult, error) {
	now := db.utcNow()
	var out *parley.Record
	var results []parley.AppendResult
	err := db.update(ctx, func(tx *bolt.Tx) error {
		out, results = nil, nil
		tb := recordTable()
		old, err := tb.get(tx, id)
		if err != nil {
			return err
		}
		r := *old // shallow: prepare keeps old's ThreadIDs
		if err := fn(&r); err != nil {
			return err
		}
		tb.fix(&r, old, now)
		ev := note(old, &r)
		if ev == nil {
			out = old
			return nil
		}
		if err := tb.put(tx, bucket(tx, bucketRecords), &r, old); err != nil {
			return err
		}
		threads := bucket(tx, bucketThreads)
		for _, threadID := range r.ThreadIDs {
			if threads.Get(itob(threadID)) == nil {
				return fmt.Errorf("record %d lists thread %d, which does not exist", r.ID, threadID)
			}
			m := *ev
			m.ThreadID, m.ClientID = threadID, ""
			if ev.Changes != nil {
				changes := slices.Clone(*ev.Changes)
				m.Changes = &changes
			}
			res, err := appendMessage(tx, m, parley.Thread{}, nil, now)
			if err != nil {
				return err
			}
			results = append(results, res)
		}
		out = &r
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, results, nil
}

// ContactRecords returns the records of the contact, newest first (none for
// an unknown contact).
func (db *DB) ContactRecords(ctx context.Context, contactID uint64) ([]*parley.Record, error) {
	return db.recordsBy(bucketRecordContacts, contactID)
}

// ThreadRecords returns the records associated with the thread, newest first
// (none for an unknown thread).
func (db *DB) ThreadRecords(ctx context.Context, threadID uint64) ([]*parley.Record, error) {
	return db.recordsBy(bucketRecordThreads, threadID)
}

// recordsBy reads the records an index lists under owner, newest first.
func (db *DB) recordsBy(index string, owner uint64) ([]*parley.Record, error) {
	out := []*parley.Record{}
	err := db.view(func(tx *bolt.Tx) error {
		return eachIndexed(tx, index, owner, 0, 0, func(id uint64) (bool, error) {
			r, err := recordTable().get(tx, id)
			if err != nil {
				return false, fmt.Errorf("%s index: %w", index, err)
			}
			out = append(out, r)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachIndexed calls fn with the ids that index lists under owner (keys
// (owner, id)), highest id first, starting below beforeID (0: from the
// highest), until fn answers false or, when limit > 0, limit ids were given.
func eachIndexed(tx *bolt.Tx, index string, owner, beforeID uint64, limit int, fn func(id uint64) (bool, error)) error {
	c := bucket(tx, index).Cursor()
	prefix := itob(owner)
	var k []byte
	if beforeID == 0 {
		// The first key after every key of owner, then one step back.
		if owner == ^uint64(0) {
			k, _ = c.Last()
		} else if k, _ = c.Seek(itob(owner + 1)); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	} else if k, _ = c.Seek(key2(owner, beforeID)); k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for n := 0; k != nil && bytes.HasPrefix(k, prefix) && (limit <= 0 || n < limit); k, _ = c.Prev() {
		if len(k) != 16 {
			return fmt.Errorf("%s: bad key %x", index, k)
		}
		more, err := fn(btoi(k[8:]))
		if err != nil || !more {
			return err
		}
		n++
	}
	return nil
}

// unlinkThreadRecords forgets thread threadID, which is being deleted for
// good, in the records associated with it: their ThreadIDs and
// record_threads. The records stay with their contacts. (Engagements keep
// their ThreadID: a thread that no longer exists is seen by nobody.)
func unlinkThreadRecords(tx *bolt.Tx, threadID uint64) error {
	var ids []uint64
	prefix := itob(threadID)
	byThread := bucket(tx, bucketRecordThreads)
	c := byThread.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, btoi(k[8:]))
	}
	tb := recordTable()
	for _, id := range ids {
		old, err := tb.get(tx, id)
		if err != nil {
			return fmt.Errorf("record_threads: %w", err)
		}
		r := *old
		r.ThreadIDs = slices.DeleteFunc(slices.Clone(old.ThreadIDs), func(t uint64) bool { return t == threadID })
		if err := tb.put(tx, bucket(tx, bucketRecords), &r, old); err != nil {
			return err
		}
	}
	return nil
}

// ----- Engagements: logged calls, emails and notes (I8) -----

func engagementTable() table[parley.Engagement] {
	return table[parley.Engagement]{
		name:   "engagement",
		bucket: bucketEngagements,
		id:     func(e *parley.Engagement) *uint64 { return &e.ID },
		prepare: func(e, old *parley.Engagement, now time.Time) {
			if old != nil {
				*e = *old // engagements are logged, not edited
				return
			}
			if e.CreatedAt.IsZero() {
				e.CreatedAt = now
			}
		},
		index: func(tx *bolt.Tx, e, old *parley.Engagement) error {
			return bucket(tx, bucketEngagementContacts).Put(key2(e.ContactID, e.ID), []byte{})
		},
	}
}

// CreateEngagement logs an engagement with contact e.ContactID and sets e.ID
// and e.CreatedAt if zero. The fields are the caller's to validate
// (parley.Engagement.Validate); the contact must exist (ENOTFOUND).
//
// With e.ThreadID 0, event must be nil. Otherwise event (a TypeSystem
// message such as EventEngagementAdded) is required and is appended to
// thread e.ThreadID in the same transaction, as AppendMessage does it; that
// thread must be a thread of the contact (EINVALID, checked inside the
// transaction). The result describes the append (zero without a thread) and
// *event is the message as stored.
func (db *DB) CreateEngagement(ctx context.Context, e *parley.Engagement, event *parley.Message) (parley.AppendResult, error) {
	if (e.ThreadID == 0) != (event == nil) {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "an engagement on a thread needs its recorded event, and only then")
	}
	in := *e
	res, err := createOnContact(ctx, db, engagementTable(), &in, in.ContactID, in.ThreadID, event)
	if err == nil {
		*e = in
	}
	return res, err
}

// ContactEngagements returns up to limit engagements of the contact with ids
// below beforeID (0: from the newest), newest first, and whether more
// follow. limit defaults to 100 and is at most 500.
func (db *DB) ContactEngagements(ctx context.Context, contactID, beforeID uint64, limit int) ([]*parley.Engagement, bool, error) {
	limit = pageLimit(limit)
	out := []*parley.Engagement{}
	more := false
	err := db.view(func(tx *bolt.Tx) error {
		return eachIndexed(tx, bucketEngagementContacts, contactID, beforeID, 0, func(id uint64) (bool, error) {
			if len(out) == limit {
				more = true
				return false, nil
			}
			e, err := engagementTable().get(tx, id)
			if err != nil {
				return false, fmt.Errorf("engagement index: %w", err)
			}
			out = append(out, e)
			return true, nil
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// ----- Visitor credentials by contact -----

// contactVisitorKey is the key of visitor hash under contact id in
// contact_visitors.
func contactVisitorKey(contactID uint64, hash string) []byte {
	return append(itob(contactID), hash...)
}

// indexVisitor records in contact_visitors that visitor credential v stands
// for v.ContactID.
func indexVisitor(tx *bolt.Tx, v *parley.Visitor) error {
	return bucket(tx, bucketContactVisitors).Put(contactVisitorKey(v.ContactID, v.Hash), []byte{})
}

// indexAllVisitors fills contact_visitors from visitors: the migration to
// schema version 2, for the credentials stored before it.
func indexAllVisitors(tx *bolt.Tx) error {
	return bucket(tx, bucketVisitors).ForEach(func(k, data []byte) error {
		var v parley.Visitor
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("decode visitor: %w", err)
		}
		v.Hash = string(k)
		return indexVisitor(tx, &v)
	})
}

// contactVisitorHashes returns the hashes of the visitor credentials that
// stand for contact id.
func contactVisitorHashes(tx *bolt.Tx, contactID uint64) []string {
	var out []string
	prefix := itob(contactID)
	c := bucket(tx, bucketContactVisitors).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[8:]))
	}
	return out
}

// ----- Disassociating a contact from a chat -----

// DisassociateContact detaches chat thread threadID from its contact,
// contactID, in one transaction: it creates a fresh anonymous contact, makes
// it the thread's contact, and appends event (a TypeSystem message such as
// EventContactRemoved) to the thread.
//
// The visitor who chats in that thread must keep chatting in it. A visitor's
// browser holds a credential (parley.Visitor) that stands for a contact, and
// its messages go to the newest chat thread of that contact on the widget
// (ChatThread). So if the thread is that newest chat of the old contact on
// its widget — the chat the visitor is writing into now — every credential
// of the old contact is moved to the new one in the same transaction: the
// browser is now the anonymous contact, and its next message goes to the
// same thread, while the old contact keeps its other threads and loses this
// one. (Parley's widget keeps one credential per widget, and each new
// credential gets its own contact, so in practice that is exactly the
// credential that wrote the chat.) If the thread is an older chat, which no
// visitor writes into any more, no credential moves. A visitor connected
// right now keeps its old contact id in memory: it must read its credential
// again before its next message (see Visitor).
//
// It returns ENOTFOUND if the thread does not exist, EINVALID if it is not
// a chat thread, and ECONFLICT if its contact is no longer contactID (0
// skips that check).
func (db *DB) DisassociateContact(ctx context.Context, threadID, contactID uint64, event *parley.Message) (*parley.Disassociation, error) {
	if event == nil {
		return nil, parley.Errorf(parley.EINVALID, "disassociation needs its recorded event")
	}
	ev := *event
	ev.ThreadID, ev.ClientID = threadID, ""
	now := db.utcNow()
	var out *parley.Disassociation
	err := db.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		t, err := threadTable().get(tx, threadID)
		if err != nil {
			return err
		}
		if t.ChannelID != parley.ChannelChat {
			return parley.Errorf(parley.EINVALID, "only a chat can be detached from its contact; thread %d is not a chat", t.ID)
		}
		if contactID != 0 && t.ContactID != contactID {
			return parley.Errorf(parley.ECONFLICT, "the contact of thread %d has changed", t.ID)
		}
		old := t.ContactID
		c := &parley.Contact{CreatedAt: now}
		if err := contactTable().insert(tx, c, now); err != nil {
			return err
		}
		moved := 0
		if chatThreadID(tx, old, t.ChannelAccountID) == t.ID {
			if moved, err = moveVisitors(tx, old, c.ID); err != nil {
				return err
			}
		}
		res, err := appendMessage(tx, ev, parley.Thread{}, func(t *parley.Thread) error {
			if t.ContactID != old {
				return fmt.Errorf("thread %d changed during its disassociation", t.ID)
			}
			t.ContactID = c.ID
			return nil
		}, now)
		if err != nil {
			return err
		}
		out = &parley.Disassociation{Thread: res.Thread, Message: res.Message, Contact: c, OldContact: old, Visitors: moved}
		return nil
	})
	if err != nil {
		return nil, err
	}
	*event = *out.Message
	out.Message = event
	return out, nil
}

// moveVisitors makes every visitor credential of contact from stand for
// contact to, and returns how many there were.
func moveVisitors(tx *bolt.Tx, from, to uint64) (int, error) {
	visitors, index := bucket(tx, bucketVisitors), bucket(tx, bucketContactVisitors)
	hashes := contactVisitorHashes(tx, from)
	for _, h := range hashes {
		var v parley.Visitor
		if ok, err := getJSON(visitors, []byte(h), &v); err != nil {
			return 0, fmt.Errorf("decode visitor: %w", err)
		} else if !ok {
			return 0, fmt.Errorf("contact_visitors lists a visitor of contact %d that does not exist", from)
		}
		v.ContactID = to
		if err := putJSON(visitors, []byte(h), &v); err != nil {
			return 0, err
		}
		if err := index.Delete(contactVisitorKey(from, h)); err != nil {
			return 0, err
		}
		if err := index.Put(contactVisitorKey(to, h), []byte{}); err != nil {
			return 0, err
		}
	}
	return len(hashes), nil
}
