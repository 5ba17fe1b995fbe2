package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunHostileEmails: which emails are one and which are two, as
// strings.ToLower decides (see the package comment), for users and for
// invitations alike.
func RunHostileEmails(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	for _, tt := range []struct {
		first, second string
		same          bool
	}{
		{"MiXeD@Example.COM", "mixed@example.com", true},
		{"ÄDA@example.com", "äda@example.com", true},
		{"\u212Aim@example.com", "kim@example.com", true}, // the Kelvin sign lowers to k
		{"İlker@example.com", "ilker@example.com", true},  // dotted capital I lowers to i
		{"STRASSE@example.com", "straße@example.com", false},
		{"ΣΟΦΙΑ@example.com", "σοφια@example.com", true},
		{"sofiaς@example.com", "sofiaσ@example.com", false}, // final sigma stays itself
		{"ﬀ@example.com", "ff@example.com", false},          // no full case folding
		{" pad@example.com", "pad@example.com", false},      // no trimming either
	} {
		t.Run(tt.first+" "+tt.second, func(t *testing.T) {
			a := &parley.User{Email: tt.first}
			if err := db.CreateUser(ctx, a); err != nil {
				t.Fatal(err)
			}
			b := &parley.User{Email: tt.second}
			err := db.CreateUser(ctx, b)
			if tt.same {
				wantCode(t, err, parley.ECONFLICT)
				if got, err := db.UserByEmail(ctx, tt.second); err != nil || got.ID != a.ID {
					t.Errorf("UserByEmail(%q)=%+v, %v, want user %d", tt.second, got, err, a.ID)
				}
			} else {
				wantCode(t, err, "")
				if got, err := db.UserByEmail(ctx, tt.second); err != nil || got.ID != b.ID {
					t.Errorf("UserByEmail(%q)=%+v, %v, want user %d", tt.second, got, err, b.ID)
				}
			}
			if got, err := db.UserByEmail(ctx, tt.first); err != nil || got.ID != a.ID || got.Email != tt.first {
				t.Errorf("UserByEmail(%q)=%+v, %v, want user %d as written", tt.first, got, err, a.ID)
			}
		})
	}
	// An invitation for an email replaces one for the same email in
	// another case, by the same rule.
	week := time.Now().Add(7 * 24 * time.Hour)
	for _, inv := range []*parley.Invite{
		{Hash: "x1", Email: "ÄDA@invite.example", ExpiresAt: week},
		{Hash: "x2", Email: "äda@invite.example", ExpiresAt: week},
		{Hash: "x3", Email: "STRASSE@invite.example", ExpiresAt: week},
		{Hash: "x4", Email: "straße@invite.example", ExpiresAt: week},
	} {
		if err := db.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	var hashes []string
	list, err := db.Invites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range list {
		hashes = append(hashes, inv.Hash)
	}
	slices.Sort(hashes)
	if want := []string{"x2", "x3", "x4"}; !slices.Equal(hashes, want) {
		t.Errorf("invitations=%v, want %v", hashes, want)
	}
}

// hostile are strings that break careless SQL, JSON or key handling.
var hostile = []string{
	`'; DROP TABLE users; --`,
	`" OR "1"="1`,
	`\'; SELECT pg_sleep(10); --`,
	`$1 $$ $tag$ %s %d ? :name`,
	"back\\slash/and\"quote'",
	`{"json": true}`,
	"😀 emoji and \u202e right-to-left",
	"tab\tnewline\ncarriage\r",
	"%_ like wildcards _%",
}

// RunMetacharacters: every string field that the store keeps or looks up
// by comes back exactly as written, and looks up nothing else.
func RunMetacharacters(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	for i, s := range hostile {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			u := &parley.User{Email: s + "@example.com", Name: s, Signature: s, Language: s, PasswordHash: s}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if got, err := db.UserByEmail(ctx, strings.ToUpper(u.Email)); err != nil || !reflect.DeepEqual(got, u) {
				t.Errorf("UserByEmail=%+v, %v, want %+v", got, err, u)
			}
			if err := db.SetMeta(ctx, s, []byte(s)); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Meta(ctx, s); err != nil || string(got) != s {
				t.Errorf("Meta=%q, %v", got, err)
			}
			sess := &parley.Session{Hash: s, UserID: u.ID, Kind: parley.SessionToken, Name: s}
			if err := db.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Session(ctx, s); err != nil || !reflect.DeepEqual(got, sess) {
				t.Errorf("Session=%+v, %v, want %+v", got, err, sess)
			}
			inv := &parley.Invite{Hash: s, Email: s + "@invite.example", ExpiresAt: time.Now().Add(time.Hour).UTC().Round(0)}
			if err := db.CreateInvite(ctx, inv); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Invite(ctx, s); err != nil || !reflect.DeepEqual(got, inv) {
				t.Errorf("Invite=%+v, %v, want %+v", got, err, inv)
			}
			team := &parley.Team{Name: s}
			if err := db.CreateTeam(ctx, team); err != nil {
				t.Fatal(err)
			}
			in := &parley.Inbox{Name: s, Mailboxes: []parley.Mailbox{{Address: s + "@inbox.example"}}}
			if err := db.CreateInbox(ctx, in); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Inbox(ctx, in.ID); err != nil || got.Name != s || got.Mailboxes[0].Address != s+"@inbox.example" {
				t.Errorf("Inbox=%+v, %v", got, err)
			}
		})
	}
	// Nothing was dropped or matched more than it should.
	users, err := db.Users(ctx)
	if err != nil || len(users) != len(hostile) {
		t.Errorf("users=%d, %v, want %d", len(users), err, len(hostile))
	}
	if _, err := db.UserByEmail(ctx, "%"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("UserByEmail(%%)=%v, want ENOTFOUND", err)
	}
	if _, err := db.Session(ctx, "%"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Session(%%)=%v, want ENOTFOUND", err)
	}
	if tokens, err := db.Tokens(ctx, 0); err != nil || len(tokens) != len(hostile) {
		t.Errorf("tokens=%d, %v, want %d", len(tokens), err, len(hostile))
	}
}

// RunNULBytes: a NUL byte is data like any other, in keys and values; a key
// with one is not the key without it.
func RunNULBytes(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	u := &parley.User{Email: "a\x00b@example.com", Name: "nul\x00name"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.User(ctx, u.ID); err != nil || got.Name != u.Name || got.Email != u.Email {
		t.Errorf("User=%+v, %v, want %+v", got, err, u)
	}
	if _, err := db.UserByEmail(ctx, "a"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("UserByEmail(before the NUL)=%v, want ENOTFOUND", err)
	}
	if got, err := db.UserByEmail(ctx, "A\x00B@example.com"); err != nil || got.ID != u.ID {
		t.Errorf("UserByEmail(with the NUL)=%+v, %v", got, err)
	}
	if err := db.CreateUser(ctx, &parley.User{Email: "a"}); err != nil {
		t.Errorf("CreateUser(the email before the NUL): %v", err)
	}

	for _, key := range []string{"k\x00", "k", "\x00"} {
		val := []byte("v\x00" + key)
		if err := db.SetMeta(ctx, key, val); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Meta(ctx, key); err != nil || !bytes.Equal(got, val) {
			t.Errorf("Meta(%q)=%q, %v, want %q", key, got, err, val)
		}
	}
	if err := db.SetMeta(ctx, "k\x00", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Meta(ctx, "k"); err != nil || string(got) != "v\x00k" {
		t.Errorf("Meta(k) after deleting k\\x00=%q, %v", got, err)
	}

	s := &parley.Session{Hash: "h\x00", UserID: u.ID, Kind: parley.SessionCookie, ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "h"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Session(h)=%v, want ENOTFOUND", err)
	}
	if got, err := db.Session(ctx, "h\x00"); err != nil || got.Hash != s.Hash {
		t.Errorf("Session(h\\x00)=%+v, %v", got, err)
	}
	inv := &parley.Invite{Hash: "i\x00", Email: "x\x00@example.com", ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateInvite(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Invite(ctx, "i\x00"); err != nil || got.Email != inv.Email {
		t.Errorf("Invite=%+v, %v", got, err)
	}
	in := &parley.Inbox{Name: "\x00", Mailboxes: []parley.Mailbox{{Address: "m\x00@example.com"}, {Address: "m@example.com"}}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Inbox(ctx, in.ID); err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("Inbox=%+v, %v, want %+v", got, err, in)
	}
}

// RunOversized: keys longer than parley.MaxKeyLen are EINVALID naming the
// key, with nothing written; keys of exactly that length and large values
// are kept.
func RunOversized(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	long := strings.Repeat("x", parley.MaxKeyLen+1)
	email := strings.Repeat("e", parley.MaxKeyLen-len("@example.com")+1) + "@example.com"
	edge := email[1:] // exactly MaxKeyLen
	in := &parley.Inbox{Name: "Only"}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		word string // in the message
	}{
		{"meta key", db.SetMeta(ctx, long, []byte("v")), "meta key"},
		{"user email", db.CreateUser(ctx, &parley.User{Email: email}), "user email"},
		{"session hash", db.CreateSession(ctx, &parley.Session{Hash: long, Kind: parley.SessionCookie}), "session hash"},
		{"token hash", db.CreateSession(ctx, &parley.Session{Hash: long, Kind: parley.SessionToken}), "session hash"},
		{"invite hash", db.CreateInvite(ctx, &parley.Invite{Hash: long, Email: "a@example.com", ExpiresAt: time.Now().Add(time.Hour)}), "invite hash"},
		{"invite email", db.CreateInvite(ctx, &parley.Invite{Hash: "h", Email: email, ExpiresAt: time.Now().Add(time.Hour)}), "invite email"},
		{"inbox address", db.CreateInbox(ctx, &parley.Inbox{Name: "Big", Mailboxes: []parley.Mailbox{{Address: email}}}), "email address"},
		{"inbox address by update", func() error {
			_, err := db.UpdateInbox(ctx, in.ID, func(in *parley.Inbox) error {
				in.Mailboxes = []parley.Mailbox{{Address: email}}
				return nil
			})
			return err
		}(), "email address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.err, parley.EINVALID)
			if !strings.Contains(tt.err.Error(), tt.word) {
				t.Errorf("error %q does not name the %s", tt.err, tt.word)
			}
		})
	}
	if users, _ := db.Users(ctx); len(users) != 0 {
		t.Errorf("users=%d after refused creates, want 0", len(users))
	}
	if all, _ := db.Inboxes(ctx); len(all) != 1 || len(all[0].Mailboxes) != 0 {
		t.Errorf("inboxes=%+v after refused writes", all)
	}
	if list, _ := db.Invites(ctx); len(list) != 0 {
		t.Errorf("invites=%d after refused creates, want 0", len(list))
	}
	_, err := db.Meta(ctx, long)
	wantCode(t, err, parley.ENOTFOUND)
	_, err = db.UserByEmail(ctx, email)
	wantCode(t, err, parley.ENOTFOUND)

	// At the limit, and large values.
	big := strings.Repeat("ü", 1<<19) // 1 MiB
	u := &parley.User{Email: edge, Name: big}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserByEmail(ctx, strings.ToUpper(edge)); err != nil || got.Name != big {
		t.Errorf("UserByEmail(edge): %v", err)
	}
	val := bytes.Repeat([]byte{0, 1, 2, 255}, 1<<20) // 4 MiB
	if err := db.SetMeta(ctx, edge, val); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Meta(ctx, edge); err != nil || !bytes.Equal(got, val) {
		t.Errorf("Meta(edge): %d bytes, %v", len(got), err)
	}
	if err := db.CreateSession(ctx, &parley.Session{Hash: edge, Kind: parley.SessionToken, Name: big}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateInbox(ctx, in.ID, func(in *parley.Inbox) error {
		in.Mailboxes = []parley.Mailbox{{Address: edge}}
		in.Name = big
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// RunConcurrentWrites: races that one store process or several must decide
// as a single writer would.
func RunConcurrentWrites(t *testing.T, open Open) {
	ctx := t.Context()
	db := open(t, time.Now)
	const n = 16
	race := func(f func(i int) error) (won int, codes map[string]int) {
		t.Helper()
		codes = map[string]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := f(i)
				mu.Lock()
				defer mu.Unlock()
				codes[parley.ErrorCode(err)]++
				if err != nil && parley.ErrorCode(err) == parley.EINTERNAL {
					t.Errorf("race: %v", err)
				}
			})
		}
		wg.Wait()
		return codes[""], codes
	}

	t.Run("same email", func(t *testing.T) {
		won, codes := race(func(i int) error {
			email := "Race@Example.com"
			if i%2 == 1 {
				email = strings.ToUpper(email)
			}
			return db.CreateUser(ctx, &parley.User{Email: email, Name: fmt.Sprint(i)})
		})
		if won != 1 || codes[parley.ECONFLICT] != n-1 {
			t.Errorf("outcomes %v, want one success and %d ECONFLICT", codes, n-1)
		}
	})
	t.Run("same new email by update", func(t *testing.T) {
		ids := make([]uint64, n)
		for i := range ids {
			u := &parley.User{Email: fmt.Sprintf("u%d@example.com", i)}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			ids[i] = u.ID
		}
		won, codes := race(func(i int) error {
			_, err := db.UpdateUser(ctx, ids[i], func(u *parley.User) error { u.Email = "wanted@example.com"; return nil })
			return err
		})
		if won != 1 || codes[parley.ECONFLICT] != n-1 {
			t.Errorf("outcomes %v, want one success and %d ECONFLICT", codes, n-1)
		}
	})
	t.Run("same session hash", func(t *testing.T) {
		won, codes := race(func(i int) error {
			return db.CreateSession(ctx, &parley.Session{Hash: "same", Kind: parley.SessionToken, UserID: uint64(i + 1)})
		})
		if won != 1 || codes[parley.ECONFLICT] != n-1 {
			t.Errorf("outcomes %v, want one success and %d ECONFLICT", codes, n-1)
		}
	})
	t.Run("distinct creates get distinct ids", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[uint64]bool{}
		won, codes := race(func(i int) error {
			tm := &parley.Team{Name: fmt.Sprint(i)}
			err := db.CreateTeam(ctx, tm)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && seen[tm.ID] {
				t.Errorf("id %d given twice", tm.ID)
			}
			seen[tm.ID] = true
			return err
		})
		if won != n {
			t.Errorf("outcomes %v, want %d successes", codes, n)
		}
	})
	t.Run("no lost updates", func(t *testing.T) {
		in := &parley.Inbox{Name: "Busy"}
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
		if won, codes := race(func(i int) error {
			_, err := db.UpdateInbox(ctx, in.ID, func(in *parley.Inbox) error {
				in.MemberIDs = append(in.MemberIDs, uint64(i+1))
				return nil
			})
			return err
		}); won != n {
			t.Fatalf("outcomes %v, want %d successes", codes, n)
		}
		got, err := db.Inbox(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		members := slices.Sorted(slices.Values(got.MemberIDs))
		if len(members) != n || members[0] != 1 || members[n-1] != n {
			t.Errorf("members=%v, want 1…%d", members, n)
		}
	})
	t.Run("one address, many inboxes", func(t *testing.T) {
		ids := make([]uint64, n)
		for i := range ids {
			in := &parley.Inbox{Name: fmt.Sprint("address ", i)}
			if err := db.CreateInbox(ctx, in); err != nil {
				t.Fatal(err)
			}
			ids[i] = in.ID
		}
		won, codes := race(func(i int) error {
			_, err := db.UpdateInbox(ctx, ids[i], func(in *parley.Inbox) error {
				in.Mailboxes = []parley.Mailbox{{Address: "Shared@Example.com"}}
				return nil
			})
			return err
		})
		if won != 1 || codes[parley.ECONFLICT] != n-1 {
			t.Errorf("outcomes %v, want one success and %d ECONFLICT", codes, n-1)
		}
		holders := 0
		for _, id := range ids {
			if in, _ := db.Inbox(ctx, id); len(in.Mailboxes) > 0 {
				holders++
			}
		}
		if holders != 1 {
			t.Errorf("%d inboxes list the address, want 1", holders)
		}
	})
	t.Run("one invitation, many acceptances", func(t *testing.T) {
		if err := db.CreateInvite(ctx, &parley.Invite{Hash: "once", Email: "once@example.com", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		won, codes := race(func(i int) error {
			_, err := db.AcceptInvite(ctx, "once", &parley.User{Name: fmt.Sprint(i)})
			return err
		})
		if won != 1 || codes[parley.ENOTFOUND] != n-1 {
			t.Errorf("outcomes %v, want one success and %d ENOTFOUND", codes, n-1)
		}
	})
	t.Run("admins stepping down together leave one", func(t *testing.T) {
		var ids []uint64
		for i := range 4 {
			u := &parley.User{Email: fmt.Sprintf("admin%d@example.com", i), Role: parley.RoleAdmin}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Go(func() {
				_, errs[i] = db.UpdateUserAccess(ctx, id, func(u *parley.User) error {
					if i%2 == 0 {
						u.Role = parley.RoleAgent
					} else {
						u.Deactivated = true
					}
					return nil
				})
			})
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			switch parley.ErrorCode(err) {
			case "":
			case parley.ECONFLICT:
				failed++
			default:
				t.Errorf("step down: %v", err)
			}
		}
		users, err := db.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		active := 0
		for _, u := range users {
			if u.IsAdmin() && !u.Deactivated {
				active++
			}
		}
		if failed != 1 || active != 1 {
			t.Errorf("%d refused, %d active admins left; want 1 and 1", failed, active)
		}
	})
	t.Run("two inboxes deleted together leave one", func(t *testing.T) {
		// The inboxes made above stay; these two are the only others.
		all, err := db.Inboxes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range all {
			if err := db.DeleteInbox(ctx, in.ID); err != nil && parley.ErrorCode(err) != parley.ECONFLICT {
				t.Fatal(err)
			}
		}
		a, b := &parley.Inbox{Name: "A"}, &parley.Inbox{Name: "B"}
		for _, in := range []*parley.Inbox{a, b} {
			if err := db.CreateInbox(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		left, _ := db.Inboxes(ctx)
		for _, in := range left {
			if in.ID != a.ID && in.ID != b.ID {
				if err := db.DeleteInbox(ctx, in.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []uint64{a.ID, b.ID} {
			wg.Go(func() { errs[i] = db.DeleteInbox(ctx, id) })
		}
		wg.Wait()
		if codes := []string{parley.ErrorCode(errs[0]), parley.ErrorCode(errs[1])}; !slices.Contains(codes, "") || !slices.Contains(codes, parley.ECONFLICT) {
			t.Errorf("outcomes %v, want one deletion and one ECONFLICT", codes)
		}
		if left, _ := db.Inboxes(ctx); len(left) != 1 {
			t.Errorf("inboxes left=%d, want 1", len(left))
		}
	})
}
