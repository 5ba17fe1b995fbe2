package server_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/server"
)

// auditPage is an answer of GET /api/v1/audit.
type auditPage struct {
	Results []struct {
		ID         string
		Time       time.Time
		Actor      parley.AuditActor
		Address    string
		Action     string
		ObjectType string
		ObjectID   string
		Changes    []parley.AuditChange
	}
	Paging *struct{ Next struct{ After string } }
}

func (c *client) audit(query string) (auditPage, []byte) {
	c.e.t.Helper()
	var p auditPage
	res := c.want(200, "GET", "/api/v1/audit"+query, nil)
	res.decode(c.e.t, &p)
	return p, res.body
}

// TestAuditLog walks each kind of setting: one change each through the
// API, behind a trusted proxy (so the entry holds the forwarded address)
// and without one, finds exactly one entry with the right actor, address
// and fields, and no secret anywhere in the log's bytes.
func TestAuditLog(t *testing.T) {
	for _, proxied := range []bool{false, true} {
		t.Run(fmt.Sprintf("proxied=%v", proxied), func(t *testing.T) {
			cfg := server.Config{}
			if proxied {
				cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
			e := newEnv(t, &envOptions{cfg: cfg, app: app.Config{WebhookAllowPrivate: true}})
			wantAddr, hdr := "127.0.0.1", map[string]string{}
			if proxied {
				wantAddr = "203.0.113.9"
				hdr["X-Forwarded-For"] = "198.51.100.1, 203.0.113.9"
			}
			admin := e.login("admin@example.com")
			tok := admin.bearer()
			var tokens struct{ Results []struct{ ID, Name string } }
			admin.want(200, "GET", "/api/v1/tokens", nil).decode(t, &tokens)
			tokID := tokens.Results[0].ID

			do := func(c *client, status int, method, path string, body any) response {
				t.Helper()
				res := c.do(method, path, body, hdr)
				if res.status != status {
					t.Fatalf("%s %s: status=%d %s, want %d", method, path, res.status, res.body, status)
				}
				return res
			}
			var secrets []string
			wid := fmt.Sprint(e.widget.ID)
			inbox := fmt.Sprint(e.inbox.ID)
			var newToken struct{ ID, Token string }
			var hook struct{ ClientSecret string }
			var newInbox struct{ ID string }
			var sub struct{ ID string }
			var invite struct{ ID, URL string }
			var list, tpl struct{ ID string }
			steps := []struct {
				name       string
				by         *client
				run        func()
				action     string
				objectType string
				objectID   func() string
				field      string // a field the entry names
			}{
				{"setting", admin, func() {
					do(admin, 200, "PATCH", "/api/v1/users/me", map[string]any{"language": "de"})
				}, parley.AuditSettingsUpdate, "user", func() string { return fmt.Sprint(e.admin.ID) }, "language"},
				{"user", admin, func() {
					do(admin, 200, "PATCH", fmt.Sprintf("/api/v1/users/%d", e.addAgent("bo@example.com", true).ID), map[string]any{"role": "admin"})
				}, parley.AuditUserUpdate, "user", func() string { u, _ := e.db.UserByEmail(t.Context(), "bo@example.com"); return fmt.Sprint(u.ID) }, "role"},
				{"inbox", tok, func() {
					do(tok, 201, "POST", "/api/v1/inboxes", map[string]any{"name": "Sales"}).decode(t, &newInbox)
				}, parley.AuditInboxCreate, "inbox", func() string { return newInbox.ID }, "name"},
				{"mailbox", admin, func() {
					do(admin, 200, "PATCH", "/api/v1/inboxes/"+inbox, map[string]any{"emailAddresses": []string{"help@example.com"}})
				}, parley.AuditInboxUpdate, "inbox", func() string { return inbox }, "mailboxes"},
				{"widget", admin, func() {
					do(admin, 200, "PATCH", "/api/v1/widgets/"+wid, map[string]any{"name": "Shop chat"})
				}, parley.AuditWidgetUpdate, "widget", func() string { return wid }, "name"},
				{"bot", admin, func() {
					do(admin, 200, "PUT", "/api/v1/widgets/"+wid+"/bot", testBot())
				}, parley.AuditBotUpdate, "bot", func() string { return wid }, "steps"},
				{"token", admin, func() {
					do(admin, 201, "POST", "/api/v1/tokens", map[string]any{"name": "deploy"}).decode(t, &newToken)
					secrets = append(secrets, newToken.Token)
				}, parley.AuditTokenCreate, "token", func() string { return newToken.ID }, "name"},
				{"token deleted", admin, func() {
					do(admin, 204, "DELETE", "/api/v1/tokens/"+newToken.ID, nil)
				}, parley.AuditTokenDelete, "token", func() string { return newToken.ID }, ""},
				{"webhook", tok, func() {
					do(tok, 200, "PUT", "/webhooks/v3/7/settings", map[string]any{"targetUrl": "http://127.0.0.1:9/in"}).decode(t, &hook)
					secrets = append(secrets, hook.ClientSecret)
				}, parley.AuditWebhookUpdate, "webhook", func() string { return "7" }, "targetUrl"},
				{"webhook subscription", tok, func() {
					do(tok, 201, "POST", "/webhooks/v3/7/subscriptions", map[string]any{"eventType": parley.WebhookNewMessage, "active": true}).decode(t, &sub)
				}, parley.AuditWebhookSubscriptionCreate, "webhook-subscription", func() string { return sub.ID }, "eventType"},
				{"list", admin, func() {
					do(admin, 201, "POST", "/api/v1/lists", map[string]any{"name": "VIP", "criteria": []any{map[string]any{"property": "emailDomain", "op": "is", "value": "vip.example"}}}).decode(t, &list)
				}, parley.AuditListCreate, "list", func() string { return list.ID }, "name"},
				{"template", admin, func() {
					do(admin, 201, "POST", "/api/v1/templates", map[string]any{"name": "Refund", "subject": "Your refund", "body": "Hello"}).decode(t, &tpl)
				}, parley.AuditTemplateCreate, "template", func() string { return tpl.ID }, "subject"},
				{"template changed", admin, func() {
					do(admin, 200, "PATCH", "/api/v1/templates/"+tpl.ID, map[string]any{"subject": "About your refund"})
				}, parley.AuditTemplateUpdate, "template", func() string { return tpl.ID }, "subject"},
				{"template deleted", admin, func() {
					do(admin, 204, "DELETE", "/api/v1/templates/"+tpl.ID, nil)
				}, parley.AuditTemplateDelete, "template", func() string { return tpl.ID }, ""},
				{"invite", admin, func() {
					do(admin, 201, "POST", "/api/v1/invites", map[string]any{"email": "cleo@example.com", "inboxIds": []string{inbox}}).decode(t, &invite)
					_, tok, _ := strings.Cut(invite.URL, "token=")
					secrets = append(secrets, tok)
				}, parley.AuditUserInvite, "invite", func() string { return invite.ID }, "email"},
			}
			for _, st := range steps {
				before, _ := admin.audit("?limit=500")
				st.run()
				after, _ := admin.audit("?limit=500")
				if got := len(after.Results) - len(before.Results); got != 1 {
					t.Fatalf("%s: %d new entries, want 1: %+v", st.name, got, after.Results[:max(got, 0)])
				}
				got := after.Results[0]
				wantActor := parley.AuditActor{Kind: "user", ID: e.admin.ID, Name: "admin@example.com"}
				if st.by == tok {
					id, _ := parseUint(tokID)
					wantActor = parley.AuditActor{Kind: "token", ID: id, Name: "script", UserID: e.admin.ID, UserEmail: "admin@example.com"}
				}
				if got.Actor != wantActor || got.Address != wantAddr || got.Action != st.action || got.ObjectType != st.objectType || got.ObjectID != st.objectID() {
					t.Errorf("%s: entry %+v, want actor %+v from %s, %s of %s %s", st.name, got, wantActor, wantAddr, st.action, st.objectType, st.objectID())
				}
				if st.field != "" && !hasField(got.Changes, st.field) {
					t.Errorf("%s: changes %+v do not name %s", st.name, got.Changes, st.field)
				}
			}

			// A mailbox connection that fails (here: no key to keep its
			// passwords with) changes nothing and leaves no entry, nor
			// its password.
			before, _ := admin.audit("?limit=500")
			in, _ := e.db.Inbox(t.Context(), e.inbox.ID)
			srv := map[string]any{"host": "mail.example.com", "port": 993, "tls": "tls", "username": "help", "password": "mailbox-secret-pw"}
			do(admin, 400, "PUT", fmt.Sprintf("/api/v1/inboxes/%s/mailboxes/%d/connection", inbox, in.Mailboxes[0].ID), map[string]any{"imap": srv, "smtp": srv})
			secrets = append(secrets, "mailbox-secret-pw")
			after, body := admin.audit("?limit=500")
			if len(after.Results) != len(before.Results) {
				t.Errorf("a failed change left an entry: %+v", after.Results[0])
			}
			if len(secrets) != 4 {
				t.Fatalf("secrets=%q, want the token's, the webhook's, the invitation's and the mailbox's", secrets)
			}
			for _, s := range append(secrets, "$argon2") {
				if s == "" || strings.Contains(string(body), s) {
					t.Errorf("the audit log shows a secret %q (or a step made none)", s)
				}
			}
			// The token's hash and the webhook's secret are named, without
			// values.
			var named int
			for _, r := range after.Results {
				for _, c := range r.Changes {
					if c.Field == "hash" && r.Action == parley.AuditTokenCreate || c.Field == "secret" && r.Action == parley.AuditWebhookUpdate {
						if c.Secret && c.Old == nil && c.New == nil {
							named++
						}
					}
				}
			}
			if named != 3 { // two tokens, one webhook
				t.Errorf("secret fields named %d times, want 3: %s", named, body)
			}
		})
	}
}

func hasField(cs []parley.AuditChange, f string) bool {
	for _, c := range cs {
		if c.Field == f {
			return true
		}
	}
	return false
}

// TestAuditLogAccess: only admins read the log; agents get 403, strangers
// 401, an admin's token without the admin scope 403.
func TestAuditLogAccess(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("agent@example.com", true)
	admin := e.login("admin@example.com")
	agent := e.login("agent@example.com")
	var tok struct{ Token string }
	admin.want(201, "POST", "/api/v1/tokens", map[string]any{"name": "read", "scopes": []string{"read", "write"}}).decode(t, &tok)
	narrow := &client{e: e, hc: admin.hc, token: tok.Token}
	stranger := &client{e: e, hc: &http.Client{Timeout: 10 * time.Second}}
	for _, tc := range []struct {
		name string
		c    *client
		want int
	}{
		{"admin", admin, 200},
		{"agent", agent, 403},
		{"stranger", stranger, 401},
		{"token without admin scope", narrow, 403},
		{"admin token", admin.bearer(), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := tc.c.do("GET", "/api/v1/audit", nil, nil); res.status != tc.want {
				t.Errorf("status=%d %s, want %d", res.status, res.body, tc.want)
			}
		})
	}
}

// TestAuditLogQuery: filters, paging, and a precise 400 for each bad
// parameter.
func TestAuditLogQuery(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	for i := range 5 {
		admin.want(200, "PATCH", fmt.Sprintf("/api/v1/widgets/%d", e.widget.ID), map[string]any{"name": fmt.Sprintf("Chat %d", i)})
	}
	admin.want(201, "POST", "/api/v1/inboxes", map[string]any{"name": "Sales"})
	count := func(q string) int {
		p, _ := admin.audit(q)
		return len(p.Results)
	}
	me := fmt.Sprintf("user:%d", e.admin.ID)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 7}, // the sign-in too
		{"?action=widget.", 5},
		{"?action=widget.update&objectType=widget&objectId=" + fmt.Sprint(e.widget.ID), 5},
		{"?action=inbox.create", 1},
		{"?action=session.", 1},
		{"?actor=" + me, 7},
		{"?actor=user:999", 0},
		{"?objectType=inbox", 1},
		{"?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 0},
		{"?until=" + fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli()), 0},
		{"?since=" + fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli()), 7},
	} {
		if got := count(tc.query); got != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.query, got, tc.want)
		}
	}

	// Paging: 3, 3, 1, newest first, no entry twice.
	seen := map[string]bool{}
	q, pages := "?limit=3", 0
	for {
		p, _ := admin.audit(q)
		pages++
		for _, r := range p.Results {
			if seen[r.ID] {
				t.Fatalf("entry %s twice", r.ID)
			}
			seen[r.ID] = true
		}
		if p.Paging == nil {
			break
		}
		q = "?limit=3&after=" + p.Paging.Next.After
	}
	if pages != 3 || len(seen) != 7 {
		t.Errorf("pages=%d entries=%d, want 3 and 7", pages, len(seen))
	}

	for _, tc := range []struct{ query, names string }{
		{"?actor=bob", "actor"},
		{"?actor=user:x", "actor"},
		{"?action=USER", "action"},
		{"?since=yesterday", "since"},
		{"?until=2026-13-01T00:00:00Z", "until"},
		{"?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", "until"},
		{"?limit=0", "limit"},
		{"?limit=501", "limit"},
		{"?after=abc", "after"},
		{"?objectType=" + strings.Repeat("x", 41), "objectType"},
		{"?sort=asc", "sort"},
	} {
		res := admin.do("GET", "/api/v1/audit"+tc.query, nil, nil)
		if res.status != 400 || !strings.Contains(string(res.body), tc.names) {
			t.Errorf("%s: status=%d %s, want 400 naming %s", tc.query, res.status, res.body, tc.names)
		}
	}
}

// TestAuditSignIn: a sign-in and a sign-out are entries; a stranger
// trying passwords gets one entry per address a minute, however often
// they try, and the email typed is kept only if it names a user.
func TestAuditSignIn(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	other := e.login("admin@example.com")
	other.want(204, "DELETE", "/api/v1/session", nil)
	stranger := &client{e: e, hc: &http.Client{Timeout: 10 * time.Second}}
	for i := range 6 {
		email := "admin@example.com"
		if i%2 == 1 {
			email = fmt.Sprintf("nobody%d@example.com", i)
		}
		if res := stranger.do("POST", "/api/v1/session", map[string]string{"email": email, "password": "wrong guess"}, nil); res.status != 401 && res.status != 429 {
			t.Fatalf("failed sign-in: status=%d %s", res.status, res.body)
		}
	}
	p, body := admin.audit("")
	// One entry for the burst; two if it straddled a minute.
	var actions []string
	fails := 0
	for _, r := range p.Results {
		if r.Action == parley.AuditSessionFail {
			fails++
			continue
		}
		actions = append(actions, r.Action)
	}
	want := []string{parley.AuditSessionDelete, parley.AuditSessionCreate, parley.AuditSessionCreate}
	if strings.Join(actions, " ") != strings.Join(want, " ") || fails < 1 || fails > 2 {
		t.Fatalf("actions=%v and %d failed sign-ins, want %v and 1 (2 across a minute): %s", actions, fails, want, body)
	}
	fail := p.Results[0]
	if fail.Actor.Kind != parley.AuditActorNobody || fail.Address != "127.0.0.1" || fail.ObjectID != fmt.Sprint(e.admin.ID) {
		t.Errorf("failed sign-in entry %+v", fail)
	}
	if strings.Contains(string(body), "nobody") || strings.Contains(string(body), "wrong guess") {
		t.Errorf("the log keeps what a stranger typed: %s", body)
	}
}
