package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/imaptest"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

func imapServer(t *testing.T, srv *imaptest.Server, password string) parley.MailServer {
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	return parley.MailServer{Host: host, Port: p, TLS: parley.MailNoTLS, Username: "team@example.com"}
}

// TestAccountsRefuse: without the operator's permission, loopback hosts
// and plain text are refused before and at connecting, and errors never
// hold the password.
func TestAccountsRefuse(t *testing.T) {
	srv := imaptest.Start(t, map[string]string{"team@example.com": "pw-Secret-1"}, nil)
	s := imapServer(t, srv, "pw-Secret-1")
	ctx := context.Background()
	var mse *parley.MailServerError

	strict := mail.NewAccounts(&mail.AccountOptions{AllowInsecure: true})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		s.Host = host
		if err := strict.CheckServer(ctx, "imap", s); !errors.As(err, &mse) || mse.Kind != parley.MailErrRefused {
			t.Errorf("check %s: %v, want refused", host, err)
		}
		// The dial checks the address it connects to, whatever was checked
		// before.
		if _, err := strict.DialIMAP(ctx, s, "pw-Secret-1"); !errors.As(err, &mse) || mse.Kind != parley.MailErrRefused {
			t.Errorf("dial %s: %v, want refused", host, err)
		}
	}
	s.Host = "127.0.0.1"
	plain := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true})
	if _, err := plain.DialIMAP(ctx, s, "pw-Secret-1"); !errors.As(err, &mse) || mse.Kind != parley.MailErrInsecure {
		t.Errorf("plain text: %v, want insecure", err)
	}
	open := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true, AllowInsecure: true})
	if _, err := open.DialIMAP(ctx, s, "wrong-Secret-2"); !errors.As(err, &mse) || mse.Kind != parley.MailErrAuth || strings.Contains(err.Error(), "wrong-Secret-2") {
		t.Errorf("wrong password: %v, want auth without the password", err)
	}
}

// TestIMAPConn: reading, idling and appending against Dovecot.
func TestIMAPConn(t *testing.T) {
	srv := imaptest.Start(t, map[string]string{"team@example.com": "pw-Secret-1"}, nil)
	s := imapServer(t, srv, "pw-Secret-1")
	acc := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true, AllowInsecure: true, MaxMessageBytes: 2000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.Append("team@example.com", "pw-Secret-1", "INBOX", []byte("From: Ann <ann@example.org>\r\nSubject: One\r\nMessage-ID: <one@example.org>\r\n\r\nfirst\r\n"))
	srv.Append("team@example.com", "pw-Secret-1", "INBOX", []byte("From: ann@example.org\r\nSubject: Big\r\n\r\n"+strings.Repeat("x", 3000)+"\r\n"))
	srv.Append("team@example.com", "pw-Secret-1", "INBOX", []byte("Subject: no sender\r\n\r\nx\r\n"))

	c, err := acc.DialIMAP(ctx, s, "pw-Secret-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uv, next, err := c.Select("INBOX")
	if err != nil || uv == 0 || next != 4 {
		t.Fatalf("select: %d %d %v", uv, next, err)
	}
	if _, _, err := c.Select("Nope"); err == nil {
		t.Error("select of a missing folder: no error")
	}
	if _, _, err := c.Select("INBOX"); err != nil {
		t.Fatal(err)
	}
	uids, err := c.UIDsAfter(1)
	if err != nil || !slices.Equal(uids, []uint32{2, 3}) {
		t.Fatalf("uids after 1: %v %v", uids, err)
	}
	if uids, err := c.UIDsAfter(3); err != nil || len(uids) != 0 {
		t.Errorf("uids after the last: %v %v, want none", uids, err)
	}
	e, err := c.Fetch(1)
	if err != nil || e.MessageID != "one@example.org" || e.From.Email != "ann@example.org" || e.Subject != "One" {
		t.Fatalf("fetch 1: %+v %v", e, err)
	}
	for uid, code := range map[uint32]string{2: parley.ETOOLARGE, 3: parley.EINVALID, 9: parley.ENOTFOUND} {
		if _, err := c.Fetch(uid); parley.ErrorCode(err) != code {
			t.Errorf("fetch %d: %v, want %s", uid, err, code)
		}
	}
	if !c.CanIdle() {
		t.Error("dovecot offers no IDLE")
	}
	// What selecting announced ends the first Wait at once; then new mail
	// ends a Wait that would otherwise last a minute.
	if err := c.Wait(ctx, time.Minute, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait(ctx, time.Minute, time.Minute) }()
	time.Sleep(200 * time.Millisecond) // let the IDLE begin; it ends either way
	srv.Append("team@example.com", "pw-Secret-1", "INBOX", []byte("From: bob@example.org\r\nSubject: Two\r\n\r\nsecond\r\n"))
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("wait did not end on new mail")
	}
	if uids, err := c.UIDsAfter(3); err != nil || !slices.Equal(uids, []uint32{4}) {
		t.Errorf("uids after 3: %v %v", uids, err)
	}
	folder, err := c.SentFolder("")
	if err != nil || folder != "Sent" {
		t.Fatalf("sent folder: %q %v", folder, err)
	}
	if err := c.Append(folder, []byte("From: team@example.com\r\nTo: ann@example.org\r\nSubject: Re: One\r\n\r\nreply\r\n"), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, m := range srv.Messages("team@example.com", "pw-Secret-1", "INBOX") {
		if slices.Contains(m.Flags, `\Seen`) {
			t.Errorf("uid %d marked seen by reading it", m.UID)
		}
	}
	if sent := srv.Messages("team@example.com", "pw-Secret-1", "Sent"); len(sent) != 1 || !slices.Contains(sent[0].Flags, `\Seen`) {
		t.Errorf("sent %+v, want one seen", sent)
	}
}

// TestAccountsTLS: certificates are verified. A server whose certificate
// no trusted CA signed is a TLS failure, with implicit TLS and with
// STARTTLS; trusted, both log in.
func TestAccountsTLS(t *testing.T) {
	srv := imaptest.Start(t, map[string]string{"team@example.com": "pw-Secret-1"}, &imaptest.Options{TLS: true})
	ctx := context.Background()
	_, tlsPort, _ := net.SplitHostPort(srv.TLSAddr)
	_, plainPort, _ := net.SplitHostPort(srv.Addr)
	servers := map[string]parley.MailServer{
		parley.MailTLS:      {Host: "127.0.0.1", TLS: parley.MailTLS, Username: "team@example.com"},
		parley.MailStartTLS: {Host: "127.0.0.1", TLS: parley.MailStartTLS, Username: "team@example.com"},
	}
	for mode, s := range servers {
		port := plainPort
		if mode == parley.MailTLS {
			port = tlsPort
		}
		s.Port, _ = strconv.Atoi(port)
		t.Run(mode, func(t *testing.T) {
			var mse *parley.MailServerError
			untrusted := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true})
			if _, err := untrusted.DialIMAP(ctx, s, "pw-Secret-1"); !errors.As(err, &mse) || mse.Kind != parley.MailErrTLS {
				t.Errorf("untrusted certificate: %v, want a TLS failure", err)
			}
			trusted := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: srv.RootCAs}})
			c, err := trusted.DialIMAP(ctx, s, "pw-Secret-1")
			if err != nil {
				t.Fatalf("trusted: %v", err)
			}
			defer c.Close()
			if _, _, err := c.Select("INBOX"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAccountsSMTPTLS: the SMTP side verifies certificates too, with
// STARTTLS (Mailpit requiring it).
func TestAccountsSMTPTLS(t *testing.T) {
	imap := imaptest.Start(t, map[string]string{"team@example.com": "pw-Secret-1"}, &imaptest.Options{TLS: true})
	mp := mailpit.Start(t, "--smtp-tls-cert", filepath.Join(imap.Dir, "cert.pem"), "--smtp-tls-key", filepath.Join(imap.Dir, "key.pem"),
		"--smtp-require-starttls", "--smtp-auth-accept-any")
	host, port, _ := net.SplitHostPort(mp.SMTPAddr)
	p, _ := strconv.Atoi(port)
	s := parley.MailServer{Host: host, Port: p, TLS: parley.MailStartTLS, Username: "team@example.com"}
	ctx := context.Background()
	var mse *parley.MailServerError
	if err := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true}).CheckSMTP(ctx, s, "pw-Secret-1"); !errors.As(err, &mse) || mse.Kind != parley.MailErrTLS {
		t.Errorf("untrusted certificate: %v, want a TLS failure", err)
	}
	trusted := mail.NewAccounts(&mail.AccountOptions{AllowPrivate: true, TLSConfig: &tls.Config{RootCAs: imap.RootCAs}})
	if err := trusted.CheckSMTP(ctx, s, "pw-Secret-1"); err != nil {
		t.Fatalf("trusted: %v", err)
	}
	e := &parley.Email{From: parley.Address{Email: "team@example.com"}, To: []parley.Address{{Email: "ann@example.org"}},
		Subject: "Re: One", Text: "reply", MessageID: "r1@example.com", Date: time.Now()}
	raw, err := trusted.Render(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted.SendSMTP(ctx, s, "pw-Secret-1", e, raw); err != nil {
		t.Fatal(err)
	}
	got := mp.Wait(t, 10*time.Second, "the mail", func(m *mailpit.Message) bool { return m.MessageID == "r1@example.com" })
	if got.Subject != "Re: One" {
		t.Errorf("subject %q", got.Subject)
	}
}
