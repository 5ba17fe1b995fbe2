package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Channels and channel accounts in the conversations API, HubSpot v3
// shape: the chat widgets and mailboxes threads come from.

// channelJSON is a channel: chat or email.
type channelJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt msTime `json:"createdAt"`
}

// channels are Parley's channels, created with Parley.
var channels = []channelJSON{
	{ID: strconv.Itoa(parley.ChannelChat), Name: "Chat", CreatedAt: msTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))},
	{ID: strconv.Itoa(parley.ChannelEmail), Name: "Email", CreatedAt: msTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))},
}

// allChannels returns Parley's channels and the custom channels.
func (s *Server) allChannels(ctx context.Context) ([]channelJSON, error) {
	custom, err := s.db.CustomChannels(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(channels)
	for _, c := range custom {
		out = append(out, channelJSON{ID: idString(c.ID), Name: c.Name, CreatedAt: msTime(c.CreatedAt)})
	}
	return out, nil
}

func (s *Server) handleChannels() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		all, err := s.allChannels(r.Context())
		if err != nil {
			return err
		}
		p, err := slicePage(r, all)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, p)
		return nil
	})
}

func (s *Server) handleChannelGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		all, err := s.allChannels(r.Context())
		if err != nil {
			return err
		}
		for _, c := range all {
			if c.ID == r.PathValue("channelId") {
				s.writeJSON(w, http.StatusOK, c)
				return nil
			}
		}
		return parley.Errorf(parley.ENOTFOUND, "channel not found")
	})
}

type channelAccountJSON struct {
	ID        string `json:"id"`
	ChannelID string `json:"channelId"`
	InboxID   string `json:"inboxId"`
	Name      string `json:"name"`
	Active    bool   `json:"active"`
	CreatedAt msTime `json:"createdAt"`
	Archived  bool   `json:"archived"`
}

func (s *Server) visibleWidgets(ctx context.Context, u *parley.User) ([]channelAccountJSON, error) {
	widgets, err := s.db.Widgets(ctx)
	if err != nil {
		return nil, err
	}
	member, err := s.app.UserInboxIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	out := []channelAccountJSON{}
	for _, wd := range widgets {
		for _, id := range member {
			if id == wd.InboxID {
				out = append(out, channelAccountJSON{ID: idString(wd.ID), ChannelID: strconv.Itoa(parley.ChannelChat),
					InboxID: idString(wd.InboxID), Name: wd.Name, Active: wd.Enabled, CreatedAt: msTime(wd.CreatedAt)})
			}
		}
	}
	mailboxes, err := s.visibleMailboxes(ctx, member) // team mailboxes (http_mail.go)
	if err != nil {
		return nil, err
	}
	out = append(out, mailboxes...)
	custom, err := s.db.ChannelAccounts(ctx, 0)
	if err != nil {
		return nil, err
	}
	for _, a := range custom {
		if slices.Contains(member, a.InboxID) {
			out = append(out, channelAccountJSON{ID: idString(a.ID), ChannelID: idString(a.ChannelID), InboxID: idString(a.InboxID),
				Name: a.Name, Active: a.Authorized && !a.Archived, CreatedAt: msTime(a.CreatedAt), Archived: a.Archived})
		}
	}
	return out, nil
}

// handleChannelAccounts lists the channel accounts the caller sees; as in
// HubSpot, ?inboxId= and ?channelId= (each repeatable: any of them) keep
// those of the inboxes and channels named.
func (s *Server) handleChannelAccounts() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		all, err := s.visibleWidgets(r.Context(), userFrom(r.Context()))
		if err != nil {
			return err
		}
		q := r.URL.Query()
		want := map[string][]string{}
		for _, name := range []string{"inboxId", "channelId"} {
			for _, v := range q[name] {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return parley.Errorf(parley.EINVALID, "%s must be a number", name)
				}
				want[name] = append(want[name], idString(n))
			}
		}
		out := []channelAccountJSON{}
		for _, ca := range all {
			if (!q.Has("inboxId") || slices.Contains(want["inboxId"], ca.InboxID)) &&
				(!q.Has("channelId") || slices.Contains(want["channelId"], ca.ChannelID)) {
				out = append(out, ca)
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

func (s *Server) handleChannelAccountGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.visibleWidgets(r.Context(), userFrom(r.Context()))
		if err != nil {
			return err
		}
		for _, ca := range out {
			if ca.ID == r.PathValue("id") {
				s.writeJSON(w, http.StatusOK, ca)
				return nil
			}
		}
		return parley.Errorf(parley.ENOTFOUND, "channel account not found")
	})
}
