package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// listFixture creates threads in every state the list's views tell apart
// and returns them by name. Their latest messages are a minute apart, in
// the order below.
func listFixture(t *testing.T, db *DB) map[string]*parley.Thread {
	t.Helper()
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	out := map[string]*parley.Thread{}
	for i, tt := range []struct {
		name string
		th   parley.Thread
	}{
		{"chatOpen", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat}},
		{"emailMine", parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, AssigneeID: 7}},
		{"chatOther", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, AssigneeID: 8}},
		{"spam", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, Spam: true}},
		{"blocked", parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, Blocked: true, AssigneeID: 7}},
		{"closed", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, Status: parley.StatusClosed}},
		{"closedMine", parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, Status: parley.StatusClosed, AssigneeID: 7}},
		{"trash", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, Archived: true}},
		{"other", parley.Thread{InboxID: 2, ChannelID: parley.ChannelEmail, AssigneeID: 7}},
		{"silent", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat}}, // no message yet
	} {
		th := tt.th
		th.ContactID = uint64(i + 1)
		if tt.name != "silent" {
			th.LatestMessageAt = t0.Add(time.Duration(i) * time.Minute)
		}
		if err := db.CreateThread(ctx, &th); err != nil {
			t.Fatal(err)
		}
		out[tt.name] = &th
	}
	return out
}

func threadNames(all map[string]*parley.Thread, ts []*parley.Thread) []string {
	out := []string{}
	for _, th := range ts {
		for name, x := range all {
			if x.ID == th.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

func TestThreads_ListFilters(t *testing.T) {
	db := MustOpen(t, nil)
	ts := listFixture(t, db)
	yes, no := true, false
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	open, in1 := parley.StatusOpen, []uint64{1}
	for _, tt := range []struct {
		name string
		f    parley.ThreadFilter
		want []string // newest first
	}{
		{"open, not filtered (All)", parley.ThreadFilter{InboxIDs: in1, Status: open, Filtered: &no}, []string{"chatOther", "emailMine", "chatOpen", "silent"}},
		{"only filtered", parley.ThreadFilter{Status: open, Filtered: &yes}, []string{"blocked", "spam"}},
		{"filtered, any status", parley.ThreadFilter{Filtered: &yes}, []string{"blocked", "spam"}},
		{"assignee (Mine)", parley.ThreadFilter{InboxIDs: in1, Status: open, Filtered: &no, AssigneeID: 7}, []string{"emailMine"}},
		{"assignee, filtered too", parley.ThreadFilter{AssigneeID: 7}, []string{"other", "closedMine", "blocked", "emailMine"}},
		{"unassigned", parley.ThreadFilter{Status: open, Filtered: &no, Unassigned: true}, []string{"chatOpen", "silent"}},
		{"assignee and unassigned: nothing", parley.ThreadFilter{AssigneeID: 7, Unassigned: true}, []string{}},
		{"email", parley.ThreadFilter{InboxIDs: in1, Status: open, Filtered: &no, ChannelID: parley.ChannelEmail}, []string{"emailMine"}},
		{"chat", parley.ThreadFilter{Status: open, Filtered: &no, ChannelID: parley.ChannelChat}, []string{"chatOther", "chatOpen", "silent"}},
		{"closed", parley.ThreadFilter{Status: parley.StatusClosed, Filtered: &no}, []string{"closedMine", "closed"}},
		{"inbox", parley.ThreadFilter{InboxIDs: []uint64{2}}, []string{"other"}},
		{"archived", parley.ThreadFilter{Archived: &yes, Filtered: &no}, []string{"trash"}},
		{"after", parley.ThreadFilter{Filtered: &no, LatestAfter: t0.Add(2 * time.Minute)}, []string{"other", "closedMine", "closed"}},
		{"before", parley.ThreadFilter{Filtered: &no, LatestBefore: t0.Add(2 * time.Minute)}, []string{"emailMine", "chatOpen"}},
		{"range", parley.ThreadFilter{Filtered: &no, LatestAfter: t0, LatestBefore: t0.Add(6 * time.Minute)}, []string{"closed", "chatOther", "emailMine"}},
		{"range and assignee", parley.ThreadFilter{LatestAfter: t0, LatestBefore: t0.Add(8 * time.Minute), AssigneeID: 7}, []string{"closedMine", "blocked", "emailMine"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, sort := range []string{parley.SortByLatest, parley.SortByID} {
				f := tt.f
				f.Sort = sort
				got, more, err := db.Threads(t.Context(), f)
				if err != nil {
					t.Fatal(err)
				}
				names := threadNames(ts, got)
				want := tt.want
				if sort == parley.SortByID {
					want = byID(ts, want)
				}
				if !slices.Equal(names, want) || more {
					t.Errorf("%s: threads=%v more=%v, want %v", sort, names, more, want)
				}
			}
		})
	}

	t.Run("pages of a view", func(t *testing.T) {
		var got []string
		f := parley.ThreadFilter{InboxIDs: in1, Status: open, Filtered: &no, Sort: parley.SortByLatest, Limit: 1}
		for range 10 {
			page, more, err := db.Threads(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, threadNames(ts, page)...)
			if !more {
				break
			}
			f.AfterID = page[len(page)-1].ID
		}
		if want := []string{"chatOther", "emailMine", "chatOpen", "silent"}; !slices.Equal(got, want) {
			t.Errorf("pages=%v, want %v", got, want)
		}
	})

	t.Run("rows follow changes", func(t *testing.T) {
		id := ts["chatOpen"].ID
		if _, err := db.UpdateThread(t.Context(), id, func(th *parley.Thread) error {
			th.AssigneeID, th.ChannelID, th.Spam = 9, parley.ChannelEmail, true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, _, err := db.Threads(t.Context(), parley.ThreadFilter{AssigneeID: 9, ChannelID: parley.ChannelEmail, Filtered: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if names := threadNames(ts, got); !slices.Equal(names, []string{"chatOpen"}) {
			t.Errorf("threads=%v, want [chatOpen]", names)
		}
	})
}

// byID orders names by their threads' ids.
func byID(ts map[string]*parley.Thread, names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int { return int(ts[a].ID) - int(ts[b].ID) })
	return out
}

func TestCountThreads(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	ts := listFixture(t, db)
	check := func(name string, inboxes []uint64, user uint64, want parley.ViewCounts) {
		t.Helper()
		got, err := db.CountThreads(ctx, inboxes, user)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: counts=%+v, want %+v", name, got, want)
		}
		// The counters agree with counting from scratch.
		var fresh parley.ViewCounts
		db.bolt.Update(func(tx *bolt.Tx) error {
			if err := countAll(tx); err != nil {
				t.Fatal(err)
			}
			return errTest // roll back
		})
		fresh, _ = db.CountThreads(ctx, inboxes, user)
		if fresh != got {
			t.Errorf("%s: counters=%+v, counted from scratch %+v", name, got, fresh)
		}
	}
	for _, tt := range []struct {
		name    string
		inboxes []uint64
		user    uint64
		want    parley.ViewCounts
	}{
		{"inbox 1, user 7", []uint64{1}, 7, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 2, Email: 1, Chat: 3, Filtered: 2}},
		{"inbox 1, user 8", []uint64{1}, 8, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 2, Email: 1, Chat: 3, Filtered: 2}},
		{"inbox 1, nobody's", []uint64{1}, 99, parley.ViewCounts{All: 4, Mine: 0, Unassigned: 2, Email: 1, Chat: 3, Filtered: 2}},
		{"both inboxes", []uint64{1, 2}, 7, parley.ViewCounts{All: 5, Mine: 2, Unassigned: 2, Email: 2, Chat: 3, Filtered: 2}},
		{"all inboxes", nil, 7, parley.ViewCounts{All: 5, Mine: 2, Unassigned: 2, Email: 2, Chat: 3, Filtered: 2}},
		{"inbox 2", []uint64{2}, 7, parley.ViewCounts{All: 1, Mine: 1, Email: 1}},
		{"no inbox", []uint64{}, 7, parley.ViewCounts{}},
		{"an inbox without threads", []uint64{3}, 7, parley.ViewCounts{}},
	} {
		t.Run(tt.name, func(t *testing.T) { check(tt.name, tt.inboxes, tt.user, tt.want) })
	}

	steps := []struct {
		name   string
		thread string
		change func(*parley.Thread)
		want   parley.ViewCounts // inbox 1, user 7
	}{
		{"assign to me", "chatOpen", func(th *parley.Thread) { th.AssigneeID = 7 }, parley.ViewCounts{All: 4, Mine: 2, Unassigned: 1, Email: 1, Chat: 3, Filtered: 2}},
		{"close", "chatOpen", func(th *parley.Thread) { th.Status = parley.StatusClosed }, parley.ViewCounts{All: 3, Mine: 1, Unassigned: 1, Email: 1, Chat: 2, Filtered: 2}},
		{"reopen", "closed", func(th *parley.Thread) { th.Status = parley.StatusOpen }, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 2, Email: 1, Chat: 3, Filtered: 2}},
		{"archive", "chatOther", func(th *parley.Thread) { th.Archived = true }, parley.ViewCounts{All: 3, Mine: 1, Unassigned: 2, Email: 1, Chat: 2, Filtered: 2}},
		{"restore", "trash", func(th *parley.Thread) { th.Archived = false }, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 3, Email: 1, Chat: 3, Filtered: 2}},
		{"spam", "emailMine", func(th *parley.Thread) { th.Spam = true }, parley.ViewCounts{All: 3, Mine: 0, Unassigned: 3, Email: 0, Chat: 3, Filtered: 3}},
		{"unblock", "blocked", func(th *parley.Thread) { th.Blocked = false }, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 3, Email: 1, Chat: 3, Filtered: 2}},
		{"a new message changes nothing", "silent", func(th *parley.Thread) { th.LatestMessageAt = time.Now() }, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 3, Email: 1, Chat: 3, Filtered: 2}},
	}
	for _, st := range steps {
		if _, err := db.UpdateThread(ctx, ts[st.thread].ID, func(th *parley.Thread) error { st.change(th); return nil }); err != nil {
			t.Fatal(err)
		}
		check(st.name, []uint64{1}, 7, st.want)
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		th, err := threadTable().get(tx, ts["silent"].ID)
		if err != nil {
			return err
		}
		return deleteThread(tx, th, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	check("delete", []uint64{1}, 7, parley.ViewCounts{All: 3, Mine: 1, Unassigned: 2, Email: 1, Chat: 2, Filtered: 2})
	// A new thread through an append counts at once.
	if _, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "hi", SenderID: "V-50"},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 50}}); err != nil {
		t.Fatal(err)
	}
	check("new thread", []uint64{1}, 7, parley.ViewCounts{All: 4, Mine: 1, Unassigned: 3, Email: 1, Chat: 3, Filtered: 2})
	_ = fmt.Sprint
}

// TestMigrateListRows opens a file of schema version 2, whose thread rows
// are 26 bytes, and checks that Open widens them and counts the threads.
func TestMigrateListRows(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := migrate(bdb, migrations()[:2]); err != nil || v != 2 {
		t.Fatalf("migrate to 2: %d, %v", v, err)
	}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	old := []parley.Thread{
		{ID: 1, InboxID: 1, ChannelID: parley.ChannelChat, ContactID: 1, Status: parley.StatusOpen, AssigneeID: 7, LatestMessageAt: t0},
		{ID: 2, InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 2, Status: parley.StatusOpen, Spam: true, LatestMessageAt: t0.Add(time.Minute)},
		{ID: 3, InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 3, Status: parley.StatusClosed, LatestMessageAt: t0.Add(2 * time.Minute)},
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for i := range old {
			th := &old[i]
			r := newRow(th)[:26] // the rows of version 2
			data, err := json.Marshal(th)
			if err != nil {
				return err
			}
			if err := bucket(tx, bucketThreads).Put(itob(th.ID), append(slices.Clone(r), data...)); err != nil {
				return err
			}
			if err := bucket(tx, bucketThreadLatest).Put(key2(timeKey(th.LatestMessageAt), th.ID), slices.Clone(r)); err != nil {
				return err
			}
		}
		return bucket(tx, bucketThreads).SetSequence(3)
	})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db := MustOpenDir(t, dir, nil)
	if v := db.SchemaVersion(); v < 3 {
		t.Fatalf("schema version %d, want at least 3", v)
	}
	ctx := t.Context()
	for i := range old {
		th, err := db.Thread(ctx, old[i].ID)
		if err != nil || th.AssigneeID != old[i].AssigneeID || th.Spam != old[i].Spam {
			t.Errorf("thread %d after the migration: %+v, %v", old[i].ID, th, err)
		}
	}
	no := false
	got, _, err := db.Threads(ctx, parley.ThreadFilter{Status: parley.StatusOpen, Filtered: &no, AssigneeID: 7, Sort: parley.SortByLatest})
	if err != nil || len(got) != 1 || got[0].ID != 1 {
		t.Errorf("Mine after the migration: %v, %v; want thread 1", got, err)
	}
	counts, err := db.CountThreads(ctx, nil, 7)
	if want := (parley.ViewCounts{All: 1, Mine: 1, Chat: 1, Filtered: 1}); err != nil || counts != want {
		t.Errorf("counts after the migration: %+v, %v; want %+v", counts, err, want)
	}
}
