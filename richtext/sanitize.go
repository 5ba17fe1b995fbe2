// Package richtext is what Parley allows of HTML: an email's HTML shown in
// the console, and the rich text agents and admins write (email replies,
// templates, signatures). It is pure: no I/O, safe for concurrent use.
//
// Both go through one policy (bluemonday's for user-generated content,
// narrowed and widened below) and then through a pass over the result that
// decides each image and link by where it points: only what cannot act in
// Parley's origin or report back to a sender without the agent's say-so
// stays.
package richtext

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy is what of an HTML body Parley keeps: bluemonday's policy for
// user-generated content (formatted text, links, lists, tables, images; no
// script, style sheet, form, frame, embed or event handler), the
// presentational attributes mail clients still write, a few harmless inline
// styles, and links that open in a new tab with no referrer. URLs are
// http, https, mailto, cid (an image inside the mail) and data: images;
// relative URLs pass here and are decided in the second pass.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return dataImage.MatchString(u.Opaque)
	})
	p.AllowRelativeURLs(true)
	p.AllowAttrs("align").Matching(regexp.MustCompile(`(?i)^(left|right|center|justify)$`)).OnElements("p", "div", "td", "th", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("bgcolor", "color").Matching(colorValue).OnElements("table", "td", "th", "tr", "font", "body")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("table", "td", "th", "img")
	p.AllowElements("font", "center")
	p.AllowStyles("color", "background-color").Matching(colorValue).Globally()
	p.AllowStyles("font-weight", "font-style", "text-decoration", "text-align", "font-size", "line-height", "white-space").Matching(safeStyle).Globally()
	p.AllowStyles("margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
		"padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
		"border", "border-collapse", "width", "max-width", "height", "vertical-align").Matching(safeStyle).Globally()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// dataImage matches the opaque part of a data: URL of an inline image
// whose type is shown inline (not SVG, which can hold script).
var dataImage = regexp.MustCompile(`^image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$`)

// colorValue matches a colour: a name, "#" and hex digits, or rgb()/rgba()
// of numbers.
var colorValue = regexp.MustCompile(`^(?i:[a-z]{1,20}|#[0-9a-f]{3,8}|rgba?\(\s*[0-9.%]+\s*(,\s*[0-9.%]+\s*){2,3}\))$`)

// safeStyle matches a style value that cannot load anything or run
// anything: words, numbers, units, '#' colours, commas and spaces, no
// url(), no expression(), no escapes.
var safeStyle = regexp.MustCompile(`^[a-zA-Z0-9#%.,\s-]{0,100}$`)

// SanitizedHTML is an email's HTML body made safe to show.
type SanitizedHTML struct {
	HTML string
	// Blocked counts the remote images left out because the caller did
	// not allow them: loading one tells the sender the mail was read, and
	// from where.
	Blocked int
}

// Sanitize returns body, an email's HTML, as the console may show it
// (policy). Images inside the mail (src "cid:ID") get the URL cid returns
// for ID, or are left out when cid returns "" or is nil. Remote images
// (http, https) stay only when remote is true; otherwise they are left out
// and counted in Blocked. A relative URL, which would point into Parley's
// own origin where the agent is signed in, is left out, link or image. The
// result is a fragment, without html, head or body.
func Sanitize(body string, remote bool, cid func(id string) string) SanitizedHTML {
	var res SanitizedHTML
	res.HTML = rewrite(body, func(tag atom.Atom, src string) (string, bool) {
		lower := strings.ToLower(src)
		switch {
		case tag == atom.A:
			return src, isAbsolute(lower)
		case strings.HasPrefix(lower, "cid:"):
			if cid == nil {
				return "", false
			}
			id, err := url.PathUnescape(src[len("cid:"):])
			if err != nil {
				return "", false
			}
			u := cid(strings.Trim(id, "<>"))
			return u, u != ""
		case strings.HasPrefix(lower, "http:"), strings.HasPrefix(lower, "https:"):
			if !remote {
				res.Blocked++
			}
			return src, remote
		case strings.HasPrefix(lower, "data:"):
			return src, true // the policy let only inline image types through
		}
		return "", false
	})
	return res
}

// Keep returns an email's HTML as Parley stores it: through the policy,
// with remote and cid: images still in it, for Sanitize to decide them
// each time it is shown (its links to files expire, and remote images
// wait for an agent's say-so).
func Keep(body string) string {
	return Sanitize(body, true, func(id string) string { return "cid:" + url.PathEscape(id) }).HTML
}

// Clean returns body, rich text an agent or admin wrote (an email reply, a
// template, a signature), as Parley keeps and sends it: the same policy as
// Sanitize, with images from the web (http, https), data: images and
// Parley's own files (a path under /files/); links to the web and mailto.
// Anything else, cid: included, is left out.
func Clean(body string) string {
	return rewrite(body, func(tag atom.Atom, src string) (string, bool) {
		lower := strings.ToLower(src)
		switch {
		case tag == atom.A:
			return src, isAbsolute(lower)
		case strings.HasPrefix(lower, "http:"), strings.HasPrefix(lower, "https:"), strings.HasPrefix(lower, "data:"):
			return src, true
		case strings.HasPrefix(src, "/files/") && !strings.Contains(src, ".."):
			return src, true
		}
		return "", false
	})
}

// Images returns body, rich text as Clean keeps it, with each image's src
// replaced by what decide returns, or left out when decide says not to
// keep it. Links are kept as Clean keeps them.
func Images(body string, decide func(src string) (string, bool)) string {
	return rewrite(body, func(tag atom.Atom, src string) (string, bool) {
		if tag == atom.A {
			return src, isAbsolute(strings.ToLower(src))
		}
		return decide(src)
	})
}

// isAbsolute reports whether a lower-cased link target is one the policy
// lets through with a scheme: not relative, not protocol-relative.
func isAbsolute(lower string) bool {
	for _, s := range []string{"http:", "https:", "mailto:", "cid:", "data:"} {
		if strings.HasPrefix(lower, s) {
			return true
		}
	}
	return false
}

// rewrite runs body through the policy, then decides each image's src and
// each link's href with decide, which returns the URL to keep and whether
// to keep it: an image not kept is left out, a link not kept loses its
// target (its text stays).
func rewrite(body string, decide func(tag atom.Atom, src string) (string, bool)) string {
	clean := policy.Sanitize(body)
	var out strings.Builder
	droppedLinks := 0 // links left out whose end tag is still to come
	z := html.NewTokenizer(strings.NewReader(clean))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			switch tok.DataAtom {
			case atom.Img:
				keep := false
				for i, a := range tok.Attr {
					if a.Key == "src" {
						tok.Attr[i].Val, keep = decide(atom.Img, strings.TrimSpace(a.Val))
					}
				}
				if !keep {
					continue
				}
			case atom.A:
				// The policy keeps only links with a target; one whose
				// target goes loses its element, and its text stays.
				drop := false
				for i, a := range tok.Attr {
					if a.Key == "href" {
						v, ok := decide(atom.A, strings.TrimSpace(a.Val))
						tok.Attr[i].Val, drop = v, !ok
					}
				}
				if drop {
					droppedLinks++
					continue
				}
			}
		}
		if tt == html.EndTagToken && tok.DataAtom == atom.A && droppedLinks > 0 {
			droppedLinks--
			continue
		}
		out.WriteString(tok.String())
	}
	return out.String()
}
