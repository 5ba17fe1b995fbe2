package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/acme/autocert"
)

// testCA makes a certificate authority and a server certificate it signed
// for 127.0.0.1 and localhost, writes the server's chain and key as PEM
// files, and returns their paths and a pool that trusts the authority.
func testCA(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Parley test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(ca)
	return certFile, keyFile, roots
}

// TestTLS: with --tls-cert and --tls-key Parley serves HTTPS that a client
// trusting only the test CA accepts (and one without it refuses): the API
// with HSTS, sign-in with a Secure cookie, the visitor WebSocket over TLS.
// The plain-HTTP listener redirects to the base URL, whatever Host the
// request named, and sends no HSTS.
func TestTLS(t *testing.T) {
	certFile, keyFile, roots := testCA(t)
	lines := serveLogs(t, map[string]string{
		"PARLEY_DATA": t.TempDir(), "PARLEY_ADMIN_EMAIL": "admin@example.com", "PARLEY_ADMIN_PASSWORD": "correct horse battery",
		"PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile, "PARLEY_HTTP_REDIRECT_LISTEN": "127.0.0.1:0",
	})
	redirectAddr := waitLog(t, lines, "redirecting plain HTTP to HTTPS")["addr"].(string)
	listening := waitLog(t, lines, "listening")
	base := listening["baseURL"].(string)
	if !strings.HasPrefix(base, "https://127.0.0.1:") || listening["tls"] != true {
		t.Fatalf("listening %v, want an https base URL", listening)
	}
	hc := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}

	res, err := hc.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the test CA: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS: %d %v", res.StatusCode, res.TLS)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != hstsHeader {
		t.Errorf("Strict-Transport-Security=%q, want %q", got, hstsHeader)
	}

	// A client that does not trust the test CA refuses the certificate.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("a client without the test CA accepted the certificate")
	} else if !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Errorf("without the test CA: %v, want a certificate verification error", err)
	}
	// Plain HTTP on the TLS port gets no answer.
	if res, err := http.Get(strings.Replace(base, "https", "http", 1) + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP on the HTTPS port was served")
		}
	}

	// Signing in over HTTPS sets a Secure, HttpOnly cookie.
	res, err = hc.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"admin@example.com","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "parley_session" {
			session = c
		}
	}
	if res.StatusCode != 200 || session == nil || !session.Secure || !session.HttpOnly {
		t.Fatalf("sign in over HTTPS: %d, cookie %+v; want a Secure, HttpOnly session cookie", res.StatusCode, session)
	}

	// The visitor WebSocket over TLS.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(base, "https", "wss", 1)+"/widget/v1/ws?widgetId=1", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	_, data, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"ready"`) {
		t.Fatalf("wss hello: %s %v, want ready", data, err)
	}

	// The redirect listener.
	for _, c := range []struct {
		method, path, host string
		status             int
	}{
		{"GET", "/settings/users?tab=2", "", http.StatusMovedPermanently},
		{"GET", "/", "evil.example", http.StatusMovedPermanently},
		{"POST", "/api/v1/session", "", http.StatusPermanentRedirect},
	} {
		req, _ := http.NewRequest(c.method, "http://"+redirectAddr+c.path, nil)
		if c.host != "" {
			req.Host = c.host
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status || res.Header.Get("Location") != base+c.path {
			t.Errorf("%s http://%s%s (Host %q): %d to %q, want %d to %q", c.method, redirectAddr, c.path, c.host, res.StatusCode, res.Header.Get("Location"), c.status, base+c.path)
		}
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("HSTS on plain HTTP")
		}
	}
}

// TestTLSConfig: the TLS flags and their environment twins are checked
// together, each mistake named.
func TestTLSConfig(t *testing.T) {
	certFile, keyFile, _ := testCA(t)
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"PARLEY_TLS_CERT": certFile}, "go together"},
		{"key without cert", map[string]string{"PARLEY_TLS_KEY": keyFile}, "go together"},
		{"both kinds", map[string]string{"PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile, "PARLEY_ACME": "true", "PARLEY_BASE_URL": "https://chat.example.com"}, "exclude each other"},
		{"http base URL", map[string]string{"PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile, "PARLEY_BASE_URL": "http://chat.example.com"}, "https://"},
		{"acme without base URL", map[string]string{"PARLEY_ACME": "true"}, "--base-url"},
		{"acme for an address", map[string]string{"PARLEY_ACME": "true", "PARLEY_BASE_URL": "https://192.0.2.1"}, "IP address"},
		{"acme not a bool", map[string]string{"PARLEY_ACME": "sure"}, "PARLEY_ACME"},
		{"acme directory over http", map[string]string{"PARLEY_ACME": "true", "PARLEY_BASE_URL": "https://chat.example.com", "PARLEY_ACME_DIRECTORY": "http://ca.example/dir"}, "--acme-directory"},
		{"acme email alone", map[string]string{"PARLEY_ACME_EMAIL": "ops@example.com"}, "only with --acme"},
		{"redirect without TLS", map[string]string{"PARLEY_HTTP_REDIRECT_LISTEN": ":80"}, "needs --tls-cert"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig(nil, func(k string) string { return c.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("parseConfig=%v, want an error saying %q", err, c.want)
			}
		})
	}
	// A key that is not the certificate's fails at start, naming the flags.
	_, otherKey, _ := testCA(t)
	c, err := parseConfig([]string{"--tls-cert", certFile, "--tls-key", otherKey}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newTLS(c, t.TempDir()); err == nil || !strings.Contains(err.Error(), "--tls-cert/--tls-key") {
		t.Fatalf("mismatched key: %v", err)
	}
}

// TestACMEWiring checks automatic certificates as far as can be done
// without a certificate authority to reach: the manager accepts the terms
// and only the base URL's host, keeps its files in the data directory's
// acme folder, offers the TLS-ALPN challenge, takes the contact address and
// the directory URL given, and the redirect listener answers HTTP-01
// challenges for the base URL's host only while it redirects the rest.
func TestACMEWiring(t *testing.T) {
	data := t.TempDir()
	c, err := parseConfig(nil, func(k string) string {
		return map[string]string{"PARLEY_ACME": "true", "PARLEY_BASE_URL": "https://chat.example.com/", "PARLEY_ACME_EMAIL": "ops@example.com",
			"PARLEY_ACME_DIRECTORY": "https://acme-staging-v02.api.letsencrypt.org/directory"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, m, err := newTLS(c, data)
	if err != nil || m == nil || cfg == nil {
		t.Fatalf("newTLS=%v, %v, %v", cfg, m, err)
	}
	if dir, ok := m.Cache.(autocert.DirCache); !ok || string(dir) != filepath.Join(data, acmeCacheDir) {
		t.Errorf("cache=%#v, want the data directory's acme folder", m.Cache)
	}
	if m.Email != "ops@example.com" || m.Client == nil || m.Client.DirectoryURL != "https://acme-staging-v02.api.letsencrypt.org/directory" {
		t.Errorf("email %q, client %+v", m.Email, m.Client)
	}
	if m.Prompt("https://letsencrypt.org/terms") != true {
		t.Error("the terms are not accepted")
	}
	ctx := context.Background()
	if err := m.HostPolicy(ctx, "chat.example.com"); err != nil {
		t.Errorf("the base URL's host refused: %v", err)
	}
	for _, host := range []string{"evil.example", "www.chat.example.com", "127.0.0.1"} {
		if err := m.HostPolicy(ctx, host); err == nil {
			t.Errorf("host %s allowed: certificates would be requested for any name a client sends", host)
		}
	}
	if !slices.Contains(cfg.NextProtos, "acme-tls/1") || cfg.GetCertificate == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS config: protos %v, min %x", cfg.NextProtos, cfg.MinVersion)
	}
	// A handshake for another name is refused without asking any CA.
	_, err = cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example", CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	if err == nil {
		t.Error("a certificate for evil.example was offered")
	}

	srv := redirectServer(c.BaseURL, m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, r := range []struct {
		path, host string
		status     int
	}{
		{"/.well-known/acme-challenge/unknown-token", "chat.example.com", 404}, // ACME's: no such challenge
		{"/.well-known/acme-challenge/unknown-token", "evil.example", 403},     // ACME's host policy
		{"/settings", "chat.example.com", 301},
	} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+r.path, nil)
		req.Host = r.host
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != r.status {
			t.Errorf("GET %s (Host %s): %d, want %d", r.path, r.host, res.StatusCode, r.status)
		}
	}
}
