package server

import (
	"fmt"
	"testing"
	"time"
)

// Failed sign-ins get one audit entry per client a minute, and at most
// auditFailMax a minute in all, however many addresses try: a stranger
// cannot fill the disk.
func TestAuditFailsBound(t *testing.T) {
	var f auditFails
	now := time.Date(2026, 12, 7, 10, 0, 5, 0, time.UTC)
	if !f.take("192.0.2.1", now) {
		t.Fatal("the first failure of a minute gets no entry")
	}
	for i := range 100 {
		if f.take("192.0.2.1", now.Add(time.Duration(i)*500*time.Millisecond)) {
			t.Fatalf("failure %d of the same client in the same minute got an entry", i+2)
		}
	}
	taken := 1
	for i := range 1000 {
		if f.take(fmt.Sprintf("198.51.%d.%d", i/250, i%250), now) {
			taken++
		}
	}
	if taken != auditFailMax {
		t.Errorf("entries from 1001 clients in a minute=%d, want %d", taken, auditFailMax)
	}
	if !f.take("192.0.2.1", now.Add(time.Minute)) {
		t.Error("the next minute gives the client an entry again")
	}
	if len(f.seen) != 1 {
		t.Errorf("clients remembered=%d, want 1: the map is reset each minute", len(f.seen))
	}
}
