// Package store keeps Parley's data in one bbolt file, dir/parley.db: users,
// sessions, inboxes, widgets, contacts, visitors, threads and their messages.
// It is the only package that imports bbolt.
//
// # Group commit
//
// Every write is a function of a bbolt write transaction. Writes do not open
// transactions themselves: they queue their function for one writer
// goroutine. The writer takes the first pending write, then everything else
// already queued (up to Options.MaxBatch). If that is at least
// Options.GatherMin writes (4), the store is under load: the writer waits up
// to Options.GatherDelay (500µs) for more. It runs them in order in one
// transaction and commits it with one fsync. Only then does it answer each
// caller. Under load, many writes share one fsync and the pages they
// change; alone, or with a few others, a write waits for no timer.
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
// Functions passed to Update methods (UpdateThread, parley.AppendOptions.Update, …)
// run on the writer goroutine inside its transaction: they must be quick,
// must not call the DB, and may run more than once.
//
// # Layout
//
// Values are JSON-encoded domain types, but for messages and the search
// index, which hold most of the bytes (see below); ids come from bucket
// sequences and keys are big-endian uint64s, so that cursors walk in id order.
//
//	meta              schemaVersion; messagesFrom while a conversion is pending
//	kv                Meta and SetMeta, apart from meta so no key disturbs it
//	users             id → User            user_emails     lowercase email → id
//	sessions          hash → Session       visitors        hash → Visitor
//	token_ids         id → session hash of an API token (token.go)
//	inboxes           id → Inbox           widgets         id → Widget
//	contacts          id → Contact         contact_emails  lowercase email → id
//	threads           id → row ‖ Thread: the row is 37 bytes of inbox, contact, latest message time, status,
//	                  archived, assignee, channel, spam and blocked
//	thread_latest     (latest message time, id) → row, for parley.SortByLatest
//	thread_chats      (contact, widget, thread) → empty; ChatThread is the last key of a prefix
//	thread_contacts   (contact, thread) → empty: Threads with a ContactID (threadcontact.go)
//	messages          (thread, seq) → Message in a binary form (message_value.go), and the dedup index:
//	                  (thread, 0xFF, uvarint(len(sender)), sender, clientId) → seq
//	message_ids       message id → (thread, seq), append-only; its sequence numbers messages
//	thread_counts     (inbox, channel, filtered, assignee) → number of open threads, for CountThreads
//	                  and OpenAssigned
//	routing_queue     (queued at, thread) → parley.QueuedThread: conversations waiting for an agent, oldest first
//	routing_queued    thread → its key in routing_queue
//	routing_last      user → when routing last assigned them a conversation (unix ns)
//	search_meta       version, cursor (the last message id indexed)
//	search_terms      term ‖ 0x00 ‖ first thread → the term's threads, delta-coded: the inverted index
//	search_docs       thread ‖ first term → the thread's terms, front-coded, each with where the thread
//	                  has it (text, fields) and the seq of its first message with it (search_blocks.go)
//	search_threads    thread → (contact, hash of subject and contact fields) as indexed
//	search_contacts   (contact, thread) → empty    search_dirty   contact → empty: changed since indexed
//	files             id → File: an upload or a message's attachment; its bytes are in the BlobStore (file.go)
//	thread_files      (thread, file) → empty: the files deleted with their thread
//	uploads           file → when uploaded (unix ns): files no message has claimed yet
//	templates         id → Template: email templates (template.go)
//	webhook_settings, webhook_subs, webhook_active, webhook_queue, webhook_due, webhook_log:
//	                  subscribers, their subscriptions (the active ones indexed by event type) and
//	                  the events queued for them by the transaction of each change (webhook.go)
//	companies         id → Company (company.go)
//	company_domains   lowercase domain ‖ 0x00 ‖ company → empty: the companies of a domain, oldest first
//	company_contacts  (company, contact) → empty: the contacts of a company (Contact.CompanyID)
//	audit             id → AuditEntry: the audit log, appended in the transaction of each change it
//	                  records (audit.go); never pruned
//
// Threads filters rows, not JSON, and decodes only the threads it returns:
// its views and filters (status, inbox, contact, assignee, channel, filtered,
// a date range) are all in the row. The view counts are counters that every
// write of a row moves (countRow), so that counting reads a few keys.
//
// A group commit costs about one random write per page it dirties, so the
// layout keeps what one append touches close together. Each thread's keys in
// messages are contiguous, its messages in seq order followed by its dedup
// entries (no seq reaches 0xFF<<56), so that a message and its dedup entry
// usually land on the same page. The row that Threads filters travels with
// the thread's JSON, which an append rewrites anyway. Only the moves in
// thread_latest and the end of message_ids come on top. Buckets whose keys
// grow at the end (message_ids, thread_latest) are filled completely before
// a page splits (FillPercent 1.0); messages, where every thread appends in
// the middle, and threads keep bbolt's default.
//
// A message is stored in about 25 bytes besides its text and key: its id,
// type, sender, direction, channel and time in a binary record, the rarer
// fields as JSON behind it, its thread and seq only in its key. The search
// index keeps its lists in blocks of a few hundred bytes, one key per block
// rather than one per term and thread. BenchmarkDisk measures the bytes on
// disk per message of BenchmarkSearch's million messages: about 0.8 KB, a
// fifth of it the search index. An older file's messages are converted in
// place (see Schema versions), and the indexer rebuilds its index; the
// rewritten pages stay as full as they were, and the pages left free stay
// in the file, until Compact repacks it.
//
// # Search
//
// Search (I2) reads an inverted index of terms (runs of letters and digits,
// lower-cased, Latin letters without their diacritics) to threads. Appends
// do not write it: that would add a page per term to every group commit. A
// background indexer goroutine, started by Open and stopped by Close, tails
// message_ids from its cursor: it reads the new messages in a read
// transaction and hands the writer one write that adds their threads' new
// terms and moves the cursor, up to 500 messages at a time, and only when
// the writer is not busy with appends (or at least every two seconds). A
// crash loses at most the batch in flight; the next Open
// resumes from the committed cursor. A contact whose name or email changes
// is queued in search_dirty by the change's own transaction and re-indexed
// the same way. An index of another version, or none, is replaced by an
// empty one at Open and refilled from the messages. Search checks each
// thread it finds as it is now (inbox, archived, order), so an index a
// moment behind costs only freshness; WaitIndexed waits for it.
//
// # Backups and compaction
//
// Backup hands a function a Snapshot: a read transaction's copy of the
// file (bbolt's Tx.WriteTo), its schema version and the blob keys its file
// records name, while writes go on. Open maps 1 GiB of the file ahead
// (Options.MmapSize), because bbolt can remap a grown file only when no
// read transaction is open: while the file fits, a backup delays no write.
// BackupDir does the same for a data directory no process holds; CheckFile
// runs bbolt's consistency check over a copy; Compact copies the live keys
// of a closed store into a fresh file and renames it over the old one once
// it has passed CheckFile; Lock holds a data directory's lock while its
// files are replaced (a restore).
//
// # Schema versions
//
// Bucket meta holds the schema version. Open runs the migrations from the
// file's version up to the newest in one transaction, so a failed migration
// leaves the file as it was, and refuses a file with a newer version than the
// binary knows. A new file starts at version 0 and is migrated like any
// other.
//
// A migration's transaction keeps every page it dirties in memory until it
// commits, so no migration rewrites what grows with the file. The one to
// version 13, which stores messages in their binary form, only puts
// messagesFrom in meta. After the migrations, Open converts the messages
// still in JSON a chunk at a time (5,000 keys or 4 MiB of values), each
// chunk its own transaction that moves messagesFrom on, and deletes it after
// the last one: memory stays under about 14 MiB of heap whatever the file's
// size (TestConvertMessagesMemory), a crash resumes after the last committed
// chunk (TestConvertCrash), and later opens only look the key up. Readers
// take both forms, told apart by the first byte ('{' for JSON), though none
// sees JSON once Open has returned.
package store
