package store

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// mustCreateThread creates a chat thread of the contact on the widget in the
// inbox.
func mustCreateThread(t *testing.T, db *DB, inboxID, contactID, widgetID uint64) *parley.Thread {
	t.Helper()
	th := &parley.Thread{InboxID: inboxID, ChannelID: parley.ChannelChat, ChannelAccountID: widgetID, ContactID: contactID}
	if err := db.CreateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	return th
}

func TestCreateThread(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

	for _, tt := range []struct {
		name       string
		thread     parley.Thread
		wantID     uint64
		wantStatus parley.ThreadStatus
	}{
		{"defaults", parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}, 1, parley.StatusOpen},
		{"closed email thread", parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 1, Status: parley.StatusClosed, Subject: "Hi"}, 2, parley.StatusClosed},
		{"LastSeq ignored", parley.Thread{InboxID: 2, ChannelID: parley.ChannelChat, LastSeq: 42}, 3, parley.StatusOpen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			th := tt.thread
			if err := db.CreateThread(ctx, &th); err != nil {
				t.Fatal(err)
			}
			if th.ID != tt.wantID || th.Status != tt.wantStatus || th.LastSeq != 0 || !th.CreatedAt.Equal(clk.Now()) {
				t.Errorf("created %+v, want ID %d, status %s, LastSeq 0, CreatedAt %v", th, tt.wantID, tt.wantStatus, clk.Now())
			}
			got, err := db.Thread(ctx, th.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, th) {
				t.Errorf("Thread(%d)=%+v, want %+v", th.ID, *got, th)
			}
			if msgs, more, err := db.Messages(ctx, th.ID, 0, 0); err != nil || len(msgs) != 0 || more {
				t.Errorf("Messages of a new thread=%v, %t, %v, want none", msgs, more, err)
			}
		})
	}
	_, err := db.Thread(ctx, 99)
	wantCode(t, err, parley.ENOTFOUND)
}

func TestUpdateThread(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	th := mustCreateThread(t, db, 1, 1, 1)
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "hi"}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	closedAt := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	for _, tt := range []struct {
		name  string
		id    uint64
		fn    func(*parley.Thread) error
		code  string
		check func(t *testing.T, got *parley.Thread)
	}{
		{"close", th.ID, func(th *parley.Thread) error {
			th.Status, th.ClosedAt = parley.StatusClosed, closedAt
			return nil
		}, "", func(t *testing.T, got *parley.Thread) {
			if got.Status != parley.StatusClosed || !got.ClosedAt.Equal(closedAt) {
				t.Errorf("status=%s, closedAt=%v, want CLOSED at %v", got.Status, got.ClosedAt, closedAt)
			}
		}},
		{"ID and LastSeq are the store's", th.ID, func(th *parley.Thread) error {
			th.ID, th.LastSeq, th.AssigneeID = 7, 99, 3
			return nil
		}, "", func(t *testing.T, got *parley.Thread) {
			if got.ID != th.ID || got.LastSeq != 1 || got.AssigneeID != 3 {
				t.Errorf("ID=%d, LastSeq=%d, assignee=%d, want %d, 1, 3", got.ID, got.LastSeq, got.AssigneeID, th.ID)
			}
		}},
		{"fn error aborts", th.ID, func(th *parley.Thread) error {
			th.Archived = true
			return errTest
		}, parley.EINTERNAL, func(t *testing.T, got *parley.Thread) {
			if got.Archived {
				t.Error("a failed update archived the thread")
			}
		}},
		{"missing", 99, func(*parley.Thread) error { return nil }, parley.ENOTFOUND, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			returned, err := db.UpdateThread(ctx, tt.id, tt.fn)
			wantCode(t, err, tt.code)
			if tt.check == nil {
				return
			}
			stored, err := db.Thread(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, stored)
			if returned != nil && !reflect.DeepEqual(returned, stored) {
				t.Errorf("UpdateThread returned %+v, stored %+v", returned, stored)
			}
		})
	}
}

func TestChatThread(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	t1 := mustCreateThread(t, db, 1, 1, 1)
	t2 := mustCreateThread(t, db, 1, 1, 2)
	t3 := mustCreateThread(t, db, 1, 1, 1) // newer than t1
	t4 := mustCreateThread(t, db, 1, 2, 0)
	email := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ChannelAccountID: 1, ContactID: 3}
	if err := db.CreateThread(ctx, email); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, contact, widget, want uint64) {
		t.Helper()
		got, err := db.ChatThread(ctx, contact, widget)
		if want == 0 {
			wantCode(t, err, parley.ENOTFOUND)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want {
			t.Errorf("ChatThread(%d, %d)=%d, want %d", contact, widget, got.ID, want)
		}
	}
	for _, tt := range []struct {
		name            string
		contact, widget uint64
		want            uint64
	}{
		{"newest of two", 1, 1, t3.ID},
		{"other widget", 1, 2, t2.ID},
		{"no thread on widget", 1, 3, 0},
		{"widget 0", 2, 0, t4.ID},
		{"no such contact", 9, 1, 0},
		{"email threads are not chats", 3, 1, 0},
		{"zero", 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.contact, tt.widget, tt.want) })
	}

	t.Run("moving a thread to another contact", func(t *testing.T) {
		if _, err := db.UpdateThread(ctx, t3.ID, func(th *parley.Thread) error { th.ContactID = 4; th.ChannelAccountID = 9; return nil }); err != nil {
			t.Fatal(err)
		}
		check(t, 1, 1, t1.ID)
		check(t, 4, 9, t3.ID)
	})
	t.Run("a thread turned into email leaves the index", func(t *testing.T) {
		if _, err := db.UpdateThread(ctx, t1.ID, func(th *parley.Thread) error { th.ChannelID = parley.ChannelEmail; return nil }); err != nil {
			t.Fatal(err)
		}
		check(t, 1, 1, 0)
	})
}

func TestThreads(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	base := clk.Now()
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }

	for i, f := range []struct {
		inbox, contact uint64
		status         parley.ThreadStatus
		archived       bool
		latest         int // minutes after base of its one message; 0: no message
	}{
		{1, 1, parley.StatusOpen, false, 5},   // 1
		{1, 2, parley.StatusClosed, false, 1}, // 2
		{2, 1, parley.StatusOpen, true, 7},    // 3
		{2, 3, parley.StatusOpen, false, 0},   // 4
		{3, 2, parley.StatusClosed, true, 3},  // 5
		{1, 3, parley.StatusOpen, false, 5},   // 6: same time as 1
		{2, 2, parley.StatusOpen, false, 9},   // 7
		{3, 1, parley.StatusOpen, false, 2},   // 8
	} {
		th := &parley.Thread{InboxID: f.inbox, ContactID: f.contact, ChannelID: parley.ChannelChat, ChannelAccountID: 1, Status: f.status, Archived: f.archived}
		if err := db.CreateThread(ctx, th); err != nil {
			t.Fatal(err)
		}
		if th.ID != uint64(i+1) {
			t.Fatalf("thread id=%d, want %d", th.ID, i+1)
		}
		if f.latest != 0 {
			m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "x", CreatedAt: at(f.latest)}
			if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	yes, no := true, false
	for _, tt := range []struct {
		name     string
		filter   parley.ThreadFilter
		want     []uint64
		wantMore bool
		code     string
	}{
		{"default: not archived, by id", parley.ThreadFilter{}, []uint64{1, 2, 4, 6, 7, 8}, false, ""},
		{"one inbox", parley.ThreadFilter{InboxIDs: []uint64{1}}, []uint64{1, 2, 6}, false, ""},
		{"two inboxes", parley.ThreadFilter{InboxIDs: []uint64{1, 3}}, []uint64{1, 2, 6, 8}, false, ""},
		{"no inboxes", parley.ThreadFilter{InboxIDs: []uint64{}}, []uint64{}, false, ""},
		{"open", parley.ThreadFilter{Status: parley.StatusOpen}, []uint64{1, 4, 6, 7, 8}, false, ""},
		{"closed", parley.ThreadFilter{Status: parley.StatusClosed}, []uint64{2}, false, ""},
		{"contact", parley.ThreadFilter{ContactID: 2}, []uint64{2, 7}, false, ""},
		{"archived", parley.ThreadFilter{Archived: &yes}, []uint64{3, 5}, false, ""},
		{"not archived", parley.ThreadFilter{Archived: &no}, []uint64{1, 2, 4, 6, 7, 8}, false, ""},
		{"archived and closed", parley.ThreadFilter{Archived: &yes, Status: parley.StatusClosed}, []uint64{5}, false, ""},
		{"after id", parley.ThreadFilter{AfterID: 4}, []uint64{6, 7, 8}, false, ""},
		{"after the last", parley.ThreadFilter{AfterID: 8}, []uint64{}, false, ""},
		{"after max", parley.ThreadFilter{AfterID: 1<<64 - 1}, []uint64{}, false, ""},
		{"limit", parley.ThreadFilter{Limit: 2}, []uint64{1, 2}, true, ""},
		{"limit, exactly all", parley.ThreadFilter{Limit: 6}, []uint64{1, 2, 4, 6, 7, 8}, false, ""},
		{"latest after, by id", parley.ThreadFilter{LatestAfter: at(2)}, []uint64{1, 6, 7}, false, ""},
		{"by latest", parley.ThreadFilter{Sort: parley.SortByLatest}, []uint64{7, 6, 1, 8, 2, 4}, false, ""},
		{"by latest, one inbox", parley.ThreadFilter{Sort: parley.SortByLatest, InboxIDs: []uint64{1}}, []uint64{6, 1, 2}, false, ""},
		{"by latest, archived", parley.ThreadFilter{Sort: parley.SortByLatest, Archived: &yes}, []uint64{3, 5}, false, ""},
		{"by latest, after a time", parley.ThreadFilter{Sort: parley.SortByLatest, LatestAfter: at(2)}, []uint64{7, 6, 1}, false, ""},
		{"by latest, limit", parley.ThreadFilter{Sort: parley.SortByLatest, Limit: 2}, []uint64{7, 6}, true, ""},
		{"by latest, after a tie", parley.ThreadFilter{Sort: parley.SortByLatest, AfterID: 6}, []uint64{1, 8, 2, 4}, false, ""},
		{"by latest, after 1", parley.ThreadFilter{Sort: parley.SortByLatest, AfterID: 1}, []uint64{8, 2, 4}, false, ""},
		{"by latest, after the last", parley.ThreadFilter{Sort: parley.SortByLatest, AfterID: 4}, []uint64{}, false, ""},
		{"by latest, after a filtered-out thread", parley.ThreadFilter{Sort: parley.SortByLatest, AfterID: 3}, []uint64{6, 1, 8, 2, 4}, false, ""},
		{"by latest, after a missing thread", parley.ThreadFilter{Sort: parley.SortByLatest, AfterID: 99}, nil, false, parley.EINVALID},
		{"unknown sort", parley.ThreadFilter{Sort: "name"}, nil, false, parley.EINVALID},
		{"unknown status", parley.ThreadFilter{Status: "PENDING"}, nil, false, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			threads, more, err := db.Threads(ctx, tt.filter)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			ids := []uint64{}
			for _, th := range threads {
				ids = append(ids, th.ID)
			}
			if !reflect.DeepEqual(ids, tt.want) || more != tt.wantMore {
				t.Errorf("Threads=%v, more=%t, want %v, %t", ids, more, tt.want, tt.wantMore)
			}
		})
	}

	t.Run("a new message moves a thread to the top", func(t *testing.T) {
		m := &parley.Message{ThreadID: 4, Type: parley.TypeMessage, Text: "late", CreatedAt: at(10)}
		if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		threads, _, err := db.Threads(ctx, parley.ThreadFilter{Sort: parley.SortByLatest, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if threads[0].ID != 4 || threads[1].ID != 7 {
			t.Errorf("first=%d, %d, want 4, 7", threads[0].ID, threads[1].ID)
		}
	})

	t.Run("archiving moves a thread out", func(t *testing.T) {
		if _, err := db.UpdateThread(ctx, 7, func(th *parley.Thread) error { th.Archived = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, f := range []parley.ThreadFilter{{}, {Sort: parley.SortByLatest}} {
			threads, _, err := db.Threads(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range threads {
				if th.ID == 7 {
					t.Errorf("sort %q: archived thread 7 listed", f.Sort)
				}
			}
		}
	})
}

// Walking every page gives every thread once, in order, in both sorts.
func TestThreads_Paging(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})

	const n = 230
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ContactID: uint64(i)}
			if err := db.CreateThread(ctx, th); err != nil {
				t.Error(err)
				return
			}
			// Many ties: ten threads per minute.
			m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "x", CreatedAt: clk.Now().Add(time.Duration(th.ID%23) * time.Minute)}
			if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	for _, tt := range []struct {
		sort  string
		limit int
		pages int
	}{
		{parley.SortByID, 0, 3}, // default 100
		{parley.SortByID, 7, 33},
		{parley.SortByLatest, 0, 3},
		{parley.SortByLatest, 50, 5},
		{parley.SortByID, 1000, 1}, // at most 500
	} {
		t.Run(tt.sort, func(t *testing.T) {
			var got []*parley.Thread
			var after uint64
			pages := 0
			for more := true; more; pages++ {
				var page []*parley.Thread
				var err error
				page, more, err = db.Threads(ctx, parley.ThreadFilter{Sort: tt.sort, Limit: tt.limit, AfterID: after})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					t.Fatalf("page %d is empty but the one before said more", pages)
				}
				got = append(got, page...)
				after = page[len(page)-1].ID
			}
			if pages != tt.pages || len(got) != n {
				t.Errorf("%d threads in %d pages, want %d in %d", len(got), pages, n, tt.pages)
			}
			for i := 1; i < len(got); i++ {
				a, b := got[i-1], got[i]
				var inOrder bool
				if tt.sort == parley.SortByID {
					inOrder = a.ID < b.ID
				} else {
					inOrder = a.LatestMessageAt.After(b.LatestMessageAt) || a.LatestMessageAt.Equal(b.LatestMessageAt) && a.ID > b.ID
				}
				if !inOrder {
					t.Fatalf("thread %d (%v) before thread %d (%v)", a.ID, a.LatestMessageAt, b.ID, b.LatestMessageAt)
				}
			}
		})
	}
}

func TestPageLimit(t *testing.T) {
	for _, tt := range []struct{ in, want int }{
		{-1, 100}, {0, 100}, {1, 1}, {100, 100}, {500, 500}, {501, 500},
	} {
		if got := pageLimit(tt.in); got != tt.want {
			t.Errorf("pageLimit(%d)=%d, want %d", tt.in, got, tt.want)
		}
	}
}
