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

// BenchmarkCreateTeamAudited is BenchmarkCreateTeam with an audit note on
// every write: the cost of the entry in the same transaction, and of the
// one row of ids that every audited write takes its entry's id from.
func BenchmarkCreateTeamAudited(b *testing.B) {
	db := mustOpenB(b)
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			n := &parley.AuditNote{Entry: parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorSystem}, Action: parley.AuditTeamCreate}}
			if err := db.CreateTeam(parley.WithAudit(b.Context(), n), &parley.Team{Name: fmt.Sprint(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAuditLog measures a filtered page of 100 entries out of 5000.
func BenchmarkAuditLog(b *testing.B) {
	db := mustOpenB(b)
	for i := range 5000 {
		e := &parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorUser, ID: uint64(1 + i%2)}, Action: parley.AuditWidgetUpdate}
		if err := db.AppendAudit(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		got, err := db.AuditLog(b.Context(), parley.AuditFilter{Actor: "user:2", Action: "widget."})
		if err != nil || len(got) != 100 {
			b.Fatalf("entries=%d, %v", len(got), err)
		}
	}
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
