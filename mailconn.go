package parley

import (
	"context"
	"net"
	"strings"
	"time"
)

// Connected mailboxes (E1): a Mailbox whose mail is fetched from an
// existing account over IMAP and whose replies leave through that account's
// own SMTP server, instead of Parley's SMTP receiver and sender.

// TLS modes of a MailServer.
const (
	MailTLS      = "tls"      // TLS from the first byte (IMAP 993, SMTP 465)
	MailStartTLS = "starttls" // plain connection upgraded with STARTTLS, required
	MailNoTLS    = "none"     // plain text, passwords too: only where the operator allows it
)

// MailServer is how Parley reaches one server of a connected mailbox.
type MailServer struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	TLS      string `json:"tls"` // MailTLS, MailStartTLS or MailNoTLS
	Username string `json:"username"`
	// Password is the password sealed with the operator's secret key,
	// never the password itself; "" when none is stored.
	Password string `json:"password,omitempty"`
}

// MailConnection connects a Mailbox to an existing mail account.
type MailConnection struct {
	IMAP MailServer `json:"imap"`
	SMTP MailServer `json:"smtp"`
	// Folder is the IMAP folder that mail is imported from. Defaults to
	// INBOX.
	Folder string `json:"folder,omitempty"`
	// SentFolder is where sent replies are stored; "" means the folder
	// the server marks \Sent (SPECIAL-USE), else one named "Sent".
	SentFolder string `json:"sentFolder,omitempty"`
	// ConnectedAt is when the connection was made: mail that was in the
	// folder before is not imported.
	ConnectedAt time.Time `json:"connectedAt"`
}

// ImportFolder returns the folder mail is imported from.
func (c *MailConnection) ImportFolder() string {
	if c.Folder == "" {
		return "INBOX"
	}
	return c.Folder
}

// DefaultMailPort returns the usual port of an IMAP (imap true) or SMTP
// server in TLS mode tls.
func DefaultMailPort(imap bool, tls string) int {
	switch {
	case imap && tls == MailTLS:
		return 993
	case imap:
		return 143
	case tls == MailTLS:
		return 465
	case tls == MailStartTLS:
		return 587
	default:
		return 25
	}
}

// NormalizeMailServer fills in s's default TLS mode (MailTLS) and port and
// trims its host, then checks it: a host name or address, a port from 1 to
// 65535, a known TLS mode and a user name, each of bounded length. field
// names the server in errors ("imap", "smtp"). Whether the host may be
// reached is the caller's to check.
func NormalizeMailServer(field string, s *MailServer, imap bool) error {
	s.Host = strings.TrimSpace(s.Host)
	if s.TLS == "" {
		s.TLS = MailTLS
	}
	switch s.TLS {
	case MailTLS, MailStartTLS, MailNoTLS:
	default:
		return Errorf(EINVALID, "%s.tls must be tls, starttls or none", field)
	}
	if s.Port == 0 {
		s.Port = DefaultMailPort(imap, s.TLS)
	}
	if s.Host == "" || len(s.Host) > 253 || strings.ContainsAny(s.Host, " \t\r\n/@[]%") ||
		strings.Contains(s.Host, ":") && net.ParseIP(s.Host) == nil {
		return Errorf(EINVALID, "%s.host must be a host name or an IP address", field)
	}
	if s.Port < 1 || s.Port > 65535 {
		return Errorf(EINVALID, "%s.port must be from 1 to 65535", field)
	}
	if strings.TrimSpace(s.Username) == "" || len(s.Username) > MaxNameBytes || strings.ContainsAny(s.Username, "\r\n\x00") {
		return Errorf(EINVALID, "%s.username is required (at most %d bytes, one line)", field, MaxNameBytes)
	}
	return nil
}

// ValidateMailFolder checks the name of an IMAP folder: one line of at
// most MaxNameBytes. field names it in errors.
func ValidateMailFolder(field, name string) error {
	if len(name) > MaxNameBytes || strings.ContainsAny(name, "\r\n\x00*%") {
		return Errorf(EINVALID, "%s must be one folder name of at most %d bytes, without * or %%", field, MaxNameBytes)
	}
	return nil
}

// Kinds of MailServerError.
const (
	MailErrRefused     = "refused"     // the host is loopback or private and that is not allowed
	MailErrUnreachable = "unreachable" // no such host, no answer, connection refused
	MailErrTLS         = "tls"         // the TLS handshake or the certificate failed
	MailErrInsecure    = "insecure"    // plain-text login where the operator does not allow it
	MailErrAuth        = "auth"        // the server refused the user name or password
	MailErrFolder      = "folder"      // the folder is missing
	MailErrProtocol    = "protocol"    // anything else the server answered
)

// MailServerError is why Parley could not use a server of a connected
// mailbox. Its text never holds a password.
type MailServerError struct {
	Server string // "imap" or "smtp"
	Kind   string // MailErrRefused, …
	Msg    string
}

func (e *MailServerError) Error() string { return e.Server + ": " + e.Msg }

// MailAccounts reaches the servers of connected mailboxes; *mail.Accounts
// implements it. Its errors about a server are *MailServerError and never
// hold a password.
type MailAccounts interface {
	// CheckServer checks before anything is stored that s (of server
	// "imap" or "smtp") may be used: its TLS mode is allowed and its host
	// is one Parley may connect to.
	CheckServer(ctx context.Context, server string, s MailServer) error
	// DialIMAP connects to s and logs in; cancelling ctx closes the
	// connection.
	DialIMAP(ctx context.Context, s MailServer, password string) (IMAPSession, error)
	// CheckSMTP connects to s and logs in, and sends nothing.
	CheckSMTP(ctx context.Context, s MailServer, password string) error
	// Render returns e as the message's bytes, as SendSMTP sends them.
	Render(e *Email) ([]byte, error)
	// SendSMTP sends raw, the rendering of e, through s, and returns once
	// the server has accepted it. A refusal for good is EINVALID; any
	// other error is worth a retry.
	SendSMTP(ctx context.Context, s MailServer, password string, e *Email, raw []byte) error
}

// IMAPSession is a logged-in IMAP connection. It is not safe for
// concurrent use.
type IMAPSession interface {
	// Select opens folder read-only and returns its UIDVALIDITY and
	// UIDNEXT.
	Select(folder string) (uidValidity, uidNext uint32, err error)
	// UIDsAfter returns the UIDs above uid in the selected folder, in
	// order.
	UIDsAfter(uid uint32) ([]uint32, error)
	// UIDsSince returns the UIDs of the messages the server received at
	// or after t, in order.
	UIDsSince(t time.Time) ([]uint32, error)
	// Fetch reads and parses message uid without marking it seen: too
	// large is ETOOLARGE, unparsable EINVALID, gone ENOTFOUND; other errors
	// are the connection's.
	Fetch(uid uint32) (*InboundEmail, error)
	// CanIdle reports whether the server offers IDLE.
	CanIdle() bool
	// Wait returns when the selected folder may have changed: announced
	// during IDLE, or after poll without IDLE; with IDLE also after
	// recheck.
	Wait(ctx context.Context, poll, recheck time.Duration) error
	// SentFolder returns name if set, else the folder marked \Sent, else
	// one named Sent.
	SentFolder(name string) (string, error)
	// Append stores raw in folder, flagged \Seen.
	Append(folder string, raw []byte, date time.Time) error
	// Close logs out.
	Close()
}
