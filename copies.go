package parley

import (
	"strconv"
	"strings"
)

// Copies of team email: who besides the contact an email message went to
// (Cc, Bcc) or came to (To, Cc), and the rules that decide who the next
// reply copies.

// Recipient fields, with HubSpot's names (a message's recipientField).
const (
	RecipientTo  = "TO"
	RecipientCc  = "CC"
	RecipientBcc = "BCC"
)

// Limits of copies.
const (
	// MaxCopies bounds the Cc and Bcc addresses of one email Parley sends
	// together (a reply's, a forward's To): more is EINVALID.
	MaxCopies = 20
	// MaxKeptRecipients bounds the To and Cc addresses kept of one incoming
	// mail, together, in the order of its headers (To first): a mail that
	// names more keeps only the first ones, so that a hostile mail with a
	// thousand addresses neither bloats the store nor makes the next reply
	// copy them all.
	MaxKeptRecipients = 50
)

// Recipient is one address an email message went to or came to, and the
// header that named it. A Bcc recipient is stored for the team and never
// shown to the contact, nor written into a header.
type Recipient struct {
	Field string `json:"field"` // RecipientTo, RecipientCc or RecipientBcc
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Address returns r as an Address.
func (r Recipient) Address() Address { return Address{Name: r.Name, Email: r.Email} }

// RecipientsIn returns the addresses of rs in field, in order.
func RecipientsIn(rs []Recipient, field string) []Address {
	var out []Address
	for _, r := range rs {
		if r.Field == field {
			out = append(out, r.Address())
		}
	}
	return out
}

// CopyAddress checks one address that an agent gives as a copy (Cc, Bcc)
// or as where to forward to, and returns it with the address normalized
// (NormalizeEmail) and the name trimmed. what names it in errors
// ("recipients[2]"). A carriage return, line feed or other control
// character in the name or address is EINVALID: headers are built from
// them, and such characters could add headers of their own (header
// injection). So is a name over MaxNameBytes or an address that is not
// one plain address.
func CopyAddress(what string, a Address) (Address, error) {
	if hasControl(a.Name) || hasControl(a.Email) {
		return Address{}, Errorf(EINVALID, "%s: control characters (such as line breaks) are not allowed in an email address or name", what)
	}
	name := strings.TrimSpace(a.Name)
	if len(name) > MaxNameBytes {
		return Address{}, Errorf(EINVALID, "%s: name is longer than %d bytes", what, MaxNameBytes)
	}
	email, err := NormalizeEmail(a.Email)
	if err != nil || strings.Contains(a.Email, "<") || strings.Contains(a.Email, ",") {
		return Address{}, Errorf(EINVALID, "%s: %q is not one plain email address", what, truncate(a.Email, 80))
	}
	return Address{Name: name, Email: email}, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// Copies checks an agent's Cc and Bcc of one email (see CopyAddress for
// each address) and returns them without duplicates: an address is
// compared without regard to case, the first copy wins, an address on Cc
// is not repeated on Bcc, and skip (the contact the email goes To, the
// inbox's own addresses) is left out of both. More than MaxCopies
// addresses in all is EINVALID; so is any bad address.
func Copies(cc, bcc []Address, skip ...string) (outCc, outBcc []Address, err error) {
	if n := len(cc) + len(bcc); n > MaxCopies {
		return nil, nil, Errorf(EINVALID, "an email may copy at most %d addresses (Cc and Bcc together), not %d", MaxCopies, n)
	}
	seen := map[string]bool{}
	for _, s := range skip {
		seen[strings.ToLower(s)] = true
	}
	add := func(field string, list []Address, out *[]Address) error {
		for i, a := range list {
			c, err := CopyAddress(strings.ToLower(field)+"["+strconv.Itoa(i)+"]", a)
			if err != nil {
				return err
			}
			if k := strings.ToLower(c.Email); !seen[k] {
				seen[k] = true
				*out = append(*out, c)
			}
		}
		return nil
	}
	if err := add(RecipientCc, cc, &outCc); err != nil {
		return nil, nil, err
	}
	if err := add(RecipientBcc, bcc, &outBcc); err != nil {
		return nil, nil, err
	}
	return outCc, outBcc, nil
}

// ReplyCc returns who a reply copies by default after an incoming mail
// from the thread's contact that came to the recipients rs (its To and Cc,
// as kept): reply-all, as mail clients do it. Everyone on To and Cc stays,
// on Cc, but for
//
//   - the contact (contact: the reply goes To them), and own (the inbox's
//     addresses and Parley's sender: the reply comes from there);
//   - addresses of machines that never read a reply: mail systems
//     (mailer-daemon@, postmaster@) and no-reply addresses (noreply@,
//     donotreply@ and their spellings);
//   - a second copy of an address (compared without regard to case).
//
// Other role addresses (sales@, info@, a list) stay: the contact chose to
// copy them, and Parley only keeps who was there; it never adds anyone.
// At most MaxCopies are kept, the first ones.
func ReplyCc(rs []Recipient, contact string, own func(addr string) bool) []Address {
	seen := map[string]bool{strings.ToLower(contact): true}
	var out []Address
	for _, r := range rs {
		if r.Field != RecipientTo && r.Field != RecipientCc {
			continue
		}
		k := strings.ToLower(r.Email)
		if k == "" || seen[k] || IsMailSystemAddress(r.Email) || isNoReply(r.Email) || own != nil && own(r.Email) {
			continue
		}
		seen[k] = true
		out = append(out, r.Address())
		if len(out) == MaxCopies {
			break
		}
	}
	return out
}

// isNoReply reports whether email is a no-reply address, in any of its
// spellings (see IsRoleAddress for how a local part is read).
func isNoReply(email string) bool {
	local, suffixed, ok := localPart(email)
	no := func(l string) bool {
		switch l {
		case "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply":
			return true
		}
		return false
	}
	return ok && (no(local) || no(suffixed))
}
