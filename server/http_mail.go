package server

import (
	"context"
	"net/http"
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
}

type mailboxJSON struct {
	ID      string `json:"id"` // its channel account id
	Address string `json:"address"`
}

type inboxNotifyJSON struct {
	NewConversation []flexID `json:"newConversation"`
	AssignedMessage []flexID `json:"assignedMessage"`
}

func toInboxMailJSON(in *parley.Inbox) inboxMailJSON {
	j := inboxMailJSON{EmailAddresses: []string{}, Mailboxes: []mailboxJSON{},
		Notify: inboxNotifyJSON{NewConversation: flexIDs(in.Notify.NewConversation), AssignedMessage: flexIDs(in.Notify.AssignedMessage)}}
	for _, mb := range in.Mailboxes {
		j.EmailAddresses = append(j.EmailAddresses, mb.Address)
		j.Mailboxes = append(j.Mailboxes, mailboxJSON{ID: idString(mb.ID), Address: mb.Address})
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
	var notifyNew, notifyAssigned []uint64
	var err error
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
						mb.ID = old.ID
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
		for _, ids := range [][]uint64{notifyNew, notifyAssigned} {
			for _, id := range ids {
				if !in.HasMember(id) {
					return parley.Errorf(parley.EINVALID, "notify: user %d is not a member of the inbox", id)
				}
			}
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
				InboxID: idString(in.ID), Name: mb.Address, Active: true, CreatedAt: in.CreatedAt.UTC()})
		}
	}
	return out, nil
}
