package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Folding: a search for "muller" finds "Müller", "cafe" finds "Café" and
// "strasse" finds "Straße" (I2). Index and queries fold words the same way:
// lower-cased, and Latin letters without their diacritics. A word with the
// German umlauts ä, ö or ü is indexed a second time spelled out (ae, oe,
// ue), the way German is typed without them, so that "mueller" finds
// "Müller" too. Highlights are found by folding the original words again,
// so they mark the text as it was written.
//
// Why a table of our own rather than Unicode decomposition (NFD) with every
// combining mark dropped: only Latin letters are folded. In other scripts
// the marks tell words apart (Japanese か and が, the vowel signs of Indic
// scripts, Cyrillic и and й), and dropping them would merge different
// words. The table below is what NFD gives for the precomposed lower-case
// letters of Latin-1, Latin Extended-A and -B and Latin Extended Additional
// (base letter plus combining marks only), plus the Latin letters that do
// not decompose but are commonly typed as ASCII (ß, æ, ø, ł, …) and the
// Latin ligatures. Combining diacritical marks (U+0300–U+036F) that follow
// a Latin letter are dropped, so decomposed text folds like precomposed.

// foldBases lists, for each ASCII base letter, the letters that fold to it.
var foldBases = [...]struct{ base, letters string }{
	{"a", "àáâãäåāăąǎǟǡǻȁȃȧḁạảấầẩẫậắằẳẵặ"},
	{"b", "ḃḅḇƀ"},
	{"c", "çćĉċčḉ"},
	{"d", "ďḋḍḏḑḓđð"},
	{"e", "èéêëēĕėęěȅȇȩḕḗḙḛḝẹẻẽếềểễệ"},
	{"f", "ḟƒ"},
	{"g", "ĝğġģǧǵḡ"},
	{"h", "ĥȟḣḥḧḩḫẖħ"},
	{"i", "ìíîïĩīĭįǐȉȋḭḯỉịı"},
	{"j", "ĵǰ"},
	{"k", "ķǩḱḳḵ"},
	{"l", "ĺļľḷḹḻḽŀł"},
	{"m", "ḿṁṃ"},
	{"n", "ñńņňǹṅṇṉṋ"},
	{"o", "òóôõöōŏőơǒǫǭȍȏȫȭȯȱṍṏṑṓọỏốồổỗộớờởỡợø"},
	{"p", "ṕṗ"},
	{"r", "ŕŗřȑȓṙṛṝṟ"},
	{"s", "śŝşšșṡṣṥṧṩſ"},
	{"t", "ţťțṫṭṯṱẗŧ"},
	{"u", "ùúûüũūŭůűųưǔǖǘǚǜȕȗṳṵṷṹṻụủứừửữự"},
	{"v", "ṽṿ"},
	{"w", "ŵẁẃẅẇẉẘ"},
	{"x", "ẋẍ"},
	{"y", "ýÿŷȳẏẙỳỵỷỹ"},
	{"z", "źżžẑẓẕ"},
}

// foldWide lists the letters that fold to more than one letter.
var foldWide = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ĳ': "ij",
	'ǆ': "dz", 'ǳ': "dz", 'ǉ': "lj", 'ǌ': "nj",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st",
}

// foldTable maps a lower-case letter to what it folds to. It is built once
// and only read.
var foldTable = func() map[rune]string {
	m := make(map[rune]string, 400)
	for _, g := range foldBases {
		for _, r := range g.letters {
			m[r] = g.base
		}
	}
	for r, s := range foldWide {
		m[r] = s
	}
	return m
}()

// umlautE is the letter that spells out a German umlaut after its vowel.
func umlautE(r rune) bool { return r == 'ä' || r == 'ö' || r == 'ü' }

// isCombiningDiacritic reports whether r is one of the marks (U+0300 to
// U+036F) that decomposed Latin text puts after its letters.
func isCombiningDiacritic(r rune) bool { return r >= 0x300 && r <= 0x36f }

// foldWord returns the term of word w, lower-cased and folded, and, if w has
// a German umlaut, its second term with the umlauts spelled out (else "").
// Both are cut to maxTermBytes.
func foldWord(w string) (term, alt string) {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return cutTerm(strings.ToLower(w)), ""
	}
	var b, a strings.Builder
	umlaut := false
	var last rune // the last letter written, for marks after it
	for _, r := range strings.ToLower(w) {
		if isCombiningDiacritic(r) && last != 0 && unicode.Is(unicode.Latin, last) {
			if r == 0x308 && (last == 'a' || last == 'o' || last == 'u') { // a diaeresis: ä written as a + U+0308
				a.WriteByte('e')
				umlaut = true
			}
			continue
		}
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			if umlautE(r) {
				a.WriteString(f + "e")
				umlaut = true
			} else {
				a.WriteString(f)
			}
			last, _ = utf8.DecodeLastRuneInString(f)
			continue
		}
		b.WriteRune(r)
		a.WriteRune(r)
		last = r
	}
	term = cutTerm(b.String())
	if umlaut {
		alt = cutTerm(a.String())
	}
	return term, alt
}

// foldText folds every word of s as foldWord's first term does, keeping
// what lies between words: for comparisons of whole texts (the naive scan
// the search benchmark compares with).
func foldText(s string) string {
	var b strings.Builder
	prev := 0
	eachWord(s, func(term, _ string, start, end int) {
		b.WriteString(s[prev:start])
		b.WriteString(term)
		prev = end
	})
	b.WriteString(s[prev:])
	return b.String()
}
