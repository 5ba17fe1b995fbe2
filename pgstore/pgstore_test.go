package pgstore

import (
	"os"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/pgtest"
	"github.com/parley-chat/parley/internal/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// mustOpen opens a store on a new database and closes it when t ends.
func mustOpen(t *testing.T, opts *Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), pgtest.URL(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestContract runs the storage contract's suite over PostgreSQL.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Stores {
		return mustOpen(t, &Options{Now: now})
	})
}
