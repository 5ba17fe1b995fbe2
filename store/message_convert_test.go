package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// writeVersion12 writes a store of schema version 12 in dir: n messages in
// the JSON that version stored, 12 a thread, with a dedup entry for every
// other one, written straight into the buckets (appending them one by one
// would take minutes for the sizes the tests need). Only bucket messages
// holds them: the conversion reads nothing else, and the indexer, which
// tails message_ids, then has nothing to do.
func writeVersion12(tb testing.TB, dir string, n int) {
	tb.Helper()
	db, err := Open(dir, &Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	bdb, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{NoSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	const batch = 20000
	for from := 0; from < n; from += batch {
		err := bdb.Update(func(tx *bolt.Tx) error {
			msgs := bucket(tx, bucketMessages)
			for i := from; i < min(from+batch, n); i++ {
				m := version12Message(i)
				thread, seq := m.ThreadID, m.Seq
				if m.ClientID != "" {
					if err := msgs.Put(dedupKey(thread, m.SenderID, m.ClientID), itob(seq)); err != nil {
						return err
					}
				}
				data, err := json.Marshal(m)
				if err != nil {
					return err
				}
				if err := msgs.Put(append(itob(thread), itob(seq)...), data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		if err := bucket(tx, bucketSearchMeta).Put(keySearchVersion, itob(2)); err != nil {
			return err
		}
		return bucket(tx, bucketMeta).Put([]byte(keySchemaVersion), itob(12))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// version12Message returns the i-th message (from 0) that writeVersion12
// writes.
func version12Message(i int) *parley.Message {
	thread, seq := uint64(i/12+1), uint64(i%12+1)
	m := &parley.Message{ID: uint64(i + 1), ThreadID: thread, Seq: seq, Type: parley.TypeMessage, Direction: parley.Incoming,
		SenderID: parley.ContactActorID(thread), ChannelID: parley.ChannelChat, ChannelAccountID: 1,
		CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Text:      fmt.Sprintf("Hello, my parcel %d is late. Could you look where it is? Order %d, delivery to Müller Straße %d.", i, 5000+i, i%90)}
	if seq%2 == 0 {
		m.ClientID = fmt.Sprintf("c%d", i)
	}
	return m
}

// heapPeak samples the bytes of heap objects (live and not yet swept)
// until stop is called, which returns the highest sample.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: sample[0].Name}}
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		metrics.Read(sample)
		return max(peak, sample[0].Value.Uint64())
	}
}

// openMeasured opens the store in dir with opts and returns the peak of
// the heap over the baseline before Open, and how long Open took.
func openMeasured(tb testing.TB, dir string, opts *Options) (peak uint64, took time.Duration) {
	tb.Helper()
	runtime.GC()
	base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(base)
	stop := heapPeak()
	start := time.Now()
	db, err := Open(dir, opts)
	took = time.Since(start)
	peak = stop()
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return peak - min(peak, base[0].Value.Uint64()), took
}

// countForms counts the messages of the file in dir by form, and its dedup
// entries.
func countForms(tb testing.TB, dir string) (json, binary, dedup int) {
	tb.Helper()
	err := viewFile(tb, dir, func(tx *bolt.Tx) error {
		return bucket(tx, bucketMessages).ForEach(func(k, v []byte) error {
			switch {
			case len(k) != 16 || k[8] == dedupPrefix:
				dedup++
			case v[0] == '{':
				json++
			case v[0] == messageFormat:
				binary++
			}
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return json, binary, dedup
}

// TestConvertMessagesMemory upgrades stores of 50,000 and of 200,000
// messages in JSON: the heap Open needs does not grow with the messages.
// Measured: about 7 MiB over the baseline for 50,000 and 13 MiB for
// 200,000, and still 13 MiB for 800,000 (the collector's pacing levels off
// after a few dozen chunks). Converting all of them in one transaction, as
// migration 13 first did, took 46 and 202 MiB (683 MiB for a million).
func TestConvertMessagesMemory(t *testing.T) {
	peaks := map[int]uint64{}
	for _, n := range []int{50_000, 200_000} {
		dir := t.TempDir()
		writeVersion12(t, dir, n)
		peak, took := openMeasured(t, dir, &Options{NoSync: true})
		peaks[n] = peak
		t.Logf("%d messages: heap peak %.1f MiB over the baseline, converted in %s", n, float64(peak)/(1<<20), took.Round(time.Millisecond))
		if j, b, d := countForms(t, dir); j != 0 || b != n || d != n/2 {
			t.Errorf("%d messages converted: %d left in JSON, %d binary, %d dedup entries; want 0, %d, %d", n, j, b, d, n, n/2)
		}
	}
	// A chunk holds 5,000 messages and their pages (a few MiB); the rest
	// of the bound is the collector's slack.
	const bound = 48 << 20
	for n, peak := range peaks {
		if peak > bound {
			t.Errorf("%d messages: heap peak %d MiB, want at most %d MiB", n, peak>>20, bound>>20)
		}
	}
	// The collector's pacing levels off after a few dozen chunks, so the
	// larger store may take a few MiB more, not 156 as in one transaction.
	if small, large := peaks[50_000], peaks[200_000]; large > small+12<<20 {
		t.Errorf("heap peak %d MiB for 200,000 messages against %d MiB for 50,000: it grows with the store", large>>20, small>>20)
	}
}

// BenchmarkConvertMessages upgrades a store of b.N messages in JSON with
// real fsync: ns/op is the time per message (×10⁶ for a million). It
// reports the heap's peak over the baseline, and the file's size before,
// after, and after Compact (the messages alone: no threads, no index).
//
//	go test -run '^$' -bench 'BenchmarkConvertMessages$' -benchtime 1000000x ./store/
func BenchmarkConvertMessages(b *testing.B) {
	dir := b.TempDir()
	writeVersion12(b, dir, b.N)
	size := func() float64 {
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil {
			b.Fatal(err)
		}
		return float64(fi.Size()) / 1e6
	}
	before := size()
	b.ResetTimer()
	peak, _ := openMeasured(b, dir, nil)
	b.StopTimer()
	b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MiB")
	if j, n, _ := countForms(b, dir); j != 0 || n != b.N {
		b.Fatalf("%d messages left in JSON, %d binary; want 0, %d", j, n, b.N)
	}
	after := size()
	if _, _, err := Compact(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(before, "MB-before")
	b.ReportMetric(after, "MB-after")
	b.ReportMetric(size(), "MB-compacted")
}
