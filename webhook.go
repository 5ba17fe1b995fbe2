package parley

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Webhooks in HubSpot's Webhooks v3 shape: a subscriber (HubSpot's app,
// named by a positive appId) has one target URL, one signing secret and
// its own subscriptions to conversation events. Each change that a
// subscription asks for is queued in the transaction that makes it and
// sent to the subscriber's target, signed, in batches, until it is
// answered with 2xx or the last retry has failed.

// Webhook event types: HubSpot's subscription types for conversations.
const (
	// WebhookCreation: a thread was created.
	WebhookCreation = "conversation.creation"
	// WebhookDeletion: a thread was archived (moved to the trash, where it
	// can be restored), as HubSpot uses it.
	WebhookDeletion = "conversation.deletion"
	// WebhookPrivacyDeletion: a thread was deleted for good.
	WebhookPrivacyDeletion = "conversation.privacyDeletion"
	// WebhookPropertyChange: a property of a thread changed (one of the
	// WebhookProp names).
	WebhookPropertyChange = "conversation.propertyChange"
	// WebhookNewMessage: a message (or a comment) was added to a thread.
	WebhookNewMessage = "conversation.newMessage"
)

// Thread properties that conversation.propertyChange subscriptions name,
// and the values their events carry.
const (
	// WebhookPropAssignedTo: the assignee changed; the value is the new
	// assignee's actor id ("A-7"), "" when unassigned.
	WebhookPropAssignedTo = "assignedTo"
	// WebhookPropStatus: the status changed; the value is OPEN or CLOSED.
	WebhookPropStatus = "status"
	// WebhookPropArchived: the thread was archived or restored; the value
	// is TRUE or FALSE.
	WebhookPropArchived = "isArchived"
)

// WebhookEventTypes lists the event types a subscription may name, in the
// order the API and the console show them.
var WebhookEventTypes = []string{WebhookCreation, WebhookDeletion, WebhookPrivacyDeletion, WebhookPropertyChange, WebhookNewMessage}

// WebhookProperties lists the properties a conversation.propertyChange
// subscription may name.
var WebhookProperties = []string{WebhookPropAssignedTo, WebhookPropStatus, WebhookPropArchived}

// Limits of webhooks.
const (
	// WebhookBatchSize is the most events one request carries, as HubSpot.
	WebhookBatchSize = 100
	// WebhookRetries is how often a failed request is tried again: with
	// the first try, WebhookRetries+1 attempts, numbered from 0.
	WebhookRetries = 10
	// WebhookLogSize is how many delivery attempts a subscriber's log
	// keeps, the oldest dropped first.
	WebhookLogSize = 100
	// WebhookMaxConcurrency bounds Throttling.MaxConcurrentRequests;
	// DefaultWebhookConcurrency is what a subscriber gets without one.
	WebhookMaxConcurrency     = 100
	DefaultWebhookConcurrency = 10
	// WebhookPortalID is the portalId of every event: one Parley is one
	// HubSpot account.
	WebhookPortalID = 1
)

// Throttling periods HubSpot accepts in WebhookThrottling.Period: with
// one, MaxConcurrentRequests also bounds the requests started per second
// or per rolling minute.
const (
	WebhookPeriodSecondly      = "SECONDLY"
	WebhookPeriodRollingMinute = "ROLLING_MINUTE"
)

// WebhookThrottling bounds how hard Parley sends to a subscriber.
type WebhookThrottling struct {
	// MaxConcurrentRequests is the most requests in flight to the target
	// at once, 1 to WebhookMaxConcurrency.
	MaxConcurrentRequests int `json:"maxConcurrentRequests"`
	// Period is HubSpot's throttling period ("" if none): with one, at
	// most MaxConcurrentRequests requests start per second (SECONDLY) or
	// in any minute (ROLLING_MINUTE) too.
	Period string `json:"period,omitempty"`
}

// WebhookSettings is one subscriber: where its events go and the secret
// that signs them.
type WebhookSettings struct {
	AppID      uint64            `json:"appId"`
	TargetURL  string            `json:"targetUrl"`
	Secret     string            `json:"secret"` // never shown after creation
	Throttling WebhookThrottling `json:"throttling"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

// WebhookSubscription asks for one event type (and, for
// conversation.propertyChange, one property) of a subscriber. Only active
// subscriptions queue events.
type WebhookSubscription struct {
	ID           uint64    `json:"id"`
	AppID        uint64    `json:"appId"`
	EventType    string    `json:"eventType"`
	PropertyName string    `json:"propertyName,omitempty"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// WebhookEvent is one event waiting in a subscriber's queue. ID is its
// eventId, unique across subscribers.
type WebhookEvent struct {
	ID             uint64    `json:"id"`
	AppID          uint64    `json:"appId"`
	SubscriptionID uint64    `json:"subscriptionId"`
	Type           string    `json:"type"`     // one of WebhookEventTypes
	ThreadID       uint64    `json:"threadId"` // the event's objectId
	OccurredAt     time.Time `json:"occurredAt"`
	// MessageID and MessageType (MESSAGE or COMMENT): newMessage only.
	MessageID   uint64 `json:"messageId,omitempty"`
	MessageType string `json:"messageType,omitempty"`
	// PropertyName and PropertyValue: propertyChange only.
	PropertyName  string `json:"propertyName,omitempty"`
	PropertyValue string `json:"propertyValue,omitempty"`
	// ChannelID is the custom channel of a WebhookChannelMessage.
	ChannelID uint64 `json:"channelId,omitempty"`

	// Attempts is how often it was sent and not acknowledged: the next
	// request's attemptNumber.
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"nextAt"` // not before
}

// Outcomes of a delivery attempt (WebhookAttempt.Outcome).
const (
	WebhookDelivered = "delivered" // answered with 2xx
	WebhookRetrying  = "retrying"  // failed, to be tried again
	WebhookFailed    = "failed"    // failed for the last time: the events are dropped
)

// WebhookAttempt is one request to a subscriber's target, as its delivery
// log keeps it.
type WebhookAttempt struct {
	At      time.Time     `json:"at"`
	Events  int           `json:"events"`
	Status  int           `json:"status,omitempty"` // HTTP status, 0 if none came
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"latency"`
	Outcome string        `json:"outcome"`        // WebhookDelivered, …
	Attempt int           `json:"attempt"`        // attemptNumber of the request
	Test    bool          `json:"test,omitempty"` // a test event sent by hand
}

// WebhookStore keeps subscribers, their subscriptions, their queues of
// events and their delivery logs. Every write that changes a thread
// (creation, a message, its assignee, status or archived flag, its
// deletion for good) queues the events that the active subscriptions ask
// for in its own transaction: an event is queued exactly when the change
// commits.
type WebhookStore interface {
	// PutWebhookSettings creates or replaces the settings of s.AppID.
	// Replacing keeps CreatedAt and, when s.Secret is empty, the secret;
	// new settings without a secret are EINVALID.
	PutWebhookSettings(ctx context.Context, s *WebhookSettings) error
	// WebhookSettings returns the settings of appID, or ENOTFOUND.
	WebhookSettings(ctx context.Context, appID uint64) (*WebhookSettings, error)
	// AllWebhookSettings returns every subscriber, by appId.
	AllWebhookSettings(ctx context.Context) ([]*WebhookSettings, error)
	// DeleteWebhookSettings deletes subscriber appID with its
	// subscriptions, its queue and its log, or returns ENOTFOUND;
	// ECONFLICT while it has custom channels.
	DeleteWebhookSettings(ctx context.Context, appID uint64) error

	// CreateWebhookSubscription stores s for s.AppID, whose settings must
	// exist (else ENOTFOUND); the same event type and property twice is
	// ECONFLICT.
	CreateWebhookSubscription(ctx context.Context, s *WebhookSubscription) error
	// WebhookSubscriptions returns the subscriptions of appID by id.
	WebhookSubscriptions(ctx context.Context, appID uint64) ([]*WebhookSubscription, error)
	// WebhookSubscription returns subscription id of appID, or ENOTFOUND.
	WebhookSubscription(ctx context.Context, appID, id uint64) (*WebhookSubscription, error)
	// UpdateWebhookSubscription changes subscription id of appID with fn
	// (as UpdateThread does) and returns it as written, or ENOTFOUND.
	UpdateWebhookSubscription(ctx context.Context, appID, id uint64, fn func(*WebhookSubscription) error) (*WebhookSubscription, error)
	// DeleteWebhookSubscription deletes subscription id of appID, or
	// returns ENOTFOUND. Its queued events stay and are sent.
	DeleteWebhookSubscription(ctx context.Context, appID, id uint64) error

	// DueWebhookEvents returns up to limit events of appID due at now,
	// oldest first, leaving out those skip names, and the earliest NextAt
	// of the events left (zero if none).
	DueWebhookEvents(ctx context.Context, appID uint64, now time.Time, limit int, skip func(id uint64) bool) ([]*WebhookEvent, time.Time, error)
	// WebhookDone records attempt a of appID in one transaction: events
	// done (delivered, or failed for good) leave the queue; events retry
	// count one more attempt and wait until retryAt. The attempt joins
	// the log (the oldest beyond WebhookLogSize dropped). Events no longer
	// queued are skipped.
	WebhookDone(ctx context.Context, appID uint64, done, retry []uint64, a WebhookAttempt, retryAt time.Time) error
	// LogWebhookAttempt adds a to the log of appID (a test event), or
	// returns ENOTFOUND.
	LogWebhookAttempt(ctx context.Context, appID uint64, a WebhookAttempt) error
	// WebhookLog returns the log of appID, newest first.
	WebhookLog(ctx context.Context, appID uint64) ([]WebhookAttempt, error)
	// NotifyWebhooks makes the store call fn after every commit that
	// queued webhook events, whatever write queued them; nil stops it. fn
	// must return at once.
	NotifyWebhooks(fn func())
}

// SignWebhook returns HubSpot's v3 signature of a request: the base64 of
// the HMAC-SHA256, keyed with secret, of method, url, body and timestamp
// (milliseconds since the epoch, as sent in X-HubSpot-Request-Timestamp)
// one after another.
func SignWebhook(secret, method, url string, body []byte, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method))
	mac.Write([]byte(url))
	mac.Write(body)
	mac.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidateWebhookSubscription checks that s names an event type of
// WebhookEventTypes and, exactly for conversation.propertyChange, a
// property of WebhookProperties. Errors are EINVALID and name the field.
func ValidateWebhookSubscription(s *WebhookSubscription) error {
	if !slices.Contains(WebhookEventTypes, s.EventType) {
		return Errorf(EINVALID, "eventType %q is not one of %s", truncate(s.EventType, 80), strings.Join(WebhookEventTypes, ", "))
	}
	switch {
	case s.EventType == WebhookPropertyChange && s.PropertyName == "":
		return Errorf(EINVALID, "propertyName is required for %s: one of %s", WebhookPropertyChange, strings.Join(WebhookProperties, ", "))
	case s.EventType == WebhookPropertyChange && !slices.Contains(WebhookProperties, s.PropertyName):
		return Errorf(EINVALID, "propertyName %q is not one of %s", truncate(s.PropertyName, 80), strings.Join(WebhookProperties, ", "))
	case s.EventType != WebhookPropertyChange && s.PropertyName != "":
		return Errorf(EINVALID, "propertyName is only for %s", WebhookPropertyChange)
	}
	return nil
}
