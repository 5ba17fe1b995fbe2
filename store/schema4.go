package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrate4 creates the buckets of schema version 4, each area listing its own
// in its file, and fills the indexes that version 4 adds over existing data.
func migrate4(tx *bolt.Tx) error {
	var names []string
	for _, area := range [][]string{mailBuckets(), contactListBuckets(), routingBuckets(), botBuckets(), threadContactBuckets()} {
		names = append(names, area...)
	}
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return indexThreadContacts(tx)
}
