package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// apiHandler adapts fn, a handler that returns its error instead of
// answering it, to an http.Handler: a non-nil error is answered with
// writeError, in the API's error shape (and logged there if internal). So a
// handler cannot forget to stop after an error, and each error exit is one
// line. fn must not have written an answer when it returns an error; once
// it has answered (a WebSocket upgrade, a stream that started), it returns
// nil. Every handler of Parley's, pages, sockets and streams included, is
// built with it.
func (s *Server) apiHandler(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// queryWidget resolves ?widgetId= to an enabled widget; anything else is
// ENOTFOUND.
func (s *Server) queryWidget(r *http.Request) (*parley.Widget, error) {
	id, err := parseID(r.URL.Query().Get("widgetId"))
	if err != nil {
		return nil, err
	}
	wd, err := s.db.Widget(r.Context(), id)
	if err != nil {
		return nil, err
	} else if !wd.Enabled {
		return nil, parley.Errorf(parley.ENOTFOUND, "widget not found")
	}
	return wd, nil
}

// ----- request parameters -----
//
// Each helper returns the parameter's typed value, or an error naming the
// parameter: ENOTFOUND for a path value (a malformed id names nothing),
// EINVALID for a query parameter.

// pathID parses the path value name ({id}, {threadId}, …) as an id;
// anything else is ENOTFOUND.
func pathID(r *http.Request, name string) (uint64, error) { return parseID(r.PathValue(name)) }

// queryID parses query parameter name as a number; 0 when it is absent.
func queryID(r *http.Request, name string) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, parley.Errorf(parley.EINVALID, "%s must be a number", name)
	}
	return id, nil
}

// queryCursor parses ?after=, a cursor from paging.next.after; 0 when it
// is absent. A cursor below min is EINVALID.
func queryCursor(r *http.Request, min uint64) (uint64, error) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < min {
		return 0, errCursor()
	}
	return n, nil
}

// errCursor is the error of an ?after= that is no cursor.
func errCursor() error {
	return parley.Errorf(parley.EINVALID, "after must be a cursor from paging.next.after")
}

// queryLimit parses ?limit= (default def, at most max).
func queryLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, parley.Errorf(parley.EINVALID, "limit must be a number from 1 to %d", max)
	}
	return n, nil
}

// queryBool parses query parameter name as true or false; nil when it is
// absent.
func queryBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "%s must be true or false", name)
	}
	return &b, nil
}

// queryTime parses query parameter name as an RFC 3339 time; the zero time
// when it is absent.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, parley.Errorf(parley.EINVALID, "%s must be an ISO-8601 time", name)
	}
	return t, nil
}
