package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Records: the tickets and deals on a contact and the threads they came
// from.

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

// recordEvent is the system message that records, on each thread of record
// r, that u changed it: EventRecordUpdated naming the record as
// contactEvent does ("deal: Pro plan"), with the changes.
func (s *Server) recordEvent(u *parley.User, r *parley.Record, changes []parley.Change) *parley.Message {
	return &parley.Message{
		Type: parley.TypeSystem, Event: parley.EventRecordUpdated, Text: r.Kind + ": " + r.Name, Changes: &changes,
		SenderID: u.ActorID(), Direction: parley.Outgoing, CreatedAt: s.now(),
	}
}
