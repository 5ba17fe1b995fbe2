package mail

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/richtext"
)

// Limits of Parse.
const (
	// maxDepth bounds how deeply multiparts may nest.
	maxDepth = 8
	// maxParts bounds how many parts Parse looks at in all.
	maxParts = 100
	// maxSubjectBytes bounds a thread's subject.
	maxSubjectBytes = parley.MaxNameBytes
	// truncatedNote ends a text that was cut to parley.MaxTextBytes.
	truncatedNote = "\n\n[…]"
)

// Parse reads one RFC 5322 message and returns what Parley keeps of it: the
// sender, subject, Message-ID and threading headers, date, and the text
// (see the package documentation). A message without a Message-ID gets one
// made from a hash of its bytes, so that a retried delivery is still
// recognised. Text is at most parley.MaxTextBytes of valid UTF-8, control
// characters removed, and may be empty. Malformed mail (no parsable header,
// no single From address, a broken MIME structure) is a parley error with
// code EINVALID.
func Parse(r io.Reader) (*parley.InboundEmail, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "malformed message header: %v", err)
	}
	h := msg.Header

	ap := mail.AddressParser{WordDecoder: wordDecoder}
	fromHeader := h.Get("From")
	if fromHeader == "" {
		return nil, parley.Errorf(parley.EINVALID, "message has no From header")
	}
	// Raw 8-bit names that are not UTF-8 are most often Windows-1252.
	from, err := ap.ParseList(renameWordCharsets(rawHeader(fromHeader)))
	if err != nil || len(from) != 1 {
		return nil, parley.Errorf(parley.EINVALID, "From header must hold one address")
	}
	addr, err := parley.NormalizeEmail(from[0].Address)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "From header: %s", parley.ErrorMessage(err))
	}
	e := &parley.InboundEmail{
		From:    parley.Address{Name: cleanLine(from[0].Name, parley.MaxNameBytes), Email: addr},
		Subject: cleanLine(decodeHeader(h.Get("Subject")), maxSubjectBytes),
	}
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		e.MessageID = ids[0]
	} else {
		sum := sha256.Sum256(raw)
		e.MessageID = hex.EncodeToString(sum[:16]) + "@parley.invalid"
	}
	if ids := msgIDs(h.Get("In-Reply-To")); len(ids) > 0 {
		e.InReplyTo = ids[0]
	}
	e.References = msgIDs(h.Get("References"))
	if len(e.References) > 50 {
		e.References = e.References[len(e.References)-50:] // the newest
	}
	if d, err := mail.ParseDate(h.Get("Date")); err == nil {
		e.Date = d.UTC()
	}
	e.Auto = automatic(h)
	e.To, e.Cc = headerAddresses(ap, h)

	p := &bodyParser{}
	if err := p.part(h, msg.Body, 0); err != nil {
		return nil, err
	}
	text := p.plain
	if !p.hasPlain {
		text = richtext.Text(p.html)
	}
	e.Text = cleanText(text)
	if p.hasHTML && len(p.html) <= parley.MaxMailHTMLBytes && utf8.ValidString(p.html) {
		e.HTML = p.html
	}
	e.Files, e.FilesLeftOut = p.files, p.leftOut
	return e, nil
}

// headerAddresses returns the addresses of the To and Cc headers, each
// normalized, with its name cleaned; at most parley.MaxKeptRecipients of
// both together, To first. A header that does not parse as a whole is
// read address by address, keeping those that parse: a copy is worth
// keeping even beside a broken one, and a broken header must not refuse
// the mail.
func headerAddresses(ap mail.AddressParser, h mail.Header) (to, cc []parley.Address) {
	n := 0
	read := func(v string) []parley.Address {
		var out []parley.Address
		if v == "" || n >= parley.MaxKeptRecipients {
			return nil
		}
		v = renameWordCharsets(rawHeader(v))
		list, err := ap.ParseList(v)
		if err != nil {
			list = nil
			for part := range strings.SplitSeq(v, ",") {
				if a, err := ap.Parse(part); err == nil {
					list = append(list, a)
				}
			}
		}
		for _, a := range list {
			if n >= parley.MaxKeptRecipients {
				break
			}
			addr, err := parley.NormalizeEmail(a.Address)
			if err != nil {
				continue
			}
			out = append(out, parley.Address{Name: cleanLine(a.Name, parley.MaxNameBytes), Email: addr})
			n++
		}
		return out
	}
	to = read(strings.Join(h["To"], ", "))
	cc = read(strings.Join(h["Cc"], ", "))
	return to, cc
}

type bodyParser struct {
	parts    int
	plain    string
	hasPlain bool
	html     string
	hasHTML  bool
	files    []parley.InboundFile
	size     int      // of files
	leftOut  []string // files not kept, with why
}

// file keeps a part that is a file: up to parley.MaxMessageFiles of them,
// each at most parley.MaxFileBytes, all at most parley.MaxMessageFileBytes;
// others are named in leftOut.
func (p *bodyParser) file(name, contentID string, r io.Reader, cte string) error {
	if name == "" {
		name = "file"
	}
	body, err := decodeBody(r, cte) // the message as a whole is bounded by its reader
	if err != nil {
		// A broken file costs only itself.
		p.leftOut = append(p.leftOut, fmt.Sprintf("%s: %s", name, parley.ErrorMessage(err)))
		return nil
	}
	switch {
	case len(p.files) >= parley.MaxMessageFiles:
		p.leftOut = append(p.leftOut, fmt.Sprintf("%s: more than %d files", name, parley.MaxMessageFiles))
	case len(body) > parley.MaxFileBytes:
		p.leftOut = append(p.leftOut, fmt.Sprintf("%s: larger than %d MB", name, parley.MaxFileBytes>>20))
	case p.size+len(body) > parley.MaxMessageFileBytes:
		p.leftOut = append(p.leftOut, fmt.Sprintf("%s: the files together are larger than %d MB", name, parley.MaxMessageFileBytes>>20))
	default:
		p.files = append(p.files, parley.InboundFile{Name: name, ContentID: contentID, Data: body})
		p.size += len(body)
	}
	return nil
}

// part reads one MIME entity with header h and body r, recursing into
// multiparts, and keeps the first plain text and first HTML that are not
// attachments.
func (p *bodyParser) part(h map[string][]string, r io.Reader, depth int) error {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if p.parts++; p.parts > maxParts {
		return parley.Errorf(parley.EINVALID, "message has more than %d MIME parts", maxParts)
	}
	ct := get("Content-Type")
	mediaType, params := "text/plain", map[string]string{}
	if ct != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(ct); err != nil {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "multipart/") {
				return parley.Errorf(parley.EINVALID, "malformed Content-Type %q", truncate(ct, 60))
			}
			mediaType, params = "application/octet-stream", map[string]string{}
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if depth >= maxDepth {
			return parley.Errorf(parley.EINVALID, "MIME parts nest deeper than %d", maxDepth)
		}
		boundary := params["boundary"]
		if boundary == "" {
			return parley.Errorf(parley.EINVALID, "multipart without a boundary")
		}
		mr := multipart.NewReader(r, boundary)
		for n := 0; ; n++ {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				if n == 0 {
					return parley.Errorf(parley.EINVALID, "multipart has no parts")
				}
				return nil
			} else if err != nil {
				return parley.Errorf(parley.EINVALID, "malformed multipart: %v", err)
			}
			if err := p.part(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	// A file: an attachment, a part with a name, or anything but text
	// (an image inside the mail, say). A text part without a name that
	// is not an attachment is the body.
	disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
	name := cleanLine(decodeHeader(cmp.Or(dparams["filename"], params["name"])), parley.MaxFileNameBytes)
	if disp == "attachment" || name != "" || mediaType != "text/plain" && mediaType != "text/html" {
		if mediaType == "message/delivery-status" || mediaType == "application/pgp-signature" || mediaType == "application/pkcs7-signature" && name == "" {
			return nil // a report's machine part, a signature: not files for people
		}
		cid := strings.Trim(strings.TrimSpace(get("Content-Id")), "<>")
		if len(cid) > 250 || strings.ContainsFunc(cid, func(r rune) bool { return r <= ' ' || r == '<' || r == '>' || r == 0x7f }) {
			cid = ""
		}
		return p.file(name, cid, r, get("Content-Transfer-Encoding"))
	}
	if mediaType == "text/plain" && p.hasPlain || mediaType == "text/html" && p.hasHTML {
		return nil
	}
	body, err := decodeBody(r, get("Content-Transfer-Encoding"))
	if err != nil {
		return err
	}
	text := decodeCharset(body, params["charset"])
	if mediaType == "text/plain" {
		p.plain, p.hasPlain = text, true
	} else {
		p.html, p.hasHTML = text, true
	}
	return nil
}

// decodeBody undoes a Content-Transfer-Encoding.
func decodeBody(r io.Reader, cte string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "malformed quoted-printable body: %v", err)
		}
		return b, nil
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, &spaceless{r: r}))
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "malformed base64 body: %v", err)
		}
		return b, nil
	case "", "7bit", "8bit", "binary":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "malformed body: %v", err)
		}
		return b, nil
	}
	return nil, parley.Errorf(parley.EINVALID, "unknown Content-Transfer-Encoding %q", truncate(cte, 40))
}

// spaceless drops the spaces and tabs that some senders leave in base64
// (the decoder itself skips line breaks).
type spaceless struct{ r io.Reader }

func (s *spaceless) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// automatic returns why header h marks its mail as sent by a machine (see
// the package documentation), or "" for mail a person wrote. Each header
// may be there more than once; any of them counts.
func automatic(h mail.Header) string {
	for _, v := range h["Auto-Submitted"] {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		// RFC 3834: a keyword, maybe with parameters and comments; any
		// keyword but "no" (unknown ones too) means automatic.
		kw := v
		if i := strings.IndexAny(v, "; \t("); i >= 0 {
			kw = v[:i]
		}
		if kw != "no" {
			return "Auto-Submitted: " + cleanLine(kw, 40)
		}
	}
	for _, v := range h["Precedence"] {
		switch p := strings.ToLower(strings.TrimSpace(v)); p {
		case "bulk", "junk", "list", "auto_reply":
			return "Precedence: " + p
		}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond"} {
		for _, v := range h[k] {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "", "no", "false", "0":
			default:
				return k
			}
		}
	}
	if ct := strings.ToLower(strings.TrimSpace(h.Get("Content-Type"))); strings.HasPrefix(ct, "multipart/report") {
		return "Content-Type: multipart/report"
	}
	return ""
}

var msgIDPattern = regexp.MustCompile(`<([^<>\s]{1,250})>`)

// msgIDs returns the message ids in a Message-ID, In-Reply-To or
// References header, without angle brackets, in order.
func msgIDs(h string) []string {
	var out []string
	for _, m := range msgIDPattern.FindAllStringSubmatch(h, -1) {
		if utf8.ValidString(m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// cleanLine makes s one line of valid UTF-8 without control characters, at
// most n bytes.
func cleanLine(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return cut(s, n)
}

// cut returns at most n bytes of s, not splitting a rune.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanText normalises line ends, removes control characters but tab and
// newline, trims, squeezes runs of blank lines and cuts to
// parley.MaxTextBytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	s = strings.TrimSpace(strings.Join(out, "\n"))
	if len(s) > parley.MaxTextBytes {
		s = cut(s, parley.MaxTextBytes-len(truncatedNote)) + truncatedNote
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return cut(s, n) + "…"
}
