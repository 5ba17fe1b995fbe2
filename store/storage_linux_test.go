package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestStorageFailingDisk makes the disk under a store fail for real: the
// descriptor bbolt writes its file through is replaced (dup3) by a
// read-only one of the same file, where every write fails (EBADF: an I/O
// error other than a full disk, which TestDiskFull in cmd/parley causes on
// a small tmpfs); bbolt's mapping, which it reads through, stays. A group
// of writes is refused as one, each with ESTORAGE "storage I/O error";
// nothing of it stays; the burst is announced once; CheckStorage says so
// and its probe is refused too, tried at most once a second however often
// it is asked. With the descriptor put back, the next
// probe commits and ends the burst, writes succeed, and the file passes
// bbolt's check and opens again. (/dev/full cannot stand in for a full
// disk here: bbolt checks the size of its file, and that one has none.)
func TestStorageFailingDisk(t *testing.T) {
	for _, tt := range []struct {
		name    string
		open    func(path string) (*os.File, error)
		cause   error
		message string
	}{
		{"failing", func(path string) (*os.File, error) { return os.Open(path) }, syscall.EBADF, "storage I/O error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			var events storageEvents
			var file *os.File
			opts := &Options{ObserveStorage: events.observe}
			opts.tuneBolt = func(o *bolt.Options) {
				o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
					f, err := os.OpenFile(name, flag, perm)
					file = f
					return f, err
				}
			}
			db := MustOpenDir(t, dir, opts)
			if err := db.SetMeta(ctx, "before", []byte("kept")); err != nil {
				t.Fatal(err)
			}

			// The writer held while three writes queue, so that they are
			// one group; the disk fails before it goes on.
			unblock := make(chan struct{})
			started := make(chan struct{})
			held := make(chan error, 1)
			go func() {
				held <- db.update(context.Background(), func(*bolt.Tx) error {
					select {
					case <-started:
					default:
						close(started)
					}
					<-unblock
					return nil
				})
			}()
			<-started
			results := queue(t, db,
				func() error { return db.SetMeta(ctx, "a", []byte("1")) },
				func() error { return db.SetMeta(ctx, "b", make([]byte, 64<<10)) },
				func() error { return db.SetMeta(ctx, "c", []byte("3")) },
			)
			fd := int(file.Fd())
			saved, err := syscall.Dup(fd)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(saved)
			bad, err := tt.open(db.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			if err := syscall.Dup3(int(bad.Fd()), fd, syscall.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			close(unblock)
			for i, r := range append([]chan error{held}, results...) {
				err := <-r
				if parley.ErrorCode(err) != parley.ESTORAGE || !errors.Is(err, tt.cause) ||
					!strings.HasPrefix(parley.ErrorMessage(err), tt.message) {
					t.Errorf("write %d on the failing disk: %v, want ESTORAGE %q caused by %v", i, err, tt.message, tt.cause)
				}
			}
			if err := db.CheckStorage(ctx); parley.ErrorCode(err) != parley.ESTORAGE || !errors.Is(err, tt.cause) {
				t.Errorf("CheckStorage on the failing disk: %v, want ESTORAGE caused by %v", err, tt.cause)
			}
			// Anyone may ask /healthz: asked in a loop, it probes at most
			// once a second, each probe one refused write.
			db.storage.mu.Lock()
			before := db.storage.refused
			db.storage.mu.Unlock()
			start := time.Now()
			for range 50 {
				wantCode(t, db.CheckStorage(ctx), parley.ESTORAGE)
			}
			db.storage.mu.Lock()
			probes := db.storage.refused - before
			db.storage.mu.Unlock()
			if limit := int(time.Since(start)/time.Second) + 1; probes > limit {
				t.Errorf("50 checks in %s probed %d times, want at most %d", time.Since(start), probes, limit)
			}
			if errs, _ := events.get(); len(errs) != 1 || !errors.Is(errs[0], tt.cause) {
				t.Errorf("storage events on the failing disk: %v, want one, caused by %v", errs, tt.cause)
			}
			for _, k := range []string{"a", "b", "c", string(keyStorageProbe)} {
				if _, err := db.Meta(ctx, k); parley.ErrorCode(err) != parley.ENOTFOUND {
					t.Errorf("Meta(%s) of a refused write: %v, want ENOTFOUND", k, err)
				}
			}

			// The disk works again: no restart, no write from outside.
			if err := syscall.Dup3(saved, fd, syscall.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for db.CheckStorage(ctx) != nil {
				if time.Now().After(deadline) {
					t.Fatalf("CheckStorage 10s after the disk works again: %v", db.CheckStorage(ctx))
				}
				time.Sleep(50 * time.Millisecond)
			}
			errs, counts := events.get()
			if len(errs) != 2 || errs[1] != nil || counts[1] < 5 {
				t.Errorf("storage events: %v, refused %v; want the failure, then the recovery counting the 4 refused writes and the probe", errs, counts)
			}
			if err := db.SetMeta(ctx, "after", []byte("new")); err != nil {
				t.Fatalf("write after the disk works again: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := CheckFile(db.Path()); err != nil {
				t.Fatalf("consistency check: %v", err)
			}
			db = MustOpenDir(t, dir, nil)
			for k, want := range map[string]string{"before": "kept", "after": "new", "a": "", "b": "", "c": ""} {
				got, err := db.Meta(ctx, k)
				if want == "" && parley.ErrorCode(err) != parley.ENOTFOUND || want != "" && string(got) != want {
					t.Errorf("reopened: Meta(%s)=%q, %v, want %q", k, got, err, want)
				}
			}
		})
	}
}
