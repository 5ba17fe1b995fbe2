package richtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parley-chat/parley"
)

// Limits of Text.
const (
	// maxHTMLText bounds the text Text makes; the caller cuts it to
	// parley.MaxTextBytes.
	maxHTMLText = 2 * parley.MaxTextBytes
	// maxListDepth bounds the indentation of nested lists.
	maxListDepth = 8
	// maxLinkBytes bounds a link target that is kept.
	maxLinkBytes = 2000
)

// Text turns an HTML body into plain text with the tokenizer of
// golang.org/x/net/html, which reads any input, however malformed, in one
// pass without recursion. Scripts, styles, the head and comments are
// dropped; block elements end lines, paragraphs and headings are set apart
// by a blank line, <br> is a line break, list items start with "- " (or
// their number in an ordered list) and are indented by nesting, table
// cells are separated by a space; entities are decoded and white space is
// collapsed except in <pre>. A link keeps its target after its text, as
// "text <https://…>", when the target is http, https or mailto and differs
// from the text; other targets (javascript:, data:) are dropped.
func Text(s string) string {
	w := &textWriter{}
	z := html.NewTokenizer(strings.NewReader(s))
	var (
		skip   atom.Atom // inside script, style and the like: its end tag
		inHead bool
		pre    int
		lists  []int // for each open list: -1 unordered, else the next number
		link   *openLink
	)
	for w.sb.Len() < maxHTMLText {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: the input is read
		}
		tok := z.Token()
		a := tok.DataAtom
		if skip != 0 {
			if tt == html.EndTagToken && a == skip {
				skip = 0
			}
			continue
		}
		switch tt {
		case html.TextToken:
			if inHead {
				continue
			}
			if pre > 0 {
				w.pre(tok.Data)
			} else {
				w.text(tok.Data)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch a {
			case atom.Script, atom.Style, atom.Title, atom.Template:
				skip = a // also <script/>, which browsers take as a start tag
				continue
			case atom.Head:
				inHead = true
				continue
			case atom.Body:
				inHead = false
				continue
			}
			if inHead && (blockElements[a] || a == atom.Br) {
				inHead = false // a body without a <body> tag
			}
			switch {
			case a == atom.Br:
				w.newline()
			case a == atom.Li:
				w.newline()
				marker := "- "
				if n := len(lists); n > 0 && lists[n-1] >= 0 {
					marker = strconv.Itoa(lists[n-1]) + ". "
					lists[n-1]++
				}
				w.raw(strings.Repeat("  ", max(min(len(lists), maxListDepth)-1, 0)) + marker)
			case a == atom.Ul || a == atom.Ol:
				if len(lists) == 0 {
					w.paragraph()
				} else {
					w.newline() // a list in a list item
				}
				if tt == html.StartTagToken {
					n := -1
					if a == atom.Ol {
						n = 1
						if v, err := strconv.Atoi(attr(tok, "start")); err == nil && v >= 0 && v < 1e6 {
							n = v
						}
					}
					lists = append(lists, n)
				}
			case a == atom.Pre:
				w.paragraph()
				if tt == html.StartTagToken {
					pre++
				}
			case paragraphElements[a]:
				w.paragraph()
			case blockElements[a]:
				w.newline()
			case a == atom.Td || a == atom.Th:
				w.space()
			case a == atom.A:
				link.close(w, false)
				link = nil
				if tt == html.StartTagToken {
					link = &openLink{href: linkTarget(attr(tok, "href")), start: w.sb.Len()}
				}
			case a == atom.Img:
				if alt := strings.TrimSpace(attr(tok, "alt")); alt != "" {
					w.text(alt)
				}
			}
		case html.EndTagToken:
			switch {
			case a == atom.Head:
				inHead = false
			case a == atom.Ul || a == atom.Ol:
				if len(lists) > 0 {
					lists = lists[:len(lists)-1]
				}
				if len(lists) == 0 {
					w.paragraph()
				} else {
					w.newline()
				}
			case a == atom.Pre:
				if pre > 0 {
					pre--
				}
				w.paragraph()
			case paragraphElements[a]:
				w.paragraph()
			case blockElements[a] || a == atom.Li:
				w.newline()
			case a == atom.A:
				link.close(w, true)
				link = nil
			}
		}
	}
	link.close(w, false)
	return w.sb.String()
}

// paragraphElements are set apart by a blank line.
var paragraphElements = map[atom.Atom]bool{
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Table: true, atom.Hr: true, atom.Dl: true, atom.Figure: true,
}

// blockElements end a line.
var blockElements = map[atom.Atom]bool{
	atom.Div: true, atom.Tr: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Nav: true, atom.Aside: true, atom.Main: true, atom.Address: true, atom.Form: true, atom.Fieldset: true,
	atom.Dt: true, atom.Dd: true, atom.Figcaption: true, atom.Caption: true, atom.Thead: true, atom.Tbody: true,
	atom.Tfoot: true, atom.Center: true, atom.Details: true, atom.Summary: true, atom.Legend: true,
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Table: true, atom.Hr: true, atom.Dl: true, atom.Figure: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Pre: true,
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// linkTarget returns href if it is an http, https or mailto address fit
// to show, else "".
func linkTarget(href string) string {
	href = strings.TrimSpace(href)
	if len(href) > maxLinkBytes || strings.ContainsFunc(href, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return ""
	}
	lower := strings.ToLower(href)
	for _, scheme := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(lower, scheme) && len(href) > len(scheme) {
			return href
		}
	}
	return ""
}

// openLink is an <a> whose end has not come yet.
type openLink struct {
	href  string
	start int // where its text starts in the writer
}

// close writes the link's target after its text unless the text already
// says it. A link without text (an image) becomes its target if it ends
// with </a>; one that another link or the end of the input cuts off is
// dropped.
func (l *openLink) close(w *textWriter, ended bool) {
	if l == nil || l.href == "" {
		return
	}
	text := strings.TrimSpace(w.sb.String()[min(l.start, w.sb.Len()):])
	bare := l.href
	if strings.HasPrefix(strings.ToLower(bare), "mailto:") {
		bare = bare[len("mailto:"):]
	}
	switch {
	case text == "":
		if ended {
			w.space()
			w.text(l.href)
		}
	case strings.EqualFold(text, l.href), strings.EqualFold(text, bare),
		strings.EqualFold(strings.TrimSuffix(text, "/"), strings.TrimSuffix(l.href, "/")):
	default:
		w.space()
		w.text("<" + l.href + ">")
	}
}

// textWriter collects text, collapsing white space and line breaks.
type textWriter struct {
	sb strings.Builder
	// breaks is how many line breaks are due before the next text (2: a
	// blank line); spaceDue is a space due before it.
	breaks   int
	spaceDue bool
}

func (w *textWriter) flush() {
	if w.sb.Len() == 0 {
		w.breaks, w.spaceDue = 0, false
		return
	}
	if w.breaks > 0 {
		w.sb.WriteString(strings.Repeat("\n", w.breaks))
	} else if w.spaceDue {
		w.sb.WriteByte(' ')
	}
	w.breaks, w.spaceDue = 0, false
}

// text writes s with its white space collapsed.
func (w *textWriter) text(s string) {
	if s == "" {
		return
	}
	if first, _ := utf8.DecodeRuneInString(s); isSpaceOrNBSP(first) {
		w.spaceDue = true
	}
	fields := strings.FieldsFunc(s, isSpaceOrNBSP)
	for i, f := range fields {
		if i > 0 {
			w.spaceDue = true
		}
		w.flush()
		w.sb.WriteString(f)
	}
	if len(fields) > 0 {
		if last, _ := utf8.DecodeLastRuneInString(s); isSpaceOrNBSP(last) {
			w.spaceDue = true
		}
	}
}

// pre writes s as it is, but for its line ends.
func (w *textWriter) pre(s string) {
	w.flush()
	w.sb.WriteString(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s))
}

// raw writes s after the breaks due, with no space before it.
func (w *textWriter) raw(s string) {
	w.spaceDue = false
	if w.sb.Len() > 0 && w.breaks == 0 {
		w.breaks = 1
	}
	w.flush()
	w.sb.WriteString(s)
}

func (w *textWriter) newline()   { w.breaks = max(w.breaks, 1) }
func (w *textWriter) paragraph() { w.breaks = 2 }
func (w *textWriter) space()     { w.spaceDue = true }

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' }

func isSpaceOrNBSP(r rune) bool { return isSpace(r) || r == '\u00a0' }
