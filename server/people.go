package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Shapes, events and checks shared by the people endpoints: users
// (http_users.go), invitations (http_invites.go), teams (http_teams.go) and
// inboxes (http_inboxes.go).

// ----- wire shapes and events -----

// groupJSON is a team, or an inbox's name and members, in the settings API.
// Unlike parley.Team and parley.Inbox, whose JSON is the store's, it writes
// ids as strings and times in UTC.
type groupJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	MemberIDs []flexID  `json:"memberIds"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toGroupJSON(id uint64, name string, members []uint64, created, updated time.Time) groupJSON {
	return groupJSON{ID: idString(id), Name: name, MemberIDs: flexIDs(members), CreatedAt: created.UTC(), UpdatedAt: updated.UTC()}
}

// Agent events of this area (docs/websocket.md).
type (
	evInbox struct {
		Type  string            `json:"type"` // inbox.created or inbox.updated
		Inbox settingsInboxJSON `json:"inbox"`
	}
	evInboxGone struct {
		Type    string `json:"type"` // inbox.deleted
		InboxID string `json:"inboxId"`
		Reason  string `json:"reason"` // "deleted", or "removed" from its members
	}
	evUser struct {
		Type string   `json:"type"` // user.updated
		User userJSON `json:"user"`
	}
)

// ----- validation -----

// cleanName trims a name and checks it (parley.ValidateLine): 1 to
// MaxNameBytes of one line.
func cleanName(field, s string) (string, error) {
	return parley.CleanLine(field, s, true)
}

// cleanEmail trims an email address and checks it the way CreateAdmin does.
func cleanEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if len(email) > parley.MaxNameBytes || !ok || local == "" || domain == "" || strings.ContainsAny(email, " <>\"\t\r\n") {
		return "", parley.Errorf(parley.EINVALID, "email %q is not a valid address", truncateForError(email))
	}
	return email, nil
}

func parseRole(s string) (parley.Role, error) {
	switch r := parley.Role(s); r {
	case parley.RoleAdmin, parley.RoleAgent:
		return r, nil
	}
	return "", parley.Errorf(parley.EINVALID, "role must be admin or agent")
}

// checkUsers returns ids without repeats, in order, or EINVALID if one names
// no user.
func (s *Server) checkUsers(ctx context.Context, field string, ids []uint64) ([]uint64, error) {
	out := []uint64{}
	for _, id := range ids {
		if slices.Contains(out, id) {
			continue
		}
		if _, err := s.db.User(ctx, id); parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.EINVALID, "%s: user %d does not exist", field, id)
		} else if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// ----- names and members of teams and inboxes -----

// groupRequest is the body that creates or changes a team or an inbox.
type groupRequest struct {
	Name      *string `json:"name"`
	MemberIDs *idList `json:"memberIds"`
}

// check validates the name and members of a new (required) or changed
// group and returns them; what is absent stays nil.
func (s *Server) checkGroup(ctx context.Context, req groupRequest, create bool) (name *string, members []uint64, err error) {
	if req.Name != nil || create {
		var n string
		if req.Name != nil {
			n = *req.Name
		}
		if n, err = cleanName("name", n); err != nil {
			return nil, nil, err
		}
		name = &n
	}
	if req.MemberIDs != nil {
		if members, err = s.checkUsers(ctx, "memberIds", *req.MemberIDs); err != nil {
			return nil, nil, err
		}
	} else if create {
		members = []uint64{}
	}
	return name, members, nil
}

// nameTaken reports whether another group than id (0: none) has name in any
// case.
func nameTaken(name string, id uint64, groups func(yield func(id uint64, name string) bool)) bool {
	for gid, n := range groups {
		if gid != id && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
