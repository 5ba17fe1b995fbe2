package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/parley-chat/parley/server"
)

// spec is the server's OpenAPI document, parsed once for the whole test
// binary: every exchange client.do makes is checked against it
// (checkExchange).
var spec struct {
	once sync.Once
	err  error
	doc  libopenapi.Document
	// full checks status, content type and body; head checks status and
	// content type, for HEAD requests, whose answers have no body; req
	// checks a request's parameters and body.
	full, head, req validator.Validator
	// ops are the document's operations as "METHOD /path".
	ops []string
	mu  sync.Mutex // the validators are used one request at a time
}

func loadSpec(tb testing.TB) {
	tb.Helper()
	spec.once.Do(func() {
		doc, err := libopenapi.NewDocument(server.OpenAPIDocument)
		if err != nil {
			spec.err = fmt.Errorf("parse: %w", err)
			return
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			spec.err = fmt.Errorf("build model: %w", err)
			return
		}
		for p := model.Model.Paths.PathItems.First(); p != nil; p = p.Next() {
			for m := p.Value().GetOperations().First(); m != nil; m = m.Next() {
				spec.ops = append(spec.ops, strings.ToUpper(m.Key())+" "+p.Key())
			}
		}
		var errs []error
		spec.doc = doc
		if spec.full, errs = validator.NewValidator(doc, config.WithFormatAssertions()); len(errs) > 0 {
			spec.err = fmt.Errorf("validator: %v", errs)
			return
		}
		if spec.head, errs = validator.NewValidator(doc, config.WithoutResponseBodyValidation()); len(errs) > 0 {
			spec.err = fmt.Errorf("validator: %v", errs)
			return
		}
		// Credentials are the handlers' to judge; the document names the
		// schemes.
		if spec.req, errs = validator.NewValidator(doc, config.WithFormatAssertions(), config.WithoutSecurityValidation()); len(errs) > 0 {
			spec.err = fmt.Errorf("validator: %v", errs)
		}
	})
	if spec.err != nil {
		tb.Fatalf("openapi: %v", spec.err)
	}
}

// responseMismatch checks an answer against the OpenAPI document: its
// status must be one the operation declares, and its content type and body
// what that status declares. An answer to a request that no operation
// describes must be the API's 404 or 405 in the error shape. It returns
// what does not match, "" when all does.
func responseMismatch(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) string {
	tb.Helper()
	loadSpec(tb)
	v := spec.full
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	if r.Method == http.MethodHead {
		r.Method, v = http.MethodGet, spec.head
	}
	res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: r}
	spec.mu.Lock()
	ok, errs := v.ValidateHttpResponse(r, res)
	spec.mu.Unlock()
	if ok {
		return ""
	}
	if undescribed(errs) {
		// No endpoint: the API's 404, or its 405 for a method the path
		// does not take, both in the error shape.
		var e struct{ Status, Category string }
		want := map[int]string{http.StatusNotFound: "OBJECT_NOT_FOUND", http.StatusMethodNotAllowed: "VALIDATION_ERROR"}[status]
		if want != "" && json.Unmarshal(body, &e) == nil && e.Status == "error" && e.Category == want {
			return ""
		}
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s at %q (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return fmt.Sprintf("%s %s → %d %s%s", req.Method, req.URL.RequestURI(), status, header.Get("Content-Type"), b.String())
}

// undescribed reports whether errs say that no operation of the document
// matches the request.
func undescribed(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType != helpers.PathValidation {
			return false
		}
	}
	return len(errs) > 0
}

// requestMismatch checks a request that the server accepted (a 2xx
// answer) against the OpenAPI document: what a handler takes, its query
// parameters and its body, the document must allow. It returns what does
// not match, "" when all does.
func requestMismatch(tb testing.TB, req *http.Request, body []byte) string {
	tb.Helper()
	loadSpec(tb)
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.Method == http.MethodHead {
		r.Method = http.MethodGet
	}
	spec.mu.Lock()
	ok, errs := spec.req.ValidateHttpRequest(r)
	spec.mu.Unlock()
	if ok {
		return ""
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s at %q (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return fmt.Sprintf("%s %s %s%s", req.Method, req.URL.RequestURI(), body, b.String())
}

// checkExchange fails tb when an answer does not match the OpenAPI
// document (responseMismatch), or when the server accepted a request that
// the document does not allow (requestMismatch).
func checkExchange(tb testing.TB, req *http.Request, sent []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	if m := responseMismatch(tb, req, status, header, body); m != "" {
		tb.Errorf("openapi: the answer does not match the document: %s", m)
	}
	if status >= 200 && status < 300 {
		if m := requestMismatch(tb, req, sent); m != "" {
			tb.Errorf("openapi: the server accepted a request the document does not allow: %s", m)
		}
	}
}

// TestOpenAPIDocument checks that the embedded document is valid OpenAPI
// 3.1 (against the specification's own schema), that it is served as
// itself, and that a cache revalidates it with its ETag.
func TestOpenAPIDocument(t *testing.T) {
	loadSpec(t)
	if v := spec.doc.GetVersion(); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi version %q, want 3.1.x", v)
	}
	if ok, errs := spec.full.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("\t%s at %s", f.Reason, f.FieldPath)
			}
		}
	}
	var ids []string
	var m struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Tags        []string `json:"tags"`
			Summary     string   `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(server.OpenAPIDocument, &m); err != nil {
		t.Fatal(err)
	}
	for path, ops := range m.Paths {
		for method, o := range ops {
			if o.OperationID == "" || len(o.Tags) == 0 || o.Summary == "" {
				t.Errorf("%s %s: operationId=%q tags=%v summary=%q: each operation needs all three", method, path, o.OperationID, o.Tags, o.Summary)
			}
			ids = append(ids, o.OperationID)
		}
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Errorf("operationId %q is used twice", ids[i])
		}
	}

	e := newEnv(t, nil)
	anon := &client{e: e, hc: e.ts.Client()}
	res := anon.do("GET", "/api/openapi.json", nil, nil)
	if res.status != 200 || !bytes.Equal(res.body, server.OpenAPIDocument) {
		t.Fatalf("GET /api/openapi.json: status=%d, body of %d bytes; want 200 and the document (%d bytes)", res.status, len(res.body), len(server.OpenAPIDocument))
	}
	tag := res.header.Get("ETag")
	if tag == "" || !strings.Contains(res.header.Get("Cache-Control"), "public") {
		t.Fatalf("ETag=%q Cache-Control=%q: want an ETag and a public cache", tag, res.header.Get("Cache-Control"))
	}
	if res := anon.do("GET", "/api/openapi.json", nil, map[string]string{"If-None-Match": tag}); res.status != 304 || len(res.body) != 0 {
		t.Errorf("revalidation: status=%d body=%q, want 304 and no body", res.status, res.body)
	}
	if res := anon.do("GET", "/api/openapi.json", nil, map[string]string{"If-None-Match": `"stale"`}); res.status != 200 {
		t.Errorf("stale ETag: status=%d, want 200", res.status)
	}
}

// TestOpenAPIRoutes holds the document to the routes the server registers:
// every route is an operation of the document and every operation a route,
// and an operation's query parameters are those its route reads (the
// console's pages, which take any, aside).
func TestOpenAPIRoutes(t *testing.T) {
	loadSpec(t)
	docQuery := docQueryParams(t)
	e := newEnv(t, nil)
	routes := map[string]bool{}
	for _, p := range server.RoutePatterns(e.srv) {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method: the document describes each method of a path", p)
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		if len(path) > 1 && strings.HasSuffix(path, "/") {
			// A subtree: documented with one trailing path parameter.
			i := slices.IndexFunc(spec.ops, func(op string) bool {
				rest, ok := strings.CutPrefix(op, method+" "+path+"{")
				return ok && strings.HasSuffix(rest, "}") && !strings.Contains(rest, "/")
			})
			if i < 0 {
				t.Errorf("route %q: the document has no %s %s{…}", p, method, path)
				continue
			}
			routes[spec.ops[i]] = true
			continue
		}
		routes[method+" "+path] = true
		// The document's query parameters are the ones the route reads.
		if names, _, any := server.QueryParams(p); !any {
			want := slices.Sorted(slices.Values(names))
			if want == nil {
				want = []string{}
			}
			if got, ok := docQuery[method+" "+path]; ok && !slices.Equal(got, want) {
				t.Errorf("%s: the document's query parameters are %v, the route reads %v", p, got, want)
			}
		}
	}
	for r := range routes {
		if !slices.Contains(spec.ops, r) {
			t.Errorf("route %s is missing from the document", r)
		}
	}
	for _, op := range spec.ops {
		if !routes[op] {
			t.Errorf("the document describes %s, which no route serves", op)
		}
	}
	if len(routes) < 100 {
		t.Errorf("only %d routes seen: the server's route list is incomplete", len(routes))
	}
}

// TestOpenAPICatchesMismatches shows that the checks of checkExchange fail
// what the document does not describe: answers of a wrong shape, an
// undeclared status or a wrong content type, an unknown endpoint answering
// 200; requests with an unknown field, a value out of its enum or range, a
// query parameter of the wrong type.
func TestOpenAPICatchesMismatches(t *testing.T) {
	loadSpec(t)
	req := func(method, path string) *http.Request {
		u, _ := url.Parse("http://parley.example" + path)
		return &http.Request{Method: method, URL: u, Header: http.Header{}}
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	errBody := []byte(`{"status":"error","category":"OBJECT_NOT_FOUND","message":"thread not found","correlationId":"5c1e1f2a-9d3b-4a59-8f0e-2b7c6d1e9a40","code":"not_found"}`)
	for _, c := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		want   bool // a mismatch
	}{
		{"a good error", req("GET", "/conversations/v3/conversations/threads/7"), 404, jsonHeader, string(errBody), false},
		{"an error without its category", req("GET", "/conversations/v3/conversations/threads/7"), 404, jsonHeader, `{"status":"error","message":"x","correlationId":"5c1e1f2a-9d3b-4a59-8f0e-2b7c6d1e9a40","code":"not_found"}`, true},
		{"an unknown endpoint answering 404 in another shape", req("GET", "/api/v1/nothing-here"), 404, jsonHeader, `{"error":"not found"}`, true},
		{"a thread without its id", req("GET", "/conversations/v3/conversations/threads/7"), 200, jsonHeader,
			`{"createdAt":"2026-01-02T03:04:05Z","status":"OPEN","originalChannelId":"1000","originalChannelAccountId":"1","spam":false,"inboxId":"1","associatedContactId":"2","archived":false}`, true},
		{"a status of a thread out of its enum", req("GET", "/conversations/v3/conversations/threads/7"), 200, jsonHeader,
			`{"id":"7","createdAt":"2026-01-02T03:04:05Z","status":"SNOOZED","originalChannelId":"1000","originalChannelAccountId":"1","spam":false,"inboxId":"1","associatedContactId":"2","archived":false}`, true},
		{"an undeclared status", req("GET", "/api/v1/users/me"), 418, jsonHeader, string(errBody), true},
		{"a page as plain text", req("GET", "/api/v1/users"), 200, http.Header{"Content-Type": {"text/plain"}}, `{"results":[]}`, true},
		{"an unknown endpoint answering 200", req("GET", "/api/v1/nothing-here"), 200, jsonHeader, `{}`, true},
		{"an unknown endpoint answering 404", req("GET", "/api/v1/nothing-here"), 404, jsonHeader, string(errBody), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := responseMismatch(t, c.req, c.status, c.header, []byte(c.body))
			if (got != "") != c.want {
				t.Errorf("mismatch=%q, want a mismatch: %v", got, c.want)
			}
		})
	}
	jsonReq := func(method, path, body string) (*http.Request, []byte) {
		r := req(method, path)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, []byte(body)
	}
	for _, c := range []struct {
		name         string
		method, path string
		body         string
		want         bool // a mismatch
	}{
		{"a good patch", "PATCH", "/conversations/v3/conversations/threads/7", `{"status":"CLOSED"}`, false},
		{"an unknown field", "PATCH", "/conversations/v3/conversations/threads/7", `{"status":"CLOSED","colour":"red"}`, true},
		{"a status out of its enum", "PATCH", "/conversations/v3/conversations/threads/7", `{"status":"SNOOZED"}`, true},
		{"a good list", "GET", "/conversations/v3/conversations/threads?limit=20&threadStatus=OPEN", "", false},
		{"a limit that is no number", "GET", "/conversations/v3/conversations/threads?limit=many", "", true},
		{"a limit too large", "GET", "/conversations/v3/conversations/threads?limit=501", "", true},
		{"a message without its text's type", "POST", "/conversations/v3/conversations/threads/7/messages", `{"type":"MESSAGE","text":7}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, b := jsonReq(c.method, c.path, c.body)
			got := requestMismatch(t, r, b)
			if (got != "") != c.want {
				t.Errorf("mismatch=%q, want a mismatch: %v", got, c.want)
			}
		})
	}
}

// TestOpenAPIConformance drives every family of paths the document
// describes, each with an answer that succeeds and one that fails, through
// client.do, which holds every answer and every accepted request to the
// document (checkExchange); the statuses are checked here too, so that each
// row really takes the path it names.
func TestOpenAPIConformance(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	e.addAgent("agent@example.com", true)
	agent := e.login("agent@example.com")
	anon := &client{e: e, hc: e.ts.Client()}
	tok, _ := admin.newToken("site", nil)

	tid := startChat(t, e, "hello, where is my order?")
	var th struct{ AssociatedContactID string }
	admin.want(200, "GET", "/conversations/v3/conversations/threads/"+tid, nil).decode(t, &th)
	var msgs struct{ Results []struct{ ID string } }
	admin.want(200, "GET", "/conversations/v3/conversations/threads/"+tid+"/messages", nil).decode(t, &msgs)
	if len(msgs.Results) == 0 {
		t.Fatal("the chat has no messages")
	}
	var up struct{ ID, Name, URL string }
	admin.want(201, "POST", "/api/v1/threads/"+tid+"/files?name=notes.txt", `"some notes"`).decode(t, &up)
	fileURL := strings.TrimPrefix(up.URL, e.base)

	v3 := "/conversations/v3/conversations"
	thread, contact := v3+"/threads/"+tid, "/api/v1/contacts/"+th.AssociatedContactID
	inbox, wid := fmt.Sprint(e.inbox.ID), fmt.Sprint(e.widget.ID)
	for _, r := range []struct {
		who          *client
		method, path string
		body         any
		status       int
	}{
		{anon, "GET", "/healthz", nil, 200},
		{anon, "GET", "/", nil, 200},
		{anon, "GET", "/settings/users", nil, 200},
		{anon, "GET", "/setup", nil, 404}, // set up already: the page says the link no longer works
		{anon, "GET", "/invite?token=nope", nil, 404},
		{anon, "GET", "/embed.js", nil, 200},
		{anon, "GET", "/widget/v1/chat.css", nil, 200},
		{anon, "GET", "/widget/v1/theme/0123456789abcdef.css", nil, 404},
		{anon, "GET", "/widget/v1/boot?url=https%3A%2F%2Fcustomer.example%2F", nil, 200},
		{anon, "GET", "/widget/v1/boot?url=https%3A%2F%2Fcustomer.example%2F" + strings.Repeat("a", 4100), nil, 400},
		{anon, "GET", "/widget/v1/status?widgetId=999", nil, 404},
		{anon, "POST", "/widget/v1/files?g=forged", `"x"`, 401},

		{anon, "POST", "/api/v1/setup", map[string]string{"token": "forged", "name": "Eve", "email": "eve@example.com", "password": "long enough password"}, 403},
		{anon, "POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "wrong password"}, 401},
		{anon, "GET", "/api/v1/users/me", nil, 401},
		{admin, "GET", "/api/v1/users/me", nil, 200},
		{admin, "PATCH", "/api/v1/users/me", map[string]any{"away": false, "notify": map[string]bool{"muted": true}}, 200},
		{admin, "PATCH", "/api/v1/users/me", map[string]any{"away": "yes"}, 400},
		{admin, "GET", "/api/v1/users", nil, 200},
		{admin, "GET", "/api/v1/users/999", nil, 404},
		{admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", e.admin.ID), map[string]any{"role": "agent"}, 409},
		{admin, "GET", "/api/v1/tokens", nil, 200},
		{admin, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"read"}}, 201},
		{admin, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "scopes": []string{"everything"}}, 400},
		{admin, "DELETE", "/api/v1/tokens/999", nil, 404},
		{admin, "POST", "/api/v1/invites", map[string]any{"email": "new@example.com", "inboxIds": []string{inbox}}, 201},
		{admin, "POST", "/api/v1/invites", map[string]any{"email": "admin@example.com"}, 409},
		{admin, "GET", "/api/v1/invites", nil, 200},
		{anon, "POST", "/api/v1/invites/accept", map[string]string{"token": "forged", "password": "long enough password"}, 404},
		{admin, "POST", "/api/v1/teams", map[string]any{"name": "Sales", "memberIds": []uint64{e.admin.ID}}, 201},
		{admin, "POST", "/api/v1/teams", map[string]any{"name": "sales"}, 409},
		{admin, "GET", "/api/v1/teams", nil, 200},
		{admin, "PATCH", "/api/v1/teams/999", map[string]any{"name": "None"}, 404},
		{agent, "GET", "/api/v1/teams", nil, 403},

		{admin, "GET", "/api/v1/inboxes", nil, 200},
		{admin, "GET", "/api/v1/inboxes/" + inbox, nil, 200},
		{admin, "POST", "/api/v1/inboxes", map[string]any{"name": "Billing"}, 201},
		{admin, "DELETE", "/api/v1/inboxes/" + inbox, map[string]any{"confirmName": "not its name"}, 400},
		{admin, "PUT", "/api/v1/inboxes/" + inbox + "/mailboxes/999/connection", map[string]any{"imap": map[string]any{}, "smtp": map[string]any{}}, 400},
		{admin, "GET", "/api/v1/mail", nil, 200},

		{admin, "GET", "/api/v1/widgets", nil, 200},
		{admin, "GET", "/api/v1/widgets/" + wid, nil, 200},
		{admin, "POST", "/api/v1/widgets", map[string]any{"name": "Pricing chat", "inboxId": inbox}, 201},
		{admin, "POST", "/api/v1/widgets", map[string]any{"name": "No inbox"}, 400},
		{admin, "PATCH", "/api/v1/widgets/" + wid, map[string]any{"appearance": map[string]any{"accentColor": "red"}}, 400},
		{admin, "GET", "/api/v1/widgets/" + wid + "/bot", nil, 200},
		{admin, "PUT", "/api/v1/widgets/" + wid + "/bot", map[string]any{"enabled": false, "steps": []any{}}, 200},
		{admin, "POST", "/api/v1/bots/preview", map[string]any{"input": map[string]string{"text": "hi"}}, 400},
		{agent, "GET", "/api/v1/widgets", nil, 403},
		{admin, "GET", "/api/v1/lists", nil, 200},
		{admin, "GET", "/api/v1/lists/999", nil, 404},

		{admin, "GET", v3 + "/inboxes", nil, 200},
		{admin, "GET", v3 + "/inboxes/999", nil, 404},
		{admin, "GET", v3 + "/channels", nil, 200},
		{admin, "GET", v3 + "/channel-accounts", nil, 200},
		{admin, "GET", v3 + "/channel-accounts/" + wid, nil, 200},
		{admin, "GET", v3 + "/threads?limit=10&threadStatus=OPEN&sort=-latestMessageTimestamp", nil, 200},
		{admin, "GET", v3 + "/threads?limit=0", nil, 400},
		{tok, "GET", thread, nil, 200},
		{admin, "GET", v3 + "/threads/999", nil, 404},
		{admin, "PUT", thread + "/assignee", map[string]string{"actorId": fmt.Sprintf("A-%d", e.admin.ID)}, 200},
		{admin, "PUT", thread + "/assignee", map[string]string{"actorId": "V-1"}, 400},
		{admin, "DELETE", thread + "/assignee", nil, 204},
		{admin, "GET", thread + "/messages?limit=1", nil, 200},
		{admin, "GET", thread + "/messages/" + msgs.Results[0].ID, nil, 200},
		{admin, "GET", thread + "/messages/999", nil, 404},
		{admin, "POST", thread + "/messages", map[string]any{"type": "MESSAGE", "text": "On its way.", "attachments": []any{map[string]string{"type": "FILE", "fileId": up.ID}}}, 201},
		{admin, "POST", thread + "/messages", map[string]any{"type": "COMMENT", "text": "note", "colour": "red"}, 400},
		{admin, "POST", thread + "/messages/" + msgs.Results[0].ID + "/retry", nil, 404},
		{admin, "GET", v3 + "/actors/" + fmt.Sprintf("A-%d", e.admin.ID), nil, 200},
		{admin, "GET", v3 + "/actors/A-999", nil, 404},
		{admin, "POST", v3 + "/actors/batch/read", map[string]any{"inputs": []string{fmt.Sprintf("A-%d", e.admin.ID), "V-" + th.AssociatedContactID}}, 200},
		{tok, "POST", "/visitor-identification/v3/tokens/create", map[string]string{"email": "grace@example.com", "firstName": "Grace"}, 200},
		{admin, "POST", "/visitor-identification/v3/tokens/create", map[string]string{"email": "grace@example.com"}, 403},

		{anon, "GET", fileURL, nil, 200},
		{anon, "GET", "/files/" + up.ID + "/" + up.Name, nil, 401},
		{admin, "POST", "/api/v1/threads/" + tid + "/files", `"no name"`, 400},
		{admin, "GET", "/api/v1/threads/" + tid + "/messages/" + msgs.Results[0].ID + "/html", nil, 404},
		{admin, "POST", "/api/v1/threads/" + tid + "/spam", nil, 200},
		{admin, "POST", "/api/v1/threads/" + tid + "/not-spam", nil, 200},
		{admin, "POST", "/api/v1/threads/999/block", nil, 404},
		{admin, "POST", "/api/v1/threads/" + tid + "/takeover", nil, 409},
		{admin, "GET", "/api/v1/threads/" + tid + "/transcript", nil, 409},
		{admin, "GET", "/api/v1/threads/" + tid + "/records", nil, 200},
		{admin, "DELETE", "/api/v1/threads/" + tid, nil, 409},
		{admin, "PATCH", thread, map[string]string{"status": "CLOSED"}, 200},
		{admin, "PATCH", thread, map[string]string{"status": "SNOOZED"}, 400},

		{admin, "GET", "/api/v1/search?q=order", nil, 200},
		{admin, "GET", "/api/v1/search?q=", nil, 400},
		{admin, "GET", "/api/v1/views/counts", nil, 200},
		{admin, "GET", "/api/v1/views/counts?inboxId=x", nil, 400},

		{admin, "GET", contact, nil, 200},
		{admin, "GET", "/api/v1/contacts/999", nil, 404},
		{admin, "PATCH", contact, map[string]any{"firstName": "Grace", "properties": map[string]any{"plan": "pro"}}, 200},
		{admin, "PATCH", contact, map[string]any{}, 400},
		{admin, "POST", contact + "/records", map[string]any{"kind": "ticket", "name": "Lost parcel", "threadId": tid}, 201},
		{admin, "POST", contact + "/records", map[string]any{"kind": "invoice", "name": "No"}, 400},
		{admin, "GET", "/api/v1/records/999", nil, 404},
		{admin, "POST", contact + "/engagements", map[string]any{"kind": "note", "body": "Called back."}, 201},
		{admin, "GET", contact + "/engagements", nil, 200},
		{admin, "GET", contact + "/consents", nil, 200},

		{admin, "POST", "/api/v1/snippets", map[string]string{"name": "Hello", "shortcut": "hi", "body": "Hello!"}, 201},
		{admin, "POST", "/api/v1/snippets", map[string]string{"name": "Hello again", "shortcut": "HI", "body": "Hello!"}, 409},
		{agent, "GET", "/api/v1/snippets", nil, 200},
		{admin, "GET", "/api/v1/snippets/999", nil, 404},
		{admin, "POST", "/api/v1/templates", map[string]string{"name": "Refund", "subject": "Your refund", "body": "<p>Hi {{contact.firstName}}</p>"}, 201},
		{agent, "POST", "/api/v1/templates", map[string]string{"name": "Mine", "body": "<p>x</p>"}, 403},
		{agent, "GET", "/api/v1/templates", nil, 200},
		{admin, "POST", "/api/v1/knowledge-links", map[string]string{"title": "Returns", "url": "https://help.example/returns"}, 201},
		{admin, "POST", "/api/v1/knowledge-links", map[string]string{"title": "FTP", "url": "ftp://help.example/"}, 400},
		{agent, "GET", "/api/v1/knowledge-links?q=ret", nil, 200},
		{agent, "PUT", "/api/v1/users/me/meeting-link", map[string]string{"url": "https://cal.example/agent"}, 200},
		{agent, "GET", "/api/v1/users/me/meeting-link", nil, 200},
		{agent, "PUT", "/api/v1/users/me/meeting-link", map[string]any{}, 400},

		{anon, "GET", "/metrics", nil, 404},
		{admin, "GET", "/crm/v3/objects/contacts?limit=5&properties=email,firstname", nil, 200},
		{admin, "GET", "/crm/v3/objects/contacts?limit=0", nil, 400},
		{admin, "GET", "/crm/v3/objects/contacts/" + th.AssociatedContactID, nil, 200},
		{admin, "POST", "/crm/v3/objects/contacts/search", map[string]any{"query": "visitor", "limit": 5}, 200},
		{admin, "POST", "/crm/v3/objects/companies", map[string]any{"properties": map[string]string{"name": "Acme", "domain": "acme.example"}}, 201},
		{admin, "POST", "/crm/v3/objects/companies", map[string]any{"properties": map[string]string{"colour": "red"}}, 400},
		{admin, "GET", "/crm/v4/objects/contacts/999/associations/companies", nil, 404},
		{admin, "GET", "/api/v1/webhooks", nil, 200},
		{admin, "GET", "/webhooks/v3/1/settings", nil, 404},
		{agent, "GET", "/webhooks/v3/1/settings", nil, 403},
		{admin, "DELETE", "/webhooks/v3/1/subscriptions/999", nil, 404},

		{anon, "GET", "/threads/" + tid, nil, 200},
		{anon, "GET", "/settings/chat/" + wid, nil, 200},
		{admin, "GET", v3 + "/inboxes/" + inbox, nil, 200},
		{admin, "POST", "/api/v1/inboxes/" + inbox + "/mailboxes/999/connection/test", map[string]any{"imap": map[string]any{}, "smtp": map[string]any{}}, 503},
		{admin, "DELETE", "/api/v1/inboxes/" + inbox + "/mailboxes/999/connection", nil, 404},

		{admin, "GET", "/api/v1/no-such-endpoint", nil, 404},
		{admin, "DELETE", "/api/v1/session", nil, 204},
		{admin, "GET", "/api/v1/users/me", nil, 401},
	} {
		if res := r.who.do(r.method, r.path, r.body, nil); res.status != r.status {
			t.Errorf("%s %.120s: status=%d body=%.200s, want %d", r.method, r.path, res.status, res.body, r.status)
		}
	}
}

// docQueryParams returns the query parameters of each operation of the
// document, by "METHOD /path".
func docQueryParams(tb testing.TB) map[string][]string {
	tb.Helper()
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]struct{ Parameters []param }
		Components struct{ Parameters map[string]param }
	}
	if err := json.Unmarshal(server.OpenAPIDocument, &d); err != nil {
		tb.Fatal(err)
	}
	out := map[string][]string{}
	for path, ops := range d.Paths {
		for method, o := range ops {
			names := []string{}
			for _, p := range o.Parameters {
				if ref, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					p = d.Components.Parameters[ref]
				}
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			slices.Sort(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out
}
