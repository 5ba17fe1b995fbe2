package parley

import (
	"context"
	"io"
	"time"
)

// BlobStore keeps the contents of files (attachments) outside the database,
// each under its key: the lower-case hex SHA-256 of its bytes. Equal contents
// share one blob, so a blob is never deleted because one message that named
// it went: whoever deletes sweeps (Sweep), keeping every key that something
// still names. The blob package implements it in a directory; an
// S3-compatible store can implement it too.
//
// The promises:
//
//   - Put returns only once the blob is durable (written and synced), so a
//     record that names the key may commit after it and never points at
//     nothing, even after a crash. A crash before Put returns leaves no
//     partial blob under any key.
//   - A key that is not 64 lower-case hex digits is ENOTFOUND for Open and
//     an error for nothing else: keys never become paths unchecked.
//   - Sweep deletes only blobs stored (or stored again by Put) before its
//     cutoff, so a blob whose record is still being committed survives a
//     sweep that started before it.
//
// Implementations are safe for concurrent use.
type BlobStore interface {
	// Put stores the bytes r yields until EOF, at most max of them (more
	// is ETOOLARGE and stores nothing), and returns their key and size.
	// Storing bytes already stored returns the same key and renews the
	// blob's time for Sweep. A file system that cannot take the bytes
	// (full or failing) is ESTORAGE, and stores nothing.
	Put(ctx context.Context, r io.Reader, max int64) (key string, size int64, err error)
	// Open returns the blob under key for reading, or ENOTFOUND.
	Open(ctx context.Context, key string) (Blob, error)
	// Sweep deletes every blob stored before cutoff whose key keep does
	// not report, and returns how many it deleted. keep runs once per
	// blob and may be called concurrently with Put.
	Sweep(ctx context.Context, cutoff time.Time, keep func(key string) bool) (int, error)
}

// Blob is one stored file's contents, open for reading. The caller closes
// it.
type Blob interface {
	io.ReadSeekCloser
	// Size returns the blob's length in bytes.
	Size() int64
}

// IsBlobKey reports whether key has the shape of a BlobStore key: 64
// lower-case hex digits.
func IsBlobKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
