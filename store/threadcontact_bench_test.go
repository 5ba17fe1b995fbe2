package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkContactThreads measures a contact's past conversations (the
// contact sidebar, threads?associatedContactId=) among 100,000 threads of
// 20,000 contacts: Threads with a ContactID, newest first, which reads the
// contact's keys in thread_contacts, beside the scan it replaces (the same
// filter walking every row of thread_latest). It reports the p50 of each
// and their ratio.
//
//	go test -run '^$' -bench BenchmarkContactThreads -benchtime 200x ./store/
func BenchmarkContactThreads(b *testing.B) {
	const threads, contacts = 100_000, 20_000
	db := MustOpen(b, nil)
	db.indexer.stop() // not measured here
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range contacts {
			if err := contactTable().insert(tx, &parley.Contact{Email: fmt.Sprintf("c%d@example.com", i)}, t0); err != nil {
				return err
			}
		}
		return nil
	})
	// Transactions of a few thousand threads: bbolt splits the nodes a
	// transaction fills only at commit, so one huge one is slow.
	for written := 0; err == nil && written < threads; {
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			for end := written + 5000; written < end; written++ {
				at := t0.Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
				contact := uint64(1 + r.IntN(contacts))
				m := parley.Message{Type: parley.TypeMessage, Text: "hello", SenderID: parley.ContactActorID(contact), Direction: parley.Incoming, CreatedAt: at}
				nt := parley.Thread{InboxID: uint64(1 + r.IntN(2)), ChannelID: parley.ChannelEmail, ContactID: contact, Subject: "Order"}
				if _, err := appendMessage(tx, m, nt, nil, at); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	no := false
	filter := func(contact uint64) parley.ThreadFilter {
		return parley.ThreadFilter{InboxIDs: []uint64{1, 2}, ContactID: contact, Archived: &no, Sort: parley.SortByLatest, Limit: 100}
	}
	// scan is Threads without the index: a walk of thread_latest.
	scan := func(contact uint64) ([]uint64, error) {
		f := filter(contact)
		match, err := rowMatcher(&f)
		if err != nil {
			return nil, err
		}
		var ids []uint64
		err = db.view(func(tx *bolt.Tx) error {
			if err := scanLatest(tx, 0, 0, 0, f.Limit+1, match, &ids); err != nil {
				return err
			}
			ids = ids[:min(len(ids), f.Limit)]
			for _, id := range ids {
				if _, err := threadTable().get(tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		return ids, err
	}

	var indexed, scanned []time.Duration
	n := 0
	for b.Loop() {
		contact := uint64(1 + n%contacts)
		n++
		start := time.Now()
		ts, _, err := db.Threads(ctx, filter(contact))
		indexed = append(indexed, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if n <= 20 { // the baseline is slow: a sample, checked against the index
			start = time.Now()
			ids, err := scan(contact)
			scanned = append(scanned, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if got := threadIDs(ts); !slices.Equal(got, ids) {
				b.Fatalf("contact %d: indexed %v, scanned %v", contact, got, ids)
			}
		}
	}
	ip50, sp50 := percentile(indexed, 50), percentile(scanned, 50)
	b.ReportMetric(ms(ip50), "p50-ms")
	b.ReportMetric(ms(percentile(indexed, 99)), "p99-ms")
	b.ReportMetric(ms(sp50), "scan-p50-ms")
	b.ReportMetric(float64(sp50)/float64(ip50), "speedup")
}
