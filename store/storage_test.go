package store

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/parley-chat/parley"
	berrors "go.etcd.io/bbolt/errors"
)

// storageEvents records what Options.ObserveStorage hears.
type storageEvents struct {
	mu     sync.Mutex
	errs   []error
	counts []int
}

func (e *storageEvents) observe(err error, refused int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
	e.counts = append(e.counts, refused)
}

func (e *storageEvents) get() ([]error, []int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...), append([]int(nil), e.counts...)
}

// StorageError maps the file system's errors to one code, and tells a
// full disk from a failing one.
func TestStorageErrorMessages(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cause error
		want  string
	}{
		{"ENOSPC", &fs.PathError{Op: "write", Path: "parley.db", Err: syscall.ENOSPC}, "disk full"},
		{"EDQUOT", &fs.PathError{Op: "write", Path: "parley.db", Err: syscall.EDQUOT}, "disk full"},
		{"EFBIG", &fs.PathError{Op: "write", Path: "parley.db", Err: syscall.EFBIG}, "disk full"},
		{"EIO", &fs.PathError{Op: "write", Path: "parley.db", Err: syscall.EIO}, "storage I/O error"},
		{"MaxSize", berrors.ErrMaxSizeReached, "disk full"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := storageError(fmt.Errorf("commit: %w", tt.cause))
			if got := parley.ErrorCode(err); got != parley.ESTORAGE {
				t.Errorf("code=%q, want %q", got, parley.ESTORAGE)
			}
			if got := parley.ErrorMessage(err); !strings.HasPrefix(got, tt.want) {
				t.Errorf("message=%q, want it to start with %q", got, tt.want)
			}
			if !errors.Is(err, tt.cause) || !strings.Contains(err.Error(), tt.cause.Error()) {
				t.Errorf("%v does not wrap its cause %v", err, tt.cause)
			}
		})
	}
}
