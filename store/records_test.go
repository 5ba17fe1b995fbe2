package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// crmFixture is a store with two contacts and their threads.
type crmFixture struct {
	db         *DB
	ada, bob   *parley.Contact
	adaChat    *parley.Thread // Ada's chat on widget 7
	adaEmail   *parley.Thread
	bobChat    *parley.Thread
	adaVisitor string // hash of Ada's visitor credential
}

func newCRMFixture(t *testing.T) *crmFixture {
	t.Helper()
	ctx := t.Context()
	f := &crmFixture{db: MustOpen(t, nil), ada: &parley.Contact{FirstName: "Ada"}, bob: &parley.Contact{FirstName: "Bob"}}
	for _, c := range []*parley.Contact{f.ada, f.bob} {
		if err := f.db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.adaChat = f.thread(t, f.ada.ID, parley.ChannelChat, 7)
	f.adaEmail = f.thread(t, f.ada.ID, parley.ChannelEmail, 0)
	f.bobChat = f.thread(t, f.bob.ID, parley.ChannelChat, 7)
	f.adaVisitor = "hash-ada"
	if err := f.db.CreateVisitor(ctx, &parley.Visitor{Hash: f.adaVisitor, ContactID: f.ada.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *crmFixture) thread(t *testing.T, contact uint64, channel int, widget uint64) *parley.Thread {
	t.Helper()
	th := &parley.Thread{InboxID: 1, ChannelID: channel, ChannelAccountID: widget, ContactID: contact}
	if err := f.db.CreateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	return th
}

func sysEvent(event, text string, threadID uint64) *parley.Message {
	return &parley.Message{ThreadID: threadID, Type: parley.TypeSystem, Event: event, Text: text, SenderID: "A-1", Direction: parley.Outgoing}
}

func recordIDs(rs []*parley.Record) []uint64 {
	ids := []uint64{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestCreateRecord(t *testing.T) {
	f := newCRMFixture(t)
	ctx := t.Context()
	tests := []struct {
		name     string
		record   parley.Record
		event    *parley.Message
		code     string
		wantID   uint64
		threadOK bool // the event was appended
	}{
		{"ticket alone", parley.Record{Kind: "ticket", Name: "Refund", Stage: "new", ContactID: f.ada.ID, CreatedBy: 1}, nil, "", 1, false},
		{"deal on the chat", parley.Record{Kind: "deal", Name: "Pro", Stage: "won", Amount: "99.5", OwnerID: 2, ContactID: f.ada.ID, CreatedBy: 1},
			sysEvent(parley.EventRecordCreated, "deal:Pro", f.adaChat.ID), "", 2, true},
		{"ticket on the email", parley.Record{Kind: "ticket", Name: "Invoice", Stage: "waiting", ContactID: f.ada.ID},
			sysEvent(parley.EventRecordCreated, "ticket:Invoice", f.adaEmail.ID), "", 3, true},
		{"on another contact's thread", parley.Record{Kind: "ticket", Name: "x", Stage: "new", ContactID: f.ada.ID},
			sysEvent(parley.EventRecordCreated, "ticket:x", f.bobChat.ID), parley.EINVALID, 0, false},
		{"unknown contact", parley.Record{Kind: "ticket", Name: "x", Stage: "new", ContactID: 99}, nil, parley.ENOTFOUND, 0, false},
		{"no contact", parley.Record{Kind: "ticket", Name: "x", Stage: "new"}, nil, parley.ENOTFOUND, 0, false},
		{"unknown thread", parley.Record{Kind: "ticket", Name: "x", Stage: "new", ContactID: f.ada.ID},
			sysEvent(parley.EventRecordCreated, "ticket:x", 99), parley.ENOTFOUND, 0, false},
		{"threads without event", parley.Record{Kind: "ticket", Name: "x", Stage: "new", ContactID: f.ada.ID, ThreadIDs: []uint64{f.adaChat.ID}}, nil, parley.EINVALID, 0, false},
		{"event without thread", parley.Record{Kind: "ticket", Name: "x", Stage: "new", ContactID: f.ada.ID},
			sysEvent(parley.EventRecordCreated, "ticket:x", 0), parley.EINVALID, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *parley.Thread
			if tt.event != nil && tt.event.ThreadID != 0 && tt.event.ThreadID != 99 {
				before, _ = f.db.Thread(ctx, tt.event.ThreadID)
			}
			r := tt.record
			res, err := f.db.CreateRecord(ctx, &r, tt.event)
			wantCode(t, err, tt.code)
			if before != nil {
				after, _ := f.db.Thread(ctx, before.ID)
				if grew := after.LastSeq - before.LastSeq; grew != map[bool]uint64{true: 1, false: 0}[tt.threadOK] {
					t.Errorf("thread %d grew by %d messages, want %v", before.ID, grew, tt.threadOK)
				}
			}
			if err != nil {
				return
			}
			if r.ID != tt.wantID || r.CreatedAt.IsZero() || !r.UpdatedAt.Equal(r.CreatedAt) {
				t.Errorf("created %+v, want ID %d and both times set", r, tt.wantID)
			}
			got, err := f.db.Record(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, r) {
				t.Errorf("Record(%d)=%+v, want %+v", r.ID, *got, r)
			}
			if tt.event == nil {
				if res.Message != nil || len(r.ThreadIDs) != 0 {
					t.Errorf("no event: result %+v, threads %v", res, r.ThreadIDs)
				}
				return
			}
			if !reflect.DeepEqual(r.ThreadIDs, []uint64{tt.event.ThreadID}) {
				t.Errorf("threadIds=%v, want [%d]", r.ThreadIDs, tt.event.ThreadID)
			}
			m := res.Message
			if m != tt.event || m.ID == 0 || m.Seq != res.Thread.LastSeq || m.Event != parley.EventRecordCreated || m.Type != parley.TypeSystem {
				t.Errorf("event %+v (thread lastSeq %d)", m, res.Thread.LastSeq)
			}
			stored, err := f.db.Message(ctx, m.ID)
			if err != nil || stored.Text != m.Text {
				t.Errorf("stored event %+v, %v", stored, err)
			}
		})
	}
	if _, err := f.db.Record(ctx, 4); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("a failed create left record 4: %v", err)
	}

	lists := []struct {
		name string
		get  func() ([]*parley.Record, error)
		want []uint64
	}{
		{"Ada's records", func() ([]*parley.Record, error) { return f.db.ContactRecords(ctx, f.ada.ID) }, []uint64{3, 2, 1}},
		{"Bob's records", func() ([]*parley.Record, error) { return f.db.ContactRecords(ctx, f.bob.ID) }, []uint64{}},
		{"unknown contact", func() ([]*parley.Record, error) { return f.db.ContactRecords(ctx, 99) }, []uint64{}},
		{"Ada's chat", func() ([]*parley.Record, error) { return f.db.ThreadRecords(ctx, f.adaChat.ID) }, []uint64{2}},
		{"Ada's email", func() ([]*parley.Record, error) { return f.db.ThreadRecords(ctx, f.adaEmail.ID) }, []uint64{3}},
		{"Bob's chat", func() ([]*parley.Record, error) { return f.db.ThreadRecords(ctx, f.bobChat.ID) }, []uint64{}},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := tt.get()
			if err != nil {
				t.Fatal(err)
			}
			if got := recordIDs(rs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ids=%v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpdateRecord(t *testing.T) {
	f := newCRMFixture(t)
	ctx := t.Context()
	r := parley.Record{Kind: "deal", Name: "Pro", Stage: "qualified", ContactID: f.ada.ID, CreatedBy: 1}
	if _, err := f.db.CreateRecord(ctx, &r, sysEvent(parley.EventRecordCreated, "deal:Pro", f.adaChat.ID)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		fn   func(*parley.Record) error
		code string
		want func(r parley.Record) parley.Record
	}{
		{"stage, amount, owner, name", func(r *parley.Record) error {
			r.Stage, r.Amount, r.OwnerID, r.Name = "won", "1200", 3, "Pro yearly"
			return nil
		}, "", func(r parley.Record) parley.Record {
			r.Stage, r.Amount, r.OwnerID, r.Name = "won", "1200", 3, "Pro yearly"
			return r
		}},
		{"fixed fields stay", func(r *parley.Record) error {
			r.Kind, r.ContactID, r.CreatedBy, r.ThreadIDs, r.ID = "ticket", f.bob.ID, 9, []uint64{f.bobChat.ID}, 77
			return nil
		}, "", func(r parley.Record) parley.Record { return r }},
		{"fn fails", func(r *parley.Record) error {
			r.Name = "lost"
			return errTest
		}, parley.EINTERNAL, nil},
	}
	cur := r
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.db.UpdateRecord(ctx, r.ID, tt.fn)
			wantCode(t, err, tt.code)
			stored, _ := f.db.Record(ctx, r.ID)
			if err != nil {
				if !reflect.DeepEqual(*stored, cur) {
					t.Errorf("failed update wrote %+v, want %+v", *stored, cur)
				}
				return
			}
			want := tt.want(cur)
			want.UpdatedAt = got.UpdatedAt
			if !reflect.DeepEqual(*got, want) || !reflect.DeepEqual(*stored, want) {
				t.Errorf("updated %+v, stored %+v, want %+v", *got, *stored, want)
			}
			cur = *stored
		})
	}
	_, err := f.db.UpdateRecord(ctx, 99, func(*parley.Record) error { return nil })
	wantCode(t, err, parley.ENOTFOUND)
	// The indexes did not follow the undone changes.
	if rs, _ := f.db.ContactRecords(ctx, f.bob.ID); len(rs) != 0 {
		t.Errorf("Bob has records %v", recordIDs(rs))
	}
	if rs, _ := f.db.ThreadRecords(ctx, f.bobChat.ID); len(rs) != 0 {
		t.Errorf("Bob's chat has records %v", recordIDs(rs))
	}
	if rs, _ := f.db.ThreadRecords(ctx, f.adaChat.ID); !reflect.DeepEqual(recordIDs(rs), []uint64{r.ID}) {
		t.Errorf("Ada's chat has records %v", recordIDs(rs))
	}
}

func TestEngagements(t *testing.T) {
	f := newCRMFixture(t)
	ctx := t.Context()
	tests := []struct {
		name   string
		e      parley.Engagement
		event  *parley.Message
		code   string
		wantID uint64
	}{
		{"note alone", parley.Engagement{Kind: "note", Body: "VIP", ContactID: f.ada.ID, CreatedBy: 1}, nil, "", 1},
		{"call on the chat", parley.Engagement{Kind: "call", Body: "Called back", ContactID: f.ada.ID, ThreadID: f.adaChat.ID, CreatedBy: 1},
			sysEvent(parley.EventEngagementAdded, "call", 0), "", 2},
		{"email to Bob", parley.Engagement{Kind: "email", Body: "Quote sent", ContactID: f.bob.ID}, nil, "", 3},
		{"on another contact's thread", parley.Engagement{Kind: "call", Body: "x", ContactID: f.ada.ID, ThreadID: f.bobChat.ID},
			sysEvent(parley.EventEngagementAdded, "call", 0), parley.EINVALID, 0},
		{"thread without event", parley.Engagement{Kind: "call", Body: "x", ContactID: f.ada.ID, ThreadID: f.adaChat.ID}, nil, parley.EINVALID, 0},
		{"event without thread", parley.Engagement{Kind: "call", Body: "x", ContactID: f.ada.ID},
			sysEvent(parley.EventEngagementAdded, "call", f.adaChat.ID), parley.EINVALID, 0},
		{"unknown contact", parley.Engagement{Kind: "call", Body: "x", ContactID: 99}, nil, parley.ENOTFOUND, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			res, err := f.db.CreateEngagement(ctx, &e, tt.event)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			if e.ID != tt.wantID || e.CreatedAt.IsZero() {
				t.Errorf("created %+v, want id %d", e, tt.wantID)
			}
			if tt.event != nil {
				if res.Message == nil || res.Message.ThreadID != e.ThreadID || res.Message.Event != parley.EventEngagementAdded || res.Thread.LastSeq != res.Message.Seq {
					t.Errorf("event %+v", res.Message)
				}
			}
		})
	}
	bob, _ := f.db.Thread(ctx, f.bobChat.ID)
	if bob.LastSeq != 0 {
		t.Errorf("Bob's chat got %d messages", bob.LastSeq)
	}
	// Paging, newest first.
	for i := range 5 {
		if _, err := f.db.CreateEngagement(ctx, &parley.Engagement{Kind: "note", Body: fmt.Sprint("n", i), ContactID: f.ada.ID}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(es []*parley.Engagement) []uint64 {
		out := []uint64{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	pages := []struct {
		name     string
		contact  uint64
		before   uint64
		limit    int
		want     []uint64
		wantMore bool
	}{
		{"first page", f.ada.ID, 0, 3, []uint64{8, 7, 6}, true},
		{"second page", f.ada.ID, 6, 3, []uint64{5, 4, 2}, true},
		{"last page", f.ada.ID, 2, 3, []uint64{1}, false},
		{"all", f.ada.ID, 0, 0, []uint64{8, 7, 6, 5, 4, 2, 1}, false},
		{"exactly all", f.ada.ID, 0, 7, []uint64{8, 7, 6, 5, 4, 2, 1}, false},
		{"Bob", f.bob.ID, 0, 0, []uint64{3}, false},
		{"nobody", 99, 0, 0, []uint64{}, false},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			es, more, err := f.db.ContactEngagements(ctx, tt.contact, tt.before, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(es); !reflect.DeepEqual(got, tt.want) || more != tt.wantMore {
				t.Errorf("ids=%v more=%v, want %v %v", got, more, tt.want, tt.wantMore)
			}
		})
	}
}

func TestDisassociateContact(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the thread to detach and the contact to expect.
		setup       func(t *testing.T, f *crmFixture) (thread, contact uint64)
		code        string
		wantMoved   int
		wantVisitor func(f *crmFixture) uint64 // the contact Ada's credential stands for afterwards
	}{
		{"current chat: the credential follows", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			return f.adaChat.ID, f.ada.ID
		}, "", 1, nil},
		{"two credentials follow", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			if err := f.db.CreateVisitor(t.Context(), &parley.Visitor{Hash: "hash-ada-2", ContactID: f.ada.ID}); err != nil {
				t.Fatal(err)
			}
			return f.adaChat.ID, f.ada.ID
		}, "", 2, nil},
		{"older chat: no credential moves", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			newer := f.thread(t, f.ada.ID, parley.ChannelChat, 7)
			_ = newer
			return f.adaChat.ID, f.ada.ID
		}, "", 0, func(f *crmFixture) uint64 { return f.ada.ID }},
		{"without the contact check", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			return f.adaChat.ID, 0
		}, "", 1, nil},
		{"email thread", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			return f.adaEmail.ID, f.ada.ID
		}, parley.EINVALID, 0, func(f *crmFixture) uint64 { return f.ada.ID }},
		{"contact changed", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			return f.adaChat.ID, f.bob.ID
		}, parley.ECONFLICT, 0, func(f *crmFixture) uint64 { return f.ada.ID }},
		{"unknown thread", func(t *testing.T, f *crmFixture) (uint64, uint64) {
			return 99, f.ada.ID
		}, parley.ENOTFOUND, 0, func(f *crmFixture) uint64 { return f.ada.ID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCRMFixture(t)
			ctx := t.Context()
			threadID, contactID := tt.setup(t, f)
			var before *parley.Thread
			if threadID != 99 {
				before, _ = f.db.Thread(ctx, threadID)
			}
			ev := sysEvent(parley.EventContactRemoved, "Ada", threadID)
			d, err := f.db.DisassociateContact(ctx, threadID, contactID, ev)
			wantCode(t, err, tt.code)
			v, verr := f.db.Visitor(ctx, f.adaVisitor)
			if verr != nil {
				t.Fatal(verr)
			}
			if err != nil {
				// Nothing was written: no new contact, no message.
				if _, err := f.db.Contact(ctx, f.bob.ID+1); parley.ErrorCode(err) != parley.ENOTFOUND {
					t.Errorf("a failed disassociation created contact %d", f.bob.ID+1)
				}
				if before != nil {
					after, _ := f.db.Thread(ctx, threadID)
					if after.LastSeq != before.LastSeq || after.ContactID != before.ContactID {
						t.Errorf("thread changed: %+v", after)
					}
				}
				if v.ContactID != tt.wantVisitor(f) {
					t.Errorf("credential stands for %d", v.ContactID)
				}
				return
			}
			if d.OldContact != f.ada.ID || d.Contact.ID == 0 || d.Contact.DisplayName() != fmt.Sprint("Visitor #", d.Contact.ID) || d.Visitors != tt.wantMoved {
				t.Errorf("result %+v (contact %+v), want old %d and %d moved", d, d.Contact, f.ada.ID, tt.wantMoved)
			}
			if d.Thread.ContactID != d.Contact.ID || d.Thread.LastSeq != before.LastSeq+1 {
				t.Errorf("thread %+v, want contact %d and one more message", d.Thread, d.Contact.ID)
			}
			if d.Message != ev || ev.Event != parley.EventContactRemoved || ev.Seq != d.Thread.LastSeq || ev.ID == 0 {
				t.Errorf("event %+v", ev)
			}
			stored, _ := f.db.Thread(ctx, threadID)
			if stored.ContactID != d.Contact.ID {
				t.Errorf("stored thread contact=%d, want %d", stored.ContactID, d.Contact.ID)
			}
			// The new contact's chat on the widget is this thread.
			if chat, err := f.db.ChatThread(ctx, d.Contact.ID, 7); err != nil || chat.ID != threadID {
				t.Errorf("ChatThread(new contact)=%v, %v; want thread %d", chat, err, threadID)
			}
			// The old contact lost it.
			old, _, err := f.db.Threads(ctx, parley.ThreadFilter{ContactID: f.ada.ID})
			if err != nil {
				t.Fatal(err)
			}
			for _, th := range old {
				if th.ID == threadID {
					t.Errorf("Ada still has thread %d", threadID)
				}
			}
			want := d.Contact.ID
			if tt.wantVisitor != nil {
				want = tt.wantVisitor(f)
			}
			if v.ContactID != want {
				t.Errorf("credential stands for contact %d, want %d", v.ContactID, want)
			}
			if tt.wantMoved > 0 {
				if chat, err := f.db.ChatThread(ctx, v.ContactID, 7); err != nil || chat.ID != threadID {
					t.Errorf("the visitor's chat is %v (%v), want thread %d", chat, err, threadID)
				}
			}
			// Moving again moves the index along: a second disassociation
			// of the same chat moves the credentials once more.
			if tt.wantMoved > 0 {
				d2, err := f.db.DisassociateContact(ctx, threadID, d.Contact.ID, sysEvent(parley.EventContactRemoved, "", threadID))
				if err != nil {
					t.Fatal(err)
				}
				if d2.Visitors != tt.wantMoved {
					t.Errorf("second move moved %d, want %d", d2.Visitors, tt.wantMoved)
				}
				if v, _ := f.db.Visitor(ctx, f.adaVisitor); v.ContactID != d2.Contact.ID {
					t.Errorf("after the second move the credential stands for %d, want %d", v.ContactID, d2.Contact.ID)
				}
			}
		})
	}
}

// TestVisitorIndexMigration: credentials stored under schema version 1 are
// indexed by the migration to version 2, so that they follow their chat.
func TestVisitorIndexMigration(t *testing.T) {
	dir := t.TempDir()
	bdb, err := bolt.Open(dir+"/"+fileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(bdb, migrations()[:1]); err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		if err := putJSON(bucket(tx, bucketContacts), itob(1), &parley.Contact{ID: 1}); err != nil {
			return err
		}
		if err := bucket(tx, bucketContacts).SetSequence(1); err != nil {
			return err
		}
		return putJSON(bucket(tx, bucketVisitors), []byte("old-hash"), &parley.Visitor{Hash: "old-hash", ContactID: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db := MustOpenDir(t, dir, &Options{NoSync: true})
	ctx := context.Background()
	th := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 3, ContactID: 1}
	if err := db.CreateThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	d, err := db.DisassociateContact(ctx, th.ID, 1, sysEvent(parley.EventContactRemoved, "", th.ID))
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Visitor(ctx, "old-hash")
	if err != nil {
		t.Fatal(err)
	}
	if d.Visitors != 1 || v.ContactID != d.Contact.ID {
		t.Errorf("moved %d; credential stands for %d, want %d", d.Visitors, v.ContactID, d.Contact.ID)
	}
}

// TestDeleteInboxUnlinksRecords: deleting an inbox for good takes its
// threads out of the records associated with them; the records stay with
// their contact.
func TestDeleteInboxUnlinksRecords(t *testing.T) {
	f := newCRMFixture(t)
	ctx := t.Context()
	keep, doomed := &parley.Inbox{Name: "Keep"}, &parley.Inbox{Name: "Doomed"}
	for _, in := range []*parley.Inbox{keep, doomed} {
		if err := f.db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	th := &parley.Thread{InboxID: doomed.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 9, ContactID: f.ada.ID}
	if err := f.db.CreateThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	r := parley.Record{Kind: "ticket", Name: "Refund", Stage: "new", ContactID: f.ada.ID}
	if _, err := f.db.CreateRecord(ctx, &r, sysEvent(parley.EventRecordCreated, "ticket: Refund", th.ID)); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteInbox(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	if rs, err := f.db.ThreadRecords(ctx, th.ID); err != nil || len(rs) != 0 {
		t.Errorf("deleted thread's records=%v, %v", recordIDs(rs), err)
	}
	got, err := f.db.Record(ctx, r.ID)
	if err != nil || len(got.ThreadIDs) != 0 {
		t.Fatalf("record=%+v, %v; want it without threads", got, err)
	}
	if rs, _ := f.db.ContactRecords(ctx, f.ada.ID); !reflect.DeepEqual(recordIDs(rs), []uint64{r.ID}) {
		t.Errorf("Ada's records=%v", recordIDs(rs))
	}
}
