package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The search index's two buckets keep sorted lists in blocks of a few
// hundred bytes, one key per block, rather than one key per entry: a
// bbolt key costs 16 bytes of page besides itself, and the index has an
// entry for every term of every thread, about fourteen per message.
//
//	search_terms  term ‖ 0x00 ‖ first thread (8 bytes, big-endian) → uvarint(thread − previous thread)…
//	              the threads that have the term, ascending: the inverted index
//	search_docs   thread (8 bytes) ‖ first term → (uvarint(shared), uvarint(len(suffix)), suffix, uvarint(seq<<2 | flags))…
//	              the thread's terms, ascending, each sharing a prefix with the one before
//	              (the first with the key's term), with where the thread has it (inText, inFields)
//	              and the seq of its first message with it
//
// A block that grows past its size is cut into full blocks and a rest; a
// block whose entries all go is deleted. Search reads a term's threads a
// block at a time, but looks a thread's term up in a block of its terms,
// which it scans from the start: those blocks are smaller.
const (
	postingBlockBytes = 512
	docBlockBytes     = 256
)

// ----- search_terms -----

// postingKey is the key of the block of term's threads that starts at thread.
func postingKey(term string, thread uint64) []byte {
	k := make([]byte, len(term)+9)
	copy(k, term)
	binary.BigEndian.PutUint64(k[len(term)+1:], thread)
	return k
}

// postingTerm returns the term of a key of search_terms, and false if k is
// not one.
func postingTerm(k []byte) (string, bool) {
	if len(k) < 9 || k[len(k)-9] != 0 {
		return "", false
	}
	return string(k[:len(k)-9]), true
}

// decodePostings appends the threads of block (k, v) to ids.
func decodePostings(ids []uint64, k, v []byte) ([]uint64, error) {
	id := btoi(k[len(k)-8:])
	ids = append(ids, id)
	for len(v) > 0 {
		d, n := binary.Uvarint(v)
		if n <= 0 || d == 0 {
			return ids, errors.New("search index: bad posting block")
		}
		id += d
		ids = append(ids, id)
		v = v[n:]
	}
	return ids, nil
}

// putPostings writes the sorted threads ids of term as blocks.
func putPostings(b *bolt.Bucket, term string, ids []uint64) error {
	for len(ids) > 0 {
		v := []byte{}
		n := 1
		for ; n < len(ids); n++ {
			next := binary.AppendUvarint(v, ids[n]-ids[n-1])
			if len(next) > postingBlockBytes {
				break
			}
			v = next
		}
		if err := b.Put(postingKey(term, ids[0]), v); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// termBlock finds the block of term's threads where thread belongs: the
// last one starting at or before it, or else the first one. It returns its
// key (nil if term has none), its threads, and the first thread of the block
// after it (0 if none).
func termBlock(b *bolt.Bucket, term string, thread uint64) (key []byte, ids []uint64, next uint64, err error) {
	ofTerm := func(k []byte) bool { t, ok := postingTerm(k); return ok && t == term }
	first := func(k []byte) uint64 { return btoi(k[len(k)-8:]) }
	c := b.Cursor()
	k, v := c.Seek(postingKey(term, thread))
	if k == nil || !ofTerm(k) || first(k) != thread {
		// The block before holds thread, if it is term's.
		var pk, pv []byte
		if k == nil {
			pk, pv = c.Last()
		} else {
			pk, pv = c.Prev()
		}
		switch {
		case pk != nil && ofTerm(pk):
			k, v = pk, pv
		case k == nil || !ofTerm(k):
			return nil, nil, 0, nil // term has no threads
		default:
			k, v = c.Seek(postingKey(term, thread)) // thread comes before term's first block
		}
	}
	key = bytes.Clone(k)
	if ids, err = decodePostings(nil, k, v); err != nil {
		return nil, nil, 0, err
	}
	c.Seek(key)
	if nk, _ := c.Next(); nk != nil && ofTerm(nk) {
		next = first(nk)
	}
	return key, ids, next, nil
}

// addPostings adds the sorted threads ids to term's list, block by block.
func addPostings(b *bolt.Bucket, term string, ids []uint64) error {
	for len(ids) > 0 {
		key, have, next, err := termBlock(b, term, ids[0])
		if err != nil {
			return err
		}
		n := len(ids)
		if next != 0 {
			n, _ = slices.BinarySearch(ids, next)
			n = max(n, 1)
		}
		merged := mergeIDs(have, ids[:n])
		ids = ids[n:]
		if len(merged) == len(have) {
			continue
		}
		if key != nil {
			if err := b.Delete(key); err != nil {
				return err
			}
		}
		if err := putPostings(b, term, merged); err != nil {
			return err
		}
	}
	return nil
}

// removePosting takes thread out of term's list.
func removePosting(b *bolt.Bucket, term string, thread uint64) error {
	key, have, _, err := termBlock(b, term, thread)
	if err != nil || key == nil {
		return err
	}
	i, ok := slices.BinarySearch(have, thread)
	if !ok {
		return nil
	}
	if err := b.Delete(key); err != nil {
		return err
	}
	return putPostings(b, term, slices.Delete(have, i, i+1))
}

// mergeIDs returns the union of two sorted lists.
func mergeIDs(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// eachPosting calls fn for every (term, thread) of the inverted index.
func eachPosting(tx *bolt.Tx, fn func(term string, thread uint64)) error {
	c := bucket(tx, bucketSearchTerms).Cursor()
	var ids []uint64
	for k, v := c.First(); k != nil; k, v = c.Next() {
		term, ok := postingTerm(k)
		if !ok {
			return errors.New("search index: bad posting key")
		}
		var err error
		if ids, err = decodePostings(ids[:0], k, v); err != nil {
			return err
		}
		for _, id := range ids {
			fn(term, id)
		}
	}
	return nil
}

// ----- search_docs -----

// docTerm is one term of a thread: where the thread has it, and the seq of
// its first message with it (for inText).
type docTerm struct {
	term  string
	flags byte
	seq   uint64
}

func docBlockKey(thread uint64, term string) []byte {
	k := make([]byte, 8+len(term))
	binary.BigEndian.PutUint64(k, thread)
	copy(k[8:], term)
	return k
}

// scanDocBlock calls fn for each term of block (k, v) in order, until fn
// returns false. The term is in buf, valid until the next call.
func scanDocBlock(k, v []byte, buf []byte, fn func(term []byte, flags byte, seq uint64) bool) ([]byte, error) {
	buf = append(buf[:0], k[8:]...)
	for len(v) > 0 {
		shared, n := binary.Uvarint(v)
		if n <= 0 || shared > uint64(len(buf)) {
			return buf, errBadDocBlock
		}
		v = v[n:]
		size, n := binary.Uvarint(v)
		if n <= 0 || size > uint64(len(v)-n) {
			return buf, errBadDocBlock
		}
		buf = append(buf[:shared], v[n:n+int(size)]...)
		v = v[n+int(size):]
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return buf, errBadDocBlock
		}
		v = v[n:]
		if !fn(buf, byte(x&3), x>>2) {
			break
		}
	}
	return buf, nil
}

var errBadDocBlock = errors.New("search index: bad term block")

// decodeDocBlock appends the terms of block (k, v) to out.
func decodeDocBlock(out []docTerm, k, v []byte) ([]docTerm, error) {
	_, err := scanDocBlock(k, v, nil, func(term []byte, flags byte, seq uint64) bool {
		out = append(out, docTerm{term: string(term), flags: flags, seq: seq})
		return true
	})
	return out, err
}

// putDocBlocks writes terms, sorted, as blocks of thread.
func putDocBlocks(b *bolt.Bucket, thread uint64, terms []docTerm) error {
	for len(terms) > 0 {
		var v []byte
		prev := terms[0].term
		n := 0
		for ; n < len(terms); n++ {
			e := terms[n]
			shared := 0
			for shared < len(prev) && shared < len(e.term) && prev[shared] == e.term[shared] {
				shared++
			}
			next := binary.AppendUvarint(v, uint64(shared))
			next = binary.AppendUvarint(next, uint64(len(e.term)-shared))
			next = append(next, e.term[shared:]...)
			next = binary.AppendUvarint(next, e.seq<<2|uint64(e.flags))
			if n > 0 && len(next) > docBlockBytes {
				break
			}
			v, prev = next, e.term
		}
		if err := b.Put(docBlockKey(thread, terms[0].term), v); err != nil {
			return err
		}
		terms = terms[n:]
	}
	return nil
}

// threadDoc is a thread's terms as loaded for change, in their blocks.
type threadDoc struct {
	id     uint64
	blocks []docBlock
}

type docBlock struct {
	key   []byte // as stored; nil for a new block
	terms []docTerm
	dirty bool
}

// loadDoc reads the terms of thread.
func loadDoc(b *bolt.Bucket, thread uint64) (*threadDoc, error) {
	d := &threadDoc{id: thread}
	prefix := itob(thread)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		terms, err := decodeDocBlock(nil, k, v)
		if err != nil {
			return nil, err
		}
		d.blocks = append(d.blocks, docBlock{key: bytes.Clone(k), terms: terms})
	}
	return d, nil
}

// find returns the block where term is or belongs, and its index there.
func (d *threadDoc) find(term string) (bi, i int, found bool) {
	if len(d.blocks) == 0 {
		d.blocks = append(d.blocks, docBlock{})
	}
	bi, _ = slices.BinarySearchFunc(d.blocks, term, func(b docBlock, t string) int {
		if len(b.terms) == 0 || b.terms[0].term <= t {
			return -1
		}
		return 1
	})
	bi = max(bi-1, 0)
	i, found = slices.BinarySearchFunc(d.blocks[bi].terms, term, func(e docTerm, t string) int {
		switch {
		case e.term < t:
			return -1
		case e.term > t:
			return 1
		}
		return 0
	})
	return bi, i, found
}

// get returns term's entry, if the thread has it.
func (d *threadDoc) get(term string) (docTerm, bool) {
	bi, i, ok := d.find(term)
	if !ok {
		return docTerm{}, false
	}
	return d.blocks[bi].terms[i], true
}

// set adds or replaces term's entry.
func (d *threadDoc) set(e docTerm) {
	bi, i, ok := d.find(e.term)
	b := &d.blocks[bi]
	if ok {
		b.terms[i] = e
	} else {
		b.terms = slices.Insert(b.terms, i, e)
	}
	b.dirty = true
}

// remove deletes term's entry.
func (d *threadDoc) remove(term string) {
	if bi, i, ok := d.find(term); ok {
		b := &d.blocks[bi]
		b.terms = slices.Delete(b.terms, i, i+1)
		b.dirty = true
	}
}

// each calls fn for every term, in order.
func (d *threadDoc) each(fn func(e docTerm)) {
	for _, b := range d.blocks {
		for _, e := range b.terms {
			fn(e)
		}
	}
}

// write stores the changed blocks.
func (d *threadDoc) write(b *bolt.Bucket) error {
	for i := range d.blocks {
		bl := &d.blocks[i]
		if !bl.dirty {
			continue
		}
		if bl.key != nil {
			if err := b.Delete(bl.key); err != nil {
				return err
			}
		}
		if err := putDocBlocks(b, d.id, bl.terms); err != nil {
			return err
		}
	}
	return nil
}

// docTermsFrom calls fn for the terms of thread from the first one at or
// after from, in order, until fn returns false. The term is valid only
// during the call.
func docTermsFrom(b *bolt.Bucket, thread uint64, from string, fn func(term []byte, flags byte, seq uint64) bool) error {
	prefix := itob(thread)
	start := docBlockKey(thread, from)
	c := b.Cursor()
	k, v := c.Seek(start)
	if k == nil || !bytes.Equal(k, start) {
		// from may be inside the block before.
		var pk, pv []byte
		if k == nil {
			pk, pv = c.Last()
		} else {
			pk, pv = c.Prev()
		}
		if pk != nil && bytes.HasPrefix(pk, prefix) {
			k, v = pk, pv
		} else if k != nil {
			k, v = c.Seek(start) // Prev may have left the bucket's start
		}
	}
	target := start[8:]
	var buf []byte
	more := true
	for ; more && k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var err error
		buf, err = scanDocBlock(k, v, buf, func(term []byte, flags byte, seq uint64) bool {
			if bytes.Compare(term, target) < 0 {
				return true
			}
			more = fn(term, flags, seq)
			return more
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachDocTerm calls fn for every (thread, term) of search_docs.
func eachDocTerm(tx *bolt.Tx, fn func(thread uint64, e docTerm)) error {
	c := bucket(tx, bucketSearchDocs).Cursor()
	var terms []docTerm
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) < 8 {
			return errors.New("search index: bad term block key")
		}
		var err error
		if terms, err = decodeDocBlock(terms[:0], k, v); err != nil {
			return err
		}
		for _, e := range terms {
			fn(btoi(k), e)
		}
	}
	return nil
}
