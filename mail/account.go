package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/parley-chat/parley"
)

// AccountOptions configures NewAccounts. A nil *AccountOptions means all
// defaults.
type AccountOptions struct {
	// AllowPrivate lets connected mailboxes reach hosts on loopback,
	// private, link-local and other non-public addresses. Off by default:
	// an admin could otherwise make Parley probe its own network.
	AllowPrivate bool
	// AllowInsecure allows TLS mode none: plain-text IMAP and SMTP, with
	// passwords in the clear. Off by default.
	AllowInsecure bool
	// Timeout bounds connecting and each command (not an IDLE). Defaults
	// to 30s.
	Timeout time.Duration
	// MaxMessageBytes is the largest message imported; larger ones are
	// skipped. Defaults to 25 MiB, as the SMTP receiver's.
	MaxMessageBytes int64
	// TLSConfig, if set, is the base of every TLS connection (its
	// ServerName is set per host), for servers whose certificate a
	// private CA signed. Certificates are always verified.
	TLSConfig *tls.Config
	// HELO is the name Parley gives itself in EHLO. Defaults to the
	// machine's host name.
	HELO string
	// Blobs holds the bytes of the files emails carry (Render reads
	// them). Without it an email with files cannot be rendered.
	Blobs parley.BlobStore
}

// Accounts reaches the IMAP and SMTP servers of connected mailboxes. It is
// safe for concurrent use.
type Accounts struct {
	o AccountOptions
}

var _ parley.MailAccounts = (*Accounts)(nil)

// NewAccounts returns Accounts with the options o.
func NewAccounts(o *AccountOptions) *Accounts {
	a := &Accounts{}
	if o != nil {
		a.o = *o
	}
	if a.o.Timeout <= 0 {
		a.o.Timeout = 30 * time.Second
	}
	if a.o.MaxMessageBytes <= 0 {
		a.o.MaxMessageBytes = 25 << 20
	}
	if a.o.HELO == "" {
		a.o.HELO, _ = os.Hostname()
		if a.o.HELO == "" {
			a.o.HELO = "localhost"
		}
	}
	return a
}

// CheckServer checks, before anything is stored, that s may be used: its
// TLS mode is allowed and its host resolves to public addresses only
// (unless AllowPrivate). Errors are *parley.MailServerError for server
// ("imap" or "smtp"). The address is checked again at every connection,
// as dialed, so that a name that later resolves elsewhere is still
// refused.
func (a *Accounts) CheckServer(ctx context.Context, server string, s parley.MailServer) error {
	if s.TLS == parley.MailNoTLS && !a.o.AllowInsecure {
		return &parley.MailServerError{Server: server, Kind: parley.MailErrInsecure,
			Msg: "tls mode none sends the password in plain text and is not allowed on this Parley (its operator can allow it with --mail-allow-insecure)"}
	}
	if a.o.AllowPrivate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", s.Host)
	if err != nil {
		return &parley.MailServerError{Server: server, Kind: parley.MailErrUnreachable, Msg: fmt.Sprintf("cannot resolve %s", s.Host)}
	}
	for _, ip := range ips {
		if !parley.PublicAddr(ip) {
			return refused(server, s.Host)
		}
	}
	return nil
}

func refused(server, host string) error {
	return &parley.MailServerError{Server: server, Kind: parley.MailErrRefused,
		Msg: fmt.Sprintf("%s is a loopback or private address, which this Parley does not connect to (its operator can allow it with --allow-private-mail-hosts)", host)}
}

// dial connects to s, checking the address it really connects to.
func (a *Accounts) dial(ctx context.Context, server string, s parley.MailServer) (net.Conn, error) {
	if s.TLS == parley.MailNoTLS && !a.o.AllowInsecure {
		return nil, a.CheckServer(ctx, server, s)
	}
	d := &net.Dialer{Timeout: a.o.Timeout}
	if !a.o.AllowPrivate {
		d.Control = parley.PublicOnly
	}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		return nil, classify(server, s, err, "")
	}
	return conn, nil
}

func (a *Accounts) tlsConfig(host string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.o.TLSConfig != nil {
		c = a.o.TLSConfig.Clone()
	}
	c.ServerName = host
	return c
}

// classify turns err into a *parley.MailServerError for server, with
// password (if any) never in its text.
func classify(server string, s parley.MailServer, err error, password string) error {
	if err == nil {
		return nil
	}
	var mse *parley.MailServerError
	if errors.As(err, &mse) {
		return mse
	}
	kind, msg := parley.MailErrProtocol, err.Error()
	var (
		cert    *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		inval   x509.CertificateInvalidError
		rec     tls.RecordHeaderError
		alert   tls.AlertError
		dnsErr  *net.DNSError
		opErr   *net.OpError
		smtpErr *smtp.SMTPError
	)
	switch {
	case errors.Is(err, parley.ErrNotPublic):
		return refused(server, s.Host)
	case errors.As(err, &cert), errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &inval),
		errors.As(err, &rec), errors.As(err, &alert), strings.Contains(msg, "tls:"):
		kind = parley.MailErrTLS
		msg = "TLS failed with " + s.Host + ": " + msg
	case errors.As(err, &dnsErr):
		kind, msg = parley.MailErrUnreachable, "cannot resolve "+s.Host
	case errors.As(err, &opErr), errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED):
		kind = parley.MailErrUnreachable
		msg = fmt.Sprintf("cannot reach %s port %d: %s", s.Host, s.Port, errText(err))
	case connErr(err):
		kind = parley.MailErrUnreachable
		msg = fmt.Sprintf("%s port %d closed the connection", s.Host, s.Port)
	case errors.As(err, &smtpErr) && (smtpErr.Code == 535 || smtpErr.Code == 534 || smtpErr.Code == 530):
		kind, msg = parley.MailErrAuth, "authentication failed: "+smtpErr.Message
	}
	msg = strings.TrimPrefix(scrub(msg, password), server+": ")
	return &parley.MailServerError{Server: server, Kind: kind, Msg: limit(msg, 300)}
}

// connErr reports whether err is the connection's rather than a NO or BAD
// the server answered (go-imap gives those as plain errors).
func connErr(err error) bool {
	var opErr *net.OpError
	var ne net.Error
	return errors.As(err, &opErr) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection closed")
}

// scrub removes password from a server's text.
func scrub(text, password string) string {
	if password == "" {
		return text
	}
	return strings.ReplaceAll(text, password, "…")
}

func errText(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}

func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// ----- IMAP -----

// IMAPConn is a logged-in IMAP connection to one account. It is not safe
// for concurrent use.
type IMAPConn struct {
	a        *Accounts
	s        parley.MailServer
	password string
	c        *client.Client
	changed  chan struct{} // the selected folder has changed (EXISTS)
	done     chan struct{} // closed by Close
	stopCtx  func() bool
}

// DialIMAP connects to s, negotiates TLS as s.TLS says and logs in. Until
// Close, cancelling ctx closes the connection. Errors are
// *parley.MailServerError; the password is never in them.
func (a *Accounts) DialIMAP(ctx context.Context, s parley.MailServer, password string) (parley.IMAPSession, error) {
	conn, err := a.dial(ctx, "imap", s)
	if err != nil {
		return nil, err
	}
	if s.TLS == parley.MailTLS {
		tc := tls.Client(conn, a.tlsConfig(s.Host))
		_ = tc.SetDeadline(time.Now().Add(a.o.Timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, classify("imap", s, err, password)
		}
		conn = tc
	}
	_ = conn.SetDeadline(time.Now().Add(a.o.Timeout))
	c, err := client.New(conn)
	if err != nil {
		conn.Close()
		return nil, classify("imap", s, err, password)
	}
	c.Timeout = a.o.Timeout
	ic := &IMAPConn{a: a, s: s, password: password, c: c, changed: make(chan struct{}, 1), done: make(chan struct{})}
	updates := make(chan client.Update, 16)
	c.Updates = updates
	go func() {
		for {
			select {
			case u := <-updates:
				if _, ok := u.(*client.MailboxUpdate); ok {
					select {
					case ic.changed <- struct{}{}:
					default:
					}
				}
			case <-ic.done:
				return
			}
		}
	}()
	ic.stopCtx = context.AfterFunc(ctx, func() { _ = c.Terminate() })
	fail := func(err error) (parley.IMAPSession, error) {
		ic.Close()
		return nil, err
	}
	if s.TLS == parley.MailStartTLS {
		if ok, err := c.SupportStartTLS(); err != nil {
			return fail(classify("imap", s, err, password))
		} else if !ok {
			return fail(&parley.MailServerError{Server: "imap", Kind: parley.MailErrTLS, Msg: s.Host + " does not offer STARTTLS"})
		}
		if err := c.StartTLS(a.tlsConfig(s.Host)); err != nil {
			return fail(classify("imap", s, err, password))
		}
	}
	if err := c.Login(s.Username, password); err != nil {
		if !connErr(err) {
			return fail(&parley.MailServerError{Server: "imap", Kind: parley.MailErrAuth,
				Msg: limit("authentication failed: "+scrub(strings.TrimPrefix(err.Error(), "imap: "), password), 300)})
		}
		return fail(classify("imap", s, err, password))
	}
	return ic, nil
}

// Close logs out and closes the connection.
func (c *IMAPConn) Close() {
	select {
	case <-c.done:
		return
	default:
	}
	close(c.done)
	c.stopCtx()
	c.c.Timeout = 5 * time.Second
	if err := c.c.Logout(); err != nil {
		_ = c.c.Terminate()
	}
}

func (c *IMAPConn) err(err error) error { return classify("imap", c.s, err, c.password) }

// Select opens folder read-only (EXAMINE: no flag changes, nothing
// expunged) and returns its UIDVALIDITY and UIDNEXT.
func (c *IMAPConn) Select(folder string) (uidValidity, uidNext uint32, err error) {
	mb, err := c.c.Select(folder, true)
	if err != nil {
		if !connErr(err) {
			return 0, 0, &parley.MailServerError{Server: "imap", Kind: parley.MailErrFolder, Msg: limit(fmt.Sprintf("cannot open folder %q: %v", folder, err), 300)}
		}
		return 0, 0, c.err(err)
	}
	next := mb.UidNext
	if next == 0 { // servers that do not say: ask
		st, err := c.c.Status(folder, []imap.StatusItem{imap.StatusUidNext})
		if err != nil {
			return 0, 0, c.err(err)
		}
		next = st.UidNext
	}
	return mb.UidValidity, next, nil
}

// UIDsAfter returns the UIDs above uid in the selected folder, in order.
func (c *IMAPConn) UIDsAfter(uid uint32) ([]uint32, error) {
	if uid == ^uint32(0) {
		return nil, nil
	}
	seq := new(imap.SeqSet)
	seq.AddRange(uid+1, 0)
	uids, err := c.c.UidSearch(&imap.SearchCriteria{Uid: seq})
	if err != nil {
		return nil, c.err(err)
	}
	// "n:*" holds the highest UID even when it is below n.
	uids = slices.DeleteFunc(uids, func(u uint32) bool { return u <= uid })
	slices.Sort(uids)
	return uids, nil
}

// UIDsSince returns the UIDs of the messages of the selected folder that
// the server received at or after t (its INTERNALDATE), in order.
func (c *IMAPConn) UIDsSince(t time.Time) ([]uint32, error) {
	uids, err := c.c.UidSearch(&imap.SearchCriteria{Since: t.Add(-24 * time.Hour)})
	if err != nil || len(uids) == 0 {
		return nil, c.err(err)
	}
	seq := new(imap.SeqSet)
	seq.AddNum(uids...)
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() { done <- c.c.UidFetch(seq, []imap.FetchItem{imap.FetchUid, imap.FetchInternalDate}, ch) }()
	var out []uint32
	for m := range ch {
		if !m.InternalDate.Before(t) {
			out = append(out, m.Uid)
		}
	}
	if err := <-done; err != nil {
		return nil, c.err(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Fetch reads message uid of the selected folder without marking it seen
// (BODY.PEEK) and parses it (Parse). A message over MaxMessageBytes is
// ETOOLARGE and not read; one that cannot be parsed EINVALID; a UID that no
// longer exists ENOTFOUND. Any other error is the connection's.
func (c *IMAPConn) Fetch(uid uint32) (*parley.InboundEmail, error) {
	seq := new(imap.SeqSet)
	seq.AddNum(uid)
	size, found := uint32(0), false
	ch := make(chan *imap.Message, 1)
	done := make(chan error, 1)
	go func() { done <- c.c.UidFetch(seq, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size}, ch) }()
	for m := range ch {
		if m.Uid == uid {
			size, found = m.Size, true
		}
	}
	if err := <-done; err != nil {
		return nil, c.err(err)
	}
	if !found {
		return nil, parley.Errorf(parley.ENOTFOUND, "message uid %d is gone", uid)
	}
	if int64(size) > c.a.o.MaxMessageBytes {
		return nil, parley.Errorf(parley.ETOOLARGE, "message uid %d has %d bytes, more than %d", uid, size, c.a.o.MaxMessageBytes)
	}
	section := &imap.BodySectionName{Peek: true}
	ch = make(chan *imap.Message, 1)
	go func() { done <- c.c.UidFetch(seq, []imap.FetchItem{imap.FetchUid, section.FetchItem()}, ch) }()
	var raw []byte
	var readErr error
	for m := range ch {
		if r := m.GetBody(section); r != nil && m.Uid == uid {
			raw, readErr = io.ReadAll(io.LimitReader(r, c.a.o.MaxMessageBytes+1))
		}
	}
	if err := <-done; err != nil {
		return nil, c.err(err)
	}
	if readErr != nil {
		return nil, c.err(readErr)
	}
	if raw == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "message uid %d is gone", uid)
	}
	if int64(len(raw)) > c.a.o.MaxMessageBytes {
		return nil, parley.Errorf(parley.ETOOLARGE, "message uid %d is larger than %d bytes", uid, c.a.o.MaxMessageBytes)
	}
	e, err := Parse(bytes.NewReader(raw))
	if err != nil {
		if parley.ErrorCode(err) == parley.EINVALID {
			return nil, err
		}
		return nil, parley.Errorf(parley.EINVALID, "message uid %d: %v", uid, err)
	}
	return e, nil
}

// CanIdle reports whether the server offers IDLE.
func (c *IMAPConn) CanIdle() bool {
	ok, err := c.c.Support("IDLE")
	return err == nil && ok
}

// Wait returns when the selected folder may have new mail: the server
// announced it during IDLE, or, without IDLE, poll has passed; with IDLE it
// also returns after recheck, so that a dead connection is noticed. It
// returns the connection's error, or ctx.Err().
func (c *IMAPConn) Wait(ctx context.Context, poll, recheck time.Duration) error {
	select {
	case <-c.changed: // announced while busy
		return nil
	default:
	}
	if !c.CanIdle() {
		t := time.NewTimer(poll)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-c.c.LoggedOut():
			return c.err(errors.New("connection closed by the server"))
		}
	}
	// No deadline on the IDLE itself: the server may stay quiet for long.
	c.c.Timeout = 0
	defer func() { c.c.Timeout = c.a.o.Timeout }()
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- c.c.Idle(stop, &client.IdleOptions{LogoutTimeout: 20 * time.Minute}) }()
	t := time.NewTimer(recheck)
	defer t.Stop()
	select {
	case err := <-done:
		return c.err(firstErr(err, errors.New("idle ended")))
	case <-c.changed:
	case <-t.C:
	case <-ctx.Done():
		close(stop)
		<-done
		return ctx.Err()
	}
	close(stop)
	return c.err(<-done)
}

func firstErr(err, or error) error {
	if err != nil {
		return err
	}
	return or
}

// SentFolder returns the folder sent mail goes to: name if set, else the
// one the server marks \Sent (SPECIAL-USE), else "Sent" if it exists.
// ENOTFOUND when there is none.
func (c *IMAPConn) SentFolder(name string) (string, error) {
	if name != "" {
		return name, nil
	}
	ch := make(chan *imap.MailboxInfo, 32)
	done := make(chan error, 1)
	go func() { done <- c.c.List("", "*", ch) }()
	special, plain := "", ""
	for mi := range ch {
		if slices.Contains(mi.Attributes, imap.SentAttr) && special == "" {
			special = mi.Name
		}
		if strings.EqualFold(mi.Name, "Sent") || strings.EqualFold(mi.Name, "INBOX"+mi.Delimiter+"Sent") {
			plain = mi.Name
		}
	}
	if err := <-done; err != nil {
		return "", c.err(err)
	}
	switch {
	case special != "":
		return special, nil
	case plain != "":
		return plain, nil
	}
	return "", &parley.MailServerError{Server: "imap", Kind: parley.MailErrFolder, Msg: "the account has no folder marked \\Sent and none named Sent"}
}

// Append stores raw in folder, flagged \Seen, dated date.
func (c *IMAPConn) Append(folder string, raw []byte, date time.Time) error {
	if err := c.c.Append(folder, []string{imap.SeenFlag}, date, literal{bytes.NewReader(raw)}); err != nil {
		return c.err(err)
	}
	return nil
}

type literal struct{ *bytes.Reader }

func (l literal) Len() int { return int(l.Size()) }

// ----- SMTP -----

// Render returns e as the bytes of an RFC 5322 message (Build), as it is
// sent and stored in a Sent folder.
func (a *Accounts) Render(e *parley.Email) ([]byte, error) {
	m, err := Build(context.Background(), e, a.o.Blobs)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "render email: %v", err)
	}
	return b.Bytes(), nil
}

// smtpClient connects to s, negotiates TLS and logs in.
func (a *Accounts) smtpClient(ctx context.Context, s parley.MailServer, password string) (*smtp.Client, error) {
	conn, err := a.dial(ctx, "smtp", s)
	if err != nil {
		return nil, err
	}
	if s.TLS == parley.MailTLS {
		tc := tls.Client(conn, a.tlsConfig(s.Host))
		_ = tc.SetDeadline(time.Now().Add(a.o.Timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, classify("smtp", s, err, password)
		}
		_ = tc.SetDeadline(time.Time{})
		conn = tc
	}
	var c *smtp.Client
	if s.TLS == parley.MailStartTLS {
		// go-smtp greets as "localhost" before STARTTLS.
		_ = conn.SetDeadline(time.Now().Add(a.o.Timeout))
		c, err = smtp.NewClientStartTLS(conn, a.tlsConfig(s.Host))
		if err != nil {
			conn.Close()
			if strings.Contains(err.Error(), "doesn't support STARTTLS") {
				return nil, &parley.MailServerError{Server: "smtp", Kind: parley.MailErrTLS, Msg: s.Host + " does not offer STARTTLS"}
			}
			return nil, classify("smtp", s, err, password)
		}
		_ = conn.SetDeadline(time.Time{})
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout = a.o.Timeout
	c.SubmissionTimeout = 2 * a.o.Timeout
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	fail := func(err error) (*smtp.Client, error) {
		stop()
		c.Close()
		return nil, classify("smtp", s, err, password)
	}
	if s.TLS != parley.MailStartTLS {
		if err := c.Hello(a.o.HELO); err != nil {
			return fail(err)
		}
	}
	if err := c.Auth(sasl.NewPlainClient("", s.Username, password)); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return fail(&parley.MailServerError{Server: "smtp", Kind: parley.MailErrAuth,
				Msg: limit("authentication failed: "+scrub(se.Message, password), 300)})
		}
		return fail(err)
	}
	stop()
	return c, nil
}

// CheckSMTP connects to s and logs in, and sends nothing.
func (a *Accounts) CheckSMTP(ctx context.Context, s parley.MailServer, password string) error {
	c, err := a.smtpClient(ctx, s, password)
	if err != nil {
		return err
	}
	_ = c.Quit()
	return nil
}

// SendSMTP sends raw, the rendering of e (Render), through s to e's To, Cc
// and Bcc (Bcc is in no header) and returns once the server has accepted it. A refusal for good (5xx) is a parley
// error with code EINVALID; any other error is worth a retry.
func (a *Accounts) SendSMTP(ctx context.Context, s parley.MailServer, password string, e *parley.Email, raw []byte) error {
	c, err := a.smtpClient(ctx, s, password)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	to := make([]string, 0, len(e.To)+len(e.Cc)+len(e.Bcc))
	for _, list := range [][]parley.Address{e.To, e.Cc, e.Bcc} {
		for _, t := range list {
			to = append(to, t.Email)
		}
	}
	if err := c.SendMail(e.From.Email, to, bytes.NewReader(raw)); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return parley.Errorf(parley.EINVALID, "smtp server %s refused the mail: %s", s.Host, limit(scrub(se.Message, password), 300))
		}
		return classify("smtp", s, err, password)
	}
	_ = c.Quit()
	return nil
}
