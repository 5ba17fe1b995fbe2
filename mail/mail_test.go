package mail_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/mail"
	"github.com/parley-chat/parley/mail/mailpit"
)

func TestNewSender(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string // String() of the sender
		wantErr string
	}{
		{"starttls by default", "smtp://user:pass@mail.example.com", "mail.example.com:587 (tls=starttls)", ""},
		{"starttls with port", "smtp://user:pass@mail.example.com:2587?tls=starttls", "mail.example.com:2587 (tls=starttls)", ""},
		{"implicit tls", "smtp://mail.example.com?tls=tls", "mail.example.com:465 (tls=tls)", ""},
		{"smtps scheme", "smtps://u:p@mail.example.com", "mail.example.com:465 (tls=tls)", ""},
		{"opportunistic", "smtp://relay.internal:25?tls=opportunistic", "relay.internal:25 (tls=opportunistic)", ""},
		{"none on loopback", "smtp://127.0.0.1:1025?tls=none", "127.0.0.1:1025 (tls=none)", ""},
		{"none on localhost", "smtp://localhost?tls=none", "localhost:25 (tls=none)", ""},
		{"none on ::1", "smtp://[::1]:2525?tls=none", "[::1]:2525 (tls=none)", ""},
		{"none elsewhere", "smtp://user:s3cret@mail.example.com?tls=none", "", "only for a loopback host"},
		{"unknown tls", "smtp://mail.example.com?tls=ssl3", "", "tls must be"},
		{"smtps with starttls", "smtps://mail.example.com?tls=starttls", "", "scheme smtps means tls=tls"},
		{"wrong scheme", "http://mail.example.com", "", "scheme must be smtp or smtps"},
		{"no host", "smtp://:25", "", "no host"},
		{"bad port", "smtp://mail.example.com:0", "", "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.NewSender(tt.url, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err=%v, want one with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("sender=%q, want %q", got, tt.want)
			}
		})
	}
}

func TestSendToMailpit(t *testing.T) {
	mp := mailpit.Start(t)
	s, err := mail.NewSender("smtp://"+mp.SMTPAddr+"?tls=none", &mail.SenderOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &parley.Email{
		From:       parley.Address{Name: "Support", Email: "support@parley.test"},
		To:         []parley.Address{{Name: "Ann Lee", Email: "ann@customer.example"}},
		Subject:    "Re: Grüße & Fragen",
		Text:       "Hallo Ann,\n\ndanke für Ihre Nachricht.",
		HTML:       "<p>Hallo Ann,</p><p>danke für Ihre Nachricht.</p>",
		MessageID:  "parley-7.abc@parley.test",
		InReplyTo:  "q2@customer.example",
		References: []string{"q1@customer.example", "q2@customer.example"},
		Date:       time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC),
	}
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	m := mp.Wait(t, 5*time.Second, "the reply", func(m *mailpit.Message) bool { return m.MessageID == e.MessageID })
	if m.Subject != e.Subject {
		t.Errorf("subject=%q, want %q", m.Subject, e.Subject)
	}
	if strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n")) != e.Text {
		t.Errorf("text=%q, want %q", m.Text, e.Text)
	}
	if !strings.Contains(m.HTML, "<p>danke für Ihre Nachricht.</p>") {
		t.Errorf("html=%q, want the HTML alternative", m.HTML)
	}
	if m.From.Address != "support@parley.test" || m.From.Name != "Support" || len(m.To) != 1 || m.To[0].Address != "ann@customer.example" {
		t.Errorf("from %+v to %+v", m.From, m.To)
	}
	h, err := mp.Headers(m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ k, v string }{
		{"In-Reply-To", "<q2@customer.example>"},
		{"References", "<q1@customer.example> <q2@customer.example>"},
		{"Message-Id", "<parley-7.abc@parley.test>"},
	} {
		got := strings.Join(strings.Fields(strings.Join(h[want.k], " ")), " ")
		if got != want.v {
			t.Errorf("%s=%q, want %q", want.k, got, want.v)
		}
	}
	if ct := strings.Join(h["Content-Type"], ""); !strings.Contains(ct, "multipart/alternative") {
		t.Errorf("content type %q, want multipart/alternative", ct)
	}
}

func TestSendErrors(t *testing.T) {
	t.Run("invalid email", func(t *testing.T) {
		s, _ := mail.NewSender("smtp://127.0.0.1:1?tls=none", nil)
		err := s.Send(context.Background(), &parley.Email{From: parley.Address{Email: "a@x.example"}})
		if parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("err=%v, want EINVALID", err)
		}
	})
	t.Run("no server is worth a retry", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		s, _ := mail.NewSender("smtp://"+addr+"?tls=none", &mail.SenderOptions{Timeout: 2 * time.Second})
		err := s.Send(context.Background(), testEmail("x@parley.test"))
		if err == nil || parley.ErrorCode(err) != parley.EINTERNAL {
			t.Errorf("err=%v, want a plain (retryable) error", err)
		}
	})
	t.Run("5xx is for good", func(t *testing.T) {
		rc := startReceiver(t, nil)
		s, _ := mail.NewSender("smtp://"+rc.addr+"?tls=none", &mail.SenderOptions{Timeout: 2 * time.Second})
		err := s.Send(context.Background(), testEmail("nobody@parley.test"))
		if parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("err=%v, want EINVALID for a 550", err)
		}
	})
	t.Run("starttls required but not offered", func(t *testing.T) {
		rc := startReceiver(t, nil)
		host, port, _ := net.SplitHostPort(rc.addr)
		s, _ := mail.NewSender("smtp://"+host+":"+port+"?tls=starttls", &mail.SenderOptions{Timeout: 2 * time.Second})
		err := s.Send(context.Background(), testEmail("support@parley.test"))
		if err == nil {
			t.Fatal("mail went out in plain text although tls=starttls")
		}
		if len(rc.delivered()) != 0 {
			t.Error("the receiver got the mail")
		}
	})
}

func testEmail(to string) *parley.Email {
	return &parley.Email{From: parley.Address{Email: "agent@parley.test"}, To: []parley.Address{{Email: to}},
		Subject: "hi", Text: "hello", MessageID: "t-1@parley.test"}
}

type testReceiver struct {
	addr string
	mu   sync.Mutex
	got  []*parley.InboundEmail
}

func (r *testReceiver) delivered() []*parley.InboundEmail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*parley.InboundEmail(nil), r.got...)
}

// startReceiver runs a Receiver that knows every address at parley.test
// but nobody@ and keeps what it gets; deliverErr, if set, decides
// Deliver's answer.
func startReceiver(t *testing.T, deliverErr func(*parley.InboundEmail) error) *testReceiver {
	t.Helper()
	return startReceiverWith(t, deliverErr, mail.ReceiverOptions{ReadTimeout: 5 * time.Second})
}

// startReceiverWith is startReceiver with the timeouts of o.
func startReceiverWith(t *testing.T, deliverErr func(*parley.InboundEmail) error, o mail.ReceiverOptions) *testReceiver {
	t.Helper()
	tr := &testReceiver{}
	rc, err := mail.NewReceiver(mail.ReceiverOptions{
		Domain:          "parley.test",
		MaxMessageBytes: 64 << 10,
		MaxRecipients:   3,
		ReadTimeout:     o.ReadTimeout,
		WriteTimeout:    5 * time.Second,
		DataTimeout:     o.DataTimeout,
		SessionTimeout:  o.SessionTimeout,
		Recipient: func(ctx context.Context, addr string) error {
			if strings.HasSuffix(strings.ToLower(addr), "@parley.test") && !strings.HasPrefix(addr, "nobody@") {
				return nil
			}
			return parley.Errorf(parley.ENOTFOUND, "no inbox has %s", addr)
		},
		Deliver: func(ctx context.Context, e *parley.InboundEmail) error {
			if deliverErr != nil {
				if err := deliverErr(e); err != nil {
					return err
				}
			}
			tr.mu.Lock()
			tr.got = append(tr.got, e)
			tr.mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- rc.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rc.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return tr
}

// smtpSend sends raw from sender to rcpts over a real SMTP conversation and
// returns the server's first error, as net/smtp reports it.
func smtpSend(addr, from string, rcpts []string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestReceive(t *testing.T) {
	rc := startReceiver(t, func(e *parley.InboundEmail) error {
		switch e.Subject {
		case "refuse me":
			return parley.Errorf(parley.EINVALID, "text is empty")
		case "fail once":
			return errors.New("store is busy")
		}
		return nil
	})
	big := "From: a@customer.example\r\nMessage-ID: <big@x>\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 5000)
	tests := []struct {
		name     string
		rcpts    []string
		raw      []byte
		wantCode int // 0: accepted
		wantText string
	}{
		{"plain", []string{"support@parley.test"}, readFixture(t, "plain.eml"), 0, "my order 42"},
		{"multipart/alternative", []string{"support@parley.test"}, readFixture(t, "alternative.eml"), 0, "The plain part."},
		{"quoted-printable", []string{"Support@Parley.TEST"}, readFixture(t, "quoted-printable.eml"), 0, "Schöne Grüße"},
		{"base64", []string{"support@parley.test"}, readFixture(t, "base64.eml"), 0, "äöü ß €"},
		{"HTML only", []string{"support@parley.test"}, readFixture(t, "html-only.eml"), 0, "- two & three"},
		{"two inboxes", []string{"support@parley.test", "sales@parley.test"}, readFixture(t, "latin1.eml"), 0, "Un café"},
		{"unknown recipient", []string{"nobody@parley.test"}, readFixture(t, "plain.eml"), 550, ""},
		{"too many recipients", []string{"support@parley.test", "sales@parley.test", "support+a@parley.test", "support+b@parley.test"}, readFixture(t, "plain.eml"), 452, ""},
		{"oversized", []string{"support@parley.test"}, []byte(big), 552, ""},
		{"malformed", []string{"support@parley.test"}, readFixture(t, "malformed-multipart.eml"), 554, ""},
		{"no From", []string{"support@parley.test"}, readFixture(t, "no-from.eml"), 554, ""},
		{"refused by the inbox", []string{"support@parley.test"}, []byte("From: a@customer.example\r\nSubject: refuse me\r\n\r\nx\r\n"), 554, ""},
		{"temporary failure", []string{"support@parley.test"}, []byte("From: a@customer.example\r\nSubject: fail once\r\n\r\nx\r\n"), 451, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rc.delivered())
			err := smtpSend(rc.addr, "sender@customer.example", tt.rcpts, tt.raw)
			got := rc.delivered()[before:]
			if tt.wantCode != 0 {
				if code := smtpCode(err); code != tt.wantCode {
					t.Fatalf("err=%v (code %d), want code %d", err, code, tt.wantCode)
				}
				if len(got) != 0 {
					t.Fatalf("%d messages delivered, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(got))
			}
			if !strings.Contains(got[0].Text, tt.wantText) {
				t.Errorf("text=%q, want it to hold %q", got[0].Text, tt.wantText)
			}
			var want []string
			for _, r := range tt.rcpts {
				n, _ := parley.NormalizeEmail(r)
				want = append(want, n)
			}
			if strings.Join(got[0].Recipients, ",") != strings.Join(want, ",") {
				t.Errorf("recipients=%v, want %v", got[0].Recipients, want)
			}
		})
	}
}

func TestReceiveMissingCallbacks(t *testing.T) {
	if _, err := mail.NewReceiver(mail.ReceiverOptions{}); err == nil {
		t.Error("NewReceiver without callbacks succeeded")
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a TLS config that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, trust *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, &tls.Config{RootCAs: pool}
}

// TestSendTLS sends through Mailpit requiring STARTTLS, then implicit TLS,
// each with a password, and checks that an untrusted certificate stops the
// mail.
func TestSendTLS(t *testing.T) {
	certFile, keyFile, trust := selfSigned(t)
	tests := []struct {
		name    string
		flag    string
		tls     string
		trusted bool
	}{
		{"starttls", "--smtp-require-starttls", "starttls", true},
		{"implicit tls", "--smtp-require-tls", "tls", true},
		{"starttls, untrusted certificate", "--smtp-require-starttls", "starttls", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := mailpit.Start(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, tt.flag, "--smtp-auth-accept-any")
			opts := &mail.SenderOptions{Timeout: 5 * time.Second}
			if tt.trusted {
				opts.TLSConfig = trust
			}
			s, err := mail.NewSender("smtp://agent:secret@"+mp.SMTPAddr+"?tls="+tt.tls, opts)
			if err != nil {
				t.Fatal(err)
			}
			e := testEmail("ann@customer.example")
			e.MessageID = "tls-" + tt.tls + "@parley.test"
			err = s.Send(context.Background(), e)
			if !tt.trusted {
				if err == nil || !strings.Contains(err.Error(), "certificate") {
					t.Fatalf("err=%v, want a certificate error", err)
				}
				if list, _ := mp.Messages(); len(list) != 0 {
					t.Error("mail arrived over an unverified connection")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mp.Wait(t, 5*time.Second, "over TLS", func(m *mailpit.Message) bool { return m.MessageID == e.MessageID })
		})
	}
}

// smtpConn is a raw SMTP client that reads the server's replies in the
// background until the server closes the connection.
type smtpConn struct {
	net.Conn
	replies chan string // each reply line; closed when the server hangs up
}

func dialSMTP(t *testing.T, addr string) *smtpConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc := &smtpConn{Conn: c, replies: make(chan string, 100)}
	go func() {
		defer close(sc.replies)
		r := bufio.NewScanner(c)
		for r.Scan() {
			sc.replies <- r.Text()
		}
	}()
	return sc
}

// cmd sends line and returns the reply (the greeting for an empty line).
func (c *smtpConn) cmd(t *testing.T, line string) string {
	t.Helper()
	if line != "" {
		fmt.Fprintf(c, "%s\r\n", line)
	}
	for {
		select {
		case r, ok := <-c.replies:
			if !ok {
				t.Fatalf("%q: the server hung up", line)
			}
			if len(r) > 3 && r[3] == '-' {
				continue // more lines of a multi-line reply
			}
			return r
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: no reply", line)
		}
	}
}

// hangsUp waits up to limit for the server to close the connection and
// returns the replies it sent before.
func (c *smtpConn) hangsUp(t *testing.T, limit time.Duration, what string) []string {
	t.Helper()
	var got []string
	deadline := time.After(limit)
	for {
		select {
		case r, ok := <-c.replies:
			if !ok {
				return got
			}
			got = append(got, r)
		case <-deadline:
			t.Fatalf("%s: the connection is still open after %s (replies %q)", what, limit, got)
		}
	}
}

// TestReceiverSlowData: a message trickled a byte at a time, within the
// per-command ReadTimeout, is cut off after DataTimeout with 421 and the
// connection closed; nothing is delivered.
func TestReceiverSlowData(t *testing.T) {
	tr := startReceiverWith(t, nil, mail.ReceiverOptions{ReadTimeout: 30 * time.Second, DataTimeout: time.Second})
	c := dialSMTP(t, tr.addr)
	c.cmd(t, "")
	for _, line := range []string{"EHLO attacker.test", "MAIL FROM:<a@attacker.test>", "RCPT TO:<support@parley.test>", "DATA"} {
		if r := c.cmd(t, line); !strings.HasPrefix(r, "2") && !strings.HasPrefix(r, "354") {
			t.Fatalf("%s: %q", line, r)
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		msg := "From: a@attacker.test\r\nSubject: slow\r\n\r\n" + strings.Repeat("x", 200) + "\r\n.\r\n"
		for i := range len(msg) {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := c.Write([]byte{msg[i]}); err != nil {
				return
			}
		}
	}()
	got := c.hangsUp(t, 10*time.Second, "slow DATA")
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "421 ") {
		t.Fatalf("replies %q, want 421 last", got)
	}
	if n := len(tr.delivered()); n != 0 {
		t.Fatalf("%d messages delivered from a cut-off DATA", n)
	}
}

// TestReceiverSessionTimeout: a client that keeps its connection busy
// with a command now and then is ended after SessionTimeout.
func TestReceiverSessionTimeout(t *testing.T) {
	tr := startReceiverWith(t, nil, mail.ReceiverOptions{ReadTimeout: 30 * time.Second, SessionTimeout: time.Second})
	c := dialSMTP(t, tr.addr)
	c.cmd(t, "")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := fmt.Fprint(c, "NOOP\r\n"); err != nil {
				return
			}
		}
	}()
	if got := c.hangsUp(t, 10*time.Second, "busy session"); len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "421 ") {
		t.Fatalf("replies %q, want 421 last", got)
	}
}
