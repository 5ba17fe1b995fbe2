package store

import (
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// noteChange is the note of UpdateRecordWithEvents that the server uses: an
// EventRecordUpdated naming the record, with its changes, or nil.
func noteChange(old, r *parley.Record) *parley.Message {
	changes := parley.RecordChanges(old, r)
	if len(changes) == 0 {
		return nil
	}
	m := sysEvent(parley.EventRecordUpdated, r.Kind+": "+r.Name, 0)
	m.Changes, m.ClientID = &changes, "ignored"
	return m
}

// TestUpdateRecordWithEvents: a record's change is recorded on each of its
// threads in the same commit; no change writes nothing; a failure leaves
// record and threads as they were.
func TestUpdateRecordWithEvents(t *testing.T) {
	f := newCRMFixture(t)
	ctx := t.Context()
	r := parley.Record{Kind: parley.RecordTicket, Name: "Printer", Stage: parley.TicketNew, ContactID: f.ada.ID, CreatedBy: 1}
	if _, err := f.db.CreateRecord(ctx, &r, sysEvent(parley.EventRecordCreated, "ticket: Printer", f.adaChat.ID)); err != nil {
		t.Fatal(err)
	}
	// A second thread of the record, as a record joined to two threads.
	err := f.db.update(ctx, func(tx *bolt.Tx) error {
		tb := recordTable()
		old, err := tb.get(tx, r.ID)
		if err != nil {
			return err
		}
		w := *old
		w.ThreadIDs = []uint64{f.adaChat.ID, f.adaEmail.ID}
		return tb.put(tx, bucket(tx, bucketRecords), &w, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	lastSeq := func(id uint64) uint64 {
		th, err := f.db.Thread(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return th.LastSeq
	}
	chatSeq, emailSeq := lastSeq(f.adaChat.ID), lastSeq(f.adaEmail.ID)

	got, results, err := f.db.UpdateRecordWithEvents(ctx, r.ID, func(r *parley.Record) error {
		r.Stage, r.OwnerID, r.ContactID = parley.TicketClosed, 2, f.bob.ID // the contact is fixed
		return nil
	}, noteChange)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stage != parley.TicketClosed || got.OwnerID != 2 || got.ContactID != f.ada.ID {
		t.Errorf("record=%+v", got)
	}
	if len(results) != 2 {
		t.Fatalf("results=%d, want one per thread", len(results))
	}
	wantChanges := []parley.Change{{Field: "stage", From: "new", To: "closed"}, {Field: "owner", From: "", To: "A-2"}}
	for i, th := range []*parley.Thread{f.adaChat, f.adaEmail} {
		res := results[i]
		m := res.Message
		if m.ThreadID != th.ID || res.Thread.ID != th.ID || m.Event != parley.EventRecordUpdated || m.Text != "ticket: Printer" || m.ClientID != "" ||
			m.ChannelID != th.ChannelID || m.Changes == nil || !reflect.DeepEqual(*m.Changes, wantChanges) {
			t.Errorf("event on thread %d: %+v", th.ID, m)
		}
		stored, err := f.db.Message(ctx, m.ID)
		if err != nil || stored.Changes == nil || !reflect.DeepEqual(*stored.Changes, wantChanges) || stored.Seq != m.Seq {
			t.Errorf("stored event on thread %d: %+v, %v", th.ID, stored, err)
		}
	}
	if s := lastSeq(f.adaChat.ID); s != chatSeq+1 {
		t.Errorf("chat seq %d, want %d", s, chatSeq+1)
	}
	if s := lastSeq(f.adaEmail.ID); s != emailSeq+1 {
		t.Errorf("email seq %d, want %d", s, emailSeq+1)
	}

	t.Run("no change writes nothing", func(t *testing.T) {
		before, _ := f.db.Record(ctx, r.ID)
		got, results, err := f.db.UpdateRecordWithEvents(ctx, r.ID, func(r *parley.Record) error {
			r.Stage = parley.TicketClosed
			return nil
		}, noteChange)
		if err != nil || len(results) != 0 || !reflect.DeepEqual(got, before) {
			t.Errorf("got %+v, %d results, %v; want the record as stored", got, len(results), err)
		}
		if after, _ := f.db.Record(ctx, r.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("stored %+v, want %+v", after, before)
		}
		if s := lastSeq(f.adaChat.ID); s != chatSeq+1 {
			t.Errorf("chat seq %d, want %d", s, chatSeq+1)
		}
	})
	t.Run("fn fails", func(t *testing.T) {
		before, _ := f.db.Record(ctx, r.ID)
		_, _, err := f.db.UpdateRecordWithEvents(ctx, r.ID, func(r *parley.Record) error {
			r.Name = "gone"
			return parley.Errorf(parley.EINVALID, "no")
		}, noteChange)
		wantCode(t, err, parley.EINVALID)
		if after, _ := f.db.Record(ctx, r.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("stored %+v, want %+v", after, before)
		}
	})
	t.Run("a thread that fails to take the event undoes the change", func(t *testing.T) {
		before, _ := f.db.Record(ctx, r.ID)
		full := func(tx *bolt.Tx) error { // make the email thread full: its next append fails
			tb := threadTable()
			old, err := tb.get(tx, f.adaEmail.ID)
			if err != nil {
				return err
			}
			w := *old
			w.LastSeq = maxSeq - 1
			return tb.put(tx, bucket(tx, bucketThreads), &w, old)
		}
		if err := f.db.update(ctx, full); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.db.UpdateRecordWithEvents(ctx, r.ID, func(r *parley.Record) error {
			r.Name = "Printer jam"
			return nil
		}, noteChange)
		if err == nil {
			t.Fatal("update succeeded, want the full thread's error")
		}
		if after, _ := f.db.Record(ctx, r.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("stored %+v, want %+v", after, before)
		}
		if s := lastSeq(f.adaChat.ID); s != chatSeq+1 {
			t.Errorf("chat seq %d, want %d: the first thread's event stayed", s, chatSeq+1)
		}
	})
	_, _, err = f.db.UpdateRecordWithEvents(ctx, 99, func(*parley.Record) error { return nil }, noteChange)
	wantCode(t, err, parley.ENOTFOUND)
}
