package server

import (
	"bytes"
	"context"
	"io"
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

// queryTime parses query parameter name as an RFC 3339 time, to the
// millisecond (the precision of the times Parley answers with); the zero
// time when it is absent. A bound "after" it covers the whole millisecond
// (queryTimeAfter).
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, parley.Errorf(parley.EINVALID, "%s must be an ISO-8601 time", name)
	}
	return t.Truncate(time.Millisecond), nil
}

// queryTimeAfter is queryTime for a lower bound: its last nanosecond, so
// that "after" a time an answer showed leaves out what happened within
// that millisecond.
func queryTimeAfter(r *http.Request, name string) (time.Time, error) {
	t, err := queryTime(r, name)
	if err != nil || t.IsZero() {
		return t, err
	}
	return t.Add(time.Millisecond - time.Nanosecond), nil
}

// noBody refuses a request to an endpoint that reads no body if it carries
// one with anything in it (named, as decodeJSON names an unknown field), so
// that nothing sent is silently dropped; an empty body or {} is fine.
func noBody(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return parley.Errorf(parley.EINVALID, "request body could not be read")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	var none struct{}
	return decodeJSON(w, r, &none)
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

// ----- libraries -----

// authoredJSON is who wrote an entry of a library and when, in the API.
type authoredJSON struct {
	CreatedBy string    `json:"createdBy,omitempty"` // actor id
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func toAuthoredJSON(a parley.Authored) authoredJSON {
	return authoredJSON{CreatedBy: userActorID(a.CreatedBy), CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}

// libraryRequest is the body of POST and PATCH on a library's entry:
// PATCH changes the fields given.
type libraryRequest[T any] interface {
	// apply sets the fields given on v and validates the result.
	apply(v *T) error
	// empty returns EINVALID, naming the fields, if the request gives none.
	empty() error
}

// library serves a library of entries that the team shares and users
// write (snippets, knowledge links), T as J in the API, written with
// requests R: list, create, get, change and delete, each the same way.
type library[T, J any, R libraryRequest[T]] struct {
	s        *Server
	toJSON   func(*T) J
	authored func(*T) *parley.Authored
	// mayEdit, if set, refuses to let u change or delete v; else whoever
	// the route lets through may.
	mayEdit func(u *parley.User, v *T) error
	// filter, if set, makes from the request what a listing keeps.
	filter func(r *http.Request) (func(*T) bool, error)

	all    func(ctx context.Context) ([]*T, error)
	insert func(ctx context.Context, v *T) error
	get    func(ctx context.Context, id uint64) (*T, error)
	update func(ctx context.Context, id uint64, fn func(*T) error) (*T, error)
	delete func(ctx context.Context, id uint64) error
}

// listHandler answers with the library's entries (those filter keeps).
func (lb library[T, J, R]) listHandler() http.Handler {
	return lb.s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		keep := func(*T) bool { return true }
		if lb.filter != nil {
			var err error
			if keep, err = lb.filter(r); err != nil {
				return err
			}
		}
		all, err := lb.all(r.Context())
		if err != nil {
			return err
		}
		out := make([]J, 0, len(all))
		for _, v := range all {
			if keep(v) {
				out = append(out, lb.toJSON(v))
			}
		}
		lb.s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

// createHandler makes an entry, written by the caller.
func (lb library[T, J, R]) createHandler() http.Handler {
	return lb.s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req R
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		v := new(T)
		*lb.authored(v) = parley.Authored{CreatedBy: userFrom(r.Context()).ID, CreatedAt: lb.s.now()}
		if err := req.apply(v); err != nil {
			return err
		}
		if err := lb.insert(r.Context(), v); err != nil {
			return err
		}
		lb.s.writeJSON(w, http.StatusCreated, lb.toJSON(v))
		return nil
	})
}

// readHandler answers with entry {id}.
func (lb library[T, J, R]) readHandler() http.Handler {
	return lb.s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := lb.get(r.Context(), id)
		if err != nil {
			return err
		}
		lb.s.writeJSON(w, http.StatusOK, lb.toJSON(v))
		return nil
	})
}

// changeHandler sets the fields the request gives on entry {id}.
func (lb library[T, J, R]) changeHandler() http.Handler {
	return lb.s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req R
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if err := req.empty(); err != nil {
			return err
		}
		u := userFrom(r.Context())
		v, err := lb.update(r.Context(), id, func(v *T) error {
			if lb.mayEdit != nil {
				if err := lb.mayEdit(u, v); err != nil {
					return err
				}
			}
			return req.apply(v)
		})
		if err != nil {
			return err
		}
		lb.s.writeJSON(w, http.StatusOK, lb.toJSON(v))
		return nil
	})
}

// removeHandler deletes entry {id}.
func (lb library[T, J, R]) removeHandler() http.Handler {
	return lb.s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if lb.mayEdit != nil {
			v, err := lb.get(r.Context(), id)
			if err != nil {
				return err
			}
			if err := lb.mayEdit(userFrom(r.Context()), v); err != nil {
				return err
			}
		}
		if err := lb.delete(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
