package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The words of search: what the index stores and what a query looks for.
//
// A term is a run of Unicode letters, digits and combining marks, lower-cased,
// folded (Latin letters lose their diacritics: see search_fold.go) and cut to
// maxTermBytes (at a rune boundary). Everything else separates terms:
// "alice@example.com" is alice, example and com; "#1042" is 1042; "Müller"
// is muller, and is indexed as mueller too.
// Scripts written without spaces (Chinese, Japanese) make one long term per
// run, so a search finds them only by the run's beginning (see prefix terms).

// maxTermBytes bounds a term: longer runs are cut, in the index and in
// queries alike, so that a cut query term still finds its word.
const maxTermBytes = 64

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// eachWord calls fn for each run of word runes in s with its term, its
// second term ("" if none: see foldWord) and its byte offsets [start, end)
// in s.
func eachWord(s string, fn func(term, alt string, start, end int)) {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			term, alt := foldWord(s[start:i])
			fn(term, alt, start, i)
			start = -1
		}
	}
	if start >= 0 {
		term, alt := foldWord(s[start:])
		fn(term, alt, start, len(s))
	}
}

// cutTerm cuts a term to maxTermBytes, at a rune boundary.
func cutTerm(w string) string {
	if len(w) <= maxTermBytes {
		return w
	}
	cut := maxTermBytes
	for cut > 0 && !utf8.RuneStart(w[cut]) {
		cut--
	}
	return w[:cut]
}

// terms returns the distinct terms of s in order of first appearance: what
// a query looks for.
func terms(s string) []string {
	return distinctTerms(s, false)
}

// indexTerms returns the distinct terms of s and their second terms, in
// order of first appearance: what the index stores.
func indexTerms(s string) []string {
	return distinctTerms(s, true)
}

func distinctTerms(s string, withAlt bool) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	eachWord(s, func(t, alt string, _, _ int) {
		add(t)
		if withAlt {
			add(alt)
		}
	})
	return out
}

// qterm is one word of a query: it matches a term equal to text, or, for the
// prefix term (the query's last word), any term starting with text.
type qterm struct {
	text   string
	prefix bool
}

func (q qterm) matches(term string) bool {
	if q.prefix {
		return strings.HasPrefix(term, q.text)
	}
	return term == q.text
}

// matchesBytes is matches for a term in bytes, without copying it.
func (q qterm) matchesBytes(term []byte) bool {
	if q.prefix {
		return len(term) >= len(q.text) && string(term[:len(q.text)]) == q.text
	}
	return string(term) == q.text
}

// matchesWord reports whether q matches a word of the text, by its term or
// its second term (alt, "" if none).
func (q qterm) matchesWord(term, alt string) bool {
	return q.matches(term) || alt != "" && q.matches(alt)
}

// Query limits.
const (
	maxQueryBytes = 256 // longer search text is ETOOLARGE
	maxQueryTerms = 8   // words beyond the eighth are ignored
)

// parseQuery returns the distinct words of a search. The last one is a
// prefix term (so that "ord" finds "order" while the agent is still typing)
// unless the search ends after it, with a space or punctuation: "order "
// finds only "order".
func parseQuery(s string) []qterm {
	ts := terms(s)
	cut := len(ts) > maxQueryTerms
	if cut {
		ts = ts[:maxQueryTerms]
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	open := cut || isWordRune(last)
	q := make([]qterm, len(ts))
	for i, t := range ts {
		q[i] = qterm{text: t, prefix: open && i == len(ts)-1}
	}
	return q
}

// Snippet sizes, in runes.
const (
	snippetRunes  = 180 // at most this much text around the first match
	snippetBefore = 40  // context kept before the first match
)

// snippet returns a one-line excerpt of text around the first word that a
// query term matches, and the rune offsets [start, end) of every matched word
// in the excerpt. An excerpt cut at either end is marked with "…". If no word
// matches, it is the start of the text with no highlights.
func snippet(text string, q []qterm) (string, [][2]int) {
	text = strings.Join(strings.Fields(text), " ")
	type span struct{ start, end int } // byte offsets in text
	var hits []span
	eachWord(text, func(t, alt string, start, end int) {
		for _, qt := range q {
			if qt.matchesWord(t, alt) {
				hits = append(hits, span{start, end})
				return
			}
		}
	})
	// Choose the window in bytes, then count runes.
	from, to := 0, len(text)
	if utf8.RuneCountInString(text) > snippetRunes {
		if len(hits) > 0 {
			from = backRunes(text, hits[0].start, snippetBefore)
			if from > 0 {
				// Start at a word: after the last space before from.
				if sp := strings.LastIndexByte(text[:from], ' '); sp >= 0 && hits[0].start-sp <= 2*snippetBefore {
					from = sp + 1
				}
			}
		}
		to = forwardRunes(text, from, snippetRunes)
		if to < len(text) {
			if sp := strings.LastIndexByte(text[from:to], ' '); sp > 0 && to-(from+sp) < 30 {
				to = from + sp
			}
		}
	}
	var b strings.Builder
	shift := 0
	if from > 0 {
		b.WriteString("…")
		shift = 1
	}
	b.WriteString(text[from:to])
	if to < len(text) {
		b.WriteString("…")
	}
	var hl [][2]int
	for _, h := range hits {
		if h.start < from || h.end > to {
			continue
		}
		s := shift + utf8.RuneCountInString(text[from:h.start])
		hl = append(hl, [2]int{s, s + utf8.RuneCountInString(text[h.start:h.end])})
	}
	return b.String(), hl
}

// backRunes returns the byte offset n runes before offset i in s (or 0).
func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

// forwardRunes returns the byte offset n runes after offset i in s (or len(s)).
func forwardRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}
