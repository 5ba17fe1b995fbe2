package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// TestPostingBlocks adds and removes threads of a few terms in random
// order, batch by batch, and checks after each batch that the blocks hold
// exactly the threads a plain set holds, each block within its size and
// keyed by its first thread.
func TestPostingBlocks(t *testing.T) {
	db := MustOpen(t, &Options{NoSync: true})
	db.indexer.stop()
	r := rand.New(rand.NewPCG(7, 8))
	terms := []string{"a", "ab", "abc", "the", "zz"}
	want := map[string]map[uint64]bool{}
	for _, term := range terms {
		want[term] = map[uint64]bool{}
	}
	for batch := range 40 {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := bucket(tx, bucketSearchTerms)
			for _, term := range terms {
				var ids []uint64
				for range r.IntN(300) {
					// Mostly new threads at the end, some old ones anywhere.
					id := uint64(batch*200 + r.IntN(200) + 1)
					if r.IntN(4) == 0 {
						id = uint64(r.IntN(batch*200+200) + 1)
					}
					ids = append(ids, id)
					want[term][id] = true
				}
				slices.Sort(ids)
				if err := addPostings(b, term, slices.Compact(ids)); err != nil {
					return err
				}
				for range r.IntN(40) {
					id := uint64(r.IntN(batch*200+200) + 1)
					delete(want[term], id)
					if err := removePosting(b, term, id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]uint64{}
		db.bolt.View(func(tx *bolt.Tx) error {
			c := bucket(tx, bucketSearchTerms).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(v) > postingBlockBytes {
					t.Fatalf("batch %d: block %q holds %d bytes", batch, k, len(v))
				}
				term, _ := postingTerm(k)
				ids, err := decodePostings(nil, k, v)
				if err != nil {
					t.Fatalf("batch %d: block %q: %v", batch, k, err)
				}
				got[term] = append(got[term], ids...)
			}
			return nil
		})
		for _, term := range terms {
			w := slices.Sorted(func(yield func(uint64) bool) {
				for id := range want[term] {
					if !yield(id) {
						return
					}
				}
			})
			if !slices.Equal(got[term], w) {
				t.Fatalf("batch %d: term %q has %d threads, want %d", batch, term, len(got[term]), len(w))
			}
		}
	}
}

// TestDocBlocks gives a thread terms enough for many blocks, changes and
// removes some, and reads them back whole and from any term on.
func TestDocBlocks(t *testing.T) {
	db := MustOpen(t, &Options{NoSync: true})
	db.indexer.stop()
	r := rand.New(rand.NewPCG(9, 10))
	want := map[string]docTerm{}
	for round := range 10 {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := bucket(tx, bucketSearchDocs)
			d, err := loadDoc(b, 42)
			if err != nil {
				return err
			}
			for range 200 {
				term := fmt.Sprintf("%c%c%d", 'a'+r.IntN(26), 'a'+r.IntN(3), r.IntN(1000))
				e := docTerm{term: term, flags: byte(1 + r.IntN(3)), seq: uint64(r.IntN(100000))}
				if r.IntN(5) == 0 {
					d.remove(term)
					delete(want, term)
					continue
				}
				d.set(e)
				want[term] = e
			}
			if err := d.write(b); err != nil {
				return err
			}
			// A neighbour, which must keep its own terms.
			other, err := loadDoc(b, 43)
			if err != nil {
				return err
			}
			other.set(docTerm{term: "zzz", flags: inFields})
			return other.write(b)
		})
		if err != nil {
			t.Fatal(err)
		}
		db.bolt.View(func(tx *bolt.Tx) error {
			b := bucket(tx, bucketSearchDocs)
			d, err := loadDoc(b, 42)
			if err != nil {
				t.Fatal(err)
			}
			var got []docTerm
			for _, bl := range d.blocks {
				if string(bl.key[8:]) != bl.terms[0].term {
					t.Errorf("round %d: block %q starts with %q", round, bl.key[8:], bl.terms[0].term)
				}
				got = append(got, bl.terms...)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			})
			if len(got) != len(keys) {
				t.Fatalf("round %d: %d terms, want %d", round, len(got), len(keys))
			}
			for i, k := range keys {
				if got[i] != want[k] {
					t.Fatalf("round %d: term %d is %+v, want %+v", round, i, got[i], want[k])
				}
			}
			if round == 9 && len(d.blocks) < 5 {
				t.Errorf("%d blocks: the test wants many", len(d.blocks))
			}
			// From any word on, as hasTerm and makeHit read.
			for _, from := range []string{"", "a", "m", "mb5", keys[len(keys)/2], keys[len(keys)-1], "zz"} {
				i, _ := slices.BinarySearch(keys, from)
				var seen []string
				docTermsFrom(b, 42, from, func(term []byte, _ byte, _ uint64) bool {
					seen = append(seen, string(term))
					return len(seen) < 3
				})
				if w := keys[i:min(i+3, len(keys))]; !slices.Equal(seen, w) {
					t.Errorf("round %d: from %q: %v, want %v", round, from, seen, w)
				}
			}
			if !hasTerm(b, 43, qterm{text: "zz", prefix: true}) || hasTerm(b, 42, qterm{text: "zzz"}) {
				t.Error("thread 43's term leaks into thread 42, or is lost")
			}
			return nil
		})
	}
}

// TestSearchLongThread searches a thread whose terms fill many blocks: each
// word is found, by itself and by its prefix, and the snippet quotes the
// message that has it; the thread's deletion leaves no block.
func TestSearchLongThread(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, &Options{NoSync: true})
	var words []string
	for i := range 600 {
		words = append(words, fmt.Sprintf("w%03dx%s", i, strings.Repeat("q", i%7)))
	}
	th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: 1}
	if err := db.CreateThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(words); i += 20 {
		m := &parley.Message{ThreadID: th.ID, Type: parley.TypeMessage, Text: strings.Join(words[i:i+20], " "), SenderID: "V-1"}
		if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for i, w := range words {
		if i%37 != 0 && i != len(words)-1 {
			continue
		}
		for _, q := range []string{w + " ", w[:4]} {
			hits, _, err := db.Search(ctx, parley.SearchQuery{Text: q})
			if err != nil || len(hits) != 1 {
				t.Fatalf("search %q: %v, %v", q, hits, err)
			}
			if q == w+" " && !strings.Contains(hits[0].Snippet, w) {
				t.Errorf("search %q quotes %q", q, hits[0].Snippet)
			}
		}
	}
	if hits, _, err := db.Search(ctx, parley.SearchQuery{Text: words[0] + " " + words[len(words)-1]}); err != nil || len(hits) != 1 {
		t.Errorf("two words from the first and the last block: %v, %v", hits, err)
	}
	checkSearchIndex(t, db)
	err := db.update(ctx, func(tx *bolt.Tx) error {
		th, err := threadTable().get(tx, th.ID)
		if err != nil {
			return err
		}
		return deleteThread(tx, th, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	db.view(func(tx *bolt.Tx) error {
		for _, name := range []string{bucketSearchDocs, bucketSearchTerms} {
			if k, _ := bucket(tx, name).Cursor().First(); k != nil {
				t.Errorf("%s keeps %q after the thread's deletion", name, k)
			}
		}
		return nil
	})
}

// FuzzSearchBlocks reads back the blocks it writes, whatever the terms, and
// decodes any bytes (a damaged file) without panicking.
//
//	go test -fuzz FuzzSearchBlocks -fuzztime 30s ./store/
func FuzzSearchBlocks(f *testing.F) {
	f.Add("alpha beta gamma", uint64(3), []byte{1, 2, 3})
	f.Add("ü ünd und", uint64(1<<40), []byte{0, 5, 'x', 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, text string, seq uint64, raw []byte) {
		key := append(itob(7), "term"...)
		decodePostings(nil, postingKey("term", 1), raw) // must not panic
		decodeDocBlock(nil, key, raw)
		seq &= 1<<62 - 1
		var want []docTerm
		for _, term := range slices.Compact(slices.Sorted(slices.Values(strings.Fields(text)))) {
			want = append(want, docTerm{term: term, flags: byte(1 + len(term)%3), seq: seq})
		}
		if len(want) == 0 {
			return
		}
		db := MustOpen(t, &Options{NoSync: true})
		db.indexer.stop()
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			return putDocBlocks(bucket(tx, bucketSearchDocs), 7, want)
		})
		if err != nil {
			t.Fatal(err)
		}
		db.bolt.View(func(tx *bolt.Tx) error {
			d, err := loadDoc(bucket(tx, bucketSearchDocs), 7)
			if err != nil {
				t.Fatal(err)
			}
			var got []docTerm
			d.each(func(e docTerm) { got = append(got, e) })
			if !slices.Equal(got, want) {
				t.Fatalf("read back %+v, want %+v", got, want)
			}
			return nil
		})
	})
}
