package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-chat/parley"
)

// migrate5 makes every email a visitor typed an unverified one
// (parley.Contact.UnverifiedEmail). Before version 5 a typed email became
// the contact's email whenever no other contact had it, and so an identity:
// whoever later proved that address (the site's identification) was joined
// to the typist's contact and its conversations. A contact that anonymous
// browsers hold credentials for got its email from typing (identified
// visitors hold none; email senders never get one), so its email moves to
// UnverifiedEmail and leaves the email index. The older capturedEmail
// property moves there too. Nothing else changes.
func migrate5(tx *bolt.Tx) error {
	tb := contactTable()
	b := bucket(tx, tb.bucket)
	type change struct{ c, old *parley.Contact }
	var changes []change
	err := b.ForEach(func(k, data []byte) error {
		if len(k) != 8 {
			return nil
		}
		c := new(parley.Contact)
		if err := tb.decode(btoi(k), data, c); err != nil {
			return err
		}
		old := *c
		changed := false
		if c.Email != "" && len(contactVisitorHashes(tx, c.ID)) > 0 {
			if c.UnverifiedEmail == "" {
				c.UnverifiedEmail = c.Email
			}
			c.Email, changed = "", true
		}
		if v, ok := c.Properties[parley.PropertyCapturedEmail]; ok {
			if c.UnverifiedEmail == "" {
				c.UnverifiedEmail = v
			}
			props := make(map[string]string, len(c.Properties))
			for k, v := range c.Properties {
				if k != parley.PropertyCapturedEmail {
					props[k] = v
				}
			}
			if len(props) == 0 {
				props = nil
			}
			c.Properties, changed = props, true
		}
		if changed {
			changes = append(changes, change{c, &old})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if err := tb.put(tx, b, ch.c, ch.old); err != nil {
			return fmt.Errorf("contact %d: %w", ch.c.ID, err)
		}
	}
	return nil
}
