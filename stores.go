package parley

import (
	"context"
	"time"
)

// The storage contract. Each interface below is one area of what Parley keeps;
// store.DB implements them all over bbolt, and another implementation (a SQL
// database, say) must keep the same promises, which all of them share:
//
//   - Errors are *Error values with a code: ENOTFOUND for an id, hash or key
//     that names nothing, ECONFLICT for a unique value (an email, a shortcut)
//     that another record holds or a rule the write would break, EINVALID for
//     a malformed argument. Callers branch on ErrorCode, never on messages.
//   - A write returns nil only once it is persisted and committed: what is
//     acknowledged survives a crash. A write that does several things (append
//     a message and change its thread, queue it, store an email to send) does
//     them in one transaction: all or nothing.
//   - A write whose context ends first returns ctx.Err() and may still
//     commit; callers that retry use idempotent writes (a message's
//     ClientID).
//   - Functions passed to Update methods and the like (fn, Update, Join,
//     TurnFunc, build, note) run inside the write's transaction, maybe more
//     than once and maybe after the method has returned ctx.Err(): they must
//     be quick, depend only on their arguments, and must not call the store.
//     An error from such a function aborts the write with nothing written
//     and is returned as it is. Update methods return the value as written
//     and undo changes to its ID.
//   - Create methods set the new value's ID, and its creation time if zero.
//   - Values handed in and returned are the caller's: the store keeps copies.
//   - A key that a store looks records up by (a meta key, an email, a
//     session's or invitation's hash, an inbox's email address) longer than
//     MaxKeyLen bytes is EINVALID naming it; a lookup by one finds nothing.

// MaxKeyLen is the longest key a store takes, in bytes: far more than any
// email or hash, and within what a database index holds in one entry.
const MaxKeyLen = 1024

// MetaStore keeps small values under string keys: settings and one-time
// secrets such as the setup link's hash.
type MetaStore interface {
	// Meta returns the value stored under key by SetMeta, or ENOTFOUND.
	Meta(ctx context.Context, key string) ([]byte, error)
	// SetMeta stores val under key; a nil val deletes key (no error if
	// missing). An empty key is EINVALID.
	SetMeta(ctx context.Context, key string, val []byte) error
	// ClaimMeta creates u (as UserStore.CreateUser does, and when
	// joinInboxes a member of every inbox) and deletes the meta value under
	// key in one transaction, provided that value equals want: of many
	// concurrent claims exactly one succeeds. A missing or different value
	// is ENOTFOUND, u's email taken ECONFLICT; on any error nothing is
	// written.
	ClaimMeta(ctx context.Context, key string, want []byte, u *User, joinInboxes bool) error
}

// UserStore keeps the agents and admins. Emails are unique regardless of
// case: another user's email is ECONFLICT.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	// User returns user id, or ENOTFOUND.
	User(ctx context.Context, id uint64) (*User, error)
	// SharedUser is User for a caller that only reads: the record is
	// shared with other callers and must not be modified. An unchanged
	// record comes from memory.
	SharedUser(ctx context.Context, id uint64) (*User, error)
	// UserByEmail returns the user with this email in any case, or
	// ENOTFOUND.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users returns every user (deactivated ones too) by id.
	Users(ctx context.Context) ([]*User, error)
	UpdateUser(ctx context.Context, id uint64, fn func(*User) error) (*User, error)
	// UpdateUserAccess is UpdateUser keeping two rules in the same
	// transaction: at least one active admin remains (else ECONFLICT and
	// nothing is written), and a user whom fn deactivates loses every
	// session and API token at once; an admin whom fn demotes keeps their
	// tokens without the admin scope.
	UpdateUserAccess(ctx context.Context, id uint64, fn func(*User) error) (*User, error)
}

// SessionStore keeps console sessions and API tokens, both Sessions stored
// by the hash of their secret.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with this hash, or ENOTFOUND if there is
	// none or it has expired.
	Session(ctx context.Context, hash string) (*Session, error)
	// DeleteSession deletes the session or API token with this hash; a
	// missing one is no error.
	DeleteSession(ctx context.Context, hash string) error
	// Tokens returns the API tokens of user userID, or every user's if
	// userID is 0, oldest first.
	Tokens(ctx context.Context, userID uint64) ([]*Session, error)
	// Token returns the API token with this id, or ENOTFOUND.
	Token(ctx context.Context, id uint64) (*Session, error)
	// DeleteToken deletes the API token with this id and returns it as it
	// was, or ENOTFOUND.
	DeleteToken(ctx context.Context, id uint64) (*Session, error)
	// TouchToken sets the LastUsedAt of the API token with this hash to at,
	// unless it is gone or already as late.
	TouchToken(ctx context.Context, hash string, at time.Time) error
}

// InviteStore keeps invitations of new users, by the hash of their secret.
type InviteStore interface {
	CreateInvite(ctx context.Context, inv *Invite) error
	// Invite returns the invitation with this hash, or ENOTFOUND if it is
	// missing or expired.
	Invite(ctx context.Context, hash string) (*Invite, error)
	Invites(ctx context.Context) ([]*Invite, error)
	// DeleteInvite deletes the invitation with this hash, or returns
	// ENOTFOUND.
	DeleteInvite(ctx context.Context, hash string) error
	// AcceptInvite turns the invitation into user u in one transaction: u
	// takes its email, role and routing seat, is stored, joins the
	// invitation's inboxes that still exist, and the invitation is deleted.
	// It returns the invitation as it was; ENOTFOUND if it is missing or
	// expired, ECONFLICT if a user with its email exists by now.
	AcceptInvite(ctx context.Context, hash string, u *User) (*Invite, error)
}

// TeamStore keeps the teams that routing hands conversations to.
type TeamStore interface {
	CreateTeam(ctx context.Context, t *Team) error
	// Team returns team id, or ENOTFOUND.
	Team(ctx context.Context, id uint64) (*Team, error)
	Teams(ctx context.Context) ([]*Team, error)
	UpdateTeam(ctx context.Context, id uint64, fn func(*Team) error) (*Team, error)
	// DeleteTeam deletes team id, or returns ENOTFOUND.
	DeleteTeam(ctx context.Context, id uint64) error
}

// InboxStore keeps the shared inboxes.
type InboxStore interface {
	CreateInbox(ctx context.Context, in *Inbox) error
	// Inbox returns inbox id, or ENOTFOUND.
	Inbox(ctx context.Context, id uint64) (*Inbox, error)
	Inboxes(ctx context.Context) ([]*Inbox, error)
	UpdateInbox(ctx context.Context, id uint64, fn func(*Inbox) error) (*Inbox, error)
	// DeleteInbox deletes inbox id for good in one transaction: the inbox,
	// its widgets and every thread of it with its messages; contacts stay.
	// ENOTFOUND if the inbox does not exist, ECONFLICT if it is the only
	// one.
	DeleteInbox(ctx context.Context, id uint64) error
}

// WidgetStore keeps the chat widgets (an inbox's channel accounts).
type WidgetStore interface {
	CreateWidget(ctx context.Context, w *Widget) error
	// Widget returns widget id, or ENOTFOUND.
	Widget(ctx context.Context, id uint64) (*Widget, error)
	// SharedWidget is Widget for a caller that only reads (see SharedUser).
	SharedWidget(ctx context.Context, id uint64) (*Widget, error)
	Widgets(ctx context.Context) ([]*Widget, error)
	UpdateWidget(ctx context.Context, id uint64, fn func(*Widget) error) (*Widget, error)
	// DeleteWidget deletes widget id, or returns ENOTFOUND. Its threads
	// stay.
	DeleteWidget(ctx context.Context, id uint64) error
}

// ContactListStore keeps the contact lists that widgets target.
type ContactListStore interface {
	CreateContactList(ctx context.Context, l *ContactList) error
	// ContactList returns list id, or ENOTFOUND.
	ContactList(ctx context.Context, id uint64) (*ContactList, error)
	ContactLists(ctx context.Context) ([]*ContactList, error)
	UpdateContactList(ctx context.Context, id uint64, fn func(*ContactList) error) (*ContactList, error)
	// DeleteContactList deletes list id, or returns ENOTFOUND.
	DeleteContactList(ctx context.Context, id uint64) error
}

// ContactStore keeps contacts and the visitor credentials that stand for
// them. Contact emails are unique regardless of case.
type ContactStore interface {
	CreateContact(ctx context.Context, c *Contact) error
	// Contact returns contact id, or ENOTFOUND.
	Contact(ctx context.Context, id uint64) (*Contact, error)
	// SharedContact is Contact for a caller that only reads (see SharedUser).
	SharedContact(ctx context.Context, id uint64) (*Contact, error)
	// ContactByEmail returns the contact with this email in any case, or
	// ENOTFOUND.
	ContactByEmail(ctx context.Context, email string) (*Contact, error)
	UpdateContact(ctx context.Context, id uint64, fn func(*Contact) error) (*Contact, error)
	// CreateVisitor stores a visitor credential under v.Hash: an empty hash
	// is EINVALID, one already stored ECONFLICT.
	CreateVisitor(ctx context.Context, v *Visitor) error
	// Visitor returns the credential with this hash, or ENOTFOUND.
	Visitor(ctx context.Context, hash string) (*Visitor, error)
	// DisassociateContact detaches chat thread threadID from its contact
	// in one transaction: a fresh anonymous contact becomes the thread's,
	// the visitor credential that wrote the chat moves to it, and event is
	// appended to the thread. ENOTFOUND if the thread does not exist,
	// EINVALID if it is not a chat, ECONFLICT if its contact is no longer
	// contactID (0 skips that check).
	DisassociateContact(ctx context.Context, threadID, contactID uint64, event *Message) (*Disassociation, error)
	// EraseContact deletes contact id and everything keyed by it for good,
	// in one transaction (GDPR Art. 17): its credentials, its
	// conversations with their messages and files' records (each queues
	// conversation.privacyDeletion), its tickets, deals and engagements,
	// its links to custom channels and its company, and a company Parley
	// made for it that has no other contact. ENOTFOUND if there is no such
	// contact.
	EraseContact(ctx context.Context, id uint64) (*Erasure, error)
}

// CompanyStore keeps companies and pages through contacts. Which company
// a contact belongs to is the contact's CompanyID, written through
// ContactStore.UpdateContact: a CompanyID that names no company is
// EINVALID there. A contact that gets an email address (Email, else
// UnverifiedEmail) with a new company domain (CompanyDomain) and has no
// company is given, in the same transaction, the oldest company with that
// domain, or a new one named after the domain.
type CompanyStore interface {
	// CreateCompany stores c (Validate) and sets its ID and times.
	CreateCompany(ctx context.Context, c *Company) error
	// Company returns company id, or ENOTFOUND.
	Company(ctx context.Context, id uint64) (*Company, error)
	// UpdateCompany changes company id with fn in one transaction and
	// returns it as written; an error from fn, or a result that fails
	// Validate, aborts with nothing written.
	UpdateCompany(ctx context.Context, id uint64, fn func(*Company) error) (*Company, error)
	// Companies returns up to limit companies with ids above after, in id
	// order, and whether more follow.
	Companies(ctx context.Context, after uint64, limit int) ([]*Company, bool, error)
	// CompaniesByDomain returns the companies with this domain (any case),
	// oldest first.
	CompaniesByDomain(ctx context.Context, domain string) ([]*Company, error)
	// CompanyContactIDs returns the ids of the company's contacts in
	// ascending order.
	CompanyContactIDs(ctx context.Context, companyID uint64) ([]uint64, error)
	// Contacts returns up to limit contacts with ids above after, in id
	// order, and whether more follow.
	Contacts(ctx context.Context, after uint64, limit int) ([]*Contact, bool, error)
}

// ThreadStore reads and changes conversations. Threads are created by the
// appends of MessageStore, MailStore, RoutingStore and BotStore.
type ThreadStore interface {
	// Thread returns thread id, or ENOTFOUND.
	Thread(ctx context.Context, id uint64) (*Thread, error)
	UpdateThread(ctx context.Context, id uint64, fn func(*Thread) error) (*Thread, error)
	// ChatThread returns the newest chat thread of the contact on the
	// widget, whatever its status, or ENOTFOUND.
	ChatThread(ctx context.Context, contactID, widgetID uint64) (*Thread, error)
	// DeleteThread deletes thread id for good in one transaction, if check
	// (given the thread as stored) allows it: its messages, files, index
	// entries and queued mail. ENOTFOUND if there is no such thread.
	DeleteThread(ctx context.Context, id uint64, check func(*Thread) error) (*Thread, error)
	// Threads returns a page of the threads that f selects and whether more
	// follow. Bad filter values are EINVALID.
	Threads(ctx context.Context, f ThreadFilter) ([]*Thread, bool, error)
}

// MessageStore appends to and reads conversations.
type MessageStore interface {
	// AppendMessage appends m to its thread (or to AppendOptions.NewThread)
	// in one transaction that also updates the thread, and returns once it
	// is committed. It sets m's ID, Seq (the thread's LastSeq+1) and
	// CreatedAt if zero. A message whose sender and ClientID the thread
	// already holds writes nothing: the result holds the first copy with
	// Duplicate set. ENOTFOUND if the thread does not exist, EINVALID if m
	// has no thread and opts no NewThread.
	//
	// Every append (by any method of any store area) records m's
	// Attachments in its transaction: one with a FileID claims that
	// upload (FileStore.CreateUpload), which must be m.SenderID's, not yet
	// claimed, and made for m's thread or for none, else EINVALID and
	// nothing is written; one without a FileID (a file that came with an
	// email) becomes a new file of the message. Either way the stored
	// message carries each attachment as its file's Attachment.
	AppendMessage(ctx context.Context, m *Message, opts AppendOptions) (AppendResult, error)
	// AppendWithContact appends m as AppendMessage does and, in the same
	// transaction, lets update change the thread and its contact. It
	// returns the contact as written; EINVALID if the thread has no
	// contact.
	AppendWithContact(ctx context.Context, m *Message, update func(*Thread, *Contact) error) (AppendResult, *Contact, error)
	// Messages returns up to limit messages of the thread with Seq after
	// afterSeq, oldest first, and whether more follow; limit defaults to
	// DefaultLimit and is at most MaxLimit. ENOTFOUND if the thread does not
	// exist.
	Messages(ctx context.Context, threadID, afterSeq uint64, limit int) ([]*Message, bool, error)
	// Message returns message id, or ENOTFOUND.
	Message(ctx context.Context, id uint64) (*Message, error)
}

// ListStore serves the console's conversation list: search and view counts.
type ListStore interface {
	// Search returns a page of the threads whose messages, subject or
	// contact match q, latest first, and whether more follow. The index
	// may lag the messages a moment; access and order are read as they
	// are now. Text without a word is EINVALID, over 256 bytes ETOOLARGE.
	Search(ctx context.Context, q SearchQuery) ([]SearchHit, bool, error)
	// CountThreads returns the view counts over inboxIDs (nil means all,
	// empty none), Mine counting the threads assigned to userID.
	CountThreads(ctx context.Context, inboxIDs []uint64, userID uint64) (ViewCounts, error)
}

// RecordStore keeps CRM records (deals, tickets) and engagements, each
// change noted as a system message in the threads concerned, in the same
// transaction.
type RecordStore interface {
	// CreateRecord stores r and, with event non-nil, appends event to
	// event.ThreadID (a thread of the contact, else EINVALID) in the same
	// transaction; the result describes that append.
	CreateRecord(ctx context.Context, r *Record, event *Message) (AppendResult, error)
	// Record returns record id, or ENOTFOUND.
	Record(ctx context.Context, id uint64) (*Record, error)
	UpdateRecord(ctx context.Context, id uint64, fn func(*Record) error) (*Record, error)
	// UpdateRecordWithEvents is UpdateRecord that also appends the message
	// note returns (nil: nothing to record, nothing written) to each of the
	// record's threads, in the same transaction; the results are in the
	// order of the record's ThreadIDs.
	UpdateRecordWithEvents(ctx context.Context, id uint64, fn func(*Record) error, note func(old, r *Record) *Message) (*Record, []AppendResult, error)
	ContactRecords(ctx context.Context, contactID uint64) ([]*Record, error)
	ThreadRecords(ctx context.Context, threadID uint64) ([]*Record, error)
	// CreateEngagement stores e and appends event as CreateRecord does.
	CreateEngagement(ctx context.Context, e *Engagement, event *Message) (AppendResult, error)
	// ContactEngagements returns up to limit engagements of the contact
	// with ids below beforeID (0: from the newest), newest first, and
	// whether more follow; limit defaults to DefaultLimit and is at most
	// MaxLimit.
	ContactEngagements(ctx context.Context, contactID, beforeID uint64, limit int) ([]*Engagement, bool, error)
}

// SnippetStore keeps canned replies. Shortcuts are unique regardless of
// case: one that another snippet holds is ECONFLICT, an empty one EINVALID.
type SnippetStore interface {
	CreateSnippet(ctx context.Context, s *Snippet) error
	// Snippet returns snippet id, or ENOTFOUND.
	Snippet(ctx context.Context, id uint64) (*Snippet, error)
	Snippets(ctx context.Context) ([]*Snippet, error)
	UpdateSnippet(ctx context.Context, id uint64, fn func(*Snippet) error) (*Snippet, error)
	// DeleteSnippet deletes snippet id and frees its shortcut, or returns
	// ENOTFOUND.
	DeleteSnippet(ctx context.Context, id uint64) error
}

// LinkStore keeps knowledge links and each user's meeting link.
type LinkStore interface {
	CreateKnowledgeLink(ctx context.Context, l *KnowledgeLink) error
	// KnowledgeLink returns link id, or ENOTFOUND.
	KnowledgeLink(ctx context.Context, id uint64) (*KnowledgeLink, error)
	KnowledgeLinks(ctx context.Context) ([]*KnowledgeLink, error)
	UpdateKnowledgeLink(ctx context.Context, id uint64, fn func(*KnowledgeLink) error) (*KnowledgeLink, error)
	// DeleteKnowledgeLink deletes link id, or returns ENOTFOUND.
	DeleteKnowledgeLink(ctx context.Context, id uint64) error
	// MeetingLink returns the user's meeting link, "" if none.
	MeetingLink(ctx context.Context, userID uint64) (string, error)
	SetMeetingLink(ctx context.Context, userID uint64, url string) error
}

// MailStore receives email into threads and keeps the outbox. An
// acknowledged reply is always sent: it and its queued email are one
// commit.
type MailStore interface {
	// Mailbox returns the inbox and mailbox that receive mail for address,
	// in any case, or ENOTFOUND.
	Mailbox(ctx context.Context, address string) (inboxID, mailboxID uint64, err error)
	// AppendMail stores an incoming email in one transaction, in the thread
	// its references name or a new one, with the record MailAppend.NewRecord
	// asks for when it creates a thread that is not filtered. A Message-ID
	// the inbox has stored before writes nothing: the result holds the
	// first copy with Duplicate set.
	AppendMail(ctx context.Context, m *Message, opts MailAppend) (AppendResult, error)
	// AppendMailReply appends an agent's reply m as AppendMessage does and,
	// in the same transaction, queues the email that build returns. When
	// reopen is set and the thread is CLOSED, the reply reopens it and
	// reopen, the THREAD_STATUS_CHANGE that records that, is appended
	// right before m (AppendResult.Reopened).
	AppendMailReply(ctx context.Context, m *Message, reopen *Message, build func(*Message, *Thread) (*OutboxItem, error)) (AppendResult, *OutboxItem, error)
	// ThreadMailIDs returns the Message-IDs of the mail that the thread
	// received and sent, oldest first: the References of a reply.
	ThreadMailIDs(ctx context.Context, threadID uint64) ([]string, error)
	QueueMail(ctx context.Context, item *OutboxItem) error
	// QueueMailEvent appends event to thread item.ThreadID and queues item
	// in one transaction (a chat transcript sent by hand and its record):
	// item.MessageID becomes the event's id, whose delivery status starts
	// PENDING. check runs on the thread in the transaction, as
	// AppendOptions.Update. The email's Message-ID is not recorded for the
	// thread.
	QueueMailEvent(ctx context.Context, item *OutboxItem, event *Message, check func(*Thread) error) (AppendResult, error)
	// DueMail returns up to limit outbox items due at now, oldest first,
	// and the earliest NextAt of the items left (zero if none).
	DueMail(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, time.Time, error)
	// MailDone records the outcome of sending outbox item id: sent (errText
	// empty), failed for good (final) or to be tried again at retryAt. An
	// item no longer queued is ENOTFOUND.
	MailDone(ctx context.Context, id uint64, errText string, final bool, retryAt time.Time) (*OutboxItem, *Delivery, error)
	// RetryMail queues the email reply messageID of thread threadID, which
	// failed for good, again, due now, and returns the new outbox item and
	// the PENDING status. Never emailed: ENOTFOUND; not failed, or its
	// email not kept: ECONFLICT.
	RetryMail(ctx context.Context, threadID, messageID uint64) (*OutboxItem, *Delivery, error)
	// LatestDelivery returns the sending status of the latest email reply
	// of thread threadID, or nil if none was emailed.
	LatestDelivery(ctx context.Context, threadID uint64) (*Delivery, error)
	// Delivery returns the sending status of message messageID of thread
	// threadID, or nil if it was never emailed.
	Delivery(ctx context.Context, threadID, messageID uint64) (*Delivery, error)
}

// BotStore runs bot turns.
type BotStore interface {
	// AppendTurn appends m as AppendMessage does and, in the same
	// transaction, lets turn answer it: its changes to the thread and
	// contact and the messages it returns are one commit with m. For a
	// duplicate m nothing is written and turn is not called. Of ro only
	// QueueNew is allowed.
	AppendTurn(ctx context.Context, m *Message, opts AppendOptions, turn TurnFunc, ro RouteOptions) (TurnResult, error)
	// IdleBotThreads returns the ids of up to limit open threads that a bot
	// owns and whose visitor last wrote at or before before, oldest first.
	IdleBotThreads(ctx context.Context, before time.Time, limit int) ([]uint64, error)
}

// RoutingStore keeps the routing queue and what routing decides by.
type RoutingStore interface {
	// AppendRouted is AppendMessage with routing's bookkeeping in the same
	// commit: an optional note before the message, entering or leaving the
	// queue, and an assignee's last routed time.
	AppendRouted(ctx context.Context, m *Message, opts AppendOptions, ro RouteOptions) (RoutedResult, error)
	// Enqueue puts the thread at the end of the queue with routing (nil:
	// the widget's), or leaves it where it is; ENOTFOUND if the thread does
	// not exist.
	Enqueue(ctx context.Context, threadID uint64, routing *Routing) error
	// Dequeue takes the thread out of the queue; a thread not in it is no
	// error.
	Dequeue(ctx context.Context, threadID uint64) error
	// Queue returns up to limit queued conversations (all when limit ≤ 0),
	// the longest waiting first.
	Queue(ctx context.Context, limit int) ([]QueuedThread, error)
	// OpenAssigned returns, per user, the number of open, not archived, not
	// filtered threads assigned to them on channelID (0: every channel).
	OpenAssigned(ctx context.Context, channelID int) (map[uint64]int, error)
	// LastRouted returns, per user, when routing last assigned them a
	// conversation.
	LastRouted(ctx context.Context) (map[uint64]time.Time, error)
}
