package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// The search index (I2) is kept by a background indexer, never by the
// writes it indexes: an append stays one message and a few pages, and the
// indexer catches up in large transactions of its own (see the package
// documentation, "Search").

// Buckets of the search index. The index is a cache of what the messages,
// threads and contacts say: it can be dropped and rebuilt at any time.
const (
	bucketSearchMeta     = "search_meta"     // version, cursor
	bucketSearchTerms    = "search_terms"    // term ‖ 0x00 ‖ first thread → threads: the inverted index, in blocks (search_blocks.go)
	bucketSearchDocs     = "search_docs"     // thread ‖ first term → terms, flags, first seqs: each thread's terms, in blocks
	bucketSearchThreads  = "search_threads"  // thread → contact ‖ hash of the indexed fields
	bucketSearchContacts = "search_contacts" // contact ‖ thread → empty: threads whose fields name the contact
	bucketSearchDirty    = "search_dirty"    // contact → empty: name or email changed since indexed
)

// searchBuckets lists the buckets of the search index.
func searchBuckets() []string {
	return []string{bucketSearchMeta, bucketSearchTerms, bucketSearchDocs, bucketSearchThreads, bucketSearchContacts, bucketSearchDirty}
}

// searchVersion is the format of the index. A file whose index has another
// version (or none) has its index dropped and rebuilt from the messages.
// Version 2 folds diacritics (search_fold.go): an index of version 1 holds
// "müller" where queries now look for "muller", so it is rebuilt. Version 3
// keeps both buckets in blocks (search_blocks.go) and a term's first message
// by its seq.
const searchVersion = 3

// Keys of bucket search_meta.
var (
	keySearchVersion = []byte("version") // big-endian uint64
	keySearchCursor  = []byte("cursor")  // big-endian uint64: every message id up to it is indexed
)

// Flags of a thread's term in search_docs: where the thread has it.
const (
	inText   = 1 // in the text of a message or note; its entry then has the first such message's seq
	inFields = 2 // in the thread's subject or its contact's name or email
)

// indexSize bounds the work of one index transaction, so that the writes it
// shares the writer with wait for it only briefly.
type indexSize struct {
	messages  int // messages read
	textBytes int // bytes of text read
	contacts  int // changed contacts handled
}

var defaultIndexSize = indexSize{messages: 500, textBytes: 512 << 10, contacts: 100}

// indexWork is what one index transaction writes: gathered from the
// messages in a read transaction, outside the writer, and applied in a
// write transaction.
type indexWork struct {
	reset   bool                         // the index has another version or none: rebuild it
	from    uint64                       // the cursor it continues from
	to      uint64                       // the cursor once applied
	threads []uint64                     // threads with new messages, in order of first appearance
	text    map[uint64]map[string]uint64 // thread → term → seq of the first message with it
}

// readIndexWork gathers the next messages to index after the stored cursor.
func readIndexWork(tx *bolt.Tx, size indexSize) (*indexWork, error) {
	meta := tx.Bucket([]byte(bucketSearchMeta))
	if meta == nil || !searchBucketsExist(tx) {
		return &indexWork{reset: true}, nil
	}
	if v := meta.Get(keySearchVersion); len(v) != 8 || btoi(v) != searchVersion {
		return &indexWork{reset: true}, nil
	}
	w := &indexWork{text: map[uint64]map[string]uint64{}}
	if v := meta.Get(keySearchCursor); len(v) == 8 {
		w.from = btoi(v)
	}
	w.to = w.from
	ids := bucket(tx, bucketMessageIDs)
	c := ids.Cursor()
	n, textBytes := 0, 0
	k, _ := c.Seek(itob(w.from + 1))
	for ; k != nil && n < size.messages && textBytes < size.textBytes; k, _ = c.Next() {
		id := btoi(k)
		m, err := getMessage(tx, id)
		if err != nil {
			return nil, fmt.Errorf("index message %d: %w", id, err)
		}
		w.to = id
		n++
		if m.Type != parley.TypeMessage && m.Type != parley.TypeComment {
			// Other messages are not searched, but their thread may have
			// changed (a contact removed): its fields are checked.
			if _, ok := w.text[m.ThreadID]; !ok {
				w.text[m.ThreadID] = map[string]uint64{}
				w.threads = append(w.threads, m.ThreadID)
			}
			continue
		}
		textBytes += len(m.Text)
		doc := w.text[m.ThreadID]
		if doc == nil {
			doc = map[string]uint64{}
			w.text[m.ThreadID] = doc
			w.threads = append(w.threads, m.ThreadID)
		}
		eachWord(m.Text, func(t, alt string, _, _ int) {
			if _, ok := doc[t]; !ok {
				doc[t] = m.Seq
			}
			if _, ok := doc[alt]; !ok && alt != "" {
				doc[alt] = m.Seq
			}
		})
	}
	if k == nil {
		// Every id up to the sequence has been seen: ids of messages
		// deleted with their thread are never read, and the cursor still
		// passes them.
		w.to = max(w.to, ids.Sequence())
	}
	return w, nil
}

// prepareSearch starts an empty index at the current version if the file
// has none, or one of another version, before the store takes writes: the
// indexer then fills it in the background. (The indexer resets it too, if it
// goes missing later.)
func prepareSearch(bdb *bolt.DB) error {
	ready := false
	err := bdb.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketSearchMeta))
		if meta != nil && searchBucketsExist(tx) {
			v := meta.Get(keySearchVersion)
			ready = len(v) == 8 && btoi(v) == searchVersion
		}
		return nil
	})
	if err != nil || ready {
		return err
	}
	if err := bdb.Update(resetSearch); err != nil {
		return fmt.Errorf("reset the search index: %w", err)
	}
	return nil
}

func searchBucketsExist(tx *bolt.Tx) bool {
	for _, name := range searchBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return false
		}
	}
	return true
}

// empty reports whether applying w changes nothing but, maybe, the cursor.
func (w *indexWork) empty() bool { return !w.reset && len(w.threads) == 0 }

// applyIndexWork writes w: the new messages' terms, the fields of their
// threads, and up to size.contacts changed contacts. It reports whether
// changed contacts are left. The cursor moves in the same transaction, so a
// crash resumes where the last commit stopped.
func applyIndexWork(tx *bolt.Tx, w *indexWork, size indexSize) (dirtyLeft bool, err error) {
	if w.reset {
		return true, resetSearch(tx)
	}
	meta := bucket(tx, bucketSearchMeta)
	var cursor uint64
	if v := meta.Get(keySearchCursor); len(v) == 8 {
		cursor = btoi(v)
	}
	if cursor != w.from {
		return false, errIndexMoved
	}
	iw := newIndexWriter(tx)
	threads := threadTable()
	for _, id := range slices.Sorted(slices.Values(w.threads)) { // in key order: see indexWriter
		if bucket(tx, bucketThreads).Get(itob(id)) == nil {
			continue // deleted since: its postings went with it
		}
		t, err := threads.get(tx, id)
		if err != nil {
			return false, err
		}
		if err := iw.indexFields(t); err != nil {
			return false, err
		}
		doc := w.text[id]
		for _, term := range slices.Sorted(maps.Keys(doc)) {
			if err := iw.add(id, term, inText, doc[term]); err != nil {
				return false, err
			}
		}
	}
	if dirtyLeft, err = iw.indexDirtyContacts(size.contacts); err != nil {
		return false, err
	}
	if err := iw.flush(); err != nil {
		return false, err
	}
	if w.to != w.from {
		if err := meta.Put(keySearchCursor, itob(w.to)); err != nil {
			return false, err
		}
	}
	return dirtyLeft, nil
}

// errIndexMoved means that the cursor moved between reading and applying a
// batch: only if two indexers ran on one file, which Open's lock prevents.
var errIndexMoved = errors.New("search index: cursor moved under the indexer")

// resetSearch drops the search index and starts an empty one at version
// searchVersion with the cursor before the first message.
func resetSearch(tx *bolt.Tx) error {
	for _, name := range searchBuckets() {
		if tx.Bucket([]byte(name)) != nil {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return fmt.Errorf("drop search index: %w", err)
			}
		}
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return fmt.Errorf("create search index: %w", err)
		}
	}
	meta := bucket(tx, bucketSearchMeta)
	if err := meta.Put(keySearchVersion, itob(searchVersion)); err != nil {
		return err
	}
	return meta.Put(keySearchCursor, itob(0))
}

// indexWriter writes the index in one transaction. It loads the terms of
// each thread it changes once and writes their changed blocks at the end
// (flush), and holds back the new postings to add them term by term, in
// key order, there too: each block is then rewritten once per transaction,
// and bbolt, whose in-memory nodes split only at commit, sees its inserts in
// order.
type indexWriter struct {
	tx          *bolt.Tx
	docs, terms *bolt.Bucket
	loaded      map[uint64]*threadDoc
	pending     map[string][]uint64 // term → new threads with it
}

func newIndexWriter(tx *bolt.Tx) *indexWriter {
	return &indexWriter{tx: tx, docs: bucket(tx, bucketSearchDocs), terms: bucket(tx, bucketSearchTerms),
		loaded: map[uint64]*threadDoc{}, pending: map[string][]uint64{}}
}

// doc returns thread's terms as this transaction has them.
func (iw *indexWriter) doc(thread uint64) (*threadDoc, error) {
	if d := iw.loaded[thread]; d != nil {
		return d, nil
	}
	d, err := loadDoc(iw.docs, thread)
	if err != nil {
		return nil, err
	}
	iw.loaded[thread] = d
	return d, nil
}

// flush writes the changed terms of threads and the held-back postings.
func (iw *indexWriter) flush() error {
	iw.docs.FillPercent, iw.terms.FillPercent = searchFill, searchFill
	for _, id := range slices.Sorted(maps.Keys(iw.loaded)) {
		if err := iw.loaded[id].write(iw.docs); err != nil {
			return err
		}
	}
	for _, term := range slices.Sorted(maps.Keys(iw.pending)) {
		ids := iw.pending[term]
		slices.Sort(ids)
		if err := addPostings(iw.terms, term, slices.Compact(ids)); err != nil {
			return err
		}
	}
	clear(iw.loaded)
	clear(iw.pending)
	return nil
}

// searchFill is the FillPercent of the index's buckets when the indexer
// writes them: their blocks grow in place and new ones come at the end of
// a thread or a term, so that pages split mostly where the last insert went.
const searchFill = 0.9

// add records that thread has term, with flag (inText with the seq of the
// first message holding it, or inFields).
func (iw *indexWriter) add(thread uint64, term string, flag byte, seq uint64) error {
	d, err := iw.doc(thread)
	if err != nil {
		return err
	}
	e, ok := d.get(term)
	if !ok {
		d.set(docTerm{term: term, flags: flag, seq: seq})
		iw.pending[term] = append(iw.pending[term], thread)
		return nil
	}
	// A term the thread has is not written again: each message writes
	// only its thread's new terms.
	if e.flags&flag == 0 {
		e.flags |= flag
		if flag == inText {
			e.seq = seq
		}
		d.set(e)
	}
	return nil
}

// dropField takes back that thread has term in its fields.
func (iw *indexWriter) dropField(thread uint64, term string) error {
	d, err := iw.doc(thread)
	if err != nil {
		return err
	}
	e, ok := d.get(term)
	if !ok || e.flags&inFields == 0 {
		return nil
	}
	if e.flags &^= inFields; e.flags != 0 {
		d.set(e)
		return nil
	}
	d.remove(term)
	if i := slices.Index(iw.pending[term], thread); i >= 0 {
		iw.pending[term] = slices.Delete(iw.pending[term], i, i+1)
		return nil
	}
	return removePosting(iw.terms, term, thread)
}

// fieldText is the text of a thread's searchable fields: its subject, and
// its contact's name and email, or "Visitor #id" for a contact with neither
// (the name the list shows).
func fieldText(t *parley.Thread, c *parley.Contact) string {
	parts := []string{t.Subject}
	if c != nil {
		parts = append(parts, c.FirstName, c.LastName, c.Email, c.UnverifiedEmail)
		if c.FirstName == "" && c.LastName == "" && c.Email == "" && c.UnverifiedEmail == "" {
			parts = append(parts, c.DisplayName())
		}
	}
	return strings.Join(parts, "\n")
}

// indexFields brings the field terms of thread t up to date: its subject and
// contact as they are now.
func (iw *indexWriter) indexFields(t *parley.Thread) error {
	tx := iw.tx
	var c *parley.Contact
	if t.ContactID != 0 {
		var err error
		c, err = contactTable().get(tx, t.ContactID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			c = nil
		} else if err != nil {
			return err
		}
	}
	text := fieldText(t, c)
	h := fnv.New64a()
	h.Write([]byte(text))
	state := key2(t.ContactID, h.Sum64())
	states := bucket(tx, bucketSearchThreads)
	old := states.Get(itob(t.ID))
	if bytes.Equal(old, state) {
		return nil
	}

	want := map[string]bool{}
	for _, term := range indexTerms(text) {
		want[term] = true
	}
	var drop []string
	d, err := iw.doc(t.ID)
	if err != nil {
		return err
	}
	d.each(func(e docTerm) {
		if e.flags&inFields != 0 {
			if want[e.term] {
				delete(want, e.term) // already there
			} else {
				drop = append(drop, e.term)
			}
		}
	})
	for _, term := range drop {
		if err := iw.dropField(t.ID, term); err != nil {
			return err
		}
	}
	for _, term := range slices.Sorted(maps.Keys(want)) {
		if err := iw.add(t.ID, term, inFields, 0); err != nil {
			return err
		}
	}

	byContact := bucket(tx, bucketSearchContacts)
	if len(old) == 16 && btoi(old) != t.ContactID && btoi(old) != 0 {
		if err := byContact.Delete(key2(btoi(old), t.ID)); err != nil {
			return err
		}
	}
	if t.ContactID != 0 {
		if err := byContact.Put(key2(t.ContactID, t.ID), []byte{}); err != nil {
			return err
		}
	}
	return states.Put(itob(t.ID), state)
}

// indexDirtyContacts re-indexes the fields of the threads of up to n
// contacts whose name or email changed, and reports whether more are left.
func (iw *indexWriter) indexDirtyContacts(n int) (bool, error) {
	dirty := bucket(iw.tx, bucketSearchDirty)
	var contacts [][]byte
	c := dirty.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(contacts) == n {
			return true, iw.indexContacts(contacts)
		}
		contacts = append(contacts, bytes.Clone(k))
	}
	return false, iw.indexContacts(contacts)
}

func (iw *indexWriter) indexContacts(contacts [][]byte) error {
	tx := iw.tx
	dirty, byContact, threads := bucket(tx, bucketSearchDirty), bucket(tx, bucketSearchContacts), threadTable()
	for _, ck := range contacts {
		var ids []uint64
		c := byContact.Cursor()
		for k, _ := c.Seek(ck); k != nil && bytes.HasPrefix(k, ck); k, _ = c.Next() {
			ids = append(ids, btoi(k[8:]))
		}
		for _, id := range ids {
			t, err := threads.get(tx, id)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			if err := iw.indexFields(t); err != nil {
				return err
			}
		}
		if err := dirty.Delete(ck); err != nil {
			return err
		}
	}
	return nil
}

// searchContactChanged queues contact c for the indexer when its name or
// email changed (old is the contact as stored before, nil for a new one). It
// is called by the contact table's index, in the transaction of the change.
func searchContactChanged(tx *bolt.Tx, c, old *parley.Contact) error {
	if old == nil || c.FirstName == old.FirstName && c.LastName == old.LastName && c.Email == old.Email && c.UnverifiedEmail == old.UnverifiedEmail {
		return nil
	}
	dirty := tx.Bucket([]byte(bucketSearchDirty))
	if dirty == nil {
		return nil // no index yet: it is built from the contacts as they are
	}
	return dirty.Put(itob(c.ID), []byte{})
}

// deleteThreadSearch removes thread id from the search index, in the
// transaction that deletes the thread.
func deleteThreadSearch(tx *bolt.Tx, id uint64) error {
	if !searchBucketsExist(tx) {
		return nil
	}
	docs, inverted := bucket(tx, bucketSearchDocs), bucket(tx, bucketSearchTerms)
	prefix := itob(id)
	d, err := loadDoc(docs, id)
	if err != nil {
		return err
	}
	for _, b := range d.blocks {
		for _, e := range b.terms {
			if err := removePosting(inverted, e.term, id); err != nil {
				return err
			}
		}
		if err := docs.Delete(b.key); err != nil {
			return err
		}
	}
	states := bucket(tx, bucketSearchThreads)
	if st := states.Get(prefix); len(st) == 16 {
		if err := bucket(tx, bucketSearchContacts).Delete(key2(btoi(st), id)); err != nil {
			return err
		}
	}
	return states.Delete(prefix)
}

// ----- the indexer goroutine -----

// defaultIndexInterval is how often the indexer looks for new messages when
// nothing asks it to (Options.IndexInterval).
const defaultIndexInterval = 100 * time.Millisecond

// indexer runs index batches in the background until stopped.
type indexer struct {
	db       *DB
	interval time.Duration
	size     indexSize
	kick     chan struct{} // buffered: a pending wake-up
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.Mutex
	advance chan struct{} // closed and replaced after each committed batch
	err     error         // the last batch's error; nil after a success
}

func (db *DB) startIndexer(interval time.Duration) {
	if interval <= 0 {
		interval = defaultIndexInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix := &indexer{
		db: db, interval: interval, size: defaultIndexSize,
		kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		advance: make(chan struct{}),
	}
	db.indexer = ix
	go ix.run()
}

// stop ends the indexer and waits for it. A batch it has handed to the
// writer may still commit.
func (ix *indexer) stop() {
	ix.cancel()
	<-ix.done
}

func (ix *indexer) wake() {
	select {
	case ix.kick <- struct{}{}:
	default:
	}
}

// Yielding to writes: while the writer is busy with appends (writes queued,
// or commits since the last look), the indexer waits too, up to
// indexMaxYield at a time, looking every indexYieldStep. A busy store thus
// indexes in the gaps between bursts of writes, and at least every
// indexMaxYield, rather than in their way.
const (
	indexYieldStep = 5 * time.Millisecond
	indexMaxYield  = 2 * time.Second
)

// yield waits while the writer is busy, up to indexMaxYield. It reports
// false if the indexer is stopped meanwhile.
func (ix *indexer) yield() bool {
	q := ix.db.queue
	if q == nil {
		return true // no group commit: nothing to yield to
	}
	deadline := time.Now().Add(indexMaxYield)
	for time.Now().Before(deadline) {
		commits := ix.db.commits.Load()
		select {
		case <-ix.ctx.Done():
			return false
		case <-time.After(indexYieldStep):
		}
		if len(q) == 0 && ix.db.commits.Load() == commits {
			return true
		}
	}
	return true
}

func (ix *indexer) run() {
	defer close(ix.done)
	tick := time.NewTicker(ix.interval)
	defer tick.Stop()
	for {
		for {
			if !ix.yield() {
				return
			}
			more, err := ix.db.indexBatch(ix.ctx, ix.size)
			ix.mu.Lock()
			ix.err = err
			close(ix.advance)
			ix.advance = make(chan struct{})
			ix.mu.Unlock()
			if err != nil || !more || ix.ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ix.ctx.Done():
			return
		case <-ix.kick:
		case <-tick.C:
		}
	}
}

// indexBatch indexes the next batch and reports whether more is waiting.
func (db *DB) indexBatch(ctx context.Context, size indexSize) (more bool, err error) {
	var w *indexWork
	var dirty bool
	err = db.view(func(tx *bolt.Tx) error {
		w, err = readIndexWork(tx, size)
		if err == nil && !w.reset {
			k, _ := bucket(tx, bucketSearchDirty).Cursor().First()
			dirty = k != nil
		}
		return err
	})
	if err != nil {
		return false, err
	}
	if w.empty() && !dirty && w.to == w.from {
		return false, nil
	}
	var dirtyLeft bool
	err = db.update(ctx, func(tx *bolt.Tx) (err error) {
		dirtyLeft, err = applyIndexWork(tx, w, size)
		return err
	})
	if err != nil {
		return false, err
	}
	return w.reset || dirtyLeft || len(w.threads) > 0 || w.to != w.from, nil
}

// WaitIndexed waits until the search index holds every message up to
// messageID, or, for 0, every message committed and every contact change
// made before the call. It returns ctx.Err() if ctx ends first, and the
// indexer's error if its latest batch failed (it retries on its own).
func (db *DB) WaitIndexed(ctx context.Context, messageID uint64) error {
	ix := db.indexer
	if ix == nil {
		return parley.Errorf(parley.EUNAVAILABLE, "search indexer is not running")
	}
	target := messageID
	if target == 0 {
		err := db.view(func(tx *bolt.Tx) error {
			target = bucket(tx, bucketMessageIDs).Sequence()
			return nil
		})
		if err != nil {
			return err
		}
	}
	for {
		ix.mu.Lock()
		advance, lastErr := ix.advance, ix.err
		ix.mu.Unlock()
		var cursor uint64
		ready, dirty := false, false
		err := db.view(func(tx *bolt.Tx) error {
			if meta := tx.Bucket([]byte(bucketSearchMeta)); meta != nil {
				v := meta.Get(keySearchVersion)
				ready = len(v) == 8 && btoi(v) == searchVersion && searchBucketsExist(tx)
				if v := meta.Get(keySearchCursor); len(v) == 8 {
					cursor = btoi(v)
				}
			}
			if b := tx.Bucket([]byte(bucketSearchDirty)); b != nil && messageID == 0 {
				k, _ := b.Cursor().First()
				dirty = k != nil
			}
			return nil
		})
		if err != nil {
			return err
		}
		if ready && cursor >= target && !dirty {
			return nil
		}
		if lastErr != nil && !errors.Is(lastErr, context.Canceled) {
			return fmt.Errorf("search index: %w", lastErr)
		}
		ix.wake()
		select {
		case <-advance:
		case <-ctx.Done():
			return ctx.Err()
		case <-ix.done:
			return errClosed()
		}
	}
}
