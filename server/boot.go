package server

import (
	"context"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// maxVisitorTokenBytes bounds the vt parameter; real tokens are far shorter.
const maxVisitorTokenBytes = 256

// bootContact resolves the visitor a boot request comes from, for widget
// audiences (W1) and the heading: first the page's identification (query
// parameters ie and it, CONTRACT §4), then vt, the visitor token the widget
// keeps (docs/websocket.md, "identity"), looked up by its hash as the
// visitor WebSocket does. A missing, malformed or unknown token is an
// anonymous visitor: nil contact, nil error. An error is returned only when
// the store fails; callers treat the visitor as anonymous then too. The
// token is never logged.
func (s *Server) bootContact(r *http.Request) (*parley.Contact, error) {
	ctx := r.Context()
	q := r.URL.Query()
	if c, err := s.app.IdentifiedContact(ctx, q.Get("ie"), q.Get("it")); err != nil || c != nil {
		return c, err
	}
	vt := q.Get("vt")
	if vt == "" || len(vt) > maxVisitorTokenBytes {
		return nil, nil
	}
	v, err := s.db.Visitor(ctx, hashSecret(vt))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c, err := s.db.Contact(ctx, v.ContactID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	}
	return c, err
}

// bootWidget picks the widget a page gets (docs/api.md, "Which widget a page
// gets"): among the enabled widgets whose targeting matches pageURL and whose
// audience admits contact c (nil: anonymous), the most specific, then the
// oldest. It returns nil when none does.
func (s *Server) bootWidget(ctx context.Context, pageURL string, c *parley.Contact) (*parley.Widget, error) {
	widgets, err := s.db.Widgets(ctx)
	if err != nil {
		return nil, err
	}
	lists := map[uint64]*parley.ContactList{}
	candidates := widgets[:0:0]
	for _, w := range widgets {
		if !w.Enabled || !parley.MatchTargeting(w.Targeting, pageURL) {
			continue
		}
		var list *parley.ContactList
		if id := w.Audience.ListID; id != 0 && (w.Audience.Mode == parley.AudienceList || w.Audience.Mode == parley.AudienceNotList) {
			l, ok := lists[id]
			if !ok {
				l, err = s.db.ContactList(ctx, id)
				if parley.ErrorCode(err) == parley.ENOTFOUND {
					l, err = nil, nil
				} else if err != nil {
					return nil, err
				}
				lists[id] = l
			}
			list = l
		}
		if parley.InAudience(w.Audience, c, list) {
			candidates = append(candidates, w)
		}
	}
	return widget.Select(candidates, pageURL), nil
}
