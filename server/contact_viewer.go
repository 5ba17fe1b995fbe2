package server

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/parley-chat/parley"
)

// What an agent may see of contacts, and the contact parameter of the
// contact endpoints.

// viewer is what one request may see: the caller's inboxes, and which
// threads are in them (looked up once each).
type viewer struct {
	s       *Server
	u       *parley.User
	inboxes []uint64
	seen    map[uint64]bool
	// contacts remembers which contacts the viewer may see (seesContact).
	contacts map[uint64]bool
}

func (s *Server) viewerOf(ctx context.Context, u *parley.User) (*viewer, error) {
	ids, err := s.app.UserInboxIDs(ctx, u)
	if err != nil {
		return nil, err
	}
	return &viewer{s: s, u: u, inboxes: ids, seen: map[uint64]bool{}, contacts: map[uint64]bool{}}, nil
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

// contact returns contact id if the viewer may see it: if it has a thread in
// one of the viewer's inboxes. Otherwise it is ENOTFOUND.
func (v *viewer) contact(ctx context.Context, id uint64) (*parley.Contact, error) {
	notFound := parley.Errorf(parley.ENOTFOUND, "contact %d not found", id)
	if ok, err := v.seesContact(ctx, id); err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound
	}
	c, err := v.s.db.Contact(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, notFound
	}
	return c, err
}

// seesContact reports whether the viewer may see contact id: whether it
// has a thread in one of the viewer's inboxes.
func (v *viewer) seesContact(ctx context.Context, id uint64) (bool, error) {
	if ok, done := v.contacts[id]; done {
		return ok, nil
	}
	ts, err := v.threads(ctx, id, 1)
	if err != nil {
		return false, err
	}
	v.contacts[id] = len(ts) > 0
	return len(ts) > 0, nil
}

// seesCompany reports whether the viewer may see company co: whether they
// created it or may see one of its contacts. Companies are known through
// the contacts one may see; a company made for a contact of an inbox the
// viewer is not in stays unknown to them.
func (v *viewer) seesCompany(ctx context.Context, co *parley.Company) (bool, error) {
	if co.CreatedBy != 0 && co.CreatedBy == v.u.ID {
		return true, nil
	}
	ids, err := v.s.db.CompanyContactIDs(ctx, co.ID)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if ok, err := v.seesContact(ctx, id); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// company returns company id if the viewer may see it (seesCompany);
// otherwise it is ENOTFOUND.
func (v *viewer) company(ctx context.Context, id uint64) (*parley.Company, error) {
	notFound := parley.Errorf(parley.ENOTFOUND, "company %d not found", id)
	co, err := v.s.db.Company(ctx, id)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if ok, err := v.seesCompany(ctx, co); err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound
	}
	return co, nil
}

// visibleContacts returns the ids of the company's contacts that the viewer
// may see, ascending.
func (v *viewer) visibleContacts(ctx context.Context, companyID uint64) ([]uint64, error) {
	ids, err := v.s.db.CompanyContactIDs(ctx, companyID)
	if err != nil {
		return nil, err
	}
	out := []uint64{}
	for _, id := range ids {
		ok, err := v.seesContact(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
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
