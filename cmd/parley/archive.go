package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// A backup archive is a tar stream (docs/operations.md):
//
//	parley.db            the database, a bbolt file as of one read transaction
//	files/ab/ab12…       each stored file the database names, under its key
//	parley-backup.json   the manifest, always last
//
// The manifest comes last so that an archive cut off anywhere, even
// between two entries, is recognised as incomplete.
const (
	archiveFormat  = 1
	archiveDB      = store.FileName
	archiveFiles   = "files/"
	archiveEnd     = "parley-backup.json"
	filesDir       = "files" // the blob store, inside the data directory
	maxArchiveName = 200
)

// manifest describes an archive; it is its last entry.
type manifest struct {
	Format        int       `json:"format"`
	ParleyVersion string    `json:"parleyVersion"`
	SchemaVersion int       `json:"schemaVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	Database      struct {
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"database"`
	Files     int   `json:"files"`
	FileBytes int64 `json:"fileBytes"`
}

// writeArchive writes the archive of snapshot s and the blobs it names,
// read from blobDir, to w. A blob the snapshot names but blobDir lacks
// fails the backup: it was deleted for good after the snapshot began, and
// a second try holds none of it.
func writeArchive(ctx context.Context, w io.Writer, s *store.Snapshot, blobDir, version string, now time.Time) (*manifest, error) {
	m := &manifest{Format: archiveFormat, ParleyVersion: version, SchemaVersion: s.SchemaVersion, CreatedAt: now.UTC().Truncate(time.Second)}
	tw := tar.NewWriter(&ctxWriter{ctx: ctx, w: w})
	header := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt, Format: tar.FormatPAX})
	}
	if err := header(archiveDB, s.Size); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	n, err := s.WriteTo(io.MultiWriter(tw, h))
	if err != nil {
		return nil, fmt.Errorf("backup: write the database: %w", err)
	}
	m.Database.Size, m.Database.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	for _, key := range s.FileKeys {
		if !parley.IsBlobKey(key) {
			return nil, fmt.Errorf("backup: the database names a file by the malformed key %q", key)
		}
		size, err := copyBlob(tw, header, filepath.Join(blobDir, key[:2], key), archiveFiles+key[:2]+"/"+key)
		if err != nil {
			return nil, fmt.Errorf("backup: file %s: %w", key, err)
		}
		m.Files++
		m.FileBytes += size
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := header(archiveEnd, int64(len(b))); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(b); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func copyBlob(tw *tar.Writer, header func(string, int64) error, path, name string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := header(name, fi.Size()); err != nil {
		return 0, err
	}
	// A blob never changes once stored: its size is its size.
	return io.CopyN(tw, f, fi.Size())
}

// ctxWriter fails its writes once ctx ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// readArchive reads an archive from r and checks all of it: only the
// entries an archive has, in their order, each stored file's bytes against
// its key, the database against the manifest's size and SHA-256 and with
// bbolt's consistency check, the counts against the manifest, and nothing
// after the manifest. With dir set, the database and files are written
// into dir as a data directory (parley.db, files/…), synced; dir must be
// empty. Without it, the database goes to a temporary file for its check
// and the files are only hashed.
func readArchive(r io.Reader, dir string) (*manifest, error) {
	tmp := dir
	if dir == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "parley-check-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
	}
	tr := tar.NewReader(r)
	var (
		m        *manifest
		dbSize   int64
		dbSum    string
		files    int
		fileSize int64
		sawDB    bool
	)
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if m != nil {
			return nil, fmt.Errorf("archive: entry %q after the manifest", clip(hd.Name))
		}
		if hd.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("archive: entry %q is not a regular file", clip(hd.Name))
		}
		switch name := hd.Name; {
		case name == archiveDB:
			if sawDB {
				return nil, errors.New("archive: two databases")
			}
			sawDB = true
			dbSize, dbSum, err = extract(tr, filepath.Join(tmp, store.FileName))
			if err != nil {
				return nil, fmt.Errorf("archive: database: %w", err)
			}
		case strings.HasPrefix(name, archiveFiles):
			key := name[len(archiveFiles):]
			if len(key) < 3 || key[2] != '/' || !parley.IsBlobKey(key[3:]) || key[:2] != key[3:5] {
				return nil, fmt.Errorf("archive: entry %q is no stored file's name", clip(name))
			}
			if !sawDB {
				return nil, errors.New("archive: files before the database")
			}
			key = key[3:]
			path := ""
			if dir != "" {
				if err := os.MkdirAll(filepath.Join(dir, filesDir, key[:2]), 0o700); err != nil {
					return nil, err
				}
				path = filepath.Join(dir, filesDir, key[:2], key)
			}
			n, sum, err := extract(tr, path)
			if err != nil {
				return nil, fmt.Errorf("archive: file %s: %w", key, err)
			}
			if sum != key {
				return nil, fmt.Errorf("archive: file %s: its bytes have the SHA-256 %s", key, sum)
			}
			files++
			fileSize += n
		case name == archiveEnd:
			if hd.Size > 1<<20 {
				return nil, errors.New("archive: the manifest is too large")
			}
			m = &manifest{}
			dec := json.NewDecoder(tr)
			dec.DisallowUnknownFields()
			if err := dec.Decode(m); err != nil {
				return nil, fmt.Errorf("archive: manifest: %w", err)
			}
		default:
			return nil, fmt.Errorf("archive: unexpected entry %q", clip(name))
		}
	}
	switch {
	case m == nil:
		return nil, errors.New("archive: incomplete, the manifest that ends it is missing")
	case m.Format != archiveFormat:
		return nil, fmt.Errorf("archive: format %d, this Parley reads format %d", m.Format, archiveFormat)
	case !sawDB:
		return nil, errors.New("archive: no database")
	case dbSize != m.Database.Size || dbSum != m.Database.SHA256:
		return nil, fmt.Errorf("archive: the database is %d bytes with SHA-256 %s, the manifest says %d bytes with %s", dbSize, dbSum, m.Database.Size, m.Database.SHA256)
	case files != m.Files || fileSize != m.FileBytes:
		return nil, fmt.Errorf("archive: %d files of %d bytes, the manifest says %d of %d", files, fileSize, m.Files, m.FileBytes)
	}
	v, err := store.CheckFile(filepath.Join(tmp, store.FileName))
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if v != m.SchemaVersion {
		return nil, fmt.Errorf("archive: the database has schema version %d, the manifest says %d", v, m.SchemaVersion)
	}
	return m, nil
}

// extract copies r to a new file at path (synced), or nowhere when path is
// "", and returns its size and hex SHA-256.
func extract(r io.Reader, path string) (int64, string, error) {
	h := sha256.New()
	if path == "" {
		n, err := io.Copy(h, r)
		return n, hex.EncodeToString(h.Sum(nil)), err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, "", err
	}
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// clip shortens a name from an archive for an error message.
func clip(s string) string {
	if len(s) > maxArchiveName {
		return s[:maxArchiveName] + "…"
	}
	return s
}
