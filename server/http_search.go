package server

import (
	"net/http"

	"github.com/parley-chat/parley"
)

// Search across the threads the caller may see.

type searchHitJSON struct {
	Thread     threadJSON `json:"thread"`
	Field      string     `json:"field"`
	MessageID  string     `json:"messageId,omitempty"`
	Snippet    string     `json:"snippet"`
	Highlights [][2]int   `json:"highlights"`
}

// handleSearch answers GET /api/v1/search?q=&inboxId=&limit=&after=.
func (s *Server) handleSearch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		limit, err := queryLimit(r, parley.DefaultSearchLimit, parley.MaxSearchLimit)
		if err != nil {
			return err
		}
		inboxes, err := s.queryInboxes(r, userFrom(ctx))
		if err != nil {
			return err
		}
		sq := parley.SearchQuery{Text: r.URL.Query().Get("q"), InboxIDs: inboxes, Limit: limit}
		if sq.After, err = queryCursor(r, 1); err != nil {
			return err
		} else if sq.After != 0 {
			// A cursor must be a thread the caller may see: another inbox's
			// thread is no cursor at all, as if it did not exist.
			if _, err := s.app.ThreadForUser(ctx, userFrom(ctx), sq.After); err != nil {
				return errCursor()
			}
		}
		hits, more, err := s.db.Search(ctx, sq)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, listPage(hits, more, func(h parley.SearchHit) searchHitJSON {
			j := searchHitJSON{
				Thread: s.toThreadJSON(ctx, h.Thread), Field: h.Field,
				Snippet: h.Snippet, Highlights: h.Highlights,
			}
			if h.MessageID != 0 {
				j.MessageID = idString(h.MessageID)
			}
			if j.Highlights == nil {
				j.Highlights = [][2]int{}
			}
			return j
		}, func(h parley.SearchHit) string { return idString(h.Thread.ID) }))
		return nil
	})
}
