package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// Files (attachments): their records. Their bytes are in a BlobStore, which
// the caller writes before the record that names them commits.

// Buckets of files (schema version 7).
const (
	bucketFiles       = "files"        // id → File
	bucketThreadFiles = "thread_files" // thread ‖ file id → empty: the files to delete with a thread
	bucketUploads     = "uploads"      // file id → created (8 bytes, Unix ns): files no message has claimed yet
)

// migrate7 creates the buckets of files and of email templates.
func migrate7(tx *bolt.Tx) error {
	for _, name := range []string{bucketFiles, bucketThreadFiles, bucketUploads, bucketTemplates} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

func fileTable() table[parley.File] {
	return table[parley.File]{
		name:   "file",
		bucket: bucketFiles,
		id:     func(f *parley.File) *uint64 { return &f.ID },
		prepare: func(f, old *parley.File, now time.Time) {
			if old == nil && f.CreatedAt.IsZero() {
				f.CreatedAt = now
			}
		},
		index: func(tx *bolt.Tx, f, old *parley.File) error {
			if f.ThreadID != 0 {
				if err := bucket(tx, bucketThreadFiles).Put(key2(f.ThreadID, f.ID), nil); err != nil {
					return err
				}
			}
			uploads := bucket(tx, bucketUploads)
			if f.MessageID == 0 {
				return uploads.Put(itob(f.ID), itob(uint64(f.CreatedAt.UnixNano())))
			}
			return uploads.Delete(itob(f.ID))
		},
	}
}

// validFile checks what every stored file must have.
func validFile(f *parley.File) error {
	switch {
	case !parley.IsBlobKey(f.Key):
		return parley.Errorf(parley.EINVALID, "file has no blob key")
	case f.Name == "" || f.Name != parley.CleanFileName(f.Name):
		return parley.Errorf(parley.EINVALID, "file name %q is not a cleaned file name", f.Name)
	case f.Size < 0 || f.Size > parley.MaxFileBytes:
		return parley.Errorf(parley.EINVALID, "file size %d is out of range", f.Size)
	case f.Type == "":
		return parley.Errorf(parley.EINVALID, "file has no type")
	case f.UploadedBy == "":
		return parley.Errorf(parley.EINVALID, "file has no sender")
	}
	return nil
}

// CreateUpload implements parley.FileStore.
func (db *DB) CreateUpload(ctx context.Context, f *parley.File) error {
	if f.MessageID != 0 {
		return parley.Errorf(parley.EINVALID, "an upload has no message yet")
	}
	if err := validFile(f); err != nil {
		return err
	}
	in := *f
	now := db.utcNow()
	err := db.update(ctx, func(tx *bolt.Tx) error {
		w := in
		if w.ThreadID != 0 && bucket(tx, bucketThreads).Get(itob(w.ThreadID)) == nil {
			return threadTable().notFound(w.ThreadID)
		}
		if err := fileTable().insert(tx, &w, now); err != nil {
			return err
		}
		in = w
		return nil
	})
	if err != nil {
		return err
	}
	*f = in
	return nil
}

// File implements parley.FileStore.
func (db *DB) File(ctx context.Context, id uint64) (*parley.File, error) {
	return readRecord(db, fileTable(), id)
}

// DeleteUploads implements parley.FileStore.
func (db *DB) DeleteUploads(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		uploads, files := bucket(tx, bucketUploads), bucket(tx, bucketFiles)
		var stale [][]byte
		err := uploads.ForEach(func(k, v []byte) error {
			if len(v) == 8 && time.Unix(0, int64(btoi(v))).Before(cutoff) {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			var f parley.File
			if ok, err := getJSON(files, k, &f); err != nil {
				return fmt.Errorf("decode file %d: %w", btoi(k), err)
			} else if ok {
				if err := deleteFile(tx, &f); err != nil {
					return err
				}
			}
			if err := uploads.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		// fn may still run on the writer after a cancelled wait: n is its.
		return 0, err
	}
	return n, nil
}

// FileKeys implements parley.FileStore.
func (db *DB) FileKeys(ctx context.Context) (map[string]bool, error) {
	var list []string
	err := db.view(func(tx *bolt.Tx) (err error) {
		list, err = fileKeys(tx)
		return err
	})
	keys := make(map[string]bool, len(list))
	for _, k := range list {
		keys[k] = true
	}
	return keys, err
}

// deleteFile removes file f's record and index entries.
func deleteFile(tx *bolt.Tx, f *parley.File) error {
	if f.ThreadID != 0 {
		if err := bucket(tx, bucketThreadFiles).Delete(key2(f.ThreadID, f.ID)); err != nil {
			return err
		}
	}
	if err := bucket(tx, bucketUploads).Delete(itob(f.ID)); err != nil {
		return err
	}
	return bucket(tx, bucketFiles).Delete(itob(f.ID))
}

// deleteThreadFiles removes the records of thread id's files, uploads made
// for it included.
func deleteThreadFiles(tx *bolt.Tx, id uint64) error {
	prefix := itob(id)
	var fileIDs []uint64
	c := bucket(tx, bucketThreadFiles).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		fileIDs = append(fileIDs, btoi(k[8:]))
	}
	for _, fid := range fileIDs {
		f, err := fileTable().get(tx, fid)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			if err := bucket(tx, bucketThreadFiles).Delete(key2(id, fid)); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return err
		}
		if err := deleteFile(tx, f); err != nil {
			return err
		}
	}
	return nil
}

// recordAttachments records the attachments of m, being appended to thread
// t with its ID set, as MessageStore.AppendMessage describes: it claims
// uploads and creates the files that came with an email, and sets each
// attachment to its file's.
func recordAttachments(tx *bolt.Tx, m *parley.Message, t *parley.Thread, now time.Time) error {
	if len(m.Attachments) == 0 {
		return nil
	}
	if len(m.Attachments) > parley.MaxMessageFiles {
		return parley.Errorf(parley.EINVALID, "a message carries at most %d files", parley.MaxMessageFiles)
	}
	files := fileTable()
	out := make([]parley.Attachment, len(m.Attachments))
	var total int64
	for i, a := range m.Attachments {
		var f *parley.File
		if a.FileID != 0 {
			old, err := files.get(tx, a.FileID)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.EINVALID, "attachments[%d]: file %d is no upload of yours", i, a.FileID)
			} else if err != nil {
				return err
			}
			if old.MessageID != 0 || old.UploadedBy != m.SenderID || old.ThreadID != 0 && old.ThreadID != t.ID {
				return parley.Errorf(parley.EINVALID, "attachments[%d]: file %d is no upload of yours", i, a.FileID)
			}
			claimed := *old
			claimed.ThreadID, claimed.MessageID = t.ID, m.ID
			if err := files.put(tx, bucket(tx, bucketFiles), &claimed, old); err != nil {
				return err
			}
			f = &claimed
		} else {
			f = &parley.File{Key: a.Key, Name: a.Name, Type: a.Type, Size: a.Size, Inline: a.Inline,
				Width: a.Width, Height: a.Height, ContentID: a.ContentID,
				UploadedBy: m.SenderID, ThreadID: t.ID, MessageID: m.ID, CreatedAt: now}
			if err := validFile(f); err != nil {
				return fmt.Errorf("attachments[%d]: %w", i, err)
			}
			if err := files.insert(tx, f, now); err != nil {
				return err
			}
		}
		if total += f.Size; total > parley.MaxMessageFileBytes {
			return parley.Errorf(parley.ETOOLARGE, "a message's files hold at most %d bytes together", parley.MaxMessageFileBytes)
		}
		out[i] = f.Attachment()
	}
	m.Attachments = out
	return nil
}
