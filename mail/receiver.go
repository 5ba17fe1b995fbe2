package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parley-chat/parley"
)

// MaxLineBytes is the longest line, without its CRLF, that the receiver
// takes, in a command or in a message. RFC 5322 allows 998 bytes, but real
// mailers send HTML with far longer lines; a message with a longer line is
// refused with 554 and the connection closed. The whole message stays
// bounded by ReceiverOptions.MaxMessageBytes.
const MaxLineBytes = 64 << 10

// ReceiverOptions configures NewReceiver. Recipient and Deliver are
// required; the other fields take the documented defaults when zero.
type ReceiverOptions struct {
	// Domain is the name the receiver greets with. Defaults to "localhost".
	Domain string
	// MaxMessageBytes is the largest message accepted; larger ones are
	// refused with 552. Defaults to 25 MiB.
	MaxMessageBytes int64
	// MaxRecipients is how many RCPT TO one message may have. Defaults to 50.
	MaxRecipients int
	// ReadTimeout bounds the wait for each command line from a client,
	// WriteTimeout each reply. Default to 60s each.
	ReadTimeout, WriteTimeout time.Duration
	// DataTimeout bounds one message's whole DATA, from the DATA command to
	// its final dot, however steadily it trickles in: a message still
	// arriving then is refused with 421, nothing of it is delivered, and
	// the connection is closed. Defaults to 10 minutes (RFC 5321's wait
	// for the final dot), which takes a 25 MiB message at 44 KB/s.
	DataTimeout time.Duration
	// SessionTimeout bounds a whole connection, however busy it keeps:
	// once it has passed, the next wait for a command ends the connection
	// with 421. Defaults to 30 minutes.
	SessionTimeout time.Duration
	// DeliverTimeout bounds each call of Recipient and Deliver. Defaults
	// to 30s.
	DeliverTimeout time.Duration

	// Recipient decides whether mail for the address addr is taken: nil
	// takes it, a parley error with code ENOTFOUND refuses it with 550, any
	// other error with 451 (try again later).
	Recipient func(ctx context.Context, addr string) error
	// Deliver stores one parsed message; e.Recipients are the envelope's
	// accepted recipients, e.EnvelopeFrom its sender (parley.NullSender for
	// MAIL FROM:<>, which also sets e.Auto: a bounce is automatic mail).
	// nil answers 250. A parley error with code
	// EINVALID refuses the message for good (554); ESTORAGE asks the
	// sender to retry with 452 (no room), any other error with 451. Deliver may be called again for the same
	// message (a retry) and should then store it once.
	Deliver func(ctx context.Context, e *parley.InboundEmail) error
	// ErrorLog receives the receiver's errors (failed connections, Deliver
	// errors). Defaults to none.
	ErrorLog func(msg string, err error)
}

// Receiver is an SMTP server that takes mail for Parley's inboxes. Create
// it with NewReceiver, run it with Serve and stop it with Shutdown. It is
// safe for concurrent use.
type Receiver struct {
	o   ReceiverOptions
	srv *smtp.Server
}

// NewReceiver returns a receiver with the options o.
func NewReceiver(o ReceiverOptions) (*Receiver, error) {
	if o.Recipient == nil || o.Deliver == nil {
		return nil, errors.New("mail receiver: Recipient and Deliver are required")
	}
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 25 << 20
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 50
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.DataTimeout <= 0 {
		o.DataTimeout = 10 * time.Minute
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 30 * time.Minute
	}
	if o.DeliverTimeout <= 0 {
		o.DeliverTimeout = 30 * time.Second
	}
	if o.ErrorLog == nil {
		o.ErrorLog = func(string, error) {}
	}
	rc := &Receiver{o: o}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{rc: rc, conn: c.Conn()}, nil
	}))
	srv.Domain = o.Domain
	srv.MaxMessageBytes = o.MaxMessageBytes
	srv.MaxRecipients = o.MaxRecipients
	// go-smtp counts a line's CRLF, and the LF before it, in its length.
	srv.MaxLineLength = MaxLineBytes + 2
	srv.ReadTimeout = o.ReadTimeout
	srv.WriteTimeout = o.WriteTimeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = logAdapter{o.ErrorLog}
	rc.srv = srv
	return rc, nil
}

// Serve accepts SMTP connections on ln until Shutdown; it then returns nil.
func (rc *Receiver) Serve(ln net.Listener) error {
	err := rc.srv.Serve(boundedListener{Listener: ln, d: rc.o.SessionTimeout})
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// open ones to finish; then it closes them.
func (rc *Receiver) Shutdown(ctx context.Context) error {
	err := rc.srv.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	if err != nil {
		_ = rc.srv.Close()
	}
	return err
}

type logAdapter struct{ log func(string, error) }

func (l logAdapter) Printf(format string, v ...any) {
	l.log("smtp receiver", fmt.Errorf(format, v...))
}
func (l logAdapter) Println(v ...any) {
	l.log("smtp receiver", errors.New(strings.TrimSpace(fmt.Sprintln(v...))))
}

// boundedListener gives each connection an end, d after it was accepted,
// that no read deadline set later goes past (SessionTimeout).
type boundedListener struct {
	net.Listener
	d time.Duration
}

func (l boundedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	bc := &boundedConn{Conn: c, end: time.Now().Add(l.d)}
	_ = bc.SetReadDeadline(time.Time{})
	return bc, nil
}

// boundedConn caps every read deadline at end. Write deadlines stay as
// set, so the last reply (421) still reaches the client.
type boundedConn struct {
	net.Conn
	end time.Time
}

func (c *boundedConn) capped(t time.Time) time.Time {
	if t.IsZero() || t.After(c.end) {
		return c.end
	}
	return t
}

func (c *boundedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *boundedConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.capped(t)) }

// CloseWrite shuts down the sending side of a TCP connection.
func (c *boundedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// session is one SMTP conversation; go-smtp calls it from one goroutine.
type session struct {
	rc    *Receiver
	conn  net.Conn
	from  string
	rcpts []string
	// hangUp: DATA ran out of time or had too long a line and the stream
	// is no longer in step, so the connection ends once go-smtp has sent
	// the reply. linger: the client is likely still sending its message,
	// so the rest is read and dropped first (see lingerClose).
	hangUp, linger bool
}

func (s *session) Reset() {
	s.from, s.rcpts = "", nil
	if s.hangUp {
		if s.linger {
			lingerClose(s.conn, s.rc.o.MaxMessageBytes, lingerTimeout)
		} else {
			_ = s.conn.Close()
		}
		s.hangUp, s.linger = false, false
	}
}

// lingerTimeout bounds how long lingerClose reads what a client still
// sends.
const lingerTimeout = 5 * time.Second

// lingerClose closes c once the client has had the reply: it shuts down
// the sending side, then reads and drops what the client still sends, at
// most limit bytes for at most d, before it closes. Closed at once, with
// the client's data unread, the connection would be reset, and a client
// still writing its message would see the reset instead of the reply and
// try again later.
func lingerClose(c net.Conn, limit int64, d time.Duration) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, _ = io.CopyN(io.Discard, c, limit)
	_ = c.Close()
}

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.Reset()
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	addr, err := parley.NormalizeEmail(to)
	if err != nil {
		return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.rc.o.DeliverTimeout)
	defer cancel()
	if err := s.rc.o.Recipient(ctx, addr); parley.ErrorCode(err) == parley.ENOTFOUND {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here: " + addr}
	} else if err != nil {
		s.rc.o.ErrorLog("check recipient", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	for _, r := range s.rcpts {
		if r == addr {
			return nil
		}
	}
	s.rcpts = append(s.rcpts, addr)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if len(s.rcpts) == 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
	}
	// go-smtp sets no deadline while DATA arrives: this one bounds it all.
	_ = s.conn.SetReadDeadline(time.Now().Add(s.rc.o.DataTimeout))
	e, err := Parse(r)
	var tooLarge *smtp.SMTPError
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.hangUp = true
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Message not received in time, closing connection"}
	} else if errors.Is(err, smtp.ErrTooLongLine) {
		// The rest of the line is unread: the stream is out of step.
		s.hangUp, s.linger = true, true
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: fmt.Sprintf("Message refused: a line is longer than %d bytes, closing connection", MaxLineBytes)}
	} else if errors.As(err, &tooLarge) {
		return err // go-smtp's own answer: 552 message too large
	} else if parley.ErrorCode(err) == parley.EINVALID {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message: " + smtpLine(parley.ErrorMessage(err))}
	} else if err != nil {
		return err
	}
	e.Recipients = append([]string(nil), s.rcpts...)
	e.EnvelopeFrom = s.from
	if s.from == "" {
		e.EnvelopeFrom = parley.NullSender // MAIL FROM:<>, a bounce
		if e.Auto == "" {
			e.Auto = "empty envelope sender"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.rc.o.DeliverTimeout)
	defer cancel()
	if err := s.rc.o.Deliver(ctx, e); parley.ErrorCode(err) == parley.EINVALID || parley.ErrorCode(err) == parley.ETOOLARGE {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Message refused: " + smtpLine(parley.ErrorMessage(err))}
	} else if parley.ErrorCode(err) == parley.ERATELIMIT {
		// Expected under a flood: answered, not logged.
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Try again later: " + smtpLine(parley.ErrorMessage(err))}
	} else if parley.ErrorCode(err) == parley.ESTORAGE {
		// The disk is full or failing: RFC 5321's 452 and RFC 3463's
		// "mail system full"; the sender retries. The store logs the
		// burst once.
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage, try again later"}
	} else if err != nil {
		s.rc.o.ErrorLog("deliver mail", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	return nil
}

// smtpLine makes msg safe for one SMTP reply line: ASCII, no control
// characters, at most 200 bytes.
func smtpLine(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if r > 0x7e {
			return '?'
		}
		return r
	}, msg)
	return cleanLine(msg, 200)
}
