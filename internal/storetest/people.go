package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// RunTeams: create, read, update and delete teams.
func RunTeams(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)

	sales := &parley.Team{Name: "Sales", MemberIDs: []uint64{1, 2}}
	if err := db.CreateTeam(ctx, sales); err != nil {
		t.Fatal(err)
	}
	if sales.ID != 1 || !sales.CreatedAt.Equal(clk.Now()) || !sales.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("created=%+v, want id 1 stamped %v", sales, clk.Now())
	}
	if err := db.CreateTeam(ctx, &parley.Team{Name: "Care"}); err != nil {
		t.Fatal(err)
	}
	later := clk.Add(time.Minute)
	for _, tt := range []struct {
		name    string
		run     func() error
		code    string
		wantIDs []uint64 // the teams afterwards
	}{
		{"read", func() error {
			got, err := db.Team(ctx, 1)
			if err == nil && !reflect.DeepEqual(got, sales) {
				return fmt.Errorf("Team(1)=%+v, want %+v", got, sales)
			}
			return err
		}, "", []uint64{1, 2}},
		{"read missing", func() error { _, err := db.Team(ctx, 9); return err }, parley.ENOTFOUND, []uint64{1, 2}},
		{"rename and add", func() error {
			got, err := db.UpdateTeam(ctx, 1, func(t *parley.Team) error {
				t.Name = "Sales EU"
				t.MemberIDs = append(t.MemberIDs, 3)
				t.ID = 77
				return nil
			})
			if err == nil && (got.ID != 1 || got.Name != "Sales EU" || !slices.Equal(got.MemberIDs, []uint64{1, 2, 3}) || !got.UpdatedAt.Equal(later)) {
				return fmt.Errorf("updated=%+v", got)
			}
			return err
		}, "", []uint64{1, 2}},
		{"update fails", func() error {
			_, err := db.UpdateTeam(ctx, 1, func(t *parley.Team) error { t.Name = "x"; return parley.Errorf(parley.EINVALID, "no") })
			return err
		}, parley.EINVALID, []uint64{1, 2}},
		{"update missing", func() error {
			_, err := db.UpdateTeam(ctx, 5, func(*parley.Team) error { return nil })
			return err
		}, parley.ENOTFOUND, []uint64{1, 2}},
		{"delete", func() error { return db.DeleteTeam(ctx, 2) }, "", []uint64{1}},
		{"delete again", func() error { return db.DeleteTeam(ctx, 2) }, parley.ENOTFOUND, []uint64{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.run(), tt.code)
			teams, err := db.Teams(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, tm := range teams {
				ids = append(ids, tm.ID)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("teams=%v, want %v", ids, tt.wantIDs)
			}
		})
	}
	if got, _ := db.Team(ctx, 1); got.Name != "Sales EU" {
		t.Errorf("name=%q after a failed update, want \"Sales EU\"", got.Name)
	}
	// A deleted team's id is not given again.
	next := &parley.Team{Name: "Next"}
	if err := db.CreateTeam(ctx, next); err != nil || next.ID != 3 {
		t.Errorf("team after a delete: id %d, %v, want 3", next.ID, err)
	}
}

// RunInvites: invitations by hash, the newest per email, expiry by the
// store's clock, oldest first.
func RunInvites(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)
	week := 7 * 24 * time.Hour
	inv := func(hash, email string, ttl time.Duration) *parley.Invite {
		return &parley.Invite{Hash: hash, Email: email, Role: parley.RoleAgent, RoutingSeat: true,
			InboxIDs: []uint64{1}, InvitedBy: 1, ExpiresAt: clk.Now().Add(ttl)}
	}
	hashes := func() []string {
		list, err := db.Invites(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range list {
			out = append(out, i.Hash)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		run  func() error
		code string
		want []string // pending hashes afterwards, oldest first
	}{
		{"create", func() error { return db.CreateInvite(ctx, inv("h1", "bob@example.com", week)) }, "", []string{"h1"}},
		{"create another", func() error { clk.Add(time.Second); return db.CreateInvite(ctx, inv("h2", "cy@example.com", week)) }, "", []string{"h1", "h2"}},
		{"same hash", func() error { return db.CreateInvite(ctx, inv("h1", "dee@example.com", week)) }, parley.ECONFLICT, []string{"h1", "h2"}},
		{"no hash", func() error { return db.CreateInvite(ctx, inv("", "dee@example.com", week)) }, parley.EINVALID, []string{"h1", "h2"}},
		{"no email", func() error { return db.CreateInvite(ctx, inv("h9", "", week)) }, parley.EINVALID, []string{"h1", "h2"}},
		{"read", func() error {
			got, err := db.Invite(ctx, "h1")
			if err == nil && (got.Email != "bob@example.com" || !slices.Equal(got.InboxIDs, []uint64{1}) || got.CreatedAt.IsZero()) {
				return fmt.Errorf("Invite(h1)=%+v", got)
			}
			return err
		}, "", []string{"h1", "h2"}},
		{"read missing", func() error { _, err := db.Invite(ctx, "nope"); return err }, parley.ENOTFOUND, []string{"h1", "h2"}},
		{"read empty", func() error { _, err := db.Invite(ctx, ""); return err }, parley.ENOTFOUND, []string{"h1", "h2"}},
		{"new link for the same email replaces the old", func() error {
			clk.Add(time.Second)
			return db.CreateInvite(ctx, inv("h3", "BOB@example.com", week))
		}, "", []string{"h2", "h3"}},
		{"old link is gone", func() error { _, err := db.Invite(ctx, "h1"); return err }, parley.ENOTFOUND, []string{"h2", "h3"}},
		{"short-lived", func() error {
			clk.Add(time.Second)
			return db.CreateInvite(ctx, inv("h4", "eve@example.com", time.Hour))
		}, "", []string{"h2", "h3", "h4"}},
		{"expired is not found", func() error { clk.Add(time.Hour); _, err := db.Invite(ctx, "h4"); return err }, parley.ENOTFOUND, []string{"h2", "h3"}},
		{"an expired link's hash is still taken", func() error { return db.CreateInvite(ctx, inv("h4", "eve@example.com", week)) }, parley.ECONFLICT, []string{"h2", "h3"}},
		{"delete", func() error { return db.DeleteInvite(ctx, "h2") }, "", []string{"h3"}},
		{"delete missing", func() error { return db.DeleteInvite(ctx, "h2") }, parley.ENOTFOUND, []string{"h3"}},
		{"delete empty", func() error { return db.DeleteInvite(ctx, "") }, parley.ENOTFOUND, []string{"h3"}},
		{"a new invitation drops the expired", func() error { return db.CreateInvite(ctx, inv("h5", "fay@example.com", week)) }, "", []string{"h3", "h5"}},
		{"so its hash is free", func() error { clk.Add(time.Second); return db.CreateInvite(ctx, inv("h4", "eve@example.com", week)) }, "", []string{"h3", "h5", "h4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.run(), tt.code)
			if got := hashes(); !slices.Equal(got, tt.want) {
				t.Errorf("pending=%v, want %v", got, tt.want)
			}
		})
	}
}

// RunAcceptInvite: an invitation becomes a user who joins its inboxes that
// still exist; a missing, expired or used one is ENOTFOUND, a taken email
// ECONFLICT with the invitation kept.
func RunAcceptInvite(t *testing.T, open Open) {
	ctx := t.Context()
	clk := newClock()
	db := open(t, clk.Now)
	sales := &parley.Inbox{Name: "Sales", MemberIDs: []uint64{}}
	care := &parley.Inbox{Name: "Care", MemberIDs: []uint64{}}
	for _, in := range []*parley.Inbox{sales, care} {
		if err := db.CreateInbox(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	taken := &parley.User{Email: "taken@example.com", Name: "Taken"}
	if err := db.CreateUser(ctx, taken); err != nil {
		t.Fatal(err)
	}
	week := 7 * 24 * time.Hour
	for _, i := range []*parley.Invite{
		{Hash: "good", Email: "Bob@Example.com", Role: parley.RoleAdmin, RoutingSeat: true, InboxIDs: []uint64{care.ID, 99, sales.ID}, ExpiresAt: clk.Now().Add(week)},
		{Hash: "taken", Email: "TAKEN@example.com", Role: parley.RoleAgent, ExpiresAt: clk.Now().Add(week)},
		{Hash: "short", Email: "cy@example.com", Role: parley.RoleAgent, ExpiresAt: clk.Now().Add(time.Minute)},
	} {
		if err := db.CreateInvite(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(2 * time.Minute)

	for _, tt := range []struct {
		name, hash string
		code       string
		stays      bool // the invite is still there afterwards
	}{
		{"missing", "nope", parley.ENOTFOUND, false},
		{"empty", "", parley.ENOTFOUND, false},
		{"expired", "short", parley.ENOTFOUND, false},
		{"email taken meanwhile", "taken", parley.ECONFLICT, true},
		{"good", "good", "", false},
		{"used twice", "good", parley.ENOTFOUND, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := &parley.User{Name: "New person", Email: "ignored@example.com", Role: parley.RoleAgent, PasswordHash: "x"}
			inv, err := db.AcceptInvite(ctx, tt.hash, u)
			wantCode(t, err, tt.code)
			if _, err := db.Invite(ctx, tt.hash); (err == nil) != tt.stays {
				t.Errorf("invite stays=%v, want %v", err == nil, tt.stays)
			}
			if err != nil {
				if u.ID != 0 || u.Email != "ignored@example.com" {
					t.Errorf("a failed AcceptInvite changed its argument: %+v", u)
				}
				return
			}
			if inv.Hash != tt.hash || u.ID == 0 || u.Email != "Bob@Example.com" || u.Role != parley.RoleAdmin || !u.RoutingSeat || u.Name != "New person" || !u.CreatedAt.Equal(clk.Now()) {
				t.Errorf("user=%+v invite=%+v", u, inv)
			}
			stored, err := db.UserByEmail(ctx, "bob@example.com")
			if err != nil || !reflect.DeepEqual(stored, u) {
				t.Errorf("stored=%+v (%v), want %+v", stored, err, u)
			}
			for _, id := range []uint64{sales.ID, care.ID} {
				in, _ := db.Inbox(ctx, id)
				if !in.HasMember(u.ID) || !in.UpdatedAt.Equal(clk.Now()) {
					t.Errorf("inbox %d=%+v, want member %d", id, in, u.ID)
				}
			}
		})
	}
	if users, _ := db.Users(ctx); len(users) != 2 {
		t.Errorf("users=%d, want 2", len(users))
	}
}
