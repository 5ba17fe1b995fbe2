package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

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

// settingsInboxJSON is an inbox in the settings API: the conversations
// API's inbox and its members.
type settingsInboxJSON struct {
	groupJSON

	// Its addresses and outside notifications (routes_mail.go).
	inboxMailJSON
}

func toSettingsInboxJSON(in *parley.Inbox) settingsInboxJSON {
	return settingsInboxJSON{toGroupJSON(in.ID, in.Name, in.MemberIDs, in.CreatedAt, in.UpdatedAt), toInboxMailJSON(in)}
}

func toTeamJSON(t *parley.Team) groupJSON {
	return toGroupJSON(t.ID, t.Name, t.MemberIDs, t.CreatedAt, t.UpdatedAt)
}

// inviteJSON is an invitation in the settings API. Unlike parley.Invite it
// shows the hash as the id, ids as strings and times in UTC, and the link
// only to the invitation's maker.
type inviteJSON struct {
	ID          string    `json:"id"` // the hash of the link's secret
	URL         string    `json:"url,omitempty"`
	Email       string    `json:"email"`
	Role        string    `json:"role"`
	RoutingSeat bool      `json:"routingSeat"`
	InboxIDs    []flexID  `json:"inboxIds"`
	InvitedBy   string    `json:"invitedBy"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func toInviteJSON(inv *parley.Invite) inviteJSON {
	return inviteJSON{ID: inv.Hash, Email: inv.Email, Role: string(inv.Role), RoutingSeat: inv.RoutingSeat,
		InboxIDs: flexIDs(inv.InboxIDs), InvitedBy: idString(inv.InvitedBy), CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC()}
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

// publishInbox announces a committed inbox to its members' consoles. Call
// after syncAgents, so that members just added get it.
func (s *Server) publishInbox(typ string, in *parley.Inbox) {
	s.hub.Publish(mustJSON(evInbox{Type: typ, Inbox: toSettingsInboxJSON(in)}), parley.InboxTopic(in.ID))
}

// publishUser announces a committed change of a user to every console.
func (s *Server) publishUser(u *parley.User) {
	s.hub.Publish(mustJSON(evUser{Type: "user.updated", User: s.toUserJSON(u, true)}), presenceTopic)
}

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

// ----- users -----

func (s *Server) handleUserGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		u, err := s.db.User(r.Context(), id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toUserJSON(u, true))
		return nil
	})
}

// handleUserPatch changes a user's name, role, routing seat, cap of open
// chats, away mode (I10: an admin may set a teammate away) or whether they
// are deactivated.
// Deactivation ends their sessions, tokens and open consoles at once; their
// history stays. A role change closes their open consoles, which reconnect
// with the new rights.
func (s *Server) handleUserPatch() http.Handler {
	type request struct {
		Name        *string `json:"name"`
		Role        *string `json:"role"`
		RoutingSeat *bool   `json:"routingSeat"`
		Deactivated *bool   `json:"deactivated"`
		Away        *bool   `json:"away"`
		// MaxOpenChats: 0 (no cap) to parley.MaxOpenChatsLimit.
		MaxOpenChats *int `json:"maxOpenChats"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		var name string
		var role parley.Role
		if req.Name != nil {
			if name, err = cleanName("name", *req.Name); err != nil {
				return err
			}
		}
		if req.Role != nil {
			if role, err = parseRole(*req.Role); err != nil {
				return err
			}
		}
		if req.MaxOpenChats != nil {
			if err := parley.ValidateMaxOpenChats(*req.MaxOpenChats); err != nil {
				return err
			}
		}
		var before parley.User
		u, err := s.db.UpdateUserAccess(ctx, id, func(u *parley.User) error {
			before = *u
			if req.Name != nil {
				u.Name = name
			}
			if req.Role != nil {
				u.Role = role
			}
			if req.RoutingSeat != nil {
				u.RoutingSeat = *req.RoutingSeat
			}
			if req.Deactivated != nil {
				u.Deactivated = *req.Deactivated
			}
			if req.Away != nil {
				u.Away = *req.Away
			}
			if req.MaxOpenChats != nil {
				u.MaxOpenChats = *req.MaxOpenChats
			}
			return nil
		})
		if err != nil {
			return err
		}
		if u.Deactivated && !before.Deactivated {
			s.closeAgents(u.ID, kindOf(parley.EUNAUTHORIZED).close, "account deactivated")
		} else if u.Role != before.Role {
			// The connections hold the user as they were: they reconnect
			// with the new rights (a demoted admin's tokens have lost the
			// admin scope in the same commit).
			s.closeAgents(u.ID, closeRightsChanged, "role changed")
		}
		if req.Away != nil {
			s.presence.SetAway(u.ID, u.Away) // availability and presence follow
		}
		s.publishUser(u)
		if u.Deactivated != before.Deactivated || u.RoutingSeat != before.RoutingSeat {
			s.app.PeopleChanged()
		}
		if u.MaxOpenChats != before.MaxOpenChats {
			s.app.KickRouting() // a higher cap may make room for a waiting conversation
		}
		s.writeJSON(w, http.StatusOK, s.toUserJSON(u, true))
		return nil
	})
}

// ----- invitations -----

func (s *Server) handleInvites() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.db.Invites(r.Context())
		if err != nil {
			return err
		}
		out := make([]inviteJSON, len(list))
		for i, inv := range list {
			out[i] = toInviteJSON(inv)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// handleInviteCreate makes an invitation link for one email address. The
// link is shown once (only its hash is stored); a new link for the same
// address replaces the older one.
func (s *Server) handleInviteCreate() http.Handler {
	type request struct {
		Email       string `json:"email"`
		Role        string `json:"role"`
		RoutingSeat bool   `json:"routingSeat"`
		InboxIDs    idList `json:"inboxIds"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		email, err := cleanEmail(req.Email)
		if err != nil {
			return err
		}
		if req.Role == "" {
			req.Role = string(parley.RoleAgent)
		}
		role, err := parseRole(req.Role)
		if err != nil {
			return err
		}
		inboxIDs := []uint64{}
		for _, id := range req.InboxIDs {
			if slices.Contains(inboxIDs, id) {
				continue
			}
			if _, err := s.db.Inbox(ctx, id); parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Errorf(parley.EINVALID, "inboxIds: inbox %d does not exist", id)
			} else if err != nil {
				return err
			}
			inboxIDs = append(inboxIDs, id)
		}
		if _, err := s.db.UserByEmail(ctx, email); err == nil {
			return parley.Errorf(parley.ECONFLICT, "a user with email %s already exists", email)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		token, hash := newSecret("pi_")
		now := s.now()
		inv := &parley.Invite{Hash: hash, Email: email, Role: role, RoutingSeat: req.RoutingSeat, InboxIDs: inboxIDs,
			InvitedBy: userFrom(ctx).ID, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
		if err := s.db.CreateInvite(ctx, inv); err != nil {
			return err
		}
		out := toInviteJSON(inv)
		out.URL = s.baseURL(r) + "/invite?token=" + token
		s.writeJSON(w, http.StatusCreated, out)
		return nil
	})
}

func (s *Server) handleInviteDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.db.DeleteInvite(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleInviteAccept creates the invited user with a name and password,
// makes them a member of the invitation's inboxes, consumes the invitation
// and signs them in.
func (s *Server) handleInviteAccept() http.Handler {
	type request struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	return signInHandler(s, http.StatusCreated, func(r *http.Request, req *request) (*parley.User, error) {
		u, inv, err := s.acceptInvite(r, req.Token, req.Name, req.Password)
		if err != nil {
			return nil, err
		}
		s.publishUser(u)
		for _, id := range inv.InboxIDs {
			if in, err := s.db.Inbox(r.Context(), id); err == nil {
				s.publishInbox("inbox.updated", in)
			}
		}
		s.app.PeopleChanged()
		return u, nil
	})
}

// acceptInvite creates the user that the invitation with this token
// invites and returns them and the invitation. An unknown, expired or used
// token counts as a failed attempt of r's client (beginAttempt).
func (s *Server) acceptInvite(r *http.Request, token, name, password string) (*parley.User, *parley.Invite, error) {
	ctx := r.Context()
	done, err := s.beginAttempt(r, "")
	if err != nil {
		return nil, nil, err
	}
	failed := false
	defer func() { done(failed) }()
	hash := hashSecret(token)
	inv, err := s.db.Invite(ctx, hash)
	if parley.ErrorCode(err) == parley.ENOTFOUND || token == "" {
		failed = true
		return nil, nil, errInviteGone()
	} else if err != nil {
		return nil, nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(inv.Email, "@")
	}
	if name, err = cleanName("name", name); err != nil {
		return nil, nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, nil, err
	}
	pw, err := s.hashPassword(ctx, password)
	if err != nil {
		return nil, nil, err
	}
	u := &parley.User{Name: name, PasswordHash: pw, CreatedAt: s.now()}
	inv, err = s.db.AcceptInvite(ctx, hash, u)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		failed = true
		return nil, nil, errInviteGone()
	} else if err != nil {
		return nil, nil, err
	}
	return u, inv, nil
}

func errInviteGone() error {
	return parley.Errorf(parley.ENOTFOUND, "this invitation is not valid: it has expired or was already used")
}

// ----- teams -----

func (s *Server) handleTeams() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		teams, err := s.db.Teams(r.Context())
		if err != nil {
			return err
		}
		out := make([]groupJSON, len(teams))
		for i, t := range teams {
			out[i] = toTeamJSON(t)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

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

func teamNames(teams []*parley.Team) func(yield func(uint64, string) bool) {
	return func(yield func(uint64, string) bool) {
		for _, t := range teams {
			if !yield(t.ID, t.Name) {
				return
			}
		}
	}
}

func inboxNames(inboxes []*parley.Inbox) func(yield func(uint64, string) bool) {
	return func(yield func(uint64, string) bool) {
		for _, in := range inboxes {
			if !yield(in.ID, in.Name) {
				return
			}
		}
	}
}

// teamNameFree returns ECONFLICT if a team other than id (0 for a new one)
// is called name, in any case.
func (s *Server) teamNameFree(ctx context.Context, name string, id uint64) error {
	teams, err := s.db.Teams(ctx)
	if err == nil && nameTaken(name, id, teamNames(teams)) {
		err = parley.Errorf(parley.ECONFLICT, "a team named %q already exists", name)
	}
	return err
}

// inboxNameFree returns ECONFLICT if an inbox other than id (0 for a new
// one) is called name, in any case.
func (s *Server) inboxNameFree(ctx context.Context, name string, id uint64) error {
	inboxes, err := s.db.Inboxes(ctx)
	if err == nil && nameTaken(name, id, inboxNames(inboxes)) {
		err = parley.Errorf(parley.ECONFLICT, "an inbox named %q already exists", name)
	}
	return err
}

func (s *Server) handleTeamCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req groupRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req, true)
		if err != nil {
			return err
		}
		if err := s.teamNameFree(ctx, *name, 0); err != nil {
			return err
		}
		t := &parley.Team{Name: *name, MemberIDs: members, CreatedAt: s.now()}
		if err := s.db.CreateTeam(ctx, t); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toTeamJSON(t))
		return nil
	})
}

func (s *Server) handleTeamPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req groupRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req, false)
		if err != nil {
			return err
		}
		if name != nil {
			if err := s.teamNameFree(ctx, *name, id); err != nil {
				return err
			}
		}
		t, err := s.db.UpdateTeam(ctx, id, func(t *parley.Team) error {
			if name != nil {
				t.Name = *name
			}
			if members != nil {
				t.MemberIDs = slices.Clone(members)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if members != nil {
			s.app.PeopleChanged() // routing to teams and availability follow members
		}
		s.writeJSON(w, http.StatusOK, toTeamJSON(t))
		return nil
	})
}

func (s *Server) handleTeamDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteTeam(r.Context(), id); err != nil {
			return err
		}
		s.app.PeopleChanged()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// ----- inboxes -----

// handleSettingsInboxes lists every inbox for admins, and a member's own
// inboxes for anyone else, with their members.
func (s *Server) handleSettingsInboxes() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		inboxes, err := s.db.Inboxes(r.Context())
		if err != nil {
			return err
		}
		out := []settingsInboxJSON{}
		for _, in := range inboxes {
			if u.IsAdmin() || in.HasMember(u.ID) {
				out = append(out, toSettingsInboxJSON(in))
			}
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

func (s *Server) handleSettingsInboxGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		in, err := s.db.Inbox(r.Context(), id)
		if err != nil {
			return err
		} else if !u.IsAdmin() && !in.HasMember(u.ID) {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d not found", id)
		}
		s.writeJSON(w, http.StatusOK, toSettingsInboxJSON(in))
		return nil
	})
}

func (s *Server) handleInboxCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req inboxRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req.groupRequest, true)
		if err != nil {
			return err
		}
		setMail, err := s.checkInboxMail(ctx, req.inboxMailRequest)
		if err != nil {
			return err
		}
		if err := s.inboxNameFree(ctx, *name, 0); err != nil {
			return err
		}
		now := s.now()
		in := &parley.Inbox{Name: *name, MemberIDs: members, CreatedAt: now, UpdatedAt: now}
		if err := setMail(in); err != nil {
			return err
		}
		if err := s.db.CreateInbox(ctx, in); err != nil {
			return err
		}
		s.syncAgents(ctx, in.MemberIDs...)
		s.publishInbox("inbox.created", in)
		s.writeJSON(w, http.StatusCreated, toSettingsInboxJSON(in))
		return nil
	})
}

// handleInboxPatch renames an inbox or sets its members. Members added get
// its events on their open consoles at once; members removed stop getting
// them at once, are told (inbox.deleted with reason "removed") and find its
// threads "not found" from then on.
func (s *Server) handleInboxPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req inboxRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req.groupRequest, false)
		if err != nil {
			return err
		}
		setMail, err := s.checkInboxMail(ctx, req.inboxMailRequest)
		if err != nil {
			return err
		}
		if name != nil {
			if err := s.inboxNameFree(ctx, *name, id); err != nil {
				return err
			}
		}
		var before []uint64
		in, err := s.db.UpdateInbox(ctx, id, func(in *parley.Inbox) error {
			before = slices.Clone(in.MemberIDs)
			if name != nil {
				in.Name = *name
			}
			if members != nil {
				in.MemberIDs = slices.Clone(members)
			}
			return setMail(in)
		})
		if err != nil {
			return err
		}
		var removed, changed []uint64
		for _, m := range before {
			if !in.HasMember(m) {
				removed = append(removed, m)
			}
		}
		changed = append(changed, removed...)
		for _, m := range in.MemberIDs {
			if !slices.Contains(before, m) {
				changed = append(changed, m)
			}
		}
		s.syncAgents(ctx, changed...)
		s.publishInbox("inbox.updated", in)
		for _, m := range removed {
			s.hub.Publish(mustJSON(evInboxGone{Type: "inbox.deleted", InboxID: idString(in.ID), Reason: "removed"}), userTopic(m))
		}
		if len(changed) > 0 {
			s.app.PeopleChanged()
		}
		s.writeJSON(w, http.StatusOK, toSettingsInboxJSON(in))
		return nil
	})
}

// handleInboxDelete deletes an inbox for good with its widgets, threads and
// messages, once the caller has typed its exact name. At least one inbox
// remains.
func (s *Server) handleInboxDelete() http.Handler {
	type request struct {
		ConfirmName string `json:"confirmName"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		in, err := s.db.Inbox(ctx, id)
		if err != nil {
			return err
		}
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.ConfirmName != in.Name {
			return parley.Errorf(parley.EINVALID, "confirmName must be the inbox's exact name, %q", in.Name)
		}
		widgets, err := s.db.Widgets(ctx)
		if err != nil {
			return err
		}
		if err := s.db.DeleteInbox(ctx, id); err != nil {
			return err
		}
		// Consoles first, while they still listen to the inbox; then their
		// subscriptions go.
		s.hub.Publish(mustJSON(evInboxGone{Type: "inbox.deleted", InboxID: idString(id), Reason: "deleted"}), parley.InboxTopic(id))
		s.syncAgents(ctx, in.MemberIDs...)
		// Widgets of the inbox are gone: their visitors' launchers hide.
		gone := mustJSON(evStatus{Type: "status", Status: parley.WidgetStatus{}})
		for _, wd := range widgets {
			if wd.InboxID == id {
				s.hub.Publish(gone, widgetTopic(wd.ID))
			}
		}
		s.app.PeopleChanged()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
