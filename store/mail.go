package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Team email (E1–E4): the inboxes' addresses, the Message-IDs that thread
// mail, the durable outbox and the delivery status of sent messages.
//
//	mail_addresses    lowercase address → inbox ‖ mailbox: who receives mail for it
//	mail_ids          inbox ‖ Message-ID → thread ‖ message: mail that Parley received or sent
//	mail_thread_ids   thread ‖ message → Message-ID: a thread's mail, oldest first
//	mail_outbox       id → OutboxItem: mail waiting to be sent; its sequence numbers the items
//	mail_delivery     thread ‖ message → Delivery: the sending status of a reply;
//	                  a failed reply's record keeps its email (failedItem) for a retry
const (
	bucketMailAddresses = "mail_addresses"
	bucketMailIDs       = "mail_ids"
	bucketMailThreadIDs = "mail_thread_ids"
	bucketMailOutbox    = "mail_outbox"
	bucketMailDelivery  = "mail_delivery"
)

// mailBuckets lists the buckets of this area, created by migrate4.
func mailBuckets() []string {
	return []string{bucketMailAddresses, bucketMailIDs, bucketMailThreadIDs, bucketMailOutbox, bucketMailDelivery}
}

// ----- inbox addresses -----

// indexInboxMail keeps mail_addresses right when inbox in replaces old (nil
// on create). A mailbox without an id gets the id its address had in old, or
// a new one from the widgets' sequence, so that widget and mailbox ids never
// collide as channel account ids. An address of another inbox is ECONFLICT;
// the same address twice in one inbox is EINVALID.
func indexInboxMail(tx *bolt.Tx, in, old *parley.Inbox) error {
	addrs := bucket(tx, bucketMailAddresses)
	oldIDs := map[string]uint64{}
	if old != nil {
		for _, mb := range old.Mailboxes {
			oldIDs[emailKey(mb.Address)] = mb.ID
		}
	}
	// The caller's slice stays as it was: this write may run again.
	in.Mailboxes = slices.Clone(in.Mailboxes)
	seen := map[string]bool{}
	for i := range in.Mailboxes {
		mb := &in.Mailboxes[i]
		key := emailKey(mb.Address)
		if key == "" {
			return parley.Errorf(parley.EINVALID, "an email address of the inbox is empty")
		}
		if err := checkKey("an email address of the inbox", mb.Address); err != nil {
			return err
		}
		if seen[key] {
			return parley.Errorf(parley.EINVALID, "email address %s is listed twice", mb.Address)
		}
		seen[key] = true
		if v := addrs.Get([]byte(key)); len(v) == 16 && btoi(v) != in.ID {
			name := fmt.Sprintf("%d", btoi(v))
			if other, err := inboxTable().get(tx, btoi(v)); err == nil {
				name = other.Name
			}
			return parley.Errorf(parley.ECONFLICT, "email address %s already belongs to inbox %q", mb.Address, name)
		}
		if id, ok := oldIDs[key]; ok && (mb.ID == 0 || mb.ID == id) {
			mb.ID = id
		} else {
			id, err := bucket(tx, bucketWidgets).NextSequence()
			if err != nil {
				return err
			}
			mb.ID = id
		}
	}
	for key := range oldIDs {
		if !seen[key] {
			if err := addrs.Delete([]byte(key)); err != nil {
				return err
			}
		}
	}
	for _, mb := range in.Mailboxes {
		if err := addrs.Put([]byte(emailKey(mb.Address)), key2(in.ID, mb.ID)); err != nil {
			return err
		}
	}
	return nil
}

// deleteInboxMail removes the addresses of inbox id, in the transaction
// that deletes it (DeleteInbox). Its threads' mail goes with each thread.
func deleteInboxMail(tx *bolt.Tx, id uint64) error {
	addrs := bucket(tx, bucketMailAddresses)
	var keys [][]byte
	err := addrs.ForEach(func(k, v []byte) error {
		if len(v) == 16 && btoi(v) == id {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := addrs.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Mailbox returns the inbox and mailbox that receive mail for address, in
// any case, or ENOTFOUND.
func (db *DB) Mailbox(ctx context.Context, address string) (inboxID, mailboxID uint64, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v := bucket(tx, bucketMailAddresses).Get([]byte(emailKey(address)))
		if len(v) != 16 {
			return parley.Errorf(parley.ENOTFOUND, "no inbox has the address %s", address)
		}
		inboxID, mailboxID = btoi(v), btoi(v[8:])
		return nil
	})
	return inboxID, mailboxID, err
}

// ----- Message-IDs -----

// mailIDKey is the key of a Message-ID in an inbox in mail_ids.
func mailIDKey(inboxID uint64, messageID string) []byte {
	return append(itob(inboxID), messageID...)
}

// putMailID records that message m of thread t (in its inbox) is the email
// messageID.
func putMailID(tx *bolt.Tx, t *parley.Thread, m *parley.Message, messageID string) error {
	if messageID == "" {
		return nil
	}
	if err := bucket(tx, bucketMailIDs).Put(mailIDKey(t.InboxID, messageID), key2(t.ID, m.ID)); err != nil {
		return err
	}
	return appendBucket(bucket(tx, bucketMailThreadIDs)).Put(key2(t.ID, m.ID), []byte(messageID))
}

// ThreadMailIDs returns the Message-IDs of the mail that thread id received
// and sent, oldest first: the References of a reply.
func (db *DB) ThreadMailIDs(ctx context.Context, threadID uint64) ([]string, error) {
	var ids []string
	err := db.view(func(tx *bolt.Tx) error {
		prefix := itob(threadID)
		c := bucket(tx, bucketMailThreadIDs).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			ids = append(ids, string(v))
		}
		return nil
	})
	return ids, err
}

// deleteThreadMail removes thread t's Message-IDs, its queued mail and its
// delivery statuses, in the transaction that deletes it (deleteThread).
func deleteThreadMail(tx *bolt.Tx, t *parley.Thread) error {
	prefix := itob(t.ID)
	ids, threadIDs := bucket(tx, bucketMailIDs), bucket(tx, bucketMailThreadIDs)
	var keys [][]byte
	c := threadIDs.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		if mk := mailIDKey(t.InboxID, string(v)); bytes.HasPrefix(ids.Get(mk), prefix) {
			if err := ids.Delete(mk); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		if err := threadIDs.Delete(k); err != nil {
			return err
		}
	}
	keys = keys[:0]
	delivery := bucket(tx, bucketMailDelivery)
	c = delivery.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := delivery.Delete(k); err != nil {
			return err
		}
	}
	keys = keys[:0]
	outbox := bucket(tx, bucketMailOutbox)
	err := outbox.ForEach(func(k, v []byte) error {
		var it struct {
			ThreadID uint64 `json:"threadId"`
		}
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decode outbox item %d: %w", btoi(k), err)
		}
		if it.ThreadID == t.ID {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := outbox.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ----- receiving -----

// AppendMail stores an incoming email in one transaction: it finds the
// thread its references name in the inbox (or creates opts.NewThread, also
// when opts.Join refuses the thread found),
// appends m there and records its Message-ID. If the inbox has stored this
// Message-ID before, nothing is written and the result holds the first
// copy with Duplicate set. It returns EINVALID without a Message-ID or a
// NewThread of another inbox.
func (db *DB) AppendMail(ctx context.Context, m *parley.Message, opts parley.MailAppend) (parley.AppendResult, error) {
	if opts.MessageID == "" || opts.NewThread == nil || opts.NewThread.InboxID != opts.InboxID {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "mail needs a Message-ID and a new thread of its inbox")
	}
	in := *m
	in.ThreadID = 0
	newThread := *opts.NewThread
	refs := slices.Clone(opts.References)
	var reopen *parley.Message
	if opts.Reopen != nil {
		ev := *opts.Reopen
		reopen = &ev
	}
	var newRecord []byte
	var recordEvent parley.Message
	if opts.NewRecord != nil {
		if opts.RecordEvent == nil {
			return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "a record created with a thread needs its event")
		}
		var err error
		if newRecord, err = json.Marshal(opts.NewRecord); err != nil {
			return parley.AppendResult{}, err
		}
		recordEvent = *opts.RecordEvent
	}
	now := db.utcNow()
	var res parley.AppendResult
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res = parley.AppendResult{}
		ids := bucket(tx, bucketMailIDs)
		if v := ids.Get(mailIDKey(opts.InboxID, opts.MessageID)); len(v) == 16 {
			t, err := threadTable().get(tx, btoi(v))
			if err != nil {
				return err
			}
			first, err := getMessage(tx, btoi(v[8:]))
			if err != nil {
				return err
			}
			res = parley.AppendResult{Message: first, Thread: t, Duplicate: true}
			return nil
		}
		msg := in
		for _, ref := range refs {
			if v := ids.Get(mailIDKey(opts.InboxID, ref)); len(v) == 16 && bucket(tx, bucketThreads).Get(v[:8]) != nil {
				msg.ThreadID = btoi(v)
				break
			}
		}
		if msg.ThreadID != 0 && opts.Join != nil {
			t, err := threadTable().get(tx, msg.ThreadID)
			if err != nil {
				return err
			}
			if !opts.Join(t) {
				msg.ThreadID = 0
			}
		}
		r, err := appendReopening(tx, msg, newThread, opts.Update, reopen, now)
		if err != nil {
			return err
		}
		if err := putMailID(tx, r.Thread, r.Message, opts.MessageID); err != nil {
			return err
		}
		if opts.QueueNew && r.ThreadCreated && !r.Thread.IsFiltered() {
			if err := enqueue(tx, parley.QueuedThread{ThreadID: r.Thread.ID, QueuedAt: now}); err != nil {
				return err
			}
		}
		if newRecord != nil && r.ThreadCreated && !r.Thread.IsFiltered() {
			rec, ev, t, err := createThreadRecord(tx, newRecord, recordEvent, r.Thread, now)
			if err != nil {
				return err
			}
			r.Record, r.RecordEvent, r.Thread = rec, ev, t
		}
		res = r
		return nil
	})
	if err != nil {
		return parley.AppendResult{}, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
	}
	return res, nil
}

// createThreadRecord creates record data (JSON of a parley.Record) for new
// thread t, of its contact and associated with it, and appends event to t
// after it, in transaction tx. It returns the record, the event and the
// thread as stored.
func createThreadRecord(tx *bolt.Tx, data []byte, event parley.Message, t *parley.Thread, now time.Time) (*parley.Record, *parley.Message, *parley.Thread, error) {
	rec := new(parley.Record)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, nil, nil, err
	}
	rec.ID, rec.ContactID, rec.ThreadIDs = 0, t.ContactID, []uint64{t.ID}
	if err := requireContact(tx, rec.ContactID); err != nil {
		return nil, nil, nil, err
	}
	if err := recordTable().insert(tx, rec, now); err != nil {
		return nil, nil, nil, err
	}
	event.ThreadID, event.ClientID = t.ID, ""
	r, err := appendMessage(tx, event, parley.Thread{}, nil, now)
	if err != nil {
		return nil, nil, nil, err
	}
	return rec, r.Message, r.Thread, nil
}

// errNotReopened aborts the append of a reopening event whose update did
// not reopen the thread (appendReopening).
var errNotReopened = errors.New("thread not reopened")

// appendReopening appends m as appendMessage does. When reopen is set, m
// goes to an existing thread that is CLOSED, is no duplicate, and update
// makes the thread OPEN, it first appends a copy of reopen, the
// THREAD_STATUS_CHANGE that records the reopening, with update applied
// there; the result's Reopened is that event.
func appendReopening(tx *bolt.Tx, m parley.Message, newThread parley.Thread, update func(*parley.Thread) error, reopen *parley.Message, now time.Time) (parley.AppendResult, error) {
	var event *parley.Message
	if reopen != nil && m.ThreadID != 0 {
		t, err := threadTable().get(tx, m.ThreadID)
		if err != nil {
			return parley.AppendResult{}, err
		}
		dedup := dedupKey(t.ID, m.SenderID, m.ClientID)
		if t.Status == parley.StatusClosed && (dedup == nil || messageBucket(tx).Get(dedup) == nil) {
			ev := *reopen
			ev.ThreadID, ev.Type, ev.NewStatus, ev.ClientID = t.ID, parley.TypeStatusChange, parley.StatusOpen, ""
			r, err := appendMessage(tx, ev, parley.Thread{}, func(t *parley.Thread) error {
				if update != nil {
					if err := update(t); err != nil {
						return err
					}
				}
				if t.Status != parley.StatusOpen {
					return errNotReopened
				}
				return nil
			}, now)
			switch {
			case errors.Is(err, errNotReopened):
			case err != nil:
				return parley.AppendResult{}, err
			default:
				event, update = r.Message, nil // applied with the event
			}
		}
	}
	res, err := appendMessage(tx, m, newThread, update, now)
	if err != nil {
		return res, err
	}
	res.Reopened = event
	return res, nil
}

// ----- sending -----

// AppendMailReply stores an agent's reply on an email thread and queues its
// email in one transaction, so that an acknowledged reply is always sent.
// It appends m as AppendMessage does (a duplicate ClientID queues nothing
// and returns the first copy), then calls build, in the transaction, with
// the message and thread as stored: build returns the email to queue (it
// must not call the DB and may run more than once). The item's message and
// thread are set to m's, its Message-ID is recorded for the thread, and
// m's delivery status starts as PENDING. When reopen is set and the thread
// is CLOSED, the reply reopens it: a copy of reopen, the
// THREAD_STATUS_CHANGE that records that, is appended right before m and
// returned as the result's Reopened (not for a duplicate).
func (db *DB) AppendMailReply(ctx context.Context, m *parley.Message, reopen *parley.Message, build func(m *parley.Message, t *parley.Thread) (*parley.OutboxItem, error)) (parley.AppendResult, *parley.OutboxItem, error) {
	if m.ThreadID == 0 {
		return parley.AppendResult{}, nil, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	in := *m
	var ev *parley.Message
	var update func(*parley.Thread) error
	if reopen != nil {
		c := *reopen
		ev = &c
		update = func(t *parley.Thread) error {
			if t.Status == parley.StatusClosed {
				t.Status, t.ClosedAt = parley.StatusOpen, parley.Thread{}.ClosedAt
			}
			return nil
		}
	}
	now := db.utcNow()
	var res parley.AppendResult
	var item *parley.OutboxItem
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res, item = parley.AppendResult{}, nil
		r, err := appendReopening(tx, in, parley.Thread{}, update, ev, now)
		if err != nil {
			return err
		}
		res = r
		if r.Duplicate {
			return nil
		}
		it, err := build(r.Message, r.Thread)
		if err != nil {
			return err
		}
		it.MessageID, it.ThreadID = r.Message.ID, r.Thread.ID
		if err := putOutbox(tx, it, now); err != nil {
			return err
		}
		if err := putMailID(tx, r.Thread, r.Message, it.Email.MessageID); err != nil {
			return err
		}
		if err := putJSON(bucket(tx, bucketMailDelivery), key2(it.ThreadID, it.MessageID),
			&parley.Delivery{Status: parley.DeliveryPending, At: now}); err != nil {
			return err
		}
		item = it
		return nil
	})
	if err != nil {
		return parley.AppendResult{}, nil, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
	}
	return res, item, nil
}

// putOutbox gives a new outbox item its id and defaults and writes it.
func putOutbox(tx *bolt.Tx, it *parley.OutboxItem, now time.Time) error {
	b := appendBucket(bucket(tx, bucketMailOutbox))
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	it.ID, it.Attempts = id, 0
	if it.CreatedAt.IsZero() {
		it.CreatedAt = now
	}
	if it.NextAt.IsZero() {
		it.NextAt = it.CreatedAt
	}
	return putJSON(b, itob(id), it)
}

// QueueMail puts an email (a notification or transcript) in the outbox and
// sets item.ID, CreatedAt and NextAt if zero.
func (db *DB) QueueMail(ctx context.Context, item *parley.OutboxItem) error {
	if item.Email.MessageID == "" || len(item.Email.To) == 0 {
		return parley.Errorf(parley.EINVALID, "an email needs a Message-ID and a recipient")
	}
	now := db.utcNow()
	data, err := json.Marshal(item)
	if err != nil {
		return err
	}
	var out parley.OutboxItem
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = parley.OutboxItem{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		return putOutbox(tx, &out, now)
	})
	if err != nil {
		return err
	}
	*item = out
	return nil
}

// QueueMailEvent appends event to thread item.ThreadID and queues item in
// one transaction, so that what the thread says was sent is always sent:
// item.MessageID becomes the event's id, whose delivery status starts as
// PENDING and follows the sending (MailDone). check, if set, runs on the
// thread inside the transaction, as AppendOptions.Update does; its error
// aborts with nothing written. The email's Message-ID is not recorded for
// the thread: an answer to it does not join the thread. *event and *item
// are set to what was stored.
func (db *DB) QueueMailEvent(ctx context.Context, item *parley.OutboxItem, event *parley.Message, check func(*parley.Thread) error) (parley.AppendResult, error) {
	if item.Email.MessageID == "" || len(item.Email.To) == 0 {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "an email needs a Message-ID and a recipient")
	}
	if item.ThreadID == 0 {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "event has no thread")
	}
	data, err := json.Marshal(item)
	if err != nil {
		return parley.AppendResult{}, err
	}
	ev := *event
	ev.ThreadID, ev.ClientID = item.ThreadID, ""
	now := db.utcNow()
	var res parley.AppendResult
	var out parley.OutboxItem
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = parley.OutboxItem{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		r, err := appendMessage(tx, ev, parley.Thread{}, check, now)
		if err != nil {
			return err
		}
		out.MessageID = r.Message.ID
		if err := putOutbox(tx, &out, now); err != nil {
			return err
		}
		if err := putJSON(bucket(tx, bucketMailDelivery), key2(out.ThreadID, out.MessageID),
			&parley.Delivery{Status: parley.DeliveryPending, At: now}); err != nil {
			return err
		}
		res = r
		return nil
	})
	if err != nil {
		return parley.AppendResult{}, err
	}
	*item = out
	*event = *res.Message
	res.Message = event
	return res, nil
}

// DueMail returns up to limit outbox items whose NextAt is not after now,
// oldest first, and the earliest NextAt of the items left (zero if none).
func (db *DB) DueMail(ctx context.Context, now time.Time, limit int) (due []*parley.OutboxItem, next time.Time, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		return bucket(tx, bucketMailOutbox).ForEach(func(k, v []byte) error {
			it := new(parley.OutboxItem)
			if err := json.Unmarshal(v, it); err != nil {
				return fmt.Errorf("decode outbox item %d: %w", btoi(k), err)
			}
			if !it.NextAt.After(now) && len(due) < limit {
				due = append(due, it)
			} else if next.IsZero() || it.NextAt.Before(next) {
				next = it.NextAt
			}
			return nil
		})
	})
	return due, next, err
}

// OutboxLen returns how many emails wait in the outbox, to be sent or to
// be tried again: the depth that the metrics report.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		n = bucket(tx, bucketMailOutbox).Stats().KeyN
		return nil
	})
	return n, err
}

// MailDone records the outcome of sending outbox item id: sent (errText
// empty), failed for good (final), or failed for now, to be tried again at
// retryAt. Sent and failed-for-good items leave the outbox; a reply's
// delivery status follows. An item no longer queued (its thread deleted) is
// ENOTFOUND.
func (db *DB) MailDone(ctx context.Context, id uint64, errText string, final bool, retryAt time.Time) (*parley.OutboxItem, *parley.Delivery, error) {
	now := db.utcNow()
	var item *parley.OutboxItem
	var d *parley.Delivery
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketMailOutbox)
		it := new(parley.OutboxItem)
		if ok, err := getJSON(b, itob(id), it); err != nil {
			return fmt.Errorf("decode outbox item %d: %w", id, err)
		} else if !ok {
			return parley.Errorf(parley.ENOTFOUND, "outbox item %d not found", id)
		}
		it.Attempts++
		it.LastError = errText
		d = &parley.Delivery{Status: parley.DeliverySent, Attempts: it.Attempts, At: now}
		switch {
		case errText == "":
			if err := b.Delete(itob(id)); err != nil {
				return err
			}
		case final:
			d.Status, d.Error = parley.DeliveryFailed, errText
			if err := b.Delete(itob(id)); err != nil {
				return err
			}
			if it.MessageID != 0 {
				// Kept with its status, so that it can be tried again.
				item = it
				return putJSON(bucket(tx, bucketMailDelivery), key2(it.ThreadID, it.MessageID), deliveryRecord{Delivery: *d, Failed: it})
			}
		default:
			d.Status, d.Error = parley.DeliveryPending, errText
			it.NextAt = retryAt
			if err := putJSON(b, itob(id), it); err != nil {
				return err
			}
		}
		if it.MessageID != 0 {
			if err := putJSON(bucket(tx, bucketMailDelivery), key2(it.ThreadID, it.MessageID), d); err != nil {
				return err
			}
		}
		item = it
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return item, d, nil
}

// deliveryRecord is what mail_delivery holds: the status and, for a reply
// that failed for good, its outbox item, which RetryMail queues again.
type deliveryRecord struct {
	parley.Delivery
	Failed *parley.OutboxItem `json:"failed,omitempty"`
}

// RetryMail queues the failed email reply messageID of thread threadID
// again: a new outbox item, due now, its status PENDING. A message that
// was never emailed is ENOTFOUND; one that has not failed, or whose email
// was not kept, ECONFLICT.
func (db *DB) RetryMail(ctx context.Context, threadID, messageID uint64) (*parley.OutboxItem, *parley.Delivery, error) {
	now := db.utcNow()
	var item *parley.OutboxItem
	var d *parley.Delivery
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketMailDelivery)
		var rec deliveryRecord
		if ok, err := getJSON(b, key2(threadID, messageID), &rec); err != nil {
			return fmt.Errorf("decode delivery of message %d: %w", messageID, err)
		} else if !ok {
			return parley.Errorf(parley.ENOTFOUND, "message %d was not emailed", messageID)
		}
		if rec.Status != parley.DeliveryFailed {
			return parley.Errorf(parley.ECONFLICT, "message %d has not failed to send", messageID)
		}
		if rec.Failed == nil {
			return parley.Errorf(parley.ECONFLICT, "the email of message %d was not kept", messageID)
		}
		it := rec.Failed
		it.LastError, it.NextAt, it.CreatedAt = "", now, now
		if err := putOutbox(tx, it, now); err != nil {
			return err
		}
		d = &parley.Delivery{Status: parley.DeliveryPending, Attempts: rec.Attempts, At: now}
		item = it
		return putJSON(b, key2(threadID, messageID), d)
	})
	if err != nil {
		return nil, nil, err
	}
	return item, d, nil
}

// LatestDelivery returns the sending status of the latest email reply of
// thread threadID, or nil if it has none. Message ids grow, so it is the
// last record under the thread's prefix.
func (db *DB) LatestDelivery(ctx context.Context, threadID uint64) (*parley.Delivery, error) {
	var d *parley.Delivery
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketMailDelivery).Cursor()
		prefix := itob(threadID)
		var k, v []byte
		if k, _ = c.Seek(key2(threadID+1, 0)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		d = new(parley.Delivery)
		return json.Unmarshal(v, d)
	})
	return d, err
}

// Delivery returns the sending status of message messageID of thread
// threadID, or nil if it was never emailed.
func (db *DB) Delivery(ctx context.Context, threadID, messageID uint64) (*parley.Delivery, error) {
	var d *parley.Delivery
	err := db.view(func(tx *bolt.Tx) error {
		v := new(parley.Delivery)
		ok, err := getJSON(bucket(tx, bucketMailDelivery), key2(threadID, messageID), v)
		if ok {
			d = v
		}
		return err
	})
	return d, err
}
