package store

// routingBuckets lists the buckets of this area, created by migrate4.
func routingBuckets() []string { return nil }
