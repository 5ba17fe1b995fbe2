package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

func TestTerms(t *testing.T) {
	long := strings.Repeat("ab", 40) // 80 bytes
	for _, tt := range []struct {
		name, in string
		want     []string
	}{
		{"email", "Alice@Example.COM", []string{"alice", "example", "com"}},
		{"punctuation", "Where's my order #1042?!", []string{"where", "s", "my", "order", "1042"}},
		{"umlauts folded", "Grüße aus MÜNCHEN", []string{"grusse", "aus", "munchen"}},
		{"repeats once", "no No NO no", []string{"no"}},
		{"letters and digits", "abc123 x9", []string{"abc123", "x9"}},
		{"no words", " -- !! ", nil},
		{"cut long word", long, []string{long[:maxTermBytes]}},
		{"combining mark of a Latin letter dropped", "cafe\u0301 ok", []string{"cafe", "ok"}},
		{"han run", "订单 查询", []string{"订单", "查询"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := terms(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("terms(%q)=%q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	got := parseQuery("Refund ORDER ord")
	want := []qterm{{"refund", false}, {"order", false}, {"ord", true}}
	if !slices.Equal(got, want) {
		t.Errorf("parseQuery=%v, want %v", got, want)
	}
	if got := parseQuery("order "); !slices.Equal(got, []qterm{{"order", false}}) {
		t.Errorf("parseQuery with a space after=%v, want the exact word", got)
	}
	if got := parseQuery("order?"); !slices.Equal(got, []qterm{{"order", false}}) {
		t.Errorf("parseQuery with punctuation after=%v, want the exact word", got)
	}
	if got := parseQuery("a b c d e f g h i j "); len(got) != maxQueryTerms || !got[len(got)-1].prefix {
		t.Errorf("parseQuery of 10 words=%v, want %d with the last a prefix", got, maxQueryTerms)
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here ", 20) + "the parcel arrived broken " + strings.Repeat("more text after ", 20)
	for _, tt := range []struct {
		name    string
		text    string
		q       []qterm
		want    string
		wantHL  [][2]int
		checkHL bool
	}{
		{"whole text", "Where is my order?", parseQuery("order"), "Where is my order?", [][2]int{{12, 17}}, true},
		{"rune offsets", "Grüße: Bestellung 42", parseQuery("bestellung"), "Grüße: Bestellung 42", [][2]int{{7, 17}}, true},
		{"prefix highlights the word", "Ordered twice, order once", parseQuery("ord"), "Ordered twice, order once", [][2]int{{0, 7}, {15, 20}}, true},
		{"several words", "refund for order 7", parseQuery("order refund"), "refund for order 7", [][2]int{{0, 6}, {11, 16}}, true},
		{"whitespace folded", "line one\n\n  line   two", parseQuery("two"), "line one line two", [][2]int{{14, 17}}, true},
		{"no match", "hello", parseQuery("zzz"), "hello", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, hl := snippet(tt.text, tt.q)
			if got != tt.want {
				t.Errorf("snippet=%q, want %q", got, tt.want)
			}
			if !slices.Equal(hl, tt.wantHL) {
				t.Errorf("highlights=%v, want %v", hl, tt.wantHL)
			}
		})
	}
	t.Run("cut around the match", func(t *testing.T) {
		got, hl := snippet(long, parseQuery("parcel"))
		if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") {
			t.Errorf("snippet=%q, want … at both ends", got)
		}
		if n := len([]rune(got)); n > snippetRunes+2 {
			t.Errorf("snippet has %d runes, want at most %d", n, snippetRunes+2)
		}
		if len(hl) != 1 {
			t.Fatalf("highlights=%v, want one", hl)
		}
		r := []rune(got)
		if w := string(r[hl[0][0]:hl[0][1]]); w != "parcel" {
			t.Errorf("highlighted %q, want parcel", w)
		}
	})
}

// searchFixture is a store with a few conversations in two inboxes, all
// indexed.
type searchFixture struct {
	db      *DB
	clk     *clock
	threads map[string]*parley.Thread
}

func newSearchFixture(t *testing.T) *searchFixture {
	t.Helper()
	clk := newClock()
	db := MustOpen(t, &Options{NoSync: true, Now: clk.Now, IndexInterval: time.Hour})
	f := &searchFixture{db: db, clk: clk, threads: map[string]*parley.Thread{}}
	ctx := t.Context()
	contact := func(first, last, email string) uint64 {
		c := &parley.Contact{FirstName: first, LastName: last, Email: email}
		if err := db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	alice := contact("Alice", "Liddell", "alice@example.com")
	bob := contact("Bob", "Builder", "bob@builder.io")
	carol := contact("Carol", "", "carol@other.org")
	anon, anon2 := contact("", "", ""), contact("", "", "")

	f.start(t, "alice", 1, parley.ChannelChat, alice, "", "Where is my order?")
	f.add(t, "alice", parley.TypeMessage, "It ships tomorrow, no worries.")
	f.start(t, "bob", 1, parley.ChannelEmail, bob, "Refund for order 1042", "I want a refund, the box was broken.")
	f.start(t, "carol", 2, parley.ChannelChat, carol, "", "My order never arrived.")
	f.start(t, "trashed", 1, parley.ChannelChat, anon, "", "Old order question.")
	f.start(t, "vip", 1, parley.ChannelChat, anon2, "", "Hello there.")
	f.add(t, "vip", parley.TypeComment, "Internal: VIP customer, be quick.")
	f.add(t, "alice", parley.TypeMessage, "Thanks!") // alice's thread is now the newest
	if _, err := db.UpdateThread(ctx, f.threads["trashed"].ID, func(th *parley.Thread) error { th.Archived = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateThread(ctx, f.threads["alice"].ID, func(th *parley.Thread) error { th.Status = parley.StatusClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	return f
}

func (f *searchFixture) start(t *testing.T, name string, inbox uint64, channel int, contact uint64, subject, text string) {
	t.Helper()
	f.clk.Add(time.Minute)
	res, err := f.db.AppendMessage(t.Context(), &parley.Message{Type: parley.TypeMessage, Text: text, SenderID: parley.ContactActorID(contact), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: inbox, ChannelID: channel, ChannelAccountID: 1, ContactID: contact, Subject: subject}})
	if err != nil {
		t.Fatal(err)
	}
	f.threads[name] = res.Thread
}

func (f *searchFixture) add(t *testing.T, name string, typ parley.MessageType, text string) *parley.Message {
	t.Helper()
	f.clk.Add(time.Minute)
	m := &parley.Message{ThreadID: f.threads[name].ID, Type: typ, Text: text, SenderID: "A-1", Direction: parley.Outgoing}
	if _, err := f.db.AppendMessage(t.Context(), m, parley.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *searchFixture) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := f.db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
}

// names returns the fixture names of the hits' threads.
func (f *searchFixture) names(hits []parley.SearchHit) []string {
	var out []string
	for _, h := range hits {
		for name, th := range f.threads {
			if th.ID == h.Thread.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

func TestSearch(t *testing.T) {
	f := newSearchFixture(t)
	inbox1 := []uint64{1}
	for _, tt := range []struct {
		name    string
		text    string
		inboxes []uint64
		want    []string
	}{
		{"word in messages, newest first; closed found", "order", inbox1, []string{"alice", "bob"}},
		{"case-insensitive", "ORDER", inbox1, []string{"alice", "bob"}},
		{"prefix of the last word", "ord", inbox1, []string{"alice", "bob"}},
		{"prefix does not apply to earlier words", "ord alice", inbox1, nil},
		{"all words must match", "alice refund", inbox1, nil},
		{"contact name and message", "alice order", inbox1, []string{"alice"}},
		{"contact email", "bob@builder.io", inbox1, []string{"bob"}},
		{"contact email domain", "builder", inbox1, []string{"bob"}},
		{"subject and message", "1042 broken", inbox1, []string{"bob"}},
		{"a later message of the thread", "worries", inbox1, []string{"alice"}},
		{"words spread over messages of one thread", "worries thanks", inbox1, []string{"alice"}},
		{"internal notes", "vip", inbox1, []string{"vip"}},
		{"visitor without name", "visitor", inbox1, []string{"vip"}},
		{"other inboxes never", "carol", inbox1, nil},
		{"other inboxes never, by text", "arrived", inbox1, nil},
		{"all inboxes", "order", nil, []string{"alice", "carol", "bob"}},
		{"no inboxes", "order", []uint64{}, nil},
		{"archived not found", "question", inbox1, nil},
		{"nothing", "zebra", inbox1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, cap := range []int{searchCap, 1} { // both plans: intersect lists, walk threads
				hits, more, err := f.db.Search(t.Context(), parley.SearchQuery{Text: tt.text, InboxIDs: tt.inboxes})
				if cap == 1 {
					hits, more, err = withSearchCap(f.db, 1, func() ([]parley.SearchHit, bool, error) {
						return f.db.Search(t.Context(), parley.SearchQuery{Text: tt.text, InboxIDs: tt.inboxes})
					})
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := f.names(hits); !slices.Equal(got, tt.want) {
					t.Errorf("cap %d: hits=%v, want %v", cap, got, tt.want)
				}
				if more {
					t.Errorf("cap %d: more=true, want false", cap)
				}
			}
		})
	}
}

// withSearchCap runs fn with db's searchCap set to n. Tests using it must
// not search db in parallel.
func withSearchCap(db *DB, n int, fn func() ([]parley.SearchHit, bool, error)) ([]parley.SearchHit, bool, error) {
	old := db.searchCap
	db.searchCap = n
	defer func() { db.searchCap = old }()
	return fn()
}

func TestSearch_Hits(t *testing.T) {
	f := newSearchFixture(t)
	for _, tt := range []struct {
		name, text  string
		field       string
		snippet     string
		highlighted []string
	}{
		{"message", "order", parley.SearchFieldMessage, "Where is my order?", []string{"order"}},
		{"message holding most words", "ships order", parley.SearchFieldMessage, "It ships tomorrow, no worries.", []string{"ships"}},
		{"subject", "1042", parley.SearchFieldSubject, "Refund for order 1042", []string{"1042"}},
		{"contact", "liddell", parley.SearchFieldContact, "Alice Liddell · alice@example.com", []string{"Liddell"}},
		{"note", "vip", parley.SearchFieldMessage, "Internal: VIP customer, be quick.", []string{"VIP"}},
		{"prefix", "quic", parley.SearchFieldMessage, "Internal: VIP customer, be quick.", []string{"quick"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hits, _, err := f.db.Search(t.Context(), parley.SearchQuery{Text: tt.text, InboxIDs: []uint64{1}})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 {
				t.Fatal("no hits")
			}
			h := hits[0]
			if h.Field != tt.field || h.Snippet != tt.snippet {
				t.Errorf("field=%q snippet=%q, want %q %q", h.Field, h.Snippet, tt.field, tt.snippet)
			}
			if (h.MessageID != 0) != (tt.field == parley.SearchFieldMessage) {
				t.Errorf("messageId=%d for field %s", h.MessageID, h.Field)
			}
			var got []string
			r := []rune(h.Snippet)
			for _, hl := range h.Highlights {
				got = append(got, string(r[hl[0]:hl[1]]))
			}
			if !slices.Equal(got, tt.highlighted) {
				t.Errorf("highlighted %q, want %q", got, tt.highlighted)
			}
		})
	}
}

func TestSearch_Errors(t *testing.T) {
	db := MustOpen(t, nil)
	for _, tt := range []struct {
		name string
		q    parley.SearchQuery
		code string
	}{
		{"empty", parley.SearchQuery{Text: ""}, parley.EINVALID},
		{"no words", parley.SearchQuery{Text: " ?! -- "}, parley.EINVALID},
		{"too long", parley.SearchQuery{Text: strings.Repeat("a", 257)}, parley.ETOOLARGE},
		{"bad utf-8", parley.SearchQuery{Text: "ab\xffcd"}, parley.EINVALID},
		{"unknown cursor", parley.SearchQuery{Text: "hello", After: 99}, parley.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.WaitIndexed(t.Context(), 0); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.Search(t.Context(), tt.q)
			wantCode(t, err, tt.code)
		})
	}
}

func TestSearch_RankingAndPaging(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	page := func(after uint64) ([]string, bool) {
		t.Helper()
		hits, more, err := f.db.Search(ctx, parley.SearchQuery{Text: "order", InboxIDs: []uint64{1, 2}, Limit: 1, After: after})
		if err != nil {
			t.Fatal(err)
		}
		return f.names(hits), more
	}
	// A new message moves bob's thread to the top, though it says nothing
	// of orders: hits rank by the thread's latest activity.
	f.add(t, "bob", parley.TypeMessage, "Any news?")
	f.wait(t)
	var got []string
	var after uint64
	for i := 0; i < 5; i++ {
		names, more := page(after)
		got = append(got, names...)
		if !more {
			break
		}
		after = f.threads[names[0]].ID
	}
	if want := []string{"bob", "alice", "carol"}; !slices.Equal(got, want) {
		t.Errorf("pages=%v, want %v", got, want)
	}
	// The same with the plan for common words.
	got, after = nil, 0
	for i := 0; i < 5; i++ {
		hits, more, err := withSearchCap(f.db, 1, func() ([]parley.SearchHit, bool, error) {
			return f.db.Search(ctx, parley.SearchQuery{Text: "order", InboxIDs: []uint64{1, 2}, Limit: 1, After: after})
		})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.names(hits)...)
		if !more {
			break
		}
		after = hits[0].Thread.ID
	}
	if want := []string{"bob", "alice", "carol"}; !slices.Equal(got, want) {
		t.Errorf("pages (walk)=%v, want %v", got, want)
	}
}

func TestSearch_Live(t *testing.T) {
	f := newSearchFixture(t)
	ctx := t.Context()
	search := func(text string) []string {
		t.Helper()
		hits, _, err := f.db.Search(ctx, parley.SearchQuery{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return f.names(hits)
	}

	t.Run("contact renamed", func(t *testing.T) {
		id := f.threads["bob"].ContactID
		if _, err := f.db.UpdateContact(ctx, id, func(c *parley.Contact) error {
			c.FirstName, c.Email = "Robert", "rob@builder.io"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f.wait(t)
		if got := search("robert"); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("new name: %v, want [bob]", got)
		}
		if got := search("bob"); got != nil {
			t.Errorf("old name: %v, want nothing", got)
		}
		if got := search("refund"); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("subject after rename: %v, want [bob]", got)
		}
	})
	t.Run("contact removed from thread", func(t *testing.T) {
		th := f.threads["alice"]
		if _, err := f.db.UpdateThread(ctx, th.ID, func(t *parley.Thread) error { t.ContactID = 0; return nil }); err != nil {
			t.Fatal(err)
		}
		// The indexer sees the change with the thread's next message (the
		// action records one).
		f.add(t, "alice", parley.TypeSystem, "")
		f.wait(t)
		if got := search("liddell"); got != nil {
			t.Errorf("after removing the contact: %v, want nothing", got)
		}
		if got := search("worries"); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("messages stay: %v, want [alice]", got)
		}
	})
	t.Run("thread deleted", func(t *testing.T) {
		id := f.threads["carol"].ID
		err := f.db.update(ctx, func(tx *bolt.Tx) error {
			th, err := threadTable().get(tx, id)
			if err != nil {
				return err
			}
			return deleteThread(tx, th, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := search("carol"); got != nil {
			t.Errorf("after delete: %v, want nothing", got)
		}
		f.db.view(func(tx *bolt.Tx) error {
			return eachPosting(tx, func(term string, thread uint64) {
				if thread == id {
					t.Errorf("posting %q of the deleted thread is left", term)
				}
			})
		})
	})
	checkSearchIndex(t, f.db)
}

// checkSearchIndex fails the test unless the inverted index and the
// threads' terms name each other exactly, and every thread in them exists.
func checkSearchIndex(t *testing.T, db *DB) {
	t.Helper()
	err := db.view(func(tx *bolt.Tx) error {
		threads := bucket(tx, bucketThreads)
		type posting struct {
			term   string
			thread uint64
		}
		docs, inv := map[posting]bool{}, map[posting]bool{}
		var prev posting
		err := eachDocTerm(tx, func(id uint64, e docTerm) {
			p := posting{e.term, id}
			if docs[p] {
				t.Errorf("thread %d has term %q twice", id, e.term)
			}
			if p.thread == prev.thread && p.term <= prev.term {
				t.Errorf("thread %d: term %q after %q", id, e.term, prev.term)
			}
			docs[p], prev = true, p
			if e.flags == 0 || e.flags > inText|inFields {
				t.Errorf("thread %d term %q: flags %d", id, e.term, e.flags)
			}
			if e.flags&inText != 0 && e.seq == 0 {
				t.Errorf("thread %d term %q: in the text, no seq", id, e.term)
			}
			if threads.Get(itob(id)) == nil {
				t.Errorf("term %q of thread %d, which does not exist", e.term, id)
			}
		})
		if err != nil {
			return err
		}
		if err := eachPosting(tx, func(term string, id uint64) {
			p := posting{term, id}
			if inv[p] {
				t.Errorf("posting %q → %d twice", term, id)
			}
			inv[p] = true
			if !docs[p] {
				t.Errorf("posting %q → %d without the thread's term", term, id)
			}
		}); err != nil {
			return err
		}
		for p := range docs {
			if !inv[p] {
				t.Errorf("thread %d has term %q, the inverted index does not", p.thread, p.term)
			}
		}
		n, m := len(docs), len(inv)
		if n != m {
			t.Errorf("%d thread terms, %d postings", n, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSearch_Rebuild(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	db, err := Open(dir, &Options{NoSync: true, IndexInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := range 30 {
		res, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: fmt.Sprintf("word%d shared", i), SenderID: "V-1"},
			parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 0}})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Message.ID
	}
	// Index part of it by hand, as if the process stopped there.
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	db.indexer.stop()
	if err := db.update(ctx, func(tx *bolt.Tx) error { return resetSearch(tx) }); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := db.indexBatch(ctx, indexSize{messages: 5, textBytes: 1 << 20, contacts: 10}); err != nil {
			t.Fatal(err)
		}
	}
	cursor := func(db *DB) (c uint64) {
		db.view(func(tx *bolt.Tx) error {
			c = btoi(bucket(tx, bucketSearchMeta).Get(keySearchCursor))
			return nil
		})
		return c
	}
	if c := cursor(db); c != 10 {
		t.Fatalf("cursor=%d after two batches of 5, want 10", c)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("resumes after a restart", func(t *testing.T) {
		db := MustOpenDir(t, dir, &Options{NoSync: true})
		if err := db.WaitIndexed(ctx, last); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"word3", "word17", "word29"} {
			hits, _, err := db.Search(ctx, parley.SearchQuery{Text: w})
			if err != nil || len(hits) != 1 {
				t.Errorf("search %s: %d hits, %v; want 1", w, len(hits), err)
			}
		}
		hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "shared", Limit: 100})
		if err != nil || len(hits) != 30 {
			t.Errorf("search shared: %d hits, %v; want 30", len(hits), err)
		}
		checkSearchIndex(t, db)
		db.Close()
	})
	t.Run("rebuilt when missing", func(t *testing.T) {
		bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		bdb.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucketSearchTerms)) })
		bdb.Close()
		db := MustOpenDir(t, dir, &Options{NoSync: true})
		if err := db.WaitIndexed(ctx, 0); err != nil {
			t.Fatal(err)
		}
		hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "word12"})
		if err != nil || len(hits) != 1 {
			t.Errorf("search after rebuild: %d hits, %v; want 1", len(hits), err)
		}
		checkSearchIndex(t, db)
	})
}

// searchCrashDirEnv names the data directory of TestSearchCrashChild.
const searchCrashDirEnv = "PARLEY_SEARCH_CRASH_DIR"

// TestSearchCrashChild is the process TestSearch_Crash kills: it appends
// messages, each with a word of its own, while the indexer runs, printing
// "ack <thread> <word>" per append and "indexed" once the index has caught
// up at least once. In a normal run it does nothing.
func TestSearchCrashChild(t *testing.T) {
	dir := os.Getenv(searchCrashDirEnv)
	if dir == "" {
		return
	}
	db, err := Open(dir, &Options{IndexInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := os.Stdout.WriteString(s + "\n"); err != nil {
			os.Exit(1)
		}
	}
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				word := fmt.Sprintf("w%dn%d", w, i)
				m := &parley.Message{Type: parley.TypeMessage, Text: "crash test " + word, SenderID: "V-1"}
				res, err := db.AppendMessage(t.Context(), m, parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				say(fmt.Sprintf("ack %d %s", res.Thread.ID, word))
				if i == 50 {
					if err := db.WaitIndexed(t.Context(), m.ID); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(1)
					}
					say("indexed")
				}
			}
		}()
	}
	select {}
}

// TestSearch_Crash kills a process that appends while its indexer runs and
// checks that the reopened store resumes indexing from the committed
// cursor: every acknowledged message is found by its word, and the index is
// consistent (no half-written batch, nothing twice).
func TestSearch_Crash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSearchCrashChild$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), searchCrashDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { cmd.Process.Kill() }) }
	t.Cleanup(kill)
	var timedOut atomic.Bool
	timer := time.AfterFunc(30*time.Second, func() { timedOut.Store(true); kill() })
	defer timer.Stop()

	type ack struct {
		thread uint64
		word   string
	}
	var acks []ack
	indexed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "indexed" {
			indexed = true
		}
		var a ack
		if _, err := fmt.Sscanf(line, "ack %d %s", &a.thread, &a.word); err == nil {
			acks = append(acks, a)
		}
		if indexed && len(acks) >= 1500 {
			kill()
		}
	}
	cmd.Wait()
	if timedOut.Load() || !indexed {
		t.Fatalf("%d acks, indexed=%v in 30s; child's stderr:\n%s", len(acks), indexed, stderr.String())
	}

	// Where did the killed indexer stop?
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var cursor, seq uint64
	bdb.View(func(tx *bolt.Tx) error {
		cursor = btoi(tx.Bucket([]byte(bucketSearchMeta)).Get(keySearchCursor))
		seq = tx.Bucket([]byte(bucketMessageIDs)).Sequence()
		return nil
	})
	bdb.Close()
	t.Logf("%d acks; the index stopped at message %d of %d", len(acks), cursor, seq)
	if cursor == 0 {
		t.Fatal("the child indexed nothing before it was killed")
	}

	db := MustOpenDir(t, dir, &Options{NoSync: true})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkSearchIndex(t, db)
	for _, a := range acks {
		hits, _, err := db.Search(ctx, parley.SearchQuery{Text: a.word + " "}) // the space: the whole word
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].Thread.ID != a.thread {
			t.Errorf("search %s: %d hits, want thread %d", a.word, len(hits), a.thread)
		}
	}
	// Index values hold each thread's newest message per term, once.
	db.view(func(tx *bolt.Tx) error {
		n := 0
		eachPosting(tx, func(term string, _ uint64) {
			if term == "crash" {
				n++
			}
		})
		if n < len(acks) {
			t.Errorf("%d threads have the word crash, want at least %d", n, len(acks))
		}
		return nil
	})
}
