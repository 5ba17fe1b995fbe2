package store

import (
	"bytes"
	"context"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Bots (I7, B1): a conversation's bot state lives on its thread
// (parley.Thread.Bot), so that it is written in the same commits as the
// bot's messages and survives a restart. This file adds the append of a
// message together with the bot's answer to it, and the index of open bot
// conversations by the visitor's last activity, from which the 30-minute
// auto-close reads.

// bucketBotIdle indexes the open threads that a bot owns (Owner OwnerBot)
// by their bot state's LastVisitorAt, oldest first, so that finding the
// conversations idle for 30 minutes reads only those.
const bucketBotIdle = "bot_idle" // timeKey(Bot.LastVisitorAt) ‖ thread id → empty

// botBuckets lists the buckets of this area, created by migrate4.
func botBuckets() []string { return []string{bucketBotIdle} }

// botIdleKey is thread t's key in bot_idle, or nil if it is not indexed
// there (not open, or not the bot's).
func botIdleKey(t *parley.Thread) []byte {
	if t == nil || t.Owner != parley.OwnerBot || t.Status != parley.StatusOpen {
		return nil
	}
	var at time.Time
	if t.Bot != nil {
		at = t.Bot.LastVisitorAt
	}
	if at.IsZero() {
		at = t.CreatedAt
	}
	return key2(timeKey(at), t.ID)
}

// indexBotIdle moves thread t in bot_idle from its old version (nil if new)
// to t (nil if deleted). It is called wherever a thread is written
// (indexThread) or deleted (deleteThreadList).
func indexBotIdle(tx *bolt.Tx, t, old *parley.Thread) error {
	k, oldK := botIdleKey(t), botIdleKey(old)
	if bytes.Equal(k, oldK) {
		return nil
	}
	b := tx.Bucket([]byte(bucketBotIdle))
	if b == nil {
		// A file that reached schema version 4 before this bucket was
		// listed: create it on the first write that needs it.
		var err error
		if b, err = tx.CreateBucket([]byte(bucketBotIdle)); err != nil {
			return err
		}
	}
	if oldK != nil {
		if err := b.Delete(oldK); err != nil {
			return err
		}
	}
	if k != nil {
		return b.Put(k, []byte{})
	}
	return nil
}

// IdleBotThreads returns the ids of up to limit open threads that a bot owns
// and whose visitor last wrote (parley.BotState.LastVisitorAt; the thread's
// creation if never) at or before before, oldest first. It reads only those
// threads' index entries.
func (db *DB) IdleBotThreads(ctx context.Context, before time.Time, limit int) ([]uint64, error) {
	ids := []uint64{}
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketBotIdle))
		if b == nil {
			return nil
		}
		end := timeKey(before)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
			if len(k) != 16 || btoi(k) > end {
				break
			}
			ids = append(ids, btoi(k[8:]))
		}
		return nil
	})
	return ids, err
}

// AppendTurn appends m as AppendMessage(ctx, m, opts) does and then, in the
// same transaction, lets turn answer it: the turn's changes to the thread
// and its contact and the messages it returns are written in the one
// commit that also holds m, so a crash keeps all or nothing of them. For a
// duplicate m nothing is written and turn is not called.
//
// A contact email the turn sets that another contact already holds is not
// taken over (that would hand one person's history to another): it is kept
// in the contact's Properties["email"] instead.
//
// ro.QueueNew puts a thread the append created in the routing queue in the
// same commit, unless the turn left it a bot's (AppendRouted describes the
// queue); the other parley.RouteOptions are not for turns and are refused.
func (db *DB) AppendTurn(ctx context.Context, m *parley.Message, opts parley.AppendOptions, turn parley.TurnFunc, ro parley.RouteOptions) (parley.TurnResult, error) {
	if ro.Note != nil || ro.Queue || ro.Unqueue || ro.Routing != nil {
		return parley.TurnResult{}, parley.Errorf(parley.EINVALID, "a turn takes only parley.RouteOptions.QueueNew")
	}
	if m.ThreadID == 0 && opts.NewThread == nil {
		return parley.TurnResult{}, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	in := *m
	in.QuickReplies = append([]string(nil), m.QuickReplies...)
	var newThread parley.Thread
	if opts.NewThread != nil {
		newThread = *opts.NewThread
	}
	now := db.utcNow()

	var res parley.TurnResult
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res = parley.TurnResult{}
		first, err := appendMessageLeaving(tx, in, newThread, opts.Leave, opts.Update, now)
		res.AppendResult = first
		if err != nil || first.Duplicate {
			return err
		}
		if turn != nil {
			if err := appendReplies(tx, &res, turn, now); err != nil {
				return err
			}
		}
		if ro.QueueNew && res.ThreadCreated && res.Thread.Owner != parley.OwnerBot {
			if err := enqueue(tx, parley.QueuedThread{ThreadID: res.Thread.ID, QueuedAt: now}); err != nil {
				return err
			}
		}
		res.Queued = isQueued(tx, res.Thread.ID)
		return nil
	})
	if err != nil {
		return parley.TurnResult{}, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
	}
	return res, nil
}

// appendReplies runs turn on res's thread and writes what it did.
func appendReplies(tx *bolt.Tx, res *parley.TurnResult, turn parley.TurnFunc, now time.Time) error {
	threads, contacts := threadTable(), contactTable()
	stored := res.Thread // as written by the first append
	t := *stored
	if stored.Bot != nil {
		b := *stored.Bot
		b.Answers = make(map[string]string, len(stored.Bot.Answers))
		for k, v := range stored.Bot.Answers {
			b.Answers[k] = v
		}
		t.Bot = &b
	}
	var oldContact, c *parley.Contact
	if t.ContactID != 0 {
		var err error
		if oldContact, err = contacts.get(tx, t.ContactID); err != nil {
			return err
		}
		cc := *oldContact
		cc.Properties = make(map[string]string, len(oldContact.Properties)+1)
		for k, v := range oldContact.Properties {
			cc.Properties[k] = v
		}
		c = &cc
	}
	replies, err := turn(&t, c)
	if err != nil {
		return err
	}
	turned := t
	for i, r := range replies {
		var update func(*parley.Thread) error
		if i == 0 {
			// The first reply carries the turn's changes of the thread;
			// appendMessage keeps what is its own (LastSeq and the rest).
			update = func(x *parley.Thread) error {
				*x = turned
				return nil
			}
		}
		msg := *r
		msg.ThreadID = t.ID
		msg.ClientID = ""
		out, err := appendMessage(tx, msg, parley.Thread{}, update, now)
		if err != nil {
			return err
		}
		res.Replies = append(res.Replies, out.Message)
		res.Thread = out.Thread
	}
	if len(replies) == 0 && !sameJSON(&turned, stored) {
		if err := threads.replace(tx, &turned, stored, now); err != nil {
			return err
		}
		res.Thread = &turned
	}
	if c != nil && !sameJSON(c, oldContact) {
		if c.Email != oldContact.Email && c.Email != "" {
			if id := bucket(tx, bucketContactEmails).Get([]byte(emailKey(c.Email))); id != nil && btoi(id) != c.ID {
				c.Properties["email"] = c.Email
				c.Email = oldContact.Email
			}
		}
		if len(c.Properties) == 0 {
			c.Properties = nil
		}
		if err := contacts.replace(tx, c, oldContact, now); err != nil {
			return err
		}
		res.Contact = c
	}
	return nil
}
