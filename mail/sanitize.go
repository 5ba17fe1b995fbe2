package mail

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// mailPolicy is what of an email's HTML the console may show: bluemonday's
// policy for user-generated content (formatted text, links, lists, tables,
// images; no script, style sheet, form, frame, embed or event handler), the
// presentational attributes mail clients still write, a few harmless inline
// styles, and links that open in a new tab with no referrer. URLs are
// http, https, mailto, cid (an image inside the mail) and data: images.
var mailPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowURLSchemeWithCustomPolicy("data", func(u *url.URL) bool {
		return dataImage.MatchString(u.Opaque)
	})
	p.AllowAttrs("align").Matching(regexp.MustCompile(`(?i)^(left|right|center|justify)$`)).OnElements("p", "div", "td", "th", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("bgcolor", "color").Matching(colorValue).OnElements("table", "td", "th", "tr", "font", "body")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("table", "td", "th", "img")
	p.AllowElements("font", "center")
	p.AllowStyles("color", "background-color").Matching(colorValue).Globally()
	p.AllowStyles("font-weight", "font-style", "text-decoration", "text-align", "font-size", "line-height", "white-space").Matching(safeStyle).Globally()
	p.AllowStyles("margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
		"padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
		"border", "border-collapse", "width", "max-width", "height", "vertical-align").Matching(safeStyle).Globally()
	// A relative URL in a mail points into Parley's own origin, where the
	// agent is signed in: a link or image there could act for them.
	p.AllowRelativeURLs(false)
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

// SanitizeHTML returns body, an email's HTML, as the console may show it
// (mailPolicy). Images inside the mail (src "cid:ID") get the URL cid
// returns for ID, or are left out when cid returns "" or is nil. Remote
// images (http, https) stay only when remote is true; otherwise they are
// left out and counted in Blocked. The result is a fragment, without html,
// head or body.
func SanitizeHTML(body string, remote bool, cid func(id string) string) SanitizedHTML {
	clean := mailPolicy.Sanitize(body)
	var out strings.Builder
	var res SanitizedHTML
	z := html.NewTokenizer(strings.NewReader(clean))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if (tt == html.StartTagToken || tt == html.SelfClosingTagToken) && tok.DataAtom == atom.Img {
			keep := false
			for i, a := range tok.Attr {
				if a.Key != "src" {
					continue
				}
				src := strings.TrimSpace(a.Val)
				lower := strings.ToLower(src)
				switch {
				case strings.HasPrefix(lower, "cid:"):
					if cid != nil {
						id, err := url.PathUnescape(src[len("cid:"):])
						if err == nil {
							if u := cid(strings.Trim(id, "<>")); u != "" {
								tok.Attr[i].Val, keep = u, true
							}
						}
					}
				case strings.HasPrefix(lower, "http:"), strings.HasPrefix(lower, "https:"), strings.HasPrefix(lower, "//"):
					if remote {
						keep = true
					} else {
						res.Blocked++
					}
				case strings.HasPrefix(lower, "data:"):
					keep = true // mailPolicy let only inline image types through
				}
			}
			if !keep {
				continue
			}
		}
		out.WriteString(tok.String())
	}
	res.HTML = out.String()
	return res
}
