package parley

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Custom channels in the shape of HubSpot's custom channels API: an
// integration (a subscriber app of WebhookSettings, whose secret signs
// what Parley sends it) registers a channel, connects channel accounts
// of it to inboxes, and publishes the messages its users send; the
// agents' replies on the channel's threads go to the channel's webhook URL
// as OUTGOING_CHANNEL_MESSAGE_CREATED, queued in the commit of the reply
// and sent by the webhook sender with its retries, and the integration
// reports how delivering them went. This is how SMS or a messenger comes
// into Parley without changing Parley.

// Custom channel ids start at CustomChannelMin, above Parley's own
// channels, and stay below CustomChannelEnd (a thread's list row keeps its
// channel in two bytes).
const (
	CustomChannelMin = 2000
	CustomChannelEnd = 1 << 16
	// MaxCustomChannels bounds how many channels one Parley registers.
	MaxCustomChannels = 1000
	// MaxChannelAccounts bounds the accounts of one channel.
	MaxChannelAccounts = 1000
)

// IsCustomChannel reports whether a thread or message channel id is a
// custom channel's.
func IsCustomChannel(channelID int) bool {
	return channelID >= CustomChannelMin && channelID < CustomChannelEnd
}

// WebhookChannelMessage is the type of the event that carries an agent's
// reply on a custom channel to the channel's webhook URL (a
// WebhookEvent of the channel's app, sent alone, not batched).
const WebhookChannelMessage = "OUTGOING_CHANNEL_MESSAGE_CREATED"

// Delivery identifier types of HubSpot's custom channels: how the channel
// addresses its users and accounts.
const (
	DeliveryEmail  = "HS_EMAIL_ADDRESS"
	DeliveryPhone  = "HS_PHONE_NUMBER"
	DeliveryOpaque = "CHANNEL_SPECIFIC_OPAQUE_ID"
)

// DeliveryIdentifierTypes lists the delivery identifier types.
var DeliveryIdentifierTypes = []string{DeliveryEmail, DeliveryPhone, DeliveryOpaque}

// Threading models: what makes messages of a channel account one thread.
const (
	// ThreadByDeliveryIdentifier: a thread per sender (the default).
	ThreadByDeliveryIdentifier = "DELIVERY_IDENTIFIER"
	// ThreadByIntegrationThreadID: a thread per integrationThreadId the
	// integration names.
	ThreadByIntegrationThreadID = "INTEGRATION_THREAD_ID"
)

// Message statuses an integration reports on an outgoing message, besides
// DeliveryPending, DeliverySent and DeliveryFailed.
const DeliveryRead = "READ"

// Limits of custom channel fields.
const (
	// MaxDeliveryValueBytes bounds a delivery identifier's value and an
	// integrationThreadId.
	MaxDeliveryValueBytes = 256
	// MaxChannelURLBytes bounds the channel's URLs.
	MaxChannelURLBytes = 2048
	// MaxChannelDescriptionBytes bounds channelDescription.
	MaxChannelDescriptionBytes = 1024
)

// DeliveryIdentifier is how a channel addresses someone: a phone number,
// an email address, or the channel's own id for them.
type DeliveryIdentifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ChannelCapabilities are what a custom channel can carry, as the
// integration declares them.
type ChannelCapabilities struct {
	DeliveryIdentifierTypes []string `json:"deliveryIdentifierTypes"`
	// RichText lists the rich text features the channel renders; Parley
	// sends an outgoing message's text, and no rich text.
	RichText       []string `json:"richText"`
	ThreadingModel string   `json:"threadingModel"`
	// AllowOutgoingMessages lets agents answer on the channel; without it
	// the channel's threads take notes only.
	AllowOutgoingMessages bool `json:"allowOutgoingMessages"`
	// AllowInlineImages, AllowConversationStart and
	// AllowMultipleRecipients are kept as declared; Parley's agents answer
	// one contact in text and files, and start no conversations on a
	// custom channel.
	AllowInlineImages       bool `json:"allowInlineImages"`
	AllowConversationStart  bool `json:"allowConversationStart"`
	AllowMultipleRecipients bool `json:"allowMultipleRecipients"`
	// Outgoing files: how many an agent's reply may carry (0: none), of
	// which media types (none listed: any) and sizes (0: no bound of the
	// channel's own).
	OutgoingAttachmentTypes         []string `json:"outgoingAttachmentTypes"`
	MaxFileAttachmentCount          int      `json:"maxFileAttachmentCount"`
	MaxFileAttachmentSizeBytes      int64    `json:"maxFileAttachmentSizeBytes"`
	MaxTotalFileAttachmentSizeBytes int64    `json:"maxTotalFileAttachmentSizeBytes"`
	AllowedFileAttachmentMimeTypes  []string `json:"allowedFileAttachmentMimeTypes"`
}

// CustomChannel is a channel an integration registered.
type CustomChannel struct {
	ID                    uint64              `json:"id"` // CustomChannelMin and up
	AppID                 uint64              `json:"appId"`
	Name                  string              `json:"name"`
	WebhookURL            string              `json:"webhookUrl,omitempty"`
	Description           string              `json:"channelDescription,omitempty"`
	LogoURL               string              `json:"channelLogoUrl,omitempty"`
	ConnectionRedirectURL string              `json:"channelAccountConnectionRedirectUrl,omitempty"`
	Capabilities          ChannelCapabilities `json:"capabilities"`
	CreatedAt             time.Time           `json:"createdAt"`
	UpdatedAt             time.Time           `json:"updatedAt"`
}

// ThreadingModel is the channel's threading model, the default if unset.
func (c *CustomChannel) ThreadingModel() string {
	if c.Capabilities.ThreadingModel == "" {
		return ThreadByDeliveryIdentifier
	}
	return c.Capabilities.ThreadingModel
}

// TakesOutgoing reports whether agents' replies go out on the channel: it
// allows them and has a webhook URL to send them to.
func (c *CustomChannel) TakesOutgoing() bool {
	return c.Capabilities.AllowOutgoingMessages && c.WebhookURL != ""
}

// ChannelAccount is one account of a custom channel (a phone number, a
// page), connected to an inbox: its messages become that inbox's
// threads. Its id comes from the sequence of widgets and mailboxes: a
// channel account id names one of them.
type ChannelAccount struct {
	ID                 uint64              `json:"id"`
	ChannelID          uint64              `json:"channelId"`
	InboxID            uint64              `json:"inboxId"`
	Name               string              `json:"name"`
	DeliveryIdentifier *DeliveryIdentifier `json:"deliveryIdentifier,omitempty"`
	// Authorized accounts take messages; an integration unauthorizes an
	// account whose credentials were revoked.
	Authorized bool      `json:"authorized"`
	Archived   bool      `json:"archived"`
	ArchivedAt time.Time `json:"archivedAt,omitzero"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// ThreadIntegration is what a custom channel's thread keeps of the
// integration: who its messages go to on the channel, and the thread's id
// there.
type ThreadIntegration struct {
	// ThreadID is the integrationThreadId that started the thread, "" if
	// none.
	ThreadID string `json:"threadId,omitempty"`
	// Contact is the thread's contact on the channel, and ContactName
	// their name as the channel gave it.
	Contact     DeliveryIdentifier `json:"contact"`
	ContactName string             `json:"contactName,omitempty"`
}

// ChannelAppend is what [CustomChannelStore.AppendChannelMessage] does.
type ChannelAppend struct {
	// AccountID is the channel account the message came to, and
	// ThreadKey what makes it one thread there (ChannelThreadKey).
	AccountID uint64
	ThreadKey string
	// NewThread is the thread to create when the key names none (or
	// only a thread in the trash or deleted).
	NewThread *Thread
	// Update and Reopen are as MailAppend's: Update is called on the
	// thread in the transaction, Reopen recorded when it reopens it.
	Update func(t *Thread) error
	Reopen *Message
}

// ChannelThreadKey is the key of a message's thread in its channel
// account: its integrationThreadId under that threading model, else its
// sender.
func ChannelThreadKey(model, integrationThreadID string, sender DeliveryIdentifier) string {
	if model == ThreadByIntegrationThreadID {
		return "t\x00" + integrationThreadID
	}
	return "d\x00" + sender.Type + "\x00" + sender.Value
}

// ChannelDelivery is an update of an outgoing message's status by the
// integration (SENT, FAILED or READ).
type ChannelDelivery struct {
	Status string
	Error  string
	// IfPending records it only over a PENDING status: what the sender
	// learns must not undo what the integration reported.
	IfPending bool
}

// CustomChannelStore keeps custom channels, their accounts, who the
// channels' users are, and which thread a channel's message joins.
type CustomChannelStore interface {
	// CreateCustomChannel stores c and sets its ID (CustomChannelMin and
	// up) and times; ECONFLICT beyond MaxCustomChannels; ENOTFOUND if its
	// app has no WebhookSettings (their secret signs its webhooks).
	CreateCustomChannel(ctx context.Context, c *CustomChannel) error
	// CustomChannel returns channel id, or ENOTFOUND.
	CustomChannel(ctx context.Context, id uint64) (*CustomChannel, error)
	// CustomChannels returns every channel by id.
	CustomChannels(ctx context.Context) ([]*CustomChannel, error)
	// UpdateCustomChannel changes channel id with fn and returns it as
	// written.
	UpdateCustomChannel(ctx context.Context, id uint64, fn func(*CustomChannel) error) (*CustomChannel, error)
	// DeleteCustomChannel deletes channel id and archives its accounts;
	// its threads stay, with notes only. ENOTFOUND if missing.
	DeleteCustomChannel(ctx context.Context, id uint64) error

	// CreateChannelAccount stores a for its channel (ENOTFOUND if
	// missing) and inbox (ENOTFOUND if missing); ECONFLICT beyond
	// MaxChannelAccounts.
	CreateChannelAccount(ctx context.Context, a *ChannelAccount) error
	// ChannelAccount returns account id, or ENOTFOUND.
	ChannelAccount(ctx context.Context, id uint64) (*ChannelAccount, error)
	// ChannelAccounts returns the accounts of channel channelID (0: of
	// every channel) by id.
	ChannelAccounts(ctx context.Context, channelID uint64) ([]*ChannelAccount, error)
	// UpdateChannelAccount changes account id with fn; it may not move it
	// to another channel.
	UpdateChannelAccount(ctx context.Context, id uint64, fn func(*ChannelAccount) error) (*ChannelAccount, error)

	// ChannelContact returns the contact that stands for who on channel
	// channelID, creating it like create (ContactStore.CreateContact) in
	// the same transaction when there is none: concurrent first messages
	// of one sender make one contact.
	ChannelContact(ctx context.Context, channelID uint64, who DeliveryIdentifier, create *Contact) (*Contact, error)
	// AppendChannelMessage appends m (Incoming, from a channel's user) to
	// the thread that opts.ThreadKey names in account opts.AccountID, or
	// to a new one like opts.NewThread, in one transaction; a message
	// with m's ClientID from m's sender in that thread is a duplicate.
	AppendChannelMessage(ctx context.Context, m *Message, opts ChannelAppend) (AppendResult, error)
	// SetChannelDelivery records the status of outgoing message
	// messageID of thread threadID, a custom channel's, and returns it.
	// ENOTFOUND if no status was kept for it (it is no agent's reply on a
	// custom channel).
	SetChannelDelivery(ctx context.Context, threadID, messageID uint64, d ChannelDelivery) (*Delivery, error)
}

// ValidateChannelCapabilities checks caps; errors are EINVALID naming
// the field.
func ValidateChannelCapabilities(caps *ChannelCapabilities) error {
	for _, t := range caps.DeliveryIdentifierTypes {
		if !slices.Contains(DeliveryIdentifierTypes, t) {
			return Errorf(EINVALID, "capabilities.deliveryIdentifierTypes: %q is not one of %s", truncate(t, 64), strings.Join(DeliveryIdentifierTypes, ", "))
		}
	}
	switch caps.ThreadingModel {
	case "", ThreadByDeliveryIdentifier, ThreadByIntegrationThreadID:
	default:
		return Errorf(EINVALID, "capabilities.threadingModel must be %s or %s", ThreadByDeliveryIdentifier, ThreadByIntegrationThreadID)
	}
	for _, t := range caps.OutgoingAttachmentTypes {
		if t != "FILE" {
			return Errorf(EINVALID, "capabilities.outgoingAttachmentTypes: %q is not FILE", truncate(t, 64))
		}
	}
	if caps.AllowConversationStart {
		return Errorf(EINVALID, "capabilities.allowConversationStart: Parley's agents do not start conversations on a custom channel")
	}
	if caps.MaxFileAttachmentCount < 0 || caps.MaxFileAttachmentCount > MaxMessageFiles {
		return Errorf(EINVALID, "capabilities.maxFileAttachmentCount must be 0 to %d", MaxMessageFiles)
	}
	if caps.MaxFileAttachmentSizeBytes < 0 || caps.MaxTotalFileAttachmentSizeBytes < 0 {
		return Errorf(EINVALID, "capabilities: file sizes may not be negative")
	}
	for _, list := range [][]string{caps.RichText, caps.AllowedFileAttachmentMimeTypes} {
		if len(list) > 64 {
			return Errorf(EINVALID, "capabilities: a list holds at most 64 entries")
		}
		for _, s := range list {
			if s == "" || len(s) > 128 {
				return Errorf(EINVALID, "capabilities: list entries must be 1 to 128 bytes")
			}
		}
	}
	return nil
}

// ValidateDeliveryIdentifier checks d as field (its name in the error).
func ValidateDeliveryIdentifier(field string, d *DeliveryIdentifier) error {
	if !slices.Contains(DeliveryIdentifierTypes, d.Type) {
		return Errorf(EINVALID, "%s.type must be one of %s", field, strings.Join(DeliveryIdentifierTypes, ", "))
	}
	v := strings.TrimSpace(d.Value)
	if v == "" || len(v) > MaxDeliveryValueBytes || !utf8.ValidString(v) || hasControl(v) {
		return Errorf(EINVALID, "%s.value must be 1 to %d bytes of text without control characters", field, MaxDeliveryValueBytes)
	}
	if d.Type == DeliveryEmail {
		email, err := NormalizeEmail(v)
		if err != nil || strings.ContainsAny(v, "<,") {
			return Errorf(EINVALID, "%s.value is not one plain email address", field)
		}
		v = email
	}
	d.Value = v
	return nil
}
