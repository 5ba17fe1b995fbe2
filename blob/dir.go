// Package blob keeps file contents in a directory: the BlobStore of a single
// Parley node, under its data directory.
//
// Each blob is a file named by its key (the hex SHA-256 of its contents)
// under a directory named by the key's first two digits, so no directory
// holds more than a few thousand files until there are millions of blobs. A
// blob is written to a temporary file in .tmp, synced, renamed into place,
// and its directory synced: after a crash a blob is either whole under its
// key or not there at all. Temporary files a crash left behind are removed
// when the directory is opened.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// tmpDir is the directory, inside the root, of blobs being written.
const tmpDir = ".tmp"

// Options configure a Dir. A nil *Options means the defaults.
type Options struct {
	// Now is the clock that dates what Put stores, which Sweep's cutoff is
	// compared with. Defaults to time.Now.
	Now func() time.Time
}

// Dir is a parley.BlobStore in a directory. It is safe for concurrent use by
// one process; two processes must not share a directory.
type Dir struct {
	root string
	now  func() time.Time
	// mu orders Put's placing or renewing of a blob against Sweep's
	// deleting it, so that a blob Put has just vouched for is not deleted
	// under it.
	mu sync.Mutex
}

var _ parley.BlobStore = (*Dir)(nil)

// Open opens the blob directory root, creating it (mode 0700) if need be,
// and removes the temporary files of writes a crash interrupted.
func Open(root string, opts *Options) (*Dir, error) {
	d := &Dir{root: root, now: time.Now}
	if opts != nil && opts.Now != nil {
		d.now = opts.Now
	}
	if err := os.MkdirAll(filepath.Join(root, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("open blob directory: %w", err)
	}
	left, err := os.ReadDir(filepath.Join(root, tmpDir))
	if err != nil {
		return nil, fmt.Errorf("open blob directory: %w", err)
	}
	for _, e := range left {
		if err := os.Remove(filepath.Join(root, tmpDir, e.Name())); err != nil {
			return nil, fmt.Errorf("open blob directory: remove unfinished write: %w", err)
		}
	}
	return d, nil
}

// path returns the file of key, which must be a valid key.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, key[:2], key)
}

// Put implements parley.BlobStore.
func (d *Dir) Put(ctx context.Context, r io.Reader, max int64) (key string, size int64, err error) {
	if max < 0 {
		return "", 0, parley.Errorf(parley.EINVALID, "negative blob size limit")
	}
	f, err := os.CreateTemp(filepath.Join(d.root, tmpDir), "put-")
	if err != nil {
		return "", 0, diskError(err)
	}
	placed := false
	defer func() {
		if !placed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(diskWriter{f}, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, max+1)})
	if parley.ErrorCode(err) == parley.ESTORAGE {
		return "", 0, err
	} else if err != nil {
		return "", 0, fmt.Errorf("put blob: %w", err)
	}
	if size > max {
		return "", 0, parley.Errorf(parley.ETOOLARGE, "the file is larger than %d bytes", max)
	}
	if err := f.Sync(); err != nil {
		return "", 0, diskError(err)
	}
	if err := f.Close(); err != nil {
		return "", 0, diskError(err)
	}
	key = hex.EncodeToString(h.Sum(nil))
	dst := d.path(key)
	now := d.now()

	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := os.Stat(dst); err == nil {
		// Stored already: renew its time so that a sweep that has not
		// seen a record naming it yet keeps it.
		if err := os.Chtimes(dst, now, now); err != nil {
			return "", 0, diskError(err)
		}
		return key, size, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", 0, diskError(err)
	}
	dir := filepath.Dir(dst)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return "", 0, diskError(err)
		}
		if err := syncDir(d.root); err != nil {
			return "", 0, diskError(err)
		}
	}
	if err := os.Chtimes(f.Name(), now, now); err != nil {
		return "", 0, diskError(err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", 0, diskError(err)
	}
	placed = true
	if err := syncDir(dir); err != nil {
		return "", 0, diskError(err)
	}
	return key, size, nil
}

// Open implements parley.BlobStore.
func (d *Dir) Open(ctx context.Context, key string) (parley.Blob, error) {
	if !parley.IsBlobKey(key) {
		return nil, parley.Errorf(parley.ENOTFOUND, "no such file")
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, parley.Errorf(parley.ENOTFOUND, "no such file")
	} else if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob: %w", err)
	}
	return &file{File: f, size: fi.Size()}, nil
}

// Sweep implements parley.BlobStore.
func (d *Dir) Sweep(ctx context.Context, cutoff time.Time, keep func(key string) bool) (int, error) {
	dirs, err := os.ReadDir(d.root)
	if err != nil {
		return 0, fmt.Errorf("sweep blobs: %w", err)
	}
	n := 0
	for _, dir := range dirs {
		if !dir.IsDir() || len(dir.Name()) != 2 {
			continue
		}
		names, err := os.ReadDir(filepath.Join(d.root, dir.Name()))
		if err != nil {
			return n, fmt.Errorf("sweep blobs: %w", err)
		}
		for _, e := range names {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			key := e.Name()
			if !parley.IsBlobKey(key) || key[:2] != dir.Name() || keep(key) {
				continue
			}
			deleted, err := d.deleteIfOlder(key, cutoff)
			if err != nil {
				return n, fmt.Errorf("sweep blobs: %w", err)
			}
			if deleted {
				n++
			}
		}
	}
	return n, nil
}

// deleteIfOlder deletes the blob under key if it was stored before cutoff.
func (d *Dir) deleteIfOlder(key string, cutoff time.Time) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := os.Stat(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !fi.ModTime().Before(cutoff) {
		return false, nil
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// diskError is a failed file operation of Put: the disk is full or failing
// (parley.StorageError). Put has removed its temporary file by the time the
// caller sees it.
func diskError(err error) error {
	return parley.StorageError(fmt.Errorf("put blob: %w", err), false)
}

// diskWriter marks its file's write errors as the disk's, apart from the
// errors of what is copied into it.
type diskWriter struct{ f *os.File }

func (w diskWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = diskError(err)
	}
	return n, err
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// file is a parley.Blob over an open file.
type file struct {
	*os.File
	size int64
}

func (f *file) Size() int64 { return f.size }

// ctxReader stops reading once its context ends, so that a cancelled
// upload does not go on being written.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
