package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestSnippets(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: c.Now})

	for _, tt := range []struct {
		name     string
		snippet  parley.Snippet
		wantID   uint64
		wantCode string
	}{
		{"first", parley.Snippet{Name: "Hello", Shortcut: "hi", Body: "Hi! How can I help?", Authored: parley.Authored{CreatedBy: 1}}, 1, ""},
		{"second", parley.Snippet{Name: "Pricing", Shortcut: "Price-2", Body: "See our pricing page.", Authored: parley.Authored{CreatedBy: 2}}, 2, ""},
		{"shortcut taken", parley.Snippet{Name: "Hi again", Shortcut: "hi", Body: "x"}, 0, parley.ECONFLICT},
		{"shortcut taken in another case", parley.Snippet{Name: "Hi again", Shortcut: "HI", Body: "x"}, 0, parley.ECONFLICT},
		{"no shortcut", parley.Snippet{Name: "None", Body: "x"}, 0, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.snippet
			err := db.CreateSnippet(ctx, &s)
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			if s.ID != tt.wantID || !s.CreatedAt.Equal(c.Now()) || !s.UpdatedAt.Equal(s.CreatedAt) {
				t.Errorf("created %+v, want id %d and both times now", s, tt.wantID)
			}
			got, err := db.Snippet(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, s) {
				t.Errorf("Snippet(%d)=%+v, want %+v", s.ID, *got, s)
			}
		})
	}

	shortcuts := func() []string {
		t.Helper()
		all, err := db.Snippets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, s := range all {
			out = append(out, s.Shortcut)
		}
		return out
	}
	if got, want := shortcuts(), []string{"hi", "Price-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Snippets shortcuts=%q, want %q", got, want)
	}

	c.Add(time.Minute)
	t.Run("update", func(t *testing.T) {
		s, err := db.UpdateSnippet(ctx, 1, func(s *parley.Snippet) error {
			s.Shortcut, s.Body = "aloha", "Aloha!"
			s.CreatedBy, s.CreatedAt, s.ID = 9, time.Time{}, 7 // not the caller's to change
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != 1 || s.CreatedBy != 1 || s.CreatedAt.Equal(s.UpdatedAt) || !s.UpdatedAt.Equal(c.Now()) || s.Body != "Aloha!" {
			t.Errorf("updated %+v", s)
		}
		if got, want := shortcuts(), []string{"aloha", "Price-2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("shortcuts=%q, want %q", got, want)
		}
	})
	t.Run("update to a taken shortcut", func(t *testing.T) {
		_, err := db.UpdateSnippet(ctx, 1, func(s *parley.Snippet) error { s.Shortcut = "price-2"; return nil })
		wantCode(t, err, parley.ECONFLICT)
		if s, _ := db.Snippet(ctx, 1); s.Shortcut != "aloha" {
			t.Errorf("shortcut=%q after a refused update, want aloha", s.Shortcut)
		}
	})
	t.Run("update, fn fails", func(t *testing.T) {
		_, err := db.UpdateSnippet(ctx, 1, func(s *parley.Snippet) error { s.Body = "changed"; return errTest })
		if !errors.Is(err, errTest) {
			t.Fatalf("err=%v, want errTest", err)
		}
		if s, _ := db.Snippet(ctx, 1); s.Body != "Aloha!" {
			t.Errorf("body=%q after a failed update", s.Body)
		}
	})
	t.Run("change case of own shortcut", func(t *testing.T) {
		if _, err := db.UpdateSnippet(ctx, 1, func(s *parley.Snippet) error { s.Shortcut = "Aloha"; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("delete frees the shortcut", func(t *testing.T) {
		if err := db.DeleteSnippet(ctx, 1); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteSnippet(ctx, 1), parley.ENOTFOUND)
		_, err := db.Snippet(ctx, 1)
		wantCode(t, err, parley.ENOTFOUND)
		s := parley.Snippet{Name: "Aloha", Shortcut: "ALOHA", Body: "again"}
		if err := db.CreateSnippet(ctx, &s); err != nil {
			t.Fatal(err)
		}
		if got, want := shortcuts(), []string{"ALOHA", "Price-2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("shortcuts=%q, want %q", got, want)
		}
	})
	_, err := db.UpdateSnippet(ctx, 99, func(*parley.Snippet) error { return nil })
	wantCode(t, err, parley.ENOTFOUND)
}

func TestAppendWithContact(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: c.Now})

	contact := &parley.Contact{Email: "eve@example.com"}
	if err := db.CreateContact(ctx, contact); err != nil {
		t.Fatal(err)
	}
	th := mustCreateThread(t, db, 1, contact.ID, 5)
	other := mustCreateThread(t, db, 1, contact.ID, 6)
	orphan := mustCreateThread(t, db, 1, 0, 5)
	c.Add(time.Minute)

	block := func(blocked bool) func(*parley.Thread, *parley.Contact) error {
		return func(t *parley.Thread, c *parley.Contact) error {
			t.Blocked, c.Blocked = blocked, blocked
			t.ID, t.LastSeq, c.ID = 99, 99, 99 // undone
			return nil
		}
	}
	event := func(threadID uint64, ev string) *parley.Message {
		return &parley.Message{ThreadID: threadID, Type: parley.TypeSystem, Event: ev, SenderID: "A-1", Direction: parley.Outgoing, ClientID: "ignored"}
	}

	t.Run("block", func(t *testing.T) {
		m := event(th.ID, parley.EventBlocked)
		res, got, err := db.AppendWithContact(ctx, m, block(true))
		if err != nil {
			t.Fatal(err)
		}
		if res.Message != m || m.Seq != 1 || m.ID == 0 || m.ClientID != "" || m.ChannelID != parley.ChannelChat || !m.CreatedAt.Equal(c.Now()) {
			t.Errorf("message %+v", m)
		}
		if res.Thread.ID != th.ID || !res.Thread.Blocked || res.Thread.LastSeq != 1 || !res.Thread.LatestMessageAt.IsZero() { // an event is no message: the latest message time stays
			t.Errorf("thread %+v", res.Thread)
		}
		if got.ID != contact.ID || !got.Blocked || !got.UpdatedAt.Equal(c.Now()) || got.Email != "eve@example.com" {
			t.Errorf("contact %+v", got)
		}
		stored, _ := db.Contact(ctx, contact.ID)
		if !reflect.DeepEqual(stored, got) {
			t.Errorf("stored contact %+v, want %+v", stored, got)
		}
		if byMail, err := db.ContactByEmail(ctx, "eve@example.com"); err != nil || byMail.ID != contact.ID {
			t.Errorf("ContactByEmail=%v, %v", byMail, err)
		}
		storedThread, _ := db.Thread(ctx, th.ID)
		if !storedThread.Blocked || storedThread.LastSeq != 1 {
			t.Errorf("stored thread %+v", storedThread)
		}
		msgs, _, _ := db.Messages(ctx, th.ID, 0, 10)
		if len(msgs) != 1 || msgs[0].Event != parley.EventBlocked || msgs[0].Type != parley.TypeSystem {
			t.Errorf("messages %+v", msgs)
		}
		if o, _ := db.Thread(ctx, other.ID); o.Blocked || o.LastSeq != 0 {
			t.Errorf("the contact's other thread changed: %+v", o)
		}
	})

	t.Run("update fails: nothing written", func(t *testing.T) {
		_, _, err := db.AppendWithContact(ctx, event(th.ID, parley.EventUnblocked), func(t *parley.Thread, c *parley.Contact) error {
			t.Blocked, c.Blocked = false, false
			return errTest
		})
		if !errors.Is(err, errTest) {
			t.Fatalf("err=%v, want errTest", err)
		}
		if got, _ := db.Contact(ctx, contact.ID); !got.Blocked {
			t.Error("the contact changed")
		}
		if got, _ := db.Thread(ctx, th.ID); !got.Blocked || got.LastSeq != 1 {
			t.Errorf("the thread changed: %+v", got)
		}
	})

	t.Run("contact unchanged keeps UpdatedAt", func(t *testing.T) {
		before, _ := db.Contact(ctx, contact.ID)
		c.Add(time.Minute)
		_, got, err := db.AppendWithContact(ctx, event(th.ID, parley.EventSpam), func(t *parley.Thread, _ *parley.Contact) error {
			t.Spam = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("UpdatedAt=%v, want %v", got.UpdatedAt, before.UpdatedAt)
		}
	})

	for _, tt := range []struct {
		name string
		m    *parley.Message
		code string
	}{
		{"no thread", event(0, parley.EventBlocked), parley.EINVALID},
		{"missing thread", event(999, parley.EventBlocked), parley.ENOTFOUND},
		{"thread without contact", event(orphan.ID, parley.EventBlocked), parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := db.AppendWithContact(ctx, tt.m, block(true))
			wantCode(t, err, tt.code)
		})
	}

	t.Run("context ended", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := db.AppendWithContact(cctx, event(th.ID, parley.EventUnblocked), block(false))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err=%v, want context.Canceled", err)
		}
	})
}
