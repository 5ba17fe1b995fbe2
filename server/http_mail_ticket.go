package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/parley-chat/parley"
)

// A ticket for every new email (E3): the createTicket of an address's
// routing in the settings API.

// mailRoutingJSON is an address's routing in the settings API: a widget's
// routing fields and createTicket. In a request, createTicket left out
// keeps the address's setting, null turns it off, and an object sets it.
type mailRoutingJSON struct {
	routingJSON
	CreateTicket json.RawMessage `json:"createTicket,omitempty"`
}

// ticketPresetJSON is createTicket: the stage and owner of the ticket
// created for each new email thread.
type ticketPresetJSON struct {
	Stage   string `json:"stage"`
	Owner   string `json:"owner"` // none, assignee or user
	OwnerID flexID `json:"ownerId,omitempty"`
}

// toMailRoutingJSON is mailbox mb's routing and ticket preset as the API
// shows them.
func toMailRoutingJSON(mb parley.Mailbox) mailRoutingJSON {
	r := parley.NormalizeMailRouting(mb.Routing)
	j := mailRoutingJSON{routingJSON: routingJSON{Mode: r.Mode, UserIDs: flexIDs(r.UserIDs), TeamIDs: flexIDs(r.TeamIDs),
		FallbackUserID: flexID(r.FallbackUserID), MaxOpenPerAgent: r.MaxOpenPerAgent}}
	if p := mb.CreateTicket; p != nil {
		j.CreateTicket = mustJSON(ticketPresetJSON{Stage: p.Stage, Owner: p.Owner, OwnerID: flexID(p.OwnerID)})
	}
	return j
}

// checkTicketPreset decodes and validates the createTicket of the routing
// of field: set reports whether the request gives one (p nil: off). Unknown
// fields, a stage that is not a ticket's, another owner mode, or an owner
// who is not an active user are EINVALID naming the field; whether the
// owner is a member of the inbox is setMailRouting's to check. The preset
// keeps the caller's language for the name of a ticket without subject.
func (s *Server) checkTicketPreset(ctx context.Context, field string, raw json.RawMessage) (p *parley.TicketPreset, set bool, err error) {
	if raw == nil {
		return nil, false, nil
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, true, nil
	}
	field += ".createTicket"
	var j ticketPresetJSON
	if err := exactFields(raw, reflect.TypeOf(&j), ""); err != nil {
		return nil, false, parley.Errorf(parley.EINVALID, "%s: %s", field, parley.ErrorMessage(err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, false, parley.Errorf(parley.EINVALID, "%s.%s must be %s", field, typ.Field, typ.Type.Kind())
		}
		return nil, false, parley.Errorf(parley.EINVALID, "%s: %s", field, strings.TrimPrefix(err.Error(), "json: "))
	}
	p = &parley.TicketPreset{Stage: strings.TrimSpace(j.Stage), Owner: strings.TrimSpace(j.Owner), OwnerID: uint64(j.OwnerID)}
	if u := userFrom(ctx); u != nil {
		p.Language = u.Language
	}
	if err := p.Validate(field); err != nil {
		return nil, false, err
	}
	if p.OwnerID != 0 {
		u, err := s.db.User(ctx, p.OwnerID)
		if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
			return nil, false, parley.Errorf(parley.EINVALID, "%s.ownerId: user %d is not an active user", field, p.OwnerID)
		} else if err != nil {
			return nil, false, err
		}
	}
	return p, true, nil
}

// setTicketPreset sets route mr's ticket preset on mailbox mb of inbox in,
// if the request gave one: its owner must be a member.
func setTicketPreset(in *parley.Inbox, mb *parley.Mailbox, mr mailRoute) error {
	if !mr.ticketSet {
		return nil
	}
	if p := mr.ticket; p != nil && p.OwnerID != 0 && !in.HasMember(p.OwnerID) {
		return parley.Errorf(parley.EINVALID, "%s.createTicket.ownerId: user %d is not a member of inbox %q", mr.field, p.OwnerID, in.Name)
	}
	if mr.ticket == nil {
		mb.CreateTicket = nil
	} else {
		p := *mr.ticket
		mb.CreateTicket = &p
	}
	return nil
}

// dropTicketOwners makes the tickets of in's addresses owned by members
// removed from it owned by no one.
func dropTicketOwners(in *parley.Inbox) {
	for i := range in.Mailboxes {
		if p := in.Mailboxes[i].CreateTicket; p != nil && p.OwnerID != 0 && !in.HasMember(p.OwnerID) {
			c := *p
			c.Owner, c.OwnerID = parley.TicketOwnerNone, 0
			in.Mailboxes[i].CreateTicket = &c
		}
	}
}
