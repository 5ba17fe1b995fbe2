package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	fileName        = "parley.db" // inside the data directory
	defaultTimeout  = 3 * time.Second
	defaultMaxBatch = 1000

	defaultGatherDelay = 500 * time.Microsecond
	defaultGatherMin   = 4

	// defaultMmapSize is what Open maps of the file at first: 1 GiB of
	// address space (not memory) on 64-bit systems, so that a backup's
	// long read transaction does not hold up writes that grow the file
	// (bbolt remaps a grown file only with no read transaction open).
	defaultMmapSize = 1 << 30 * (strconv.IntSize / 64)
)

// Options configures Open. A nil *Options means all defaults.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before it gives up with an error saying that the data directory
	// is in use. Defaults to 3s.
	Timeout time.Duration

	// Now is the clock for CreatedAt and UpdatedAt defaults and for session
	// expiry. It must be safe for concurrent use. Defaults to time.Now.
	Now func() time.Time

	// NoGroupCommit makes every write its own bbolt transaction (db.Update,
	// one fsync each) instead of going through the group-commit writer. It is
	// the naive baseline for benchmarks, not meant for production.
	NoGroupCommit bool

	// MaxBatch is the largest number of writes one group commit holds. It is
	// also the length of the write queue. Defaults to 1000.
	MaxBatch int

	// GatherDelay is how long the writer, once it has a group of at least
	// GatherMin writes, waits for more before it commits them: under load
	// a commit then carries more writes, and its fsync is shared by more.
	// A write alone, or a few, wait for nothing. 0 means the default,
	// 500µs; a negative value turns gathering off.
	GatherDelay time.Duration
	// GatherMin is the group size from which the writer gathers; 0 means
	// the default, 4.
	GatherMin int

	// NoSync skips fsync on commit. For tests only: a crash can then lose
	// acknowledged writes or corrupt the file.
	NoSync bool

	// IndexInterval is how often the background search indexer looks for
	// messages and contact changes to index when WaitIndexed does not wake
	// it. Defaults to 100ms.
	IndexInterval time.Duration

	// MmapSize is how much of the file bbolt maps at first. While the
	// file fits, a backup (a long read transaction) never delays a write;
	// a write that grows the file beyond it waits for running backups to
	// end. Defaults to 1 GiB on 64-bit systems.
	MmapSize int

	// ObserveCommit, when set, hears of every successful commit of
	// writes: how many writes it held and how long the commit and its
	// fsync took (the writes' own work not counted). The writer goroutine
	// calls it after answering the writes, so it delays the next commit,
	// never an acknowledgement: it must be cheap and must not call db.
	ObserveCommit func(writes int, d time.Duration)

	// ObserveStorage, when set, hears when commits start failing for want
	// of a working disk (err, an ESTORAGE error wrapping the cause, with
	// refused 0), and when they work again (err nil, refused the number
	// of writes refused meanwhile): a commit 10s after the latest failure,
	// or at once CheckStorage's probe. Once per burst, not once per write,
	// so that it can log. The writer goroutine calls it after answering
	// the writes, or CheckStorage when its probe ends a burst; the calls
	// come one at a time and in order. It must be cheap and must not call
	// db.
	ObserveStorage func(err error, refused int)

	// ObserveConversion, when set, hears of the conversion of messages to
	// their binary form that an upgrade to schema version 13 leaves to Open
	// (see Open): after each chunk committed (5,000 keys), how many messages
	// this Open has converted so far, and done after the last chunk. Open
	// calls it from its own goroutine, only while there is a conversion to
	// finish (never for a new file).
	ObserveConversion func(converted int, done bool)

	// tuneBolt, when set, adjusts the bbolt options just before the file is
	// opened. Tests use it to make commits fail (MaxSize).
	tuneBolt func(*bolt.Options)

	// convertSize and afterConvertChunk, when set, bound the chunks of the
	// conversion of messages to their binary form and hear of each one
	// committed (see convertMessages). Tests use them to convert in small
	// chunks and to stop midway.
	convertSize       convertSize
	afterConvertChunk func(chunks int) error
}

// DB is Parley's store: one bbolt file in a data directory. All methods are
// safe for concurrent use. Reads run in their own read-only transactions, side
// by side; writes are funneled through one writer goroutine that commits them in
// groups, and a background indexer keeps the search index (see the package
// documentation).
type DB struct {
	bolt          *bolt.DB
	path          string
	version       int
	now           func() time.Time
	noGroupCommit bool
	maxBatch      int
	gatherDelay   time.Duration // Options.GatherDelay; 0 for none
	gatherMin     int
	gathering     atomic.Int32 // 1 while the writer waits for more writes; for tests
	gathers       atomic.Int64 // how often it waited; for tests
	// The writer's own: what gathering brought lately (gatherPays).
	gatherGain  float64
	gatherSkips int
	indexer     *indexer // keeps the search index; see search_index.go
	searchCap   int      // searchCap, lowered by tests

	// observeCommit is Options.ObserveCommit, never nil.
	observeCommit func(writes int, d time.Duration)

	storage storageHealth // failed commits; see storage.go

	shared shared // decoded records of hot reads; see shared.go
	// gen counts commits twice, as each begins and as it ends: it is odd
	// while one is under way. A shared record found stored at an even gen
	// is current while no commit since has changed its bucket (shared.go).
	gen atomic.Uint64

	// mu guards closed. A write holds it shared while it hands itself to the
	// writer (or, without group commit, while it runs), so that Close, which
	// takes it exclusively, knows that no write is left half-submitted.
	mu     sync.RWMutex
	closed bool

	queue      chan *call    // pending writes; closed by Close
	writerDone chan struct{} // closed when the writer has answered every write

	closeOnce sync.Once
	closeErr  error

	// webhooks, if set, is called after each commit that queued webhook
	// events (NotifyWebhooks).
	webhooks   atomic.Pointer[func()]
	webhookSeq atomic.Uint64 // the queue's sequence at the last commit seen

	// Counters for tests and benchmarks.
	commits atomic.Uint64 // successful commits
	written atomic.Uint64 // writes acknowledged by those commits
}

// call is one write waiting for the writer.
type call struct {
	ctx  context.Context
	fn   func(*bolt.Tx) error
	done chan error // buffered: the writer never blocks on an answer
}

// Open opens (creating it if needed) the store in directory dir, which it
// creates with mode 0700 if missing; the data lives in dir/parley.db. Open
// brings the file's schema up to date (see SchemaVersion) and refuses a file
// written by a newer Parley. After an upgrade to schema version 13 it converts
// the file's messages to their binary form before it returns, a chunk per
// transaction, in memory that does not grow with the file; a conversion
// stopped by a crash resumes at the next Open. If another process holds the file, Open waits
// up to opts.Timeout and then fails with an error saying that the data
// directory is in use by another Parley process.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	switch {
	case o.GatherDelay == 0:
		o.GatherDelay = defaultGatherDelay
	case o.GatherDelay < 0:
		o.GatherDelay = 0
	}
	if o.GatherMin <= 0 {
		o.GatherMin = defaultGatherMin
	}
	if o.MmapSize <= 0 {
		o.MmapSize = defaultMmapSize
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(dir, fileName)
	bo := &bolt.Options{
		Timeout:         o.Timeout,
		NoSync:          o.NoSync,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: o.MmapSize,
	}
	if o.tuneBolt != nil {
		o.tuneBolt(bo)
	}
	bdb, err := bolt.Open(path, 0o600, bo)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store: data directory %s is in use by another Parley process (waited %s for the lock on %s): %w",
			dir, o.Timeout, fileName, err)
	} else if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	version, err := migrate(bdb, migrations())
	if err == nil {
		err = convertMessages(bdb, o.convertSize, o.ObserveConversion, o.afterConvertChunk)
	}
	if err == nil {
		err = prepareSearch(bdb)
	}
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}

	db := &DB{
		bolt:          bdb,
		path:          path,
		version:       version,
		now:           o.Now,
		noGroupCommit: o.NoGroupCommit,
		maxBatch:      o.MaxBatch,
		gatherDelay:   o.GatherDelay,
		gatherMin:     o.GatherMin,
		gatherGain:    1, // try at first
		observeCommit: o.ObserveCommit,
		searchCap:     searchCap,
	}
	if db.observeCommit == nil {
		db.observeCommit = func(int, time.Duration) {}
	}
	db.storage.observe = o.ObserveStorage
	if db.storage.observe == nil {
		db.storage.observe = func(error, int) {}
	}
	if !o.NoGroupCommit {
		db.queue = make(chan *call, o.MaxBatch)
		db.writerDone = make(chan struct{})
		go db.writer()
	}
	db.startIndexer(o.IndexInterval)
	return db, nil
}

// Path returns the path of the bbolt file.
func (db *DB) Path() string { return db.path }

// SchemaVersion returns the schema version of the open file, which Open has
// brought up to the newest version this binary knows.
func (db *DB) SchemaVersion() int { return db.version }

// Close stops the search indexer, stops accepting writes (later ones fail
// with EUNAVAILABLE), waits for the writes already queued to commit and
// answers them, then closes the file. It waits for running reads to finish.
// Calling it again returns the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.indexer.stop()
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		// No write holds mu now, so none can be sending on the queue.
		if db.queue != nil {
			close(db.queue)
			<-db.writerDone
		}
		if err := db.bolt.Close(); err != nil {
			db.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return db.closeErr
}

func errClosed() error { return parley.Errorf(parley.EUNAVAILABLE, "store is closed") }

// view runs fn in a read-only transaction.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	err := db.bolt.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return errClosed()
	}
	return err
}

// update runs fn in a write transaction and returns once that transaction
// has committed (nil) or fn's or the commit's error. fn may run more than
// once (when another write of its group fails, the group is rerun without
// it), so it must set its results afresh each time and have no other side
// effects. It must not call db.
//
// If ctx ends first, update returns ctx.Err(): before fn ran, the write is
// dropped; once it ran, it may still commit.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return errClosed()
	}
	if db.noGroupCommit {
		defer db.mu.RUnlock()
		return db.updateAlone(ctx, fn)
	}

	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.queue <- c:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		var p *writePanic
		if errors.As(err, &p) {
			panic(p.value)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// updateAlone runs fn in its own bbolt transaction: the NoGroupCommit path.
func (db *DB) updateAlone(ctx context.Context, fn func(*bolt.Tx) error) error {
	fnFailed := false
	var fnDone time.Time
	g := db.gen.Add(1) + 1
	defer func() {
		db.noteChanges(g)
		db.gen.Add(1)
	}()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		err := ctx.Err()
		if err == nil {
			err = fn(tx)
		}
		if err == nil {
			err = db.auditWrite(ctx, tx)
		}
		fnFailed = err != nil
		fnDone = time.Now()
		if err == nil {
			db.notifyWebhooksOnCommit(tx)
		}
		return err
	})
	if err != nil && !fnFailed {
		err = storageError(fmt.Errorf("commit: %w", err))
		db.storage.failed(err, 1)
		return err
	} else if err == nil {
		auditCommitted(ctx)
		db.commits.Add(1)
		db.written.Add(1)
		db.observeCommit(1, time.Since(fnDone))
		db.storage.committed()
	}
	return err
}

// writer is the one goroutine that runs writes in group-commit mode. It takes
// the first pending write, drains whatever else is already queued without
// waiting, and commits them together. It ends when Close has closed the queue
// and every write in it has been answered.
func (db *DB) writer() {
	defer close(db.writerDone)
	batch := make([]*call, 0, db.maxBatch)
	var gather *time.Timer
	if db.gatherDelay > 0 {
		gather = time.NewTimer(time.Hour)
		gather.Stop()
		defer gather.Stop()
	}
	for c := range db.queue {
		batch = append(batch[:0], c)
	drain:
		for len(batch) < db.maxBatch {
			select {
			case c, ok := <-db.queue:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		if gather != nil && len(batch) >= db.gatherMin && db.gatherPays() {
			n := len(batch)
			batch = db.gather(batch, gather)
			db.gathered(len(batch) - n)
		}
		db.commit(batch)
		clear(batch) // let the answered calls be collected
	}
}

// gatherPays says whether waiting for more writes is likely to bring some:
// it has lately (an average over the last gathers) brought at least one.
// Writers that each wait for their own write's commit (closed loop) send
// nothing while the writer waits; then only every 16th group still tries.
func (db *DB) gatherPays() bool {
	db.gatherSkips++
	if db.gatherGain >= 1 || db.gatherSkips >= 16 {
		db.gatherSkips = 0
		return true
	}
	return false
}

// gathered notes how many writes a gather brought.
func (db *DB) gathered(n int) {
	db.gatherGain += (float64(n) - db.gatherGain) / 8
	db.gathers.Add(1)
}

// gather adds the writes that arrive within db.gatherDelay to batch, up to
// db.maxBatch. The queue closing ends it early; the writer's loop then
// ends after this batch.
func (db *DB) gather(batch []*call, t *time.Timer) []*call {
	t.Reset(db.gatherDelay)
	db.gathering.Store(1)
	defer func() {
		t.Stop()
		db.gathering.Store(0)
	}()
	for len(batch) < db.maxBatch {
		select {
		case c, ok := <-db.queue:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		case <-t.C:
			return batch
		}
	}
	return batch
}

// commit runs calls in one transaction and answers each after the commit. A
// call whose fn fails is answered with its error and the transaction rolled
// back, so that nothing of it stays; the others run again, in the same order,
// in a fresh transaction. A call whose context has ended before it runs is
// answered with ctx.Err() and skipped. A failed commit is every call's
// error, an ESTORAGE one: bbolt has rolled it back and reloaded its free
// pages from the last committed state, so nothing of the group stays and
// the next group starts afresh.
func (db *DB) commit(calls []*call) {
	for len(calls) > 0 {
		tx, err := db.bolt.Begin(true)
		if err != nil {
			err = fmt.Errorf("begin write: %w", err)
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		failed := false
		for i, c := range calls {
			if err := c.ctx.Err(); err != nil {
				c.done <- err // it wrote nothing: no rollback needed
				calls[i] = nil
				continue
			}
			err := safeCall(c.fn, tx)
			if err == nil {
				err = db.auditWrite(c.ctx, tx)
			}
			if err != nil {
				_ = tx.Rollback()
				c.done <- err
				calls[i] = nil
				failed = true
				break
			}
		}
		calls = slices.DeleteFunc(calls, func(c *call) bool { return c == nil })
		if failed {
			continue
		}
		if len(calls) == 0 {
			_ = tx.Rollback()
			return
		}
		db.notifyWebhooksOnCommit(tx)
		start := time.Now()
		g := db.gen.Add(1) + 1 // the gen at which this commit ends
		err = tx.Commit()
		db.noteChanges(g)
		db.gen.Add(1)
		if err != nil {
			err = storageError(fmt.Errorf("commit: %w", err))
		} else {
			db.commits.Add(1)
			db.written.Add(uint64(len(calls)))
			for _, c := range calls {
				auditCommitted(c.ctx)
			}
		}
		took := time.Since(start)
		if err == nil {
			db.observeCommit(len(calls), took) // before the answers: what a caller was told is counted
		}
		for _, c := range calls {
			c.done <- err
		}
		if err == nil {
			db.storage.committed()
		} else {
			db.storage.failed(err, len(calls))
		}
		return
	}
}

// writePanic carries a panic of a write function from the writer goroutine to
// the caller, where update panics again with the same value.
type writePanic struct {
	value any
	stack []byte
}

func (p *writePanic) Error() string {
	return fmt.Sprintf("panic in store write: %v\n%s", p.value, p.stack)
}

func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &writePanic{value: v, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}
