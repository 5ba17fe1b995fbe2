package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// itob returns v as an 8-byte big-endian key, freshly allocated: bbolt keeps
// a value slice until the transaction ends.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// key2 and key3 return composite keys of big-endian uint64s.
func key2(a, b uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, a)
	binary.BigEndian.PutUint64(k[8:], b)
	return k
}

func key3(a, b, c uint64) []byte {
	k := make([]byte, 24)
	binary.BigEndian.PutUint64(k, a)
	binary.BigEndian.PutUint64(k[8:], b)
	binary.BigEndian.PutUint64(k[16:], c)
	return k
}

// bucket returns a top-level bucket, which the migrations guarantee.
func bucket(tx *bolt.Tx, name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }

// appendBucket returns a bucket whose keys only ever grow, filled to the brim
// before bbolt splits a page.
func appendBucket(b *bolt.Bucket) *bolt.Bucket {
	b.FillPercent = 1.0
	return b
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// getJSON decodes the value at key into v and reports whether it was there.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, json.Unmarshal(data, v)
}

// emailKey is the key of an email in a case-insensitive index.
func emailKey(email string) string { return strings.ToLower(email) }

// checkKey returns EINVALID naming what if key is longer than
// parley.MaxKeyLen bytes: bbolt itself takes keys of up to 32 KiB, and
// fails longer ones with an error of its own, but the contract sets one
// limit for every store.
func checkKey(what, key string) error {
	if len(key) > parley.MaxKeyLen {
		return parley.Errorf(parley.EINVALID, "%s is longer than %d bytes", what, parley.MaxKeyLen)
	}
	return nil
}

// table describes a bucket of JSON records keyed by an id from the bucket's
// sequence, so that create, get, list and update are written once.
type table[T any] struct {
	name   string // for error messages: "user 7 not found"
	bucket string
	id     func(v *T) *uint64

	// prepare sets what the store owns before v is written: defaults on
	// create (old == nil), and on update the fields fn may not change. ID is
	// handled by the generic code.
	prepare func(v, old *T, now time.Time)

	// index, if set, keeps what depends on the record right after v replaced
	// old (nil on create): secondary indexes, child buckets. Its errors (such
	// as ECONFLICT) abort the write.
	index func(tx *bolt.Tx, v, old *T) error

	// changed, if set, runs after insert and replace have written v over
	// old (nil on create), with the write's time: what the change sets off
	// in the same transaction (a thread's webhook events).
	changed func(tx *bolt.Tx, v, old *T, now time.Time) error

	// head, if set, returns headLen bytes that the stored value carries in
	// front of the JSON: a fixed-size summary that scans read without
	// decoding the record (a thread's row).
	head    func(v *T) []byte
	headLen int

	// memo, if set, keeps decoded records for get, which hands out copies
	// made by copyOf (see threadMemo).
	memo   *sharedCache[T]
	copyOf func(v *T) (*T, bool)
}

// encode returns the stored form of v: its head, if any, then its JSON.
func (tb table[T]) encode(v *T) ([]byte, error) {
	if tb.head == nil {
		return json.Marshal(v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(tb.head(v), data...), nil
}

// decode fills v from data, the stored form of record id.
func (tb table[T]) decode(id uint64, data []byte, v *T) error {
	if len(data) < tb.headLen {
		return fmt.Errorf("decode %s %d: value of %d bytes is shorter than its %d-byte head", tb.name, id, len(data), tb.headLen)
	}
	if err := json.Unmarshal(data[tb.headLen:], v); err != nil {
		return fmt.Errorf("decode %s %d: %w", tb.name, id, err)
	}
	return nil
}

func (tb table[T]) notFound(id uint64) error {
	return parley.Errorf(parley.ENOTFOUND, "%s %d not found", tb.name, id)
}

// insert gives v the next id and writes it.
func (tb table[T]) insert(tx *bolt.Tx, v *T, now time.Time) error {
	if err := tb.assign(tx, v, now); err != nil {
		return err
	}
	if err := tb.put(tx, bucket(tx, tb.bucket), v, nil); err != nil {
		return err
	}
	if tb.changed != nil {
		return tb.changed(tx, v, nil, now)
	}
	return nil
}

// assign gives v, a new record, the next id and its defaults without writing
// it: a caller that changes v further in the same transaction then writes it
// once, with put(…, v, nil).
func (tb table[T]) assign(tx *bolt.Tx, v *T, now time.Time) error {
	id, err := bucket(tx, tb.bucket).NextSequence()
	if err != nil {
		return err
	}
	*tb.id(v) = id
	tb.prepare(v, nil, now)
	return nil
}

// replace writes v, a changed copy of old, over old.
func (tb table[T]) replace(tx *bolt.Tx, v, old *T, now time.Time) error {
	tb.fix(v, old, now)
	if err := tb.put(tx, bucket(tx, tb.bucket), v, old); err != nil {
		return err
	}
	if tb.changed != nil {
		return tb.changed(tx, v, old, now)
	}
	return nil
}

// fix undoes what a caller's function changed in v, a copy of old, but may
// not: the id and whatever prepare restores.
func (tb table[T]) fix(v, old *T, now time.Time) {
	*tb.id(v) = *tb.id(old)
	tb.prepare(v, old, now)
}

func (tb table[T]) put(tx *bolt.Tx, b *bolt.Bucket, v, old *T) error {
	if tb.index != nil {
		if err := tb.index(tx, v, old); err != nil {
			return err
		}
	}
	data, err := tb.encode(v)
	if err != nil {
		return err
	}
	if err := b.Put(itob(*tb.id(v)), data); err != nil {
		return err
	}
	if tb.memo != nil {
		// The next get of v in this transaction or after its commit
		// finds these bytes; after a rollback it finds others and decodes.
		// Neither bbolt nor the memo changes data: they may share it.
		if w, ok := tb.copyOf(v); ok {
			tb.memo.put(*tb.id(v), sharedEntry[T]{raw: data, v: w, gen: noGen})
		}
	}
	return nil
}

// get returns record id, or ENOTFOUND.
func (tb table[T]) get(tx *bolt.Tx, id uint64) (*T, error) {
	data := bucket(tx, tb.bucket).Get(itob(id))
	if data == nil {
		return nil, tb.notFound(id)
	}
	if tb.memo != nil {
		if v, ok := tb.memo.lookup(id, data, tb.copyOf); ok {
			return v, nil
		}
	}
	v := new(T)
	if err := tb.decode(id, data, v); err != nil {
		return nil, err
	}
	if tb.memo != nil {
		tb.memo.remember(id, data, v, tb.copyOf)
	}
	return v, nil
}

// createRecord writes a new record, v, and on success sets v to what was written
// (its id and defaults). v is copied before the call returns, so its caller
// may change it afterwards even if ctx ends early.
func createRecord[T any](ctx context.Context, db *DB, tb table[T], v *T) error {
	return createCapped(ctx, db, tb, v, 0, "")
}

// createCapped is createRecord for a library that holds at most max
// records (0: no cap): one more is ECONFLICT, naming the library's records
// as what ("knowledge links").
func createCapped[T any](ctx context.Context, db *DB, tb table[T], v *T, max int, what string) error {
	// A deep copy that the writer owns: T may hold slices.
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("create %s: %w", tb.name, err)
	}
	now := db.utcNow()
	var out *T
	err = db.update(ctx, func(tx *bolt.Tx) error {
		if n := bucket(tx, tb.bucket).Stats().KeyN; max > 0 && n >= max {
			return parley.Errorf(parley.ECONFLICT, "the library holds %d %s, the most it may; delete one first", n, what)
		}
		w := new(T)
		if err := json.Unmarshal(data, w); err != nil {
			return err
		}
		if err := tb.insert(tx, w, now); err != nil {
			return err
		}
		auditRecord(ctx, tb, *tb.id(w), nil, w)
		out = w
		return nil
	})
	if err != nil {
		return err
	}
	*v = *out
	return nil
}

// updateRecord reads record id, lets fn change it and writes it back, all in one
// transaction. An error from fn aborts with nothing written and is returned
// as it is.
func updateRecord[T any](ctx context.Context, db *DB, tb table[T], id uint64, fn func(*T) error) (*T, error) {
	now := db.utcNow()
	var out *T
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := tb.get(tx, id)
		if err != nil {
			return err
		}
		// A shallow copy will do: index reads only old's scalar fields.
		v := new(T)
		*v = *old
		before := parley.AuditCopy(ctx, old)
		if err := fn(v); err != nil {
			return err
		}
		if err := tb.replace(tx, v, old, now); err != nil {
			return err
		}
		auditRecord(ctx, tb, id, before, v)
		out = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readRecord returns record id, or ENOTFOUND.
func readRecord[T any](db *DB, tb table[T], id uint64) (v *T, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		v, err = tb.get(tx, id)
		return err
	})
	return v, err
}

// listRecords returns every record in id order.
func listRecords[T any](db *DB, tb table[T]) ([]*T, error) {
	var out []*T
	err := db.view(func(tx *bolt.Tx) error {
		return bucket(tx, tb.bucket).ForEach(func(k, data []byte) error {
			v := new(T)
			if err := tb.decode(btoi(k), data, v); err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// utcNow is the time the store stamps records with: UTC without a monotonic
// reading, so that a record compares equal to itself read back.
func (db *DB) utcNow() time.Time { return db.now().UTC().Round(0) }

// stampTimes sets the times of a record that has both: on create, CreatedAt
// if zero and UpdatedAt if zero (to CreatedAt); on update, UpdatedAt.
func stampTimes(createdAt, updatedAt *time.Time, isNew bool, now time.Time) {
	switch {
	case !isNew:
		*updatedAt = now
	case createdAt.IsZero():
		*createdAt, *updatedAt = now, now
	case updatedAt.IsZero():
		*updatedAt = *createdAt
	}
}

// prepareAuthored is the prepare of a table of authored entries (snippets,
// knowledge links): the times are stamped, and an update keeps the author
// and the creation time.
func prepareAuthored[T any](authored func(*T) *parley.Authored) func(v, old *T, now time.Time) {
	return func(v, old *T, now time.Time) {
		a := authored(v)
		if old != nil {
			o := authored(old)
			a.CreatedBy, a.CreatedAt = o.CreatedBy, o.CreatedAt
		}
		stampTimes(&a.CreatedAt, &a.UpdatedAt, old == nil, now)
	}
}

// reindexEmail keeps a case-insensitive email index right when the record id
// changes its email from old to email. An email held by another record is
// ECONFLICT; an empty email is not indexed.
func reindexEmail(b *bolt.Bucket, what string, id uint64, email, old string) error {
	key, oldKey := emailKey(email), emailKey(old)
	if key == oldKey {
		return nil
	}
	if key != "" {
		if v := b.Get([]byte(key)); v != nil && btoi(v) != id {
			return parley.Errorf(parley.ECONFLICT, "a %s with email %s already exists", what, email)
		}
		if err := b.Put([]byte(key), itob(id)); err != nil {
			return err
		}
	}
	if oldKey != "" {
		return b.Delete([]byte(oldKey))
	}
	return nil
}

// byEmail returns the record that a case-insensitive email index maps email
// to, or ENOTFOUND.
func byEmail[T any](db *DB, tb table[T], index, email string) (v *T, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		var id []byte
		if key := emailKey(email); key != "" {
			id = bucket(tx, index).Get([]byte(key))
		}
		if id == nil {
			return parley.Errorf(parley.ENOTFOUND, "no %s with email %s", tb.name, email)
		}
		v, err = tb.get(tx, btoi(id))
		return err
	})
	return v, err
}

// insertKeyed stores v under key (a session or visitor hash) in bucket name.
// An empty key is EINVALID, a key already stored ECONFLICT.
func insertKeyed(ctx context.Context, db *DB, name, what, key string, v any) error {
	if key == "" {
		return parley.Errorf(parley.EINVALID, "%s hash is empty", what)
	}
	if err := checkKey(what+" hash", key); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, name)
		if b.Get([]byte(key)) != nil {
			return parley.Errorf(parley.ECONFLICT, "%s already exists", what)
		}
		return b.Put([]byte(key), data)
	})
}

// readKeyed decodes the value under key in bucket name into v, or returns
// ENOTFOUND.
func readKeyed(db *DB, name, what, key string, v any) error {
	return db.view(func(tx *bolt.Tx) error {
		ok := false
		if key != "" {
			var err error
			if ok, err = getJSON(bucket(tx, name), []byte(key), v); err != nil {
				return fmt.Errorf("decode %s: %w", what, err)
			}
		}
		if !ok {
			return parley.Errorf(parley.ENOTFOUND, "%s not found", what)
		}
		return nil
	})
}
