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
// binary: every answer client.do receives is checked against it
// (checkResponse).
var spec struct {
	once sync.Once
	err  error
	doc  libopenapi.Document
	// full checks status, content type and body; head checks status and
	// content type, for HEAD requests, whose answers have no body.
	full, head validator.Validator
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
		}
	})
	if spec.err != nil {
		tb.Fatalf("openapi: %v", spec.err)
	}
}

// responseMismatch checks an answer against the OpenAPI document: its
// status must be one the operation declares, and its content type and body
// what that status declares. An answer to a request that no operation
// describes must be the fallbacks' 404 or the mux's 405. It returns what
// does not match, "" when all does.
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
	if undescribed(errs) && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) {
		return ""
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

// checkResponse fails tb when an answer does not match the OpenAPI
// document (responseMismatch).
func checkResponse(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if m := responseMismatch(tb, req, status, header, body); m != "" {
		tb.Errorf("openapi: the answer does not match the document: %s", m)
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

// fallbacks are the route patterns without a method: they serve no
// endpoint, only the API's 404 for unknown paths below them, and so are not
// in the document. TestOpenAPIRoutes checks that they answer so.
var fallbacks = []string{"/api/", "/conversations/", "/visitor-identification/"}

// TestOpenAPIRoutes holds the document to the routes the server registers:
// every route is an operation of the document and every operation a route.
func TestOpenAPIRoutes(t *testing.T) {
	loadSpec(t)
	e := newEnv(t, nil)
	routes := map[string]bool{}
	for _, p := range server.RoutePatterns(e.srv) {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			if !slices.Contains(fallbacks, p) {
				t.Errorf("route %q has no method: give it one, or list it as a fallback", p)
				continue
			}
			res := (&client{e: e, hc: e.ts.Client()}).do("GET", p+"no-such-endpoint", nil, nil)
			var body struct{ Category string }
			if res.status != 404 || json.Unmarshal(res.body, &body) != nil || body.Category != "OBJECT_NOT_FOUND" {
				t.Errorf("fallback %s: status=%d body=%s, want 404 OBJECT_NOT_FOUND", p, res.status, res.body)
			}
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

// TestOpenAPICatchesMismatches shows that the check of answers fails
// answers the document does not describe: a wrong shape, an undeclared
// status, a wrong content type, an unknown endpoint answering 200.
func TestOpenAPICatchesMismatches(t *testing.T) {
	loadSpec(t)
	req := func(method, path string) *http.Request {
		u, _ := url.Parse("http://parley.example" + path)
		return &http.Request{Method: method, URL: u, Header: http.Header{}}
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	errBody := []byte(`{"category":"OBJECT_NOT_FOUND","message":"thread not found","correlationId":"0123456789abcdef","code":"not_found"}`)
	for _, c := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		want   bool // a mismatch
	}{
		{"a good error", req("GET", "/conversations/v3/conversations/threads/7"), 404, jsonHeader, string(errBody), false},
		{"an error without its category", req("GET", "/conversations/v3/conversations/threads/7"), 404, jsonHeader, `{"message":"x","correlationId":"y"}`, true},
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
}
