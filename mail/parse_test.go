package mail_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/mail"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		raw       string // used when file is empty
		from      parley.Address
		subject   string
		messageID string
		inReplyTo string
		refs      []string
		text      string
		wantErr   string // substring of the EINVALID message
	}{
		{name: "plain text", file: "plain.eml", from: parley.Address{Name: "Ann Lee", Email: "ann@customer.example"},
			subject: "Order 42 is late", messageID: "plain-1@customer.example",
			text: "Hello,\n\nmy order 42 has not arrived yet.\n\nAnn"},
		{name: "multipart/alternative takes the plain part", file: "alternative.eml", from: parley.Address{Name: "Bob", Email: "bob@customer.example"},
			subject: "Alternative", messageID: "alt-1@customer.example", text: "The plain part."},
		{name: "quoted-printable and an encoded-word subject", file: "quoted-printable.eml", from: parley.Address{Email: "carla@customer.example"},
			subject: "Grüße aus München", messageID: "qp-1@customer.example",
			text: "Schöne Grüße, eine sehr lange Zeile, die mit einem weichen Umbruch fortgesetzt wird."},
		{name: "base64 beside an attachment, threading headers", file: "base64.eml", from: parley.Address{Name: "Désirée Müller", Email: "desiree@customer.example"},
			subject: "Base64 — funktioniert", messageID: "b64-1@customer.example", inReplyTo: "parley-1.abc@parley.test",
			refs: []string{"first@customer.example", "parley-1.abc@parley.test"}, text: "Ein Text in Base64: äöü ß €."},
		{name: "HTML only becomes text", file: "html-only.eml", from: parley.Address{Name: "Eve", Email: "eve@customer.example"},
			subject: "Only HTML", messageID: "html-1@customer.example", text: "Hello there,\n\n- one\n- two & three\n\nBye\nEve"},
		{name: "ISO-8859-1", file: "latin1.eml", from: parley.Address{Name: "François", Email: "francois@customer.example"},
			subject: "Café", messageID: "latin1-1@customer.example", text: "Un café, s'il vous plaît."},
		{name: "Windows-1252", raw: "From: w@customer.example\r\nMessage-ID: <w@x>\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n\x93Quoted\x94 \x80 5\r\n",
			from: parley.Address{Email: "w@customer.example"}, messageID: "w@x", text: "“Quoted” € 5"},
		{name: "domain lower-cased", raw: "From: Ann@Customer.EXAMPLE\r\nMessage-ID: <d@x>\r\n\r\nhi\r\n",
			from: parley.Address{Email: "Ann@customer.example"}, messageID: "d@x", text: "hi"},
		{name: "control characters removed", raw: "From: a@customer.example\r\nSubject: a\x01b\r\nMessage-ID: <c@x>\r\n\r\none\x00two\x1b\r\n",
			from: parley.Address{Email: "a@customer.example"}, subject: "a b", messageID: "c@x", text: "onetwo"},
		{name: "malformed multipart", file: "malformed-multipart.eml", wantErr: "multipart"},
		{name: "no From", file: "no-from.eml", wantErr: "no From header"},
		{name: "two From addresses", raw: "From: a@x.example, b@x.example\r\n\r\nhi\r\n", wantErr: "one address"},
		{name: "no header", raw: "just text without a header", wantErr: "malformed message header"},
		{name: "unknown transfer encoding", raw: "From: a@x.example\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nhi\r\n", wantErr: "Content-Transfer-Encoding"},
		{name: "bad base64", raw: "From: a@x.example\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n", wantErr: "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.file != "" {
				raw = readFixture(t, tt.file)
			}
			e, err := mail.Parse(strings.NewReader(string(raw)))
			if tt.wantErr != "" {
				if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.wantErr) {
					t.Fatalf("err=%v, want EINVALID with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.From != tt.from {
				t.Errorf("from=%+v, want %+v", e.From, tt.from)
			}
			if e.Subject != tt.subject {
				t.Errorf("subject=%q, want %q", e.Subject, tt.subject)
			}
			if e.MessageID != tt.messageID {
				t.Errorf("messageId=%q, want %q", e.MessageID, tt.messageID)
			}
			if e.InReplyTo != tt.inReplyTo {
				t.Errorf("inReplyTo=%q, want %q", e.InReplyTo, tt.inReplyTo)
			}
			if !reflect.DeepEqual(e.References, tt.refs) {
				t.Errorf("references=%q, want %q", e.References, tt.refs)
			}
			if e.Text != tt.text {
				t.Errorf("text=%q, want %q", e.Text, tt.text)
			}
		})
	}
}

func TestParseWithoutMessageID(t *testing.T) {
	raw := "From: a@x.example\r\nSubject: hi\r\n\r\nhello\r\n"
	a, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mail.Parse(strings.NewReader(raw))
	c, _ := mail.Parse(strings.NewReader(raw + "more\r\n"))
	if a.MessageID == "" || a.MessageID != b.MessageID {
		t.Errorf("the same bytes got ids %q and %q, want one stable id", a.MessageID, b.MessageID)
	}
	if c.MessageID == a.MessageID {
		t.Errorf("other bytes got the same id %q", c.MessageID)
	}
}

func TestParseLongText(t *testing.T) {
	raw := "From: a@x.example\r\nMessage-ID: <long@x>\r\n\r\n" + strings.Repeat("ä", parley.MaxTextBytes) + "\r\n"
	e, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Text) > parley.MaxTextBytes || !utf8.ValidString(e.Text) || !strings.HasSuffix(e.Text, "[…]") {
		t.Errorf("text of %d bytes (valid %v), want at most %d ending in […]", len(e.Text), utf8.ValidString(e.Text), parley.MaxTextBytes)
	}
	if err := parley.ValidateText(e.Text); err != nil {
		t.Errorf("ValidateText: %v", err)
	}
}

// TestParseAutomatic: the headers with which machines mark their mail.
func TestParseAutomatic(t *testing.T) {
	report := "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
	tests := []struct {
		name   string
		header string // header lines before the body
		want   string // Auto; "" for a person's mail
	}{
		{"none", "", ""},
		{"Auto-Submitted no", "Auto-Submitted: no\r\n", ""},
		{"Auto-Submitted No with a comment", "Auto-Submitted: No (a person)\r\n", ""},
		{"Auto-Submitted empty", "Auto-Submitted: \r\n", ""},
		{"auto-replied", "Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-replied"},
		{"auto-generated", "Auto-Submitted: auto-generated\r\n", "Auto-Submitted: auto-generated"},
		{"parameters and case", "Auto-Submitted: Auto-Notified; owner-email=\"a@x.example\"\r\n", "Auto-Submitted: auto-notified"},
		{"unknown keyword", "Auto-Submitted: something-new\r\n", "Auto-Submitted: something-new"},
		{"second header counts", "Auto-Submitted: no\r\nAuto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-replied"},
		{"Precedence bulk", "Precedence: Bulk\r\n", "Precedence: bulk"},
		{"Precedence junk", "Precedence: junk\r\n", "Precedence: junk"},
		{"Precedence list", "Precedence: list\r\n", "Precedence: list"},
		{"Precedence auto_reply", "Precedence: auto_reply\r\n", "Precedence: auto_reply"},
		{"Precedence urgent", "Precedence: urgent\r\n", ""},
		{"X-Autoreply", "X-Autoreply: yes\r\n", "X-Autoreply"},
		{"X-Autorespond", "X-Autorespond: vacation\r\n", "X-Autorespond"},
		{"X-Autoreply no", "X-Autoreply: no\r\n", ""},
		{"delivery report", report, "Content-Type: multipart/report"},
		{"control characters", "Auto-Submitted: auto\x01\x7freplied\r\n", "Auto-Submitted: auto replied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: a@customer.example\r\nMessage-ID: <a@x>\r\n" + tt.header
			if !strings.Contains(tt.header, "Content-Type") {
				raw += "\r\nhello\r\n"
			}
			e, err := mail.Parse(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if e.Auto != tt.want {
				t.Errorf("Auto=%q, want %q", e.Auto, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that what it returns keeps
// its promises: one sender, a Message-ID, a short one-line subject, and text
// of valid UTF-8 within the limit.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		f.Add(readFixture(f, filepath.Base(name)))
	}
	// Hostile headers: thousands of references, control characters and
	// odd values in the headers that thread mail and mark it automatic.
	f.Add([]byte("From: a@x.example\r\nMessage-ID: <m@x>\r\nReferences:" + strings.Repeat(" <r@x>", 20000) + "\r\nIn-Reply-To: <\x00@x>\r\n\r\nhi\r\n"))
	f.Add([]byte("From: a@x.example\r\nMessage-ID: <m\x01@x>\r\nAuto-Submitted: ;\x00(\r\nPrecedence: \x7fbulk\r\nX-Autoreply: \r\n\r\nhi\r\n"))
	f.Add([]byte("From: a@x.example\r\nAuto-Submitted: (\r\nContent-Type: multipart/report; boundary=\"\"\r\n\r\n--\r\n"))
	// Hostile HTML and charsets.
	f.Add([]byte("From: a@x.example\r\nContent-Type: text/html; charset=koi8-r\r\n\r\n<ul><li><a href=\"javascript:x\"><script>\xf0<a href=https://x>" + strings.Repeat("<ol><li>", 100) + "\r\n"))
	f.Add([]byte("From: =?x-bogus?q?=FF?= <a@x.example>\r\nSubject: \x93=?shift_jis?b?gqA=?=\r\nContent-Type: text/plain; charset=\"utf-16\"\r\n\r\n\xff\xfeh\x00\r\n"))
	// Hostile copies: many, broken, with line breaks and encoded words.
	f.Add([]byte("From: a@x.example\r\nTo: b@x.example, =?utf-8?q?=0D=0ABcc:_e@x?= <c@x.example>\r\nCc:" + strings.Repeat(" d@x.example,", 2000) + " <>, \"q\"@x, e@\r\n\r\nhi\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := mail.Parse(strings.NewReader(string(raw)))
		if err != nil {
			if code := parley.ErrorCode(err); code != parley.EINVALID {
				t.Fatalf("error code %s (%v), want only EINVALID", code, err)
			}
			return
		}
		if e.From.Email == "" || e.MessageID == "" {
			t.Fatalf("from %q, message id %q: want both", e.From.Email, e.MessageID)
		}
		if len(e.Subject) > parley.MaxNameBytes || strings.ContainsAny(e.Subject, "\r\n\x00") || !utf8.ValidString(e.Subject) {
			t.Fatalf("bad subject %q", e.Subject)
		}
		if len(e.Auto) > 100 || strings.ContainsAny(e.Auto, "\r\n\x00") || !utf8.ValidString(e.Auto) {
			t.Fatalf("bad Auto %q", e.Auto)
		}
		if n := len(e.To) + len(e.Cc); n > parley.MaxKeptRecipients {
			t.Fatalf("kept %d To and Cc, want at most %d", n, parley.MaxKeptRecipients)
		}
		for _, a := range append(e.To, e.Cc...) {
			if norm, err := parley.NormalizeEmail(a.Email); err != nil || norm != a.Email {
				t.Fatalf("kept address %q: normalized %q, %v", a.Email, norm, err)
			}
			if len(a.Name) > parley.MaxNameBytes || strings.ContainsAny(a.Name, "\r\n\x00") || !utf8.ValidString(a.Name) {
				t.Fatalf("bad name %q", a.Name)
			}
		}
		if len(e.References) > 50 {
			t.Fatalf("%d references, want at most 50", len(e.References))
		}
		if len(e.Text) > parley.MaxTextBytes || !utf8.ValidString(e.Text) {
			t.Fatalf("bad text of %d bytes", len(e.Text))
		}
		if e.Text != "" {
			if err := parley.ValidateText(e.Text); err != nil {
				t.Fatalf("text fails ValidateText: %v", err)
			}
		}
	})
}
