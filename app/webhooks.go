package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Webhooks (HubSpot's Webhooks v3 shape): the subscribers' settings and
// subscriptions, checked here, and the goroutine that sends what the
// store queued.
//
// The store queues an event in the transaction of the change it reports,
// for each active subscription that asks for it, and tells the app after
// the commit (NotifyWebhooks). runWebhooks then sends each subscriber's
// due events in batches of up to parley.WebhookBatchSize, at most
// Throttling.MaxConcurrentRequests requests at once, each signed with the
// subscriber's secret. A request that times out (webhookTimeout) or is
// answered with anything but 2xx is tried again after a backoff that
// doubles from Config.WebhookRetry, with jitter, parley.WebhookRetries
// times; then its events are dropped, logged as failed. Every attempt
// goes into the subscriber's delivery log.

const (
	// webhookTimeout bounds one request: connecting, sending and reading
	// the answer, as HubSpot's 5 seconds.
	webhookTimeout = 5 * time.Second
	// webhookResponseBytes is the most of an answer that is read.
	webhookResponseBytes = 4 << 10
	// webhookErrorBytes is the most of an answer that the log keeps.
	webhookErrorBytes = 200
	// defaultWebhookRetry is the first retry's delay: doubling, ten
	// retries span about 23 hours, as HubSpot's over about a day.
	defaultWebhookRetry = 80 * time.Second
	// webhookSecretBytes is the size of a generated secret.
	webhookSecretBytes = 32
	// maxWebhookURLBytes bounds a target URL.
	maxWebhookURLBytes = 2048
)

// webhookState is the app's webhook sender: its wake-up call, its HTTP
// client and what is in flight.
type webhookState struct {
	wake   chan struct{}
	client *http.Client

	mu       sync.Mutex
	inFlight map[uint64]bool        // events being sent
	busy     map[uint64]int         // requests in flight per subscriber
	started  map[uint64][]time.Time // per subscriber with a throttling period, when its requests of the last period started
}

func (a *App) initWebhooks() {
	a.hooks.wake = make(chan struct{}, 1)
	a.hooks.inFlight = map[uint64]bool{}
	a.hooks.busy = map[uint64]int{}
	a.hooks.started = map[uint64][]time.Time{}
	a.hooks.client = newWebhookClient(a.cfg.WebhookAllowPrivate)
}

// newWebhookClient returns the HTTP client of webhooks: no proxy, no
// redirects followed, webhookTimeout per request, and unless
// allowPrivate, connections only to public addresses, checked as dialed.
func newWebhookClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: webhookTimeout}
	if !allowPrivate {
		d.Control = parley.PublicOnly
	}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   webhookTimeout,
			ResponseHeaderTimeout: webhookTimeout,
			MaxIdleConnsPerHost:   parley.DefaultWebhookConcurrency,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		Timeout: webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// startWebhooks starts the sender. Close waits for it and for the
// requests in flight.
func (a *App) startWebhooks() {
	a.db.NotifyWebhooks(a.wakeWebhooks)
	a.wg.Add(1)
	go a.runWebhooks()
}

// wakeWebhooks tells the sender that events may be due.
func (a *App) wakeWebhooks() {
	select {
	case a.hooks.wake <- struct{}{}:
	default:
	}
}

// runWebhooks sends due events until the app closes: at once when the
// store queued some or a request finished, else when the next retry is
// due by the app's clock. A restart resumes from the queue.
func (a *App) runWebhooks() {
	defer a.wg.Done()
	defer a.db.NotifyWebhooks(nil)
	for {
		next := a.dispatchWebhooks()
		var timer <-chan time.Time
		stop := func() bool { return false }
		if !next.IsZero() {
			timer, stop = a.newTimer(next)
		}
		select {
		case <-a.ctx.Done():
			stop()
			return
		case <-timer:
		case <-a.hooks.wake:
		}
		stop()
	}
}

// dispatchWebhooks starts a request for every batch that is due and may
// go now, and returns when the next retry is due (zero if none waits).
func (a *App) dispatchWebhooks() time.Time {
	ctx := a.ctx
	apps, err := a.db.AllWebhookSettings(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("read webhook subscribers")
		}
		return a.Now().Add(a.cfg.WebhookRetry)
	}
	var next time.Time
	now := a.Now()
	for _, s := range apps {
		for ctx.Err() == nil {
			a.hooks.mu.Lock()
			busy := a.hooks.busy[s.AppID]
			free := a.periodFree(s, now)
			a.hooks.mu.Unlock()
			if busy >= max(s.Throttling.MaxConcurrentRequests, 1) {
				break // a request that ends wakes the sender
			}
			if !free.IsZero() {
				if next.IsZero() || free.Before(next) {
					next = free // the period's requests are spent
				}
				break
			}
			due, later, err := a.db.DueWebhookEvents(ctx, s.AppID, now, parley.WebhookBatchSize, a.webhookInFlight)
			if err != nil {
				if ctx.Err() == nil {
					a.log.Error().Err(err).Uint64("appId", s.AppID).Msg("read webhook queue")
				}
				break
			}
			if !later.IsZero() && (next.IsZero() || later.Before(next)) {
				next = later
			}
			if len(due) == 0 {
				break
			}
			// Subscription events go in one batch; a custom channel's
			// message goes alone, to the channel's webhook URL.
			var batch []*parley.WebhookEvent
			requests := [][]*parley.WebhookEvent{}
			for _, ev := range due {
				if ev.Type == parley.WebhookChannelMessage {
					requests = append(requests, []*parley.WebhookEvent{ev})
				} else {
					batch = append(batch, ev)
				}
			}
			if batch != nil {
				requests = append([][]*parley.WebhookEvent{batch}, requests...)
			}
			a.hooks.mu.Lock()
			for i, evs := range requests {
				if i > 0 && (a.hooks.busy[s.AppID] >= max(s.Throttling.MaxConcurrentRequests, 1) || !a.periodFree(s, now).IsZero()) {
					break // the rest waits for a request that ends, or the next period
				}
				if s.Throttling.Period != "" {
					a.hooks.started[s.AppID] = append(a.hooks.started[s.AppID], now)
				}
				for _, ev := range evs {
					a.hooks.inFlight[ev.ID] = true
				}
				a.hooks.busy[s.AppID]++
				a.wg.Add(1)
				go a.deliverWebhooks(s, evs)
			}
			a.hooks.mu.Unlock()
		}
	}
	return next
}

// periodFree returns, for subscriber s with a throttling period, when it
// may start its next request if it started MaxConcurrentRequests in the
// period up to now (SECONDLY: the last second; ROLLING_MINUTE: the last
// minute), else the zero time. It forgets starts older than the period.
// The caller holds a.hooks.mu.
func (a *App) periodFree(s *parley.WebhookSettings, now time.Time) time.Time {
	var period time.Duration
	switch s.Throttling.Period {
	case parley.WebhookPeriodSecondly:
		period = time.Second
	case parley.WebhookPeriodRollingMinute:
		period = time.Minute
	default:
		delete(a.hooks.started, s.AppID)
		return time.Time{}
	}
	starts := a.hooks.started[s.AppID]
	for len(starts) > 0 && !starts[0].Add(period).After(now) {
		starts = starts[1:]
	}
	a.hooks.started[s.AppID] = starts
	if len(starts) < max(s.Throttling.MaxConcurrentRequests, 1) {
		return time.Time{}
	}
	return starts[0].Add(period)
}

func (a *App) webhookInFlight(id uint64) bool {
	a.hooks.mu.Lock()
	defer a.hooks.mu.Unlock()
	return a.hooks.inFlight[id]
}

// deliverWebhooks sends one batch of subscriber s and records the
// outcome: delivered, retrying, or given up.
func (a *App) deliverWebhooks(s *parley.WebhookSettings, evs []*parley.WebhookEvent) {
	defer a.wg.Done()
	defer func() {
		a.hooks.mu.Lock()
		for _, ev := range evs {
			delete(a.hooks.inFlight, ev.ID)
		}
		a.hooks.busy[s.AppID]--
		a.hooks.mu.Unlock()
		a.wakeWebhooks()
	}()
	attempt := evs[0].Attempts
	target := s.TargetURL
	var body []byte
	var err error
	channel := evs[0].Type == parley.WebhookChannelMessage
	if channel {
		var why string
		target, body, why, err = a.channelRequest(a.ctx, evs[0])
		if err == nil && why != "" {
			a.dropChannelMessage(s, evs[0], why)
			return
		}
	} else {
		payload := make([]webhookPayload, len(evs))
		for i, ev := range evs {
			payload[i] = newWebhookPayload(ev)
			attempt = min(attempt, ev.Attempts)
		}
		body, err = json.Marshal(payload)
	}
	if err != nil {
		if a.ctx.Err() == nil {
			a.log.Error().Err(err).Uint64("appId", s.AppID).Msg("encode webhook events")
		}
		return
	}
	att := a.postWebhook(a.ctx, s, target, body)
	if att.Status == 0 && a.ctx.Err() != nil {
		return // cut short by the shutdown: the events stay for the next start
	}
	att.Events, att.Attempt = len(evs), attempt

	var done, retry []uint64
	var retryAt time.Time
	if att.Outcome == parley.WebhookDelivered {
		for _, ev := range evs {
			done = append(done, ev.ID)
		}
	} else {
		if a.cfg.WebhookFailed != nil {
			a.cfg.WebhookFailed()
		}
		for _, ev := range evs {
			if ev.Attempts >= parley.WebhookRetries {
				done = append(done, ev.ID)
			} else {
				retry = append(retry, ev.ID)
			}
		}
		att.Outcome = parley.WebhookRetrying
		if len(retry) == 0 {
			att.Outcome = parley.WebhookFailed
		}
		retryAt = a.Now().Add(a.webhookBackoff(attempt))
		if len(done) > 0 {
			a.log.Warn().Uint64("appId", s.AppID).Int("events", len(done)).Int("status", att.Status).Str("error", att.Error).
				Msg("webhook events dropped after their last attempt")
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), mailRecordTimeout)
	defer cancel()
	if err := a.db.WebhookDone(ctx, s.AppID, done, retry, att, retryAt); err != nil {
		a.log.Error().Err(err).Uint64("appId", s.AppID).Msg("record webhook delivery")
		return
	}
	if channel && len(done) > 0 {
		d := parley.ChannelDelivery{Status: parley.DeliverySent, IfPending: true}
		if att.Outcome != parley.WebhookDelivered {
			d = parley.ChannelDelivery{Status: parley.DeliveryFailed, Error: "the channel's webhook did not take it: " + att.Error}
		}
		a.channelDelivered(ctx, evs[0], d)
	}
}

// dropChannelMessage takes event ev, an agent's reply on a custom
// channel that can no longer be sent, out of the queue of s: logged as
// failed, and the reply marked FAILED, saying why.
func (a *App) dropChannelMessage(s *parley.WebhookSettings, ev *parley.WebhookEvent, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), mailRecordTimeout)
	defer cancel()
	att := parley.WebhookAttempt{At: a.Now(), Events: 1, Attempt: ev.Attempts, Outcome: parley.WebhookFailed, Error: "not sent: " + why}
	if err := a.db.WebhookDone(ctx, s.AppID, []uint64{ev.ID}, nil, att, time.Time{}); err != nil {
		a.log.Error().Err(err).Uint64("appId", s.AppID).Msg("record webhook delivery")
		return
	}
	a.channelDelivered(ctx, ev, parley.ChannelDelivery{Status: parley.DeliveryFailed, Error: "not sent: " + why})
}

// webhookBackoff returns how long events that failed at attempt n (0:
// the first) wait: Config.WebhookRetry doubled n times, give or take a
// fifth, so that many subscribers' retries spread out.
func (a *App) webhookBackoff(n int) time.Duration {
	d := a.cfg.WebhookRetry << min(n, 20)
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

// postWebhook sends body to target (s's, or a custom channel's webhook
// URL), signed with s's secret, and returns the attempt without its event
// count: delivered on 2xx.
func (a *App) postWebhook(ctx context.Context, s *parley.WebhookSettings, target string, body []byte) parley.WebhookAttempt {
	att := parley.WebhookAttempt{At: a.Now(), Outcome: parley.WebhookRetrying}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		att.Error = "target URL: " + err.Error()
		return att
	}
	ts := strconv.FormatInt(a.Now().UnixMilli(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set("X-HubSpot-Signature-Version", "v3")
	req.Header.Set("X-HubSpot-Request-Timestamp", ts)
	req.Header.Set("X-HubSpot-Signature-v3", parley.SignWebhook(s.Secret, http.MethodPost, target, body, ts))
	start := time.Now() // latency is measured, not scheduled: the real clock
	resp, err := a.hooks.client.Do(req)
	att.Latency = time.Since(start)
	if err != nil {
		att.Error = webhookError(err)
		return att
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, webhookResponseBytes))
	att.Latency = time.Since(start)
	att.Status = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		att.Outcome = parley.WebhookDelivered
		return att
	}
	att.Error = http.StatusText(resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		att.Error = "redirect not followed"
	}
	if text := webhookAnswer(answer); text != "" {
		att.Error += ": " + text
	}
	return att
}

// webhookAnswer returns the start of an answer's body for the log, as
// text: valid UTF-8, at most webhookErrorBytes.
func webhookAnswer(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > webhookErrorBytes {
		b = b[:webhookErrorBytes]
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// webhookError says why a request failed, for the log.
func webhookError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, parley.ErrNotPublic):
		return "the target's address is loopback or private, which this Parley does not connect to (its operator can allow it with --webhook-allow-private)"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", webhookTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return limitString(err.Error(), 300)
}

// webhookPayload is one event as HubSpot sends it.
type webhookPayload struct {
	EventID          uint64  `json:"eventId"`
	SubscriptionID   uint64  `json:"subscriptionId"`
	PortalID         uint64  `json:"portalId"`
	AppID            uint64  `json:"appId"`
	OccurredAt       int64   `json:"occurredAt"`
	SubscriptionType string  `json:"subscriptionType"`
	AttemptNumber    int     `json:"attemptNumber"`
	ObjectID         uint64  `json:"objectId"`
	MessageID        string  `json:"messageId,omitempty"`
	MessageType      string  `json:"messageType,omitempty"`
	ChangeFlag       string  `json:"changeFlag,omitempty"`
	PropertyName     string  `json:"propertyName,omitempty"`
	PropertyValue    *string `json:"propertyValue,omitempty"` // "" (unassigned) is a value
}

// webhookChangeFlags are the changeFlag of each event type that has one.
var webhookChangeFlags = map[string]string{
	parley.WebhookCreation:        "CREATED",
	parley.WebhookDeletion:        "DELETED",
	parley.WebhookPrivacyDeletion: "PRIVACY_DELETED",
	parley.WebhookNewMessage:      "NEW_MESSAGE",
}

func newWebhookPayload(ev *parley.WebhookEvent) webhookPayload {
	p := webhookPayload{
		EventID: ev.ID, SubscriptionID: ev.SubscriptionID, PortalID: parley.WebhookPortalID, AppID: ev.AppID,
		OccurredAt: ev.OccurredAt.UnixMilli(), SubscriptionType: ev.Type, AttemptNumber: ev.Attempts,
		ObjectID: ev.ThreadID, MessageType: ev.MessageType, ChangeFlag: webhookChangeFlags[ev.Type],
		PropertyName: ev.PropertyName,
	}
	if ev.MessageID != 0 {
		p.MessageID = strconv.FormatUint(ev.MessageID, 10)
	}
	if ev.Type == parley.WebhookPropertyChange {
		v := ev.PropertyValue
		p.PropertyValue = &v
	}
	return p
}

// ----- settings and subscriptions -----

// WebhookSettingsInput is what PutWebhookSettings is asked to set. A nil
// field of Throttling keeps what is stored (or the default on creation).
type WebhookSettingsInput struct {
	TargetURL             string
	MaxConcurrentRequests *int
	Period                *string
	// Secret, when set, replaces the signing secret; a new subscriber
	// without one gets a generated secret.
	Secret *string
}

// PutWebhookSettings creates or replaces the settings of subscriber
// appID after checking them: a target that is an http or https URL on a
// public address (unless Config.WebhookAllowPrivate), throttling within
// bounds, a secret of 16 to 256 bytes. It returns the settings and the
// secret when it generated one (else ""). Errors are EINVALID naming the
// field.
func (a *App) PutWebhookSettings(ctx context.Context, appID uint64, in WebhookSettingsInput) (*parley.WebhookSettings, string, error) {
	if err := a.CheckWebhookTarget(ctx, in.TargetURL); err != nil {
		return nil, "", err
	}
	s := &parley.WebhookSettings{AppID: appID, TargetURL: in.TargetURL}
	old, err := a.db.WebhookSettings(ctx, appID)
	switch {
	case err == nil:
		s.Throttling = old.Throttling
	case parley.ErrorCode(err) == parley.ENOTFOUND:
		s.Throttling.MaxConcurrentRequests = parley.DefaultWebhookConcurrency
	default:
		return nil, "", err
	}
	if n := in.MaxConcurrentRequests; n != nil {
		if *n < 1 || *n > parley.WebhookMaxConcurrency {
			return nil, "", parley.Errorf(parley.EINVALID, "throttling.maxConcurrentRequests must be 1 to %d", parley.WebhookMaxConcurrency)
		}
		s.Throttling.MaxConcurrentRequests = *n
	}
	if p := in.Period; p != nil {
		if *p != "" && *p != parley.WebhookPeriodSecondly && *p != parley.WebhookPeriodRollingMinute {
			return nil, "", parley.Errorf(parley.EINVALID, "throttling.period must be %s or %s", parley.WebhookPeriodSecondly, parley.WebhookPeriodRollingMinute)
		}
		s.Throttling.Period = *p
	}
	generated := ""
	switch {
	case in.Secret != nil:
		if n := len(*in.Secret); n < 16 || n > 256 {
			return nil, "", parley.Errorf(parley.EINVALID, "clientSecret must be 16 to 256 bytes")
		}
		s.Secret = *in.Secret
	case old == nil:
		b := make([]byte, webhookSecretBytes)
		_, _ = rand.Read(b) // never fails on supported platforms
		generated = base64.RawURLEncoding.EncodeToString(b)
		s.Secret = generated
	}
	if err := a.db.PutWebhookSettings(ctx, s); err != nil {
		return nil, "", err
	}
	a.wakeWebhooks() // a changed concurrency may let more go
	return s, generated, nil
}

// CheckWebhookTarget checks a target URL: http or https with a host, no
// user information or fragment, at most 2048 bytes, and, unless
// Config.WebhookAllowPrivate, a host whose every address is public. The
// sender checks the address again at every connection.
func (a *App) CheckWebhookTarget(ctx context.Context, raw string) error {
	return a.checkHookURL(ctx, "targetUrl", raw)
}

// checkHookURL is CheckWebhookTarget for the URL in field.
func (a *App) checkHookURL(ctx context.Context, field, raw string) error {
	if err := checkURL(field, raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if a.cfg.WebhookAllowPrivate {
		return nil
	}
	host := u.Hostname()
	ips := []netip.Addr{}
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = append(ips, ip)
	} else {
		ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
		defer cancel()
		if ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil || len(ips) == 0 {
			return parley.Errorf(parley.EINVALID, "%s: the host %s cannot be resolved", field, truncateHost(host))
		}
	}
	for _, ip := range ips {
		if !parley.PublicAddr(ip) {
			return parley.Errorf(parley.EINVALID, "%s: %s is a loopback or private address, which this Parley does not send to (its operator can allow it with --webhook-allow-private)", field, truncateHost(host))
		}
	}
	return nil
}

func truncateHost(h string) string { return limitString(h, 253) }

// checkURL checks that raw, the value of field, is an http or https URL
// with a host, without user information or fragment, of at most
// maxWebhookURLBytes.
func checkURL(field, raw string) error {
	u, err := url.Parse(raw)
	if raw == "" || len(raw) > maxWebhookURLBytes || err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.User != nil || u.Fragment != "" || u.Hostname() == "" {
		return parley.Errorf(parley.EINVALID, "%s must be an http or https URL with a host, without user information or fragment, of at most %d bytes", field, maxWebhookURLBytes)
	}
	return nil
}

// CreateWebhookSubscription checks s (parley.ValidateWebhookSubscription)
// and stores it for subscriber appID.
func (a *App) CreateWebhookSubscription(ctx context.Context, appID uint64, s *parley.WebhookSubscription) error {
	s.AppID = appID
	if err := parley.ValidateWebhookSubscription(s); err != nil {
		return err
	}
	return a.db.CreateWebhookSubscription(ctx, s)
}

// UpdateWebhookSubscription changes subscription id of appID with fn and
// checks the result as CreateWebhookSubscription does.
func (a *App) UpdateWebhookSubscription(ctx context.Context, appID, id uint64, fn func(*parley.WebhookSubscription)) (*parley.WebhookSubscription, error) {
	return a.db.UpdateWebhookSubscription(ctx, appID, id, func(s *parley.WebhookSubscription) error {
		fn(s)
		return parley.ValidateWebhookSubscription(s)
	})
}

// SendTestWebhook sends subscriber appID one signed test event now, a
// conversation.creation whose eventId, subscriptionId and objectId are 0,
// logs the attempt as a test and returns it. It is sent once, never
// retried. ENOTFOUND if appID has no settings.
func (a *App) SendTestWebhook(ctx context.Context, appID uint64) (parley.WebhookAttempt, error) {
	s, err := a.db.WebhookSettings(ctx, appID)
	if err != nil {
		return parley.WebhookAttempt{}, err
	}
	body, err := json.Marshal([]webhookPayload{newWebhookPayload(&parley.WebhookEvent{AppID: appID, Type: parley.WebhookCreation, OccurredAt: a.Now()})})
	if err != nil {
		return parley.WebhookAttempt{}, err
	}
	att := a.postWebhook(ctx, s, s.TargetURL, body)
	att.Events, att.Test = 1, true
	if att.Outcome != parley.WebhookDelivered {
		att.Outcome = parley.WebhookFailed
	}
	if err := a.db.LogWebhookAttempt(context.WithoutCancel(ctx), appID, att); err != nil {
		return parley.WebhookAttempt{}, err
	}
	return att, nil
}
