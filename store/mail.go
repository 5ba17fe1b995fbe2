package store

// mailBuckets lists the buckets of this area, created by migrate4.
func mailBuckets() []string { return nil }
