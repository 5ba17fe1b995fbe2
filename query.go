package parley

import "time"

// Sort orders of ThreadFilter.Sort.
const (
	SortByID = "id" // ascending id
	// SortByIDDesc is descending id (HubSpot's "-id"), for the threads of
	// one contact or one ticket (ThreadFilter.ContactID, ThreadIDs).
	SortByIDDesc = "-id"
	SortByLatest = "latest" // LatestMessageAt descending, then id descending
	// SortByLatestAsc is LatestMessageAt ascending, then id ascending
	// (HubSpot's sort=latestMessageTimestamp): what changed since a time,
	// oldest change first.
	SortByLatestAsc = "latestAsc"
)

// Page sizes of [ThreadStore.Threads] and [MessageStore.Messages].
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// ThreadFilter selects and orders the threads that [ThreadStore.Threads]
// returns. The zero value means: threads of all inboxes that are not archived,
// by id, 100 at a time.
type ThreadFilter struct {
	// InboxIDs keeps threads of these inboxes. nil means all inboxes; an
	// empty non-nil slice means none (the caller is a member of no inbox).
	InboxIDs []uint64

	// Status keeps threads with this status; "" means any.
	Status ThreadStatus

	// ContactID keeps threads of this contact; 0 means any.
	ContactID uint64

	// ThreadIDs, when not nil, keeps only these threads (those of one
	// ticket); they list by SortByID or SortByIDDesc only.
	ThreadIDs []uint64

	// Archived nil or false keeps threads that are not archived (HubSpot's
	// default); true keeps only archived ones.
	Archived *bool

	// AfterID is the paging cursor: the id of the last thread of the previous
	// page. The next page continues after that thread in the order of Sort,
	// as the thread stands now (with SortByLatest, a thread that got a message
	// since then has moved up, and the page continues from its new place).
	AfterID uint64

	// Limit is the page size. Defaults to 100, at most 500 (larger values
	// mean 500).
	Limit int

	// Sort is SortByID (the default for ""), SortByIDDesc, SortByLatest or
	// SortByLatestAsc.
	Sort string

	// LatestAfter keeps only threads whose LatestMessageAt is after it
	// (threads without messages drop out); zero means no such bound.
	LatestAfter time.Time

	// LatestBefore keeps only threads whose LatestMessageAt is before it
	// (threads without messages drop out); zero means no such bound. With
	// LatestAfter it makes a date range.
	LatestBefore time.Time

	// AssigneeID keeps threads assigned to this user; 0 means any.
	AssigneeID uint64

	// Unassigned keeps only threads assigned to no one (with AssigneeID
	// set, nothing matches).
	Unassigned bool

	// ChannelID keeps threads of this channel (ChannelChat,
	// ChannelEmail); 0 means any.
	ChannelID int

	// Filtered nil keeps threads whether or not they are filtered (spam or
	// from a blocked sender, Thread.IsFiltered); true keeps only
	// those (the Filtered view), false only the others (the main views).
	Filtered *bool

	// Bot nil keeps threads whoever owns them; true keeps only those a bot
	// owns (OwnerBot: the Bots view), false only the others.
	Bot *bool
}

// ViewCounts are the numbers of open, not archived threads in each view of
// the console's sidebar (I4). All, Mine, Unassigned, Email and Chat count
// threads that are neither filtered nor a bot's; Bots counts the bot's
// conversations that are not filtered; Filtered counts those that are (spam
// or from a blocked sender), bot or not.
type ViewCounts struct {
	All        int `json:"all"`        // every thread that is not filtered
	Mine       int `json:"mine"`       // assigned to the user asked for
	Unassigned int `json:"unassigned"` // assigned to no one
	Email      int `json:"email"`      // ChannelEmail
	Chat       int `json:"chat"`       // ChannelChat
	Bots       int `json:"bots"`       // bot conversations not handed to an agent (Owner bot)
	Filtered   int `json:"filtered"`   // spam or from a blocked sender
}

// Page sizes of [ListStore.Search].
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
)

// Fields a search hit can quote (SearchHit.Field).
const (
	SearchFieldMessage = "message" // the text of a message or internal note
	SearchFieldSubject = "subject" // the thread's subject
	SearchFieldContact = "contact" // the contact's name or email
)

// SearchQuery is one search over the conversations (I2).
type SearchQuery struct {
	// Text is what the agent typed: at most 256 bytes of UTF-8 holding at
	// least one word. Its words are matched case-insensitively and must all
	// match (AND), the last one as a prefix ("ord" finds "order") unless
	// the text ends with a space or punctuation after it. Words beyond the
	// eighth are ignored.
	Text string

	// InboxIDs keeps threads of these inboxes. nil means all inboxes; an
	// empty non-nil slice means none.
	InboxIDs []uint64

	// Limit is the page size. Defaults to 20, at most 100 (larger values
	// mean 100).
	Limit int

	// After is the paging cursor: the thread of the last hit of the previous
	// page. The next page continues after it in the order of the results, as
	// that thread stands now.
	After uint64
}

// SearchHit is one thread that a search found.
type SearchHit struct {
	Thread *Thread

	// Field says what Snippet quotes: SearchFieldMessage (MessageID names
	// the message), SearchFieldSubject or SearchFieldContact.
	Field     string
	MessageID uint64

	// Snippet is a one-line excerpt (at most about 180 runes, "…" where it
	// is cut) around the first match.
	Snippet string

	// Highlights are the matched words in Snippet as [start, end) offsets
	// counted in runes (Unicode code points), in order and not overlapping.
	Highlights [][2]int
}
