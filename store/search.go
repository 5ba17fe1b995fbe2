package store

import (
	"bytes"
	"context"
	"slices"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// searchCap is how many threads of one word Search collects before it
// treats the word as common: it then checks the word in each thread it
// walks instead (see findThreads). DB.searchCap holds it; tests lower it.
const searchCap = 5000

// searchFilterMax is how many candidates findThreads checks for the common
// words before it ranks them, rather than walking.
const searchFilterMax = 2000

// Search finds the threads whose messages and internal notes, subject, or
// contact name and email hold every word of q.Text, open and closed, not
// archived, in the inboxes q allows. A word may match in any of those (a
// contact name and a message, say). Hits are ranked by recency, as the list
// sorts: latest message time descending, then thread id descending. It
// returns a page of hits and whether more follow.
//
// The index behind it is kept by a background indexer (see WaitIndexed), a
// moment behind the messages; a thread's access, archived state and order
// are always read as they are now. Text without any word is EINVALID, text
// over 256 bytes ETOOLARGE, an After that names no thread EINVALID.
func (db *DB) Search(ctx context.Context, q parley.SearchQuery) (hits []parley.SearchHit, more bool, err error) {
	if len(q.Text) > maxQueryBytes {
		return nil, false, parley.Errorf(parley.ETOOLARGE, "search text is %d bytes; the limit is %d", len(q.Text), maxQueryBytes)
	}
	if !utf8.ValidString(q.Text) {
		return nil, false, parley.Errorf(parley.EINVALID, "search text is not valid UTF-8")
	}
	qt := parseQuery(q.Text)
	if len(qt) == 0 {
		return nil, false, parley.Errorf(parley.EINVALID, "search text has no words")
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = parley.DefaultSearchLimit
	case limit > parley.MaxSearchLimit:
		limit = parley.MaxSearchLimit
	}
	hits = []parley.SearchHit{}
	if q.InboxIDs != nil && len(q.InboxIDs) == 0 {
		return hits, false, nil
	}
	err = db.view(func(tx *bolt.Tx) error {
		if !searchBucketsExist(tx) {
			return nil // not built yet
		}
		ids, err := findThreads(tx, qt, q.InboxIDs, q.After, limit+1, db.searchCap)
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids, more = ids[:limit], true
		}
		for _, id := range ids {
			t, err := threadTable().get(tx, id)
			if err != nil {
				return err
			}
			hit, err := makeHit(tx, t, qt)
			if err != nil {
				return err
			}
			hits = append(hits, hit)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return hits, more, nil
}

// postings are the threads of one query word: sorted, and complete unless
// there were more than the cap.
type postings struct {
	q        qterm
	ids      []uint64
	complete bool
}

// collectPostings reads up to wordCap threads of a query word from the
// inverted index. A prefix word gathers the threads of every term that
// starts with it (a thread may have several: "weber" and "weber42"), up to
// four times wordCap postings.
func collectPostings(tx *bolt.Tx, q qterm, wordCap int) postings {
	p := postings{q: q, complete: true}
	prefix := []byte(q.text)
	most := wordCap
	if q.prefix {
		most *= 4
	} else {
		prefix = append(prefix, 0)
	}
	c := bucket(tx, bucketSearchTerms).Cursor()
	var block []uint64
scan:
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if _, ok := postingTerm(k); !ok {
			continue
		}
		block, _ = decodePostings(block[:0], k, v) // a bad block yields what it could read
		for _, id := range block {
			if len(p.ids) == most {
				p.complete = false
				break scan
			}
			p.ids = append(p.ids, id)
		}
	}
	if q.prefix {
		slices.Sort(p.ids)
		p.ids = slices.Compact(p.ids)
	}
	return p
}

// hasTerm reports whether thread id has word q, by its own terms.
func hasTerm(docs *bolt.Bucket, id uint64, q qterm) bool {
	has := false
	docTermsFrom(docs, id, q.text, func(term []byte, _ byte, _ uint64) bool { // a bad block has no more terms
		has = q.matchesBytes(term)
		return false
	})
	return has
}

// findThreads returns up to n ids of threads that have every word of qt, are
// not archived and are in one of inboxes (nil: any), in the order of
// Search, after the thread after.
//
// The plan: read each word's threads up to wordCap (searchCap) and intersect the
// complete lists into candidates. Few candidates are ranked by reading their
// rows. Otherwise (many candidates, or only common words) the threads are
// walked newest first in thread_latest, whose rows answer access and order
// at once, and each is checked: against the candidates, then against the
// common words in its own terms, until the page is full. Common words thus
// fill a page after a short walk, and rare ones never walk.
func findThreads(tx *bolt.Tx, qt []qterm, inboxes []uint64, after uint64, n, wordCap int) ([]uint64, error) {
	allowed := func(r row) bool {
		if r.archived() {
			return false
		}
		if inboxes == nil {
			return true
		}
		return slices.Contains(inboxes, r.inbox())
	}
	threads := bucket(tx, bucketThreads)
	var afterKey []byte // (latest, id) of the cursor: results sort below it
	if after != 0 {
		v := threads.Get(itob(after))
		if v == nil {
			return nil, parley.Errorf(parley.EINVALID, "paging cursor: thread %d not found", after)
		}
		r, err := threadRow(after, v)
		if err != nil {
			return nil, err
		}
		afterKey = key2(r.latest(), after)
	}

	var cand []uint64 // sorted; nil: no word has a complete list
	var common []qterm
	for _, q := range qt {
		p := collectPostings(tx, q, wordCap)
		switch {
		case !p.complete:
			common = append(common, q)
			continue
		case cand == nil:
			cand = p.ids
		default:
			cand = intersect(cand, p.ids)
		}
		if len(cand) == 0 {
			return []uint64{}, nil // a word no thread has
		}
	}
	docs := bucket(tx, bucketSearchDocs)
	hasAll := func(id uint64) bool {
		for _, q := range common {
			if !hasTerm(docs, id, q) {
				return false
			}
		}
		return true
	}
	if cand != nil && len(common) > 0 && len(cand) <= searchFilterMax {
		// Check the common words on the candidates first: a bounded cost,
		// where walking for rare combinations might take long.
		kept := make([]uint64, 0, len(cand))
		for _, id := range cand {
			if hasAll(id) {
				kept = append(kept, id)
			}
		}
		if len(kept) == 0 {
			return []uint64{}, nil
		}
		cand, common = kept, nil
	}
	ids := []uint64{}

	// Reading a candidate's row costs a lookup, about ten steps of the walk;
	// the walk takes about n·threads/candidates steps to fill a page.
	if cand != nil && len(cand)*len(cand)*10 <= n*int(threads.Sequence()+1) {
		type ranked struct {
			key []byte // (latest, id)
			id  uint64
		}
		var found []ranked
		for _, id := range cand {
			v := threads.Get(itob(id))
			if v == nil {
				continue // deleted
			}
			r, err := threadRow(id, v)
			if err != nil {
				return nil, err
			}
			if !allowed(r) {
				continue
			}
			key := key2(r.latest(), id)
			if afterKey != nil && bytes.Compare(key, afterKey) >= 0 || !hasAll(id) {
				continue
			}
			found = append(found, ranked{key, id})
		}
		slices.SortFunc(found, func(a, b ranked) int { return bytes.Compare(b.key, a.key) })
		for _, f := range found[:min(n, len(found))] {
			ids = append(ids, f.id)
		}
		return ids, nil
	}

	c := bucket(tx, bucketThreadLatest).Cursor()
	var k, v []byte
	if afterKey == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(afterKey); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && len(ids) < n; k, v = c.Prev() {
		if len(k) != 16 || len(v) < rowLen || !allowed(row(v)) {
			continue
		}
		id := btoi(k[8:])
		if cand != nil {
			if _, ok := slices.BinarySearch(cand, id); !ok {
				continue
			}
		}
		if hasAll(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// intersect returns the ids in both sorted lists, in a new slice.
func intersect(a, b []uint64) []uint64 {
	out := make([]uint64, 0, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// snippetScan is how many of a thread's newest messages makeHit reads
// looking for the best one to quote.
const snippetScan = 8

// makeHit quotes what matched in thread t: the message or note holding most
// words of qt (the newest of those among its last snippetScan messages and
// the words' first mentions), or else the subject or the contact.
func makeHit(tx *bolt.Tx, t *parley.Thread, qt []qterm) (parley.SearchHit, error) {
	hit := parley.SearchHit{Thread: t}
	best := 0
	seen := map[uint64]bool{}
	consider := func(m *parley.Message) {
		if seen[m.ID] || m.Type != parley.TypeMessage && m.Type != parley.TypeComment {
			return
		}
		seen[m.ID] = true
		if n := countMatches(m.Text, qt); n > best || n == best && n > 0 && m.ID > hit.MessageID {
			best, hit.MessageID = n, m.ID
		}
	}
	msgs := bucket(tx, bucketMessages)
	scanned := uint64(0) // the messages from this seq on are considered
	for seq := t.LastSeq; seq > 0 && seq+snippetScan > t.LastSeq && best < len(qt); seq-- {
		scanned = seq
		m, err := threadMessage(msgs, t.ID, itob(seq))
		if err != nil {
			continue // not there (never for a thread as stored): quote another
		}
		consider(m)
	}
	if best < len(qt) {
		// The first mentions of the words, from the index.
		docs := bucket(tx, bucketSearchDocs)
		for _, q := range qt {
			var seqs []uint64
			err := docTermsFrom(docs, t.ID, q.text, func(term []byte, flags byte, seq uint64) bool {
				if !q.matchesBytes(term) {
					return false
				}
				if flags&inText != 0 && (scanned == 0 || seq < scanned) {
					seqs = append(seqs, seq)
				}
				return q.prefix
			})
			if err != nil {
				return hit, err
			}
			for _, seq := range seqs {
				if m, err := threadMessage(msgs, t.ID, itob(seq)); err == nil {
					consider(m) // or gone with its thread meanwhile: quote another
				}
			}
		}
	}
	if hit.MessageID != 0 {
		m, err := getMessage(tx, hit.MessageID)
		if err != nil {
			return hit, err
		}
		hit.Field = parley.SearchFieldMessage
		hit.Snippet, hit.Highlights = snippet(m.Text, qt)
		return hit, nil
	}
	if s, hl := snippet(t.Subject, qt); len(hl) > 0 {
		hit.Field, hit.Snippet, hit.Highlights = parley.SearchFieldSubject, s, hl
		return hit, nil
	}
	if t.ContactID != 0 {
		c, err := contactTable().get(tx, t.ContactID)
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			return hit, err
		}
		if c != nil {
			text := c.DisplayName()
			if c.Email != "" && c.Email != text {
				text += " · " + c.Email
			}
			if c.UnverifiedEmail != "" {
				text += " · " + c.UnverifiedEmail
			}
			hit.Field = parley.SearchFieldContact
			hit.Snippet, hit.Highlights = snippet(text, qt)
			return hit, nil
		}
	}
	// The index is a moment behind a change: quote the subject.
	hit.Field = parley.SearchFieldSubject
	hit.Snippet, hit.Highlights = snippet(t.Subject, qt)
	return hit, nil
}

// countMatches returns how many words of qt some word of text matches.
func countMatches(text string, qt []qterm) int {
	matched := make([]bool, len(qt))
	n := 0
	eachWord(text, func(t, alt string, _, _ int) {
		for i, q := range qt {
			if !matched[i] && q.matchesWord(t, alt) {
				matched[i] = true
				n++
			}
		}
	})
	return n
}
