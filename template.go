package parley

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Email templates (R4): reusable email replies that admins keep and agents
// insert, with placeholders for the contact and the agent.

// Limits of templates.
const (
	// MaxTemplates bounds the library.
	MaxTemplates = 500
	// MaxTemplateBytes bounds a template's body, rich text.
	MaxTemplateBytes = 64 << 10
)

// Template is a reusable email reply: a subject and a rich-text body
// (HTML as the richtext package's Clean keeps it) that may hold
// placeholders such as {{contact.firstName}} (TemplatePlaceholders).
type Template struct {
	ID      uint64 `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body"`
	Authored
}

// TemplatePlaceholders are the placeholders a template may hold, in the
// order the editor offers them. Each becomes the value named, or "" when
// there is none (a contact without a first name).
var TemplatePlaceholders = []string{
	"contact.firstName", "contact.lastName", "contact.email",
	"agent.firstName", "agent.name", "agent.email",
	"inbox.name",
}

// placeholder matches {{ name }} with optional spaces inside the braces.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}\s]{1,64})\s*\}\}`)

// Validate checks a template as an admin saves it: Name is a line of 1 to
// MaxNameBytes, Subject a line of at most MaxNameBytes, Body valid UTF-8 of
// 1 to MaxTemplateBytes, and every placeholder in Subject and Body one of
// TemplatePlaceholders. It returns EINVALID or ETOOLARGE naming the field.
func (t *Template) Validate() error {
	if err := ValidateLine("name", t.Name, true); err != nil {
		return err
	}
	if err := ValidateLine("subject", t.Subject, false); err != nil {
		return err
	}
	switch {
	case len(t.Body) > MaxTemplateBytes:
		return Errorf(ETOOLARGE, "body is %d bytes; the limit is %d", len(t.Body), MaxTemplateBytes)
	case !utf8.ValidString(t.Body):
		return Errorf(EINVALID, "body is not valid UTF-8")
	case strings.TrimSpace(t.Body) == "":
		return Errorf(EINVALID, "body is empty")
	}
	for field, s := range map[string]string{"subject": t.Subject, "body": t.Body} {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(TemplatePlaceholders, m[1]) {
				return Errorf(EINVALID, "%s: unknown placeholder {{%s}}; known are %s", field, m[1], strings.Join(TemplatePlaceholders, ", "))
			}
		}
	}
	return nil
}

// FillTemplate returns s with each placeholder replaced by its value in
// values, passed through escape (the identity for plain text, HTML
// escaping for a body), and "" for a placeholder without a value.
func FillTemplate(s string, values map[string]string, escape func(string) string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		return escape(values[name])
	})
}

// TemplateStore keeps the email templates.
type TemplateStore interface {
	// CreateTemplate stores t; a library of MaxTemplates already is
	// ECONFLICT.
	CreateTemplate(ctx context.Context, t *Template) error
	// Template returns template id, or ENOTFOUND.
	Template(ctx context.Context, id uint64) (*Template, error)
	// Templates returns every template, by name (case-insensitively),
	// then id.
	Templates(ctx context.Context) ([]*Template, error)
	UpdateTemplate(ctx context.Context, id uint64, fn func(*Template) error) (*Template, error)
	// DeleteTemplate deletes template id, or returns ENOTFOUND.
	DeleteTemplate(ctx context.Context, id uint64) error
}
