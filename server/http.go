package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley"
)

// maxBodyBytes bounds every JSON request body.
const maxBodyBytes = 1 << 20

type errorBody struct {
	Status        string `json:"status"` // always "error", as HubSpot's
	Category      string `json:"category"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Code          string `json:"code"`
}

// writeError answers with Parley's error shape. Internal errors are logged
// once here, with the correlation id the caller sees.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	st := kindOf(code)
	cid := correlationID(r)
	if secs, ok := retryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if code == parley.EINTERNAL {
		s.log.Error().Err(err).Str("correlationId", cid).Str("method", r.Method).Str("path", r.URL.Path).Msg("internal error")
	}
	s.writeErrorBody(w, r, st.status, st.category, code, parley.ErrorMessage(err))
}

// writeErrorBody answers with an error in HubSpot's shape and logs it at
// debug level under its correlation id (internal errors are logged by
// writeError, with their cause).
func (s *Server) writeErrorBody(w http.ResponseWriter, r *http.Request, status int, category, code, message string) {
	cid := correlationID(r)
	if status < http.StatusInternalServerError {
		s.log.Debug().Str("correlationId", cid).Str("method", r.Method).Str("path", r.URL.Path).
			Int("status", status).Str("category", category).Str("error", message).Msg("request refused")
	}
	s.writeJSON(w, status, errorBody{
		Status: "error", Category: category, Message: message, CorrelationID: cid, Code: code,
	})
}

// writeJSON writes v as JSON with the given status.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug().Err(err).Msg("write json")
	}
}

// decodeJSON reads a JSON object from r's body into v. It answers EINVALID for
// a wrong content type, malformed JSON, trailing data, wrong field types or a
// field that v does not have (named, so that nothing a caller sends is
// silently dropped), also a field whose name matches one of v's only in
// another case ("Text" for "text"), which encoding/json would take: the
// API's names, HubSpot's among them, are exact. ETOOLARGE for a body over
// maxBodyBytes. A v that takes any field (json.RawMessage, a map) is
// checked by its caller.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if raw, ok := v.(*json.RawMessage); ok {
		return readJSON(w, r, raw)
	}
	var raw json.RawMessage
	if err := readJSON(w, r, &raw); err != nil {
		return err
	}
	if err := exactFields(raw, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	return decodeStrictBytesErr(raw, v)
}

// readJSON reads one JSON value from r's body into v, with decodeJSON's
// errors.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return parley.Errorf(parley.EINVALID, "content type must be application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, errBodyTimeout):
			return parley.Errorf(parley.EINVALID, "request body was not received within %s", bodyTimeout(r))
		case errors.As(err, &maxErr):
			return parley.Errorf(parley.ETOOLARGE, "request body is larger than %d bytes", maxBodyBytes)
		case errors.Is(err, io.EOF):
			return parley.Errorf(parley.EINVALID, "request body is empty; a JSON object is required")
		case errors.As(err, &syn):
			return parley.Errorf(parley.EINVALID, "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return parley.Errorf(parley.EINVALID, "field %q must be %s", typ.Field, typ.Type.Kind())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return parley.Errorf(parley.EINVALID, "unknown field %s", limitString(strings.TrimPrefix(err.Error(), "json: unknown field "), 80))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return parley.Errorf(parley.EINVALID, "malformed JSON: unexpected end of body")
		default:
			return parley.Errorf(parley.EINVALID, "malformed JSON")
		}
	}
	if dec.More() {
		return parley.Errorf(parley.EINVALID, "request body has data after the JSON object")
	}
	return nil
}

// errBodyTimeout is what reading a body returns once BodyTimeout has
// passed.
var errBodyTimeout = errors.New("request body timeout")

// limitBodyTime bounds the time a request's body may take to arrive
// (Config.BodyTimeout) with a read deadline on its connection, which is
// lifted once the body is read to its end. Requests without a body keep
// none: WebSockets and streams live on after their headers.
func (s *Server) limitBodyTime(next http.Handler) http.Handler {
	d := s.cfg.BodyTimeout
	if d < 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines: nothing to bound
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r.WithContext(contextWith(r.Context(), keyBodyTimeout, d)))
	})
}

// deadlineBody is a body whose connection has a read deadline: it lifts
// the deadline at the body's end and reports the deadline passing as
// errBodyTimeout.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w: %w", errBodyTimeout, err)
	}
	return n, err
}

func bodyTimeout(r *http.Request) time.Duration {
	d, _ := r.Context().Value(keyBodyTimeout).(time.Duration)
	return d
}

type ctxKey int

const (
	keyCorrelation ctxKey = iota
	keyAuth
	keyBodyTimeout
	keyRoute // *routeSlot (metrics.go)
)

func correlationID(r *http.Request) string {
	if v, ok := r.Context().Value(keyCorrelation).(string); ok {
		return v
	}
	return ""
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request a correlation id, recovers panics as
// internal errors, and logs one line per request at debug level.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cid := uuid.NewString()
		ctx, route := withRouteSlot(contextWith(r.Context(), keyCorrelation, cid))
		route.start = start
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error().Interface("panic", v).Str("correlationId", cid).Str("path", r.URL.Path).Msg("handler panic")
				if sw.status == 0 {
					s.writeError(sw, r, errors.New("panic"))
				}
			}
			took := time.Since(start)
			s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
				Dur("dur", took).Str("correlationId", cid).Msg("http")
			if !route.detached {
				s.observeRequest(route, sw.status, took)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, parley.Errorf(parley.ENOTFOUND, "not found")
	}
	return id, nil
}

func idString(id uint64) string { return strconv.FormatUint(id, 10) }

func limitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if s.ctx.Err() != nil {
			return parley.Errorf(parley.EUNAVAILABLE, "shutting down")
		}
		if s.cfg.CheckStorage != nil {
			// Up, but unable to store what it is sent: a health check
			// fails, with the 507 the writes get, and says why.
			if err := s.cfg.CheckStorage(r.Context()); err != nil {
				return err
			}
		}
		s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
		return nil
	})
}

// baseURL is the configured public URL, or this request's own origin.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
