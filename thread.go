package parley

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ThreadStatus is OPEN or CLOSED, as in HubSpot.
type ThreadStatus string

// Thread statuses.
const (
	StatusOpen   ThreadStatus = "OPEN"
	StatusClosed ThreadStatus = "CLOSED"
)

// Thread is one conversation with one contact on one channel account (a chat
// widget or a team mailbox). Its messages are numbered 1, 2, 3 … by Seq.
type Thread struct {
	ID               uint64       `json:"id"`
	InboxID          uint64       `json:"inboxId"`
	ChannelID        int          `json:"channelId"`        // ChannelChat or ChannelEmail
	ChannelAccountID uint64       `json:"channelAccountId"` // the widget's id for chat
	ContactID        uint64       `json:"contactId"`
	Status           ThreadStatus `json:"status"`
	AssigneeID       uint64       `json:"assigneeId,omitempty"` // user id, 0 for unassigned
	Owner            ThreadOwner  `json:"owner,omitempty"`      // who answers now; "" is OwnerAgent
	Subject          string       `json:"subject,omitempty"`
	Preview          string       `json:"preview,omitempty"` // start of the latest MESSAGE
	PageURL          string       `json:"pageUrl,omitempty"` // where a chat started
	// Language is the visitor's language when a chat started, a language
	// of Parley's message catalogs ("en", "de"); the transcript is written
	// in it. "" is English.
	Language        string    `json:"language,omitempty"`
	LastSeq         uint64    `json:"lastSeq"` // Seq of the latest message
	Archived        bool      `json:"archived"`
	Spam            bool      `json:"spam"`    // marked as spam: Filtered view
	Blocked         bool      `json:"blocked"` // from a sender blocked when it started or since: Filtered view
	CreatedAt       time.Time `json:"createdAt"`
	ClosedAt        time.Time `json:"closedAt,omitzero"`
	LatestMessageAt time.Time `json:"latestMessageAt,omitzero"`
	// LatestReceivedAt and LatestSentAt are the times of the latest
	// TypeMessage from the contact (Incoming) and to them (Outgoing).
	LatestReceivedAt time.Time `json:"latestReceivedAt,omitzero"`
	LatestSentAt     time.Time `json:"latestSentAt,omitzero"`
	// RoleSender marks email from a role address (IsRoleAddress): the
	// Filtered view.
	RoleSender bool `json:"roleSender,omitempty"`
	// Automatic marks a thread that automatic mail started: a bounce, an
	// auto-reply, bulk mail or Parley's own mail come back (see
	// server.DeliverMail). Such a thread is in the Filtered view and never
	// notifies anyone, so that Parley never answers a machine.
	Automatic bool `json:"automatic,omitempty"`

	// Bot is where the widget's bot is in its flow (bot.go): nil before the
	// bot starts; once the flow has ended it stays, Done, as a record of
	// the answers.
	Bot *BotState `json:"bot,omitempty"`
	// Integration is, on a custom channel's thread, who its messages go
	// to on the channel and the thread's id there.
	Integration *ThreadIntegration `json:"integration,omitempty"`
	// HandoffRouting, when set, is where the bot's hand-off sends the
	// conversation instead of the widget's routing: a team or a user
	// (BotStep.To). Routing reads it while Owner is OwnerWaiting.
	HandoffRouting *Routing `json:"handoffRouting,omitempty"`
}

// ThreadOwner is who answers a conversation now: exactly one of a bot, an
// agent, or nobody yet (waiting for routing). Its changes are recorded on the
// thread so that bot and agent never both answer (B1).
type ThreadOwner string

// Thread owners.
const (
	OwnerAgent   ThreadOwner = ""        // agents answer (assigned or not)
	OwnerBot     ThreadOwner = "bot"     // the widget's bot answers; the Bots view
	OwnerWaiting ThreadOwner = "waiting" // handed off, waiting for an available agent
)

// BotOnly reports whether t is a bot conversation that never reached a
// hand-off to an agent (I7): it is the bot's to answer and close, it cannot
// be closed by hand, and it is never emailed as a transcript (R2, R3). Once
// the bot hands off or an agent takes over, it is false for good.
func (t *Thread) BotOnly() bool { return t.Owner == OwnerBot }

// BotStarted reports whether a bot answered t first (its state is kept once
// the flow ends): a chat started by a bot, whoever answers it now (R3).
func (t *Thread) BotStarted() bool { return t.Bot != nil }

// IsFiltered reports whether t belongs in the Filtered view instead of the
// main views (I4, I9).
func (t *Thread) IsFiltered() bool { return t.Spam || t.Blocked || t.RoleSender || t.Automatic }

// MessageType is what a message is, using HubSpot's names.
type MessageType string

// Message types.
const (
	TypeMessage      MessageType = "MESSAGE"              // visible to both sides
	TypeComment      MessageType = "COMMENT"              // internal note, agents only
	TypeStatusChange MessageType = "THREAD_STATUS_CHANGE" // system event: opened or closed
	TypeAssignment   MessageType = "ASSIGNMENT"           // system event: assigned or unassigned
	TypeSystem       MessageType = "SYSTEM"               // other recorded action, named by Message.Event
)

// System events recorded on a thread as TypeSystem messages.
const (
	EventArchived        = "archived"         // moved to the trash
	EventRestored        = "restored"         // restored from the trash
	EventBlocked         = "blocked"          // sender blocked
	EventUnblocked       = "unblocked"        // sender unblocked
	EventSpam            = "spam"             // marked as spam
	EventNotSpam         = "not_spam"         // unmarked
	EventContactRemoved  = "contact_removed"  // contact disassociated
	EventRecordCreated   = "record_created"   // ticket or deal created; Message.Text names it
	EventRecordUpdated   = "record_updated"   // ticket or deal changed; Message.Text names it, Message.Changes says how
	EventEngagementAdded = "engagement_added" // call, email or note logged
	EventTranscriptSent  = "transcript_sent"  // chat transcript emailed by hand (R3); Message.Text is the address
	EventForwarded       = "forwarded"        // the thread emailed by an agent; Recipients name to whom, Text is the note

	// Ownership changes (B1), each recorded in the commit that makes it.
	// Waiting → agent is recorded by the TypeAssignment message of the
	// assignment that makes it.
	EventBotStarted = "bot_started" // → OwnerBot: the bot answers; by the bot
	EventHandedOff  = "handed_off"  // OwnerBot → OwnerWaiting: by the bot; Text names the target
	EventTakenOver  = "taken_over"  // OwnerBot → agent: by the agent, who is the assignee (AssigneeID)
)

// VisibleToVisitor reports whether messages of type t are shown to the contact.
func (t MessageType) VisibleToVisitor() bool {
	return t == TypeMessage || t == TypeStatusChange
}

// Direction says whether a message came from the contact or went to them.
type Direction string

// Directions.
const (
	Incoming Direction = "INCOMING"
	Outgoing Direction = "OUTGOING"
)

// Message is one entry in a thread. Messages are append-only.
type Message struct {
	ID               uint64       `json:"id"` // unique across threads
	ThreadID         uint64       `json:"threadId"`
	Seq              uint64       `json:"seq"` // 1-based position in the thread
	Type             MessageType  `json:"type"`
	Text             string       `json:"text,omitempty"`
	RichText         string       `json:"richText,omitempty"` // sanitised HTML, optional
	SenderID         string       `json:"senderId"`           // actor id
	Direction        Direction    `json:"direction"`
	ClientID         string       `json:"clientId,omitempty"` // sender's idempotency key
	ChannelID        int          `json:"channelId"`
	ChannelAccountID uint64       `json:"channelAccountId"`
	NewStatus        ThreadStatus `json:"newStatus,omitempty"`  // for TypeStatusChange
	AssigneeID       uint64       `json:"assigneeId,omitempty"` // for TypeAssignment
	// AssignedFromID is, for TypeAssignment, whom the thread was assigned
	// to before (0 for no one); the store sets it when it appends.
	AssignedFromID uint64    `json:"assignedFromId,omitempty"`
	Event          string    `json:"event,omitempty"`   // for TypeSystem
	Changes        *[]Change `json:"changes,omitempty"` // for EventRecordUpdated and EventReassignedAway: the fields changed (a pointer keeps Message comparable)
	CreatedAt      time.Time `json:"createdAt"`

	// Attachments are the message's files, in the order sent (see
	// MessageStore.AppendMessage for how an append records them).
	Attachments []Attachment `json:"attachments,omitempty"`
	// Recipients are, on an email message, who it went to or came to
	// besides its sender: an incoming mail's To and Cc (as kept), an
	// agent's reply's To, Cc and Bcc; on an EventForwarded, the addresses
	// the thread was forwarded to. Bcc is for the team only.
	Recipients []Recipient `json:"recipients,omitempty"`

	// QuickReplies are the answers a bot's question offers as buttons; the
	// visitor's choice comes back as an ordinary message with its text.
	QuickReplies []string `json:"quickReplies,omitempty"`
}

// Change is one field changed by a recorded action: its name and its value
// before and after, as text ("" for none).
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// ChangeAssignee names the assignee in the Change of an EventReassignedAway;
// From and To are the users' actor ids.
const ChangeAssignee = "assignee"

// MaxRichTextBytes bounds the rich text (HTML) of an email reply.
const MaxRichTextBytes = 256 << 10

// ValidateText checks message text: valid UTF-8, not blank, at most
// MaxTextBytes, and no control characters but tab, newline and carriage return.
// It returns EINVALID or ETOOLARGE.
func ValidateText(s string) error {
	if len(s) > MaxTextBytes {
		return Errorf(ETOOLARGE, "text is %d bytes; the limit is %d", len(s), MaxTextBytes)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "text is not valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "text is empty")
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return Errorf(EINVALID, "text contains control character U+%04X", r)
		}
	}
	return nil
}

// ValidateClientID checks a client-chosen message id: 1 to MaxClientIDBytes
// of ASCII letters, digits, '-' and '_'. The empty string is allowed and means
// "no idempotency key".
func ValidateClientID(s string) error {
	if len(s) > MaxClientIDBytes {
		return Errorf(EINVALID, "clientId is longer than %d bytes", MaxClientIDBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Errorf(EINVALID, "clientId may hold only letters, digits, '-' and '_'")
		}
	}
	return nil
}

// MessagePreview returns what a thread shows of its latest message m: its
// text's Preview, or for a message of files alone, their names after a
// paper clip.
func MessagePreview(m *Message) string {
	if m.Text != "" || len(m.Attachments) == 0 {
		return Preview(m.Text)
	}
	names := make([]string, len(m.Attachments))
	for i, a := range m.Attachments {
		names[i] = a.Name
	}
	return Preview("📎 " + strings.Join(names, ", "))
}

// Preview returns the first PreviewRunes runes of text on one line.
func Preview(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= PreviewRunes {
		return text
	}
	r := []rune(text)
	return string(r[:PreviewRunes-1]) + "…"
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
