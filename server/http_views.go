package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// handleViewCounts answers GET /api/v1/views/counts?inboxId=: the number of
// open conversations in each view of the caller's inboxes (or of one).
func (s *Server) handleViewCounts() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		inboxes, err := s.queryInboxes(r, u)
		if err != nil {
			return err
		}
		counts, err := s.db.CountThreads(r.Context(), inboxes, u.ID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, counts)
		return nil
	})
}

// queryInboxes returns the inboxes a list or search covers for u: those u
// is a member of, or, with ?inboxId= (repeated: any of them, as in HubSpot),
// those of the named inboxes u is a member of. An inbox u is not a member of
// covers nothing, exactly like one that does not exist.
func (s *Server) queryInboxes(r *http.Request, u *parley.User) ([]uint64, error) {
	member, err := s.app.UserInboxIDs(r.Context(), u)
	if err != nil {
		return nil, err
	}
	vals, ok := r.URL.Query()["inboxId"]
	if !ok {
		return member, nil
	}
	out := []uint64{}
	for _, v := range vals {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "inboxId must be a number")
		}
		if slices.Contains(member, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Views of GET …/threads?view= (FEATURES I4).
var listViews = []string{"all", "mine", "unassigned", "email", "chat", "bots", "filtered"}

// listParams are Parley's additions to GET …/threads: a view and filters
// (docs/api.md, "Threads").
type listParams struct {
	empty      bool // contradicting parameters list nothing
	assignee   uint64
	unassigned bool
	channel    int
	filtered   *bool
	bot        *bool     // the Bots view, or the main views without it
	after      time.Time // latestMessageTimestampAfter, when sort does not use it
	before     time.Time
}

// parseListParams reads view, assignee, channelId and the date range for
// user u. Unknown values are EINVALID.
func parseListParams(r *http.Request, u *parley.User) (listParams, error) {
	q := r.URL.Query()
	var p listParams
	yes, no := true, false
	setAssignee := func(id uint64, none bool) {
		switch {
		case none && p.assignee != 0, !none && p.unassigned, id != 0 && p.assignee != 0 && p.assignee != id:
			p.empty = true
		case none:
			p.unassigned = true
		default:
			p.assignee = id
		}
	}
	setChannel := func(c int) {
		if p.channel != 0 && p.channel != c {
			p.empty = true
		}
		p.channel = c
	}
	switch v := q.Get("view"); v {
	case "":
	case "all":
		p.filtered, p.bot = &no, &no
	case "mine":
		p.filtered, p.bot = &no, &no
		setAssignee(u.ID, false)
	case "unassigned":
		p.filtered, p.bot = &no, &no
		setAssignee(0, true)
	case "email":
		p.filtered, p.bot = &no, &no
		setChannel(parley.ChannelEmail)
	case "chat":
		p.filtered, p.bot = &no, &no
		setChannel(parley.ChannelChat)
	case "bots":
		p.filtered, p.bot = &no, &yes // the bot's until hand-off (B1)
	case "filtered":
		p.filtered = &yes
	default:
		return p, parley.Errorf(parley.EINVALID, "view must be one of %s", strings.Join(listViews, ", "))
	}
	switch v := q.Get("assignee"); v {
	case "":
	case "none":
		setAssignee(0, true)
	default:
		prefix, id, err := parley.ParseActorID(v)
		if err != nil || prefix != parley.ActorUser || id == 0 {
			return p, parley.Errorf(parley.EINVALID, "assignee must be a user's actor id (A-…) or none")
		}
		setAssignee(id, false)
	}
	switch v := q.Get("channelId"); v {
	case "":
	case strconv.Itoa(parley.ChannelChat):
		setChannel(parley.ChannelChat)
	case strconv.Itoa(parley.ChannelEmail):
		setChannel(parley.ChannelEmail)
	default:
		return p, parley.Errorf(parley.EINVALID, "channelId must be %d (chat) or %d (email)", parley.ChannelChat, parley.ChannelEmail)
	}
	var err error
	if p.after, err = queryTimeAfter(r, "latestMessageTimestampAfter"); err != nil {
		return p, err
	}
	if p.before, err = queryTime(r, "latestMessageTimestampBefore"); err != nil {
		return p, err
	}
	if !p.after.IsZero() && !p.before.IsZero() && !p.after.Before(p.before) {
		p.empty = true
	}
	return p, nil
}

// apply sets p's filters on f.
func (p listParams) apply(f *parley.ThreadFilter) {
	f.AssigneeID, f.Unassigned, f.ChannelID, f.Filtered, f.Bot = p.assignee, p.unassigned, p.channel, p.filtered, p.bot
	if !p.after.IsZero() {
		f.LatestAfter = p.after
	}
	f.LatestBefore = p.before
}
