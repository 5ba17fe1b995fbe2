package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	db := MustOpenDir(t, dir, &Options{NoSync: true})

	if got, want := db.Path(), filepath.Join(dir, "parley.db"); got != want {
		t.Errorf("Path()=%q, want %q", got, want)
	}
	if got, want := db.SchemaVersion(), len(migrations()); got != want || got < 1 {
		t.Errorf("SchemaVersion()=%d, want %d", got, want)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("data directory mode=%v, want 0700", got)
	}
	fi, err = os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode=%v, want 0600", got)
	}

	// Data survives a reopen.
	if err := db.SetMeta(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpenDir(t, dir, &Options{NoSync: true})
	if got, err := db.Meta(t.Context(), "k"); err != nil || string(got) != "v" {
		t.Errorf("Meta(k)=%q, %v, want \"v\"", got, err)
	}
}

// A second Open of a directory in use fails after Options.Timeout, saying so.
func TestOpen_InUse(t *testing.T) {
	dir := t.TempDir()
	MustOpenDir(t, dir, nil)

	start := time.Now()
	db, err := Open(dir, &Options{Timeout: 200 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		db.Close()
		t.Fatal("second Open succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "in use by another Parley process") || !strings.Contains(err.Error(), dir) {
		t.Errorf("error=%q, want it to say that %s is in use by another Parley process", err, dir)
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error=%v, want it to wrap bbolt's ErrTimeout", err)
	}
	// bbolt polls the lock every 50ms and stops one poll short of Timeout.
	// The upper bound only tells giving up from hanging: a loaded machine
	// may be slow to wake the poller.
	if elapsed < 100*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("Open gave up after %s, want about 200ms", elapsed)
	}
}

func TestOpen_Migrations(t *testing.T) {
	// writeFile creates a bbolt file by hand, as an older or newer Parley
	// would have left it.
	writeFile := func(t *testing.T, fn func(tx *bolt.Tx) error) string {
		dir := t.TempDir()
		bdb, err := bolt.Open(filepath.Join(dir, "parley.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := bdb.Update(fn); err != nil {
			t.Fatal(err)
		}
		if err := bdb.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	setVersion := func(v uint64) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("meta"))
			if err != nil {
				return err
			}
			return b.Put([]byte("schemaVersion"), itob(v))
		}
	}
	readVersion := func(t *testing.T, dir string) int {
		bdb, err := bolt.Open(filepath.Join(dir, "parley.db"), 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer bdb.Close()
		var v int
		if err := bdb.View(func(tx *bolt.Tx) (err error) { v, err = readSchemaVersion(tx); return err }); err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("version 0 is migrated", func(t *testing.T) {
		dir := writeFile(t, func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("legacy"))
			if err != nil {
				return err
			}
			return b.Put([]byte("x"), []byte("kept"))
		})
		db := MustOpenDir(t, dir, &Options{NoSync: true})
		if got, want := db.SchemaVersion(), len(migrations()); got != want {
			t.Errorf("SchemaVersion()=%d, want %d", got, want)
		}
		u := &parley.User{Email: "a@example.com"}
		if err := db.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser after migration: %v", err)
		}
		var kept string
		db.bolt.View(func(tx *bolt.Tx) error {
			kept = string(tx.Bucket([]byte("legacy")).Get([]byte("x")))
			return nil
		})
		if kept != "kept" {
			t.Errorf("legacy data=%q, want \"kept\"", kept)
		}
		db.Close()
		if got, want := readVersion(t, dir), len(migrations()); got != want {
			t.Errorf("stored schema version=%d, want %d", got, want)
		}
	})

	t.Run("newer schema is refused", func(t *testing.T) {
		newer := uint64(len(migrations()) + 1)
		dir := writeFile(t, setVersion(newer))
		db, err := Open(dir, &Options{NoSync: true})
		if err == nil {
			db.Close()
			t.Fatal("Open succeeded, want an error")
		}
		if want := fmt.Sprintf("schema version %d", newer); !strings.Contains(err.Error(), "newer Parley") || !strings.Contains(err.Error(), want) {
			t.Errorf("error=%q, want it to name %s and ask for a newer Parley", err, want)
		}
		if got := readVersion(t, dir); got != int(newer) {
			t.Errorf("stored schema version=%d after the refusal, want %d", got, newer)
		}
	})

	// The mechanism itself, with made-up steps.
	createBucket := func(name string) migration {
		return migration{name, func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte(name)) // fails if run twice
			return err
		}}
	}
	failing := migration{"fail", func(tx *bolt.Tx) error { return errTest }}
	for _, tt := range []struct {
		name        string
		from        uint64
		steps       []migration
		wantVersion int
		wantErr     bool
		wantBuckets map[string]bool
	}{
		{"runs pending steps in order", 1, []migration{createBucket("one"), createBucket("two"), createBucket("three")}, 3, false,
			map[string]bool{"one": false, "two": true, "three": true}},
		{"up to date", 2, []migration{createBucket("one"), createBucket("two")}, 2, false,
			map[string]bool{"one": false, "two": false}},
		{"failing step rolls back all", 1, []migration{createBucket("one"), createBucket("two"), failing}, 1, true,
			map[string]bool{"two": false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFile(t, setVersion(tt.from))
			bdb, err := bolt.Open(filepath.Join(dir, "parley.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := migrate(bdb, tt.steps)
			if (err != nil) != tt.wantErr {
				t.Errorf("migrate error=%v, want error %t", err, tt.wantErr)
			}
			bdb.View(func(tx *bolt.Tx) error {
				for name, want := range tt.wantBuckets {
					if got := tx.Bucket([]byte(name)) != nil; got != want {
						t.Errorf("bucket %s exists=%t, want %t", name, got, want)
					}
				}
				return nil
			})
			bdb.Close()
			if !tt.wantErr && v != tt.wantVersion {
				t.Errorf("migrate version=%d, want %d", v, tt.wantVersion)
			}
			if got := readVersion(t, dir); got != tt.wantVersion {
				t.Errorf("stored version=%d, want %d", got, tt.wantVersion)
			}
		})
	}
}

// holdWriter occupies the writer with a write that waits for release, so
// that the writes a test queues meanwhile form one group.
func holdWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started := make(chan struct{}, 1)
	unblock := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.update(context.Background(), func(*bolt.Tx) error {
			select {
			case started <- struct{}{}:
			default:
			}
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

// waitQueued waits until n writes are queued.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(db.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", len(db.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// queue starts each write in its own goroutine, in order, each once the one
// before is queued, and returns a channel per write for its error.
func queue(t *testing.T, db *DB, writes ...func() error) []chan error {
	t.Helper()
	results := make([]chan error, len(writes))
	for i, w := range writes {
		results[i] = make(chan error, 1)
		go func() { results[i] <- w() }()
		waitQueued(t, db, i+1)
	}
	return results
}

// One failing write of a group leaves nothing behind and does not disturb
// the others, which still commit together.
func TestGroupCommit_FailingWrite(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	release := holdWriter(t, db)
	commits := db.commits.Load()

	a := &parley.User{Email: "a@example.com"}
	aUpper := &parley.User{Email: "A@EXAMPLE.COM"}
	b := &parley.User{Email: "b@example.com"}
	results := queue(t, db,
		func() error { return db.CreateUser(ctx, a) },
		func() error {
			return db.update(ctx, func(tx *bolt.Tx) error {
				if err := bucket(tx, bucketKV).Put([]byte("partial"), []byte("x")); err != nil {
					return err
				}
				return errTest // after writing: the put must vanish
			})
		},
		func() error { return db.CreateUser(ctx, aUpper) }, // conflicts with a, queued before it
		func() error { return db.CreateUser(ctx, b) },
		func() error { return db.SetMeta(ctx, "k", []byte("v")) },
	)
	release()

	for i, want := range []error{nil, errTest, nil, nil, nil} {
		got := <-results[i]
		switch {
		case i == 2:
			wantCode(t, got, parley.ECONFLICT)
		case !errors.Is(got, want):
			t.Errorf("write %d: error=%v, want %v", i, got, want)
		}
	}
	if got := db.commits.Load() - commits; got != 2 {
		t.Errorf("commits=%d, want 2 (the holding write, then the group)", got)
	}
	if a.ID != 1 || b.ID != 2 {
		t.Errorf("user ids=%d, %d, want 1, 2 (sequences of failed runs rolled back)", a.ID, b.ID)
	}
	if _, err := db.Meta(ctx, "partial"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Meta(partial) error=%v, want ENOTFOUND: the failed write left data", err)
	}
	if got, err := db.Meta(ctx, "k"); err != nil || string(got) != "v" {
		t.Errorf("Meta(k)=%q, %v, want \"v\"", got, err)
	}
	users, err := db.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Errorf("users=%d, want 2", len(users))
	}
}

// A failed commit is the error of every write in the group, and the store
// goes on working.
func TestGroupCommit_CommitFails(t *testing.T) {
	ctx := t.Context()
	opts := &Options{NoSync: true}
	opts.tuneBolt = func(o *bolt.Options) { o.MaxSize = 1 << 20 }
	db := MustOpen(t, opts)

	big := make([]byte, 400<<10)
	release := holdWriter(t, db)
	results := queue(t, db,
		func() error { return db.SetMeta(ctx, "a", big) },
		func() error { return db.SetMeta(ctx, "b", big) },
		func() error { return db.SetMeta(ctx, "c", big) },
	)
	release()
	for i, r := range results {
		if err := <-r; !errors.Is(err, berrors.ErrMaxSizeReached) || parley.ErrorCode(err) != parley.ESTORAGE {
			t.Errorf("write %d: error=%v, want the commit's ErrMaxSizeReached as ESTORAGE", i, err)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := db.Meta(ctx, k); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Meta(%s) error=%v, want ENOTFOUND", k, err)
		}
	}
	if err := db.SetMeta(ctx, "small", []byte("x")); err != nil {
		t.Errorf("write after a failed commit: %v", err)
	}
}

// A panicking write panics in its caller; the rest of its group commits.
func TestGroupCommit_Panic(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	release := holdWriter(t, db)
	results := queue(t, db,
		func() error { return db.SetMeta(ctx, "a", []byte("1")) },
		func() (err error) {
			defer func() {
				if v := recover(); v != "boom" {
					err = errors.New("no panic")
				} else {
					err = errTest
				}
			}()
			return db.update(ctx, func(tx *bolt.Tx) error { panic("boom") })
		},
		func() error { return db.SetMeta(ctx, "b", []byte("2")) },
	)
	release()
	for i, want := range []error{nil, errTest, nil} {
		if got := <-results[i]; !errors.Is(got, want) {
			t.Errorf("write %d: error=%v, want %v", i, got, want)
		}
	}
	for _, k := range []string{"a", "b"} {
		if _, err := db.Meta(ctx, k); err != nil {
			t.Errorf("Meta(%s): %v", k, err)
		}
	}
}

func TestWrite_Context(t *testing.T) {
	t.Run("ended before", func(t *testing.T) {
		db := MustOpen(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := db.SetMeta(ctx, "k", []byte("v")); !errors.Is(err, context.Canceled) {
			t.Errorf("error=%v, want context.Canceled", err)
		}
		if _, err := db.Meta(t.Context(), "k"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Meta(k) error=%v, want ENOTFOUND", err)
		}
	})

	t.Run("ended while queued", func(t *testing.T) {
		db := MustOpen(t, nil)
		release := holdWriter(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		results := queue(t, db, func() error { return db.SetMeta(ctx, "k", []byte("v")) })
		cancel()
		if err := <-results[0]; !errors.Is(err, context.Canceled) {
			t.Errorf("error=%v, want context.Canceled", err)
		}
		release()
		if err := db.SetMeta(t.Context(), "after", []byte("x")); err != nil { // the writer has passed the cancelled write
			t.Fatal(err)
		}
		if _, err := db.Meta(t.Context(), "k"); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Meta(k) error=%v, want ENOTFOUND: a write cancelled before it ran was committed", err)
		}
	})
}

func TestClose(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"group commit", Options{NoSync: true}},
		{"no group commit", Options{NoSync: true, NoGroupCommit: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := MustOpen(t, &tt.opts)
			if err := db.SetMeta(ctx, "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			wantCode(t, db.SetMeta(ctx, "k", nil), parley.EUNAVAILABLE)
			_, err := db.Meta(ctx, "k")
			wantCode(t, err, parley.EUNAVAILABLE)
		})
	}
}

// Close answers every write queued before it, and commits them.
func TestClose_DrainsQueue(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := MustOpenDir(t, dir, &Options{NoSync: true})
	release := holdWriter(t, db)

	const n = 20
	writes := make([]func() error, n)
	for i := range writes {
		writes[i] = func() error { return db.SetMeta(ctx, string(rune('a'+i)), []byte{byte(i)}) }
	}
	results := queue(t, db, writes...)

	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	for {
		db.mu.RLock()
		c := db.closed
		db.mu.RUnlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wantCode(t, db.SetMeta(ctx, "late", []byte("x")), parley.EUNAVAILABLE)
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while writes were queued", err)
	case <-time.After(20 * time.Millisecond):
	}

	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("queued write %d: %v", i, err)
		}
	}
	db = MustOpenDir(t, dir, &Options{NoSync: true})
	for i := range n {
		if got, err := db.Meta(ctx, string(rune('a'+i))); err != nil || len(got) != 1 || got[0] != byte(i) {
			t.Errorf("Meta(%c)=%v, %v, want [%d]", 'a'+i, got, err, i)
		}
	}
}

// TestGather: from GatherMin queued writes on, the writer waits up to
// GatherDelay for more and commits them together; fewer writes wait for
// nothing; Close ends a wait at once, and the gathered writes commit.
func TestGather(t *testing.T) {
	ctx := t.Context()
	t.Run("gathers", func(t *testing.T) {
		var mu sync.Mutex
		var groups []int
		db := MustOpen(t, &Options{NoSync: true, GatherDelay: time.Hour, GatherMin: 2, MaxBatch: 5,
			ObserveCommit: func(n int, _ time.Duration) { mu.Lock(); groups = append(groups, n); mu.Unlock() }})
		release := holdWriter(t, db)
		results := queue(t, db,
			func() error { return db.SetMeta(ctx, "a", []byte("1")) },
			func() error { return db.SetMeta(ctx, "b", []byte("2")) },
		)
		release()
		// Two were queued: the writer now waits for more, up to five.
		var late []chan error
		for _, k := range []string{"c", "d", "e"} {
			ch := make(chan error, 1)
			go func() { ch <- db.SetMeta(ctx, k, []byte("3")) }()
			late = append(late, ch)
		}
		for _, r := range append(results, late...) {
			if err := <-r; err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []int{1, 5}; !slices.Equal(groups, want) {
			t.Errorf("commits of %v writes, want %v (the holding write, then five gathered)", groups, want)
		}
	})
	t.Run("alone", func(t *testing.T) {
		db := MustOpen(t, &Options{NoSync: true, GatherDelay: time.Hour, GatherMin: 2})
		for i := range 3 { // each alone: none waits an hour
			if err := db.SetMeta(ctx, "k", []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("close", func(t *testing.T) {
		db := MustOpen(t, &Options{NoSync: true, GatherDelay: time.Hour, GatherMin: 1})
		done := make(chan error, 1)
		go func() { done <- db.SetMeta(ctx, "k", []byte("v")) }()
		waitGathering(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Errorf("the gathered write: %v, want it committed", err)
		}
	})
}

// waitGathering waits until the writer has taken every queued write.
func waitGathering(t *testing.T, db *DB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for db.gathering.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not start gathering")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGatherBacksOff: when waiting brings no more writes, as when every
// writer waits for its own commit, the writer stops waiting but for one
// group in 16.
func TestGatherBacksOff(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, &Options{NoSync: true, GatherDelay: 5 * time.Millisecond, GatherMin: 2})
	for i := range 20 {
		release := holdWriter(t, db)
		results := queue(t, db,
			func() error { return db.SetMeta(ctx, "a", []byte{byte(i)}) },
			func() error { return db.SetMeta(ctx, "b", []byte{byte(i)}) },
		)
		release()
		for _, r := range results {
			if err := <-r; err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first group tries, brings nothing; the 16th after it tries again.
	if got := db.gathers.Load(); got != 2 {
		t.Errorf("gathered %d times in 20 groups that brought nothing, want 2", got)
	}
}
