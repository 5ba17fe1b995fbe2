package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Routing (W6, E3): the queue of conversations waiting for an available
// agent and when routing last gave each user a conversation. The per-user
// counts of open assigned conversations come from thread_counts (list.go).
const (
	// bucketRoutingQueue is the queue in order of arrival.
	bucketRoutingQueue = "routing_queue" // timeKey(queuedAt) ‖ thread → parley.QueuedThread
	// bucketRoutingQueued finds a thread's place in the queue.
	bucketRoutingQueued = "routing_queued" // thread → key in routing_queue
	// bucketRoutingLast holds the time of each user's last routed conversation.
	bucketRoutingLast = "routing_last" // user → unix nanoseconds (8 bytes)
)

// routingBuckets lists the buckets of this area, created by migrate4.
func routingBuckets() []string {
	return []string{bucketRoutingQueue, bucketRoutingQueued, bucketRoutingLast}
}

// routingBucket returns bucket name for writing, creating it if a file
// migrated to version 4 before the bucket was listed lacks it.
func routingBucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	return tx.CreateBucketIfNotExists([]byte(name))
}

// AppendRouted is AppendMessage (same rules, same errors) with routing's
// bookkeeping in the same commit: an optional note before the message,
// entering or leaving the queue, and, when the message is an assignment
// (TypeAssignment with an assignee), the assignee's last routed time set to
// the message's time. A duplicate message writes nothing at all.
func (db *DB) AppendRouted(ctx context.Context, m *parley.Message, opts parley.AppendOptions, ro parley.RouteOptions) (parley.RoutedResult, error) {
	if m.ThreadID == 0 && opts.NewThread == nil {
		return parley.RoutedResult{}, parley.Errorf(parley.EINVALID, "message has no thread")
	}
	in := *m
	var newThread parley.Thread
	if opts.NewThread != nil {
		newThread = *opts.NewThread
	}
	var note parley.Message
	if ro.Note != nil {
		note = *ro.Note
	}
	var routing *parley.Routing
	if ro.Routing != nil {
		r := *ro.Routing
		r.UserIDs, r.TeamIDs = append([]uint64(nil), r.UserIDs...), append([]uint64(nil), r.TeamIDs...)
		routing = &r
	}
	now := db.utcNow()

	var res parley.RoutedResult
	err := db.update(ctx, func(tx *bolt.Tx) error {
		res = parley.RoutedResult{}
		msg := in
		if ro.Note != nil {
			if msg.ThreadID == 0 {
				return parley.Errorf(parley.EINVALID, "a note needs an existing thread")
			}
			n := note
			n.ThreadID = msg.ThreadID
			nr, err := appendMessage(tx, n, parley.Thread{}, nil, now)
			if err != nil {
				return err
			}
			if nr.Duplicate {
				return parley.Errorf(parley.ECONFLICT, "the note repeats an earlier message")
			}
			res.Note = nr.Message
		}
		ar, err := appendMessageLeaving(tx, msg, newThread, opts.Leave, opts.Update, now)
		if err != nil {
			return err
		}
		res.AppendResult = ar
		if ar.Duplicate {
			if ro.Note != nil {
				return parley.Errorf(parley.ECONFLICT, "the message repeats an earlier one")
			}
			return nil
		}
		id := ar.Thread.ID
		if ro.Unqueue {
			if err := unqueue(tx, id); err != nil {
				return err
			}
		}
		if ro.Queue || ro.QueueNew && ar.ThreadCreated {
			if err := enqueue(tx, parley.QueuedThread{ThreadID: id, QueuedAt: now, Routing: routing}); err != nil {
				return err
			}
		}
		res.Queued = isQueued(tx, id)
		if ar.Message.Type == parley.TypeAssignment && ar.Message.AssigneeID != 0 {
			last, err := routingBucket(tx, bucketRoutingLast)
			if err != nil {
				return err
			}
			if err := last.Put(itob(ar.Message.AssigneeID), itob(uint64(ar.Message.CreatedAt.UnixNano()))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return parley.RoutedResult{}, err
	}
	if !res.Duplicate {
		*m = *res.Message
		res.Message = m
		if ro.Note != nil {
			*ro.Note = *res.Note
			res.Note = ro.Note
		}
	}
	return res, nil
}

func enqueue(tx *bolt.Tx, q parley.QueuedThread) error {
	if isQueued(tx, q.ThreadID) {
		return nil
	}
	queue, err := routingBucket(tx, bucketRoutingQueue)
	if err != nil {
		return err
	}
	queued, err := routingBucket(tx, bucketRoutingQueued)
	if err != nil {
		return err
	}
	k := key2(timeKey(q.QueuedAt), q.ThreadID)
	if err := putJSON(appendBucket(queue), k, &q); err != nil {
		return err
	}
	return queued.Put(itob(q.ThreadID), k)
}

func unqueue(tx *bolt.Tx, threadID uint64) error {
	queued := bucket(tx, bucketRoutingQueued)
	if queued == nil {
		return nil
	}
	k := queued.Get(itob(threadID))
	if k == nil {
		return nil
	}
	k = bytes.Clone(k)
	if err := queued.Delete(itob(threadID)); err != nil {
		return err
	}
	if queue := bucket(tx, bucketRoutingQueue); queue != nil {
		return queue.Delete(k)
	}
	return nil
}

func isQueued(tx *bolt.Tx, threadID uint64) bool {
	queued := bucket(tx, bucketRoutingQueued)
	return queued != nil && queued.Get(itob(threadID)) != nil
}

// Enqueue puts thread threadID in the routing queue with routing (nil: the
// widget's), at the end, or leaves it where it is if it is queued already.
// It returns ENOTFOUND if the thread does not exist.
func (db *DB) Enqueue(ctx context.Context, threadID uint64, routing *parley.Routing) error {
	var queued bool
	if err := db.view(func(tx *bolt.Tx) error { queued = isQueued(tx, threadID); return nil }); err != nil || queued {
		return err // nothing to write: no commit
	}
	now := db.utcNow()
	return db.update(ctx, func(tx *bolt.Tx) error {
		if bucket(tx, bucketThreads).Get(itob(threadID)) == nil {
			return threadTable().notFound(threadID)
		}
		return enqueue(tx, parley.QueuedThread{ThreadID: threadID, QueuedAt: now, Routing: routing})
	})
}

// Dequeue takes thread threadID out of the routing queue; a thread not in
// it is no error.
func (db *DB) Dequeue(ctx context.Context, threadID uint64) error {
	var queued bool
	if err := db.view(func(tx *bolt.Tx) error { queued = isQueued(tx, threadID); return nil }); err != nil || !queued {
		return err // nothing to write: no commit
	}
	return db.update(ctx, func(tx *bolt.Tx) error { return unqueue(tx, threadID) })
}

// Queue returns up to limit conversations of the routing queue (all when
// limit ≤ 0), the longest waiting first.
func (db *DB) Queue(ctx context.Context, limit int) ([]parley.QueuedThread, error) {
	out := []parley.QueuedThread{}
	err := db.view(func(tx *bolt.Tx) error {
		queue := bucket(tx, bucketRoutingQueue)
		if queue == nil {
			return nil
		}
		c := queue.Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var q parley.QueuedThread
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("decode queued thread %x: %w", k, err)
			}
			out = append(out, q)
		}
		return nil
	})
	return out, err
}

// OpenAssigned returns, per user, the number of open, not archived and not
// filtered threads assigned to them on channel channelID (0: every
// channel), across all inboxes. It reads the view counters, whatever the
// number of threads. Users with none are absent.
func (db *DB) OpenAssigned(ctx context.Context, channelID int) (map[uint64]int, error) {
	out := map[uint64]int{}
	err := db.view(func(tx *bolt.Tx) error {
		c := bucket(tx, bucketThreadCounts).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 19 || len(v) != 8 {
				return fmt.Errorf("thread counts: bad entry %x → %x", k, v)
			}
			if k[10] != 0 || channelID != 0 && int(binary.BigEndian.Uint16(k[8:])) != channelID {
				continue
			}
			if a := btoi(k[11:]); a != 0 {
				out[a] += int(btoi(v))
			}
		}
		return nil
	})
	return out, err
}

// LastRouted returns, per user, when routing last assigned them a
// conversation (AppendRouted). Users never routed to are absent.
func (db *DB) LastRouted(ctx context.Context) (map[uint64]time.Time, error) {
	out := map[uint64]time.Time{}
	err := db.view(func(tx *bolt.Tx) error {
		last := bucket(tx, bucketRoutingLast)
		if last == nil {
			return nil
		}
		return last.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) != 8 {
				return fmt.Errorf("routing_last: bad entry %x → %x", k, v)
			}
			out[btoi(k)] = time.Unix(0, int64(btoi(v))).UTC()
			return nil
		})
	})
	return out, err
}
