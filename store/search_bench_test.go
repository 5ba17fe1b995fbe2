package store

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// The search benchmark's data: a million messages (or -search.messages) in
// a tenth as many conversations of four inboxes, written in a few large
// transactions and indexed, then kept in os.TempDir() for the next run.
// Delete the directory (its name carries a version and the size) to build
// it again; a fixture that no longer opens or answers is rebuilt by itself.
const (
	benchInboxes = 4
	benchFixture = 2 // bump when the data or its generator changes
)

// benchSize is the number of messages in the search benchmark's fixture. A
// smaller one makes a quick run: -search.messages 20000.
var benchSize = flag.Int("search.messages", 1_000_000, "messages in BenchmarkSearch's fixture, in a tenth as many conversations")

func benchMessages() int { return max(*benchSize, 100) }
func benchThreads() int  { return benchMessages() / 10 }

// benchQueries are what agents type: names, emails, order numbers, words
// rare and common, two and three words, unfinished words.
var benchQueries = []string{
	"refund", "order", "password reset", "delivery broken", "invoice",
	"müller", "schmidt", "garcia lopez", "anna", "jonas.weber",
	"ord", "refu", "deliv", "pass", "tracking num",
	"104", "#104233", "order 5512", "kovalo", "tamiru",
	"the", "hello thanks", "damaged package", "cannot login", "subscription cancel",
	"nuvelo", "sotraki", "bemanu lirot", "qu", "account email change",
}

// benchCommon are the vocabulary's most frequent words, in rank order; the
// rest are made-up words from syllables, so that the tail is long.
var benchCommon = strings.Fields(`the i to and a my you is it for of in have this
	on can be with order not that me we your please are was thanks hello hi help
	but do at if what when how get has from will just need an there so would
	delivery refund account password invoice payment shipping package email
	tracking number received still problem issue question cancel subscription
	reset login cannot change address broken damaged wrong item price discount
	code week yesterday today tomorrow again already back soon time days
	support customer service team product size colour return exchange`)

var benchSyllables = strings.Fields(`ka lo mi nu se ra te vo li pa do ne si ro ma
	ku be ta no zi qu ri sa le mo fi tu ga de bo na ve lu ho ji so wa ke pi`)

var benchFirst = strings.Fields(`Anna Jonas Maria Lukas Sofia Elias Mia Noah Emma Ben
	Lea Paul Clara Felix Lina Leon Julia Max Laura David Sara Tom Nina Jan Eva
	Omar Aisha Chen Yuki Ivan Olga Pedro Lucia Kofi Amara`)

var benchLast = strings.Fields(`Müller Schmidt Schneider Fischer Weber Meyer Wagner
	Becker Schulz Hoffmann Koch Richter Klein Wolf Garcia Lopez Martin Bernard
	Rossi Russo Nowak Kowalski Smith Jones Brown Taylor Wilson Tamiru Okafor
	Sato Tanaka Ivanova Petrov Silva Santos Haddad Kaya Yilmaz Nielsen Berg`)

// benchVocabulary returns the common words followed by made-up ones, n in all.
func benchVocabulary(r *rand.Rand, n int) []string {
	words := slices.Clone(benchCommon)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	for len(words) < n {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(benchSyllables[r.IntN(len(benchSyllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// benchDB opens the cached fixture, building it first if needed.
func benchDB(b *testing.B) *DB {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-bench-search-v%d-s%d-r%d-m%d", benchFixture, searchVersion, rowLen, benchMessages()))
	if db, err := Open(dir, &Options{NoSync: true, IndexInterval: time.Hour}); err == nil {
		ok := false
		var n uint64
		db.view(func(tx *bolt.Tx) error {
			n = bucket(tx, bucketMessageIDs).Sequence()
			return nil
		})
		if n == uint64(benchMessages()) {
			hits, _, err := db.Search(b.Context(), parley.SearchQuery{Text: "refund"})
			ok = err == nil && len(hits) > 0
		}
		if ok {
			b.Cleanup(func() { db.Close() })
			return db
		}
		db.Close()
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tmp := dir + ".building"
	os.RemoveAll(tmp)
	if err := buildSearchFixture(tmp); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	b.Logf("built the fixture in %s: %s", time.Since(start).Round(time.Second), dir)
	db, err := Open(dir, &Options{NoSync: true, IndexInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// buildSearchFixture writes the benchmark's conversations into a new store
// in dir and indexes them, each in large transactions of its own.
func buildSearchFixture(dir string) error {
	db, err := Open(dir, &Options{NoSync: true, IndexInterval: time.Hour})
	if err != nil {
		return err
	}
	defer db.Close()
	db.indexer.stop() // the fixture indexes in large batches of its own
	r := rand.New(rand.NewPCG(1, 2))
	vocab := benchVocabulary(r, 30000)
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.07, 2, uint64(len(vocab)-1))

	// Every thread's messages at times of its own, written thread after
	// thread: message ids then run through the threads in order, so that
	// both the writes and the indexing append more than they insert.
	type msg struct {
		thread int32
		at     int64 // seconds after t0
	}
	msgs := make([]msg, 0, benchMessages())
	counts := make([]int, benchThreads())
	for i := range benchThreads() {
		counts[i] = 1
	}
	for left := benchMessages() - benchThreads(); left > 0; left-- {
		counts[r.IntN(benchThreads())]++
	}
	span := int64(365 * 24 * 3600)
	for th, n := range counts {
		at := r.Int64N(span)
		for range n {
			msgs = append(msgs, msg{int32(th), at})
			at += 30 + r.Int64N(3*3600)
		}
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	text := func() string {
		var sb strings.Builder
		for i := range 6 + r.IntN(24) {
			if i > 0 {
				sb.WriteByte(' ')
			}
			if r.IntN(60) == 0 {
				fmt.Fprintf(&sb, "#%d", 100000+r.IntN(900000))
				continue
			}
			sb.WriteString(vocab[zipf.Uint64()])
		}
		sb.WriteByte('.')
		return sb.String()
	}

	threadIDs := make([]uint64, benchThreads())
	contacts := make([]uint64, benchThreads())
	const perTx = 50000
	for i := 0; i < len(msgs); {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for end := min(i+perTx, len(msgs)); i < end; i++ {
				m := msgs[i]
				at := t0.Add(time.Duration(m.at) * time.Second)
				th := int(m.thread)
				var nt parley.Thread
				if threadIDs[th] == 0 {
					first, last := benchFirst[r.IntN(len(benchFirst))], benchLast[r.IntN(len(benchLast))]
					c := &parley.Contact{FirstName: first, LastName: last, CreatedAt: at, UpdatedAt: at,
						Email: strings.ToLower(fmt.Sprintf("%s.%s%d@example.com", first, strings.ReplaceAll(last, "ü", "ue"), th))}
					if err := contactTable().insert(tx, c, at); err != nil {
						return err
					}
					contacts[th] = c.ID
					nt = parley.Thread{InboxID: uint64(1 + th%benchInboxes), ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: c.ID}
					if th%3 == 0 {
						nt.ChannelID, nt.ChannelAccountID = parley.ChannelEmail, 0
						nt.Subject = text()
					}
				}
				pm := parley.Message{ThreadID: threadIDs[th], Type: parley.TypeMessage, Text: text(), CreatedAt: at,
					SenderID: parley.ContactActorID(contacts[th]), Direction: parley.Incoming}
				if r.IntN(2) == 0 {
					pm.SenderID, pm.Direction = "A-1", parley.Outgoing
				}
				res, err := appendMessage(tx, pm, nt, nil, at)
				if err != nil {
					return err
				}
				threadIDs[th] = res.Thread.ID
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for {
		var w *indexWork
		err := db.bolt.Update(func(tx *bolt.Tx) (err error) {
			// Large batches are cheap here because the ids run through the
			// threads in order. (Batches of messages spread over every
			// thread insert all over bbolt's in-memory nodes, which split
			// only at commit: far slower.)
			size := indexSize{messages: 50000, textBytes: 1 << 30, contacts: 1000}
			if w, err = readIndexWork(tx, size); err != nil {
				return err
			}
			_, err = applyIndexWork(tx, w, size)
			return err
		})
		if err != nil {
			return err
		}
		if !w.reset && w.to >= uint64(benchMessages()) {
			break
		}
	}
	return nil
}

// naiveSearch is the baseline: walk the threads newest first, read each
// one's contact and messages and compare lower-cased text, until the page is
// full.
func naiveSearch(db *DB, text string, inboxes []uint64, limit int) ([]uint64, error) {
	words := terms(text)
	var ids []uint64
	err := db.view(func(tx *bolt.Tx) error {
		msgs := bucket(tx, bucketMessages)
		c := bucket(tx, bucketThreadLatest).Cursor()
		for k, v := c.Last(); k != nil && len(ids) < limit; k, v = c.Prev() {
			r := row(v)
			if r.archived() || !slices.Contains(inboxes, r.inbox()) {
				continue
			}
			id := btoi(k[8:])
			t, err := threadTable().get(tx, id)
			if err != nil {
				return err
			}
			var sb strings.Builder
			sb.WriteString(t.Subject)
			if ct, err := contactTable().get(tx, t.ContactID); err == nil {
				sb.WriteString(" " + ct.FirstName + " " + ct.LastName + " " + ct.Email)
			}
			prefix := itob(id)
			mc := msgs.Cursor()
			for mk, mv := mc.Seek(prefix); mk != nil && bytes.HasPrefix(mk, prefix); mk, mv = mc.Next() {
				if _, ok := messageSeq(mk, id); !ok {
					continue
				}
				m, err := decodeMessage(mk, mv)
				if err != nil {
					return err
				}
				sb.WriteString(" " + m.Text)
			}
			all := foldText(sb.String())
			ok := true
			for _, w := range words {
				if !strings.Contains(all, w) {
					ok = false
					break
				}
			}
			if ok {
				ids = append(ids, id)
			}
		}
		return nil
	})
	return ids, err
}

// BenchmarkSearch measures search over a million messages as an agent who
// is a member of two of the four inboxes: the indexed Search for every query
// of benchQueries per iteration, and once per query the naive scan. It
// reports the p50 and p99 latency of each and the ratio of their medians.
//
//	go test -run '^$' -bench 'BenchmarkSearch$' -benchtime 20x -timeout 30m ./store/
//
// The first run builds the fixture (a few minutes) and keeps it in
// os.TempDir() for the next. A quick run on a small fixture:
//
//	go test -run '^$' -bench 'BenchmarkSearch$' -benchtime 5x ./store/ -search.messages 20000
func BenchmarkSearch(b *testing.B) {
	db := benchDB(b)
	ctx := b.Context()
	inboxes := []uint64{1, 2}
	for _, q := range benchQueries { // warm the page cache: measure steady state
		if _, _, err := db.Search(ctx, parley.SearchQuery{Text: q, InboxIDs: inboxes, Limit: 20}); err != nil {
			b.Fatal(err)
		}
	}
	var indexed []time.Duration
	hits := 0
	b.ResetTimer()
	for b.Loop() {
		for _, q := range benchQueries {
			start := time.Now()
			res, _, err := db.Search(ctx, parley.SearchQuery{Text: q, InboxIDs: inboxes, Limit: 20})
			indexed = append(indexed, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			hits += len(res)
		}
	}
	b.StopTimer()
	var naive []time.Duration
	for _, q := range benchQueries {
		start := time.Now()
		if _, err := naiveSearch(db, q, inboxes, 20); err != nil {
			b.Fatal(err)
		}
		naive = append(naive, time.Since(start))
	}
	ip50, ip99 := percentile(indexed, 50), percentile(indexed, 99)
	np50, np99 := percentile(naive, 50), percentile(naive, 99)
	b.ReportMetric(ms(ip50), "p50-ms")
	b.ReportMetric(ms(ip99), "p99-ms")
	b.ReportMetric(ms(np50), "naive-p50-ms")
	b.ReportMetric(ms(np99), "naive-p99-ms")
	b.ReportMetric(float64(np50)/float64(ip50), "p50-speedup")
	b.ReportMetric(float64(np99)/float64(ip99), "p99-speedup")
	b.ReportMetric(float64(hits)/float64(len(indexed)), "hits/query")
	if testing.Verbose() {
		for i, q := range benchQueries {
			var ts []time.Duration
			for j := i; j < len(indexed); j += len(benchQueries) {
				ts = append(ts, indexed[j])
			}
			b.Logf("%-22q indexed p50 %7.3f ms  max %7.3f ms  naive %8.1f ms", q, ms(percentile(ts, 50)), ms(percentile(ts, 100)), ms(naive[i]))
		}
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkAppendWhileIndexing is BenchmarkAppend's group commit with real
// fsync, with the search indexer stopped and running, to show what indexing
// costs the write path. It reports appends per second, appends per commit,
// and how long after the last append the index had caught up.
//
//	go test -run '^$' -bench BenchmarkAppendWhileIndexing -benchtime 20000x ./store/
func BenchmarkAppendWhileIndexing(b *testing.B) {
	for _, indexing := range []bool{false, true} {
		name := "indexer-stopped"
		if indexing {
			name = "indexer-running"
		}
		b.Run(name, func(b *testing.B) {
			ctx := b.Context()
			db := MustOpen(b, &Options{})
			if !indexing {
				db.indexer.stop()
			}
			r := rand.New(rand.NewPCG(5, 6))
			vocab := benchVocabulary(r, 30000)
			const threads = 64
			var ids [threads]uint64
			for i := range ids {
				th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 1, ContactID: uint64(i + 1)}
				if err := db.CreateThread(ctx, th); err != nil {
					b.Fatal(err)
				}
				ids[i] = th.ID
			}
			texts := make([]string, 4096)
			zipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
			for i := range texts {
				var sb strings.Builder
				for j := range 6 + r.IntN(24) {
					if j > 0 {
						sb.WriteByte(' ')
					}
					sb.WriteString(vocab[zipf.Uint64()])
				}
				texts[i] = sb.String()
			}
			commits, written := db.commits.Load(), db.written.Load()
			var n atomic.Uint64
			b.SetParallelism(64)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					m := &parley.Message{ThreadID: ids[i%threads], Type: parley.TypeMessage, Direction: parley.Incoming,
						Text: texts[i%uint64(len(texts))], SenderID: parley.ContactActorID(i%threads + 1)}
					if _, err := db.AppendMessage(ctx, m, parley.AppendOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(db.written.Load()-written)/float64(db.commits.Load()-commits), "writes/commit")
			if indexing {
				start := time.Now()
				if err := db.WaitIndexed(ctx, 0); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(ms(time.Since(start)), "catch-up-ms")
			}
		})
	}
}
