package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// probeEvery bounds how often CheckStorage tries a write while commits
// fail: /healthz, which calls it, is open to anyone.
const probeEvery = time.Second

// probeBytes is how much a probe writes: a message's worth and more, so
// that a probe that commits means that ordinary writes can commit too.
const probeBytes = 64 << 10

// settle is how long commits must go on without a failure before one that
// succeeds counts as the disk's recovery. Small writes can commit into
// pages the file has freed while larger ones find no room: without it a
// full disk would be announced again and again.
const settle = 10 * time.Second

// keyStorageProbe is the meta key a probe writes and deletes again.
var keyStorageProbe = []byte("storageProbe")

// storageError returns the ESTORAGE error of a failed commit. A failed
// commit is the disk's doing (a write, sync or growth of the file that
// did not happen) or the file reaching Options' size limit, which is a full
// disk too; the writes' own errors never get here.
func storageError(err error) error {
	return parley.StorageError(err, errors.Is(err, berrors.ErrMaxSizeReached))
}

// storageHealth follows whether commits succeed, so that a failing disk is
// reported once per burst of failures (Options.ObserveStorage) and that
// CheckStorage can tell.
type storageHealth struct {
	observe func(err error, refused int) // never nil

	failing atomic.Bool // err != nil, read without mu by every commit

	mu       sync.Mutex
	err      error     // the latest failed commit's error; nil once recovered
	failedAt time.Time // when that commit failed
	refused  int       // writes refused since err was first set
	probed   time.Time // when CheckStorage last tried a write
}

// failed records that a commit failed with err (an ESTORAGE error),
// refusing n writes. The first failure after a success is announced. The
// announcements are made holding mu, so that they come in order.
func (h *storageHealth) failed(err error, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	first := h.err == nil
	h.err, h.failedAt = err, time.Now()
	h.refused += n
	h.failing.Store(true)
	if first {
		h.observe(err, 0)
	}
}

// committed records a successful commit. The first one settle after the
// latest failure is the recovery, announced with the number of writes the
// failures refused.
func (h *storageHealth) committed() {
	if h.failing.Load() {
		h.recover(time.Now().Add(-settle))
	}
}

// recover ends a burst of failures whose latest failure came before
// since; a later one belongs to a burst that goes on.
func (h *storageHealth) recover(since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil || !h.failedAt.Before(since) {
		return
	}
	n := h.refused
	h.err, h.refused = nil, 0
	h.failing.Store(false)
	h.observe(nil, n)
}

// CheckStorage reports whether the store can commit writes: nil unless
// commits have failed, else the ESTORAGE error of the latest failure (the
// disk is full or failing). After failures it tries a write itself, at
// most once a second, before it answers: probeBytes written under a meta
// key and deleted again. When both commit, the disk has recovered, at once
// (not settle later), and CheckStorage returns nil: the recovery shows even
// when nothing else writes. ctx bounds the probe. It is safe for
// concurrent use.
func (db *DB) CheckStorage(ctx context.Context) error {
	h := &db.storage
	if !h.failing.Load() {
		return nil
	}
	h.mu.Lock()
	err := h.err
	start := time.Now()
	probe := err != nil && start.Sub(h.probed) >= probeEvery
	if probe {
		h.probed = start
	}
	h.mu.Unlock()
	if !probe {
		return err
	}
	val := make([]byte, probeBytes)
	for _, v := range [][]byte{val, nil} {
		err = db.update(ctx, func(tx *bolt.Tx) error {
			b := bucket(tx, bucketMeta)
			if v == nil {
				return b.Delete(keyStorageProbe)
			}
			return b.Put(keyStorageProbe, v)
		})
		if err != nil {
			return err
		}
	}
	h.recover(start)
	return nil
}
