package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/parley-chat/parley"
)

// Inboxes: the conversations API's read-only view (HubSpot v3 shape) and
// the settings API that creates and changes them.

type inboxJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt msTime `json:"createdAt"`
	UpdatedAt msTime `json:"updatedAt"`
	Archived  bool   `json:"archived"`
	// Type is HubSpot's inbox type: INBOX (HubSpot's other, HELP_DESK, is
	// not offered).
	Type string `json:"type"`
}

func toInboxJSON(in *parley.Inbox) inboxJSON {
	return inboxJSON{ID: idString(in.ID), Name: in.Name, CreatedAt: msTime(in.CreatedAt), UpdatedAt: msTime(in.UpdatedAt), Type: "INBOX"}
}

func (s *Server) handleInboxes() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		inboxes, err := s.db.Inboxes(r.Context())
		if err != nil {
			return err
		}
		out := []inboxJSON{}
		for _, in := range inboxes {
			if in.HasMember(u.ID) {
				out = append(out, toInboxJSON(in))
			}
		}
		p, err := slicePage(r, out)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, p)
		return nil
	})
}

func (s *Server) handleInboxGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "inboxId")
		if err != nil {
			return err
		}
		in, err := s.db.Inbox(r.Context(), id)
		if err != nil {
			return err
		} else if !in.HasMember(userFrom(r.Context()).ID) {
			return parley.Errorf(parley.ENOTFOUND, "inbox not found")
		}
		s.writeJSON(w, http.StatusOK, toInboxJSON(in))
		return nil
	})
}

// settingsInboxJSON is an inbox in the settings API: the conversations
// API's inbox and its members.
type settingsInboxJSON struct {
	groupJSON

	// Its addresses and outside notifications (http_mail.go).
	inboxMailJSON

	// RetentionDays: closed conversations and those in the trash are
	// deleted for good once their latest message is this many days old;
	// 0 keeps them.
	RetentionDays int `json:"retentionDays"`
}

func (s *Server) toSettingsInboxJSON(in *parley.Inbox) settingsInboxJSON {
	return settingsInboxJSON{toGroupJSON(in.ID, in.Name, in.MemberIDs, in.CreatedAt, in.UpdatedAt), s.toInboxMailJSON(in), in.RetentionDays}
}

// checkRetention checks retentionDays of a request; nil keeps it.
func checkRetention(days *int) error {
	if days != nil && (*days < 0 || *days > parley.MaxRetentionDays) {
		return parley.Errorf(parley.EINVALID, "retentionDays must be 0 (keep) to %d", parley.MaxRetentionDays)
	}
	return nil
}

// handleRetentionPreview counts the conversations of an inbox that a
// retention of ?days= would delete now (the settings' dry run).
func (s *Server) handleRetentionPreview() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		days, err := strconv.Atoi(r.URL.Query().Get("days"))
		if err != nil || days < 1 || days > parley.MaxRetentionDays {
			return parley.Errorf(parley.EINVALID, "days must be 1 to %d", parley.MaxRetentionDays)
		}
		if _, err := s.db.Inbox(r.Context(), id); err != nil {
			return err
		}
		n, err := s.app.RetentionCount(r.Context(), id, days)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, map[string]int{"days": days, "count": n})
		return nil
	})
}

// publishInbox announces a committed inbox to its members' consoles. Call
// after syncAgents, so that members just added get it.
func (s *Server) publishInbox(typ string, in *parley.Inbox) {
	s.hub.Publish(mustJSON(evInbox{Type: typ, Inbox: s.toSettingsInboxJSON(in)}), parley.InboxTopic(in.ID))
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

// inboxNameFree returns ECONFLICT if an inbox other than id (0 for a new
// one) is called name, in any case.
func (s *Server) inboxNameFree(ctx context.Context, name string, id uint64) error {
	inboxes, err := s.db.Inboxes(ctx)
	if err == nil && nameTaken(name, id, inboxNames(inboxes)) {
		err = parley.Errorf(parley.ECONFLICT, "an inbox named %q already exists", name)
	}
	return err
}

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
				out = append(out, s.toSettingsInboxJSON(in))
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
		s.writeJSON(w, http.StatusOK, s.toSettingsInboxJSON(in))
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
		if err := checkRetention(req.RetentionDays); err != nil {
			return err
		}
		now := s.now()
		in := &parley.Inbox{Name: *name, MemberIDs: members, CreatedAt: now, UpdatedAt: now}
		if req.RetentionDays != nil {
			in.RetentionDays = *req.RetentionDays
		}
		if err := setMail(in); err != nil {
			return err
		}
		if err := s.db.CreateInbox(ctx, in); err != nil {
			return err
		}
		s.syncAgents(ctx, in.MemberIDs...)
		s.publishInbox("inbox.created", in)
		s.writeJSON(w, http.StatusCreated, s.toSettingsInboxJSON(in))
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
		if err := checkRetention(req.RetentionDays); err != nil {
			return err
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
			if req.RetentionDays != nil {
				in.RetentionDays = *req.RetentionDays
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
		if len(req.MailRouting) > 0 {
			s.app.KickRouting() // waiting email threads may route now
		}
		if req.EmailAddresses != nil {
			s.app.KickMailboxes() // a connected address may be gone
		}
		if req.RetentionDays != nil {
			s.app.KickRetention()
		}
		s.writeJSON(w, http.StatusOK, s.toSettingsInboxJSON(in))
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
		s.app.KickMailboxes()
		s.app.FilesDeleted() // the inbox's files go with the next sweep
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// inboxMailRequest is the email part of a request that creates or changes
// an inbox: what is absent stays as it is.
type inboxMailRequest struct {
	EmailAddresses *[]string `json:"emailAddresses"`
	// MailRouting sets the routing of new email threads per address (E3).
	MailRouting map[string]json.RawMessage `json:"mailRouting"`
	// Signature is added to every email reply from the inbox.
	Signature *string `json:"signature"`
	Notify    *struct {
		NewConversation *idList `json:"newConversation"`
		AssignedMessage *idList `json:"assignedMessage"`
	} `json:"notify"`
}

// inboxRequest is the body of POST and PATCH /api/v1/inboxes.
type inboxRequest struct {
	groupRequest
	inboxMailRequest
	RetentionDays *int `json:"retentionDays"`
}
