package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Custom channels, their accounts, who their users are and which thread
// a channel's message joins:
//
//	custom_channels   channel → CustomChannel; its sequence starts below CustomChannelMin
//	channel_accounts  account → ChannelAccount; ids from the widgets' sequence, which mailboxes share too
//	channel_contacts  channel ‖ type ‖ 0 ‖ value → contact: the contact of a delivery identifier
//	channel_threads   account ‖ ChannelThreadKey → thread: the thread a message joins
//
// An agent's reply on a custom channel's thread is queued for the
// channel's app in webhook_queue (queueChannelMessage) with its status
// in mail_delivery, in the commit of the reply.
const (
	bucketCustomChannels  = "custom_channels"
	bucketChannelAccounts = "channel_accounts"
	bucketChannelContacts = "channel_contacts"
	bucketChannelThreads  = "channel_threads"
)

// migrateCustomChannels creates the buckets of custom channels.
func migrateCustomChannels(tx *bolt.Tx) error {
	for _, name := range []string{bucketCustomChannels, bucketChannelAccounts, bucketChannelContacts, bucketChannelThreads} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return tx.Bucket([]byte(bucketCustomChannels)).SetSequence(parley.CustomChannelMin - 1)
}

func customChannelTable() table[parley.CustomChannel] {
	return table[parley.CustomChannel]{
		name:   "custom channel",
		bucket: bucketCustomChannels,
		id:     func(c *parley.CustomChannel) *uint64 { return &c.ID },
		prepare: func(c, old *parley.CustomChannel, now time.Time) {
			stampTimes(&c.CreatedAt, &c.UpdatedAt, old == nil, now)
			if old != nil {
				c.AppID = old.AppID // a channel stays its app's
			}
		},
	}
}

func channelAccountTable() table[parley.ChannelAccount] {
	return table[parley.ChannelAccount]{
		name:   "channel account",
		bucket: bucketChannelAccounts,
		id:     func(a *parley.ChannelAccount) *uint64 { return &a.ID },
		prepare: func(a, old *parley.ChannelAccount, now time.Time) {
			stampTimes(&a.CreatedAt, &a.UpdatedAt, old == nil, now)
			if old != nil {
				a.ChannelID = old.ChannelID
			}
			switch {
			case a.Archived && a.ArchivedAt.IsZero():
				a.ArchivedAt = now
			case !a.Archived:
				a.ArchivedAt = time.Time{}
			}
		},
	}
}

// CreateCustomChannel stores c; see parley.CustomChannelStore.
func (db *DB) CreateCustomChannel(ctx context.Context, c *parley.CustomChannel) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	now := db.utcNow()
	var out parley.CustomChannel
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = parley.CustomChannel{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		if bucket(tx, bucketWebhookSettings).Get(itob(out.AppID)) == nil {
			return webhookNotFound(out.AppID)
		}
		b := bucket(tx, bucketCustomChannels)
		if n := b.Stats().KeyN; n >= parley.MaxCustomChannels || b.Sequence()+1 >= parley.CustomChannelEnd {
			return parley.Errorf(parley.ECONFLICT, "this Parley holds %d custom channels, the most it may; delete one first", n)
		}
		return customChannelTable().insert(tx, &out, now)
	})
	if err != nil {
		return err
	}
	*c = out
	return nil
}

// CustomChannel returns channel id, or ENOTFOUND.
func (db *DB) CustomChannel(ctx context.Context, id uint64) (*parley.CustomChannel, error) {
	return readRecord(db, customChannelTable(), id)
}

// CustomChannels returns every channel by id.
func (db *DB) CustomChannels(ctx context.Context) ([]*parley.CustomChannel, error) {
	return listRecords(db, customChannelTable())
}

// UpdateCustomChannel changes channel id with fn.
func (db *DB) UpdateCustomChannel(ctx context.Context, id uint64, fn func(*parley.CustomChannel) error) (*parley.CustomChannel, error) {
	return updateRecord(ctx, db, customChannelTable(), id, fn)
}

// DeleteCustomChannel deletes channel id and archives its accounts.
func (db *DB) DeleteCustomChannel(ctx context.Context, id uint64) error {
	now := db.utcNow()
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCustomChannels)
		if b.Get(itob(id)) == nil {
			return customChannelTable().notFound(id)
		}
		if err := b.Delete(itob(id)); err != nil {
			return err
		}
		accounts, err := channelAccounts(tx, id)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			if a.Archived {
				continue
			}
			v := *a
			v.Archived = true
			if err := channelAccountTable().replace(tx, &v, a, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// channelOfApp returns the first channel of appID, nil if it has none.
func channelOfApp(tx *bolt.Tx, appID uint64) (*parley.CustomChannel, error) {
	var found *parley.CustomChannel
	c := bucket(tx, bucketCustomChannels).Cursor()
	for k, v := c.First(); k != nil && found == nil; k, v = c.Next() {
		ch := new(parley.CustomChannel)
		if err := customChannelTable().decode(btoi(k), v, ch); err != nil {
			return nil, err
		}
		if ch.AppID == appID {
			found = ch
		}
	}
	return found, nil
}

// CreateChannelAccount stores a for its channel and inbox.
func (db *DB) CreateChannelAccount(ctx context.Context, a *parley.ChannelAccount) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	now := db.utcNow()
	var out parley.ChannelAccount
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = parley.ChannelAccount{}
		if err := json.Unmarshal(data, &out); err != nil {
			return err
		}
		if bucket(tx, bucketCustomChannels).Get(itob(out.ChannelID)) == nil {
			return customChannelTable().notFound(out.ChannelID)
		}
		if bucket(tx, bucketInboxes).Get(itob(out.InboxID)) == nil {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d not found", out.InboxID)
		}
		accounts, err := channelAccounts(tx, out.ChannelID)
		if err != nil {
			return err
		}
		if len(accounts) >= parley.MaxChannelAccounts {
			return parley.Errorf(parley.ECONFLICT, "channel %d has %d accounts, the most it may", out.ChannelID, len(accounts))
		}
		// Widgets, mailboxes and channel accounts share one id sequence:
		// a channel account id names one of them.
		id, err := bucket(tx, bucketWidgets).NextSequence()
		if err != nil {
			return err
		}
		tb := channelAccountTable()
		out.ID = id
		tb.prepare(&out, nil, now)
		return tb.put(tx, bucket(tx, tb.bucket), &out, nil)
	})
	if err != nil {
		return err
	}
	*a = out
	return nil
}

// ChannelAccount returns account id, or ENOTFOUND.
func (db *DB) ChannelAccount(ctx context.Context, id uint64) (*parley.ChannelAccount, error) {
	return readRecord(db, channelAccountTable(), id)
}

// ChannelAccounts returns the accounts of channelID (0: all) by id.
func (db *DB) ChannelAccounts(ctx context.Context, channelID uint64) (out []*parley.ChannelAccount, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		out, err = channelAccounts(tx, channelID)
		return err
	})
	return out, err
}

func channelAccounts(tx *bolt.Tx, channelID uint64) ([]*parley.ChannelAccount, error) {
	var out []*parley.ChannelAccount
	err := bucket(tx, bucketChannelAccounts).ForEach(func(k, v []byte) error {
		a := new(parley.ChannelAccount)
		if err := channelAccountTable().decode(btoi(k), v, a); err != nil {
			return err
		}
		if channelID == 0 || a.ChannelID == channelID {
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// UpdateChannelAccount changes account id with fn.
func (db *DB) UpdateChannelAccount(ctx context.Context, id uint64, fn func(*parley.ChannelAccount) error) (*parley.ChannelAccount, error) {
	return updateRecord(ctx, db, channelAccountTable(), id, fn)
}

// channelContactKey is the key of who in channel_contacts.
func channelContactKey(channelID uint64, who parley.DeliveryIdentifier) []byte {
	k := make([]byte, 0, 8+len(who.Type)+1+len(who.Value))
	k = append(k, itob(channelID)...)
	k = append(k, who.Type...)
	k = append(k, 0)
	return append(k, who.Value...)
}

// ChannelContact returns (or creates) the contact of who on channelID.
func (db *DB) ChannelContact(ctx context.Context, channelID uint64, who parley.DeliveryIdentifier, create *parley.Contact) (*parley.Contact, error) {
	data, err := json.Marshal(create)
	if err != nil {
		return nil, err
	}
	now := db.utcNow()
	key := channelContactKey(channelID, who)
	var out *parley.Contact
	err = db.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		index := bucket(tx, bucketChannelContacts)
		if id := index.Get(key); id != nil {
			c, err := contactTable().get(tx, btoi(id))
			switch {
			case err == nil:
				out = c
				return nil
			case parley.ErrorCode(err) != parley.ENOTFOUND:
				return err
			}
			// The contact was deleted: the sender gets a new one.
		}
		c := new(parley.Contact)
		if err := json.Unmarshal(data, c); err != nil {
			return err
		}
		if err := contactTable().insert(tx, c, now); err != nil {
			return err
		}
		out = c
		return index.Put(key, itob(c.ID))
	})
	return out, err
}

// AppendChannelMessage appends m to the thread opts names; see
// parley.CustomChannelStore.
func (db *DB) AppendChannelMessage(ctx context.Context, m *parley.Message, opts parley.ChannelAppend) (parley.AppendResult, error) {
	if opts.NewThread == nil || opts.AccountID == 0 || opts.ThreadKey == "" {
		return parley.AppendResult{}, parley.Errorf(parley.EINVALID, "a channel message needs its account, thread key and new thread")
	}
	in := *m
	in.ThreadID = 0
	newThread := *opts.NewThread
	if newThread.Integration != nil {
		ti := *newThread.Integration
		newThread.Integration = &ti
	}
	var reopen *parley.Message
	if opts.Reopen != nil {
		ev := *opts.Reopen
		reopen = &ev
	}
	key := append(itob(opts.AccountID), opts.ThreadKey...)
	now := db.utcNow()
	var res parley.AppendResult
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res = parley.AppendResult{}
		index := bucket(tx, bucketChannelThreads)
		msg := in
		if id := index.Get(key); id != nil {
			// A thread in the trash, or deleted for good, is over: the
			// next message starts a new one.
			if t, err := threadTable().get(tx, btoi(id)); err == nil && !t.Archived {
				msg.ThreadID = t.ID
			} else if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
				return err
			}
		}
		r, err := appendReopening(tx, msg, newThread, opts.Update, reopen, now)
		if err != nil {
			return err
		}
		if r.ThreadCreated {
			if err := index.Put(key, itob(r.Thread.ID)); err != nil {
				return err
			}
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

// unlinkChannelThread removes the key in channel_threads that names t, a
// custom channel's thread, under either threading model.
func unlinkChannelThread(tx *bolt.Tx, t *parley.Thread) error {
	ti := t.Integration
	if !parley.IsCustomChannel(t.ChannelID) || ti == nil {
		return nil
	}
	index := bucket(tx, bucketChannelThreads)
	for _, model := range []string{parley.ThreadByDeliveryIdentifier, parley.ThreadByIntegrationThreadID} {
		key := append(itob(t.ChannelAccountID), parley.ChannelThreadKey(model, ti.ThreadID, ti.Contact)...)
		if v := index.Get(key); v != nil && btoi(v) == t.ID {
			if err := index.Delete(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// queueChannelMessage queues m, an agent's reply on a custom channel's
// thread, for the channel's app, with its status PENDING, in the
// transaction that appends it. A channel that takes no outgoing messages
// (or is gone) gets nothing: the reply's status says it failed.
func queueChannelMessage(tx *bolt.Tx, m *parley.Message, now time.Time) error {
	if !parley.IsCustomChannel(m.ChannelID) || m.Type != parley.TypeMessage || m.Direction != parley.Outgoing {
		return nil
	}
	status := bucket(tx, bucketMailDelivery)
	ch, err := customChannelTable().get(tx, uint64(m.ChannelID))
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	if ch == nil || !ch.TakesOutgoing() {
		return putJSON(status, key2(m.ThreadID, m.ID), &parley.Delivery{Status: parley.DeliveryFailed, At: now,
			Error: "the channel takes no outgoing messages"})
	}
	queue := appendBucket(bucket(tx, bucketWebhookQueue))
	id, err := queue.NextSequence()
	if err != nil {
		return err
	}
	ev := parley.WebhookEvent{ID: id, AppID: ch.AppID, Type: parley.WebhookChannelMessage, ThreadID: m.ThreadID,
		MessageID: m.ID, MessageType: string(m.Type), ChannelID: ch.ID, OccurredAt: now, NextAt: now}
	if err := putJSON(queue, key2(ev.AppID, id), &ev); err != nil {
		return err
	}
	if err := appendBucket(bucket(tx, bucketWebhookDue)).Put(dueKey(&ev), []byte{}); err != nil {
		return err
	}
	return putJSON(status, key2(m.ThreadID, m.ID), &parley.Delivery{Status: parley.DeliveryPending, At: now})
}

// SetChannelDelivery records the status of an agent's reply on a custom
// channel.
func (db *DB) SetChannelDelivery(ctx context.Context, threadID, messageID uint64, d parley.ChannelDelivery) (*parley.Delivery, error) {
	now := db.utcNow()
	var out *parley.Delivery
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketMailDelivery)
		old := new(parley.Delivery)
		found, err := getJSON(b, key2(threadID, messageID), old)
		if err != nil {
			return err
		}
		if !found {
			return parley.Errorf(parley.ENOTFOUND, "message %d is no reply on a custom channel", messageID)
		}
		if d.IfPending && old.Status != parley.DeliveryPending {
			out = old
			return nil
		}
		out = &parley.Delivery{Status: d.Status, Error: d.Error, Attempts: old.Attempts, At: now}
		return putJSON(b, key2(threadID, messageID), out)
	})
	return out, err
}
