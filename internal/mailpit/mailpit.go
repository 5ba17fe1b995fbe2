// Package mailpit runs a real Mailpit mail server for tests: Start launches
// one on free loopback ports with its own database and stops it when the
// test ends; its API shows what arrived.
//
// The mailpit binary is looked up on PATH, then in the module's .bin
// directory (where .ci/run installs it). Without it, Start skips the test,
// except under CI=true, where it fails.
package mailpit

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	// SMTPAddr is the host:port of its SMTP listener (no TLS, no auth).
	SMTPAddr string
	// APIURL is the base URL of its web API, http://host:port.
	APIURL string
}

// Binary returns the path of the mailpit binary, or "".
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	dir, err := os.Getwd()
	for err == nil {
		if _, e := os.Stat(filepath.Join(dir, "go.mod")); e == nil {
			p := filepath.Join(dir, ".bin", "mailpit")
			if _, e := os.Stat(p); e == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

// Start runs a Mailpit for the test tb and stops it at its end; args are
// more flags (TLS, auth).
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("mailpit is not installed (GOBIN=$PWD/.bin go install github.com/axllent/mailpit@v1.33.1)")
		}
		tb.Skip("mailpit is not installed; .ci/run installs it")
	}
	smtpAddr, httpAddr := freeAddr(tb), freeAddr(tb)
	cmd := exec.Command(bin, append([]string{
		"--listen", httpAddr, "--smtp", smtpAddr,
		"--disable-version-check", "--smtp-disable-rdns",
		"--database", filepath.Join(tb.TempDir(), "mailpit.db"), "-q"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start mailpit: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	s := &Server{SMTPAddr: smtpAddr, APIURL: "http://" + httpAddr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := s.Messages(); err == nil {
			if c, err := net.DialTimeout("tcp", smtpAddr, time.Second); err == nil {
				c.Close()
				return s
			}
		}
		select {
		case <-exited:
			tb.Fatalf("mailpit exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpit did not start within 20s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// Address is an address in Mailpit's answers.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in Mailpit's list.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// Message is one message with its bodies.
type Message struct {
	Summary
	// Cc are the addresses of its Cc header; Bcc the envelope recipients
	// that no header names.
	Cc   []Address `json:"Cc"`
	Bcc  []Address `json:"Bcc"`
	Text string    `json:"Text"`
	HTML string    `json:"HTML"`
	// Attachments are its attached files; Inline the files its HTML
	// shows (by Content-ID).
	Attachments []Part `json:"Attachments"`
	Inline      []Part `json:"Inline"`
}

// Part is a file of a message.
type Part struct {
	PartID      string `json:"PartID"`
	FileName    string `json:"FileName"`
	ContentType string `json:"ContentType"`
	ContentID   string `json:"ContentID"`
	Size        int    `json:"Size"`
}

// PartBytes returns the decoded bytes of part partID of message id.
func (s *Server) PartBytes(id, partID string) ([]byte, error) {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(s.APIURL + "/api/v1/message/" + id + "/part/" + partID)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpit part %s of %s: %s", partID, id, res.Status)
	}
	return io.ReadAll(res.Body)
}

func (s *Server) get(path string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(s.APIURL + path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// Messages lists what arrived, newest first.
func (s *Server) Messages() ([]Summary, error) {
	var out struct {
		Messages []Summary `json:"messages"`
	}
	err := s.get("/api/v1/messages", &out)
	return out.Messages, err
}

// Message returns message id with its bodies.
func (s *Server) Message(id string) (*Message, error) {
	var m Message
	err := s.get("/api/v1/message/"+id, &m)
	return &m, err
}

// Headers returns the headers of message id.
func (s *Server) Headers(id string) (map[string][]string, error) {
	var h map[string][]string
	err := s.get("/api/v1/message/"+id+"/headers", &h)
	return h, err
}

// Wait polls until a message that match accepts has arrived and returns
// it, or fails tb after timeout.
func (s *Server) Wait(tb testing.TB, timeout time.Duration, what string, match func(*Message) bool) *Message {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	seen := map[string]*Message{}
	for {
		list, err := s.Messages()
		if err != nil {
			tb.Fatalf("mailpit: %v", err)
		}
		for _, sm := range list {
			m, ok := seen[sm.ID]
			if !ok {
				if m, err = s.Message(sm.ID); err != nil {
					tb.Fatalf("mailpit: %v", err)
				}
				seen[sm.ID] = m
			}
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var subjects []string
			for _, m := range seen {
				subjects = append(subjects, fmt.Sprintf("%q to %v", m.Subject, m.To))
			}
			tb.Fatalf("no mail %s arrived within %s; mailpit has %d: %s", what, timeout, len(seen), strings.Join(subjects, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Raw returns message id as Mailpit received it, every byte: what a
// forwarding alias would pass on.
func (s *Server) Raw(id string) ([]byte, error) {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(s.APIURL + "/api/v1/message/" + id + "/raw")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpit raw %s: %s", id, res.Status)
	}
	return io.ReadAll(res.Body)
}
