package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck is parley healthcheck: it asks the Parley of this
// machine's configuration (PARLEY_ADDR, and HTTPS when PARLEY_TLS_CERT or
// PARLEY_ACME is set) for GET /healthz and fails unless it answers "ok".
// Container health checks run it, where there is no shell or curl.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the URL to check; defaults to /healthz at PARLEY_ADDR on this machine")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	target := *url
	secure := getenv("PARLEY_TLS_CERT") != "" || getenv("PARLEY_ACME") == "true" || getenv("PARLEY_ACME") == "1"
	if target == "" {
		addr := getenv("PARLEY_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("healthcheck: PARLEY_ADDR %q: %w", addr, err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1" // listening on every address: ask the local one
		}
		scheme := "http"
		if secure {
			scheme = "https"
		}
		target = scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if secure && *url == "" {
		// The certificate names the public host, not the local address
		// asked here; this checks liveness only and sends no secret.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	var h struct{ Status, Version, Message string }
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&h); err != nil || res.StatusCode != http.StatusOK || h.Status != "ok" {
		if h.Message != "" {
			// Such as a full disk (507): what the operator must fix.
			return fmt.Errorf("healthcheck: %s answered %s: %s", target, res.Status, h.Message)
		}
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	fmt.Fprintf(stdout, "ok %s\n", h.Version)
	return nil
}
