package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/server"
)

// /healthz answers 507 with the storage error while Config.CheckStorage
// reports one (the disk is full or failing), and 200 again once it does
// not; anyone may ask.
func TestHealthStorage(t *testing.T) {
	var failing atomic.Pointer[error]
	e := newEnv(t, &envOptions{cfg: server.Config{CheckStorage: func(context.Context) error {
		if err := failing.Load(); err != nil {
			return *err
		}
		return nil
	}}})
	anon := &client{e: e, hc: e.ts.Client()}
	for _, tt := range []struct {
		name    string
		err     error
		status  int
		message string
	}{
		{"disk full", fmt.Errorf("commit: %w", syscall.ENOSPC), 507, "disk full"},
		{"I/O error", fmt.Errorf("commit: %w", syscall.EIO), 507, "storage I/O error"},
		{"recovered", nil, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := parley.StorageError(tt.err, false)
			failing.Store(&err)
			if tt.err == nil {
				failing.Store(nil)
			}
			var body struct{ Status, Code, Message string }
			res := anon.do("GET", "/healthz", nil, nil)
			res.decode(t, &body)
			if res.status != tt.status {
				t.Fatalf("status=%d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.err != nil && (body.Code != parley.ESTORAGE || !strings.HasPrefix(body.Message, tt.message)) {
				t.Errorf("body=%s, want code %s and a message starting %q", res.body, parley.ESTORAGE, tt.message)
			}
			if tt.err == nil && body.Status != "ok" {
				t.Errorf("body=%s, want status ok", res.body)
			}
			if strings.Contains(string(res.body), "commit") {
				t.Errorf("body=%s tells the cause, which is for the log", res.body)
			}
		})
	}
}
