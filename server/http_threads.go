package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// The conversations API in HubSpot's v3 shape (CONTRACT §4, docs/api.md).

type threadJSON struct {
	ID                             string  `json:"id"`
	CreatedAt                      msTime  `json:"createdAt"`
	ClosedAt                       *msTime `json:"closedAt,omitempty"`
	Status                         string  `json:"status"`
	OriginalChannelID              string  `json:"originalChannelId"`
	OriginalChannelAccountID       string  `json:"originalChannelAccountId"`
	LatestMessageTimestamp         *msTime `json:"latestMessageTimestamp,omitempty"`
	LatestMessageSentTimestamp     *msTime `json:"latestMessageSentTimestamp,omitempty"`
	LatestMessageReceivedTimestamp *msTime `json:"latestMessageReceivedTimestamp,omitempty"`
	// ThreadAssociations is set with ?association=TICKET, as in HubSpot.
	ThreadAssociations *threadAssociations `json:"threadAssociations,omitempty"`
	AssignedTo         string              `json:"assignedTo,omitempty"`
	Spam               bool                `json:"spam"`
	Blocked            bool                `json:"blocked"`
	RoleSender         bool                `json:"roleSender"` // email from a role address: Filtered
	Automatic          bool                `json:"automatic"`  // started by automatic mail: Filtered
	// Filtered is parley.Thread.IsFiltered, the rule of the Filtered view
	// (spam, blocked, role sender, automatic), so that the console places
	// live changes by the server's own decision.
	Filtered            bool   `json:"filtered"`
	InboxID             string `json:"inboxId"`
	AssociatedContactID string `json:"associatedContactId"`
	Archived            bool   `json:"archived"`
	// Parley's additions for list views.
	ContactName string `json:"contactName"`
	Subject     string `json:"subject,omitempty"` // email threads: the list shows it
	Preview     string `json:"preview"`
	LastSeq     uint64 `json:"lastSeq"`
	// Owner is who answers (B1): "bot", "waiting" (handed off by the bot,
	// for an agent) or "agent".
	Owner string `json:"owner"`
	// LatestReplyFailed is set on an email thread whose latest reply
	// failed to send for good.
	LatestReplyFailed bool `json:"latestReplyFailed,omitempty"`
}

// threadAssociations is HubSpot's threadAssociations: the ticket of the
// thread (its newest, when it has several), if any.
type threadAssociations struct {
	AssociatedTicketID string `json:"associatedTicketId,omitempty"`
}

// withAssociations reads ?association= (TICKET, HubSpot's only value) and
// returns a function that sets j's threadAssociations when it was asked
// for, or nil.
func (s *Server) withAssociations(r *http.Request) (func(j *threadJSON, t *parley.Thread) error, error) {
	vals := r.URL.Query()["association"]
	if len(vals) == 0 {
		return nil, nil
	}
	for _, v := range vals {
		if v != "TICKET" {
			return nil, parley.Errorf(parley.EINVALID, "association must be TICKET")
		}
	}
	return func(j *threadJSON, t *parley.Thread) error {
		recs, err := s.db.ThreadRecords(r.Context(), t.ID)
		if err != nil {
			return err
		}
		j.ThreadAssociations = &threadAssociations{}
		for _, rec := range recs {
			if rec.Kind == parley.RecordTicket {
				j.ThreadAssociations.AssociatedTicketID = idString(rec.ID)
				break
			}
		}
		return nil
	}, nil
}

func (s *Server) toThreadJSON(ctx context.Context, t *parley.Thread) threadJSON {
	j := threadJSON{
		ID: idString(t.ID), CreatedAt: msTime(t.CreatedAt), Status: string(t.Status),
		OriginalChannelID: strconv.Itoa(t.ChannelID), OriginalChannelAccountID: idString(t.ChannelAccountID),
		Spam: t.Spam, Blocked: t.Blocked, RoleSender: t.RoleSender, Automatic: t.Automatic, Filtered: t.IsFiltered(), InboxID: idString(t.InboxID), AssociatedContactID: idString(t.ContactID),
		Archived: t.Archived, Subject: t.Subject, Preview: t.Preview, LastSeq: t.LastSeq,
		ContactName: s.app.ActorName(ctx, parley.ContactActorID(t.ContactID)), Owner: ownerJSON(t.Owner),
		AssignedTo: userActorID(t.AssigneeID),
	}
	j.ClosedAt = msTimeOrNil(t.ClosedAt)
	j.LatestMessageTimestamp = msTimeOrNil(t.LatestMessageAt)
	j.LatestMessageSentTimestamp = msTimeOrNil(t.LatestSentAt)
	j.LatestMessageReceivedTimestamp = msTimeOrNil(t.LatestReceivedAt)
	if t.ChannelID == parley.ChannelEmail {
		if d, err := s.db.LatestDelivery(ctx, t.ID); err != nil {
			s.log.Warn().Err(err).Uint64("threadId", t.ID).Msg("read delivery status")
		} else if d != nil {
			j.LatestReplyFailed = d.Status == parley.DeliveryFailed
		}
	}
	return j
}

func (s *Server) handleThreadsList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		u := userFrom(ctx)
		q := r.URL.Query()
		limit, err := queryLimit(r, 100, 500)
		if err != nil {
			return err
		}
		f := parley.ThreadFilter{Limit: limit}
		if f.InboxIDs, err = s.queryInboxes(r, u); err != nil {
			return err
		}
		switch v := strings.ToUpper(q.Get("threadStatus")); v {
		case "":
		case "OPEN", "CLOSED":
			f.Status = parley.ThreadStatus(v)
		default:
			return parley.Errorf(parley.EINVALID, "threadStatus must be OPEN or CLOSED")
		}
		if f.ContactID, err = queryID(r, "associatedContactId"); err != nil {
			return err
		}
		if f.ThreadIDs, err = s.queryTicketThreads(r); err != nil {
			return err
		}
		assoc, err := s.withAssociations(r)
		if err != nil {
			return err
		}
		if f.Archived, err = queryBool(r, "archived"); err != nil {
			return err
		}
		switch v := q.Get("sort"); v {
		case "", "id":
			f.Sort = parley.SortByID
		case "-id":
			if f.ContactID == 0 && f.ThreadIDs == nil {
				return parley.Errorf(parley.EINVALID, "sort=-id needs associatedContactId or associatedTicketId")
			}
			f.Sort = parley.SortByIDDesc
		case "latestMessageTimestamp":
			if q.Get("latestMessageTimestampAfter") == "" {
				return parley.Errorf(parley.EINVALID, "sort=latestMessageTimestamp needs latestMessageTimestampAfter")
			}
			if f.LatestAfter, err = queryTimeAfter(r, "latestMessageTimestampAfter"); err != nil {
				return err
			}
			f.Sort = parley.SortByLatestAsc
		case "-latestMessageTimestamp":
			f.Sort = "latest"
		default:
			return parley.Errorf(parley.EINVALID, "sort must be id, -id, latestMessageTimestamp or -latestMessageTimestamp")
		}
		if f.AfterID, err = queryCursor(r, 0); err != nil {
			return err
		}
		// Parley's views and filters (http_views.go).
		lp, err := parseListParams(r, u)
		if err != nil {
			return err
		} else if lp.empty {
			s.writeJSON(w, http.StatusOK, page{Results: []threadJSON{}})
			return nil
		}
		lp.apply(&f)
		threads, more, err := s.db.Threads(ctx, f)
		if err != nil {
			return err
		}
		js := make([]threadJSON, len(threads))
		for i, t := range threads {
			if js[i] = s.toThreadJSON(ctx, t); assoc != nil {
				if err := assoc(&js[i], t); err != nil {
					return err
				}
			}
		}
		s.writeJSON(w, http.StatusOK, listPage(js, more,
			func(j threadJSON) threadJSON { return j },
			func(j threadJSON) string { return j.ID }))
		return nil
	})
}

// queryTicketThreads reads ?associatedTicketId=: the threads of that
// ticket, or nil when it is absent. A record that is no ticket is a ticket
// that does not exist: it lists nothing.
func (s *Server) queryTicketThreads(r *http.Request) ([]uint64, error) {
	id, err := queryID(r, "associatedTicketId")
	if err != nil || id == 0 {
		return nil, err
	}
	rec, err := s.db.Record(r.Context(), id)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && rec.Kind != parley.RecordTicket {
		return []uint64{}, nil
	} else if err != nil {
		return nil, err
	}
	return append([]uint64{}, rec.ThreadIDs...), nil
}

// threadParam resolves {threadId} to a thread the caller may see; anything
// else is ENOTFOUND.
func (s *Server) threadParam(r *http.Request) (*parley.Thread, error) {
	id, err := pathID(r, "threadId")
	if err != nil {
		return nil, err
	}
	return s.app.ThreadForUser(r.Context(), userFrom(r.Context()), id)
}

// threadBody resolves {threadId} as threadParam does and then reads the
// request's body into req (decodeJSON).
func (s *Server) threadBody(w http.ResponseWriter, r *http.Request, req any) (*parley.Thread, error) {
	t, err := s.threadParam(r)
	if err != nil {
		return nil, err
	}
	return t, decodeJSON(w, r, req)
}

// threadOp is a change of thread threadID that user u makes; it checks that
// u may see the thread.
type threadOp func(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, error)

// threadOpHandler answers a request on {threadId} that takes no body (one
// is refused) with what op makes of the thread: the thread with status
// 200, or nothing with status 204.
func (s *Server) threadOpHandler(status int, op threadOp) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "threadId")
		if err != nil {
			return err
		}
		if err := noBody(w, r); err != nil {
			return err
		}
		t, err := op(r.Context(), userFrom(r.Context()), id)
		if err != nil {
			return err
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return nil
		}
		s.writeJSON(w, status, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

// handleThreadGet answers GET …/threads/{threadId}, with its ticket under
// ?association=TICKET.
func (s *Server) handleThreadGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		assoc, err := s.withAssociations(r)
		if err != nil {
			return err
		}
		t, err := s.threadParam(r)
		if err != nil {
			return err
		}
		j := s.toThreadJSON(r.Context(), t)
		if assoc != nil {
			if err := assoc(&j, t); err != nil {
				return err
			}
		}
		s.writeJSON(w, http.StatusOK, j)
		return nil
	})
}

func (s *Server) handleThreadPatch() http.Handler {
	type request struct {
		Status   *string `json:"status"`
		Archived *bool   `json:"archived"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		if req.Status == nil && req.Archived == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send status or archived")
		}
		if req.Status != nil && *req.Status != "OPEN" && *req.Status != "CLOSED" {
			return parley.Errorf(parley.EINVALID, "status must be OPEN or CLOSED")
		}
		u := userFrom(r.Context())
		if req.Archived != nil {
			if t, err = s.app.SetArchived(r.Context(), u, t.ID, *req.Archived); err != nil {
				return err
			}
		}
		if req.Status != nil {
			if t, err = s.app.SetThreadStatus(r.Context(), u, t.ID, parley.ThreadStatus(*req.Status)); err != nil {
				return err
			}
		}
		s.writeJSON(w, http.StatusOK, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

func (s *Server) handleThreadArchive() http.Handler {
	return s.threadOpHandler(http.StatusNoContent, func(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
		return s.app.SetArchived(ctx, u, id, true)
	})
}

func (s *Server) handleAssigneePut() http.Handler {
	type request struct {
		ActorID string `json:"actorId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		prefix, id, err := parley.ParseActorID(req.ActorID)
		if err == nil && prefix != parley.ActorUser {
			err = parley.Errorf(parley.EINVALID, "actorId must be a user actor (A-…)")
		}
		if err != nil {
			return err
		}
		if t, err = s.app.AssignThread(r.Context(), userFrom(r.Context()), t.ID, id); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toThreadJSON(r.Context(), t))
		return nil
	})
}

func (s *Server) handleAssigneeDelete() http.Handler {
	return s.threadOpHandler(http.StatusNoContent, func(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
		return s.app.AssignThread(ctx, u, id, 0)
	})
}

// ----- Block, spam, trash (I6, I9) -----

// handleThreadAction answers POST /api/v1/threads/{threadId}/<action> with
// the thread after op(…, on). The request needs no body.
func (s *Server) handleThreadAction(op func(context.Context, *parley.User, uint64, bool) (*parley.Thread, error), on bool) http.Handler {
	return s.threadOpHandler(http.StatusOK, func(ctx context.Context, u *parley.User, id uint64) (*parley.Thread, error) {
		return op(ctx, u, id, on)
	})
}

// ownerJSON is a thread's owner in the API: "agent", "bot" or "waiting".
func ownerJSON(o parley.ThreadOwner) string {
	if o == parley.OwnerAgent {
		return "agent"
	}
	return string(o)
}
