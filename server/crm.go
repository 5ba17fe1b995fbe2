package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// What the CRM objects of HubSpot's CRM v3 shape share (docs/api.md, "CRM
// objects"): the object, its properties, query parameters, and search.

// crmObjectJSON is a contact or a company as HubSpot's CRM v3 writes it:
// properties are strings or null under HubSpot's property names.
type crmObjectJSON struct {
	ID           string                      `json:"id"`
	Properties   map[string]*string          `json:"properties"`
	CreatedAt    time.Time                   `json:"createdAt"`
	UpdatedAt    time.Time                   `json:"updatedAt"`
	Archived     bool                        `json:"archived"`
	Associations map[string]crmAssociatedIDs `json:"associations,omitempty"`
}

// crmAssociatedIDs is one type of an object's associations in v3's shape.
type crmAssociatedIDs struct {
	Results []crmAssociatedID `json:"results"`
}

type crmAssociatedID struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// crmTime is a time as HubSpot writes it in a property: UTC with
// milliseconds.
func crmTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// crmKind describes one CRM object type: its HubSpot property names, which
// of them a read returns when none are asked for, and how the kind's
// properties of an object are read.
type crmKind[T any] struct {
	name     string   // "contact": for messages
	known    []string // properties every object of the kind has (null when empty)
	defaults []string // returned when properties= is absent
	// props returns the object's properties, known ones with "" for none,
	// custom ones only where set.
	props func(v *T) map[string]string
	// searchable are the properties query= matches.
	searchable []string
	// numeric and dates name the properties that GT, LT and the like
	// compare as numbers or as times.
	numeric, dates []string
}

// object returns v in the API with the properties want asks for (none: the
// kind's defaults): a known property without a value is null, an unknown
// one is left out, as HubSpot does.
func (k crmKind[T]) object(v *T, id uint64, created, updated time.Time, want []string) crmObjectJSON {
	if len(want) == 0 {
		want = k.defaults
	}
	all := k.props(v)
	out := crmObjectJSON{ID: idString(id), Properties: map[string]*string{}, CreatedAt: created.UTC(), UpdatedAt: updated.UTC()}
	for _, p := range want {
		val, ok := all[p]
		switch {
		case ok && val != "":
			out.Properties[p] = ptr(val)
		case ok || slices.Contains(k.known, p):
			out.Properties[p] = nil
		}
	}
	return out
}

// ----- query parameters -----

// listParam returns the values of a parameter given comma separated,
// repeated or both, as HubSpot reads properties= and associations=, with
// empty items dropped; nil when it is absent.
func listParam(r *http.Request, name string) []string {
	vs, ok := r.URL.Query()[name]
	if !ok {
		return nil
	}
	out := []string{}
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// crmReadParams are the query parameters of reading CRM objects.
type crmReadParams struct {
	properties   []string // nil: the defaults
	associations bool     // associations=companies (or contacts, for companies)
	archived     bool
}

// readParams parses properties=, associations= (only assoc, the one
// association type Parley keeps for the kind) and archived=.
func readParams(r *http.Request, assoc string) (crmReadParams, error) {
	var p crmReadParams
	p.properties = listParam(r, "properties")
	for _, a := range listParam(r, "associations") {
		if normalObjectType(a) != assoc {
			return p, parley.Errorf(parley.EINVALID, "associations: %q is not supported; the only association type is %s", limitString(a, 60), assoc)
		}
		p.associations = true
	}
	archived, err := queryBool(r, "archived")
	if err != nil {
		return p, err
	}
	p.archived = archived != nil && *archived
	return p, nil
}

// normalObjectType returns HubSpot's name of an object type as a path or
// parameter gives it ("contacts", "contact", "0-1" → "contacts";
// "companies", "company", "0-2" → "companies"), or "" for any other.
func normalObjectType(s string) string {
	switch strings.ToLower(s) {
	case "contacts", "contact", "0-1":
		return "contacts"
	case "companies", "company", "0-2":
		return "companies"
	}
	return ""
}

// ----- search -----

// Limits of a search request, HubSpot's.
const (
	crmMaxFilterGroups  = 5
	crmMaxFilters       = 18 // in all groups together
	crmMaxSearchLimit   = 200
	crmDefaultListLimit = 10
	crmMaxListLimit     = 100
)

// crmSearchRequest is the body of POST …/search.
type crmSearchRequest struct {
	Query        string            `json:"query"`
	Limit        *int              `json:"limit"`
	After        string            `json:"after"`
	Sorts        []json.RawMessage `json:"sorts"`
	Properties   []string          `json:"properties"`
	FilterGroups []struct {
		Filters []crmFilter `json:"filters"`
	} `json:"filterGroups"`
}

type crmFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value"`
	Values       []string `json:"values"`
	HighValue    *string  `json:"highValue"`
}

// crmSearch is a checked search request: groups OR together, the filters
// of a group AND.
type crmSearch struct {
	query      string
	groups     [][]crmFilter
	sortBy     string
	descending bool
	properties []string
	limit      int
	offset     int
}

// checkSearch validates a search request against kind k.
func checkSearch[T any](k crmKind[T], req *crmSearchRequest) (*crmSearch, error) {
	s := &crmSearch{query: strings.ToLower(strings.TrimSpace(req.Query)), limit: crmDefaultListLimit, sortBy: "hs_object_id", properties: req.Properties}
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > crmMaxSearchLimit {
			return nil, parley.Errorf(parley.EINVALID, "limit must be from 1 to %d", crmMaxSearchLimit)
		}
		s.limit = *req.Limit
	}
	if req.After != "" {
		n, err := strconv.Atoi(req.After)
		if err != nil || n < 0 {
			return nil, errCursor()
		}
		s.offset = n
	}
	if len(req.FilterGroups) > crmMaxFilterGroups {
		return nil, parley.Errorf(parley.EINVALID, "filterGroups: at most %d groups", crmMaxFilterGroups)
	}
	n := 0
	for gi, g := range req.FilterGroups {
		if len(g.Filters) == 0 {
			return nil, parley.Errorf(parley.EINVALID, "filterGroups[%d].filters: a group needs at least one filter", gi)
		}
		for fi := range g.Filters {
			if err := checkFilter(k, fmt.Sprintf("filterGroups[%d].filters[%d]", gi, fi), &g.Filters[fi]); err != nil {
				return nil, err
			}
		}
		n += len(g.Filters)
		s.groups = append(s.groups, g.Filters)
	}
	if n > crmMaxFilters {
		return nil, parley.Errorf(parley.EINVALID, "filterGroups: at most %d filters in all", crmMaxFilters)
	}
	if len(req.Sorts) > 1 {
		return nil, parley.Errorf(parley.EINVALID, "sorts: at most one sort")
	}
	for _, raw := range req.Sorts {
		var name string
		var obj struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		}
		switch {
		case json.Unmarshal(raw, &name) == nil:
			obj.PropertyName = name
		case decodeStrictBytes(raw, &obj) == nil:
		default:
			return nil, parley.Errorf(parley.EINVALID, "sorts[0] must be a property name or {\"propertyName\",\"direction\"}")
		}
		if !slices.Contains(k.known, obj.PropertyName) {
			return nil, parley.Errorf(parley.EINVALID, "sorts[0].propertyName: %s has no property %q to sort by", k.name, limitString(obj.PropertyName, 60))
		}
		switch obj.Direction {
		case "", "ASCENDING":
		case "DESCENDING":
			s.descending = true
		default:
			return nil, parley.Errorf(parley.EINVALID, "sorts[0].direction must be ASCENDING or DESCENDING")
		}
		s.sortBy = obj.PropertyName
	}
	return s, nil
}

// exactFields checks the object keys in data against the JSON names of type
// t, recursively, and returns EINVALID naming the first unknown one. Types
// that decode themselves (json.Unmarshaler: json.RawMessage, times, ids)
// and interfaces are not looked into.
func exactFields(data []byte, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil // not an object: decoding names the type error
		}
		names := map[string]reflect.Type{}
		jsonFields(t, names)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := names[k]
			if !ok {
				return parley.Errorf(parley.EINVALID, "unknown field %q", limitString(at+k, 80))
			}
			if err := exactFields(obj[k], ft, at+k+"."); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := exactFields(it, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(at, "."), i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := exactFields(obj[k], t.Elem(), at+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields adds the JSON names of struct type t's fields to names, as
// encoding/json names them: the tag's name, else the field's; fields of
// embedded structs without a name as if they were t's.
func jsonFields(t reflect.Type, names map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, names)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = f.Type
	}
}

// decodeStrictBytesErr decodes data into v refusing unknown fields, with
// decodeJSON's errors.
func decodeStrictBytesErr(data []byte, v any) error {
	if err := decodeStrictBytes(data, v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return parley.Errorf(parley.EINVALID, "field %q must be %s", typ.Field, typ.Type.Kind())
		}
		return parley.Errorf(parley.EINVALID, "malformed JSON")
	}
	return nil
}

// decodeStrictBytes decodes data into v, refusing unknown fields.
func decodeStrictBytes(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// checkFilter validates one filter at field of a search of kind k.
func checkFilter[T any](k crmKind[T], field string, f *crmFilter) error {
	if f.PropertyName == "" {
		return parley.Errorf(parley.EINVALID, "%s.propertyName is required", field)
	}
	needValue := func() error {
		if f.Value == nil {
			return parley.Errorf(parley.EINVALID, "%s.value is required for %s", field, f.Operator)
		}
		return nil
	}
	ordered := slices.Contains(k.numeric, f.PropertyName) || slices.Contains(k.dates, f.PropertyName)
	switch f.Operator {
	case "EQ", "NEQ", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		return needValue()
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return parley.Errorf(parley.EINVALID, "%s.values is required for %s", field, f.Operator)
		}
	case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
	case "GT", "GTE", "LT", "LTE", "BETWEEN":
		if !ordered {
			return parley.Errorf(parley.EINVALID, "%s: %s is supported for %s only", field, f.Operator, strings.Join(append(slices.Clone(k.numeric), k.dates...), ", "))
		}
		if err := needValue(); err != nil {
			return err
		}
		if _, ok := k.order(f.PropertyName, *f.Value); !ok {
			return parley.Errorf(parley.EINVALID, "%s.value %q is not a number or time", field, limitString(*f.Value, 60))
		}
		if f.Operator == "BETWEEN" {
			if f.HighValue == nil {
				return parley.Errorf(parley.EINVALID, "%s.highValue is required for BETWEEN", field)
			}
			if _, ok := k.order(f.PropertyName, *f.HighValue); !ok {
				return parley.Errorf(parley.EINVALID, "%s.highValue %q is not a number or time", field, limitString(*f.HighValue, 60))
			}
		}
	default:
		return parley.Errorf(parley.EINVALID, "%s.operator %q is not supported; use EQ, NEQ, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN, GT, GTE, LT, LTE or BETWEEN", field, limitString(f.Operator, 40))
	}
	return nil
}

// order returns a value of property p as a number to compare: numbers as
// they are, times (milliseconds since 1970 or ISO-8601) in milliseconds.
func (k crmKind[T]) order(p, v string) (float64, bool) {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return n, true
	}
	if slices.Contains(k.dates, p) {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return float64(t.UnixMilli()), true
		}
	}
	return 0, false
}

// matches reports whether object properties props (crmKind.props) pass
// the search's query and filters.
func (k crmKind[T]) matches(s *crmSearch, props map[string]string) bool {
	if s.query != "" && !slices.ContainsFunc(k.searchable, func(p string) bool { return strings.Contains(strings.ToLower(props[p]), s.query) }) {
		return false
	}
	if len(s.groups) == 0 {
		return true
	}
	return slices.ContainsFunc(s.groups, func(g []crmFilter) bool {
		for _, f := range g {
			if !k.match(f, props) {
				return false
			}
		}
		return true
	})
}

func (k crmKind[T]) match(f crmFilter, props map[string]string) bool {
	v := props[f.PropertyName]
	has := v != ""
	eq := func(w string) bool { return strings.EqualFold(v, w) }
	switch f.Operator {
	case "EQ":
		return has && eq(*f.Value)
	case "NEQ":
		return !eq(*f.Value)
	case "IN":
		return has && slices.ContainsFunc(f.Values, eq)
	case "NOT_IN":
		return !slices.ContainsFunc(f.Values, eq)
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "CONTAINS_TOKEN":
		return has && containsToken(v, *f.Value)
	case "NOT_CONTAINS_TOKEN":
		return !containsToken(v, *f.Value)
	}
	if !has {
		return false
	}
	n, _ := k.order(f.PropertyName, v)
	lo, _ := k.order(f.PropertyName, *f.Value)
	switch f.Operator {
	case "GT":
		return n > lo
	case "GTE":
		return n >= lo
	case "LT":
		return n < lo
	case "LTE":
		return n <= lo
	}
	hi, _ := k.order(f.PropertyName, *f.HighValue)
	return n >= lo && n <= hi // BETWEEN
}

// containsToken reports whether value v holds token t as HubSpot's
// CONTAINS_TOKEN does: v split at spaces and punctuation has a word equal
// to t, any case; a t with * matches as a wildcard against the words and
// against the whole value.
func containsToken(v, t string) bool {
	v, t = strings.ToLower(v), strings.ToLower(t)
	words := append(strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(" \t@.,;:-_/+()", r) }), v)
	return slices.ContainsFunc(words, func(w string) bool {
		if strings.Contains(t, "*") {
			ok, err := path.Match(t, w)
			return err == nil && ok
		}
		return w == t
	})
}

// sortAndPage sorts the objects that matched (each with its properties) as
// s asks, ties by id, and returns the page s asks for, the total, and the
// offset of the next page (0: none).
func (k crmKind[T]) sortAndPage(s *crmSearch, hits []crmHit[T]) ([]crmHit[T], int, int) {
	numeric := slices.Contains(k.numeric, s.sortBy) || slices.Contains(k.dates, s.sortBy)
	slices.SortStableFunc(hits, func(a, b crmHit[T]) int {
		av, bv := a.props[s.sortBy], b.props[s.sortBy]
		var c int
		if numeric {
			an, _ := k.order(s.sortBy, av)
			bn, _ := k.order(s.sortBy, bv)
			c = cmp.Compare(an, bn)
		} else {
			c = cmp.Compare(strings.ToLower(av), strings.ToLower(bv))
		}
		if s.descending {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.id, b.id))
	})
	total := len(hits)
	from := min(s.offset, total)
	to := min(from+s.limit, total)
	next := 0
	if to < total {
		next = to
	}
	return hits[from:to], total, next
}

// crmHit is an object that a search found, with its properties.
type crmHit[T any] struct {
	id    uint64
	v     *T
	props map[string]string
}

// crmSearchResult is the answer of POST …/search.
type crmSearchResult struct {
	Total   int             `json:"total"`
	Results []crmObjectJSON `json:"results"`
	Paging  *pagingOut      `json:"paging,omitempty"`
}

// crmIndexedValues returns the values that the search's filter groups ask
// property p for with EQ or IN: every object found must have one. ok is
// false when some group asks none, so that every object must be read.
func crmIndexedValues(s *crmSearch, p string) (values []string, ok bool) {
	if len(s.groups) == 0 || p == "" {
		return nil, false
	}
	for _, g := range s.groups {
		i := slices.IndexFunc(g, func(f crmFilter) bool { return f.PropertyName == p && (f.Operator == "EQ" || f.Operator == "IN") })
		if i < 0 {
			return nil, false
		}
		if g[i].Operator == "EQ" {
			values = append(values, *g[i].Value)
		} else {
			values = append(values, g[i].Values...)
		}
	}
	return values, true
}

// ----- list and search handlers -----

// crmObjects is one CRM object type as its list and search endpoints serve
// it: T as the store keeps it, O with what its properties need.
type crmObjects[T, O any] struct {
	kind  crmKind[O]
	assoc string // the association type it has: "companies" for contacts
	page  func(ctx context.Context, after uint64, limit int) ([]*T, bool, error)
	id    func(v *T) uint64
	wrap  func(ctx context.Context, v *T) (*O, error)
	sees  func(ctx context.Context, vw *viewer, v *T) (bool, error)
	json  func(ctx context.Context, vw *viewer, v *O, p crmReadParams) (crmObjectJSON, error)
	// indexed is the property whose EQ and IN filters find objects with
	// find, without reading every object.
	indexed string
	find    func(ctx context.Context, value string) ([]*T, error)
}

// crmListHandler serves GET of the objects: a page of those the caller may
// see, in id order.
func crmListHandler[T, O any](s *Server, ob crmObjects[T, O]) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := readParams(r, ob.assoc)
		if err != nil {
			return err
		}
		limit, err := queryLimit(r, crmDefaultListLimit, crmMaxListLimit)
		if err != nil {
			return err
		}
		after, err := queryCursor(r, 0)
		if err != nil {
			return err
		}
		vw, err := s.viewerOf(ctx, userFrom(ctx))
		if err != nil {
			return err
		}
		out := page{}
		results := []crmObjectJSON{}
		for more := !p.archived; more; { // Parley archives no CRM objects
			var vs []*T
			if vs, more, err = ob.page(ctx, after, parley.MaxLimit); err != nil {
				return err
			}
			for _, v := range vs {
				after = ob.id(v)
				if ok, err := ob.sees(ctx, vw, v); err != nil {
					return err
				} else if !ok {
					continue
				}
				if len(results) == limit {
					more = false
					out.Paging = nextPage(results[limit-1].ID)
					break
				}
				o, err := ob.wrap(ctx, v)
				if err != nil {
					return err
				}
				j, err := ob.json(ctx, vw, o, p)
				if err != nil {
					return err
				}
				results = append(results, j)
			}
		}
		out.Results = results
		s.writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// crmSearchHandler serves POST …/search: the objects the caller may see
// that the request's query and filters select, sorted and paged, with the
// total.
func crmSearchHandler[T, O any](s *Server, ob crmObjects[T, O]) http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req crmSearchRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		q, err := checkSearch(ob.kind, &req)
		if err != nil {
			return err
		}
		vw, err := s.viewerOf(ctx, userFrom(ctx))
		if err != nil {
			return err
		}
		var hits []crmHit[O]
		seen := map[uint64]bool{}
		consider := func(v *T) error {
			id := ob.id(v)
			if seen[id] {
				return nil
			}
			seen[id] = true
			o, err := ob.wrap(ctx, v)
			if err != nil {
				return err
			}
			props := ob.kind.props(o)
			if !ob.kind.matches(q, props) {
				return nil
			}
			if ok, err := ob.sees(ctx, vw, v); err != nil || !ok {
				return err
			}
			hits = append(hits, crmHit[O]{id: id, v: o, props: props})
			return nil
		}
		if values, ok := crmIndexedValues(q, ob.indexed); ok {
			for _, value := range values {
				vs, err := ob.find(ctx, value)
				if err != nil {
					return err
				}
				for _, v := range vs {
					if err := consider(v); err != nil {
						return err
					}
				}
			}
		} else {
			for after, more := uint64(0), true; more; {
				var vs []*T
				if vs, more, err = ob.page(ctx, after, parley.MaxLimit); err != nil {
					return err
				}
				for _, v := range vs {
					after = ob.id(v)
					if err := consider(v); err != nil {
						return err
					}
				}
			}
		}
		pageHits, total, next := ob.kind.sortAndPage(q, hits)
		out := crmSearchResult{Total: total, Results: []crmObjectJSON{}}
		for _, h := range pageHits {
			j, err := ob.json(ctx, vw, h.v, crmReadParams{properties: q.properties})
			if err != nil {
				return err
			}
			out.Results = append(out.Results, j)
		}
		if next > 0 {
			out.Paging = nextPage(strconv.Itoa(next))
		}
		s.writeJSON(w, http.StatusOK, out)
		return nil
	})
}
