package app

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// Tickets for new email (E3): a mailbox may create a ticket for every new
// email thread it receives, with a stage and an owner its admin chose.
// DeliverMail creates it in the commit that creates the thread
// (MailAppend.NewRecord), so that the thread never exists without it and a
// retried delivery of the same mail creates no second one; replies into a
// thread, Filtered mail (role senders, blocked contacts) and automatic
// mail (bounces, auto-replies) create none.

// newMailTicket returns the ticket to create with a new email thread of
// mailbox mailboxID under preset p, named after the mail's subject, and
// the SYSTEM event that records it. An owner chosen by routing
// (TicketOwnerAssignee) is set once routing assigns the thread
// (ticketOwnerFromRouting).
func (a *App) newMailTicket(p *parley.TicketPreset, subject string, mailboxID uint64) (*parley.Record, *parley.Message) {
	name := parley.TicketName(subject)
	if name == "" {
		name = locale.Lookup(p.Language, "mail.ticket.noSubject")
	}
	r := &parley.Record{Kind: parley.RecordTicket, Name: name, Stage: p.Stage}
	if p.Owner == parley.TicketOwnerUser {
		r.OwnerID = p.OwnerID
	}
	ev := &parley.Message{
		Type: parley.TypeSystem, Event: parley.EventRecordCreated, Text: r.Kind + ": " + r.Name,
		SenderID: parley.SystemActorID, Direction: parley.Outgoing,
		ChannelID: parley.ChannelEmail, ChannelAccountID: mailboxID, CreatedAt: a.Now(),
	}
	return r, ev
}

// ticketOwnerFromRouting gives user to, whom routing just assigned email
// thread t, the tickets created for t without an owner when its mailbox's
// preset says the assignee owns them. The change is recorded on the thread
// as any record change is, by the system. Failures are logged: the
// assignment stands.
func (a *App) ticketOwnerFromRouting(ctx context.Context, t *parley.Thread, to uint64) {
	if t.ChannelID != parley.ChannelEmail {
		return
	}
	in, err := a.db.Inbox(ctx, t.InboxID)
	if err != nil {
		return
	}
	mb := in.MailboxByID(t.ChannelAccountID)
	if mb == nil || mb.CreateTicket == nil || mb.CreateTicket.Owner != parley.TicketOwnerAssignee || !in.HasMember(to) {
		return
	}
	recs, err := a.db.ThreadRecords(ctx, t.ID)
	if err != nil {
		a.log.Warn().Err(err).Uint64("threadId", t.ID).Msg("read the tickets of a routed email thread")
		return
	}
	for _, r := range recs {
		if r.Kind != parley.RecordTicket || r.CreatedBy != 0 || r.OwnerID != 0 {
			continue // not the one created with the thread, or owned already
		}
		rec, results, err := a.db.UpdateRecordWithEvents(ctx, r.ID, func(r *parley.Record) error {
			if r.OwnerID == 0 {
				r.OwnerID = to
			}
			return nil
		}, func(old, r *parley.Record) *parley.Message {
			changes := parley.RecordChanges(old, r)
			if len(changes) == 0 {
				return nil
			}
			return &parley.Message{
				Type: parley.TypeSystem, Event: parley.EventRecordUpdated, Text: r.Kind + ": " + r.Name, Changes: &changes,
				SenderID: parley.SystemActorID, Direction: parley.Outgoing, CreatedAt: a.Now(),
			}
		})
		if err != nil {
			a.log.Warn().Err(err).Uint64("threadId", t.ID).Uint64("recordId", r.ID).Msg("set the owner of an email thread's ticket")
			continue
		}
		for _, res := range results {
			if res.Message != nil {
				a.events.MessageCreated(ctx, res.Thread, res.Message)
			}
		}
		a.events.RecordChanged(ctx, rec)
	}
}
