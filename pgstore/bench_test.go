package pgstore

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/pgtest"

	"github.com/parley-chat/parley"
)

// BenchmarkCreateTeam measures one committed write per call, each its own
// transaction with fsync on: the figure that grouping writes into one
// commit would improve. Run in parallel (-cpu) it shows how commits of
// concurrent writers share the disk's flushes.
func BenchmarkCreateTeam(b *testing.B) {
	db := mustOpenB(b)
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := db.CreateTeam(b.Context(), &parley.Team{Name: fmt.Sprint(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUser measures a read by id.
func BenchmarkUser(b *testing.B) {
	db := mustOpenB(b)
	u := &parley.User{Email: "ada@example.com"}
	if err := db.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.User(b.Context(), u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func mustOpenB(b *testing.B) *DB {
	db, err := Open(b.Context(), pgtest.URL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
