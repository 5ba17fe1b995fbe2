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

// Buckets of users' teams and invitations (schema version 2).
const (
	bucketTeams   = "teams"   // id → Team
	bucketInvites = "invites" // hash → Invite
)

// peopleBuckets lists the buckets of users' teams and invitations, inbox deletion.
func peopleBuckets() []string { return []string{bucketTeams, bucketInvites} }

func teamTable() table[parley.Team] {
	return table[parley.Team]{
		name:   "team",
		bucket: bucketTeams,
		id:     func(t *parley.Team) *uint64 { return &t.ID },
		prepare: func(t, old *parley.Team, now time.Time) {
			stampTimes(&t.CreatedAt, &t.UpdatedAt, old == nil, now)
		},
	}
}

// CreateTeam stores a new team and sets t.ID, t.CreatedAt if zero, and
// t.UpdatedAt.
func (db *DB) CreateTeam(ctx context.Context, t *parley.Team) error {
	return createRecord(ctx, db, teamTable(), t)
}

// Team returns team id, or ENOTFOUND.
func (db *DB) Team(ctx context.Context, id uint64) (*parley.Team, error) {
	return readRecord(db, teamTable(), id)
}

// Teams returns every team by id.
func (db *DB) Teams(ctx context.Context) ([]*parley.Team, error) {
	return listRecords(db, teamTable())
}

// UpdateTeam changes team id with fn in one transaction, sets UpdatedAt and
// returns the team as written. An error from fn aborts with nothing written
// and is returned as it is; ENOTFOUND if the team does not exist. fn may not
// change the ID. fn runs on the store's writer goroutine, maybe more than once
// and maybe after UpdateTeam has returned ctx.Err(); it must not call db.
func (db *DB) UpdateTeam(ctx context.Context, id uint64, fn func(*parley.Team) error) (*parley.Team, error) {
	return updateRecord(ctx, db, teamTable(), id, fn)
}

// DeleteTeam deletes team id, or returns ENOTFOUND. Its users stay.
func (db *DB) DeleteTeam(ctx context.Context, id uint64) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketTeams)
		if b.Get(itob(id)) == nil {
			return teamTable().notFound(id)
		}
		return b.Delete(itob(id))
	})
}

// CreateInvite stores an invitation under inv.Hash and sets inv.CreatedAt if
// zero. In the same transaction it drops expired invitations and any other
// pending invitation for the same email (in any case), so that only the
// newest link of a person works. An empty hash or email is EINVALID, a hash
// already stored ECONFLICT.
func (db *DB) CreateInvite(ctx context.Context, inv *parley.Invite) error {
	w := *inv
	w.InboxIDs = slices.Clone(inv.InboxIDs)
	if w.Hash == "" {
		return parley.Errorf(parley.EINVALID, "invite hash is empty")
	}
	if w.Email == "" {
		return parley.Errorf(parley.EINVALID, "invite email is empty")
	}
	if err := checkKey("invite hash", w.Hash); err != nil {
		return err
	}
	if err := checkKey("invite email", w.Email); err != nil {
		return err
	}
	now := db.utcNow()
	if w.CreatedAt.IsZero() {
		w.CreatedAt = now
	}
	data, err := json.Marshal(&w)
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketInvites)
		if b.Get([]byte(w.Hash)) != nil {
			return parley.Errorf(parley.ECONFLICT, "invite already exists")
		}
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var old parley.Invite
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("decode invite: %w", err)
			}
			if !now.Before(old.ExpiresAt) || emailKey(old.Email) == emailKey(w.Email) {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		parley.AuditObject(ctx, "invite", w.Hash, nil, &w) // the hash is the invite's id in the API
		return b.Put([]byte(w.Hash), data)
	})
	if err != nil {
		return err
	}
	*inv = w
	return nil
}

// Invite returns the invitation with this hash, or ENOTFOUND if there is none
// or it has expired (by Options.Now).
func (db *DB) Invite(ctx context.Context, hash string) (*parley.Invite, error) {
	inv := new(parley.Invite)
	if err := readKeyed(db, bucketInvites, "invite", hash, inv); err != nil {
		return nil, err
	}
	if !db.now().Before(inv.ExpiresAt) {
		return nil, parley.Errorf(parley.ENOTFOUND, "invite not found")
	}
	return inv, nil
}

// Invites returns the invitations that have not expired, oldest first.
func (db *DB) Invites(ctx context.Context) ([]*parley.Invite, error) {
	now := db.now()
	out := []*parley.Invite{}
	err := db.view(func(tx *bolt.Tx) error {
		return bucket(tx, bucketInvites).ForEach(func(k, v []byte) error {
			inv := new(parley.Invite)
			if err := json.Unmarshal(v, inv); err != nil {
				return fmt.Errorf("decode invite: %w", err)
			}
			if now.Before(inv.ExpiresAt) {
				out = append(out, inv)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *parley.Invite) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// DeleteInvite deletes the invitation with this hash, or returns ENOTFOUND.
func (db *DB) DeleteInvite(ctx context.Context, hash string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketInvites)
		if hash == "" || b.Get([]byte(hash)) == nil {
			return parley.Errorf(parley.ENOTFOUND, "invite not found")
		}
		return b.Delete([]byte(hash))
	})
}

// AcceptInvite turns the invitation with this hash into user u, in one
// transaction: u takes the invitation's email, role and routing seat, is
// stored (u.ID and u.CreatedAt if zero are set), becomes a member of those of
// the invitation's inboxes that still exist, and the invitation is deleted.
// It returns the invitation as it was. ENOTFOUND if the invitation is missing
// or expired; ECONFLICT if a user with its email exists by now (the
// invitation then stays).
func (db *DB) AcceptInvite(ctx context.Context, hash string, u *parley.User) (*parley.Invite, error) {
	in := *u
	now := db.utcNow()
	var inv *parley.Invite
	var out *parley.User
	err := db.update(ctx, func(tx *bolt.Tx) error {
		inv, out = nil, nil
		b := bucket(tx, bucketInvites)
		i := new(parley.Invite)
		if hash == "" {
			return parley.Errorf(parley.ENOTFOUND, "invite not found")
		}
		if ok, err := getJSON(b, []byte(hash), i); err != nil {
			return fmt.Errorf("decode invite: %w", err)
		} else if !ok || !now.Before(i.ExpiresAt) {
			return parley.Errorf(parley.ENOTFOUND, "invite not found")
		}
		w := in
		w.Email, w.Role, w.RoutingSeat = i.Email, i.Role, i.RoutingSeat
		if err := userTable().insert(tx, &w, now); err != nil {
			return err
		}
		inboxes := inboxTable()
		for _, id := range i.InboxIDs {
			old, err := inboxes.get(tx, id)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			if old.HasMember(w.ID) {
				continue
			}
			v := *old
			v.MemberIDs = append(slices.Clone(old.MemberIDs), w.ID)
			if err := inboxes.replace(tx, &v, old, now); err != nil {
				return err
			}
		}
		if err := b.Delete([]byte(hash)); err != nil {
			return err
		}
		inv, out = i, &w
		return nil
	})
	if err != nil {
		return nil, err
	}
	*u = *out
	return inv, nil
}

// UpdateUserAccess changes user id with fn like UpdateUser, and keeps two
// rules in the same transaction: at least one active admin remains (else
// ECONFLICT and nothing is written), and a user whom fn deactivates loses
// every console session and API token at once, so that reactivating them
// later does not bring old credentials back; likewise an admin whom fn
// demotes keeps their tokens without the admin scope. fn runs on the store's writer
// goroutine, maybe more than once; it must not call db.
func (db *DB) UpdateUserAccess(ctx context.Context, id uint64, fn func(*parley.User) error) (*parley.User, error) {
	now := db.utcNow()
	var out *parley.User
	err := db.update(ctx, func(tx *bolt.Tx) error {
		users := userTable()
		old, err := users.get(tx, id)
		if err != nil {
			return err
		}
		v := *old
		before := parley.AuditCopy(ctx, old)
		if err := fn(&v); err != nil {
			return err
		}
		if err := users.replace(tx, &v, old, now); err != nil {
			return err
		}
		auditRecord(ctx, users, id, before, &v)
		if old.IsAdmin() && !old.Deactivated && (!v.IsAdmin() || v.Deactivated) {
			n, err := countActiveAdmins(tx)
			if err != nil {
				return err
			}
			if n == 0 {
				return parley.Errorf(parley.ECONFLICT, "%s is the last active admin; make someone else an admin first", old.Name)
			}
		}
		if v.Deactivated && !old.Deactivated {
			if err := deleteUserSessions(tx, id); err != nil {
				return err
			}
		} else if old.IsAdmin() && !v.IsAdmin() {
			if err := dropAdminScope(tx, id); err != nil {
				return err
			}
		}
		out = &v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func countActiveAdmins(tx *bolt.Tx) (int, error) {
	n := 0
	err := bucket(tx, bucketUsers).ForEach(func(k, v []byte) error {
		var u parley.User
		if err := userTable().decode(btoi(k), v, &u); err != nil {
			return err
		}
		if u.IsAdmin() && !u.Deactivated {
			n++
		}
		return nil
	})
	return n, err
}

// deleteUserSessions deletes every session and token of user id.
func deleteUserSessions(tx *bolt.Tx, id uint64) error {
	b := bucket(tx, bucketSessions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s struct {
			UserID uint64 `json:"userId"`
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decode session: %w", err)
		}
		if s.UserID == id {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := deleteSession(tx, k); err != nil {
			return err
		}
	}
	return nil
}

// DeleteInbox deletes inbox id for good, in one transaction: the inbox, its
// chat widgets (its channel accounts), and every thread of the inbox with all
// its messages and index entries. Contacts stay: they are shared by all
// inboxes. It returns ENOTFOUND if the inbox does not exist and ECONFLICT if
// it is the only inbox (one must remain).
func (db *DB) DeleteInbox(ctx context.Context, id uint64) error {
	now := db.utcNow()
	return db.update(ctx, func(tx *bolt.Tx) error {
		inboxes := bucket(tx, bucketInboxes)
		if inboxes.Get(itob(id)) == nil {
			return inboxTable().notFound(id)
		}
		if k, _ := inboxes.Cursor().First(); k != nil && btoi(k) == id {
			if k, _ := inboxes.Cursor().Last(); btoi(k) == id {
				return parley.Errorf(parley.ECONFLICT, "inbox %d is the only inbox; one must remain", id)
			}
		}

		// Collect first: a bbolt cursor must not walk a bucket that is
		// being changed under it.
		var threadIDs []uint64
		c := bucket(tx, bucketThreads).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r, err := threadRow(btoi(k), v)
			if err != nil {
				return err
			}
			if r.inbox() == id {
				threadIDs = append(threadIDs, btoi(k))
			}
		}
		threads := threadTable()
		for _, tid := range threadIDs {
			t, err := threads.get(tx, tid)
			if err != nil {
				return err
			}
			if err := deleteThread(tx, t, now); err != nil {
				return fmt.Errorf("delete thread %d: %w", tid, err)
			}
		}

		widgets := bucket(tx, bucketWidgets)
		var widgetKeys [][]byte
		err := widgets.ForEach(func(k, v []byte) error {
			var w parley.Widget
			if err := widgetTable().decode(btoi(k), v, &w); err != nil {
				return err
			}
			if w.InboxID == id {
				widgetKeys = append(widgetKeys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range widgetKeys {
			if err := widgets.Delete(k); err != nil {
				return err
			}
		}
		if err := deleteInboxMail(tx, id); err != nil { // its email addresses
			return err
		}
		return inboxes.Delete(itob(id))
	})
}

// DeleteThread deletes thread id for good, as ThreadStore describes.
func (db *DB) DeleteThread(ctx context.Context, id uint64, check func(*parley.Thread) error) (t *parley.Thread, err error) {
	now := db.utcNow()
	err = db.update(ctx, func(tx *bolt.Tx) error {
		if t, err = threadTable().get(tx, id); err != nil {
			return err
		}
		if err := check(t); err != nil {
			return err
		}
		return deleteThread(tx, t, now)
	})
	return t, err
}

// deleteThread removes thread t (as stored) and every entry it has in any
// bucket: its value in threads, its row in thread_latest, its key in the chat
// index, its messages and their dedup entries in messages, and its messages'
// entries in message_ids, and its files' records (the blobs go with the
// next sweep). Whoever adds an index of threads or messages adds
// its removal here. It queues conversation.privacyDeletion for the
// subscribers who asked for it, at now, so that every deletion for good
// is reported.
func deleteThread(tx *bolt.Tx, t *parley.Thread, now time.Time) error {
	threadMemo.forget(t.ID) // its preview is the contact's words
	if err := deleteThreadFiles(tx, t.ID); err != nil {
		return err
	}
	msgs, ids := bucket(tx, bucketMessages), bucket(tx, bucketMessageIDs)
	prefix := itob(t.ID)
	var keys [][]byte
	c := msgs.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if seq, ok := messageSeq(k, t.ID); ok {
			id, err := messageID(k, v)
			if err != nil {
				return fmt.Errorf("decode message %d: %w", seq, err)
			}
			if err := ids.Delete(itob(id)); err != nil {
				return err
			}
		}
		keys = append(keys, bytes.Clone(k)) // a message or a dedup entry
	}
	for _, k := range keys {
		if err := msgs.Delete(k); err != nil {
			return err
		}
	}
	if t.ChannelID == parley.ChannelChat {
		if err := bucket(tx, bucketChatThreads).Delete(key3(t.ContactID, t.ChannelAccountID, t.ID)); err != nil {
			return err
		}
	}
	if err := bucket(tx, bucketThreadLatest).Delete(key2(timeKey(t.LatestMessageAt), t.ID)); err != nil {
		return err
	}
	if err := unindexThreadContact(tx, t); err != nil {
		return err
	}
	if err := deleteThreadList(tx, t); err != nil { // view counts, search index
		return err
	}
	if err := unlinkThreadRecords(tx, t.ID); err != nil {
		return err
	}
	if err := deleteThreadMail(tx, t); err != nil { // Message-IDs, outbox, delivery
		return err
	}
	if err := unqueue(tx, t.ID); err != nil { // the routing queue
		return err
	}
	if err := unlinkChannelThread(tx, t); err != nil { // a custom channel's thread key
		return err
	}
	if err := queueWebhook(tx, parley.WebhookEvent{Type: parley.WebhookPrivacyDeletion, ThreadID: t.ID}, now); err != nil {
		return err
	}
	return bucket(tx, bucketThreads).Delete(prefix)
}
