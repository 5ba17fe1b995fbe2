package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Sizes of the lists in a contact's details.
const (
	contactThreadsShown     = 100 // of each: open or closed, trashed
	contactEngagementsShown = 50
)

// ----- JSON -----

// contactJSON is a contact in the API. Unlike parley.Contact (the store's
// JSON) it writes ids as strings, adds the name the console shows, and
// leaves out the consents (GET …/consents).
type contactJSON struct {
	ID        string `json:"id"`
	ActorID   string `json:"actorId"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	// UnverifiedEmail is what the visitor typed: shown marked as such,
	// never an identity (parley.Contact.UnverifiedEmail).
	UnverifiedEmail string    `json:"unverifiedEmail,omitempty"`
	Name            string    `json:"name"` // what the console shows: full name, email or "Visitor #id"
	Blocked         bool      `json:"blocked"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`

	// OwnerID is the owning user's id, "" for none; Properties the custom
	// properties (W1 lists test both).
	OwnerID    string            `json:"ownerId"`
	Properties map[string]string `json:"properties"`
}

func toContactJSON(c *parley.Contact) contactJSON {
	props := c.Properties
	if props == nil {
		props = map[string]string{}
	}
	return contactJSON{
		ID: idString(c.ID), ActorID: c.ActorID(), FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		UnverifiedEmail: c.UnverifiedEmail, Name: c.DisplayName(), Blocked: c.Blocked, OwnerID: optIDString(c.OwnerID), Properties: props,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

// contactDetailsJSON is GET /api/v1/contacts/{id}: the contact and what
// belongs to it, as far as the caller may see.
type contactDetailsJSON struct {
	contactJSON
	Threads           []threadJSON     `json:"threads"`
	Records           []recordJSON     `json:"records"`
	Engagements       []engagementJSON `json:"engagements"`
	EngagementsPaging *pagingOut       `json:"engagementsPaging,omitempty"`
	// Company is the contact's company, null for none.
	Company *companyRefJSON `json:"company"`
}

// companyRefJSON is a contact's company in its details.
type companyRefJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

// ----- live events -----

type (
	evContact struct {
		Type      string `json:"type"` // contact.updated
		ContactID string `json:"contactId"`
		Name      string `json:"name"`
	}
	evRecords struct {
		Type      string `json:"type"` // records.updated
		ThreadID  string `json:"threadId"`
		ContactID string `json:"contactId"`
	}
)

// publishContact tells the agents of every inbox where contact c has a
// thread, and of the inboxes extra, that c or what belongs to it changed.
// Call only after the commit.
func (s *Server) publishContact(ctx context.Context, c *parley.Contact, extra ...uint64) {
	topics := []string{}
	add := func(inbox uint64) {
		if t := parley.InboxTopic(inbox); !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	for _, in := range extra {
		add(in)
	}
	ts, err := contactThreads(ctx, s.db, nil, c.ID, parley.MaxLimit)
	if err != nil {
		s.log.Warn().Err(err).Uint64("contact", c.ID).Msg("contact.updated: list threads")
	}
	for _, t := range ts {
		add(t.InboxID)
	}
	if len(topics) > 0 {
		s.hub.Publish(mustJSON(evContact{Type: "contact.updated", ContactID: idString(c.ID), Name: c.DisplayName()}), topics...)
	}
}

// ----- contacts -----

func (s *Server) handleContactGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v, c, err := s.contactParam(r)
		if err != nil {
			return err
		}
		out := contactDetailsJSON{contactJSON: toContactJSON(c), Threads: []threadJSON{}, Engagements: []engagementJSON{}}
		cc, err := s.crmContactOf(ctx, c)
		if err != nil {
			return err
		}
		if co := cc.company; co != nil {
			out.Company = &companyRefJSON{ID: idString(co.ID), Name: co.Name, Domain: co.Domain}
		}
		ts, err := v.threads(ctx, c.ID, contactThreadsShown)
		if err != nil {
			return err
		}
		for _, t := range ts {
			out.Threads = append(out.Threads, s.toThreadJSON(ctx, t))
		}
		rs, err := s.db.ContactRecords(ctx, c.ID)
		if err != nil {
			return err
		}
		out.Records = v.records(ctx, rs)
		es, more, err := s.db.ContactEngagements(ctx, c.ID, 0, contactEngagementsShown)
		if err != nil {
			return err
		}
		for _, e := range es {
			out.Engagements = append(out.Engagements, v.engagement(ctx, e))
		}
		if more && len(es) > 0 {
			out.EngagementsPaging = nextPage(idString(es[len(es)-1].ID))
		}
		s.writeJSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleContactPatch() http.Handler {
	type request struct {
		FirstName *string `json:"firstName"`
		LastName  *string `json:"lastName"`
		Email     *string `json:"email"`
		OwnerID   *string `json:"ownerId"`
		// Properties are merged: a name with a string sets it, with null
		// removes it.
		Properties map[string]*string `json:"properties"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req request
		_, c, err := s.contactBody(w, r, &req)
		if err != nil {
			return err
		}
		if req.FirstName == nil && req.LastName == nil && req.Email == nil && req.OwnerID == nil && req.Properties == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send firstName, lastName, email, ownerId or properties")
		}
		var owner uint64
		if req.OwnerID != nil {
			if owner, err = s.owner(ctx, *req.OwnerID); err != nil {
				return err
			}
		}
		apply := func(c *parley.Contact) {
			for _, f := range []struct {
				in  *string
				out *string
			}{{req.FirstName, &c.FirstName}, {req.LastName, &c.LastName}, {req.Email, &c.Email}} {
				if f.in != nil {
					*f.out = strings.TrimSpace(*f.in)
				}
			}
			if req.OwnerID != nil {
				c.OwnerID = owner
			}
			if req.Properties != nil {
				c.Properties = mergeProperties(c.Properties, req.Properties)
			}
		}
		validate := func(c *parley.Contact) error {
			if err := c.Validate(); err != nil {
				return err
			}
			return parley.ValidateProperties(c.Properties)
		}
		check := *c
		apply(&check)
		if err := validate(&check); err != nil {
			return err
		}
		c, err = s.db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
			apply(c)
			return validate(c)
		})
		if err != nil {
			return err
		}
		s.publishContact(ctx, c)
		s.writeJSON(w, http.StatusOK, toContactJSON(c))
		return nil
	})
}

// mergeProperties is a contact's properties props with patch merged in: a
// name with a string sets it, with nil removes it. No properties left is nil.
func mergeProperties(props map[string]string, patch map[string]*string) map[string]string {
	out := make(map[string]string, len(props)+len(patch))
	for k, v := range props {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out
}

// contactEvent is the system message that records event, done by u, on t.
func (s *Server) contactEvent(u *parley.User, t *parley.Thread, event, text string) *parley.Message {
	return &parley.Message{
		ThreadID: t.ID, Type: parley.TypeSystem, Event: event, Text: text, SenderID: u.ActorID(),
		Direction: parley.Outgoing, ChannelID: t.ChannelID, ChannelAccountID: t.ChannelAccountID, CreatedAt: s.now(),
	}
}

// ----- disassociating a contact from a chat -----

func (s *Server) handleDisassociate() http.Handler {
	return s.threadOpHandler(http.StatusOK, s.disassociate)
}

// disassociate detaches chat thread threadID, if u may see it, from its contact:
// the thread gets a fresh anonymous contact, and the visitor chatting in it
// keeps chatting in it (store.DB.DisassociateContact moves the visitor's
// credential along). A visitor connected at that moment holds the old
// contact id in memory; s.moves makes it read its credential again before
// its next message, and makes sure no message of the old contact is being
// appended while the credential moves: a message either lands before the
// move (in the thread, from the old contact) or after it (in the thread,
// from the new one), never in another thread.
func (s *Server) disassociate(ctx context.Context, u *parley.User, threadID uint64) (*parley.Thread, error) {
	t, err := s.app.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return nil, err
	}
	if t.ChannelID != parley.ChannelChat {
		return nil, parley.Errorf(parley.EINVALID, "only a chat can be detached from its contact; thread %d is not a chat", t.ID)
	}
	old, err := s.db.Contact(ctx, t.ContactID)
	if err != nil {
		return nil, err
	}
	event := s.contactEvent(u, t, parley.EventContactRemoved, old.DisplayName())
	d, err := s.moves.move(old.ID, func() (*parley.Disassociation, error) {
		return s.db.DisassociateContact(ctx, t.ID, old.ID, event)
	})
	if err != nil {
		return nil, err
	}
	s.publishMessage(ctx, d.Thread, d.Message)
	s.publishThread(ctx, "thread.updated", d.Thread, false)
	s.publishContact(ctx, old, d.Thread.InboxID)
	s.publishRecords(d.Thread, d.Contact.ID)
	return d.Thread, nil
}
