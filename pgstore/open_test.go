package pgstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/pgtest"
)

// TestOpenConcurrent: nodes that open a new database together migrate it
// once; every one of them gets the newest schema and can write.
func TestOpenConcurrent(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	const n = 8
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, url, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
		if v := dbs[i].SchemaVersion(); v != len(migrations) {
			t.Errorf("Open %d: schema version %d, want %d", i, v, len(migrations))
		}
	}
	conn := connect(t, url)
	var rows, version int
	if err := conn.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != len(migrations) {
		t.Errorf("schema_version has %d rows, version %d; want 1 row, %d", rows, version, len(migrations))
	}
	for i, db := range dbs {
		if err := db.CreateTeam(ctx, &parley.Team{Name: "t"}); err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if teams, _ := dbs[0].Teams(ctx); len(teams) != n {
		t.Errorf("teams=%d, want %d: the nodes share one database", len(teams), n)
	}
}

// TestOpenAgain: a second Open finds the data and migrates nothing; a
// database newer than this Parley is refused.
func TestOpenAgain(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	db, err := Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &parley.User{Email: "ada@example.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserByEmail(ctx, "ADA@example.com"); err != nil || got.ID != u.ID {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	db.Close()

	conn := connect(t, url)
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = $1`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, url, nil); err == nil || !strings.Contains(err.Error(), "upgrade Parley") {
		t.Errorf("Open of a newer schema: %v, want a refusal", err)
	}
}

// TestOpenBadURL: a URL that is no PostgreSQL URL is EINVALID; a server
// that is not there is an error, not a store.
func TestOpenBadURL(t *testing.T) {
	ctx := t.Context()
	_, err := Open(ctx, "postgres://%zz", nil)
	if parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("Open(bad URL)=%v, want EINVALID", err)
	}
	if db, err := Open(ctx, "postgres://parley@127.0.0.1:1/none?connect_timeout=5", nil); err == nil {
		db.Close()
		t.Error("Open of a closed port succeeded")
	}
}

// TestWriteContext: a write whose context has ended returns ctx.Err() and
// writes nothing.
func TestWriteContext(t *testing.T) {
	db := mustOpen(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.CreateTeam(ctx, &parley.Team{Name: "late"}); err != context.Canceled {
		t.Errorf("CreateTeam with an ended context: %v, want context.Canceled", err)
	}
	if teams, err := db.Teams(t.Context()); err != nil || len(teams) != 0 {
		t.Errorf("teams=%v, %v, want none", teams, err)
	}
}

// TestUpdateWaitsForRow: an update of a row that another node holds waits
// for it and then applies fn to the row as the other node left it: no lost
// update across processes.
func TestUpdateWaitsForRow(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, nil)
	a := &parley.Team{Name: "a"}
	if err := db.CreateTeam(ctx, a); err != nil {
		t.Fatal(err)
	}
	other, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `SELECT 1 FROM teams WHERE id = $1 FOR UPDATE`, int64(a.ID)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.UpdateTeam(ctx, a.ID, func(tm *parley.Team) error {
			tm.MemberIDs = append(tm.MemberIDs, 1)
			return nil
		})
		done <- err
	}()
	if _, err := other.Exec(ctx, `UPDATE teams SET data = $2 WHERE id = $1`, int64(a.ID),
		[]byte(`{"id":1,"name":"renamed","memberIds":[7]}`)); err != nil {
		t.Fatal(err)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := db.Team(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed" || len(got.MemberIDs) != 2 || got.MemberIDs[0] != 7 || got.MemberIDs[1] != 1 {
		t.Errorf("team=%+v, want the other node's change and the update's", got)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestWriteRunsAgainAfterDeadlock: a write that PostgreSQL picks as the
// victim of a deadlock with another node runs its function again, and the
// second run commits.
func TestWriteRunsAgainAfterDeadlock(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, nil)
	a, b := &parley.Team{Name: "a"}, &parley.Team{Name: "b"}
	for _, tm := range []*parley.Team{a, b} {
		if err := db.CreateTeam(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	other, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	lock := func(q querier, id uint64) error {
		_, err := q.Exec(ctx, `SELECT 1 FROM teams WHERE id = $1 FOR UPDATE`, int64(id))
		return err
	}
	if err := lock(other, b.ID); err != nil {
		t.Fatal(err)
	}
	runs := 0
	done := make(chan error, 1)
	go func() {
		done <- db.write(ctx, func(tx pgx.Tx) error {
			runs++
			if err := lock(tx, a.ID); err != nil {
				return err
			}
			return lock(tx, b.ID) // waits for the other node
		})
	}()
	// The write waits first, so its deadlock check runs first and picks it.
	for deadline := time.Now().Add(time.Minute); ; {
		var waiting int
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM teams%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write never waited for the other node's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := lock(other, a.ID); err != nil { // waits until the write's first run gives up
		t.Fatal(err)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("the write's function ran %d times, want 2", runs)
	}
}
