package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// maxShared bounds each shared cache: past it, an entry is dropped for
// every one added.
const maxShared = 4096

// sharedCache keeps decoded records that a hot path reads for every message
// (the widget, the visitor's contact, the sender's name) so that reading one
// costs a lookup instead of a read transaction and a JSON decode. An entry
// is valid while the stored bytes are the ones it was decoded from. A read
// first asks whether anything has been committed since the entry was last
// found valid (DB.gen); only if something has does it look the record up in
// a read transaction and compare the bytes. So no write path has to
// remember to invalidate it, and a read never sees anything older than the
// last commit before it.
type sharedCache[T any] struct {
	mu sync.Mutex
	m  map[uint64]sharedEntry[T]
	// changed is the gen at which the last commit that changed the cache's
	// bucket ended (noteChanges): an entry found stored at a gen not below
	// it is current. Commits of other records leave it.
	changed atomic.Uint64
	// root is what the writer last saw of the bucket (bucketState); the
	// writer's alone.
	root uint64
}

type sharedEntry[T any] struct {
	raw []byte // the stored value v was decoded from
	v   *T
	gen uint64 // DB.gen when raw was last found stored; noGen for none
}

// noGen is an odd gen, never compared: it marks an entry not found stored
// at any gen.
const noGen = ^uint64(0)

// note records, in the writer after a commit that ends at gen g, whether
// the commit changed the cache's bucket. bbolt copies every page it
// changes, so a changed bucket has a new root page; a bucket small enough
// to live inside its parent (root 0) is compared by a hash of its contents.
func (c *sharedCache[T]) note(tx *bolt.Tx, name string, g uint64) {
	if r := bucketState(bucket(tx, name)); r != c.root {
		c.root = r
		c.changed.Store(g)
	}
}

// bucketState is b's root page, or for an inline bucket a hash of its
// keys and values with the top bit set.
func bucketState(b *bolt.Bucket) uint64 {
	if r := uint64(b.Root()); r != 0 {
		return r
	}
	h := fnv.New64a()
	var n [8]byte
	_ = b.ForEach(func(k, v []byte) error {
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write(k)
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
		return nil
	})
	return h.Sum64() | 1<<63
}

// read returns record id as stored now, shared with every other caller.
func (c *sharedCache[T]) read(db *DB, tb table[T], id uint64) (*T, error) {
	g := db.gen.Load()
	if g&1 == 0 {
		c.mu.Lock()
		e, ok := c.m[id]
		c.mu.Unlock()
		if ok && e.gen != noGen && e.gen >= c.changed.Load() {
			return e.v, nil
		}
	} else {
		g = noGen // a commit is under way: what the transaction sees may be before or after it
	}
	var v *T
	err := db.view(func(tx *bolt.Tx) error {
		data := bucket(tx, tb.bucket).Get(itob(id))
		if data == nil {
			c.forget(id)
			return tb.notFound(id)
		}
		if v = c.stamp(id, data, g); v != nil {
			return nil
		}
		v = new(T)
		if err := tb.decode(id, data, v); err != nil {
			return err
		}
		c.put(id, sharedEntry[T]{raw: bytes.Clone(data), v: v, gen: g})
		return nil
	})
	return v, err
}

// stamp returns the shared record id if data is what it was decoded from,
// and notes that it was found stored at gen g.
func (c *sharedCache[T]) stamp(id uint64, data []byte, g uint64) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || !bytes.Equal(e.raw, data) {
		return nil
	}
	e.gen = g
	c.m[id] = e
	return e.v
}

func (c *sharedCache[T]) put(id uint64, e sharedEntry[T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[uint64]sharedEntry[T])
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= maxShared {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = e
}

// forget drops record id, so that memory keeps nothing of an erased record.
func (c *sharedCache[T]) forget(id uint64) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// lookup returns a copy of record id if data is what it was decoded from:
// for a caller that changes what it reads, such as the writer moving a
// thread on by one message. copyOf makes the copy; it reports false for a
// record it cannot copy cheaply, which is then never kept.
func (c *sharedCache[T]) lookup(id uint64, data []byte, copyOf func(*T) (*T, bool)) (*T, bool) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !bytes.Equal(e.raw, data) {
		return nil, false
	}
	return copyOf(e.v)
}

// remember keeps a copy of v, just decoded from data (which lives only as
// long as its transaction), if copyOf can make one.
func (c *sharedCache[T]) remember(id uint64, data []byte, v *T, copyOf func(*T) (*T, bool)) {
	if w, ok := copyOf(v); ok {
		c.put(id, sharedEntry[T]{raw: bytes.Clone(data), v: w, gen: noGen})
	}
}

// threadMemo keeps decoded threads for threadTable's get: each message
// reads its thread and writes it back with the next seq, and decoding the
// thread's JSON was a tenth of the writer's work. Its entries are checked
// against the stored bytes like sharedCache's, so it can serve every open
// store at once: equal bytes decode to equal threads.
var threadMemo sharedCache[parley.Thread]

// copyThread copies t when a plain copy is a deep one: t points at nothing.
// A thread with a bot's state, an integration or a hand-off's routing is
// decoded every time (those are few).
func copyThread(t *parley.Thread) (*parley.Thread, bool) {
	if t.Bot != nil || t.Integration != nil || t.HandoffRouting != nil {
		return nil, false
	}
	c := *t
	return &c, true
}

// shared holds the store's shared caches.
type shared struct {
	widgets  sharedCache[parley.Widget]
	contacts sharedCache[parley.Contact]
	users    sharedCache[parley.User]
}

// noteChanges looks, after a commit that ends at gen g and before gen
// reaches g, at which cached buckets the commit changed. It costs a read
// transaction a commit, not one a read.
func (db *DB) noteChanges(g uint64) {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		db.shared.widgets.note(tx, bucketWidgets, g)
		db.shared.contacts.note(tx, bucketContacts, g)
		db.shared.users.note(tx, bucketUsers, g)
		return nil
	})
	if err != nil { // closed: no read can follow
		db.shared.widgets.changed.Store(g)
		db.shared.contacts.changed.Store(g)
		db.shared.users.changed.Store(g)
	}
}

// SharedWidget is Widget for a reader that only reads: the record it returns
// is shared with other callers and must not be modified. Reading a widget
// that has not changed since the last read costs no decoding.
func (db *DB) SharedWidget(ctx context.Context, id uint64) (*parley.Widget, error) {
	return db.shared.widgets.read(db, widgetTable(), id)
}

// SharedContact is Contact for a reader that only reads; see SharedWidget.
func (db *DB) SharedContact(ctx context.Context, id uint64) (*parley.Contact, error) {
	return db.shared.contacts.read(db, contactTable(), id)
}

// SharedUser is User for a reader that only reads; see SharedWidget.
func (db *DB) SharedUser(ctx context.Context, id uint64) (*parley.User, error) {
	return db.shared.users.read(db, userTable(), id)
}
