package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestBackupIsASnapshot: a write committed while a backup runs is not in
// it, and what it holds passes CheckFile and opens as a store.
func TestBackupIsASnapshot(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := context.Background()
	if err := db.CreateUser(ctx, &parley.User{Email: "before@example.com"}); err != nil {
		t.Fatal(err)
	}
	var copy bytes.Buffer
	err := db.Backup(func(s *Snapshot) error {
		if err := db.CreateUser(ctx, &parley.User{Email: "during@example.com"}); err != nil {
			return err
		}
		if s.SchemaVersion != SchemaVersion() {
			t.Errorf("snapshot schema version=%d, want %d", s.SchemaVersion, SchemaVersion())
		}
		n, err := s.WriteTo(&copy)
		if n != s.Size {
			t.Errorf("wrote %d bytes, Size says %d", n, s.Size)
		}
		if _, err := s.WriteTo(&bytes.Buffer{}); err == nil {
			t.Error("a second WriteTo succeeded")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), copy.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := CheckFile(filepath.Join(dir, FileName)); err != nil || v != SchemaVersion() {
		t.Fatalf("CheckFile=%d, %v", v, err)
	}
	restored := MustOpenDir(t, dir, nil)
	if _, err := restored.UserByEmail(ctx, "before@example.com"); err != nil {
		t.Errorf("the user made before the backup: %v", err)
	}
	if _, err := restored.UserByEmail(ctx, "during@example.com"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("the user made during the backup: %v, want ENOTFOUND", err)
	}
}

// TestCheckFile: a damaged page, a file that is no database and a file of
// a newer schema fail the check, each saying why.
func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	db := MustOpenDir(t, dir, nil)
	for i := range 200 {
		if err := db.CreateUser(context.Background(), &parley.User{Email: strings.Repeat("x", 100) + string(rune('a'+i%26)) + "@example.com" + strings.Repeat("y", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, b []byte) string {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("good", func(t *testing.T) {
		if _, err := CheckFile(write(t, good)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("page header damaged", func(t *testing.T) {
		bad := bytes.Clone(good)
		// The page flags of every page after the meta pages and the
		// freelist: bbolt's check walks them.
		for off := 4 * 4096; off+10 < len(bad); off += 4096 {
			bad[off+8], bad[off+9] = 0xff, 0xff
		}
		if _, err := CheckFile(write(t, bad)); err == nil {
			t.Fatal("a damaged file passed the check")
		}
	})
	t.Run("not a database", func(t *testing.T) {
		if _, err := CheckFile(write(t, bytes.Repeat([]byte("parley"), 4096))); err == nil {
			t.Fatal("random bytes passed the check")
		}
	})
	t.Run("newer schema", func(t *testing.T) {
		p := write(t, good)
		bdb, err := bolt.Open(p, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = bdb.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchemaVersion), itob(uint64(SchemaVersion()+1)))
		})
		bdb.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CheckFile(p); err == nil || !strings.Contains(err.Error(), "newer Parley") {
			t.Fatalf("CheckFile=%v, want it to ask for a newer Parley", err)
		}
	})
}

// TestLockAndCompactRefuseOpenStore: with the store open, Lock, Compact
// and BackupDir fail at once; with it closed, they work.
func TestLockAndCompactRefuseOpenStore(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Lock=%v, want in use", err)
	}
	if _, _, err := Compact(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Compact=%v, want in use", err)
	}
	if err := BackupDir(dir, func(*Snapshot) error { return nil }); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("BackupDir=%v, want in use", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, &Options{Timeout: 100 * 1e6}); err == nil {
		t.Error("Open succeeded while Lock held the directory")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	before, after, err := Compact(dir)
	if err != nil || before == 0 || after == 0 {
		t.Fatalf("Compact=%d, %d, %v", before, after, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".compact")); !os.IsNotExist(err) {
		t.Errorf("the compaction's copy is left behind: %v", err)
	}
	MustOpenDir(t, dir, nil)
}
