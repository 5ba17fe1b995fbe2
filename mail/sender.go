package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/parley-chat/parley"
)

// SenderOptions configures NewSender. A nil *SenderOptions means all
// defaults.
type SenderOptions struct {
	// Timeout bounds connecting to the server and each SMTP command.
	// Defaults to 30s.
	Timeout time.Duration
	// HELO is the name Parley gives itself in HELO/EHLO. Defaults to the
	// machine's host name.
	HELO string
	// TLSConfig, if set, is used for STARTTLS and implicit TLS, for a server
	// whose certificate a private CA signed. Defaults to the system's roots,
	// verifying the URL's host; certificates are always verified.
	TLSConfig *tls.Config
	// Blobs holds the bytes of the files emails carry. Without it an
	// email with attachments cannot be built (EINVALID).
	Blobs parley.BlobStore
}

// TLS policies of the SMTP URL's tls option.
const (
	TLSStartTLS      = "starttls"      // STARTTLS required (the default)
	TLSImplicit      = "tls"           // TLS from the first byte (port 465, smtps)
	TLSOpportunistic = "opportunistic" // STARTTLS when offered
	TLSNone          = "none"          // plain text; loopback hosts only
)

// Sender delivers email to one SMTP server. It is safe for concurrent use;
// sends are made one at a time, each on its own connection.
type Sender struct {
	host   string
	port   int
	policy string
	client *gomail.Client

	blobs parley.BlobStore

	mu   sync.Mutex // one send at a time
	conn net.Conn   // the send's connection, when Parley dialed it
}

// NewSender returns a Sender for the SMTP URL rawURL (see the package
// documentation). It checks the URL but does not connect.
func NewSender(rawURL string, opts *SenderOptions) (*Sender, error) {
	var o SenderOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", errors.Unwrap(err))
	}
	policy := strings.ToLower(u.Query().Get("tls"))
	switch u.Scheme {
	case "smtp":
		if policy == "" {
			policy = TLSStartTLS
		}
	case "smtps":
		if policy != "" && policy != TLSImplicit {
			return nil, fmt.Errorf("smtp url: scheme smtps means tls=tls, not tls=%s", policy)
		}
		policy = TLSImplicit
	default:
		return nil, fmt.Errorf("smtp url: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("smtp url: no host")
	}
	port := 0
	switch policy {
	case TLSStartTLS, TLSOpportunistic:
		port = 587
	case TLSImplicit:
		port = 465
	case TLSNone:
		port = 25
		if !isLoopback(host) {
			return nil, fmt.Errorf("smtp url: tls=none sends mail and passwords in plain text and is allowed only for a loopback host, not %s (use tls=starttls, tls=tls or tls=opportunistic)", host)
		}
	default:
		return nil, fmt.Errorf("smtp url: tls must be starttls, tls, opportunistic or none, not %q", policy)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("smtp url: bad port %q", p)
		}
	}

	snd := &Sender{host: host, port: port, policy: policy, blobs: o.Blobs}
	copts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(o.Timeout)}
	if policy != TLSImplicit {
		// go-mail leaves a connection open when the conversation fails
		// before the mail (a refused STARTTLS, say): Send closes it. With
		// implicit TLS go-mail must dial itself to know the connection
		// is encrypted; there the finalizer of the lost connection closes it.
		copts = append(copts, gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			snd.conn = c
			return c, err
		}))
	}
	switch policy {
	case TLSStartTLS:
		copts = append(copts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		copts = append(copts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSImplicit:
		copts = append(copts, gomail.WithSSL())
	case TLSNone:
		copts = append(copts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if o.HELO != "" {
		copts = append(copts, gomail.WithHELO(o.HELO))
	}
	if o.TLSConfig != nil {
		tc := o.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = host
		}
		copts = append(copts, gomail.WithTLSConfig(tc))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		auth := gomail.SMTPAuthAutoDiscover
		if policy == TLSNone {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only, checked above
		}
		copts = append(copts, gomail.WithSMTPAuth(auth), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(host, copts...)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	snd.client = c
	return snd, nil
}

// String describes the server without credentials, for logs.
func (s *Sender) String() string {
	return fmt.Sprintf("%s (tls=%s)", net.JoinHostPort(s.host, strconv.Itoa(s.port)), s.policy)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers e and returns once the server has accepted it. A refusal
// for good (an SMTP 5xx answer, or an email that cannot be built) is a
// parley error with code EINVALID; any other error is worth a retry.
func (s *Sender) Send(ctx context.Context, e *parley.Email) error {
	m, err := Build(ctx, e, s.blobs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn = nil
	err = s.client.DialAndSendWithContext(ctx, m)
	if s.conn != nil {
		_ = s.conn.Close() // after a failure go-mail may not have
		s.conn = nil
	}
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return parley.Errorf(parley.EINVALID, "smtp server %s refused the mail: %v", s, err)
	}
	return fmt.Errorf("send mail via %s: %w", s, err)
}

// Build returns e as a go-mail message: From, To, Cc, Reply-To if set, Subject, Date,
// Message-ID, In-Reply-To and References, Auto-Submitted and
// X-Auto-Response-Suppress for mail with AutoSubmitted, then a text/plain
// body, and a
// multipart/alternative with HTML when e has HTML, then e's attachments,
// read from blobs (inline images with a Content-ID embedded). Bcc
// addresses are envelope recipients and appear in no header. An email
// without a sender, recipient, Message-ID or text (files will do) is
// EINVALID, and so is one whose file is missing or that has files and no
// blobs to read them from.
func Build(ctx context.Context, e *parley.Email, blobs parley.BlobStore) (*gomail.Msg, error) {
	if e.MessageID == "" || e.From.Email == "" || len(e.To) == 0 || e.Text == "" && len(e.Attachments) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "email needs a sender, a recipient, a Message-ID and text")
	}
	if len(e.Attachments) > 0 && blobs == nil {
		return nil, parley.Errorf(parley.EINVALID, "email has files and no store to read them from")
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.FromFormat(e.From.Name, e.From.Email); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "from %q: %v", e.From.Email, err)
	}
	for _, to := range e.To {
		if err := m.AddToFormat(to.Name, to.Email); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "to %q: %v", to.Email, err)
		}
	}
	for _, cc := range e.Cc {
		if strings.ContainsAny(cc.Name+cc.Email, "\r\n") {
			return nil, parley.Errorf(parley.EINVALID, "cc %q: line break in an address", cc.Email)
		}
		m.AddCcMailAddress(&netmail.Address{Name: cc.Name, Address: cc.Email})
	}
	// Bcc is an envelope recipient only: go-mail never writes the header.
	for _, bcc := range e.Bcc {
		if err := m.AddBcc(bcc.Email); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "bcc %q: %v", bcc.Email, err)
		}
	}
	if e.ReplyTo.Email != "" {
		if err := m.ReplyToFormat(e.ReplyTo.Name, e.ReplyTo.Email); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "reply-to %q: %v", e.ReplyTo.Email, err)
		}
	}
	m.Subject(e.Subject)
	date := e.Date
	if date.IsZero() {
		date = time.Now()
	}
	m.SetDateWithValue(date)
	m.SetMessageIDWithValue(e.MessageID)
	if e.InReplyTo != "" {
		m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+e.InReplyTo+">")
	}
	if len(e.References) > 0 {
		refs := make([]string, len(e.References))
		for i, r := range e.References {
			refs[i] = "<" + r + ">"
		}
		m.SetGenHeaderPreformatted(gomail.HeaderReferences, strings.Join(refs, "\r\n "))
	}
	if e.AutoSubmitted != "" {
		// RFC 3834; the second header is how Microsoft Exchange and Outlook
		// are asked not to answer with out-of-office replies.
		m.SetGenHeader("Auto-Submitted", string(e.AutoSubmitted))
		m.SetGenHeader("X-Auto-Response-Suppress", "All")
	}
	m.SetUserAgent("Parley")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	for _, at := range e.Attachments {
		b, err := blobs.Open(ctx, at.Key)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return nil, parley.Errorf(parley.EINVALID, "file %q of the email is gone", at.Name)
		} else if err != nil {
			return nil, fmt.Errorf("read file %q: %w", at.Name, err)
		}
		typ := at.Type
		if typ == "" {
			typ = "application/octet-stream"
		}
		opts := []gomail.FileOption{gomail.WithFileContentType(gomail.ContentType(typ))}
		if at.Inline && at.ContentID != "" && e.HTML != "" {
			err = m.EmbedReader(at.Name, b, append(opts, gomail.WithFileContentID(at.ContentID))...)
		} else {
			err = m.AttachReader(at.Name, b, opts...)
		}
		b.Close()
		if err != nil {
			return nil, fmt.Errorf("attach file %q: %w", at.Name, err)
		}
	}
	return m, nil
}
