package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Visitor identification (CONTRACT §4): a site's back end asks for a token
// for one of its signed-in users' email, and its page hands email and token
// to the widget, which then chats as that contact on every device.
//
// A token is signed, not stored: "pit_" + base64url(contact id, expiry) +
// "." + base64url(HMAC-SHA256 over those and the lower-cased email). The
// HMAC key is 32 random bytes made on first use and kept in the store's meta
// bucket, so tokens survive a restart. A token is valid for exactly one
// contact, only together with that contact's current email, and only until
// it expires; nothing about it is logged.

// IdentificationTokenTTL is how long a visitor identification token works,
// as long as HubSpot's.
const IdentificationTokenTTL = 12 * time.Hour

// metaIdentKey is the store key of the identification tokens' HMAC key.
const metaIdentKey = "identificationKey"

const identPrefix = "pit_"

// identKey holds the identification HMAC key once read or made. The zero
// value is ready to use.
type identKey struct {
	mu  sync.Mutex
	key []byte
}

// identificationKey returns the HMAC key, making and storing it on first
// use. The mutex makes sure two first requests agree on one key.
func (a *App) identificationKey(ctx context.Context) ([]byte, error) {
	k := &a.ident
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	v, err := a.db.Meta(ctx, metaIdentKey)
	if err == nil && len(v) == 64 {
		if key, err := hex.DecodeString(string(v)); err == nil {
			k.key = key
			return key, nil
		}
	} else if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("identification key: %w", err)
	}
	if err := a.db.SetMeta(ctx, metaIdentKey, []byte(hex.EncodeToString(key))); err != nil {
		return nil, err
	}
	k.key = key
	return key, nil
}

func identMAC(key, payload []byte, email string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley identification v1\x00"))
	m.Write(payload)
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(email)))
	return m.Sum(nil)
}

// NewIdentificationToken signs a token for contact c, valid until now + TTL.
func (a *App) NewIdentificationToken(ctx context.Context, c *parley.Contact) (string, error) {
	key, err := a.identificationKey(ctx)
	if err != nil {
		return "", err
	}
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload, c.ID)
	binary.BigEndian.PutUint64(payload[8:], uint64(a.Now().Add(IdentificationTokenTTL).Unix()))
	b64 := base64.RawURLEncoding
	return identPrefix + b64.EncodeToString(payload) + "." + b64.EncodeToString(identMAC(key, payload, c.Email)), nil
}

// IdentifiedContact returns the contact that a page's identificationEmail
// and identificationToken stand for. It returns nil and no error when either
// is empty or the token is not valid for that email: forged, expired, made
// for another contact, or the contact's email has changed since. Such a
// visitor is simply anonymous. An error means the store failed.
func (a *App) IdentifiedContact(ctx context.Context, email, token string) (*parley.Contact, error) {
	email = strings.TrimSpace(email)
	if email == "" || token == "" || len(token) > 200 || len(email) > parley.MaxNameBytes {
		return nil, nil
	}
	p, mac, ok := strings.Cut(strings.TrimPrefix(token, identPrefix), ".")
	if !ok || !strings.HasPrefix(token, identPrefix) {
		return nil, nil
	}
	b64 := base64.RawURLEncoding
	payload, err1 := b64.DecodeString(p)
	sum, err2 := b64.DecodeString(mac)
	if err1 != nil || err2 != nil || len(payload) != 16 {
		return nil, nil
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(sum, identMAC(key, payload, email)) {
		return nil, nil
	}
	if exp := int64(binary.BigEndian.Uint64(payload[8:])); a.Now().Unix() >= exp {
		return nil, nil
	}
	c, err := a.db.Contact(ctx, binary.BigEndian.Uint64(payload))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !strings.EqualFold(c.Email, email) {
		return nil, nil
	}
	return c, nil
}

// IdentifyContact finds or creates the contact with email and gives it the
// names that are not empty. It returns EINVALID for a bad email or name.
func (a *App) IdentifyContact(ctx context.Context, email, first, last string) (*parley.Contact, error) {
	email, err := parley.ValidateVisitorEmail(email)
	if err != nil {
		return nil, err
	}
	probe := parley.Contact{Email: email, FirstName: first, LastName: last}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	for range 2 {
		c, err := a.db.ContactByEmail(ctx, email)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			c = &parley.Contact{Email: email, FirstName: first, LastName: last, CreatedAt: a.Now()}
			err = a.db.CreateContact(ctx, c)
			if parley.ErrorCode(err) == parley.ECONFLICT {
				continue // created at the same moment by another request
			}
			return c, err
		} else if err != nil {
			return nil, err
		}
		if (first == "" || first == c.FirstName) && (last == "" || last == c.LastName) {
			return c, nil
		}
		c, err = a.db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
			if first != "" {
				c.FirstName = first
			}
			if last != "" {
				c.LastName = last
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		a.events.ContactUpdated(ctx, c)
		return c, nil
	}
	return nil, parley.Errorf(parley.ECONFLICT, "the contact with this email is being changed; try again")
}
