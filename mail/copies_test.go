package mail

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// TestBuildCopies: Cc is a header and a recipient, Bcc only a recipient.
func TestBuildCopies(t *testing.T) {
	e := &parley.Email{
		From: parley.Address{Name: "Ada", Email: "support@parley.test"}, To: []parley.Address{{Email: "ann@customer.example"}},
		Cc:      []parley.Address{{Name: "Bob, Jr.", Email: "bob@customer.example"}},
		Bcc:     []parley.Address{{Name: "Eve", Email: "eve@audit.example"}},
		Subject: "Re: x", Text: "Hi", MessageID: "m1@parley.test", Date: time.Unix(0, 0),
	}
	m, err := Build(context.Background(), e, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.Contains(raw, "Cc: \"Bob, Jr.\" <bob@customer.example>") {
		t.Errorf("no Cc header:\n%s", raw)
	}
	if strings.Contains(raw, "eve@audit.example") || strings.Contains(raw, "Bcc") {
		t.Errorf("Bcc in the mail:\n%s", raw)
	}
	rcpts, err := m.GetRecipients()
	if err != nil || !slices.Equal(rcpts, []string{"<ann@customer.example>", "<bob@customer.example>", "<eve@audit.example>"}) {
		t.Errorf("envelope recipients=%v %v", rcpts, err)
	}
	e.Cc[0].Name = "Bob\r\nBcc: x@evil.example"
	if _, err := Build(context.Background(), e, nil); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("line break in a Cc name: %v, want EINVALID", err)
	}
}

// TestParseRecipients: To and Cc are kept, normalized, at most
// parley.MaxKeptRecipients; a broken address does not lose the others.
func TestParseRecipients(t *testing.T) {
	raw := "From: ann@customer.example\r\nTo: Support <Support@Parley.TEST>\r\nCc: =?utf-8?q?B=C3=B6b?= <bob@customer.example>, not an address, carol@CUSTOMER.example\r\nSubject: x\r\n\r\nHi\r\n"
	e, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if want := []parley.Address{{Name: "Support", Email: "Support@parley.test"}}; !slices.Equal(e.To, want) {
		t.Errorf("To=%v, want %v", e.To, want)
	}
	if want := []parley.Address{{Name: "Böb", Email: "bob@customer.example"}, {Email: "carol@customer.example"}}; !slices.Equal(e.Cc, want) {
		t.Errorf("Cc=%v, want %v", e.Cc, want)
	}
	var cc []string
	for i := range 1000 {
		cc = append(cc, fmt.Sprintf("v%d@spam.example", i))
	}
	e, err = Parse(strings.NewReader("From: ann@customer.example\r\nTo: a@x.example, b@x.example\r\nCc: " + strings.Join(cc, ",\r\n ") + "\r\nSubject: x\r\n\r\nHi\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.To)+len(e.Cc) != parley.MaxKeptRecipients || len(e.To) != 2 || e.Cc[0].Email != "v0@spam.example" {
		t.Errorf("kept To %d, Cc %d, want 2 and %d", len(e.To), len(e.Cc), parley.MaxKeptRecipients-2)
	}
}
