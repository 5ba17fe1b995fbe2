package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// createBuckets2 creates the buckets of schema version 2: each area of the
// store lists its own in its file.
func createBuckets2(tx *bolt.Tx) error {
	var names []string
	for _, area := range [][]string{peopleBuckets(), listBuckets(), actionBuckets(), contactBuckets()} {
		names = append(names, area...)
	}
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	// Visitor credentials stored before version 2, by contact.
	return indexAllVisitors(tx)
}
