package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/store"
)

// hookEvent is one event as a receiver reads it: HubSpot's fields.
type hookEvent struct {
	EventID          uint64  `json:"eventId"`
	SubscriptionID   uint64  `json:"subscriptionId"`
	PortalID         uint64  `json:"portalId"`
	AppID            uint64  `json:"appId"`
	OccurredAt       int64   `json:"occurredAt"`
	SubscriptionType string  `json:"subscriptionType"`
	AttemptNumber    int     `json:"attemptNumber"`
	ObjectID         uint64  `json:"objectId"`
	MessageID        string  `json:"messageId"`
	MessageType      string  `json:"messageType"`
	ChangeFlag       string  `json:"changeFlag"`
	PropertyName     string  `json:"propertyName"`
	PropertyValue    *string `json:"propertyValue"`
}

// hookReceiver is a subscriber's endpoint on 127.0.0.1. It checks every
// request as HubSpot documents v3 signatures, on its own: the base64 of
// HMAC-SHA256(secret, "POST" + the URL it was called at + body +
// X-HubSpot-Request-Timestamp), the timestamp within five minutes of its
// clock; it records the batches it accepted and what it refused.
type hookReceiver struct {
	t    testing.TB
	srv  *httptest.Server
	now  func() time.Time
	path string // of the target URL, with a query

	mu       sync.Mutex
	secret   string
	status   func(n int) int // the answer to request n (from 0); nil: 200
	hold     chan struct{}   // when set, requests wait for it to close
	requests int
	inFlight int
	maxIn    int
	batches  [][]hookEvent
	refused  []string
	started  chan struct{} // a request came in
	arrived  chan struct{} // a request was answered
}

func newHookReceiver(t testing.TB, now func() time.Time) *hookReceiver {
	rc := &hookReceiver{t: t, now: now, path: "/hooks/parley?source=test", started: make(chan struct{}, 1000), arrived: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// url is the target URL to configure.
func (rc *hookReceiver) url() string { return rc.srv.URL + rc.path }

func (rc *hookReceiver) setSecret(s string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = s
}

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := rc.requests
	rc.requests++
	rc.inFlight++
	rc.maxIn = max(rc.maxIn, rc.inFlight)
	hold, secret, status := rc.hold, rc.secret, rc.status
	rc.mu.Unlock()
	// Started once it has read hold: a test that lets go of hold when this
	// request has started does not let go of this request.
	rc.started <- struct{}{}
	defer func() {
		rc.mu.Lock()
		rc.inFlight--
		rc.mu.Unlock()
		rc.arrived <- struct{}{}
	}()
	if hold != nil {
		<-hold
	}
	refuse := checkV3(r, body, secret, rc.now())
	var batch []hookEvent
	if refuse == "" {
		if err := json.Unmarshal(body, &batch); err != nil {
			refuse = "body: " + err.Error()
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if refuse != "" {
		rc.refused = append(rc.refused, refuse)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	code := 200
	if status != nil && status(n) != 0 {
		code = status(n)
	}
	if code >= 200 && code < 300 {
		rc.batches = append(rc.batches, batch)
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "answer %d", code)
}

// checkV3 checks request r with body as HubSpot documents v3 signatures,
// on its own: the base64 of HMAC-SHA256(secret, "POST" + the URL it was
// called at + body + X-HubSpot-Request-Timestamp), the timestamp within
// five minutes of now. It returns why it refuses r, "" if it does not.
func checkV3(r *http.Request, body []byte, secret string, now time.Time) string {
	ts := r.Header.Get("X-HubSpot-Request-Timestamp")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(r.Method + "http://" + r.Host + r.URL.RequestURI() + string(body) + ts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	ms, err := strconv.ParseInt(ts, 10, 64)
	switch {
	case r.Method != "POST" || r.Header.Get("Content-Type") != "application/json":
		return "not a JSON POST"
	case r.Header.Get("X-HubSpot-Signature-Version") != "v3":
		return "signature version " + r.Header.Get("X-HubSpot-Signature-Version")
	case !hmac.Equal([]byte(r.Header.Get("X-HubSpot-Signature-v3")), []byte(want)):
		return "bad signature"
	case err != nil || now.Sub(time.UnixMilli(ms)).Abs() > 5*time.Minute:
		return "stale timestamp " + ts
	}
	return ""
}

// events returns every event of the batches accepted so far.
func (rc *hookReceiver) events() []hookEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hookEvent
	for _, b := range rc.batches {
		out = append(out, b...)
	}
	return out
}

// waitEvents waits until at least n events were accepted and returns
// them.
func (rc *hookReceiver) waitEvents(n int) []hookEvent {
	rc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if evs := rc.events(); len(evs) >= n {
			return evs
		}
		select {
		case <-rc.arrived:
		case <-deadline:
			rc.t.Fatalf("receiver: %d events within 10s, want %d; refused %v", len(rc.events()), n, rc.refusals())
		}
	}
}

func (rc *hookReceiver) refusals() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.refused)
}

// checkClean fails the test if the receiver refused any request.
func (rc *hookReceiver) checkClean() {
	rc.t.Helper()
	if r := rc.refusals(); len(r) > 0 {
		rc.t.Errorf("receiver refused %d requests: %v", len(r), r)
	}
}

// configureHook sets up subscriber appID for target through the API and
// subscribes it to types ("conversation.propertyChange/status" names a
// property); it returns the generated secret.
func configureHook(t *testing.T, c *client, appID int, target string, types ...string) string {
	t.Helper()
	var out struct {
		ClientSecret string `json:"clientSecret"`
	}
	path := fmt.Sprintf("/webhooks/v3/%d", appID)
	c.want(200, "PUT", path+"/settings", map[string]any{"targetUrl": target, "throttling": map[string]any{"maxConcurrentRequests": 10, "period": "SECONDLY"}}).decode(t, &out)
	if len(out.ClientSecret) < 32 {
		t.Fatalf("generated secret %q: want one of at least 32 characters", out.ClientSecret)
	}
	for _, typ := range types {
		body := map[string]any{"eventType": typ, "active": true}
		if e, p, ok := strings.Cut(typ, "/"); ok {
			body["eventType"], body["propertyName"] = e, p
		}
		c.want(201, "POST", path+"/subscriptions", body)
	}
	return out.ClientSecret
}

var allHookTypes = []string{
	parley.WebhookCreation, parley.WebhookDeletion, parley.WebhookPrivacyDeletion, parley.WebhookNewMessage,
	parley.WebhookPropertyChange + "/assignedTo", parley.WebhookPropertyChange + "/status", parley.WebhookPropertyChange + "/isArchived",
}

// hookLog reads subscriber appID's delivery log through the API.
func hookLog(t *testing.T, c *client, appID int) []map[string]any {
	t.Helper()
	var out struct{ Results []map[string]any }
	c.want(200, "GET", fmt.Sprintf("/webhooks/v3/%d/deliveries", appID), nil).decode(t, &out)
	return out.Results
}

// waitLog waits until subscriber appID's log holds n attempts and returns
// it.
func waitLog(t *testing.T, c *client, appID, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := hookLog(t, c, appID)
		if len(log) >= n {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("app %d: %d attempts logged within 10s, want %d", appID, len(log), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebhookEvents: every event type reaches the subscriber, signed,
// with HubSpot's fields, for changes made through the widget, the
// conversations API and the settings API (an inbox deleted, a thread
// deleted for good from the trash); a second subscriber gets only
// what it asked for.
func TestWebhookEvents(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	rc := newHookReceiver(t, time.Now)
	rc.setSecret(configureHook(t, admin, 42, rc.url(), allHookTypes...))
	other := newHookReceiver(t, time.Now)
	other.setSecret(configureHook(t, admin, 7, other.url(), parley.WebhookNewMessage))

	tid := startChat(t, e, "Hello, is anyone there?")
	const v3 = "/conversations/v3/conversations/threads/"
	admin.want(200, "PUT", v3+tid+"/assignee", map[string]string{"actorId": e.admin.ActorID()})
	var note struct{ ID string }
	admin.want(201, "POST", v3+tid+"/messages", map[string]any{"type": "COMMENT", "text": "VIP"}).decode(t, &note)
	admin.want(200, "PATCH", v3+tid, map[string]any{"status": "CLOSED"})
	admin.want(204, "DELETE", v3+tid, nil)
	admin.want(200, "PATCH", v3+tid, map[string]any{"archived": false})

	// A thread of an inbox deleted for good: privacyDeletion.
	ctx := t.Context()
	gone := &parley.Inbox{Name: "Gone", MemberIDs: []uint64{}}
	if err := e.db.CreateInbox(ctx, gone); err != nil {
		t.Fatal(err)
	}
	res, err := e.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "x", SenderID: "V-1"},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: gone.ID, ChannelID: parley.ChannelEmail, ContactID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	admin.want(204, "DELETE", fmt.Sprintf("/api/v1/inboxes/%d", gone.ID), map[string]any{"confirmName": "Gone"})
	// The first thread, trashed again and deleted for good from the trash.
	admin.want(204, "DELETE", v3+tid, nil)
	admin.want(204, "DELETE", "/api/v1/threads/"+tid, nil)

	id, _ := strconv.ParseUint(tid, 10, 64)
	gid := res.Thread.ID
	type key struct {
		typ, prop, value, msgType string
		object                    uint64
	}
	str := func(p *string) string {
		if p == nil {
			return "<none>"
		}
		return *p
	}
	want := []key{
		{parley.WebhookCreation, "", "<none>", "", id},
		{parley.WebhookNewMessage, "", "<none>", "MESSAGE", id},
		{parley.WebhookPropertyChange, "assignedTo", e.admin.ActorID(), "", id},
		{parley.WebhookNewMessage, "", "<none>", "COMMENT", id},
		{parley.WebhookPropertyChange, "status", "CLOSED", "", id},
		{parley.WebhookPropertyChange, "isArchived", "TRUE", "", id},
		{parley.WebhookDeletion, "", "<none>", "", id},
		{parley.WebhookPropertyChange, "isArchived", "FALSE", "", id},
		{parley.WebhookCreation, "", "<none>", "", gid},
		{parley.WebhookNewMessage, "", "<none>", "MESSAGE", gid},
		{parley.WebhookPrivacyDeletion, "", "<none>", "", gid},
		{parley.WebhookPropertyChange, "isArchived", "TRUE", "", id},
		{parley.WebhookDeletion, "", "<none>", "", id},
		{parley.WebhookPrivacyDeletion, "", "<none>", "", id},
	}
	evs := rc.waitEvents(len(want))
	slices.SortFunc(evs, func(a, b hookEvent) int { return int(a.EventID) - int(b.EventID) })
	var got []key
	flags := map[string]string{}
	seen := map[uint64]bool{}
	for _, ev := range evs {
		got = append(got, key{ev.SubscriptionType, ev.PropertyName, str(ev.PropertyValue), ev.MessageType, ev.ObjectID})
		flags[ev.SubscriptionType] = ev.ChangeFlag
		if ev.AppID != 42 || ev.PortalID != parley.WebhookPortalID || ev.AttemptNumber != 0 || ev.SubscriptionID == 0 || seen[ev.EventID] {
			t.Errorf("event %+v: want app 42, portal 1, attempt 0, a subscription and a new eventId", ev)
		}
		seen[ev.EventID] = true
		if d := time.Since(time.UnixMilli(ev.OccurredAt)); d < 0 || d > time.Minute {
			t.Errorf("event %d occurredAt %d is %v ago", ev.EventID, ev.OccurredAt, d)
		}
		if (ev.SubscriptionType == parley.WebhookNewMessage) != (ev.MessageID != "") {
			t.Errorf("event %+v: messageId belongs to newMessage, and only there", ev)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %v\nwant %v", got, want)
	}
	for typ, flag := range map[string]string{parley.WebhookCreation: "CREATED", parley.WebhookNewMessage: "NEW_MESSAGE", parley.WebhookDeletion: "DELETED", parley.WebhookPrivacyDeletion: "PRIVACY_DELETED", parley.WebhookPropertyChange: ""} {
		if flags[typ] != flag {
			t.Errorf("changeFlag of %s = %q, want %q", typ, flags[typ], flag)
		}
	}
	var comment string
	for _, ev := range evs {
		if ev.MessageType == "COMMENT" {
			comment = ev.MessageID
		}
	}
	if comment != note.ID {
		t.Errorf("the comment's messageId = %q, want %q (the API's id)", comment, note.ID)
	}
	// App 7 subscribed to new messages only.
	if evs := other.waitEvents(3); len(evs) != 3 || evs[0].SubscriptionType != parley.WebhookNewMessage {
		t.Errorf("app 7 got %+v, want its three new messages", evs)
	}
	rc.checkClean()
	other.checkClean()
	if log := waitLog(t, admin, 42, 1); len(log) == 0 || log[0]["outcome"] != parley.WebhookDelivered || log[0]["status"] != float64(200) {
		t.Errorf("delivery log: %v", log)
	}
}

// TestWebhookBatchesAndThrottling: events that pile up while the target
// is busy go in batches of at most 100, one request at a time for a
// subscriber with maxConcurrentRequests 1, every event exactly once.
func TestWebhookBatchesAndThrottling(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	rc := newHookReceiver(t, time.Now)
	rc.setSecret(configureHook(t, admin, 1, rc.url(), parley.WebhookNewMessage))
	admin.want(200, "PUT", "/webhooks/v3/1/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"maxConcurrentRequests": 1}})
	hold := make(chan struct{})
	rc.mu.Lock()
	rc.hold = hold
	rc.mu.Unlock()

	ctx := t.Context()
	res, err := e.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: "first", SenderID: "V-1"},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: e.inbox.ID, ChannelID: parley.ChannelEmail, ContactID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	<-rc.started // the first request is held
	const more = 249
	for i := range more {
		if _, err := e.db.AppendMessage(ctx, &parley.Message{ThreadID: res.Thread.ID, Type: parley.TypeMessage, Text: "m" + strconv.Itoa(i), SenderID: "V-1"}, parley.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rc.mu.Lock()
	rc.hold = nil
	rc.mu.Unlock()
	close(hold)
	evs := rc.waitEvents(more + 1)
	ids := map[uint64]bool{}
	for _, ev := range evs {
		if ids[ev.EventID] {
			t.Errorf("event %d delivered twice", ev.EventID)
		}
		ids[ev.EventID] = true
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.maxIn != 1 {
		t.Errorf("requests in flight at once: %d, want 1", rc.maxIn)
	}
	biggest := 0
	for _, b := range rc.batches {
		biggest = max(biggest, len(b))
	}
	if biggest != parley.WebhookBatchSize || len(rc.batches) > 5 {
		t.Errorf("%d batches, the biggest of %d events; want batches of up to %d", len(rc.batches), biggest, parley.WebhookBatchSize)
	}
}

// TestWebhookRetries: by the app's clock, without sleeping. A target that
// fails twice gets the same event again with attemptNumber 1, then 2, no
// sooner than the backoff allows; one that always fails gets the last of
// 11 attempts and the events are dropped, logged as failed; a redirect is
// not followed.
func TestWebhookRetries(t *testing.T) {
	clk := newTestClock(time.Now().UTC())
	const first = time.Second
	e := newEnv(t, &envOptions{storeOpts: &store.Options{NoSync: true, Now: clk.Now},
		app: app.Config{Now: clk.Now, Timer: clk.Timer, WebhookAllowPrivate: true, WebhookRetry: first}})
	admin := e.login("admin@example.com").bearer()
	flaky := newHookReceiver(t, clk.Now)
	flaky.status = func(n int) int { return []int{500, 302}[min(n, 1)] * btoi(n < 2) } // then 200
	flaky.setSecret(configureHook(t, admin, 1, flaky.url(), parley.WebhookCreation))
	startChat(t, e, "Hi")
	// advance waits until subscriber appID logged n attempts, checks the
	// event is not sent again before its backoff, then moves the clock
	// past it.
	advance := func(appID, n int) {
		t.Helper()
		waitLog(t, admin, appID, n)
		clk.Set(clk.Now().Add(time.Duration(float64(first<<(n-1)) * 0.75)))
		time.Sleep(20 * time.Millisecond) // time enough for a sender that does not wait
		if got := len(hookLog(t, admin, appID)); got != n {
			t.Fatalf("app %d tried again before its backoff: %d attempts", appID, got)
		}
		clk.Set(clk.Now().Add(time.Duration(float64(first<<(n-1)) * 0.5)))
	}
	advance(1, 1)
	advance(1, 2)
	evs := flaky.waitEvents(1)
	if evs[0].AttemptNumber != 2 {
		t.Errorf("delivered at attemptNumber %d, want 2", evs[0].AttemptNumber)
	}
	log := waitLog(t, admin, 1, 3)
	if len(log) != 3 || log[0]["outcome"] != "delivered" || log[1]["status"] != float64(302) || log[1]["error"] != "redirect not followed: answer 302" ||
		log[2]["status"] != float64(500) || log[2]["outcome"] != "retrying" || log[2]["attemptNumber"] != float64(0) {
		t.Errorf("log of app 1: %v", log)
	}

	dead := newHookReceiver(t, clk.Now)
	dead.status = func(int) int { return 503 }
	dead.setSecret(configureHook(t, admin, 2, dead.url(), parley.WebhookCreation))
	startChat(t, e, "Hi again")
	for n := 1; n <= parley.WebhookRetries; n++ {
		advance(2, n)
	}
	log = waitLog(t, admin, 2, parley.WebhookRetries+1)
	if len(log) != parley.WebhookRetries+1 || log[0]["outcome"] != "failed" || log[0]["attemptNumber"] != float64(parley.WebhookRetries) || log[0]["error"] != "Service Unavailable: answer 503" {
		t.Fatalf("log of app 2 (%d entries): newest %v", len(log), log[0])
	}
	if due, _, err := e.db.DueWebhookEvents(t.Context(), 2, clk.Now().Add(1000*time.Hour), 100, nil); err != nil || len(due) != 0 {
		t.Errorf("after the last attempt the queue holds %v (%v)", due, err)
	}
	dead.mu.Lock()
	requests := dead.requests
	dead.mu.Unlock()
	if requests != parley.WebhookRetries+1 {
		t.Errorf("the failing target got %d requests, want %d", requests, parley.WebhookRetries+1)
	}
	flaky.checkClean()
	dead.checkClean()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestWebhookTimeout: a target that does not answer within 5 seconds
// counts as failed and gets the event again.
func TestWebhookTimeout(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true, WebhookRetry: 10 * time.Millisecond}})
	admin := e.login("admin@example.com").bearer()
	rc := newHookReceiver(t, time.Now)
	rc.setSecret(configureHook(t, admin, 3, rc.url(), parley.WebhookCreation))
	hold := make(chan struct{})
	rc.mu.Lock()
	rc.hold = hold
	rc.mu.Unlock()
	startChat(t, e, "Hi")
	<-rc.started // the first request, held past the timeout
	rc.mu.Lock()
	rc.hold = nil
	rc.mu.Unlock()
	evs := rc.waitEvents(1)
	close(hold)
	if evs[0].AttemptNumber != 1 {
		t.Errorf("attemptNumber %d, want 1", evs[0].AttemptNumber)
	}
	log := waitLog(t, admin, 3, 2)
	if len(log) != 2 || log[0]["outcome"] != "delivered" || log[len(log)-1]["error"] != "no answer within 5s" {
		t.Errorf("log: %v", log)
	}
}

// TestWebhookRestart: events queued, tried once and not yet delivered
// when Parley stops are delivered after it starts again on the same
// bbolt file.
func TestWebhookRestart(t *testing.T) {
	dir := t.TempDir()
	rc := newHookReceiver(t, time.Now)
	rc.status = func(n int) int { return 503 * btoi(n == 0) } // 0: the default, 200
	ctx := t.Context()
	start := func() (*store.DB, *app.App) {
		db, err := store.Open(dir, &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		a := app.New(app.Config{WebhookAllowPrivate: true, WebhookRetry: 50 * time.Millisecond}, db, hub.NewPresence())
		a.Start()
		return db, a
	}
	db, a := start()
	if err := db.PutWebhookSettings(ctx, &parley.WebhookSettings{AppID: 9, TargetURL: rc.url(), Secret: "restart-secret-0123456789",
		Throttling: parley.WebhookThrottling{MaxConcurrentRequests: 1}}); err != nil {
		t.Fatal(err)
	}
	rc.setSecret("restart-secret-0123456789")
	if err := db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 9, EventType: parley.WebhookCreation, Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateThread(ctx, &parley.Thread{InboxID: 1, ChannelID: parley.ChannelEmail, ContactID: 1}); err != nil {
		t.Fatal(err)
	}
	<-rc.started // refused with 503
	deadline := time.Now().Add(5 * time.Second)
	for {
		if log, _ := db.WebhookLog(ctx, 9); len(log) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed attempt was not logged")
		}
		time.Sleep(2 * time.Millisecond)
	}
	a.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.events()); n != 0 {
		t.Fatalf("%d events delivered before the restart", n)
	}
	db, a = start()
	defer func() {
		a.Close()
		_ = db.Close()
	}()
	evs := rc.waitEvents(1)
	if evs[0].AttemptNumber != 1 || evs[0].SubscriptionType != parley.WebhookCreation {
		t.Errorf("after the restart: %+v, want the creation at attemptNumber 1", evs[0])
	}
	rc.checkClean()
}

// TestWebhookPrivateTargets: without --webhook-allow-private, targets on
// loopback, private, link-local and unspecified addresses are refused when
// configured, and a target stored anyway (as a name that came to resolve
// there would be) is refused when connecting: nothing reaches it.
func TestWebhookPrivateTargets(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com").bearer()
	rc := newHookReceiver(t, time.Now)
	for _, target := range []string{
		rc.url(), "http://localhost:9/x", "http://[::1]/", "http://10.1.2.3/", "http://192.168.0.1/",
		"https://169.254.169.254/latest/meta-data", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/",
	} {
		res := admin.do("PUT", "/webhooks/v3/5/settings", map[string]any{"targetUrl": target}, nil)
		if res.status != 400 || !strings.Contains(string(res.body), "targetUrl") || !strings.Contains(string(res.body), "--webhook-allow-private") {
			t.Errorf("PUT %s: status=%d body=%s, want 400 naming targetUrl and the option", target, res.status, res.body)
		}
	}
	if res := admin.do("GET", "/webhooks/v3/5/settings", nil, nil); res.status != 404 {
		t.Errorf("a refused target was stored: %d %s", res.status, res.body)
	}

	ctx := t.Context()
	if err := e.db.PutWebhookSettings(ctx, &parley.WebhookSettings{AppID: 5, TargetURL: rc.url(), Secret: "s-0123456789abcdef",
		Throttling: parley.WebhookThrottling{MaxConcurrentRequests: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateWebhookSubscription(ctx, &parley.WebhookSubscription{AppID: 5, EventType: parley.WebhookCreation, Active: true}); err != nil {
		t.Fatal(err)
	}
	startChat(t, e, "Hi")
	log := waitLog(t, admin, 5, 1)
	if len(log) != 1 || log[0]["outcome"] != "retrying" || !strings.Contains(fmt.Sprint(log[0]["error"]), "loopback or private") {
		t.Errorf("log: %v, want one refused attempt", log)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.requests != 0 {
		t.Errorf("the private target got %d requests", rc.requests)
	}
}

// TestWebhookAccess: only admins manage webhooks: strangers get 401,
// agents (session or token) and admin tokens without the admin scope 403,
// a cross-site write with an admin's cookie 403; an admin's console
// session and admin-scoped token work, the token also as HubSpot's
// hapikey query parameter.
func TestWebhookAccess(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	adminSession := e.login("admin@example.com")
	adminToken := adminSession.bearer()
	narrow, _ := adminSession.newToken("narrow", []string{"read", "write"})
	e.addAgent("agent@example.com", true)
	agent := e.login("agent@example.com")
	agentToken := agent.bearer()
	stranger := &client{e: e, hc: &http.Client{Timeout: 10 * time.Second}}
	rc := newHookReceiver(t, time.Now)
	configureHook(t, adminToken, 1, rc.url(), parley.WebhookCreation)
	settings := map[string]any{"targetUrl": rc.url()}

	for _, tc := range []struct {
		name         string
		c            *client
		method, path string
		body         any
		header       map[string]string
		want         int
	}{
		{"stranger reads", stranger, "GET", "/webhooks/v3/1/settings", nil, nil, 401},
		{"stranger writes", stranger, "PUT", "/webhooks/v3/1/settings", settings, nil, 401},
		{"stranger's hapikey", stranger, "GET", "/webhooks/v3/1/subscriptions?hapikey=nonsense", nil, nil, 401},
		{"agent session", agent, "GET", "/webhooks/v3/1/settings", nil, nil, 403},
		{"agent token", agentToken, "POST", "/webhooks/v3/1/subscriptions", map[string]any{"eventType": "conversation.deletion"}, nil, 403},
		{"agent token as hapikey", stranger, "GET", "/webhooks/v3/1/settings?hapikey=" + agentToken.token, nil, nil, 403},
		{"agent sends a test", agentToken, "POST", "/webhooks/v3/1/test", nil, nil, 403},
		{"agent reads the log", agentToken, "GET", "/webhooks/v3/1/deliveries", nil, nil, 403},
		{"agent lists subscribers", agent, "GET", "/api/v1/webhooks", nil, nil, 403},
		{"admin token without admin scope", narrow, "DELETE", "/webhooks/v3/1/settings", nil, nil, 403},
		{"cross-site write with the admin's cookie", adminSession, "PUT", "/webhooks/v3/1/settings", settings, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"admin session", adminSession, "GET", "/webhooks/v3/1/settings", nil, nil, 200},
		{"admin session writes", adminSession, "PUT", "/webhooks/v3/1/settings", settings, nil, 200},
		{"admin token", adminToken, "GET", "/webhooks/v3/1/subscriptions", nil, nil, 200},
		{"admin token as hapikey", stranger, "GET", "/webhooks/v3/1/subscriptions?hapikey=" + adminToken.token, nil, nil, 200},
		{"admin lists subscribers", adminSession, "GET", "/api/v1/webhooks", nil, nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := tc.c.do(tc.method, tc.path, tc.body, tc.header); res.status != tc.want {
				t.Errorf("status=%d body=%s, want %d", res.status, res.body, tc.want)
			}
		})
	}
	// Nothing the refused requests asked for happened.
	var subs struct{ Results []map[string]any }
	adminToken.want(200, "GET", "/webhooks/v3/1/subscriptions", nil).decode(t, &subs)
	if len(subs.Results) != 1 {
		t.Errorf("subscriptions: %v, want the admin's one", subs.Results)
	}
	if log := hookLog(t, adminToken, 1); len(log) != 0 {
		t.Errorf("log: %v, want no test sent", log)
	}
}

// TestWebhookInput: malformed requests are 400s naming what is wrong and
// change nothing; the secret is returned once, when generated, and never
// read back.
func TestWebhookInput(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	rc := newHookReceiver(t, time.Now)
	secret := configureHook(t, admin, 8, rc.url(), parley.WebhookCreation)
	rc.setSecret(secret)
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
		says               string
	}{
		{"unknown settings field", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "webhookUrl": "x"}, 400, `unknown field \"webhookUrl\"`},
		{"unknown throttling field", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"burst": 1}}, 400, `unknown field \"throttling.burst\"`},
		{"no target", "PUT", "/webhooks/v3/8/settings", map[string]any{"throttling": map[string]any{"maxConcurrentRequests": 2}}, 400, "targetUrl is required"},
		{"not http", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": "ftp://example.com/x"}, 400, "targetUrl must be an http or https URL"},
		{"user info", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": "https://u:p@example.com/"}, 400, "targetUrl must be"},
		{"concurrency 0", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"maxConcurrentRequests": 0}}, 400, "throttling.maxConcurrentRequests"},
		{"concurrency too high", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"maxConcurrentRequests": 1000}}, 400, "throttling.maxConcurrentRequests"},
		{"bad period", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"maxConcurrentRequests": 2, "period": "HOURLY"}}, 400, "throttling.period"},
		{"short secret", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "clientSecret": "short"}, 400, "clientSecret"},
		{"concurrency not a number", "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "throttling": map[string]any{"maxConcurrentRequests": "ten"}}, 400, "maxConcurrentRequests"},
		{"appId not a number", "GET", "/webhooks/v3/abc/settings", nil, 400, "appId must be a positive integer"},
		{"appId 0", "PUT", "/webhooks/v3/0/settings", map[string]any{"targetUrl": rc.url()}, 400, "appId must be a positive integer"},
		{"unknown event type", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "contact.creation"}, 400, `eventType \"contact.creation\" is not one of`},
		{"no event type", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"active": true}, 400, "eventType is required"},
		{"property missing", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "conversation.propertyChange"}, 400, "propertyName is required"},
		{"unknown property", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "conversation.propertyChange", "propertyName": "subject"}, 400, `propertyName \"subject\"`},
		{"property where none belongs", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "conversation.creation", "propertyName": "status"}, 400, "propertyName is only for"},
		{"unknown subscription field", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "conversation.deletion", "objectTypeId": "0-1"}, 400, `unknown field \"objectTypeId\"`},
		{"duplicate subscription", "POST", "/webhooks/v3/8/subscriptions", map[string]any{"eventType": "conversation.creation"}, 409, "already has subscription"},
		{"subscription of an unknown app", "POST", "/webhooks/v3/99/subscriptions", map[string]any{"eventType": "conversation.creation"}, 404, "no settings"},
		{"patch other fields", "PATCH", "/webhooks/v3/8/subscriptions/1", map[string]any{"active": false, "eventType": "conversation.deletion"}, 400, `unknown field \"eventType\"`},
		{"patch without active", "PATCH", "/webhooks/v3/8/subscriptions/1", map[string]any{}, 400, "active is required"},
		{"unknown subscription", "GET", "/webhooks/v3/8/subscriptions/77", nil, 404, "no subscription 77"},
		{"batch without inputs", "POST", "/webhooks/v3/8/subscriptions/batch/update", map[string]any{"inputs": []any{}}, 400, "inputs must hold"},
		{"batch with an unknown id", "POST", "/webhooks/v3/8/subscriptions/batch/update", map[string]any{"inputs": []any{map[string]any{"id": 1, "active": false}, map[string]any{"id": 77, "active": false}}}, 404, "no subscription 77"},
		{"test with a body", "POST", "/webhooks/v3/8/test", map[string]any{"eventType": "x"}, 400, `unknown field \"eventType\"`},
		{"log of an unknown app", "GET", "/webhooks/v3/99/deliveries", nil, 404, "no settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.do(tc.method, tc.path, tc.body, nil)
			if res.status != tc.want || !strings.Contains(string(res.body), tc.says) {
				t.Errorf("status=%d body=%s, want %d saying %s", res.status, res.body, tc.want, tc.says)
			}
		})
	}
	// Nothing changed: the settings, the one active subscription.
	var got map[string]any
	admin.want(200, "GET", "/webhooks/v3/8/settings", nil).decode(t, &got)
	if got["targetUrl"] != rc.url() || fmt.Sprint(got["throttling"]) != "map[maxConcurrentRequests:10 period:SECONDLY]" {
		t.Errorf("settings after refused changes: %v", got)
	}
	var subs struct{ Results []map[string]any }
	admin.want(200, "GET", "/webhooks/v3/8/subscriptions", nil).decode(t, &subs)
	if len(subs.Results) != 1 || subs.Results[0]["active"] != true {
		t.Errorf("subscriptions after refused changes: %v", subs.Results)
	}

	// The secret: never read back, kept when settings change without
	// one, replaced when given (and then not echoed).
	for _, path := range []string{"/webhooks/v3/8/settings", "/api/v1/webhooks"} {
		if res := admin.want(200, "GET", path, nil); strings.Contains(string(res.body), secret) || strings.Contains(string(res.body), "clientSecret") {
			t.Errorf("GET %s shows the secret: %s", path, res.body)
		}
	}
	res := admin.want(200, "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url()})
	if strings.Contains(string(res.body), "clientSecret") {
		t.Errorf("replacing settings returned a secret: %s", res.body)
	}
	var att map[string]any
	admin.want(200, "POST", "/webhooks/v3/8/test", nil).decode(t, &att)
	if att["outcome"] != "delivered" || att["test"] != true {
		t.Errorf("test event with the kept secret: %v", att)
	}
	const mine = "my-own-secret-of-some-length"
	res = admin.want(200, "PUT", "/webhooks/v3/8/settings", map[string]any{"targetUrl": rc.url(), "clientSecret": mine})
	if strings.Contains(string(res.body), mine) {
		t.Errorf("a given secret was echoed: %s", res.body)
	}
	admin.want(200, "POST", "/webhooks/v3/8/test", nil).decode(t, &att)
	if att["outcome"] != "failed" || att["status"] != float64(401) {
		t.Errorf("test event signed with the new secret, receiver still on the old one: %v", att)
	}
	rc.setSecret(mine)
	admin.want(200, "POST", "/webhooks/v3/8/test", nil).decode(t, &att)
	if att["outcome"] != "delivered" {
		t.Errorf("test event with the new secret: %v", att)
	}
	evs := rc.events()
	if len(evs) != 2 || evs[1].SubscriptionType != parley.WebhookCreation || evs[1].EventID != 0 || evs[1].ObjectID != 0 || evs[1].AppID != 8 {
		t.Errorf("test events: %+v", evs)
	}
	// Pausing and resuming in a batch, as HubSpot's client does.
	var batch struct {
		Status  string
		Results []map[string]any
	}
	admin.want(200, "POST", "/webhooks/v3/8/subscriptions/batch/update", map[string]any{"inputs": []any{map[string]any{"id": 1, "active": false}}}).decode(t, &batch)
	if batch.Status != "COMPLETE" || len(batch.Results) != 1 || batch.Results[0]["active"] != false {
		t.Errorf("batch update: %+v", batch)
	}
	// Deleting the subscriber takes everything along.
	admin.want(204, "DELETE", "/webhooks/v3/8/settings", nil)
	admin.want(404, "GET", "/webhooks/v3/8/subscriptions/1", nil)
	admin.want(404, "GET", "/webhooks/v3/8/deliveries", nil)
}

// TestWebhookHostileAnswer: a target that answers with a megabyte of
// invalid UTF-8 and markup costs Parley 4 KiB of reading; the log keeps
// 200 bytes of it, as valid text.
func TestWebhookHostileAnswer(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		chunk := []byte("<script>alert(1)</script>\xff\xfe")
		for range (1 << 20) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer target.Close()
	configureHook(t, admin, 4, target.URL, parley.WebhookCreation)
	var att map[string]any
	admin.want(200, "POST", "/webhooks/v3/4/test", nil).decode(t, &att)
	msg, _ := att["error"].(string)
	if att["status"] != float64(500) || !strings.HasPrefix(msg, "Internal Server Error: <script>") || len(msg) > 260 || !utf8.ValidString(msg) {
		t.Errorf("attempt %v: want status 500 and at most 200 bytes of the answer as valid text", att)
	}
}
