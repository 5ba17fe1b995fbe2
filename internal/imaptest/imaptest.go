// Package imaptest runs a real Dovecot IMAP server for tests: Start
// launches one in the foreground on a free loopback port, with its own
// configuration, users (a passwd-file) and maildirs in a temporary
// directory, and stops it, by its process id, when the test ends.
//
// Dovecot is the Debian package dovecot-imapd (/usr/sbin/dovecot); .ci/run
// installs it. Without it Start fails the test: it never skips. The tests
// run as root, as on CI: Dovecot's master process stays root and the mail
// processes run as the package's dovecot user, its login processes as
// dovenull.
//
// The server speaks plain IMAP and takes plain-text logins, which Parley
// must be told to allow (see docs/mailboxes.md); with Options.TLS it also
// offers STARTTLS and implicit TLS with a certificate its own CA signed.
package imaptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"
)

// Options configures Start. A nil *Options means all defaults.
type Options struct {
	// NoIdle leaves IDLE out of the capabilities the server announces, so
	// that clients poll.
	NoIdle bool
	// TLS gives the server a certificate for 127.0.0.1, signed by a CA of
	// its own (Server.RootCAs): STARTTLS on Addr and implicit TLS on
	// TLSAddr.
	TLS bool
}

// Server is a running Dovecot.
type Server struct {
	// Addr is the host:port of its IMAP listener.
	Addr string
	// Dir holds its configuration, state and maildirs.
	Dir string
	// TLSAddr is the host:port of its implicit-TLS listener, and RootCAs
	// the pool that trusts its certificate, with Options.TLS.
	TLSAddr string
	RootCAs *x509.CertPool

	tb   testing.TB
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *logBuffer
}

// Binary is where Debian's package puts Dovecot.
const Binary = "/usr/sbin/dovecot"

// Start runs a Dovecot for tb with the users in users (name → password)
// and stops it when tb ends.
func Start(tb testing.TB, users map[string]string, opts *Options) *Server {
	tb.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if _, err := os.Stat(Binary); err != nil {
		tb.Fatalf("dovecot is not installed (apt-get install dovecot-imapd): %v", err)
	}
	mailUser, err := user.Lookup("dovecot")
	if err != nil {
		tb.Fatalf("dovecot user: %v", err)
	}
	if _, err := user.Lookup("dovenull"); err != nil {
		tb.Fatalf("dovenull user: %v", err)
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)
	// Dovecot's unprivileged processes must reach the directory: a
	// directory of its own, not t.TempDir (0700).
	dir, err := os.MkdirTemp("", "parley-dovecot-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "mail"), uid, gid); err != nil {
		tb.Fatal(err)
	}
	var pw strings.Builder
	for name, pass := range users {
		fmt.Fprintf(&pw, "%s:{PLAIN}%s\n", name, pass)
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(pw.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, Dir: dir, Addr: freeAddr(tb), conf: filepath.Join(dir, "dovecot.conf")}
	_, port, _ := net.SplitHostPort(s.Addr)
	ssl := "ssl = no\n"
	imapsPort := "0"
	if opts.TLS {
		pool, certFile, keyFile := makeCert(tb, dir)
		s.RootCAs, s.TLSAddr = pool, freeAddr(tb)
		_, imapsPort, _ = net.SplitHostPort(s.TLSAddr)
		ssl = fmt.Sprintf("ssl = yes\nssl_cert = <%s\nssl_key = <%s\n", certFile, keyFile)
	}
	caps := ""
	if opts.NoIdle {
		caps = "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS SPECIAL-USE NAMESPACE UNSELECT\n"
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
%[6]sdisable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = %[3]d
last_valid_uid = %[3]d
mail_location = maildir:%[1]s/mail/%%u
%[4]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[5]d home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[7]s
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
}
`, dir, port, uid, caps, gid, ssl, imapsPort)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start starts the server again after Stop, on the same address with the
// same mail.
func (s *Server) Start() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(Binary, "-F", "-c", s.conf)
	s.out = &logBuffer{}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start dovecot: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "* OK") {
				return
			}
		}
		select {
		case <-done:
			s.cmd = nil
			s.tb.Fatalf("dovecot exited: %s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("dovecot did not start within 20s: %s", s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM to the process Start started, SIGKILL
// after 10s) and waits until it has exited and its port is free.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	// Its children close the listener as they go.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what the running (or last) server wrote.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Maildir returns the maildir of user's folder ("INBOX" or another).
func (s *Server) Maildir(user, folder string) string {
	if folder == "INBOX" || folder == "" {
		return filepath.Join(s.Dir, "mail", user)
	}
	return filepath.Join(s.Dir, "mail", user, "."+folder)
}

// makeCert writes a CA and a certificate for 127.0.0.1 that it signed into
// dir and returns a pool that trusts the CA.
func makeCert(tb testing.TB, dir string) (*x509.CertPool, string, string) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imaptest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, certFile, keyFile
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logBuffer is a goroutine-safe, bounded log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Append stores raw as a new message in user's folder, as a mail client
// or a delivery would, and returns its UID.
func (s *Server) Append(user, password, folder string, raw []byte) uint32 {
	s.tb.Helper()
	c, err := client.Dial(s.Addr)
	if err != nil {
		s.tb.Fatalf("imap dial: %v", err)
	}
	defer c.Logout()
	if err := c.Login(user, password); err != nil {
		s.tb.Fatalf("imap login: %v", err)
	}
	if err := c.Append(folder, nil, time.Now(), bytesLiteral(raw)); err != nil {
		s.tb.Fatalf("imap append: %v", err)
	}
	mb, err := c.Select(folder, true)
	if err != nil {
		s.tb.Fatalf("imap select: %v", err)
	}
	return mb.UidNext - 1
}

// Message is a message in a folder.
type Message struct {
	UID   uint32
	Flags []string
	Raw   []byte
}

// Messages returns the messages of user's folder, without changing their
// flags.
func (s *Server) Messages(user, password, folder string) []Message {
	s.tb.Helper()
	c, err := client.Dial(s.Addr)
	if err != nil {
		s.tb.Fatalf("imap dial: %v", err)
	}
	defer c.Logout()
	if err := c.Login(user, password); err != nil {
		s.tb.Fatalf("imap login: %v", err)
	}
	mb, err := c.Select(folder, true)
	if err != nil {
		s.tb.Fatalf("imap select %s: %v", folder, err)
	}
	if mb.Messages == 0 {
		return nil
	}
	seq := new(imap.SeqSet)
	seq.AddRange(1, mb.Messages)
	section := &imap.BodySectionName{Peek: true}
	ch := make(chan *imap.Message, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Fetch(seq, []imap.FetchItem{imap.FetchUid, imap.FetchFlags, section.FetchItem()}, ch)
	}()
	var out []Message
	for m := range ch {
		var raw []byte
		if r := m.GetBody(section); r != nil {
			raw, _ = io.ReadAll(r)
		}
		out = append(out, Message{UID: m.Uid, Flags: m.Flags, Raw: raw})
	}
	if err := <-done; err != nil {
		s.tb.Fatalf("imap fetch: %v", err)
	}
	return out
}

// ChangeUIDValidity stops the server, gives user's folder a new
// UIDVALIDITY (as a server does whose index was rebuilt: the messages stay,
// their UIDs start again at 1) and starts it again.
func (s *Server) ChangeUIDValidity(user, folder string) {
	s.tb.Helper()
	s.Stop()
	dir := s.Maildir(user, folder)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.tb.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "dovecot.index") || e.Name() == "dovecot-uidlist" {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				s.tb.Fatal(err)
			}
		}
	}
	// Dovecot takes the time as a new folder's UIDVALIDITY: let a second
	// pass so that it cannot be the old one.
	time.Sleep(1100 * time.Millisecond)
	s.Start()
}

type literal struct{ *bytes.Reader }

func (l literal) Len() int { return int(l.Size()) }

func bytesLiteral(b []byte) imap.Literal { return literal{bytes.NewReader(b)} }

// UIDValidity returns the UIDVALIDITY of user's folder.
func (s *Server) UIDValidity(user, password, folder string) uint32 {
	s.tb.Helper()
	c, err := client.Dial(s.Addr)
	if err != nil {
		s.tb.Fatalf("imap dial: %v", err)
	}
	defer c.Logout()
	if err := c.Login(user, password); err != nil {
		s.tb.Fatalf("imap login: %v", err)
	}
	mb, err := c.Select(folder, true)
	if err != nil {
		s.tb.Fatalf("imap select %s: %v", folder, err)
	}
	return mb.UidValidity
}
