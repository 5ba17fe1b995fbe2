// Package store keeps Parley's data in one bbolt file, dir/parley.db: users,
// sessions, inboxes, widgets, contacts, visitors, threads and their messages.
// It is the only package that imports bbolt.
//
// # Group commit
//
// Every write is a function of a bbolt write transaction. Writes do not open
// transactions themselves: they queue their function for one writer
// goroutine. The writer takes the first pending write, then everything else
// already queued (up to Options.MaxBatch) without waiting for more, runs them
// in order in one transaction and commits it with one fsync. Only then does
// it answer each caller. Under load, many writes share one fsync; alone, a
// write waits for no timer.
//
// A write whose function fails must leave nothing behind, yet bbolt has no
// savepoints. So the writer rolls the whole transaction back, answers that
// write with its error and runs the others again, in the same order, in a
// fresh transaction. Functions must therefore be safe to run more than once;
// results they hand back are set afresh on each run. Callers see the same
// outcome as if the writes had run one at a time in queue order. If the
// commit fails, every write of the group gets the error.
//
// Options.NoGroupCommit turns this off (each write is its own db.Update),
// the baseline BenchmarkAppend compares with. Reads use bbolt read
// transactions directly and run side by side with each other and the writer.
//
// # Durability and contexts
//
// A write method returns nil only after its transaction is committed (and
// fsynced, unless Options.NoSync): what is acknowledged survives a crash of
// the process or the machine. A write whose context ends first returns
// ctx.Err(). If the writer had not started it, it is dropped; if it had, it
// may still commit. Callers that retry after ctx.Err() should use idempotent
// writes (a message's ClientID). Reads ignore their context.
//
// Functions passed to Update methods (UpdateThread, AppendOptions.Update, …)
// run on the writer goroutine inside its transaction: they must be quick,
// must not call the DB, and may run more than once.
//
// # Layout
//
// Values are JSON-encoded domain types; ids come from bucket sequences and
// keys are big-endian uint64s, so that cursors walk in id order.
//
//	meta              schemaVersion
//	kv                Meta and SetMeta, apart from meta so no key disturbs it
//	users             id → User            user_emails     lowercase email → id
//	sessions          hash → Session       visitors        hash → Visitor
//	inboxes           id → Inbox           widgets         id → Widget
//	contacts          id → Contact         contact_emails  lowercase email → id
//	threads           id → Thread
//	thread_rows       id → row: inbox, contact, latest message time, status, archived (26 bytes)
//	thread_latest     (latest message time, id) → row, for SortByLatest
//	thread_chats      (contact, widget, thread) → empty; ChatThread is the last key of a prefix
//	messages          thread id → bucket of seq → Message, append-only
//	message_ids       message id → (thread, seq), append-only; its sequence numbers messages
//	message_clients   (thread, sender, clientId) → message id, for deduplication
//
// Buckets whose keys only grow (the messages of a thread, message_ids) and
// those whose values keep their size (thread_rows) are filled completely
// before a page splits (FillPercent 1.0).
//
// Threads filters rows, not JSON, and decodes only the threads it returns.
//
// # Schema versions
//
// Bucket meta holds the schema version. Open runs the migrations from the
// file's version up to the newest in one transaction, so a failed migration
// leaves the file as it was, and refuses a file with a newer version than the
// binary knows. A new file starts at version 0 and is migrated like any
// other.
package store
