package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func auditNote(action string) *parley.AuditNote {
	return &parley.AuditNote{Entry: parley.AuditEntry{
		Actor:   parley.AuditActor{Kind: parley.AuditActorUser, ID: 1, Name: "ada@example.com"},
		Address: "192.0.2.7",
		Action:  action,
	}}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// RunAuditNotes: an entry exists if and only if its change committed. A
// write that commits leaves exactly one, with the record's id and the
// fields it changed, secrets named but not shown; a failed write leaves
// none and its note pending; a later write under the same context adds no
// second; a write without a note, or with a note without an action, adds
// none.
func RunAuditNotes(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)

	if err := db.CreateUser(ctx, &parley.User{Email: "quiet@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(parley.WithAudit(ctx, &parley.AuditNote{}), &parley.User{Email: "quiet2@example.com"}); err != nil {
		t.Fatal(err)
	}
	okNote, badNote, failNote := auditNote(parley.AuditUserInvite), auditNote(parley.AuditUserInvite), auditNote(parley.AuditUserUpdate)
	a := &parley.User{Email: "a@example.com", PasswordHash: "$argon2id$secret-hash"}
	if err := db.CreateUser(parley.WithAudit(ctx, okNote), a); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateUser(parley.WithAudit(ctx, badNote), &parley.User{Email: "A@example.com"}), parley.ECONFLICT)
	_, err := db.UpdateUser(parley.WithAudit(ctx, failNote), a.ID, func(u *parley.User) error {
		u.Name = "Changed"
		return errTest
	})
	if err != errTest {
		t.Fatalf("update error=%v, want errTest", err)
	}
	if !badNote.Pending() || !failNote.Pending() {
		t.Errorf("the notes of failed writes are marked written")
	}
	if okNote.Pending() {
		t.Errorf("the note of the committed write is still pending")
	}

	uctx := parley.WithAudit(ctx, auditNote(parley.AuditUserUpdate))
	clk.Add(time.Minute)
	for _, name := range []string{"Ada", "Ada L."} {
		if _, err := db.UpdateUser(uctx, a.ID, func(u *parley.User) error { u.Name = name; return nil }); err != nil {
			t.Fatal(err)
		}
	}

	got, err := db.AuditLog(ctx, parley.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("entries=%d, want 2: %s", len(got), dump(got))
	}
	upd, inv := got[0], got[1]
	if inv.ID != 1 || upd.ID != 2 {
		t.Errorf("ids=%d, %d, want 2, 1: a failed write gives its id back", upd.ID, inv.ID)
	}
	if inv.Action != parley.AuditUserInvite || inv.ObjectType != "user" || inv.ObjectID != fmt.Sprint(a.ID) || inv.Address != "192.0.2.7" || inv.Actor.Name != "ada@example.com" {
		t.Errorf("create entry=%s", dump(inv))
	}
	if !inv.Time.Equal(clk.Now().Add(-time.Minute)) || !upd.Time.Equal(clk.Now()) {
		t.Errorf("entry times=%v, %v, want the store's clock", inv.Time, upd.Time)
	}
	if upd.Action != parley.AuditUserUpdate || len(upd.Changes) != 1 || upd.Changes[0].Field != "name" ||
		upd.Changes[0].Old != nil || string(upd.Changes[0].New) != `"Ada"` {
		t.Errorf("update entry=%s, want name \"\" → \"Ada\"", dump(upd))
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), "secret-hash") {
		t.Errorf("the audit log holds a password hash: %s", b)
	}
	var sawSecret bool
	for _, c := range inv.Changes {
		if c.Field == "passwordHash" {
			sawSecret = c.Secret && c.Old == nil && c.New == nil
		}
	}
	if !sawSecret {
		t.Errorf("create entry does not name passwordHash as a secret: %s", dump(inv))
	}

	// Teams, inboxes, tokens and invitations fill their notes too.
	tctx := parley.WithAudit(ctx, auditNote(parley.AuditTeamCreate))
	team := &parley.Team{Name: "Ops"}
	if err := db.CreateTeam(tctx, team); err != nil {
		t.Fatal(err)
	}
	ictx := parley.WithAudit(ctx, auditNote(parley.AuditInboxCreate))
	in := &parley.Inbox{Name: "Sales"}
	if err := db.CreateInbox(ictx, in); err != nil {
		t.Fatal(err)
	}
	kctx := parley.WithAudit(ctx, auditNote(parley.AuditTokenCreate))
	tok := &parley.Session{Hash: "tokenhash", Kind: parley.SessionToken, UserID: a.ID, Name: "ci"}
	if err := db.CreateSession(kctx, tok); err != nil {
		t.Fatal(err)
	}
	vctx := parley.WithAudit(ctx, auditNote(parley.AuditUserInvite))
	if err := db.CreateInvite(vctx, &parley.Invite{Hash: "invitehash", Email: "b@example.com", ExpiresAt: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err = db.AuditLog(ctx, parley.AuditFilter{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"invite invitehash", fmt.Sprint("token ", tok.ID), fmt.Sprint("inbox ", in.ID), fmt.Sprint("team ", team.ID)}
	for i, e := range got {
		if i >= len(want) || e.ObjectType+" "+e.ObjectID != want[i] || len(e.Changes) == 0 {
			t.Errorf("entry %d=%s, want %q with its fields", i, dump(e), want[i])
		}
	}
	if len(got) != len(want) {
		t.Errorf("entries=%d, want %d", len(got), len(want))
	}
}

// RunAuditPaging: AuditLog lists newest first, pages with Before, and
// filters as AuditFilter.Match says.
func RunAuditPaging(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)
	for i := range 25 {
		clk.Add(time.Second)
		e := &parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorUser, ID: uint64(1 + i%2)}, Action: parley.AuditWidgetUpdate, ObjectType: "widget", ObjectID: fmt.Sprint(i % 3)}
		if i%5 == 0 {
			e.Action, e.ObjectType = parley.AuditTokenCreate, "token"
		}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID != uint64(i+1) || !e.Time.Equal(clk.Now()) {
			t.Fatalf("entry %d: id=%d time=%v", i, e.ID, e.Time)
		}
	}
	var ids []uint64
	f := parley.AuditFilter{Limit: 10}
	for page := 0; ; page++ {
		got, err := db.AuditLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if len(got) < f.Limit {
			break
		}
		f.Before = got[len(got)-1].ID
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != 25 {
		t.Fatalf("paged ids=%v, want 25", ids)
	}
	for i, id := range ids {
		if id != uint64(25-i) {
			t.Fatalf("ids=%v, want 25…1", ids)
		}
	}

	start := newClock().Now()
	for _, tc := range []struct {
		name string
		f    parley.AuditFilter
		want int
	}{
		{"all", parley.AuditFilter{}, 25},
		{"limit", parley.AuditFilter{Limit: 3}, 3},
		{"actor", parley.AuditFilter{Actor: "user:2"}, 12},
		{"action prefix", parley.AuditFilter{Action: "token."}, 5},
		{"action", parley.AuditFilter{Action: parley.AuditWidgetUpdate}, 20},
		{"not a prefix without its dot", parley.AuditFilter{Action: "widget"}, 0},
		{"object", parley.AuditFilter{ObjectType: "widget", ObjectID: "0"}, 7},
		{"since and until", parley.AuditFilter{Since: start.Add(5 * time.Second), Until: start.Add(9 * time.Second)}, 5},
		{"since a nanosecond later", parley.AuditFilter{Since: start.Add(25*time.Second + 1)}, 0},
		{"until in another zone", parley.AuditFilter{Until: start.Add(2 * time.Second).In(time.FixedZone("X", 5*3600))}, 2},
		{"before", parley.AuditFilter{Before: 3}, 2},
		{"before the first", parley.AuditFilter{Before: 1}, 0},
		{"before and filter", parley.AuditFilter{Before: 20, Actor: "user:1", Action: "widget."}, 8},
		{"quote in actor", parley.AuditFilter{Actor: "user:1' OR '1'='1"}, 0},
		{"wildcards in action", parley.AuditFilter{Action: "%."}, 0},
		{"wildcard in object", parley.AuditFilter{ObjectID: "_"}, 0},
		{"NUL in object", parley.AuditFilter{ObjectID: "0\x00"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.AuditLog(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("entries=%d, want %d: %s", len(got), tc.want, dump(got))
			}
			for i, e := range got {
				if !tc.f.Match(e) || tc.f.Before > 0 && e.ID >= tc.f.Before || i > 0 && e.ID >= got[i-1].ID {
					t.Errorf("entry %s is not selected or out of order", dump(e))
				}
			}
		})
	}
}

// RunAuditSince: an entry appended with a time older than the one before
// it ends a walk back to Since, as the log's ids grow with time: both
// stores stop at the first entry older than Since.
func RunAuditSince(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	t0 := newClock().Now()
	for _, d := range []time.Duration{10, 0, 20} {
		if err := db.AppendAudit(ctx, &parley.AuditEntry{Time: t0.Add(d * time.Second), Action: parley.AuditSessionFail}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.AuditLog(ctx, parley.AuditFilter{Since: t0.Add(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 3 {
		t.Errorf("entries=%s, want entry 3 alone", dump(got))
	}
}

// RunAuditPart: a note about a part of a record (an inbox's mailbox) gets
// that part's changes, even when the update changes it in place, in the
// slice the record's copy shares with the stored one.
func RunAuditPart(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	in := &parley.Inbox{Name: "Support", Mailboxes: []parley.Mailbox{{Address: "help@example.com"}}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	n := auditNote(parley.AuditMailboxUpdate)
	mb := fmt.Sprint(in.Mailboxes[0].ID)
	n.Entry.ObjectType, n.Entry.ObjectID = "mailbox", mb
	_, err := db.UpdateInbox(parley.WithAudit(ctx, n), in.ID, func(in *parley.Inbox) error {
		in.Mailboxes[0].Connection = &parley.MailConnection{IMAP: parley.MailServer{Host: "imap.example.com", Password: "sealed-pw"}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.AuditLog(ctx, parley.AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("entries=%s, %v, want 1", dump(got), err)
	}
	c := got[0].Changes
	if got[0].ObjectType != "mailbox" || got[0].ObjectID != mb || len(c) != 1 || c[0].Field != "connection" ||
		c[0].Old != nil || string(c[0].New) != `{"imap":{"host":"imap.example.com"}}` {
		t.Errorf("entry=%s, want the mailbox's connection without its password", dump(got[0]))
	}
}

// RunAuditHostile: entries keep SQL metacharacters, NUL bytes and large
// values as given and are found by them exactly; concurrent writers of one
// record each leave one entry, in the order they committed, each
// describing its own change.
func RunAuditHostile(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	odd := []string{"'; DROP TABLE audit; --", "a\x00b", "a", `\x00`, "%", "ünï\u2028", strings.Repeat("x", 100_000)}
	for _, s := range odd {
		e := &parley.AuditEntry{Actor: parley.AuditActor{Kind: parley.AuditActorNobody, Name: s}, Action: "contact." + s, ObjectType: s, ObjectID: s}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit(%.40q): %v", s, err)
		}
	}
	for i, s := range odd {
		got, err := db.AuditLog(ctx, parley.AuditFilter{ObjectType: s, ObjectID: s, Action: "contact." + s})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != uint64(i+1) || got[0].Actor.Name != s {
			t.Errorf("entries for %.40q=%.200s, want entry %d as written", s, dump(got), i+1)
		}
	}
	if got, err := db.AuditLog(ctx, parley.AuditFilter{Action: "contact."}); err != nil || len(got) != len(odd) {
		t.Errorf("entries by prefix=%d, %v, want %d", len(got), err, len(odd))
	}

	team := &parley.Team{Name: "0"}
	if err := db.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			uctx := parley.WithAudit(ctx, auditNote(parley.AuditTeamUpdate))
			_, err := db.UpdateTeam(uctx, team.ID, func(tm *parley.Team) error {
				tm.Name = fmt.Sprint(tm.Name, ",", i)
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.AuditLog(ctx, parley.AuditFilter{Action: parley.AuditTeamUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers {
		t.Fatalf("entries=%d, want %d", len(got), writers)
	}
	last := `"0"`
	for i := len(got) - 1; i >= 0; i-- {
		c := got[i].Changes
		if len(c) != 1 || c[0].Field != "name" || string(c[0].Old) != last {
			t.Fatalf("entry %s does not follow name %s", dump(got[i]), last)
		}
		last = string(c[0].New)
	}
	final, err := db.Team(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(final.Name); string(want) != last {
		t.Errorf("team name=%s, the last entry says %s", want, last)
	}
}
