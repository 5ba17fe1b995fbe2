package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
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
func (s *Server) identificationKey(ctx context.Context) ([]byte, error) {
	k := &s.ident
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	v, err := s.db.Meta(ctx, metaIdentKey)
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
	if err := s.db.SetMeta(ctx, metaIdentKey, []byte(hex.EncodeToString(key))); err != nil {
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

// newIdentificationToken signs a token for contact c, valid until now + TTL.
func (s *Server) newIdentificationToken(ctx context.Context, c *parley.Contact) (string, error) {
	key, err := s.identificationKey(ctx)
	if err != nil {
		return "", err
	}
	payload := make([]byte, 16)
	binary.BigEndian.PutUint64(payload, c.ID)
	binary.BigEndian.PutUint64(payload[8:], uint64(s.now().Add(IdentificationTokenTTL).Unix()))
	b64 := base64.RawURLEncoding
	return identPrefix + b64.EncodeToString(payload) + "." + b64.EncodeToString(identMAC(key, payload, c.Email)), nil
}

// identifiedContact returns the contact that a page's identificationEmail
// and identificationToken stand for. It returns nil and no error when either
// is empty or the token is not valid for that email: forged, expired, made
// for another contact, or the contact's email has changed since. Such a
// visitor is simply anonymous. An error means the store failed.
func (s *Server) identifiedContact(ctx context.Context, email, token string) (*parley.Contact, error) {
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
	key, err := s.identificationKey(ctx)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(sum, identMAC(key, payload, email)) {
		return nil, nil
	}
	if exp := int64(binary.BigEndian.Uint64(payload[8:])); s.now().Unix() >= exp {
		return nil, nil
	}
	c, err := s.db.Contact(ctx, binary.BigEndian.Uint64(payload))
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

// handleIdentificationToken is POST /visitor-identification/v3/tokens/create
// with {"email","firstName","lastName"}: it finds the contact with that email
// (any case) or creates it, sets the names given, and answers {"token"}. Its
// route lets only an admin's API token with the admin scope through: a token
// opens the contact's conversations to whoever holds it.
func (s *Server) handleIdentificationToken() http.Handler {
	type request struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		c, err := s.identifyContact(r.Context(), req.Email, strings.TrimSpace(req.FirstName), strings.TrimSpace(req.LastName))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		token, err := s.newIdentificationToken(r.Context(), c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]string{"token": token})
	})
}

// identifyContact finds or creates the contact with email and gives it the
// names that are not empty. It returns EINVALID for a bad email or name.
func (s *Server) identifyContact(ctx context.Context, email, first, last string) (*parley.Contact, error) {
	email, err := parley.ValidateVisitorEmail(email)
	if err != nil {
		return nil, err
	}
	probe := parley.Contact{Email: email, FirstName: first, LastName: last}
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	for range 2 {
		c, err := s.db.ContactByEmail(ctx, email)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			c = &parley.Contact{Email: email, FirstName: first, LastName: last, CreatedAt: s.now()}
			err = s.db.CreateContact(ctx, c)
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
		c, err = s.db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
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
		s.publishContact(ctx, c)
		return c, nil
	}
	return nil, parley.Errorf(parley.ECONFLICT, "the contact with this email is being changed; try again")
}
