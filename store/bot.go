package store

// botBuckets lists the buckets of this area, created by migrate4.
func botBuckets() []string { return nil }
