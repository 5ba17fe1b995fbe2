package parley

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// The reply editor's links (R1): Parley has no knowledge base of its own, so
// admins keep a small library of knowledge links (a title and the address of
// an article wherever the team's help pages live), and each user may save a
// personal meeting-scheduling link. Agents insert either into a reply as
// text; the console turns the address into a link.

// Limits of the reply editor's links.
const (
	// MaxURLBytes bounds a link's address.
	MaxURLBytes = 2048
	// MaxKnowledgeLinks bounds the library: it is a short list to pick
	// from, not a knowledge base.
	MaxKnowledgeLinks = 1000
)

// KnowledgeLink is one entry of the admins' library of help articles.
type KnowledgeLink struct {
	ID    uint64 `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Authored
}

// Validate checks the fields a user gives a knowledge link: Title is 1 to
// MaxNameBytes of one line of text without surrounding space; URL is an
// http or https address (see ValidateLinkURL). It returns EINVALID naming
// the field.
func (l *KnowledgeLink) Validate() error {
	if err := ValidateLine("title", l.Title, true); err != nil {
		return err
	}
	return ValidateLinkURL("url", l.URL)
}

// ValidateLinkURL checks an address that agents insert into replies: at most
// MaxURLBytes of printable ASCII (no spaces; non-ASCII must be
// percent-encoded, so that the address reads the same to everyone), an
// absolute http or https URL with a host, and no user name or password in
// it. It returns EINVALID naming field.
func ValidateLinkURL(field, s string) error {
	switch {
	case s == "":
		return Errorf(EINVALID, "%s is required", field)
	case len(s) > MaxURLBytes:
		return Errorf(EINVALID, "%s is longer than %d bytes", field, MaxURLBytes)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return Errorf(EINVALID, "%s may not contain spaces, control characters or non-ASCII characters (percent-encode them)", field)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return Errorf(EINVALID, "%s is not a URL", field)
	}
	switch {
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		return Errorf(EINVALID, "%s must start with http:// or https://", field)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return Errorf(EINVALID, "%s must name a host, as in https://help.example.com/article", field)
	case u.User != nil:
		return Errorf(EINVALID, "%s may not hold a user name or password", field)
	}
	return nil
}
