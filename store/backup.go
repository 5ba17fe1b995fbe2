package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the name of the database file inside a data directory.
const FileName = fileName

// Snapshot is a consistent copy of the database as of one read
// transaction, handed to the function given to Backup or BackupDir.
type Snapshot struct {
	// Size is the number of bytes WriteTo writes.
	Size int64
	// SchemaVersion is the schema version of the copy.
	SchemaVersion int
	// FileKeys are the blob keys the copy's file records name, sorted.
	FileKeys []string
	// WriteTo writes the copy (bbolt's Tx.WriteTo). Call it at most once,
	// and only while the function runs.
	WriteTo func(w io.Writer) (int64, error)
}

// Backup runs fn with a snapshot of the database as it is now, while writes
// go on: the snapshot is a read transaction, which holds back the reuse of
// the pages it sees (the file may grow a little under load) until fn
// returns. It returns fn's error.
func (db *DB) Backup(fn func(*Snapshot) error) error {
	return db.view(func(tx *bolt.Tx) error { return snapshot(tx, fn) })
}

// BackupDir is Backup for the data directory dir while no Parley runs on
// it: it opens the file read-only without migrating it. A running Parley
// holds the file's lock: then BackupDir fails at once with an error saying
// that the directory is in use.
func BackupDir(dir string, fn func(*Snapshot) error) error {
	bdb, err := openLocked(filepath.Join(dir, fileName), true)
	if err != nil {
		return err
	}
	defer bdb.Close()
	return bdb.View(func(tx *bolt.Tx) error { return snapshot(tx, fn) })
}

func snapshot(tx *bolt.Tx, fn func(*Snapshot) error) error {
	v, err := readSchemaVersion(tx)
	if err != nil {
		return err
	}
	keys, err := fileKeys(tx)
	if err != nil {
		return err
	}
	written := false
	return fn(&Snapshot{
		Size:          tx.Size(),
		SchemaVersion: v,
		FileKeys:      keys,
		WriteTo: func(w io.Writer) (int64, error) {
			if written {
				return 0, errors.New("snapshot already written")
			}
			written = true
			return tx.WriteTo(w)
		},
	})
}

// fileKeys returns the blob keys the file records name, sorted, without
// duplicates; none in a file of a schema before files existed.
func fileKeys(tx *bolt.Tx) ([]string, error) {
	b := bucket(tx, bucketFiles)
	if b == nil {
		return nil, nil
	}
	var keys []string
	err := b.ForEach(func(k, v []byte) error {
		var f struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("decode file %d: %w", btoi(k), err)
		}
		keys = append(keys, f.Key)
		return nil
	})
	slices.Sort(keys)
	return slices.Compact(keys), err
}

// openLocked opens the bbolt file at path, read-only or not, without
// creating it and without waiting for a lock another process holds.
func openLocked(path string, readOnly bool) (*bolt.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: readOnly, Timeout: 500 * time.Millisecond, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store: %s is in use by a running Parley process", path)
	} else if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return bdb, nil
}

// CheckFile opens the database file at path read-only and runs bbolt's
// consistency check over every page. It returns the file's schema version,
// or an error that names the first problems found, or one saying that the
// file is newer than this binary knows.
func CheckFile(path string) (schemaVersion int, err error) {
	bdb, err := openLocked(path, true)
	if err != nil {
		return 0, err
	}
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		var problems []error
		for err := range tx.Check() {
			if len(problems) < 10 {
				problems = append(problems, err)
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("check %s: %w", path, errors.Join(problems...))
		}
		schemaVersion, err = readSchemaVersion(tx)
		return err
	})
	if err != nil {
		return 0, err
	}
	if want := len(migrations()); schemaVersion > want {
		return 0, fmt.Errorf("%s has schema version %d, but this Parley knows only versions up to %d: run a newer Parley", path, schemaVersion, want)
	}
	return schemaVersion, nil
}

// SchemaVersion is the newest schema version this binary knows: the one
// Open brings every file to.
func SchemaVersion() int { return len(migrations()) }

// compactTxSize is how many bytes of pairs Compact copies per transaction.
const compactTxSize = 64 << 20

// Compact rewrites the database of data directory dir into a fresh file
// that holds only what is live: the pages of deleted data are not copied.
// No Parley may run on dir (the file's lock is taken, without waiting). The
// old file stays until the new one has passed CheckFile; then the new one
// takes its name. It returns the file's size before and after.
func Compact(dir string) (before, after int64, err error) {
	path := filepath.Join(dir, fileName)
	src, err := openLocked(path, false)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	before = fi.Size()
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("compact: remove a leftover copy: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := bolt.Compact(dst, src, compactTxSize); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		_ = os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if _, err := CheckFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return 0, 0, fmt.Errorf("compact: the new file failed its check, the old one is kept: %w", err)
	}
	if fi, err = os.Stat(tmp); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	after = fi.Size()
	// The old file is still open and locked: no Parley can start on it
	// until the new one has its name.
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := SyncDir(dir); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	return before, after, nil
}

// Lock takes the lock a running Parley holds on the database of data
// directory dir, without waiting, so that no Parley starts on dir while
// its files are replaced; it fails if one runs there now. With no database
// in dir, there is nothing to hold, and release does nothing. The file need
// not be a valid database: a damaged one can be locked and replaced.
func Lock(dir string) (release func() error, err error) {
	f, err := os.OpenFile(filepath.Join(dir, fileName), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return func() error { return nil }, nil
	} else if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock store: data directory %s is in use by a running Parley process: %w", dir, err)
	}
	return f.Close, nil
}

// SyncDir makes a directory's entries durable: files created in it,
// renamed into it or out of it.
func SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
