package parley

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// Targeting rule kinds and URL operators (W2).
const (
	TargetKindURL   = "url"
	TargetKindQuery = "query"

	TargetAll           = "all"
	TargetIs            = "is"
	TargetIsNot         = "isNot"
	TargetContains      = "contains"
	TargetNotContains   = "notContains"
	TargetStartsWith    = "startsWith"
	TargetNotStartsWith = "notStartsWith"
)

// Targeting limits enforced by ValidateTargeting.
const (
	MaxTargetRules      = 50
	MaxTargetValueBytes = 2000
)

// MatchTargeting reports whether a page with the given URL shows a widget with
// targeting t. Rules are OR-ed and no rules means every page.
//
// A URL rule's value is compared case-sensitively with the page's whole URL
// without its fragment: scheme, host, path and query. A value ending in "/*"
// matches that prefix and everything below it ("https://a.example/blog/*"
// matches ".../blog", ".../blog/", ".../blog/post" and ".../blog?page=2"), for
// every operator. Two conveniences keep "is" usable: a value without "?" is
// compared with the URL without its query (the query belongs to query rules),
// and one trailing "/" of the path is ignored on both sides.
//
// A query rule matches when parameter Name is present with Value, or present at
// all when Value is empty.
//
// A rule of unknown kind or operator matches nothing. MatchTargeting never
// panics, whatever pageURL holds.
func MatchTargeting(t Targeting, pageURL string) bool {
	if len(t.Rules) == 0 {
		return true
	}
	p := newPage(pageURL)
	for _, r := range t.Rules {
		if p.match(r) {
			return true
		}
	}
	return false
}

// MatchTargetRule reports whether the single rule r matches pageURL, with the
// semantics of MatchTargeting.
func MatchTargetRule(r TargetRule, pageURL string) bool {
	return newPage(pageURL).match(r)
}

// page is a page URL taken apart once for matching several rules.
type page struct {
	full    string // URL without fragment
	noQuery string // URL without fragment and query
	query   url.Values
}

func newPage(raw string) page {
	full, _, _ := strings.Cut(raw, "#")
	noQuery, rawQuery, _ := strings.Cut(full, "?")
	// ParseQuery keeps every well-formed pair even when others are malformed;
	// a visitor's odd URL should not hide a widget.
	q, _ := url.ParseQuery(rawQuery)
	return page{full: full, noQuery: noQuery, query: q}
}

func (p page) match(r TargetRule) bool {
	switch r.Kind {
	case TargetKindURL:
		switch r.Op {
		case TargetAll:
			return true
		case TargetIs:
			return p.is(r.Value)
		case TargetIsNot:
			return !p.is(r.Value)
		case TargetContains:
			return strings.Contains(p.full, wildcardBase(r.Value))
		case TargetNotContains:
			return !strings.Contains(p.full, wildcardBase(r.Value))
		case TargetStartsWith:
			return strings.HasPrefix(p.full, wildcardBase(r.Value))
		case TargetNotStartsWith:
			return !strings.HasPrefix(p.full, wildcardBase(r.Value))
		}
	case TargetKindQuery:
		vals, ok := p.query[r.Name]
		if !ok || r.Name == "" {
			return false
		}
		if r.Value == "" {
			return true
		}
		for _, v := range vals {
			if v == r.Value {
				return true
			}
		}
	}
	return false
}

// is implements the "is" operator, with the "/*" wildcard.
func (p page) is(value string) bool {
	if base, ok := strings.CutSuffix(value, "/*"); ok {
		rest, ok := strings.CutPrefix(p.full, base)
		return ok && (rest == "" || rest[0] == '/' || rest[0] == '?')
	}
	u := p.full
	if !strings.Contains(value, "?") {
		u = p.noQuery
	}
	return trimSlash(u) == trimSlash(value)
}

// wildcardBase strips a trailing "*" of a "/*" wildcard; "contains" and
// "startsWith" already match everything that follows.
func wildcardBase(value string) string {
	if base, ok := strings.CutSuffix(value, "/*"); ok {
		return base
	}
	return value
}

// trimSlash drops one trailing "/" of the path, so ".../pricing" and
// ".../pricing/" (and "https://a.example" and "https://a.example/") compare
// equal. A "/" inside the query is left alone.
func trimSlash(u string) string {
	path, query, hasQuery := strings.Cut(u, "?")
	path = strings.TrimSuffix(path, "/")
	if hasQuery {
		return path + "?" + query
	}
	return path
}

// ValidateTargeting checks targeting settings before they are stored. It
// returns an *Error with code EINVALID naming the first bad rule, or nil.
func ValidateTargeting(t Targeting) error {
	if len(t.Rules) > MaxTargetRules {
		return Errorf(EINVALID, "targeting has %d rules; at most %d are allowed", len(t.Rules), MaxTargetRules)
	}
	for i, r := range t.Rules {
		n := i + 1
		if len(r.Value) > MaxTargetValueBytes || len(r.Name) > MaxTargetValueBytes {
			return Errorf(EINVALID, "targeting rule %d: value is longer than %d bytes", n, MaxTargetValueBytes)
		}
		if !utf8.ValidString(r.Value) || !utf8.ValidString(r.Name) {
			return Errorf(EINVALID, "targeting rule %d: value is not valid UTF-8", n)
		}
		switch r.Kind {
		case TargetKindURL:
			switch r.Op {
			case TargetAll:
			case TargetIs, TargetIsNot, TargetContains, TargetNotContains, TargetStartsWith, TargetNotStartsWith:
				if strings.TrimSpace(r.Value) == "" {
					return Errorf(EINVALID, "targeting rule %d: operator %q needs a value", n, r.Op)
				}
			default:
				return Errorf(EINVALID, "targeting rule %d: unknown operator %q (want all, is, isNot, contains, notContains, startsWith or notStartsWith)", n, r.Op)
			}
		case TargetKindQuery:
			if strings.TrimSpace(r.Name) == "" {
				return Errorf(EINVALID, "targeting rule %d: a query rule needs a parameter name", n)
			}
		default:
			return Errorf(EINVALID, "targeting rule %d: unknown kind %q (want url or query)", n, r.Kind)
		}
	}
	return nil
}
