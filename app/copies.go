package app

import (
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley"
)

// Cc and Bcc of email replies: who a reply copies by default (the thread's
// current Cc) and what an agent may change of it.

// ReplyCopies are the Cc and Bcc an agent gives an email reply. A nil
// *ReplyCopies means the thread's current Cc and no Bcc.
type ReplyCopies struct {
	Cc, Bcc []parley.Address
}

// replyLookback is how many of a thread's latest messages are read to
// find its current Cc.
const replyLookback = 200

// inboundRecipients are the To and Cc of mail e as a message keeps them
// (mail.Parse keeps at most parley.MaxKeptRecipients).
func inboundRecipients(e *parley.InboundEmail) []parley.Recipient {
	var rs []parley.Recipient
	for _, a := range e.To {
		rs = append(rs, parley.Recipient{Field: parley.RecipientTo, Name: a.Name, Email: a.Email})
	}
	for _, a := range e.Cc {
		rs = append(rs, parley.Recipient{Field: parley.RecipientCc, Name: a.Name, Email: a.Email})
	}
	if len(rs) > parley.MaxKeptRecipients {
		rs = rs[:parley.MaxKeptRecipients]
	}
	return rs
}

// replyRecipients are the recipients a reply to to with copies cc and bcc
// keeps.
func replyRecipients(to parley.Address, cc, bcc []parley.Address) []parley.Recipient {
	rs := []parley.Recipient{{Field: parley.RecipientTo, Name: to.Name, Email: to.Email}}
	for _, a := range cc {
		rs = append(rs, parley.Recipient{Field: parley.RecipientCc, Name: a.Name, Email: a.Email})
	}
	for _, a := range bcc {
		rs = append(rs, parley.Recipient{Field: parley.RecipientBcc, Name: a.Name, Email: a.Email})
	}
	return rs
}

// ReplyDefaults returns who user u's next email reply on thread threadID
// goes to when the agent changes nothing: the contact (To) and the
// thread's current Cc. Only members of the thread's inbox may ask (others:
// ENOTFOUND); a chat thread has none (EINVALID).
func (a *App) ReplyDefaults(ctx context.Context, u *parley.User, threadID uint64) (to parley.Address, cc []parley.Address, err error) {
	t, err := a.ThreadForUser(ctx, u, threadID)
	if err != nil {
		return to, nil, err
	}
	if t.ChannelID != parley.ChannelEmail {
		return to, nil, parley.Errorf(parley.EINVALID, "thread %d is not an email thread", t.ID)
	}
	c, err := a.db.Contact(ctx, t.ContactID)
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return to, nil, err
	}
	if c != nil {
		to = parley.Address{Name: strings.TrimSpace(c.FirstName + " " + c.LastName), Email: c.Email}
	}
	cc, err = a.currentCc(ctx, t, c)
	return to, cc, err
}

// currentCc is who the next reply on email thread t copies by default:
// the Cc of the latest agent's reply if that is newer than the contact's
// latest mail, else everyone that mail went to who still belongs on Cc
// (parley.ReplyCc). Mail from someone else than the contact (a colleague,
// a stranger who cites a Message-ID) never changes it, so that nobody but
// the contact and the agents decides whom a reply copies. Replies and
// mail from before Parley kept recipients are skipped.
func (a *App) currentCc(ctx context.Context, t *parley.Thread, c *parley.Contact) ([]parley.Address, error) {
	if c == nil {
		return nil, nil
	}
	after := uint64(0)
	if t.LastSeq > replyLookback {
		after = t.LastSeq - replyLookback
	}
	msgs, _, err := a.db.Messages(ctx, t.ID, after, replyLookback)
	if err != nil {
		return nil, err
	}
	for _, m := range slices.Backward(msgs) {
		if m.Type != parley.TypeMessage || len(m.Recipients) == 0 {
			continue
		}
		switch {
		case m.Direction == parley.Outgoing:
			return parley.RecipientsIn(m.Recipients, parley.RecipientCc), nil
		case m.SenderID == c.ActorID():
			return parley.ReplyCc(m.Recipients, c.Email, func(addr string) bool { return a.isOwnAddress(ctx, addr) }), nil
		}
	}
	return nil, nil
}

// replyCopies returns the Cc and Bcc of a reply on email thread t to
// contact c: the thread's current Cc when copies is nil, else the agent's,
// checked (parley.Copies: at most parley.MaxCopies, valid addresses, no
// line breaks), without duplicates and without the contact and Parley's
// own addresses, which a copy would only turn into a loop.
func (a *App) replyCopies(ctx context.Context, t *parley.Thread, c *parley.Contact, copies *ReplyCopies) (cc, bcc []parley.Address, err error) {
	if copies == nil {
		cc, err = a.currentCc(ctx, t, c)
		return cc, nil, err
	}
	cc, bcc, err = parley.Copies(copies.Cc, copies.Bcc, c.Email)
	if err != nil {
		return nil, nil, err
	}
	own := func(x parley.Address) bool { return a.isOwnAddress(ctx, x.Email) }
	cc, bcc = slices.DeleteFunc(cc, own), slices.DeleteFunc(bcc, own)
	// An address given without a name keeps the name the thread knows it
	// by (the console sends addresses only).
	if cur, err := a.currentCc(ctx, t, c); err == nil && len(cur) > 0 {
		names := map[string]string{}
		for _, x := range cur {
			names[strings.ToLower(x.Email)] = x.Name
		}
		for _, list := range [][]parley.Address{cc, bcc} {
			for i := range list {
				if list[i].Name == "" {
					list[i].Name = names[strings.ToLower(list[i].Email)]
				}
			}
		}
	}
	return cc, bcc, nil
}
