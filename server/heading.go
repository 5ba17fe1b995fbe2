package server

import (
	"context"
	"math/rand/v2"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// dressBoot fills in the parts of boot answer b for widget wd that depend on
// the store and the visitor c (nil: anonymous): the heading's name and
// whether the visitor is known (W4).
func (s *Server) dressBoot(ctx context.Context, wd *parley.Widget, c *parley.Contact, b *widget.Boot) {
	if b.Widget == nil {
		return
	}
	if name := s.headingName(ctx, wd.Message.Heading, c); name != "" {
		b.Widget.Heading.Name = name
	}
	b.Widget.Known = contactKnown(c)
}

// headingName is the name the chat heading shows for heading h and visitor
// c, or "" for the widget's own (custom headings are the widget's own). Only
// names leave the server: never a user's email.
func (s *Server) headingName(ctx context.Context, h parley.Heading, c *parley.Contact) string {
	userName := func(id uint64) string {
		if id == 0 {
			return ""
		}
		u, err := s.db.User(ctx, id)
		if err != nil || u.Deactivated {
			return ""
		}
		return u.Name
	}
	switch h.Mode {
	case parley.HeadingUser:
		for _, id := range h.UserIDs {
			if n := userName(id); n != "" {
				return n
			}
		}
	case parley.HeadingUsers:
		var names []string
		for _, id := range h.UserIDs {
			if n := userName(id); n != "" {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			return names[rand.IntN(len(names))]
		}
	case parley.HeadingTeam:
		if t, err := s.db.Team(ctx, h.TeamID); err == nil {
			return t.Name
		}
	case parley.HeadingOwner:
		if c != nil {
			if n := userName(c.OwnerID); n != "" {
				return n
			}
		}
		return userName(h.FallbackUserID)
	}
	return ""
}
