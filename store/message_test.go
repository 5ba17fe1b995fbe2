package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestAppendMessage(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now})
	th := mustCreateThread(t, db, 1, 1, 5)
	other := mustCreateThread(t, db, 1, 2, 5)
	long := strings.Repeat("word ", 100)

	for _, tt := range []struct {
		name        string
		msg         parley.Message
		wantID      uint64
		wantSeq     uint64
		wantPreview string
	}{
		{"first", parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "Hello\n  there", SenderID: "V-1"}, 1, 1, "Hello there"},
		{"comment keeps the preview", parley.Message{ThreadID: th.ID, Type: parley.TypeComment, Text: "internal", SenderID: "A-1"}, 2, 2, "Hello there"},
		{"other thread", parley.Message{ThreadID: other.ID, Type: parley.TypeMessage, Text: "Hi"}, 3, 1, "Hi"},
		{"status change", parley.Message{ThreadID: th.ID, Type: parley.TypeStatusChange, NewStatus: parley.StatusClosed}, 4, 3, "Hello there"},
		{"long text", parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: long}, 5, 4, parley.Preview(long)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := clk.Add(time.Second)
			m := tt.msg
			prev, err := db.Thread(ctx, m.ThreadID)
			if err != nil {
				t.Fatal(err)
			}
			// Messages and notes move the latest message time; events
			// (a status change) do not.
			wantLatest := now
			if m.Type != parley.TypeMessage && m.Type != parley.TypeComment {
				wantLatest = prev.LatestMessageAt
			}
			res, err := db.AppendMessage(ctx, &m, parley.AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Message != &m || res.Duplicate || res.ThreadCreated {
				t.Errorf("result=%+v, want m itself, no duplicate, no new thread", res)
			}
			if m.ID != tt.wantID || m.Seq != tt.wantSeq || !m.CreatedAt.Equal(now) {
				t.Errorf("ID=%d, Seq=%d, CreatedAt=%v, want %d, %d, %v", m.ID, m.Seq, m.CreatedAt, tt.wantID, tt.wantSeq, now)
			}
			if m.ChannelID != parley.ChannelChat || m.ChannelAccountID != 5 {
				t.Errorf("channel=%d/%d, want the thread's %d/5", m.ChannelID, m.ChannelAccountID, parley.ChannelChat)
			}
			stored, err := db.Thread(ctx, m.ThreadID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stored, res.Thread) {
				t.Errorf("result thread=%+v, stored %+v", res.Thread, stored)
			}
			if stored.LastSeq != tt.wantSeq || stored.Preview != tt.wantPreview || !stored.LatestMessageAt.Equal(wantLatest) {
				t.Errorf("thread LastSeq=%d, Preview=%q, LatestMessageAt=%v, want %d, %q, %v",
					stored.LastSeq, stored.Preview, stored.LatestMessageAt, tt.wantSeq, tt.wantPreview, wantLatest)
			}
			got, err := db.Message(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, m) {
				t.Errorf("Message(%d)=%+v, want %+v", m.ID, *got, m)
			}
		})
	}

	t.Run("an older message keeps LatestMessageAt", func(t *testing.T) {
		before, _ := db.Thread(ctx, th.ID)
		m := &parley.Message{ThreadID: th.ID, Type: parley.TypeComment, CreatedAt: before.LatestMessageAt.Add(-time.Hour)}
		res, err := db.AppendMessage(ctx, m, parley.AppendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Thread.LatestMessageAt.Equal(before.LatestMessageAt) {
			t.Errorf("LatestMessageAt=%v, want %v", res.Thread.LatestMessageAt, before.LatestMessageAt)
		}
	})

	for _, tt := range []struct {
		name string
		msg  parley.Message
		opts parley.AppendOptions
		code string
	}{
		{"missing thread", parley.Message{ThreadID: 99, Type: parley.TypeMessage, Text: "x"}, parley.AppendOptions{}, parley.ENOTFOUND},
		{"no thread at all", parley.Message{Type: parley.TypeMessage, Text: "x"}, parley.AppendOptions{}, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			_, err := db.AppendMessage(ctx, &m, tt.opts)
			wantCode(t, err, tt.code)
			if !reflect.DeepEqual(m, tt.msg) {
				t.Errorf("failed AppendMessage changed m to %+v", m)
			}
		})
	}
}

func TestAppendMessage_NewThread(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	chat := func(contact, widget uint64) *parley.Thread {
		return &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: widget, ContactID: contact, PageURL: "https://example.com/"}
	}
	email := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ChannelAccountID: 1, ContactID: 1, Subject: "Order"}

	for _, tt := range []struct {
		name        string
		newThread   *parley.Thread
		wantThread  uint64
		wantSeq     uint64
		wantCreated bool
	}{
		{"first chat creates", chat(1, 1), 1, 1, true},
		{"second chat message finds it", chat(1, 1), 1, 2, false},
		{"other widget creates", chat(1, 2), 2, 1, true},
		{"other contact creates", chat(2, 1), 3, 1, true},
		{"email creates", email, 4, 1, true},
		{"email creates again", email, 5, 1, true},
		{"chat still found", chat(1, 1), 1, 3, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := *tt.newThread
			m := &parley.Message{Type: parley.TypeMessage, Text: tt.name, SenderID: "V-1"}
			res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: tt.newThread})
			if err != nil {
				t.Fatal(err)
			}
			if res.Thread.ID != tt.wantThread || m.ThreadID != tt.wantThread || m.Seq != tt.wantSeq || res.ThreadCreated != tt.wantCreated {
				t.Errorf("thread %d (m.ThreadID %d), seq %d, created %t, want thread %d, seq %d, created %t",
					res.Thread.ID, m.ThreadID, m.Seq, res.ThreadCreated, tt.wantThread, tt.wantSeq, tt.wantCreated)
			}
			if *tt.newThread != orig {
				t.Errorf("AppendMessage changed NewThread to %+v", *tt.newThread)
			}
			stored, err := db.Thread(ctx, res.Thread.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stored, res.Thread) {
				t.Errorf("result thread=%+v, stored %+v", res.Thread, stored)
			}
			if stored.Status != parley.StatusOpen || stored.Subject != orig.Subject || stored.PageURL != orig.PageURL || stored.LastSeq != tt.wantSeq {
				t.Errorf("stored thread=%+v, want an open copy of NewThread with LastSeq %d", stored, tt.wantSeq)
			}
		})
	}
}

func TestAppendMessage_Update(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	th := mustCreateThread(t, db, 1, 1, 1)
	if _, err := db.UpdateThread(ctx, th.ID, func(th *parley.Thread) error { th.Status = parley.StatusClosed; return nil }); err != nil {
		t.Fatal(err)
	}

	t.Run("reopen", func(t *testing.T) {
		m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "back again"}
		res, err := db.AppendMessage(ctx, m, parley.AppendOptions{Update: func(th *parley.Thread) error {
			if th.Status == parley.StatusClosed {
				th.Status, th.ClosedAt = parley.StatusOpen, time.Time{}
			}
			th.ID, th.LastSeq = 42, 42 // undone
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := db.Thread(ctx, th.ID)
		if res.Thread.Status != parley.StatusOpen || stored.Status != parley.StatusOpen {
			t.Errorf("status=%s (stored %s), want OPEN", res.Thread.Status, stored.Status)
		}
		if m.Seq != 1 || stored.LastSeq != 1 || stored.ID != th.ID {
			t.Errorf("Seq=%d, LastSeq=%d, ID=%d, want 1, 1, %d", m.Seq, stored.LastSeq, stored.ID, th.ID)
		}
	})

	refuse := func(th *parley.Thread) error {
		th.Status = parley.StatusClosed
		return parley.Errorf(parley.EFORBIDDEN, "blocked")
	}
	t.Run("refused on an existing thread", func(t *testing.T) {
		m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: "spam"}
		_, err := db.AppendMessage(ctx, m, parley.AppendOptions{Update: refuse})
		wantCode(t, err, parley.EFORBIDDEN)
		stored, _ := db.Thread(ctx, th.ID)
		if stored.LastSeq != 1 || stored.Status != parley.StatusOpen || stored.Preview != "back again" {
			t.Errorf("thread=%+v after a refused append, want it unchanged", stored)
		}
		if msgs, _, _ := db.Messages(ctx, th.ID, 0, 0); len(msgs) != 1 {
			t.Errorf("%d messages, want 1", len(msgs))
		}
		if _, err := db.Message(ctx, 2); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Message(2) error=%v, want ENOTFOUND", err)
		}
	})
	t.Run("refused on a new thread", func(t *testing.T) {
		m := &parley.Message{Type: parley.TypeMessage, Text: "spam"}
		nt := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 9}
		_, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: nt, Update: refuse})
		wantCode(t, err, parley.EFORBIDDEN)
		if _, err := db.ChatThread(ctx, 9, 1); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("ChatThread error=%v, want ENOTFOUND: the refused append created a thread", err)
		}
		if _, err := db.Thread(ctx, th.ID+1); parley.ErrorCode(err) != parley.ENOTFOUND {
			t.Errorf("Thread(%d) error=%v, want ENOTFOUND", th.ID+1, err)
		}
	})
}

func TestAppendMessage_Dedup(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	t1 := mustCreateThread(t, db, 1, 1, 1)
	t2 := mustCreateThread(t, db, 1, 2, 1)

	for _, tt := range []struct {
		name       string
		thread     uint64
		sender     string
		clientID   string
		text       string
		wantDup    bool
		wantID     uint64
		wantSeq    uint64
		wantText   string
		wantLength uint64 // LastSeq of the thread afterwards
	}{
		{"first", t1.ID, "V-1", "c1", "hello", false, 1, 1, "hello", 1},
		{"retry", t1.ID, "V-1", "c1", "hello again", true, 1, 1, "hello", 1},
		{"other sender", t1.ID, "A-1", "c1", "hi", false, 2, 2, "hi", 2},
		{"other client id", t1.ID, "V-1", "c2", "more", false, 3, 3, "more", 3},
		{"other thread", t2.ID, "V-1", "c1", "elsewhere", false, 4, 1, "elsewhere", 1},
		{"retry of other sender", t1.ID, "A-1", "c1", "x", true, 2, 2, "hi", 3},
		{"sender and id do not run together", t1.ID, "V-1c", "1", "y", false, 5, 4, "y", 4},
		{"no client id", t1.ID, "V-1", "", "a", false, 6, 5, "a", 5},
		{"no client id again", t1.ID, "V-1", "", "a", false, 7, 6, "a", 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &parley.Message{ThreadID: tt.thread, Type: parley.TypeMessage, Text: tt.text, SenderID: tt.sender, ClientID: tt.clientID}
			orig := *m
			res, err := db.AppendMessage(ctx, m, parley.AppendOptions{Update: func(th *parley.Thread) error {
				if tt.wantDup {
					return errors.New("Update called for a duplicate")
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Message
			if res.Duplicate != tt.wantDup || got.ID != tt.wantID || got.Seq != tt.wantSeq || got.Text != tt.wantText {
				t.Errorf("duplicate=%t, id=%d, seq=%d, text=%q, want %t, %d, %d, %q",
					res.Duplicate, got.ID, got.Seq, got.Text, tt.wantDup, tt.wantID, tt.wantSeq, tt.wantText)
			}
			if tt.wantDup && !reflect.DeepEqual(*m, orig) {
				t.Errorf("a duplicate changed m to %+v", *m)
			}
			if res.Thread.LastSeq != tt.wantLength {
				t.Errorf("LastSeq=%d, want %d", res.Thread.LastSeq, tt.wantLength)
			}
		})
	}

	t.Run("through NewThread", func(t *testing.T) {
		nt := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}
		m := &parley.Message{Type: parley.TypeMessage, Text: "again", SenderID: "V-1", ClientID: "c1"}
		res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: nt})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Duplicate || res.Message.ID != 1 || res.ThreadCreated {
			t.Errorf("result=%+v, want the duplicate of message 1", res)
		}
	})

	t.Run("twice in one group", func(t *testing.T) {
		release := holdWriter(t, db)
		var a, b parley.AppendResult
		results := queue(t, db,
			func() (err error) {
				a, err = db.AppendMessage(ctx, &parley.Message{ThreadID: t2.ID, SenderID: "V-2", ClientID: "same", Text: "1"}, parley.AppendOptions{})
				return err
			},
			func() (err error) {
				b, err = db.AppendMessage(ctx, &parley.Message{ThreadID: t2.ID, SenderID: "V-2", ClientID: "same", Text: "2"}, parley.AppendOptions{})
				return err
			},
		)
		release()
		for _, r := range results {
			if err := <-r; err != nil {
				t.Fatal(err)
			}
		}
		if a.Duplicate || !b.Duplicate || a.Message.ID != b.Message.ID || b.Message.Seq != 2 || b.Message.Text != "1" {
			t.Errorf("results %+v and %+v, want the second a duplicate of the first", a.Message, b.Message)
		}
	})
}

func TestMessages(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	th := mustCreateThread(t, db, 1, 1, 1)
	empty := mustCreateThread(t, db, 1, 2, 1)
	next := mustCreateThread(t, db, 1, 3, 1) // its keys follow empty's
	if _, err := db.AppendMessage(ctx, &parley.Message{ThreadID: next.ID, Type: parley.TypeMessage, Text: "1"}, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		// Client ids put dedup entries after the messages in the thread's
		// bucket, 8-byte keys like a seq's ("\xff", 3, "V-1", "c01"): they
		// are not messages, nor a sign that more follow.
		m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: fmt.Sprint(i + 1), SenderID: "V-1", ClientID: fmt.Sprintf("c%02d", i)}
		if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		name     string
		thread   uint64
		after    uint64
		limit    int
		want     []uint64 // seqs
		wantMore bool
		code     string
	}{
		{"all", th.ID, 0, 0, []uint64{1, 2, 3, 4, 5, 6, 7}, false, ""},
		{"first page", th.ID, 0, 3, []uint64{1, 2, 3}, true, ""},
		{"second page", th.ID, 3, 3, []uint64{4, 5, 6}, true, ""},
		{"last page", th.ID, 6, 3, []uint64{7}, false, ""},
		{"exact page", th.ID, 4, 3, []uint64{5, 6, 7}, false, ""},
		{"after the end", th.ID, 7, 3, []uint64{}, false, ""},
		{"after max", th.ID, 1<<64 - 1, 3, []uint64{}, false, ""},
		{"after the dedup prefix", th.ID, dedupPrefix << 56, 3, []uint64{}, false, ""},
		{"empty thread", empty.ID, 0, 0, []uint64{}, false, ""},
		{"next thread", next.ID, 0, 0, []uint64{1}, false, ""},
		{"missing thread", 99, 0, 0, nil, false, parley.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msgs, more, err := db.Messages(ctx, tt.thread, tt.after, tt.limit)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			seqs := []uint64{}
			for _, m := range msgs {
				seqs = append(seqs, m.Seq)
				if m.Text != fmt.Sprint(m.Seq) || m.ThreadID != tt.thread {
					t.Errorf("message seq %d: text %q, thread %d", m.Seq, m.Text, m.ThreadID)
				}
			}
			if !reflect.DeepEqual(seqs, tt.want) || more != tt.wantMore {
				t.Errorf("seqs=%v, more=%t, want %v, %t", seqs, more, tt.want, tt.wantMore)
			}
		})
	}

	_, err := db.Message(ctx, 99)
	wantCode(t, err, parley.ENOTFOUND)
}

// Many writers on few threads: every append gets its own place, each thread
// numbers its messages 1..n without gaps, and ids are unique.
func TestAppendMessage_Concurrent(t *testing.T) {
	for _, tt := range []struct {
		name                        string
		opts                        Options
		writers, perWriter, threads int
	}{
		{"group commit", Options{NoSync: true}, 50, 100, 10},
		{"no group commit", Options{NoSync: true, NoGroupCommit: true}, 20, 50, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := MustOpen(t, &tt.opts)
			ids := make([]uint64, tt.threads)
			for i := range ids {
				ids[i] = mustCreateThread(t, db, 1, uint64(i+1), 1).ID
			}

			acks := make([][]parley.Message, tt.writers)
			var wg sync.WaitGroup
			for w := range tt.writers {
				wg.Go(func() {
					for i := range tt.perWriter {
						m := &parley.Message{
							ThreadID: ids[(w+i)%tt.threads], Type: parley.TypeMessage,
							Text: fmt.Sprintf("%d/%d", w, i), SenderID: parley.ContactActorID(uint64(w + 1)),
							ClientID: fmt.Sprintf("c%d", i),
						}
						if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
							t.Error(err)
							return
						}
						acks[w] = append(acks[w], *m)
					}
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}

			stored := checkGapless(t, db, ids)
			if got, want := len(stored), tt.writers*tt.perWriter; got != want {
				t.Errorf("%d messages stored, want %d", got, want)
			}
			for w := range acks {
				for _, m := range acks[w] {
					if got, ok := stored[m.ID]; !ok || !reflect.DeepEqual(*got, m) {
						t.Fatalf("message %d stored as %+v, want %+v", m.ID, got, m)
					}
				}
			}
		})
	}
}

// checkGapless checks that the messages of each thread are numbered 1..n
// with LastSeq n and that no id is given twice, and returns them by id.
func checkGapless(t *testing.T, db *DB, threads []uint64) map[uint64]*parley.Message {
	t.Helper()
	byID := make(map[uint64]*parley.Message)
	for _, id := range threads {
		th, err := db.Thread(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		var after uint64
		for more := true; more; {
			var msgs []*parley.Message
			msgs, more, err = db.Messages(t.Context(), id, after, parley.MaxLimit)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.Seq != after+1 {
					t.Fatalf("thread %d: seq %d after %d", id, m.Seq, after)
				}
				if byID[m.ID] != nil {
					t.Fatalf("message id %d given twice", m.ID)
				}
				after = m.Seq
				byID[m.ID] = m
			}
		}
		if th.LastSeq != after {
			t.Errorf("thread %d: LastSeq=%d, last message %d", id, th.LastSeq, after)
		}
	}
	return byID
}

// TestAppendMessageLeave: a chat message that leaves the contact's newest
// thread starts a new one; a resend of it (same sender and clientId, same
// Leave) finds its first copy there; messages without Leave go to the new
// thread; a Leave naming an older thread changes nothing.
func TestAppendMessageLeave(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, nil)
	nt := func() *parley.Thread {
		return &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 9, Status: parley.StatusOpen}
	}
	send := func(cid string, leave uint64) parley.AppendResult {
		t.Helper()
		m := &parley.Message{Type: parley.TypeMessage, Text: cid, SenderID: "V-9", ClientID: cid}
		res, err := db.AppendMessage(ctx, m, parley.AppendOptions{NewThread: nt(), Leave: leave})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := send("c-first", 0)
	left := send("c-new", first.Thread.ID)
	if !left.ThreadCreated || left.Thread.ID == first.Thread.ID {
		t.Fatalf("leave: thread %d created=%v, want a new thread", left.Thread.ID, left.ThreadCreated)
	}
	again := send("c-new", first.Thread.ID)
	if !again.Duplicate || again.Thread.ID != left.Thread.ID || again.Message.ID != left.Message.ID {
		t.Errorf("resend: duplicate=%v thread=%d, want the first copy in thread %d", again.Duplicate, again.Thread.ID, left.Thread.ID)
	}
	next := send("c-next", 0)
	old := send("c-old", first.Thread.ID)
	if next.Thread.ID != left.Thread.ID || old.Thread.ID != left.Thread.ID || next.ThreadCreated || old.ThreadCreated {
		t.Errorf("later messages went to threads %d and %d, want %d", next.Thread.ID, old.Thread.ID, left.Thread.ID)
	}
	if th, err := db.ChatThread(ctx, 9, 1); err != nil || th.ID != left.Thread.ID || th.LastSeq != 3 {
		t.Errorf("ChatThread=%+v (%v), want thread %d with 3 messages", th, err, left.Thread.ID)
	}
}
