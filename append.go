package parley

import "time"

// AppendOptions are the choices of [MessageStore.AppendMessage].
type AppendOptions struct {
	// NewThread is used when the message's ThreadID is 0. For a chat thread
	// (ChannelChat), AppendMessage first looks for ChatThread(NewThread.
	// ContactID, NewThread.ChannelAccountID) and appends to it if found;
	// otherwise, and for other channels always, it creates a thread like
	// NewThread (as CreateThread does). All of that happens in the
	// transaction of the append. NewThread itself is not changed: the thread
	// is in AppendResult.Thread.
	NewThread *Thread

	// Leave, for a chat thread, is a conversation the visitor has left
	// (the SDK's widget.refresh({openToNewThread: true})): when it is still
	// the contact's newest chat thread on the widget, the message starts a
	// new thread instead. Once one is started it is the newest, so a resend
	// of the same message finds its first copy there and starts no second.
	Leave uint64

	// Update, if set, is called inside the transaction on the thread before
	// the message is appended: to reopen a closed thread, say, or to refuse
	// the message with an error, which aborts with nothing written (not even
	// a new thread) and is returned as it is. It is not called for a
	// duplicate. It may not change the thread's ID or LastSeq (changes are
	// undone). It runs on the store's writer goroutine, maybe more than once
	// and maybe after AppendMessage has returned ctx.Err(); it must not call
	// the store.
	Update func(t *Thread) error
}

// AppendResult is what [MessageStore.AppendMessage] did.
type AppendResult struct {
	Message       *Message // the message as stored
	Thread        *Thread  // its thread as stored after the append
	Duplicate     bool     // Message is an earlier copy; nothing was written
	ThreadCreated bool     // Thread was created by this append
	// Reopened is the THREAD_STATUS_CHANGE appended right before Message
	// when the append reopened a closed thread (MailAppend.Reopen,
	// AppendMailReply), else nil.
	Reopened *Message
	// Record and RecordEvent are the record created with the thread and
	// the event that records it (MailAppend.NewRecord), else nil.
	Record      *Record
	RecordEvent *Message
}

// RouteOptions are what [RoutingStore.AppendRouted] does besides appending,
// in the same commit.
type RouteOptions struct {
	// Note, if set, is appended to the same thread right before the message:
	// a system event that says why (a reassignment while away). It is
	// completed like the message (ID, Seq, times, channel).
	Note *Message
	// Queue puts the thread in the routing queue, keeping its place if it is
	// queued already; with QueueNew only if the append created the thread.
	Queue, QueueNew bool
	// Routing is kept with a queued thread (QueuedThread.Routing).
	Routing *Routing
	// Unqueue takes the thread out of the queue.
	Unqueue bool
}

// RoutedResult is what [RoutingStore.AppendRouted] did.
type RoutedResult struct {
	AppendResult
	Note   *Message // RouteOptions.Note as stored, or nil
	Queued bool     // the thread is in the queue after the commit
}

// QueuedThread is a conversation waiting in the routing queue for someone
// who can receive it.
type QueuedThread struct {
	ThreadID uint64    `json:"threadId"`
	QueuedAt time.Time `json:"queuedAt"`
	// Routing, if set, is the routing to use instead of the widget's (a bot
	// handing off to a team or a user).
	Routing *Routing `json:"routing,omitempty"`
}

// TurnFunc computes what a thread's bot says and does in answer to the
// message just appended. It gets the thread as it is after that message and
// its contact (nil for a thread without one), changes them in place (bot
// state, owner, status; properties, email) and returns the messages to
// append after it, in order; their ThreadID, channel and CreatedAt are
// filled in. It runs inside the transaction, on the store's writer
// goroutine and maybe more than once: it must be a pure function of its
// arguments and must not call the store. An error aborts the whole append.
type TurnFunc func(t *Thread, c *Contact) ([]*Message, error)

// TurnResult is what [BotStore.AppendTurn] did.
type TurnResult struct {
	AppendResult // the message m, and the thread after the whole turn

	// Replies are the messages the turn appended after m, as stored.
	Replies []*Message
	// Contact is the thread's contact as written, nil if the turn did not
	// change it.
	Contact *Contact
	// Queued reports that the thread is in the routing queue after the
	// commit (RouteOptions.QueueNew).
	Queued bool
}

// MailAppend are the choices of [MailStore.AppendMail].
type MailAppend struct {
	// InboxID is the inbox the mail arrived for.
	InboxID uint64
	// MessageID is the email's Message-ID: an inbox stores each Message-ID
	// once.
	MessageID string
	// References are the Message-IDs the email answers (In-Reply-To first,
	// then References from the newest). The first that names a thread of
	// InboxID, received or sent, is the thread the message joins.
	References []string
	// NewThread is the thread to create when no reference is known. Its
	// InboxID must be InboxID.
	NewThread *Thread
	// Join, if set, is asked in the transaction about the thread that the
	// first known reference names: false makes the mail start NewThread
	// instead. It must not change t or call the store, and may run more than
	// once.
	Join func(t *Thread) bool
	// Update, if set, is called in the transaction on the thread before the
	// message is appended, as AppendOptions.Update. A new thread has
	// LastSeq 0 there.
	Update func(t *Thread) error
	// Reopen, if set, is the THREAD_STATUS_CHANGE that records a reopening:
	// when the thread joined was CLOSED and Update makes it OPEN, Reopen is
	// appended right before the message, in the same commit (its ThreadID,
	// Type and NewStatus are filled in), and returned as
	// AppendResult.Reopened.
	Reopen *Message
	// QueueNew puts a thread the append created in the routing queue in the
	// same commit, unless it is filtered (the mailbox routes its new threads:
	// they wait there until routed, across a restart too).
	QueueNew bool
	// NewRecord, if set, is a record (a ticket, E3) to create with a thread
	// the append creates, unless it is filtered, in the same commit: of the
	// thread's contact, associated with the thread, and RecordEvent (a
	// SYSTEM EventRecordCreated) appended to the thread right after the
	// message. A mail that joins a thread, or a duplicate, creates none.
	// Both are copied; the result holds them as stored
	// (AppendResult.Record, AppendResult.RecordEvent).
	NewRecord   *Record
	RecordEvent *Message
}

// Disassociation is what [ContactStore.DisassociateContact] did.
type Disassociation struct {
	Thread     *Thread  // the thread as written, with its new contact
	Message    *Message // the recorded event
	Contact    *Contact // the new, anonymous contact of the thread
	OldContact uint64   // the contact the thread had
	// Visitors is how many visitor credentials now stand for Contact.
	Visitors int
}

// Erasure is what [ContactStore.EraseContact] removed.
type Erasure struct {
	Contact *Contact  // the contact as it was
	Threads []*Thread // its conversations, deleted for good, as they were
	// FileKeys are the blob keys of the files whose records went with it:
	// the caller deletes those blobs that no other file names.
	FileKeys []string
}
