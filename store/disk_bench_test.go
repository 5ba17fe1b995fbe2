package store

import (
	"os"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// bucketUsage is what one top-level bucket takes: its keys and values, and
// the pages that hold them.
type bucketUsage struct {
	name      string
	keys      int
	kvBytes   int64 // bytes of keys and values
	pageBytes int64 // bytes of the pages allocated to it (leaf, branch, overflow)
	inuse     int64 // bytes of those pages in use (headers included)
}

// diskUsage walks every top-level bucket of tx.
func diskUsage(tx *bolt.Tx) ([]bucketUsage, error) {
	var out []bucketUsage
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		u := bucketUsage{name: string(name)}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			u.keys++
			u.kvBytes += int64(len(k) + len(v))
		}
		s := b.Stats()
		u.pageBytes = int64(s.LeafAlloc + s.BranchAlloc)
		u.inuse = int64(s.LeafInuse + s.BranchInuse + s.InlineBucketInuse)
		if s.LeafAlloc+s.BranchAlloc == 0 { // an inline bucket lives in its parent's page
			u.pageBytes = int64(s.InlineBucketInuse)
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// BenchmarkDisk reports what the search benchmark's fixture (see benchDB)
// takes on disk per message: the whole file, and of it the messages and the
// search index (their keys and values, and the pages they fill), beside
// the bytes of the messages' text. The first run builds the fixture.
//
//	go test -run '^$' -bench 'BenchmarkDisk$' -benchtime 1x -timeout 60m ./store/
//	go test -run '^$' -bench 'BenchmarkDisk$' -benchtime 1x -v ./store/ -search.messages 100000
//
// With -v it logs every bucket's keys, bytes and page fill.
func BenchmarkDisk(b *testing.B) {
	db := benchDB(b)
	for b.Loop() {
		// One walk is the measurement; the loop only satisfies b.Loop.
	}
	b.StopTimer()
	fi, err := os.Stat(db.bolt.Path())
	if err != nil {
		b.Fatal(err)
	}
	var usage []bucketUsage
	var text int64
	var messages int
	var freePages int
	err = db.view(func(tx *bolt.Tx) error {
		if usage, err = diskUsage(tx); err != nil {
			return err
		}
		freePages = db.bolt.Stats().FreePageN
		c := bucket(tx, bucketMessages).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if _, ok := messageSeq(k, btoi(k)); !ok {
				continue
			}
			m, err := decodeMessage(k, v)
			if err != nil {
				return err
			}
			messages++
			text += int64(len(m.Text))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if messages != benchMessages() {
		b.Fatalf("messages=%d, want %d", messages, benchMessages())
	}
	per := func(n int64) float64 { return float64(n) / float64(messages) }
	var msgs, index bucketUsage
	for _, u := range usage {
		switch {
		case u.name == bucketMessages:
			msgs = u
		case strings.HasPrefix(u.name, "search_"):
			index.kvBytes += u.kvBytes
			index.pageBytes += u.pageBytes
		}
	}
	b.ReportMetric(per(fi.Size()), "disk-B/msg")
	b.ReportMetric(per(text), "text-B/msg")
	b.ReportMetric(per(msgs.kvBytes), "msg-kv-B/msg")
	b.ReportMetric(per(msgs.pageBytes), "msg-page-B/msg")
	b.ReportMetric(per(index.kvBytes), "index-kv-B/msg")
	b.ReportMetric(per(index.pageBytes), "index-page-B/msg")
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
	slices.SortFunc(usage, func(x, y bucketUsage) int { return int(y.pageBytes - x.pageBytes) })
	b.Logf("file %d bytes, %d free pages, %d messages, %d bytes of text", fi.Size(), freePages, messages, text)
	for _, u := range usage {
		if u.pageBytes == 0 {
			continue
		}
		b.Logf("%-18s %9d keys %12d kv bytes %12d page bytes  fill %3.0f%%  %6.1f B/msg",
			u.name, u.keys, u.kvBytes, u.pageBytes, 100*float64(u.inuse)/float64(u.pageBytes), per(u.pageBytes))
	}
}
