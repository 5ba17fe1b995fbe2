package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/store"
)

// channelHook is a custom channel's webhook endpoint on 127.0.0.1: it
// checks each request's v3 signature on its own (checkV3) and keeps the
// OUTGOING_CHANNEL_MESSAGE_CREATED events it accepted.
type channelHook struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	status int // answer; 0: 200
	got    []channelEvent
	bad    []string
	calls  int
}

type channelEvent struct {
	Type                        string   `json:"type"`
	EventID                     uint64   `json:"eventId"`
	PortalID                    uint64   `json:"portalId"`
	AppID                       uint64   `json:"appId"`
	ChannelID                   string   `json:"channelId"`
	ChannelAccountID            string   `json:"channelAccountId"`
	AttemptNumber               int      `json:"attemptNumber"`
	ChannelIntegrationThreadIDs []string `json:"channelIntegrationThreadIds"`
	Message                     struct {
		ID                    string `json:"id"`
		Type                  string `json:"type"`
		Text                  string `json:"text"`
		Direction             string `json:"direction"`
		ChannelID             string `json:"channelId"`
		ChannelAccountID      string `json:"channelAccountId"`
		ConversationsThreadID string `json:"conversationsThreadId"`
		IntegrationThreadID   string `json:"integrationThreadId"`
		CreatedBy             string `json:"createdBy"`
		Senders               []struct {
			ActorID            string                     `json:"actorId"`
			Name               string                     `json:"name"`
			DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier"`
		} `json:"senders"`
		Recipients []struct {
			ActorID            string                     `json:"actorId"`
			Name               string                     `json:"name"`
			DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier"`
		} `json:"recipients"`
		Attachments []map[string]any `json:"attachments"`
	} `json:"message"`
}

func newChannelHook(t testing.TB) *channelHook {
	h := &channelHook{t: t}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls++
		if why := checkV3(r, body, h.secret, time.Now()); why != "" {
			h.bad = append(h.bad, why)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev channelEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad = append(h.bad, "body: "+err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if h.status != 0 {
			w.WriteHeader(h.status)
			return
		}
		h.got = append(h.got, ev)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *channelHook) url() string { return h.srv.URL + "/sms/outgoing?tenant=1" }

// wait returns the first n events accepted, failing after 10 seconds.
func (h *channelHook) wait(n int) []channelEvent {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		got, bad := append([]channelEvent(nil), h.got...), append([]string(nil), h.bad...)
		h.mu.Unlock()
		if len(bad) > 0 {
			h.t.Fatalf("channel webhook refused requests: %v", bad)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("channel webhook: %d events within 10s, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type ccMessage struct {
	ID                    string
	Text                  string
	Direction             string
	ChannelID             string
	ChannelAccountID      string
	ConversationsThreadID string
	Senders               []struct {
		ActorID            string
		DeliveryIdentifier *parley.DeliveryIdentifier
	}
	Client struct {
		ClientType       string
		IntegrationAppID uint64
	}
	Status struct{ StatusType, FailureDetails string }
}

const ccBase = "/conversations/v3/custom-channels"

var smsCaps = map[string]any{
	"deliveryIdentifierTypes": []string{"HS_PHONE_NUMBER"},
	"threadingModel":          "DELIVERY_IDENTIFIER",
	"allowOutgoingMessages":   true,
	"maxFileAttachmentCount":  1,
	"richText":                []string{},
}

// errText is the message of an error answer, its body if it has none.
func errText(res response) string {
	var e struct{ Message string }
	if json.Unmarshal(res.body, &e) == nil && e.Message != "" {
		return e.Message
	}
	return string(res.body)
}

// TestCustomChannels: an integration registers an SMS channel, connects
// an account to the inbox and publishes what a phone number sends; the
// agent's reply reaches the channel's webhook signed with the app's
// secret, with the phone number to send to; the integration reports the
// reply read. Retried publishes, another sender, hostile input and
// callers without the right are tried too.
func TestCustomChannels(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true, WebhookRetry: time.Millisecond}})
	admin := e.login("admin@example.com").bearer()
	hook := newChannelHook(t)
	hook.secret = configureHook(t, admin, 31, hook.srv.URL+"/subscriptions")

	// Registering: appId names an app with settings; HubSpot's field
	// names exactly; capabilities Parley can keep.
	good := map[string]any{"name": "SMS", "webhookUrl": hook.url(), "capabilities": smsCaps, "channelDescription": "Texts from our number"}
	for _, tc := range []struct {
		query string
		body  any
		want  string
	}{
		{"", good, "appId is required"},
		{"?appId=77", good, "appId 77 has no webhook settings"},
		{"?appId=31", map[string]any{"capabilities": smsCaps}, "name is required"},
		{"?appId=31", map[string]any{"name": "SMS"}, "capabilities is required"},
		{"?appId=31", map[string]any{"name": "SMS", "capabilities": map[string]any{"threadingModel": "BY_MOOD"}}, "capabilities.threadingModel"},
		{"?appId=31", map[string]any{"name": "SMS", "capabilities": map[string]any{"allowConversationStart": true}}, "allowConversationStart"},
		{"?appId=31", map[string]any{"name": "SMS", "capabilities": map[string]any{"deliveryIdentifierTypes": []string{"PIGEON"}}}, "deliveryIdentifierTypes"},
		{"?appId=31", map[string]any{"Name": "SMS", "capabilities": smsCaps}, `unknown field "Name"`},
		{"?appId=31", map[string]any{"name": "SMS", "capabilities": smsCaps, "webhookUrl": "ftp://x"}, "webhookUrl must be an http or https URL"},
		{"?appId=31", map[string]any{"name": "SMS\nX", "capabilities": smsCaps}, "name contains control character"},
		{"?appId=31&sort=x", good, `unknown query parameter "sort"`},
	} {
		res := admin.do("POST", ccBase+tc.query, tc.body, nil)
		if res.status != 400 || !strings.Contains(errText(res), tc.want) {
			t.Errorf("register %s %v: %d %s, want 400 naming %q", tc.query, tc.body, res.status, res.body, tc.want)
		}
	}
	var ch struct {
		ID           string
		Capabilities map[string]any
		AppID        string
	}
	admin.want(201, "POST", ccBase+"?appId=31", good).decode(t, &ch)
	chID, _ := strconv.Atoi(ch.ID)
	if !parley.IsCustomChannel(chID) || ch.AppID != "31" || ch.Capabilities["threadingModel"] != "DELIVERY_IDENTIFIER" {
		t.Fatalf("channel %+v", ch)
	}
	base := ccBase + "/" + ch.ID

	// Only admins: an agent's token, a stranger.
	agent := e.addAgent("agent@example.com", true)
	agentC := e.login(agent.Email).bearer()
	for _, p := range []string{ccBase, base, base + "/channel-accounts"} {
		if res := agentC.do("GET", p, nil, nil); res.status != 403 {
			t.Errorf("agent GET %s: %d, want 403", p, res.status)
		}
		if res := (&client{e: e, hc: http.DefaultClient}).do("GET", p, nil, nil); res.status != 401 {
			t.Errorf("stranger GET %s: %d, want 401", p, res.status)
		}
	}

	// Accounts.
	inbox := strconv.FormatUint(e.inbox.ID, 10)
	number := map[string]any{"type": "HS_PHONE_NUMBER", "value": "+4930123456"}
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"name": "Berlin"}, "inboxId is required"},
		{map[string]any{"inboxId": "999", "name": "Berlin"}, "inboxId 999 names no inbox"},
		{map[string]any{"inboxId": inbox, "name": "Berlin", "deliveryIdentifier": map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "a@b.de"}}, "not among the channel's deliveryIdentifierTypes"},
		{map[string]any{"inboxId": inbox, "name": "Berlin", "archived": true}, "archived"},
	} {
		if res := admin.do("POST", base+"/channel-accounts", tc.body, nil); res.status != 400 || !strings.Contains(errText(res), tc.want) {
			t.Errorf("account %v: %d %s, want 400 naming %q", tc.body, res.status, res.body, tc.want)
		}
	}
	var acc struct{ ID, ChannelID, InboxID string }
	admin.want(201, "POST", base+"/channel-accounts", map[string]any{"inboxId": inbox, "name": "Berlin", "deliveryIdentifier": number}).decode(t, &acc)
	if acc.ChannelID != ch.ID || acc.InboxID != inbox {
		t.Fatalf("account %+v", acc)
	}

	// Publishing what +49151… sends.
	publish := func(status int, body map[string]any) ccMessage {
		t.Helper()
		var m ccMessage
		admin.want(status, "POST", base+"/messages", body).decode(t, &m)
		return m
	}
	from := func(phone, name, text, idem string) map[string]any {
		return map[string]any{"messageDirection": "INCOMING", "channelAccountId": acc.ID, "text": text,
			"integrationIdempotencyId": idem,
			"senders":                  []any{map[string]any{"name": name, "deliveryIdentifier": map[string]any{"type": "HS_PHONE_NUMBER", "value": phone}}},
			"recipients":               []any{map[string]any{"deliveryIdentifier": number}}}
	}
	first := publish(201, from("+4915112345678", "Mia Muster", "Hallo, <b>is</b> jemand da?", "sms-1"))
	if first.Direction != "INCOMING" || first.ChannelID != ch.ID || first.Client.ClientType != "INTEGRATION" || first.Client.IntegrationAppID != 31 ||
		first.Text != "Hallo, <b>is</b> jemand da?" || first.Senders[0].DeliveryIdentifier == nil || first.Senders[0].DeliveryIdentifier.Value != "+4915112345678" {
		t.Fatalf("published %+v", first)
	}
	again := publish(200, from("+4915112345678", "Mia Muster", "Hallo, <b>is</b> jemand da?", "sms-1"))
	if again.ID != first.ID {
		t.Errorf("retried publish made message %s, want the first, %s", again.ID, first.ID)
	}
	second := publish(201, from("+4915112345678", "Mia Muster", "Noch da?", "sms-2"))
	other := publish(201, from("+4917699999999", "Otto", "Ich auch", "sms-3"))
	if second.ConversationsThreadID != first.ConversationsThreadID || other.ConversationsThreadID == first.ConversationsThreadID {
		t.Errorf("threads: first %s, second %s (same sender), other %s (another)", first.ConversationsThreadID, second.ConversationsThreadID, other.ConversationsThreadID)
	}
	const v3 = "/conversations/v3/conversations/threads/"
	tid := first.ConversationsThreadID
	var thread struct{ OriginalChannelID, OriginalChannelAccountID, InboxID, AssociatedContactID string }
	admin.want(200, "GET", v3+tid, nil).decode(t, &thread)
	if thread.OriginalChannelID != ch.ID || thread.OriginalChannelAccountID != acc.ID || thread.InboxID != inbox {
		t.Errorf("thread %+v: want channel %s, account %s, inbox %s", thread, ch.ID, acc.ID, inbox)
	}
	var msgs struct{ Results []ccMessage }
	admin.want(200, "GET", v3+tid+"/messages", nil).decode(t, &msgs)
	if len(msgs.Results) != 2 {
		t.Errorf("thread holds %d messages, want 2 (the retry stored once)", len(msgs.Results))
	}
	var contact struct{ Properties map[string]string }
	admin.want(200, "GET", "/crm/v3/objects/contacts/"+thread.AssociatedContactID+"?properties=phone,firstname", nil).decode(t, &contact)
	if contact.Properties["phone"] != "+4915112345678" || contact.Properties["firstname"] != "Mia" {
		t.Errorf("contact %v: want Mia with the phone number", contact.Properties)
	}
	// The channel is a channel of the conversations API, its account one
	// of the inbox's.
	var chans struct{ Results []struct{ ID, Name string } }
	admin.want(200, "GET", "/conversations/v3/conversations/channels", nil).decode(t, &chans)
	if n := len(chans.Results); n != 3 || chans.Results[2].ID != ch.ID || chans.Results[2].Name != "SMS" {
		t.Errorf("channels %+v", chans.Results)
	}
	admin.want(200, "GET", "/conversations/v3/conversations/channel-accounts/"+acc.ID, nil)

	// Hostile or unsupported input: a precise 400, nothing stored.
	hostile := []struct {
		change func(m map[string]any)
		want   string
	}{
		{func(m map[string]any) { m["messageDirection"] = "OUTGOING" }, "OUTGOING"},
		{func(m map[string]any) { m["attachments"] = []any{map[string]any{"type": "FILE", "fileId": "1"}} }, "attachments"},
		{func(m map[string]any) { m["inReplyToId"] = first.ID }, "inReplyToId"},
		{func(m map[string]any) { m["preResolvedContacts"] = map[string]any{} }, "preResolvedContacts"},
		{func(m map[string]any) { m["senders"] = append(m["senders"].([]any), m["senders"].([]any)[0]) }, "exactly one sender"},
		{func(m map[string]any) {
			m["senders"] = []any{map[string]any{"name": "Eve\u0000", "deliveryIdentifier": number}}
		}, "senders[0].name"},
		{func(m map[string]any) {
			m["senders"] = []any{map[string]any{"deliveryIdentifier": map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "eve@example.com"}}}
		}, "deliveryIdentifierTypes"},
		{func(m map[string]any) {
			m["recipients"] = []any{map[string]any{"deliveryIdentifier": map[string]any{"type": "HS_PHONE_NUMBER", "value": "+1"}}}
		}, "recipients[0]"},
		{func(m map[string]any) { m["channelAccountId"] = "123456" }, "channelAccountId 123456 names no account"},
		{func(m map[string]any) { m["text"] = "" }, "text"},
		{func(m map[string]any) { m["timestamp"] = time.Now().Add(time.Hour).Format(time.RFC3339) }, "future"},
		{func(m map[string]any) { m["Text"] = "x" }, `unknown field "Text"`},
		{func(m map[string]any) { m["associateWithContactId"] = "424242" }, "associateWithContactId 424242"},
	}
	for i, tc := range hostile {
		m := from("+4915112345678", "Mia", "hostile", fmt.Sprintf("bad-%d", i))
		tc.change(m)
		if res := admin.do("POST", base+"/messages", m, nil); res.status/100 != 4 || !strings.Contains(errText(res), tc.want) {
			t.Errorf("hostile %d: %d %.200s, want 4xx naming %q", i, res.status, res.body, tc.want)
		}
	}
	admin.want(200, "GET", v3+tid+"/messages", nil).decode(t, &msgs)
	if len(msgs.Results) != 2 {
		t.Errorf("after the refusals the thread holds %d messages, want 2", len(msgs.Results))
	}

	// The agent answers: the channel's webhook gets it, signed.
	var reply ccMessage
	admin.want(201, "POST", v3+tid+"/messages", map[string]any{"type": "MESSAGE", "text": "Ja, wie kann ich helfen?"}).decode(t, &reply)
	ev := hook.wait(1)[0]
	if ev.Type != parley.WebhookChannelMessage || ev.AppID != 31 || ev.ChannelID != ch.ID || ev.ChannelAccountID != acc.ID ||
		ev.Message.ID != reply.ID || ev.Message.Text != "Ja, wie kann ich helfen?" || ev.Message.Direction != "OUTGOING" ||
		ev.Message.ConversationsThreadID != tid || ev.Message.CreatedBy != e.admin.ActorID() {
		t.Fatalf("event %+v", ev)
	}
	if r := ev.Message.Recipients; len(r) != 1 || r[0].DeliveryIdentifier == nil || *r[0].DeliveryIdentifier != (parley.DeliveryIdentifier{Type: "HS_PHONE_NUMBER", Value: "+4915112345678"}) || r[0].Name != "Mia Muster" {
		t.Errorf("recipients %+v: want Mia's number", r)
	}
	if s := ev.Message.Senders; len(s) != 1 || s[0].DeliveryIdentifier == nil || s[0].DeliveryIdentifier.Value != "+4930123456" {
		t.Errorf("senders %+v: want the account's number", s)
	}
	status := func(id string) ccMessage {
		var m ccMessage
		admin.want(200, "GET", base+"/messages/"+id, nil).decode(t, &m)
		return m
	}
	waitStatus := func(id, want string) ccMessage {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m := status(id)
			if m.Status.StatusType == want {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %s: status %+v, want %s", id, m.Status, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitStatus(reply.ID, "SENT")
	admin.want(200, "PATCH", base+"/messages/"+reply.ID, map[string]any{"statusType": "READ"})
	waitStatus(reply.ID, "READ")
	for _, tc := range []struct {
		id   string
		body any
		want string
	}{
		{reply.ID, map[string]any{"statusType": "DELIVERED"}, "statusType must be SENT, FAILED or READ"},
		{reply.ID, map[string]any{"statusType": "SENT", "errorMessage": "x"}, "errorMessage is only for statusType FAILED"},
		{first.ID, map[string]any{"statusType": "READ"}, "no outgoing message"},
	} {
		if res := admin.do("PATCH", base+"/messages/"+tc.id, tc.body, nil); res.status != 400 || !strings.Contains(errText(res), tc.want) {
			t.Errorf("PATCH %v: %d %s, want 400 naming %q", tc.body, res.status, res.body, tc.want)
		}
	}
	admin.want(200, "PATCH", base+"/messages/"+reply.ID, map[string]any{"statusType": "FAILED", "errorMessage": "Number unreachable"})
	if m := waitStatus(reply.ID, "FAILED"); m.Status.FailureDetails != "Number unreachable" {
		t.Errorf("failed status %+v", m.Status)
	}
	// A message of another channel is not this channel's.
	if res := admin.do("GET", ccBase+"/2999/messages/"+reply.ID, nil, nil); res.status != 404 {
		t.Errorf("message through another channel id: %d, want 404", res.status)
	}

	// A webhook that keeps failing: after the last retry the reply is
	// FAILED, saying why.
	hook.mu.Lock()
	hook.status = 503
	hook.mu.Unlock()
	var lost ccMessage
	admin.want(201, "POST", v3+tid+"/messages", map[string]any{"type": "MESSAGE", "text": "Hallo?"}).decode(t, &lost)
	if m := waitStatus(lost.ID, "FAILED"); !strings.Contains(m.Status.FailureDetails, "Service Unavailable") {
		t.Errorf("status after the last retry: %+v", m.Status)
	}
	hook.mu.Lock()
	hook.status = 0
	hook.mu.Unlock()

	// A channel without outgoing messages takes notes only.
	admin.want(200, "PATCH", base, map[string]any{"capabilities": map[string]any{"deliveryIdentifierTypes": []string{"HS_PHONE_NUMBER"}}})
	if res := admin.do("POST", v3+tid+"/messages", map[string]any{"type": "MESSAGE", "text": "x"}, nil); res.status != 400 || !strings.Contains(errText(res), "takes no outgoing messages") {
		t.Errorf("reply on a channel without outgoing messages: %d %s", res.status, res.body)
	}
	admin.want(201, "POST", v3+tid+"/messages", map[string]any{"type": "COMMENT", "text": "internal"})

	// An agent of another inbox sees none of it.
	outsider := e.addAgent("outsider@example.com", false)
	out := e.login(outsider.Email).bearer()
	if res := out.do("GET", v3+tid, nil, nil); res.status != 404 {
		t.Errorf("outsider reads the channel's thread: %d, want 404", res.status)
	}
	var accs struct{ Results []struct{ ID string } }
	out.want(200, "GET", "/conversations/v3/conversations/channel-accounts", nil).decode(t, &accs)
	for _, a := range accs.Results {
		if a.ID == acc.ID {
			t.Errorf("outsider sees the channel's account")
		}
	}

	// The app's settings stay while it has a channel; a deleted channel
	// archives its accounts and takes no messages.
	if res := admin.do("DELETE", "/webhooks/v3/31/settings", nil, nil); res.status != 409 {
		t.Errorf("delete settings of an app with a channel: %d %s, want 409", res.status, res.body)
	}
	admin.want(204, "DELETE", base, nil)
	if res := admin.do("POST", base+"/messages", from("+4915112345678", "Mia", "still there?", "late"), nil); res.status != 404 {
		t.Errorf("publish on a deleted channel: %d, want 404", res.status)
	}
	admin.want(204, "DELETE", "/webhooks/v3/31/settings", nil)
}

// TestCustomChannelThreadIDs: under INTEGRATION_THREAD_ID the
// integration's thread id, not the sender, makes a thread; it is
// required; a thread closed by the agent reopens when its contact writes
// again, and one in the trash is over: the next message starts another.
func TestCustomChannelThreadIDs(t *testing.T) {
	e := newEnv(t, &envOptions{app: app.Config{WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	configureHook(t, admin, 5, "http://127.0.0.1:9/none")
	var ch struct{ ID string }
	admin.want(201, "POST", ccBase+"?appId=5", map[string]any{"name": "Chat app", "capabilities": map[string]any{
		"threadingModel": "INTEGRATION_THREAD_ID", "deliveryIdentifierTypes": []string{"CHANNEL_SPECIFIC_OPAQUE_ID", "HS_EMAIL_ADDRESS"}}}).decode(t, &ch)
	base := ccBase + "/" + ch.ID
	var acc struct{ ID string }
	admin.want(201, "POST", base+"/channel-accounts", map[string]any{"inboxId": e.inbox.ID, "name": "Team page"}).decode(t, &acc)
	msg := func(threadID, user, text string) map[string]any {
		return map[string]any{"messageDirection": "INCOMING", "channelAccountId": acc.ID, "text": text, "integrationThreadId": threadID,
			"senders": []any{map[string]any{"name": user, "deliveryIdentifier": map[string]any{"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": "u-" + user}}}}
	}
	if res := admin.do("POST", base+"/messages", msg("", "ann", "hi"), nil); res.status != 400 || !strings.Contains(errText(res), "integrationThreadId is required") {
		t.Errorf("no integrationThreadId: %d %s", res.status, res.body)
	}
	var a, b, c ccMessage
	admin.want(201, "POST", base+"/messages", msg("room-1", "ann", "hi")).decode(t, &a)
	admin.want(201, "POST", base+"/messages", msg("room-1", "bob", "me too")).decode(t, &b)
	admin.want(201, "POST", base+"/messages", msg("room-2", "ann", "elsewhere")).decode(t, &c)
	if a.ConversationsThreadID != b.ConversationsThreadID || a.ConversationsThreadID == c.ConversationsThreadID {
		t.Errorf("threads %s %s %s: want room-1 one thread, room-2 another", a.ConversationsThreadID, b.ConversationsThreadID, c.ConversationsThreadID)
	}
	// Closed, then ann writes again: reopened.
	const v3 = "/conversations/v3/conversations/threads/"
	admin.want(200, "PATCH", v3+a.ConversationsThreadID, map[string]any{"status": "CLOSED"})
	var d ccMessage
	admin.want(201, "POST", base+"/messages", msg("room-1", "ann", "back")).decode(t, &d)
	var th struct{ Status string }
	admin.want(200, "GET", v3+a.ConversationsThreadID, nil).decode(t, &th)
	if d.ConversationsThreadID != a.ConversationsThreadID || th.Status != "OPEN" {
		t.Errorf("after closing: message in %s, status %s; want %s reopened", d.ConversationsThreadID, th.Status, a.ConversationsThreadID)
	}
	// In the trash: the next message starts a new thread.
	admin.want(204, "DELETE", v3+a.ConversationsThreadID, nil)
	var f ccMessage
	admin.want(201, "POST", base+"/messages", msg("room-1", "ann", "anyone?")).decode(t, &f)
	if f.ConversationsThreadID == a.ConversationsThreadID {
		t.Errorf("a message after the trash joined the trashed thread")
	}
	// An email address as delivery identifier is the contact with that
	// email.
	var g ccMessage
	admin.want(201, "POST", base+"/messages", map[string]any{"messageDirection": "INCOMING", "channelAccountId": acc.ID, "text": "by mail id", "integrationThreadId": "room-3",
		"senders": []any{map[string]any{"name": "Ann Example", "deliveryIdentifier": map[string]any{"type": "HS_EMAIL_ADDRESS", "value": "Ann@Example.com"}}}}).decode(t, &g)
	var thg struct{ AssociatedContactID string }
	admin.want(200, "GET", v3+g.ConversationsThreadID, nil).decode(t, &thg)
	var contact struct{ Properties map[string]string }
	admin.want(200, "GET", "/crm/v3/objects/contacts/"+thg.AssociatedContactID+"?properties=email", nil).decode(t, &contact)
	if contact.Properties["email"] != "Ann@example.com" {
		t.Errorf("contact email %q", contact.Properties["email"])
	}
	// Its accounts take no message once archived.
	admin.want(200, "PATCH", base+"/channel-accounts/"+acc.ID, map[string]any{"archived": true})
	if res := admin.do("POST", base+"/messages", msg("room-1", "ann", "late"), nil); res.status != 409 {
		t.Errorf("publish to an archived account: %d %s, want 409", res.status, res.body)
	}
}

// TestWebhookPeriod: by the app's clock, a subscriber with
// maxConcurrentRequests 2 and period ROLLING_MINUTE gets at most two
// requests in any minute; the rest wait in the queue for the next, none
// lost. Channel replies go one request each, which makes the requests
// countable.
func TestWebhookPeriod(t *testing.T) {
	clk := newTestClock(time.Now().UTC())
	e := newEnv(t, &envOptions{storeOpts: &store.Options{NoSync: true, Now: clk.Now},
		app: app.Config{Now: clk.Now, Timer: clk.Timer, WebhookAllowPrivate: true}})
	admin := e.login("admin@example.com").bearer()
	hook := newChannelHook(t)
	hook.secret = configureHook(t, admin, 4, hook.srv.URL+"/subscriptions")
	admin.want(200, "PUT", "/webhooks/v3/4/settings", map[string]any{"targetUrl": hook.srv.URL + "/subscriptions",
		"throttling": map[string]any{"maxConcurrentRequests": 2, "period": "ROLLING_MINUTE"}})
	var ch, acc struct{ ID string }
	admin.want(201, "POST", ccBase+"?appId=4", map[string]any{"name": "SMS", "webhookUrl": hook.url(), "capabilities": smsCaps}).decode(t, &ch)
	admin.want(201, "POST", ccBase+"/"+ch.ID+"/channel-accounts", map[string]any{"inboxId": e.inbox.ID, "name": "Main"}).decode(t, &acc)
	var in ccMessage
	admin.want(201, "POST", ccBase+"/"+ch.ID+"/messages", map[string]any{"messageDirection": "INCOMING", "channelAccountId": acc.ID, "text": "hi",
		"senders": []any{map[string]any{"deliveryIdentifier": map[string]any{"type": "HS_PHONE_NUMBER", "value": "+491"}}}}).decode(t, &in)
	for i := range 5 {
		admin.want(201, "POST", "/conversations/v3/conversations/threads/"+in.ConversationsThreadID+"/messages", map[string]any{"type": "MESSAGE", "text": fmt.Sprint("reply ", i)})
	}
	calls := func() int {
		hook.mu.Lock()
		defer hook.mu.Unlock()
		return hook.calls
	}
	for _, want := range []int{2, 4, 5} {
		hook.wait(want)
		time.Sleep(50 * time.Millisecond) // time enough for a sender that does not wait
		if got := calls(); got != want {
			t.Fatalf("%d requests within the minute, want %d", got, want)
		}
		clk.Set(clk.Now().Add(61 * time.Second))
	}
	seen := map[string]bool{}
	for _, ev := range hook.wait(5) {
		seen[ev.Message.Text] = true
	}
	if len(seen) != 5 {
		t.Errorf("replies delivered: %v, want all five", seen)
	}
}
