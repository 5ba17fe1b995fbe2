package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// handleMailStatus tells the console what email can do on this Parley.
func (s *Server) handleMailStatus() http.Handler {
	type status struct {
		Outbound   bool   `json:"outbound"`   // replies to email threads are sent
		SystemMail bool   `json:"systemMail"` // notifications and transcripts are sent
		Inbound    bool   `json:"inbound"`    // the SMTP receiver runs
		Listen     string `json:"listen,omitempty"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		outbound, system := s.app.Mail()
		st := status{Outbound: outbound, SystemMail: system, Inbound: s.cfg.MailListen != ""}
		if userFrom(r.Context()).IsAdmin() {
			st.Listen = s.cfg.MailListen
		}
		s.writeJSON(w, http.StatusOK, st)
		return nil
	})
}

// ----- an inbox's email settings in the settings API -----

// maxMailboxes bounds the addresses of one inbox.
const maxMailboxes = 20

// inboxMailJSON is the email part of an inbox in the settings API.
type inboxMailJSON struct {
	EmailAddresses []string        `json:"emailAddresses"`
	Mailboxes      []mailboxJSON   `json:"mailboxes"`
	Notify         inboxNotifyJSON `json:"notify"`
	// Signature is added to every email reply from the inbox (rich text).
	Signature string `json:"signature"`
}

type mailboxJSON struct {
	ID      string `json:"id"` // its channel account id
	Address string `json:"address"`
	// Routing of new email threads arriving at the address (E3).
	Routing mailRoutingJSON `json:"routing"`
	// Connection is the mail account the address is connected to, or
	// null (http_mailboxes.go).
	Connection *mailConnectionJSON `json:"connection"`
}

type inboxNotifyJSON struct {
	NewConversation []flexID `json:"newConversation"`
	AssignedMessage []flexID `json:"assignedMessage"`
}

func (s *Server) toInboxMailJSON(in *parley.Inbox) inboxMailJSON {
	j := inboxMailJSON{EmailAddresses: []string{}, Mailboxes: []mailboxJSON{},
		Notify:    inboxNotifyJSON{NewConversation: flexIDs(in.Notify.NewConversation), AssignedMessage: flexIDs(in.Notify.AssignedMessage)},
		Signature: in.Signature}
	for i := range in.Mailboxes {
		mb := &in.Mailboxes[i]
		j.EmailAddresses = append(j.EmailAddresses, mb.Address)
		j.Mailboxes = append(j.Mailboxes, mailboxJSON{ID: idString(mb.ID), Address: mb.Address, Routing: toMailRoutingJSON(*mb),
			Connection: s.toMailConnectionJSON(mb)})
	}
	return j
}

// checkInboxMail validates the email part of an inbox request and returns
// the change to make on the inbox, in the store's transaction (call it on
// every create and change, after the members are set). Addresses are
// normalised (one address each, at most maxMailboxes, no repeats); an
// address of another inbox is ECONFLICT when the change is written. Users
// to notify must be members of the inbox as it is after the change;
// members removed leave the notification lists.
func (s *Server) checkInboxMail(ctx context.Context, req inboxMailRequest) (func(*parley.Inbox) error, error) {
	var addrs []string
	if req.EmailAddresses != nil {
		if len(*req.EmailAddresses) > maxMailboxes {
			return nil, parley.Errorf(parley.EINVALID, "emailAddresses holds at most %d addresses", maxMailboxes)
		}
		addrs = []string{}
		for _, a := range *req.EmailAddresses {
			n, err := parley.NormalizeEmail(a)
			if err != nil {
				return nil, parley.Errorf(parley.EINVALID, "emailAddresses: %s", parley.ErrorMessage(err))
			}
			if slices.ContainsFunc(addrs, func(x string) bool { return emailEqual(x, n) }) {
				continue
			}
			addrs = append(addrs, n)
		}
	}
	if err := cleanSignature("signature", req.Signature); err != nil {
		return nil, err
	}
	var notifyNew, notifyAssigned []uint64
	routes, err := s.checkMailRouting(ctx, req.MailRouting)
	if err != nil {
		return nil, err
	}
	if req.Notify != nil && req.Notify.NewConversation != nil {
		if notifyNew, err = s.checkUsers(ctx, "notify.newConversation", *req.Notify.NewConversation); err != nil {
			return nil, err
		}
	}
	if req.Notify != nil && req.Notify.AssignedMessage != nil {
		if notifyAssigned, err = s.checkUsers(ctx, "notify.assignedMessage", *req.Notify.AssignedMessage); err != nil {
			return nil, err
		}
	}
	return func(in *parley.Inbox) error {
		if addrs != nil {
			mbs := make([]parley.Mailbox, 0, len(addrs))
			for _, a := range addrs {
				mb := parley.Mailbox{Address: a}
				for _, old := range in.Mailboxes {
					if emailEqual(old.Address, a) {
						mb.ID, mb.Routing, mb.CreateTicket, mb.Connection = old.ID, old.Routing, old.CreateTicket, old.Connection
					}
				}
				mbs = append(mbs, mb)
			}
			in.Mailboxes = mbs
		}
		// Members removed leave the lists they were on; users named in this
		// request must be members.
		members := func(ids []uint64) []uint64 {
			return slices.DeleteFunc(slices.Clone(ids), func(id uint64) bool { return !in.HasMember(id) })
		}
		in.Notify.NewConversation, in.Notify.AssignedMessage = members(in.Notify.NewConversation), members(in.Notify.AssignedMessage)
		if err := setMailRouting(in, routes); err != nil {
			return err
		}
		for _, ids := range [][]uint64{notifyNew, notifyAssigned} {
			for _, id := range ids {
				if !in.HasMember(id) {
					return parley.Errorf(parley.EINVALID, "notify: user %d is not a member of the inbox", id)
				}
			}
		}
		if req.Signature != nil {
			in.Signature = *req.Signature
		}
		if notifyNew != nil {
			in.Notify.NewConversation = slices.Clone(notifyNew)
		}
		if notifyAssigned != nil {
			in.Notify.AssignedMessage = slices.Clone(notifyAssigned)
		}
		return nil
	}, nil
}

// mailRoute is one address's routing as a request sets it.
type mailRoute struct {
	address string
	field   string // mailRouting["address"], for errors
	routing parley.Routing
	users   []*parley.User // those it names, as they are now
	// ticket is the address's createTicket (nil: none) if ticketSet.
	ticket    *parley.TicketPreset
	ticketSet bool
}

// checkMailRouting decodes and validates the mailRouting of an inbox
// request (E3): an object from an address of the inbox to its routing
// (mode none, owner, users or teams, userIds, teamIds, fallbackUserId,
// maxOpenPerAgent, createTicket; unknown fields are refused). The users
// must exist and be active and the teams exist; whether the users are
// members is checked against the inbox as the change leaves it
// (setMailRouting).
func (s *Server) checkMailRouting(ctx context.Context, req map[string]json.RawMessage) ([]mailRoute, error) {
	if len(req) > maxMailboxes {
		return nil, parley.Errorf(parley.EINVALID, "mailRouting holds at most %d addresses", maxMailboxes)
	}
	addrs := make([]string, 0, len(req))
	for a := range req {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	var out []mailRoute
	for _, a := range addrs {
		field := fmt.Sprintf("mailRouting[%q]", a)
		var rj mailRoutingJSON
		if err := exactFields(req[a], reflect.TypeOf(&rj), ""); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "%s: %s", field, parley.ErrorMessage(err))
		}
		dec := json.NewDecoder(bytes.NewReader(req[a]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rj); err != nil {
			var typ *json.UnmarshalTypeError
			if errors.As(err, &typ) {
				return nil, parley.Errorf(parley.EINVALID, "%s.%s must be %s", field, typ.Field, typ.Type.Kind())
			}
			// encoding/json names an unknown field as: json: unknown field "x".
			return nil, parley.Errorf(parley.EINVALID, "%s: %s", field, strings.TrimPrefix(err.Error(), "json: "))
		}
		r := parley.Routing{Mode: rj.Mode, UserIDs: uint64s(rj.UserIDs), TeamIDs: uint64s(rj.TeamIDs),
			FallbackUserID: uint64(rj.FallbackUserID), MaxOpenPerAgent: rj.MaxOpenPerAgent}
		if err := parley.ValidateMailRouting(field, r); err != nil {
			return nil, err
		}
		r = parley.NormalizeMailRouting(r)
		mr := mailRoute{address: a, field: field, routing: r}
		var err error
		if mr.ticket, mr.ticketSet, err = s.checkTicketPreset(ctx, field, rj.CreateTicket); err != nil {
			return nil, err
		}
		user := func(f string, id uint64) error {
			u, err := s.db.User(ctx, id)
			if parley.ErrorCode(err) == parley.ENOTFOUND || err == nil && u.Deactivated {
				return parley.Errorf(parley.EINVALID, "%s: user %d is not an active user", f, id)
			} else if err != nil {
				return err
			}
			mr.users = append(mr.users, u)
			return nil
		}
		for i, id := range r.UserIDs {
			if err := user(fmt.Sprintf("%s.userIds[%d]", field, i), id); err != nil {
				return nil, err
			}
		}
		if r.FallbackUserID != 0 {
			if err := user(field+".fallbackUserId", r.FallbackUserID); err != nil {
				return nil, err
			}
		}
		for i, id := range r.TeamIDs {
			if _, err := s.db.Team(ctx, id); parley.ErrorCode(err) == parley.ENOTFOUND {
				return nil, parley.Errorf(parley.EINVALID, "%s.teamIds[%d]: team %d does not exist", field, i, id)
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, mr)
	}
	return out, nil
}

// setMailRouting sets routes on inbox in as a change leaves it: each
// address must be one of its addresses and each user named a member.
// Members removed leave the routing of every address; an address routed to
// users of whom none is left routes to no one.
func setMailRouting(in *parley.Inbox, routes []mailRoute) error {
	for i := range in.Mailboxes {
		r := &in.Mailboxes[i].Routing
		r.UserIDs = slices.DeleteFunc(slices.Clone(r.UserIDs), func(id uint64) bool { return !in.HasMember(id) })
		if r.FallbackUserID != 0 && !in.HasMember(r.FallbackUserID) {
			r.FallbackUserID = 0
		}
		if r.Mode == parley.RoutingUsers && len(r.UserIDs) == 0 {
			*r = parley.Routing{Mode: parley.RoutingNone}
		}
	}
	dropTicketOwners(in)
	for _, mr := range routes {
		i := slices.IndexFunc(in.Mailboxes, func(mb parley.Mailbox) bool { return emailEqual(mb.Address, mr.address) })
		if i < 0 {
			return parley.Errorf(parley.EINVALID, "%s: %s is not an email address of the inbox", mr.field, mr.address)
		}
		for _, u := range mr.users {
			if !in.HasMember(u.ID) {
				return parley.Errorf(parley.EINVALID, "%s: user %d is not a member of inbox %q", mr.field, u.ID, in.Name)
			}
		}
		in.Mailboxes[i].Routing = mr.routing
		if err := setTicketPreset(in, &in.Mailboxes[i], mr); err != nil {
			return err
		}
	}
	return nil
}

func emailEqual(a, b string) bool { return strings.EqualFold(a, b) }

// ----- mailboxes as channel accounts of the v3 API -----

// visibleMailboxes lists the mailboxes of the inboxes inboxIDs as channel
// accounts (channel 1002).
func (s *Server) visibleMailboxes(ctx context.Context, inboxIDs []uint64) ([]channelAccountJSON, error) {
	out := []channelAccountJSON{}
	for _, id := range inboxIDs {
		in, err := s.db.Inbox(ctx, id)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, mb := range in.Mailboxes {
			out = append(out, channelAccountJSON{ID: idString(mb.ID), ChannelID: strconv.Itoa(parley.ChannelEmail),
				InboxID: idString(in.ID), Name: mb.Address, Active: true, CreatedAt: msTime(in.CreatedAt)})
		}
	}
	return out, nil
}
