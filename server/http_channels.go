package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Channels and channel accounts in the conversations API, HubSpot v3
// shape: the chat widgets and mailboxes threads come from.

func (s *Server) handleChannels() http.Handler {
	type channel struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		s.writeJSON(w, http.StatusOK, page{Results: []channel{
			{ID: strconv.Itoa(parley.ChannelChat), Name: "Chat", CreatedAt: epoch},
			{ID: strconv.Itoa(parley.ChannelEmail), Name: "Email", CreatedAt: epoch},
		}})
		return nil
	})
}

type channelAccountJSON struct {
	ID        string    `json:"id"`
	ChannelID string    `json:"channelId"`
	InboxID   string    `json:"inboxId"`
	Name      string    `json:"name"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	Archived  bool      `json:"archived"`
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
					InboxID: idString(wd.InboxID), Name: wd.Name, Active: wd.Enabled, CreatedAt: wd.CreatedAt.UTC()})
			}
		}
	}
	mailboxes, err := s.visibleMailboxes(ctx, member) // team mailboxes (http_mail.go)
	return append(out, mailboxes...), err
}

func (s *Server) handleChannelAccounts() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.visibleWidgets(r.Context(), userFrom(r.Context()))
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
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
