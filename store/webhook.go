package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Webhooks: subscribers, their subscriptions, the events queued for them
// and their delivery logs.
//
//	webhook_settings  appId → WebhookSettings
//	webhook_subs      appId ‖ subscription → WebhookSubscription; its sequence numbers subscriptions
//	webhook_active    event type ‖ 0 ‖ property ‖ 0 ‖ appId ‖ subscription → empty: the active
//	                  subscriptions, which every change of a thread looks up in its transaction
//	webhook_queue     appId ‖ eventId → WebhookEvent; its sequence numbers events (eventId)
//	webhook_due       appId ‖ timeKey(NextAt) ‖ eventId → empty: the queue by when each event
//	                  is due, so that finding what is due reads only that, however long the
//	                  queue of a target that is down has grown
//	webhook_log       appId ‖ seq → WebhookAttempt, the newest WebhookLogSize per subscriber
//
// webhook_active is what keeps the hot path cheap: a change that nobody
// subscribed to costs one seek in it, an empty bucket when there are no
// subscribers at all (BenchmarkAppendWebhooks measures it).
const (
	bucketWebhookSettings = "webhook_settings"
	bucketWebhookSubs     = "webhook_subs"
	bucketWebhookActive   = "webhook_active"
	bucketWebhookQueue    = "webhook_queue"
	bucketWebhookDue      = "webhook_due"
	bucketWebhookLog      = "webhook_log"
)

// migrate8 creates the buckets of webhooks.
func migrate8(tx *bolt.Tx) error {
	for _, name := range []string{bucketWebhookSettings, bucketWebhookSubs, bucketWebhookActive, bucketWebhookQueue, bucketWebhookDue, bucketWebhookLog} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// ----- queueing events: the hot path -----

// activeKey is the prefix in webhook_active of the subscriptions to
// events of type typ about property prop.
func activeKey(typ, prop string) []byte {
	k := make([]byte, 0, len(typ)+len(prop)+2+16)
	k = append(k, typ...)
	k = append(k, 0)
	k = append(k, prop...)
	return append(k, 0)
}

// queueWebhook queues, for every active subscription to events of type
// ev.Type (and property ev.PropertyName), a copy of ev, due at once.
func queueWebhook(tx *bolt.Tx, ev parley.WebhookEvent, now time.Time) error {
	prefix := activeKey(ev.Type, ev.PropertyName)
	c := bucket(tx, bucketWebhookActive).Cursor()
	k, _ := c.Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil // nobody listens: the common case
	}
	queue := appendBucket(bucket(tx, bucketWebhookQueue))
	ev.OccurredAt, ev.NextAt = now, now
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids := k[len(prefix):]
		if len(ids) != 16 {
			return fmt.Errorf("webhook_active: key of %d bytes", len(k))
		}
		id, err := queue.NextSequence()
		if err != nil {
			return err
		}
		ev.ID, ev.AppID, ev.SubscriptionID = id, btoi(ids), btoi(ids[8:])
		if err := putJSON(queue, key2(ev.AppID, id), &ev); err != nil {
			return err
		}
		if err := appendBucket(bucket(tx, bucketWebhookDue)).Put(dueKey(&ev), []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// dueKey is the key of ev in webhook_due.
func dueKey(ev *parley.WebhookEvent) []byte {
	return key3(ev.AppID, timeKey(ev.NextAt), ev.ID)
}

// queueThreadWebhooks queues the events of thread t replacing old (nil:
// t is new): its creation, or a change of its assignee, status or
// archived flag (an archive is a deletion too, as HubSpot has it).
func queueThreadWebhooks(tx *bolt.Tx, t, old *parley.Thread, now time.Time) error {
	ev := func(typ, prop, value string) error {
		return queueWebhook(tx, parley.WebhookEvent{Type: typ, ThreadID: t.ID, PropertyName: prop, PropertyValue: value}, now)
	}
	if old == nil {
		return ev(parley.WebhookCreation, "", "")
	}
	if t.AssigneeID != old.AssigneeID {
		value := ""
		if t.AssigneeID != 0 {
			value = parley.UserActorID(t.AssigneeID)
		}
		if err := ev(parley.WebhookPropertyChange, parley.WebhookPropAssignedTo, value); err != nil {
			return err
		}
	}
	if t.Status != old.Status {
		if err := ev(parley.WebhookPropertyChange, parley.WebhookPropStatus, string(t.Status)); err != nil {
			return err
		}
	}
	if t.Archived != old.Archived {
		value := "FALSE"
		if t.Archived {
			value = "TRUE"
		}
		if err := ev(parley.WebhookPropertyChange, parley.WebhookPropArchived, value); err != nil {
			return err
		}
		if t.Archived {
			return ev(parley.WebhookDeletion, "", "")
		}
	}
	return nil
}

// queueMessageWebhook queues conversation.newMessage for m, a message or
// a comment; system events are no messages to HubSpot.
func queueMessageWebhook(tx *bolt.Tx, m *parley.Message, now time.Time) error {
	if m.Type != parley.TypeMessage && m.Type != parley.TypeComment {
		return nil
	}
	return queueWebhook(tx, parley.WebhookEvent{Type: parley.WebhookNewMessage, ThreadID: m.ThreadID,
		MessageID: m.ID, MessageType: string(m.Type)}, now)
}

// ----- subscribers -----

func webhookNotFound(appID uint64) error {
	return parley.Errorf(parley.ENOTFOUND, "webhook app %d has no settings", appID)
}

// PutWebhookSettings creates or replaces the settings of s.AppID.
// Replacing keeps CreatedAt and, when s.Secret is empty, the secret; new
// settings without a secret are EINVALID. s is set to what was written.
func (db *DB) PutWebhookSettings(ctx context.Context, s *parley.WebhookSettings) error {
	if s.AppID == 0 {
		return parley.Errorf(parley.EINVALID, "appId must be a positive integer")
	}
	in := *s
	now := db.utcNow()
	var out parley.WebhookSettings
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketWebhookSettings)
		w := in
		var old parley.WebhookSettings
		found, err := getJSON(b, itob(w.AppID), &old)
		if err != nil {
			return err
		}
		w.CreatedAt, w.UpdatedAt = now, now
		if found {
			w.CreatedAt = old.CreatedAt
			if w.Secret == "" {
				w.Secret = old.Secret
			}
		}
		if w.Secret == "" {
			return parley.Errorf(parley.EINVALID, "a new webhook app needs a secret")
		}
		if found {
			parley.AuditObject(ctx, "webhook", strconv.FormatUint(w.AppID, 10), &old, &w)
		} else {
			parley.AuditObject(ctx, "webhook", strconv.FormatUint(w.AppID, 10), nil, &w)
		}
		out = w
		return putJSON(b, itob(w.AppID), &w)
	})
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// WebhookSettings returns the settings of appID, or ENOTFOUND.
func (db *DB) WebhookSettings(ctx context.Context, appID uint64) (*parley.WebhookSettings, error) {
	s := new(parley.WebhookSettings)
	err := db.view(func(tx *bolt.Tx) error {
		found, err := getJSON(bucket(tx, bucketWebhookSettings), itob(appID), s)
		if err == nil && !found {
			err = webhookNotFound(appID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// AllWebhookSettings returns every subscriber, by appId.
func (db *DB) AllWebhookSettings(ctx context.Context) ([]*parley.WebhookSettings, error) {
	var out []*parley.WebhookSettings
	err := db.view(func(tx *bolt.Tx) error {
		return bucket(tx, bucketWebhookSettings).ForEach(func(k, v []byte) error {
			s := new(parley.WebhookSettings)
			if err := json.Unmarshal(v, s); err != nil {
				return fmt.Errorf("decode webhook settings %d: %w", btoi(k), err)
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}

// DeleteWebhookSettings deletes subscriber appID with its subscriptions,
// its queue and its log, or returns ENOTFOUND.
func (db *DB) DeleteWebhookSettings(ctx context.Context, appID uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		settings := bucket(tx, bucketWebhookSettings)
		if settings.Get(itob(appID)) == nil {
			return webhookNotFound(appID)
		}
		// Its secret signs what its custom channels are sent.
		if ch, err := channelOfApp(tx, appID); err != nil {
			return err
		} else if ch != nil {
			return parley.Errorf(parley.ECONFLICT, "app %d has custom channel %d (%s): delete its channels first", appID, ch.ID, ch.Name)
		}
		subs, err := appSubscriptions(tx, appID)
		if err != nil {
			return err
		}
		for _, s := range subs {
			if err := deleteSubscription(tx, s); err != nil {
				return err
			}
		}
		for _, name := range []string{bucketWebhookQueue, bucketWebhookDue, bucketWebhookLog} {
			if err := deletePrefix(bucket(tx, name), itob(appID)); err != nil {
				return err
			}
		}
		return settings.Delete(itob(appID))
	})
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ----- subscriptions -----

func subscriptionNotFound(appID, id uint64) error {
	return parley.Errorf(parley.ENOTFOUND, "webhook app %d has no subscription %d", appID, id)
}

// appSubscriptions returns the subscriptions of appID by id.
func appSubscriptions(tx *bolt.Tx, appID uint64) ([]*parley.WebhookSubscription, error) {
	out := []*parley.WebhookSubscription{}
	prefix := itob(appID)
	c := bucket(tx, bucketWebhookSubs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		s := new(parley.WebhookSubscription)
		if err := json.Unmarshal(v, s); err != nil {
			return nil, fmt.Errorf("decode webhook subscription %d: %w", btoi(k[8:]), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// putSubscription writes s over old (nil: s is new) and keeps
// webhook_active right. The same event type and property as another
// subscription of the app is ECONFLICT.
func putSubscription(tx *bolt.Tx, s, old *parley.WebhookSubscription) error {
	subs, err := appSubscriptions(tx, s.AppID)
	if err != nil {
		return err
	}
	for _, o := range subs {
		if o.ID != s.ID && o.EventType == s.EventType && o.PropertyName == s.PropertyName {
			return parley.Errorf(parley.ECONFLICT, "webhook app %d already has subscription %d to %s", s.AppID, o.ID, describeSubscription(s))
		}
	}
	active := bucket(tx, bucketWebhookActive)
	if old != nil && old.Active {
		if err := active.Delete(append(activeKey(old.EventType, old.PropertyName), key2(old.AppID, old.ID)...)); err != nil {
			return err
		}
	}
	if s.Active {
		if err := active.Put(append(activeKey(s.EventType, s.PropertyName), key2(s.AppID, s.ID)...), []byte{}); err != nil {
			return err
		}
	}
	return putJSON(bucket(tx, bucketWebhookSubs), key2(s.AppID, s.ID), s)
}

func describeSubscription(s *parley.WebhookSubscription) string {
	if s.PropertyName != "" {
		return s.EventType + " of " + s.PropertyName
	}
	return s.EventType
}

func deleteSubscription(tx *bolt.Tx, s *parley.WebhookSubscription) error {
	if err := bucket(tx, bucketWebhookActive).Delete(append(activeKey(s.EventType, s.PropertyName), key2(s.AppID, s.ID)...)); err != nil {
		return err
	}
	return bucket(tx, bucketWebhookSubs).Delete(key2(s.AppID, s.ID))
}

func getSubscription(tx *bolt.Tx, appID, id uint64) (*parley.WebhookSubscription, error) {
	s := new(parley.WebhookSubscription)
	found, err := getJSON(bucket(tx, bucketWebhookSubs), key2(appID, id), s)
	if err == nil && !found {
		err = subscriptionNotFound(appID, id)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// CreateWebhookSubscription stores s for s.AppID, whose settings must
// exist (else ENOTFOUND), and sets its ID and times; the same event type
// and property twice is ECONFLICT.
func (db *DB) CreateWebhookSubscription(ctx context.Context, s *parley.WebhookSubscription) error {
	in := *s
	now := db.utcNow()
	var out parley.WebhookSubscription
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if bucket(tx, bucketWebhookSettings).Get(itob(in.AppID)) == nil {
			return webhookNotFound(in.AppID)
		}
		w := in
		id, err := bucket(tx, bucketWebhookSubs).NextSequence()
		if err != nil {
			return err
		}
		w.ID, w.CreatedAt, w.UpdatedAt = id, now, now
		parley.AuditObject(ctx, "webhook-subscription", strconv.FormatUint(id, 10), nil, &w)
		out = w
		return putSubscription(tx, &w, nil)
	})
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// WebhookSubscriptions returns the subscriptions of appID by id.
func (db *DB) WebhookSubscriptions(ctx context.Context, appID uint64) (subs []*parley.WebhookSubscription, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		subs, err = appSubscriptions(tx, appID)
		return err
	})
	return subs, err
}

// WebhookSubscription returns subscription id of appID, or ENOTFOUND.
func (db *DB) WebhookSubscription(ctx context.Context, appID, id uint64) (s *parley.WebhookSubscription, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		s, err = getSubscription(tx, appID, id)
		return err
	})
	return s, err
}

// UpdateWebhookSubscription changes subscription id of appID with fn and
// returns it as written, or ENOTFOUND. fn may not change its ids or
// CreatedAt (changes are undone).
func (db *DB) UpdateWebhookSubscription(ctx context.Context, appID, id uint64, fn func(*parley.WebhookSubscription) error) (*parley.WebhookSubscription, error) {
	now := db.utcNow()
	var out *parley.WebhookSubscription
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getSubscription(tx, appID, id)
		if err != nil {
			return err
		}
		s := *old
		if err := fn(&s); err != nil {
			return err
		}
		s.ID, s.AppID, s.CreatedAt, s.UpdatedAt = old.ID, old.AppID, old.CreatedAt, now
		parley.AuditObject(ctx, "webhook-subscription", strconv.FormatUint(id, 10), old, &s)
		out = &s
		return putSubscription(tx, &s, old)
	})
	return out, err
}

// DeleteWebhookSubscription deletes subscription id of appID, or returns
// ENOTFOUND. Its queued events stay and are sent.
func (db *DB) DeleteWebhookSubscription(ctx context.Context, appID, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		s, err := getSubscription(tx, appID, id)
		if err != nil {
			return err
		}
		return deleteSubscription(tx, s)
	})
}

// ----- delivery -----

// DueWebhookEvents returns up to limit events of appID due at now, oldest
// first, leaving out those skip names, and the earliest NextAt of the
// events left (zero if none). It reads webhook_due up to the first event
// not yet due: its work grows with what it returns and what skip names,
// not with the length of the queue.
func (db *DB) DueWebhookEvents(ctx context.Context, appID uint64, now time.Time, limit int, skip func(id uint64) bool) ([]*parley.WebhookEvent, time.Time, error) {
	var due []*parley.WebhookEvent
	var next time.Time
	err := db.view(func(tx *bolt.Tx) error {
		due, next = nil, time.Time{}
		queue := bucket(tx, bucketWebhookQueue)
		prefix, until := itob(appID), timeKey(now)
		c := bucket(tx, bucketWebhookDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != 24 {
				return fmt.Errorf("webhook_due: key of %d bytes", len(k))
			}
			id := btoi(k[16:])
			if skip != nil && skip(id) {
				continue
			}
			if at := btoi(k[8:]); at > until || len(due) == limit {
				next = time.Unix(0, int64(at^1<<63)).UTC()
				return nil
			}
			ev := new(parley.WebhookEvent)
			found, err := getJSON(queue, key2(appID, id), ev)
			if err != nil {
				return fmt.Errorf("decode webhook event %d: %w", id, err)
			}
			if !found {
				return fmt.Errorf("webhook_due names event %d, which is not queued", id)
			}
			due = append(due, ev)
		}
		return nil
	})
	return due, next, err
}

// WebhookDone records attempt a at events ids of appID in one transaction
// (see parley.WebhookStore).
func (db *DB) WebhookDone(ctx context.Context, appID uint64, done, retry []uint64, a parley.WebhookAttempt, retryAt time.Time) error {
	done, retry = slices.Clone(done), slices.Clone(retry)
	return db.update(ctx, func(tx *bolt.Tx) error {
		queue, dues := bucket(tx, bucketWebhookQueue), appendBucket(bucket(tx, bucketWebhookDue))
		for i, id := range append(done, retry...) {
			k := key2(appID, id)
			var ev parley.WebhookEvent
			found, err := getJSON(queue, k, &ev)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			if err := dues.Delete(dueKey(&ev)); err != nil {
				return err
			}
			if i < len(done) {
				if err := queue.Delete(k); err != nil {
					return err
				}
				continue
			}
			ev.Attempts++
			ev.NextAt = retryAt.UTC()
			if err := putJSON(queue, k, &ev); err != nil {
				return err
			}
			if err := dues.Put(dueKey(&ev), []byte{}); err != nil {
				return err
			}
		}
		if bucket(tx, bucketWebhookSettings).Get(itob(appID)) == nil {
			return nil // deleted meanwhile: no log to keep
		}
		return logAttempt(tx, appID, a)
	})
}

// logAttempt appends a to the log of appID and drops the oldest entries
// beyond parley.WebhookLogSize.
func logAttempt(tx *bolt.Tx, appID uint64, a parley.WebhookAttempt) error {
	log := appendBucket(bucket(tx, bucketWebhookLog))
	seq, err := log.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(log, key2(appID, seq), &a); err != nil {
		return err
	}
	prefix := itob(appID)
	var n int
	var old [][]byte
	c := log.Cursor()
	for k, _ := c.Seek(key2(appID, seq)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		if n++; n > parley.WebhookLogSize {
			old = append(old, bytes.Clone(k))
		}
	}
	for _, k := range old {
		if err := log.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// LogWebhookAttempt adds a to the log of appID, or returns ENOTFOUND.
func (db *DB) LogWebhookAttempt(ctx context.Context, appID uint64, a parley.WebhookAttempt) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if bucket(tx, bucketWebhookSettings).Get(itob(appID)) == nil {
			return webhookNotFound(appID)
		}
		return logAttempt(tx, appID, a)
	})
}

// WebhookLog returns the log of appID, newest first.
func (db *DB) WebhookLog(ctx context.Context, appID uint64) ([]parley.WebhookAttempt, error) {
	out := []parley.WebhookAttempt{}
	err := db.view(func(tx *bolt.Tx) error {
		out = out[:0]
		prefix := itob(appID)
		c := bucket(tx, bucketWebhookLog).Cursor()
		var v []byte
		k, _ := c.Seek(key2(appID+1, 0))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			var a parley.WebhookAttempt
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode webhook attempt: %w", err)
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// NotifyWebhooks makes the store call fn after every commit that queued
// webhook events; nil stops it.
func (db *DB) NotifyWebhooks(fn func()) {
	if fn == nil {
		db.webhooks.Store(nil)
		return
	}
	db.webhooks.Store(&fn)
}

// notifyWebhooksOnCommit has tx, a write about to commit, call the
// NotifyWebhooks function once it has committed, if it queued events:
// the queue's sequence, which numbers events, has grown since the
// transaction began. One look per commit, not per write.
func (db *DB) notifyWebhooksOnCommit(tx *bolt.Tx) {
	fn := db.webhooks.Load()
	if fn == nil {
		return
	}
	b := bucket(tx, bucketWebhookQueue)
	if b == nil || !b.Writable() {
		return
	}
	if seq := b.Sequence(); seq != db.webhookSeq.Load() {
		tx.OnCommit(func() {
			db.webhookSeq.Store(seq)
			(*fn)()
		})
	}
}

// WebhookQueueLen returns how many webhook events wait to be sent or to be
// tried again: the depth that the metrics report.
func (db *DB) WebhookQueueLen(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		if b := bucket(tx, bucketWebhookQueue); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}
