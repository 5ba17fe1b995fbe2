package server

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
}

// recordJSON is a record in the API. It differs from parley.Record, whose
// JSON is the store's, on purpose: ids are strings, the author is an actor
// id, and threadIds holds only the threads the caller may see.
type recordJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Stage     string    `json:"stage"`
	Amount    string    `json:"amount,omitempty"`
	OwnerID   string    `json:"ownerId,omitempty"`
	ContactID string    `json:"contactId"`
	ThreadIDs []string  `json:"threadIds"` // those the caller may see
	CreatedBy string    `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// engagementJSON is an engagement in the API. Unlike parley.Engagement it
// writes ids as strings and the author as an actor id, and leaves out a
// thread the caller may not see.
type engagementJSON struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Body      string    `json:"body"`
	ContactID string    `json:"contactId"`
	ThreadID  string    `json:"threadId,omitempty"` // absent too when the caller may not see it
	CreatedBy string    `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// viewer is what one request may see: the caller's inboxes, and which
// threads are in them (looked up once each).
type viewer struct {
	s       *Server
	u       *parley.User
	inboxes []uint64
	seen    map[uint64]bool
}

func (s *Server) viewerOf(ctx context.Context, u *parley.User) (*viewer, error) {
	ids, err := s.app.UserInboxIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	return &viewer{s: s, u: u, inboxes: ids, seen: map[uint64]bool{}}, nil
}

// sees reports whether thread id is in one of the viewer's inboxes.
func (v *viewer) sees(ctx context.Context, id uint64) bool {
	if ok, done := v.seen[id]; done {
		return ok
	}
	t, err := v.s.db.Thread(ctx, id)
	ok := err == nil && slices.Contains(v.inboxes, t.InboxID)
	v.seen[id] = ok
	return ok
}

func (v *viewer) record(ctx context.Context, r *parley.Record) recordJSON {
	j := recordJSON{
		ID: idString(r.ID), Kind: r.Kind, Name: r.Name, Stage: r.Stage, Amount: r.Amount,
		OwnerID: optIDString(r.OwnerID), ContactID: idString(r.ContactID), ThreadIDs: []string{}, CreatedBy: userActorID(r.CreatedBy),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	for _, t := range r.ThreadIDs {
		if v.sees(ctx, t) {
			j.ThreadIDs = append(j.ThreadIDs, idString(t))
		}
	}
	return j
}

func (v *viewer) records(ctx context.Context, rs []*parley.Record) []recordJSON {
	out := make([]recordJSON, len(rs))
	for i, r := range rs {
		out[i] = v.record(ctx, r)
	}
	return out
}

func (v *viewer) engagement(ctx context.Context, e *parley.Engagement) engagementJSON {
	j := engagementJSON{ID: idString(e.ID), Kind: e.Kind, Body: e.Body, ContactID: idString(e.ContactID),
		CreatedBy: userActorID(e.CreatedBy), CreatedAt: e.CreatedAt.UTC()}
	if e.ThreadID != 0 && v.sees(ctx, e.ThreadID) {
		j.ThreadID = idString(e.ThreadID)
	}
	return j
}

// ----- access -----

// contact returns contact id if the viewer may see it: if it has a thread in
// one of the viewer's inboxes. Otherwise it is ENOTFOUND.
func (v *viewer) contact(ctx context.Context, id uint64) (*parley.Contact, error) {
	notFound := parley.Errorf(parley.ENOTFOUND, "contact %d not found", id)
	ts, err := v.threads(ctx, id, 1)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, notFound
	}
	c, err := v.s.db.Contact(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, notFound
	}
	return c, err
}

// threads returns up to limit threads of the contact in the viewer's
// inboxes, both in and out of the trash, most recent activity first.
func (v *viewer) threads(ctx context.Context, contactID uint64, limit int) ([]*parley.Thread, error) {
	out, err := contactThreads(ctx, v.s.db, v.inboxes, contactID, limit)
	for _, t := range out {
		v.seen[t.ID] = true
	}
	return out, err
}

// contactThreads returns up to limit threads (each of not trashed and
// trashed) of the contact in the given inboxes (nil: all), most recent
// activity first.
func contactThreads(ctx context.Context, db Store, inboxIDs []uint64, contactID uint64, limit int) ([]*parley.Thread, error) {
	if contactID == 0 || inboxIDs != nil && len(inboxIDs) == 0 {
		return []*parley.Thread{}, nil
	}
	var out []*parley.Thread
	for _, archived := range []bool{false, true} {
		ts, _, err := db.Threads(ctx, parley.ThreadFilter{
			InboxIDs: inboxIDs, ContactID: contactID, Archived: ptr(archived), Limit: limit, Sort: parley.SortByLatest,
		})
		if err != nil {
			return nil, err
		}
		if len(ts) > 0 && limit == 1 {
			return ts, nil
		}
		out = append(out, ts...)
	}
	slices.SortStableFunc(out, func(a, b *parley.Thread) int {
		if c := b.LatestMessageAt.Compare(a.LatestMessageAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, nil
}

// contactParam resolves {contactId} to a contact the caller may see, with
// the caller's viewer; anything else is ENOTFOUND.
func (s *Server) contactParam(r *http.Request) (*viewer, *parley.Contact, error) {
	ctx := r.Context()
	id, err := pathID(r, "contactId")
	if err != nil {
		return nil, nil, err
	}
	v, err := s.viewerOf(ctx, userFrom(ctx))
	if err != nil {
		return nil, nil, err
	}
	c, err := v.contact(ctx, id)
	return v, c, err
}

// contactBody resolves {contactId} as contactParam does and then reads the
// request's body into req (decodeJSON).
func (s *Server) contactBody(w http.ResponseWriter, r *http.Request, req any) (*viewer, *parley.Contact, error) {
	v, c, err := s.contactParam(r)
	if err != nil {
		return nil, nil, err
	}
	return v, c, decodeJSON(w, r, req)
}

// recordParam resolves {recordId} for the caller: a record is visible with
// its contact.
func (s *Server) recordParam(r *http.Request) (*viewer, *parley.Record, error) {
	ctx := r.Context()
	id, err := pathID(r, "recordId")
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.db.Record(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.viewerOf(ctx, userFrom(ctx))
	if err != nil {
		return nil, nil, err
	}
	if _, err = v.contact(ctx, rec.ContactID); parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil, parley.Errorf(parley.ENOTFOUND, "record %d not found", id)
	} else if err != nil {
		return nil, nil, err
	}
	return v, rec, nil
}

// contactThreadParam resolves the threadId of a request body: a thread of
// contact c that the viewer may see. Anything else is EINVALID (a thread the
// caller may not see is treated as one that does not exist).
func (v *viewer) contactThread(ctx context.Context, c *parley.Contact, threadID *string) (*parley.Thread, error) {
	if threadID == nil || *threadID == "" {
		return nil, nil
	}
	id, err := strconv.ParseUint(*threadID, 10, 64)
	if err != nil || id == 0 {
		return nil, parley.Errorf(parley.EINVALID, "threadId must be a thread id")
	}
	t, err := v.s.app.ThreadForUser(ctx, v.u, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && t.ContactID != c.ID {
		return nil, parley.Errorf(parley.EINVALID, "threadId: thread %d is not a conversation of contact %d", id, c.ID)
	}
	return t, err
}

// createOnContact stores what create makes for contact c (a record, an
// engagement). When the request names a thread of c (threadID, checked as
// contactThread does), create gets the event that event makes for it, to
// record on the thread in the same commit, and the event is announced.
func (v *viewer) createOnContact(ctx context.Context, c *parley.Contact, threadID *string,
	event func(*parley.Thread) *parley.Message, create func(event *parley.Message) (parley.AppendResult, error)) error {
	t, err := v.contactThread(ctx, c, threadID)
	if err != nil {
		return err
	}
	var ev *parley.Message
	if t != nil {
		ev = event(t)
	}
	res, err := create(ev)
	if err != nil {
		return err
	}
	if ev != nil {
		v.s.publishMessage(ctx, res.Thread, res.Message)
	}
	return nil
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

// publishRecords tells the agents of thread t's inbox that the records
// shown on it changed. Call only after the commit.
func (s *Server) publishRecords(t *parley.Thread, contactID uint64) {
	s.hub.Publish(mustJSON(evRecords{Type: "records.updated", ThreadID: idString(t.ID), ContactID: idString(contactID)}),
		parley.InboxTopic(t.InboxID))
}

// publishRecordChange announces a created or changed record: on each of its
// threads and on its contact.
func (s *Server) publishRecordChange(ctx context.Context, r *parley.Record) {
	for _, id := range r.ThreadIDs {
		if t, err := s.db.Thread(ctx, id); err == nil {
			s.publishRecords(t, r.ContactID)
		}
	}
	if c, err := s.db.Contact(ctx, r.ContactID); err == nil {
		s.publishContact(ctx, c)
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
				props := make(map[string]string, len(c.Properties)+len(req.Properties))
				for k, v := range c.Properties {
					props[k] = v
				}
				for k, v := range req.Properties {
					if v == nil {
						delete(props, k)
					} else {
						props[k] = *v
					}
				}
				if len(props) == 0 {
					props = nil
				}
				c.Properties = props
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

// ----- records -----

// recordRequest is the body of POST …/records and PATCH /records/{id}.
type recordRequest struct {
	Kind     string  `json:"kind"`
	Name     *string `json:"name"`
	Stage    *string `json:"stage"`
	Amount   *string `json:"amount"`
	OwnerID  *string `json:"ownerId"`
	ThreadID *string `json:"threadId"`
}

// owner resolves an ownerId ("3" or "A-3"; "" for none) to an active user.
func (s *Server) owner(ctx context.Context, id string) (uint64, error) {
	id = strings.TrimPrefix(strings.TrimSpace(id), parley.ActorUser)
	if id == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return 0, parley.Errorf(parley.EINVALID, "ownerId must be a user id")
	}
	u, err := s.db.User(ctx, n)
	if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
		return 0, parley.Errorf(parley.EINVALID, "ownerId: user %d is not an active user", n)
	}
	return n, err
}

// apply sets the fields the request gives on rec (trimmed), resolving the
// owner, and validates the result.
func (req recordRequest) apply(ctx context.Context, s *Server, rec *parley.Record) error {
	if req.Name != nil {
		rec.Name = strings.TrimSpace(*req.Name)
	}
	if req.Stage != nil {
		rec.Stage = strings.TrimSpace(*req.Stage)
	}
	if req.Amount != nil {
		rec.Amount = strings.TrimSpace(*req.Amount)
	}
	if req.OwnerID != nil {
		id, err := s.owner(ctx, *req.OwnerID)
		if err != nil {
			return err
		}
		rec.OwnerID = id
	}
	return rec.Validate()
}

func (s *Server) handleRecordCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req recordRequest
		v, c, err := s.contactBody(w, r, &req)
		if err != nil {
			return err
		}
		rec := &parley.Record{Kind: req.Kind, ContactID: c.ID, CreatedBy: v.u.ID}
		if stages := parley.RecordStages(req.Kind); len(stages) > 0 && (req.Stage == nil || strings.TrimSpace(*req.Stage) == "") {
			rec.Stage = stages[0]
			req.Stage = nil
		}
		if err := req.apply(ctx, s, rec); err != nil {
			return err
		}
		err = v.createOnContact(ctx, c, req.ThreadID, func(t *parley.Thread) *parley.Message {
			return s.contactEvent(v.u, t, parley.EventRecordCreated, rec.Kind+": "+rec.Name)
		}, func(event *parley.Message) (parley.AppendResult, error) {
			return s.db.CreateRecord(ctx, rec, event)
		})
		if err != nil {
			return err
		}
		s.publishRecordChange(ctx, rec)
		s.writeJSON(w, http.StatusCreated, v.record(ctx, rec))
		return nil
	})
}

func (s *Server) handleRecordGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		v, rec, err := s.recordParam(r)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, v.record(r.Context(), rec))
		return nil
	})
}

func (s *Server) handleRecordPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v, rec, err := s.recordParam(r)
		if err != nil {
			return err
		}
		var req recordRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		switch {
		case req.Kind != "":
			return parley.Errorf(parley.EINVALID, "a record's kind cannot change")
		case req.ThreadID != nil:
			return parley.Errorf(parley.EINVALID, "a record's threads cannot change")
		case req.Name == nil && req.Stage == nil && req.Amount == nil && req.OwnerID == nil:
			return parley.Errorf(parley.EINVALID, "nothing to change: send name, stage, amount or ownerId")
		}
		want := *rec
		if err := req.apply(ctx, s, &want); err != nil {
			return err
		}
		changed := false
		rec, results, err := s.db.UpdateRecordWithEvents(ctx, rec.ID, func(r *parley.Record) error {
			r.Name, r.Stage, r.Amount, r.OwnerID = want.Name, want.Stage, want.Amount, want.OwnerID
			return r.Validate()
		}, func(old, r *parley.Record) *parley.Message {
			changed = false
			changes := parley.RecordChanges(old, r)
			if len(changes) == 0 {
				return nil // nothing is written
			}
			changed = true
			return s.recordEvent(v.u, r, changes)
		})
		if err != nil {
			return err
		}
		for _, res := range results {
			s.publishMessage(ctx, res.Thread, res.Message)
		}
		if changed {
			s.publishRecordChange(ctx, rec)
		}
		s.writeJSON(w, http.StatusOK, v.record(ctx, rec))
		return nil
	})
}

func (s *Server) handleThreadRecords() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		t, err := s.threadParam(r)
		if err != nil {
			return err
		}
		rs, err := s.db.ThreadRecords(ctx, t.ID)
		if err != nil {
			return err
		}
		v, err := s.viewerOf(ctx, userFrom(ctx))
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, page{Results: v.records(ctx, rs)})
		return nil
	})
}

// ----- engagements -----

func (s *Server) handleEngagementCreate() http.Handler {
	type request struct {
		Kind     string  `json:"kind"`
		Body     string  `json:"body"`
		ThreadID *string `json:"threadId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req request
		v, c, err := s.contactBody(w, r, &req)
		if err != nil {
			return err
		}
		e := &parley.Engagement{Kind: req.Kind, Body: req.Body, ContactID: c.ID, CreatedBy: v.u.ID}
		if err := e.Validate(); err != nil {
			return err
		}
		err = v.createOnContact(ctx, c, req.ThreadID, func(t *parley.Thread) *parley.Message {
			e.ThreadID = t.ID
			return s.contactEvent(v.u, t, parley.EventEngagementAdded, e.Kind+": "+parley.Preview(e.Body))
		}, func(event *parley.Message) (parley.AppendResult, error) {
			return s.db.CreateEngagement(ctx, e, event)
		})
		if err != nil {
			return err
		}
		s.publishContact(ctx, c)
		s.writeJSON(w, http.StatusCreated, v.engagement(ctx, e))
		return nil
	})
}

func (s *Server) handleEngagementsList() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		v, c, err := s.contactParam(r)
		if err != nil {
			return err
		}
		limit, err := queryLimit(r, 100, 500)
		if err != nil {
			return err
		}
		before, err := queryCursor(r, 1)
		if err != nil {
			return err
		}
		es, more, err := s.db.ContactEngagements(ctx, c.ID, before, limit)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, listPage(es, more,
			func(e *parley.Engagement) engagementJSON { return v.engagement(ctx, e) },
			func(e *parley.Engagement) string { return idString(e.ID) }))
		return nil
	})
}

// recordEvent is the system message that records, on each thread of record
// r, that u changed it: EventRecordUpdated naming the record as
// contactEvent does ("deal: Pro plan"), with the changes.
func (s *Server) recordEvent(u *parley.User, r *parley.Record, changes []parley.Change) *parley.Message {
	return &parley.Message{
		Type: parley.TypeSystem, Event: parley.EventRecordUpdated, Text: r.Kind + ": " + r.Name, Changes: &changes,
		SenderID: u.ActorID(), Direction: parley.Outgoing, CreatedAt: s.now(),
	}
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

// credentialMoves orders disassociations, which move visitor credentials
// from one contact to another, against the messages of visitors connected
// at that moment. The zero value is ready to use.
//
// A visitor connection reads its credential once, at hello, and keeps the
// contact id. Each disassociation holds its old contact's lock exclusively
// while it commits and then bumps gen; a visitor message holds its
// contact's lock shared while it is appended, and reads the credential
// again first whenever gen has moved since it last did (one atomic load in
// the common case).
type credentialMoves struct {
	gen   atomic.Uint64
	locks [64]sync.RWMutex // striped by contact id
}

func (m *credentialMoves) lock(contactID uint64) *sync.RWMutex {
	return &m.locks[contactID%uint64(len(m.locks))]
}

// move runs fn, a disassociation of contact from, exclusively of that
// contact's visitor messages.
func (m *credentialMoves) move(from uint64, fn func() (*parley.Disassociation, error)) (*parley.Disassociation, error) {
	mu := m.lock(from)
	mu.Lock()
	defer mu.Unlock()
	d, err := fn()
	if err == nil && d.Visitors > 0 {
		m.gen.Add(1)
	}
	return d, err
}

// visitorCred is what a visitor connection knows of its credential besides
// the contact id it stands for.
type visitorCred struct {
	hash string // SHA-256 of the visitor token; "" while the visitor has none
	gen  uint64 // s.moves.gen when the contact id was last read
}

// asVisitor runs fn, which acts as the visitor *contactID (sends its
// message), after making sure *contactID is still the contact the
// credential stands for, and so that no disassociation moves that
// credential while fn runs. An error reading the credential is returned
// without running fn.
func (s *Server) asVisitor(ctx context.Context, cred *visitorCred, contactID *uint64, fn func() error) error {
	for {
		mu := s.moves.lock(*contactID)
		mu.RLock()
		if g := s.moves.gen.Load(); g != cred.gen && cred.hash != "" {
			v, err := s.db.Visitor(ctx, cred.hash)
			if err != nil {
				mu.RUnlock()
				return err
			}
			cred.gen = g
			if v.ContactID != *contactID {
				mu.RUnlock()
				*contactID = v.ContactID
				continue // hold the lock of the contact it stands for now
			}
		}
		err := fn()
		mu.RUnlock()
		return err
	}
}
