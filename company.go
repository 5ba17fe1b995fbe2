package parley

import (
	"slices"
	"strings"
	"time"
)

// Company is an organisation that contacts belong to, known by its name and
// web domain. A contact belongs to at most one company (Contact.CompanyID);
// which contacts a company has is the store's index of those fields.
type Company struct {
	ID     uint64 `json:"id"`
	Name   string `json:"name"`
	Domain string `json:"domain,omitempty"` // lowercase host name, "" for none
	// CreatedBy is the user who created the company, 0 when Parley created
	// it for a contact's email address (CompanyDomain).
	CreatedBy uint64    `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// MaxDomainBytes bounds a company's domain, as DNS bounds a host name.
const MaxDomainBytes = 253

// Validate checks a company's fields: Name is 1 to MaxNameBytes of one line
// of text without surrounding space; Domain is empty or a host name as
// CleanDomain leaves it. It returns EINVALID naming the field.
func (c *Company) Validate() error {
	if err := ValidateLine("name", c.Name, true); err != nil {
		return err
	}
	if c.Domain == "" {
		return nil
	}
	d, err := CleanDomain(c.Domain)
	if err == nil && d != c.Domain {
		err = Errorf(EINVALID, "domain %q must be lowercase without scheme, path or trailing dot", truncate(c.Domain, 60))
	}
	return err
}

// CleanDomain returns s as a company's domain: trimmed, lowercase, without a
// leading "www." or a trailing dot. What is not a host name of dotted
// labels of letters, digits and hyphens (no scheme, port or path) is
// EINVALID naming the field "domain".
func CleanDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	d = strings.TrimPrefix(d, "www.")
	bad := Errorf(EINVALID, "domain %q is not a domain name such as example.com", truncate(s, 60))
	if d == "" || len(d) > MaxDomainBytes || !strings.Contains(d, ".") {
		return "", bad
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", bad
		}
		for i := 0; i < len(label); i++ {
			if b := label[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
				return "", bad
			}
		}
	}
	return d, nil
}

// freeMailDomains are the domains of free mail services: an address there
// says nothing about where its owner works, so CompanyDomain makes no
// company for it. yahoo.* stands for every domain whose first label is
// yahoo (yahoo.com, yahoo.co.uk, yahoo.de, …). docs/api.md lists them;
// keep the two together.
var freeMailDomains = []string{
	"gmail.com", "googlemail.com",
	"outlook.com", "outlook.de", "hotmail.com", "hotmail.de", "hotmail.co.uk", "live.com", "live.de", "msn.com",
	"yahoo.*", "ymail.com", "rocketmail.com",
	"aol.com", "aim.com",
	"icloud.com", "me.com", "mac.com",
	"proton.me", "protonmail.com", "protonmail.ch", "pm.me",
	"gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com",
	"web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de", "mailbox.org",
	"mail.com", "mail.ru", "yandex.com", "yandex.ru",
	"zoho.com", "tutanota.com", "tutanota.de", "tuta.io", "fastmail.com", "hey.com",
	"qq.com", "163.com", "126.com",
}

// FreeMailDomains returns the free-mail domains for which no company is
// made, "yahoo.*" standing for every yahoo domain. The slice is the
// caller's.
func FreeMailDomains() []string { return slices.Clone(freeMailDomains) }

// IsFreeMailDomain reports whether domain (lowercase) belongs to a free
// mail service.
func IsFreeMailDomain(domain string) bool {
	if first, _, ok := strings.Cut(domain, "."); ok && first == "yahoo" {
		return true
	}
	return slices.Contains(freeMailDomains, domain)
}

// CompanyDomain returns the domain of the company that a contact with this
// email address belongs to, as HubSpot's automatic company association
// finds it: the address's domain, cleaned as CleanDomain does. It returns
// "" for no address, for one whose domain is no domain name, and for
// free-mail domains (IsFreeMailDomain).
func CompanyDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d, err := CleanDomain(email[at+1:])
	if err != nil || IsFreeMailDomain(d) {
		return ""
	}
	return d
}
