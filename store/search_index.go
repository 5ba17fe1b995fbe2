package store

import (
	"bytes"
	"context"
	"encoding/binary"
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
	bucketSearchTerms    = "search_terms"    // term ‖ 0x00 ‖ thread → empty: the inverted index
	bucketSearchDocs     = "search_docs"     // thread ‖ term → flags ‖ uvarint(first message id): each thread's terms
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
// "müller" where queries now look for "muller", so it is rebuilt.
const searchVersion = 2

// Keys of bucket search_meta.
var (
	keySearchVersion = []byte("version") // big-endian uint64
	keySearchCursor  = []byte("cursor")  // big-endian uint64: every message id up to it is indexed
)

// Flags of a thread's term in search_docs: where the thread has it.
const (
	inText   = 1 // in the text of a message or note; the value then ends in the first such message's id
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
	text    map[uint64]map[string]uint64 // thread → term → first message id with it
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
				doc[t] = id
			}
			if _, ok := doc[alt]; !ok && alt != "" {
				doc[alt] = id
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

func docKey(thread uint64, term string) []byte {
	k := make([]byte, 8+len(term))
	binary.BigEndian.PutUint64(k, thread)
	copy(k[8:], term)
	return k
}

func termKey(term string, thread uint64) []byte {
	k := make([]byte, len(term)+9)
	copy(k, term)
	binary.BigEndian.PutUint64(k[len(term)+1:], thread)
	return k
}

func docValue(flags byte, msgID uint64) []byte {
	v := make([]byte, 1, 1+binary.MaxVarintLen64)
	v[0] = flags
	return binary.AppendUvarint(v, msgID)
}

func parseDocValue(v []byte) (flags byte, msgID uint64) {
	if len(v) == 0 {
		return 0, 0
	}
	msgID, _ = binary.Uvarint(v[1:])
	return v[0], msgID
}

// indexWriter writes the index in one transaction. It holds back the new
// keys of the inverted index and writes them sorted at the end (flush):
// bbolt keeps a transaction's inserts in memory nodes that split only at
// commit, and a key inserted before others moves them all, so a batch of
// many postings written in arrival order takes time quadratic in its size,
// and in key order linear.
type indexWriter struct {
	tx          *bolt.Tx
	docs, terms *bolt.Bucket
	pending     [][]byte // new keys of search_terms
}

func newIndexWriter(tx *bolt.Tx) *indexWriter {
	return &indexWriter{tx: tx, docs: bucket(tx, bucketSearchDocs), terms: bucket(tx, bucketSearchTerms)}
}

// flush writes the held-back postings in key order, but those whose
// thread term was taken back meanwhile.
func (iw *indexWriter) flush() error {
	slices.SortFunc(iw.pending, bytes.Compare)
	for _, k := range iw.pending {
		term, thread := string(k[:len(k)-9]), btoi(k[len(k)-8:])
		if iw.docs.Get(docKey(thread, term)) == nil {
			continue
		}
		if err := iw.terms.Put(k, []byte{}); err != nil {
			return err
		}
	}
	iw.pending = nil
	return nil
}

// add records that thread has term, with flag (inText with the id of the
// first message holding it, or inFields).
func (iw *indexWriter) add(thread uint64, term string, flag byte, msgID uint64) error {
	docs := iw.docs
	dk := docKey(thread, term)
	v := docs.Get(dk)
	if v == nil {
		if err := docs.Put(dk, docValue(flag, msgID)); err != nil {
			return err
		}
		iw.pending = append(iw.pending, termKey(term, thread))
		return nil
	}
	// A term the thread has is not written again: each message writes
	// only its thread's new terms.
	if flags, first := parseDocValue(v); flags&flag == 0 {
		if flag == inText {
			first = msgID
		}
		return docs.Put(dk, docValue(flags|flag, first))
	}
	return nil
}

// dropField takes back that thread has term in its fields.
func (iw *indexWriter) dropField(thread uint64, term string) error {
	docs := iw.docs
	dk := docKey(thread, term)
	flags, msgID := parseDocValue(docs.Get(dk))
	if flags&inFields == 0 {
		return nil
	}
	if flags &^= inFields; flags != 0 {
		return docs.Put(dk, docValue(flags, msgID))
	}
	if err := docs.Delete(dk); err != nil {
		return err
	}
	return iw.terms.Delete(termKey(term, thread)) // if pending, flush skips it
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
	prefix := itob(t.ID)
	dc := bucket(tx, bucketSearchDocs).Cursor()
	for k, v := dc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = dc.Next() {
		term := string(k[8:])
		if flags, _ := parseDocValue(v); flags&inFields != 0 {
			if want[term] {
				delete(want, term) // already there
			} else {
				drop = append(drop, term)
			}
		}
	}
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
	var keys [][]byte
	c := docs.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := inverted.Delete(termKey(string(k[8:]), id)); err != nil {
			return err
		}
		if err := docs.Delete(k); err != nil {
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
