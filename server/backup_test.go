package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/server"
)

// TestBackupEndpoint: GET /api/v1/backup streams what Config.Backup
// writes to an admin, answers 404 where no backup is configured, turns a
// failure before the first byte into an error answer, and cuts the
// connection on a failure after it, so that a client never takes a
// truncated archive for a whole one.
func TestBackupEndpoint(t *testing.T) {
	t.Run("not configured", func(t *testing.T) {
		e := newEnv(t, nil)
		if res := e.login("admin@example.com").do("GET", "/api/v1/backup", nil, nil); res.status != 404 {
			t.Fatalf("status=%d, want 404", res.status)
		}
	})
	t.Run("streams", func(t *testing.T) {
		e := newEnv(t, &envOptions{cfg: withBackup(func(ctx context.Context, w io.Writer) error {
			_, err := io.WriteString(w, "archive bytes")
			return err
		})})
		admin := e.login("admin@example.com")
		res := admin.do("GET", "/api/v1/backup", nil, nil)
		if res.status != 200 || string(res.body) != "archive bytes" || res.header.Get("Content-Type") != "application/x-tar" ||
			!strings.HasPrefix(res.header.Get("Content-Disposition"), `attachment; filename="parley-`) {
			t.Fatalf("status=%d body=%q header=%v", res.status, res.body, res.header)
		}
		e.addAgent("agent@example.com", true)
		if res := e.login("agent@example.com").do("GET", "/api/v1/backup", nil, nil); res.status != 403 || strings.Contains(string(res.body), "archive") {
			t.Errorf("agent: status=%d body=%q, want 403", res.status, res.body)
		}
		if res := (&client{e: e, hc: http.DefaultClient}).do("GET", "/api/v1/backup", nil, nil); res.status != 401 {
			t.Errorf("stranger: status=%d, want 401", res.status)
		}
		if res := admin.do("GET", "/api/v1/backup?full=1", nil, nil); res.status != 400 || !strings.Contains(string(res.body), "full") {
			t.Errorf("unknown parameter: status=%d body=%s, want 400 naming it", res.status, res.body)
		}
	})
	t.Run("fails before the first byte", func(t *testing.T) {
		e := newEnv(t, &envOptions{cfg: withBackup(func(ctx context.Context, w io.Writer) error {
			return errors.New("disk on fire")
		})})
		res := e.login("admin@example.com").do("GET", "/api/v1/backup", nil, nil)
		if res.status != 500 || strings.Contains(string(res.body), "disk on fire") {
			t.Fatalf("status=%d body=%s, want 500 without the cause", res.status, res.body)
		}
	})
	t.Run("fails midway", func(t *testing.T) {
		e := newEnv(t, &envOptions{cfg: withBackup(func(ctx context.Context, w io.Writer) error {
			if _, err := w.Write(make([]byte, 1<<20)); err != nil {
				return err
			}
			return errors.New("disk on fire")
		})})
		admin := e.login("admin@example.com")
		req, _ := http.NewRequest("GET", e.base+"/api/v1/backup", nil)
		res, err := admin.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		n, err := io.Copy(io.Discard, res.Body)
		if err == nil {
			t.Fatalf("read %d bytes and a clean end, want the connection cut", n)
		}
	})
}

// withBackup is a server configuration whose backups fn writes.
func withBackup(fn func(ctx context.Context, w io.Writer) error) server.Config {
	return server.Config{Backup: fn}
}
