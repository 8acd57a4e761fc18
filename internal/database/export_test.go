package database

// LargestBatch is the most transactions a worker of d has sent in one
// pipeline.
func LargestBatch(d *DB) int64 { return d.coalesce.largestBatch.Load() }
