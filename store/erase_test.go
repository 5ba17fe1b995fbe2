package store

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	bolt "go.etcd.io/bbolt"
)

// findNeedles walks every bucket of the file, nested ones included, and
// returns, for each needle, where it occurs in a bucket name, key or value
// ("bucket/key-hex"). It knows no bucket by name, so a bucket added later is
// searched too.
func findNeedles(t *testing.T, db *DB, needles [][]byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	look := func(where string, data []byte) {
		for _, n := range needles {
			if bytes.Contains(data, n) {
				out[string(n)] = append(out[string(n)], where)
			}
		}
	}
	var walk func(path string, b *bolt.Bucket) error
	walk = func(path string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			where := fmt.Sprintf("%s/%x", path, k)
			look(where+" (key)", k)
			if v == nil {
				return walk(where, b.Bucket(k))
			}
			look(where, v)
			return nil
		})
	}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			look(string(name)+" (bucket)", name)
			return walk(string(name), b)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEraseContactLeavesNothing: a contact with everything Parley can hold
// about one — an address, a name, custom properties, consents, a visitor
// credential, a custom channel's link, chats and a mail in the trash with
// files, an upload no message claimed, a ticket, a logged call, search
// terms, a company made from its domain — is erased, and no bucket holds
// its id, address, words or files any more, while another contact's
// conversation, with an agent's note about the erased one, stays.
func TestEraseContactLeavesNothing(t *testing.T) {
	f := newFileFixture(t)
	ctx := t.Context()
	db := f.db
	// Contact ids well above every other id, so that the id's bytes are
	// the contact's alone.
	for range 40 {
		if err := db.CreateContact(ctx, &parley.Contact{}); err != nil {
			t.Fatal(err)
		}
	}
	who := parley.DeliveryIdentifier{Type: parley.DeliveryPhone, Value: "+4915550199731"}
	c, err := db.ChannelContact(ctx, 1000, who, &parley.Contact{FirstName: "Zephyrine"})
	if err != nil {
		t.Fatal(err)
	}
	c, err = db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
		c.LastName, c.Email = "Quillfeather", "zephyrine@quillfeather-erase.test"
		c.Properties = map[string]string{"favourite": "marmalade7731"}
		c.Consents = []parley.ConsentRecord{{Kind: parley.ConsentKindProcess, Text: "ok", Version: "v1", WidgetID: 5, PageURL: "https://shop.test/zq-landing", At: f.clk.Now()}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.CompanyID == 0 {
		t.Fatal("the contact got no company from its domain")
	}
	if err := db.CreateVisitor(ctx, &parley.Visitor{Hash: "zq-visitor-hash", ContactID: c.ID}); err != nil {
		t.Fatal(err)
	}
	other := &parley.Contact{FirstName: "Other", Email: "other@example.com"}
	if err := db.CreateContact(ctx, other); err != nil {
		t.Fatal(err)
	}

	// A chat with a file, a mail in the trash, an upload not yet sent.
	file := f.upload(t, c.ActorID(), 0, "zq-passport-scan-bytes")
	chat, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "my secret xylophonic9931 here",
		SenderID: c.ActorID(), Direction: parley.Incoming, ClientID: "zq-client-1", Attachments: []parley.Attachment{{FileID: file.ID}}},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: f.keep.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: c.ID}})
	if err != nil {
		t.Fatal(err)
	}
	mail, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "invoice gryphonesque4410",
		SenderID: c.ActorID(), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: f.doomed.ID, ChannelID: parley.ChannelEmail, ContactID: c.ID, Subject: "zq subject", Archived: true}})
	if err != nil {
		t.Fatal(err)
	}
	f.upload(t, c.ActorID(), 0, "zq-unsent-upload-bytes")
	ticket := &parley.Record{Kind: parley.RecordTicket, Name: "Refund", Stage: "new", ContactID: c.ID}
	if _, err := db.CreateRecord(ctx, ticket, sysEvent(parley.EventRecordCreated, "ticket: Refund", chat.Thread.ID)); err != nil {
		t.Fatal(err)
	}
	call := &parley.Engagement{Kind: "call", Body: "called about the pelicanry5520", ContactID: c.ID}
	if _, err := db.CreateEngagement(ctx, call, nil); err != nil {
		t.Fatal(err)
	}
	// Another contact's conversation, with a note that mentions the
	// erased one: it is not the erased contact's, so it stays.
	kept, err := db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "hello from the other",
		SenderID: other.ActorID(), Direction: parley.Incoming},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: f.keep.ID, ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: other.ID}})
	if err != nil {
		t.Fatal(err)
	}
	note, err := db.AppendMessage(ctx, &parley.Message{ThreadID: kept.Thread.ID, Type: parley.TypeComment, Text: "same company as the refund case",
		SenderID: "A-1", Direction: parley.Outgoing}, parley.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}

	id := strconv.FormatUint(c.ID, 10)
	needles := [][]byte{
		itob(c.ID), []byte(`"V-` + id + `"`), []byte(`"contactId":` + id + `,`),
		[]byte("zephyrine"), []byte("Zephyrine"), []byte("quillfeather"), []byte("Quillfeather"),
		[]byte("marmalade7731"), []byte("zq-landing"), []byte("4915550199731"), []byte("zq-visitor-hash"), []byte("zq-client-1"),
		[]byte("xylophonic9931"), []byte("gryphonesque4410"), []byte("pelicanry5520"), []byte("zq subject"),
		[]byte(blobKey("zq-passport-scan-bytes")), []byte(blobKey("zq-unsent-upload-bytes")),
	}
	before := findNeedles(t, db, needles)
	for _, n := range needles {
		if len(before[string(n)]) == 0 {
			t.Errorf("before the erasure, %q is nowhere: the test would prove nothing", n)
		}
	}

	f.clk.Add(time.Minute)
	e, err := db.EraseContact(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var tids []uint64
	for _, th := range e.Threads {
		tids = append(tids, th.ID)
	}
	slices.Sort(tids)
	if want := []uint64{chat.Thread.ID, mail.Thread.ID}; e.Contact.ID != c.ID || !slices.Equal(tids, want) {
		t.Errorf("erasure of contact %d, threads %v; want %d, %v", e.Contact.ID, tids, c.ID, want)
	}
	if want := []string{blobKey("zq-passport-scan-bytes"), blobKey("zq-unsent-upload-bytes")}; !slices.Equal(e.FileKeys, slices.Sorted(slices.Values(want))) {
		t.Errorf("file keys %v, want %v", e.FileKeys, want)
	}
	if err := db.WaitIndexed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for n, where := range findNeedles(t, db, needles) {
		t.Errorf("after the erasure, %q is still in %v", n, where)
	}

	_, err = db.Contact(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = db.EraseContact(ctx, c.ID)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = db.Company(ctx, c.CompanyID)
	wantCode(t, err, parley.ENOTFOUND)
	if keys, err := db.FileKeys(ctx); err != nil || keys[blobKey("zq-passport-scan-bytes")] || keys[blobKey("zq-unsent-upload-bytes")] {
		t.Errorf("FileKeys=%v, %v; the erased files are still named", keys, err)
	}
	ms, _, err := db.Messages(ctx, kept.Thread.ID, 0, 10)
	if err != nil || len(ms) != 2 || ms[1].ID != note.Message.ID {
		t.Errorf("the other contact's conversation: %d messages, %v; want its message and the note", len(ms), err)
	}
	if hits, _, err := db.Search(ctx, parley.SearchQuery{Text: "refund case", Limit: 10}); err != nil || len(hits) != 1 {
		t.Errorf("search for the note: %d hits, %v; want 1", len(hits), err)
	}

	// The address comes back as a new contact with nothing of the old.
	again := &parley.Contact{Email: "Zephyrine@quillfeather-erase.test"}
	if err := db.CreateContact(ctx, again); err != nil {
		t.Fatal(err)
	}
	if again.ID == c.ID {
		t.Errorf("the new contact got the erased contact's id %d", c.ID)
	}
	ts, _, err := db.Threads(ctx, parley.ThreadFilter{ContactID: again.ID, Limit: 10})
	if err != nil || len(ts) != 0 {
		t.Errorf("the new contact's threads: %d, %v; want none", len(ts), err)
	}
	if rs, err := db.ContactRecords(ctx, again.ID); err != nil || len(rs) != 0 {
		t.Errorf("the new contact's records: %d, %v; want none", len(rs), err)
	}
}
