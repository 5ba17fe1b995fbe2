package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/richtext"
)

// Custom channels (HubSpot's custom channels API; parley.CustomChannel):
// registering channels and accounts, publishing what a channel's users
// send, and sending the agents' replies to the channel's webhook URL. The
// replies are queued by the store in the commit of the reply
// (parley.WebhookChannelMessage events of the channel's app) and sent by
// the webhook sender (webhooks.go), one request each, signed with the
// app's secret, retried like every webhook; a reply whose last attempt
// fails is marked FAILED.

// CustomChannelInput is a channel's fields as an integration sends them;
// on an update, nil fields keep what is stored.
type CustomChannelInput struct {
	Name                  *string
	WebhookURL            *string
	Description           *string
	LogoURL               *string
	ConnectionRedirectURL *string
	Capabilities          *parley.ChannelCapabilities
}

// apply checks in and sets its fields on c; errors are EINVALID naming the
// field.
func (a *App) applyChannel(ctx context.Context, c *parley.CustomChannel, in CustomChannelInput) error {
	if in.Name != nil {
		name, err := parley.CleanLine("name", *in.Name, true)
		if err != nil {
			return err
		}
		c.Name = name
	}
	if in.WebhookURL != nil {
		if *in.WebhookURL != "" {
			if err := a.checkHookURL(ctx, "webhookUrl", *in.WebhookURL); err != nil {
				return err
			}
		}
		c.WebhookURL = *in.WebhookURL
	}
	for _, f := range []struct {
		field string
		in    *string
		out   *string
	}{
		{"channelLogoUrl", in.LogoURL, &c.LogoURL},
		{"channelAccountConnectionRedirectUrl", in.ConnectionRedirectURL, &c.ConnectionRedirectURL},
	} {
		if f.in == nil {
			continue
		}
		if *f.in != "" {
			if err := checkURL(f.field, *f.in); err != nil {
				return err
			}
		}
		*f.out = *f.in
	}
	if in.Description != nil {
		if len(*in.Description) > parley.MaxChannelDescriptionBytes || !validText(*in.Description) {
			return parley.Errorf(parley.EINVALID, "channelDescription must be at most %d bytes of text", parley.MaxChannelDescriptionBytes)
		}
		c.Description = strings.TrimSpace(*in.Description)
	}
	if in.Capabilities != nil {
		caps := *in.Capabilities
		if err := parley.ValidateChannelCapabilities(&caps); err != nil {
			return err
		}
		c.Capabilities = caps
	}
	return nil
}

// validText reports whether s is valid UTF-8 without control characters
// other than tabs and line breaks.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// RegisterCustomChannel registers a channel of app appID, whose webhook
// settings must exist (ENOTFOUND: their secret signs the channel's
// webhooks). A name is required.
func (a *App) RegisterCustomChannel(ctx context.Context, appID uint64, in CustomChannelInput) (*parley.CustomChannel, error) {
	if in.Name == nil {
		return nil, parley.Errorf(parley.EINVALID, "name is required")
	}
	if in.Capabilities == nil {
		return nil, parley.Errorf(parley.EINVALID, "capabilities is required")
	}
	c := &parley.CustomChannel{AppID: appID}
	if err := a.applyChannel(ctx, c, in); err != nil {
		return nil, err
	}
	if err := a.db.CreateCustomChannel(ctx, c); err != nil {
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.EINVALID, "appId %d has no webhook settings: create them first (PUT /webhooks/v3/%d/settings); their secret signs what the channel is sent", appID, appID)
		}
		return nil, err
	}
	a.log.Info().Uint64("channelId", c.ID).Uint64("appId", appID).Str("name", c.Name).Msg("custom channel registered")
	return c, nil
}

// UpdateCustomChannel changes channel id as in says.
func (a *App) UpdateCustomChannel(ctx context.Context, id uint64, in CustomChannelInput) (*parley.CustomChannel, error) {
	old, err := a.db.CustomChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	// Checked outside the write: resolving the webhook's host may take a
	// while.
	next := *old
	if err := a.applyChannel(ctx, &next, in); err != nil {
		return nil, err
	}
	return a.db.UpdateCustomChannel(ctx, id, func(c *parley.CustomChannel) error {
		c.Name, c.WebhookURL, c.Description, c.LogoURL = next.Name, next.WebhookURL, next.Description, next.LogoURL
		c.ConnectionRedirectURL, c.Capabilities = next.ConnectionRedirectURL, next.Capabilities
		return nil
	})
}

// ChannelAccountInput is a channel account's fields; on an update, nil
// fields keep what is stored.
type ChannelAccountInput struct {
	InboxID            *uint64
	Name               *string
	DeliveryIdentifier *parley.DeliveryIdentifier
	Authorized         *bool
	Archived           *bool
}

// CreateChannelAccount connects an account of channel channelID to an
// inbox. inboxId and name are required; the account is authorized unless
// in says otherwise.
func (a *App) CreateChannelAccount(ctx context.Context, channelID uint64, in ChannelAccountInput) (*parley.ChannelAccount, error) {
	ch, err := a.db.CustomChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if in.InboxID == nil {
		return nil, parley.Errorf(parley.EINVALID, "inboxId is required")
	}
	if in.Name == nil {
		return nil, parley.Errorf(parley.EINVALID, "name is required")
	}
	acc := &parley.ChannelAccount{ChannelID: ch.ID, Authorized: true}
	if err := applyAccount(ch, acc, in); err != nil {
		return nil, err
	}
	if _, err := a.db.Inbox(ctx, acc.InboxID); parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, parley.Errorf(parley.EINVALID, "inboxId %d names no inbox", acc.InboxID)
	} else if err != nil {
		return nil, err
	}
	if err := a.db.CreateChannelAccount(ctx, acc); err != nil {
		return nil, err
	}
	return acc, nil
}

// UpdateChannelAccount changes account id of channel channelID.
func (a *App) UpdateChannelAccount(ctx context.Context, channelID, id uint64, in ChannelAccountInput) (*parley.ChannelAccount, error) {
	ch, err := a.db.CustomChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if in.InboxID != nil {
		if _, err := a.db.Inbox(ctx, *in.InboxID); parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.EINVALID, "inboxId %d names no inbox", *in.InboxID)
		} else if err != nil {
			return nil, err
		}
	}
	return a.db.UpdateChannelAccount(ctx, id, func(acc *parley.ChannelAccount) error {
		if acc.ChannelID != ch.ID {
			return parley.Errorf(parley.ENOTFOUND, "channel account %d not found in channel %d", id, ch.ID)
		}
		return applyAccount(ch, acc, in)
	})
}

// ChannelAccountOf returns account id if it belongs to channel channelID,
// else ENOTFOUND.
func (a *App) ChannelAccountOf(ctx context.Context, channelID, id uint64) (*parley.ChannelAccount, error) {
	acc, err := a.db.ChannelAccount(ctx, id)
	if err == nil && acc.ChannelID != channelID {
		err = parley.Errorf(parley.ENOTFOUND, "channel account %d not found in channel %d", id, channelID)
	}
	return acc, err
}

func applyAccount(ch *parley.CustomChannel, acc *parley.ChannelAccount, in ChannelAccountInput) error {
	if in.InboxID != nil {
		acc.InboxID = *in.InboxID
	}
	if in.Name != nil {
		name, err := parley.CleanLine("name", *in.Name, true)
		if err != nil {
			return err
		}
		acc.Name = name
	}
	if in.DeliveryIdentifier != nil {
		d := *in.DeliveryIdentifier
		if err := parley.ValidateDeliveryIdentifier("deliveryIdentifier", &d); err != nil {
			return err
		}
		if err := channelTakes(ch, "deliveryIdentifier", d); err != nil {
			return err
		}
		acc.DeliveryIdentifier = &d
	}
	if in.Authorized != nil {
		acc.Authorized = *in.Authorized
	}
	if in.Archived != nil {
		acc.Archived = *in.Archived
	}
	return nil
}

// channelTakes checks that ch declares d's type, when it declares any.
func channelTakes(ch *parley.CustomChannel, field string, d parley.DeliveryIdentifier) error {
	types := ch.Capabilities.DeliveryIdentifierTypes
	if len(types) > 0 && !slices.Contains(types, d.Type) {
		return parley.Errorf(parley.EINVALID, "%s.type %s is not among the channel's deliveryIdentifierTypes (%s)", field, d.Type, strings.Join(types, ", "))
	}
	return nil
}

// ChannelSender is who sent a message on a channel.
type ChannelSender struct {
	Name               string
	DeliveryIdentifier parley.DeliveryIdentifier
}

// ChannelMessageInput is a message a channel's user sent, as the
// integration publishes it.
type ChannelMessageInput struct {
	AccountID           uint64
	Text, RichText      string
	Sender              ChannelSender
	IntegrationThreadID string
	// IdempotencyID makes a retried publish find the first copy.
	IdempotencyID string
	// Timestamp is when it was sent, zero for now; it may not lie ahead.
	Timestamp time.Time
	// ContactID, if set, is the contact the message is from, instead of
	// the contact of the sender's delivery identifier.
	ContactID uint64
}

// PublishChannelMessage stores a message a channel's user sent to account
// in.AccountID of channel channelID, in the thread its threading model
// names or a new one of the account's inbox, and announces it. A closed
// thread of the same contact reopens. dup reports a retried publish (the
// first copy is returned).
func (a *App) PublishChannelMessage(ctx context.Context, channelID uint64, in ChannelMessageInput) (m *parley.Message, t *parley.Thread, dup bool, err error) {
	ch, err := a.db.CustomChannel(ctx, channelID)
	if err != nil {
		return nil, nil, false, err
	}
	acc, err := a.ChannelAccountOf(ctx, channelID, in.AccountID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil, false, parley.Errorf(parley.EINVALID, "channelAccountId %d names no account of channel %d", in.AccountID, channelID)
	} else if err != nil {
		return nil, nil, false, err
	}
	if acc.Archived || !acc.Authorized {
		return nil, nil, false, parley.Errorf(parley.ECONFLICT, "channel account %d is archived or not authorized: it takes no messages", acc.ID)
	}
	sender := in.Sender.DeliveryIdentifier
	if err := parley.ValidateDeliveryIdentifier("senders[0].deliveryIdentifier", &sender); err != nil {
		return nil, nil, false, err
	}
	if err := channelTakes(ch, "senders[0].deliveryIdentifier", sender); err != nil {
		return nil, nil, false, err
	}
	name, err := parley.CleanLine("senders[0].name", in.Sender.Name, false)
	if err != nil {
		return nil, nil, false, err
	}
	model := ch.ThreadingModel()
	threadID, err := parley.CleanLine("integrationThreadId", in.IntegrationThreadID, false)
	if err != nil {
		return nil, nil, false, err
	}
	if model == parley.ThreadByIntegrationThreadID && threadID == "" {
		return nil, nil, false, parley.Errorf(parley.EINVALID, "integrationThreadId is required: the channel's threadingModel is %s", model)
	}
	if err := parley.ValidateClientID(in.IdempotencyID); err != nil {
		return nil, nil, false, parley.Errorf(parley.EINVALID, "integrationIdempotencyId: %s", strings.TrimPrefix(parley.ErrorMessage(err), "clientId: "))
	}
	text, rich := in.Text, ""
	if in.RichText != "" {
		if len(in.RichText) > parley.MaxRichTextBytes {
			return nil, nil, false, parley.Errorf(parley.ETOOLARGE, "richText is %d bytes; the limit is %d", len(in.RichText), parley.MaxRichTextBytes)
		}
		rich = richtext.Clean(in.RichText)
		if strings.TrimSpace(text) == "" {
			text = limitString(strings.TrimSpace(richtext.Text(rich)), parley.MaxTextBytes)
		}
	}
	if err := validBody(text, 0); err != nil {
		return nil, nil, false, err
	}
	now := a.Now()
	at := now
	if !in.Timestamp.IsZero() {
		if in.Timestamp.After(now.Add(5 * time.Minute)) {
			return nil, nil, false, parley.Errorf(parley.EINVALID, "timestamp lies in the future")
		}
		at = in.Timestamp.UTC()
	}

	c, err := a.channelContact(ctx, ch, sender, name, in.ContactID)
	if err != nil {
		return nil, nil, false, err
	}
	inboxID := acc.InboxID
	reopened := false
	res, err := a.db.AppendChannelMessage(ctx, &parley.Message{
		Type: parley.TypeMessage, Text: text, RichText: rich, SenderID: c.ActorID(), Direction: parley.Incoming,
		ClientID: in.IdempotencyID, ChannelID: int(ch.ID), ChannelAccountID: acc.ID, CreatedAt: at,
	}, parley.ChannelAppend{
		AccountID: acc.ID, ThreadKey: parley.ChannelThreadKey(model, threadID, sender),
		NewThread: &parley.Thread{
			InboxID: inboxID, ChannelID: int(ch.ID), ChannelAccountID: acc.ID, ContactID: c.ID,
			Status: parley.StatusOpen, Blocked: c.Blocked,
			Integration: &parley.ThreadIntegration{ThreadID: threadID, Contact: sender, ContactName: name},
		},
		Reopen: &parley.Message{SenderID: c.ActorID(), Direction: parley.Incoming, ChannelID: int(ch.ID), ChannelAccountID: acc.ID, CreatedAt: now},
		Update: func(t *parley.Thread) error {
			reopened = false
			if t.LastSeq != 0 && t.ContactID == c.ID && t.Status == parley.StatusClosed {
				t.Status, t.ClosedAt, reopened = parley.StatusOpen, time.Time{}, true
			}
			return nil
		},
	})
	if err != nil {
		return nil, nil, false, err
	}
	if res.Duplicate {
		return res.Message, res.Thread, true, nil
	}
	t = res.Thread
	if res.Reopened != nil {
		a.events.MessageCreated(ctx, t, res.Reopened)
	}
	switch {
	case res.ThreadCreated:
		a.events.ThreadCreated(ctx, t)
	case reopened:
		a.events.ThreadUpdated(ctx, t, false)
	}
	a.events.MessageCreated(ctx, t, res.Message)
	a.notifyOutside(ctx, t, res.Message, res.ThreadCreated)
	return res.Message, t, false, nil
}

// channelContact returns the contact a channel's message is from:
// contactID if set, else the contact with the sender's email, else the
// contact that stands for the sender on the channel, created as needed.
func (a *App) channelContact(ctx context.Context, ch *parley.CustomChannel, who parley.DeliveryIdentifier, name string, contactID uint64) (*parley.Contact, error) {
	if contactID != 0 {
		c, err := a.db.Contact(ctx, contactID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.EINVALID, "associateWithContactId %d names no contact", contactID)
		}
		return c, err
	}
	if who.Type == parley.DeliveryEmail {
		return a.mailContact(ctx, parley.Address{Name: name, Email: who.Value})
	}
	first, last, _ := strings.Cut(name, " ")
	c := &parley.Contact{FirstName: strings.TrimSpace(first), LastName: strings.TrimSpace(last), CreatedAt: a.Now()}
	if who.Type == parley.DeliveryPhone {
		c.Properties = map[string]string{"phone": who.Value}
	}
	return a.db.ChannelContact(ctx, ch.ID, who, c)
}

// SetChannelMessageStatus records what the integration reports of
// message messageID, an agent's reply on channel channelID: SENT, FAILED
// (with errMsg) or READ, and tells the consoles.
func (a *App) SetChannelMessageStatus(ctx context.Context, channelID, messageID uint64, status, errMsg string) (*parley.Message, *parley.Thread, error) {
	switch status {
	case parley.DeliverySent, parley.DeliveryFailed, parley.DeliveryRead:
	default:
		return nil, nil, parley.Errorf(parley.EINVALID, "statusType must be SENT, FAILED or READ")
	}
	if len(errMsg) > 1024 || !validText(errMsg) {
		return nil, nil, parley.Errorf(parley.EINVALID, "errorMessage must be at most 1024 bytes of text")
	}
	if errMsg != "" && status != parley.DeliveryFailed {
		return nil, nil, parley.Errorf(parley.EINVALID, "errorMessage is only for statusType FAILED")
	}
	m, t, err := a.ChannelMessage(ctx, channelID, messageID)
	if err != nil {
		return nil, nil, err
	}
	if m.Direction != parley.Outgoing || m.Type != parley.TypeMessage {
		return nil, nil, parley.Errorf(parley.EINVALID, "message %d is no outgoing message: only those have a status", messageID)
	}
	d, err := a.db.SetChannelDelivery(ctx, t.ID, m.ID, parley.ChannelDelivery{Status: status, Error: errMsg})
	if err != nil {
		return nil, nil, err
	}
	a.events.Delivery(t, m.ID, d)
	return m, t, nil
}

// ChannelMessage returns message messageID of channel channelID and its
// thread, or ENOTFOUND.
func (a *App) ChannelMessage(ctx context.Context, channelID, messageID uint64) (*parley.Message, *parley.Thread, error) {
	m, err := a.db.Message(ctx, messageID)
	if err == nil && uint64(m.ChannelID) != channelID {
		err = parley.Errorf(parley.ENOTFOUND, "message %d not found in channel %d", messageID, channelID)
	}
	if err != nil {
		return nil, nil, err
	}
	t, err := a.db.Thread(ctx, m.ThreadID)
	if err != nil {
		return nil, nil, err
	}
	return m, t, nil
}

// checkChannelReply checks an agent's reply on custom channel thread t
// against its channel: the channel takes outgoing messages, and the
// files are within its capabilities.
func (a *App) checkChannelReply(ctx context.Context, t *parley.Thread, atts []parley.Attachment) error {
	ch, err := a.db.CustomChannel(ctx, uint64(t.ChannelID))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.Errorf(parley.EINVALID, "this thread's channel (%d) was deleted: it takes notes only", t.ChannelID)
	} else if err != nil {
		return err
	}
	if !ch.TakesOutgoing() {
		return parley.Errorf(parley.EINVALID, "channel %q takes no outgoing messages: this thread takes notes only", ch.Name)
	}
	if acc, err := a.db.ChannelAccount(ctx, t.ChannelAccountID); err == nil && (acc.Archived || !acc.Authorized) {
		return parley.Errorf(parley.EINVALID, "channel account %q is archived or not authorized: it sends nothing", acc.Name)
	}
	caps := ch.Capabilities
	if len(atts) == 0 {
		return nil
	}
	if len(atts) > caps.MaxFileAttachmentCount {
		return parley.Errorf(parley.EINVALID, "channel %q takes at most %d files per message", ch.Name, caps.MaxFileAttachmentCount)
	}
	var total int64
	for _, at := range atts {
		if len(caps.AllowedFileAttachmentMimeTypes) > 0 && !slices.Contains(caps.AllowedFileAttachmentMimeTypes, at.Type) {
			return parley.Errorf(parley.EINVALID, "channel %q takes no files of type %s", ch.Name, at.Type)
		}
		if caps.MaxFileAttachmentSizeBytes > 0 && at.Size > caps.MaxFileAttachmentSizeBytes {
			return parley.Errorf(parley.ETOOLARGE, "file %q is %d bytes; channel %q takes at most %d", at.Name, at.Size, ch.Name, caps.MaxFileAttachmentSizeBytes)
		}
		total += at.Size
	}
	if caps.MaxTotalFileAttachmentSizeBytes > 0 && total > caps.MaxTotalFileAttachmentSizeBytes {
		return parley.Errorf(parley.ETOOLARGE, "the files are %d bytes together; channel %q takes at most %d", total, ch.Name, caps.MaxTotalFileAttachmentSizeBytes)
	}
	return nil
}

// ----- sending replies -----

// channelActor is an actor of a message sent to a channel.
type channelActor struct {
	ActorID            string                     `json:"actorId,omitempty"`
	Name               string                     `json:"name,omitempty"`
	DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier,omitempty"`
}

// channelFile is a file of a message sent to a channel: url is a signed
// link that serves it.
type channelFile struct {
	Type          string `json:"type"` // FILE
	FileID        string `json:"fileId"`
	Name          string `json:"name"`
	URL           string `json:"url"`
	FileUsageType string `json:"fileUsageType"`
}

// channelMessagePayload is the message of an OUTGOING_CHANNEL_MESSAGE_CREATED
// event, in the shape of HubSpot's custom channel messages.
type channelMessagePayload struct {
	ID                    string         `json:"id"`
	Type                  string         `json:"type"`
	Text                  string         `json:"text"`
	ChannelID             string         `json:"channelId"`
	ChannelAccountID      string         `json:"channelAccountId"`
	ConversationsThreadID string         `json:"conversationsThreadId"`
	IntegrationThreadID   string         `json:"integrationThreadId,omitempty"`
	CreatedAt             string         `json:"createdAt"`
	CreatedBy             string         `json:"createdBy"`
	Senders               []channelActor `json:"senders"`
	Recipients            []channelActor `json:"recipients"`
	Direction             string         `json:"direction"`
	TruncationStatus      string         `json:"truncationStatus"`
	Attachments           []channelFile  `json:"attachments"`
}

// channelEventPayload is the body of one OUTGOING_CHANNEL_MESSAGE_CREATED
// request.
type channelEventPayload struct {
	Type                        string                `json:"type"`
	EventID                     uint64                `json:"eventId"`
	PortalID                    uint64                `json:"portalId"`
	AppID                       uint64                `json:"appId"`
	ChannelID                   string                `json:"channelId"`
	ChannelAccountID            string                `json:"channelAccountId"`
	OccurredAt                  int64                 `json:"occurredAt"`
	AttemptNumber               int                   `json:"attemptNumber"`
	ChannelIntegrationThreadIDs []string              `json:"channelIntegrationThreadIds"`
	Message                     channelMessagePayload `json:"message"`
}

// fileUsage is HubSpot's fileUsageType of a file of media type typ.
func fileUsage(typ string) string {
	switch {
	case strings.HasPrefix(typ, "image/"):
		return "IMAGE"
	case strings.HasPrefix(typ, "audio/"):
		return "AUDIO"
	}
	return "OTHER"
}

// channelRequest builds the request of event ev: the channel's webhook
// URL and the body. ok is false when the event cannot be sent any more
// (its message, thread or channel is gone, or the channel takes no
// outgoing messages now): why says so.
func (a *App) channelRequest(ctx context.Context, ev *parley.WebhookEvent) (target string, body []byte, why string, err error) {
	ch, err := a.db.CustomChannel(ctx, ev.ChannelID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return "", nil, "the channel was deleted", nil
	} else if err != nil {
		return "", nil, "", err
	}
	if !ch.TakesOutgoing() {
		return "", nil, "the channel takes no outgoing messages", nil
	}
	m, err := a.db.Message(ctx, ev.MessageID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return "", nil, "the message was deleted", nil
	} else if err != nil {
		return "", nil, "", err
	}
	t, err := a.db.Thread(ctx, m.ThreadID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return "", nil, "the conversation was deleted", nil
	} else if err != nil {
		return "", nil, "", err
	}
	acc, err := a.db.ChannelAccount(ctx, m.ChannelAccountID)
	if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return "", nil, "", err
	}
	msg := channelMessagePayload{
		ID: idString(m.ID), Type: string(m.Type), Text: m.Text,
		ChannelID: idString(ch.ID), ChannelAccountID: idString(m.ChannelAccountID), ConversationsThreadID: idString(t.ID),
		CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339Nano), CreatedBy: m.SenderID,
		Senders:    []channelActor{{ActorID: m.SenderID, Name: a.ActorName(ctx, m.SenderID)}},
		Recipients: []channelActor{},
		Direction:  string(m.Direction), TruncationStatus: "NOT_TRUNCATED", Attachments: []channelFile{},
	}
	if acc != nil && acc.DeliveryIdentifier != nil {
		di := *acc.DeliveryIdentifier
		msg.Senders[0].DeliveryIdentifier = &di
	}
	var threadIDs []string
	if ti := t.Integration; ti != nil {
		contact := ti.Contact
		msg.Recipients = append(msg.Recipients, channelActor{ActorID: parley.ContactActorID(t.ContactID), Name: ti.ContactName, DeliveryIdentifier: &contact})
		msg.IntegrationThreadID = ti.ThreadID
		if ti.ThreadID != "" {
			threadIDs = append(threadIDs, ti.ThreadID)
		}
	}
	for _, at := range m.Attachments {
		link, err := a.FileLink(ctx, at)
		if err != nil {
			return "", nil, "", err
		}
		msg.Attachments = append(msg.Attachments, channelFile{Type: "FILE", FileID: idString(at.FileID), Name: at.Name,
			URL: strings.TrimRight(a.cfg.BaseURL, "/") + link, FileUsageType: fileUsage(at.Type)})
	}
	if threadIDs == nil {
		threadIDs = []string{}
	}
	body, err = json.Marshal(channelEventPayload{
		Type: parley.WebhookChannelMessage, EventID: ev.ID, PortalID: parley.WebhookPortalID, AppID: ev.AppID,
		ChannelID: idString(ch.ID), ChannelAccountID: msg.ChannelAccountID, OccurredAt: ev.OccurredAt.UnixMilli(),
		AttemptNumber: ev.Attempts, ChannelIntegrationThreadIDs: threadIDs, Message: msg,
	})
	return ch.WebhookURL, body, "", err
}

// channelDelivered records how sending event ev, an agent's reply on a
// custom channel, went: SENT once the channel's webhook took it (unless
// the integration reported first), FAILED when it never will.
func (a *App) channelDelivered(ctx context.Context, ev *parley.WebhookEvent, d parley.ChannelDelivery) {
	got, err := a.db.SetChannelDelivery(ctx, ev.ThreadID, ev.MessageID, d)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return // the conversation was deleted
	} else if err != nil {
		a.log.Error().Err(err).Uint64("messageId", ev.MessageID).Msg("record a custom channel message's status")
		return
	}
	if t, err := a.db.Thread(ctx, ev.ThreadID); err == nil {
		a.events.Delivery(t, ev.MessageID, got)
	}
}
