package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// hstsHeader tells browsers to use only HTTPS for this host for a year.
// It names no subdomains: they may serve other things over HTTP.
const hstsHeader = "max-age=31536000"

// acmeCacheDir is where the ACME account key and certificates live,
// inside the data directory.
const acmeCacheDir = "acme"

// checkTLSConfig checks the TLS flags together: a certificate and its key
// both or neither; automatic certificates instead of them, with an https
// base URL naming a host; a redirect listener only with HTTPS to send to.
func checkTLSConfig(c *config) error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	files := c.TLSCert != ""
	if files && c.ACME {
		return errors.New("--acme and --tls-cert/--tls-key exclude each other: choose automatic certificates or your own")
	}
	https := files || c.ACME
	if c.BaseURL != "" && https && !strings.HasPrefix(c.BaseURL, "https://") {
		return fmt.Errorf("--base-url %s: serving HTTPS, the base URL must start with https://", c.BaseURL)
	}
	if c.ACME {
		u, err := url.Parse(c.BaseURL)
		if c.BaseURL == "" || err != nil || u.Hostname() == "" {
			return errors.New("--acme needs --base-url https://your.host: certificates are issued for its host only")
		}
		if net.ParseIP(u.Hostname()) != nil {
			return fmt.Errorf("--acme: the base URL's host %s is an IP address; ACME certificates need a domain name", u.Hostname())
		}
		if c.ACMEDirectory != "" {
			if d, err := url.Parse(c.ACMEDirectory); err != nil || d.Scheme != "https" || d.Host == "" {
				return fmt.Errorf("--acme-directory %q: want an https:// URL", c.ACMEDirectory)
			}
		}
	} else if c.ACMEEmail != "" || c.ACMEDirectory != "" {
		return errors.New("--acme-email and --acme-directory take effect only with --acme")
	}
	if c.HTTPRedirectListen != "" && !https {
		return errors.New("--http-redirect-listen redirects to HTTPS: it needs --tls-cert/--tls-key or --acme")
	}
	return nil
}

// newTLS returns the TLS configuration of the main listener, nil when it
// serves plain HTTP, and the ACME manager when certificates are automatic.
func newTLS(c *config, dataDir string) (*tls.Config, *autocert.Manager, error) {
	switch {
	case c.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}, nil, nil
	case c.ACME:
		u, _ := url.Parse(c.BaseURL) // checked by checkTLSConfig
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(dataDir, acmeCacheDir)),
			HostPolicy: autocert.HostWhitelist(u.Hostname()),
			Email:      c.ACMEEmail,
		}
		if c.ACMEDirectory != "" {
			m.Client = &acme.Client{DirectoryURL: c.ACMEDirectory}
		}
		cfg := m.TLSConfig()
		cfg.MinVersion = tls.VersionTLS12
		return cfg, m, nil
	}
	return nil, nil, nil
}

// withHSTS adds Strict-Transport-Security to every answer sent over TLS.
func withHSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", hstsHeader)
		}
		h.ServeHTTP(w, r)
	})
}

// redirectServer is the plain-HTTP listener's server: it answers ACME's
// HTTP-01 challenges when m is set, and sends everything else to the same
// path and query under the base URL (never to the Host the request named).
func redirectServer(baseURL string, m *autocert.Manager) *http.Server {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusPermanentRedirect // keeps the method and body
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently
		}
		http.Redirect(w, r, baseURL+r.URL.RequestURI(), status)
	})
	if m != nil {
		h = m.HTTPHandler(h)
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
}
