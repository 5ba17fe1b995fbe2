package imaptest_test

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/imaptest"
)

// TestDovecot starts a Dovecot, stores a message, restarts the server and
// changes the folder's UIDVALIDITY: what the tests of connected mailboxes
// rely on.
func TestDovecot(t *testing.T) {
	srv := imaptest.Start(t, map[string]string{"team@example.com": "secret"}, nil)
	raw := []byte("From: ann@example.org\r\nTo: team@example.com\r\nSubject: hi\r\nMessage-ID: <a1@example.org>\r\n\r\nHello\r\n")
	if uid := srv.Append("team@example.com", "secret", "INBOX", raw); uid != 1 {
		t.Errorf("uid=%d, want 1", uid)
	}
	srv.Stop()
	srv.Start()
	if got := srv.Messages("team@example.com", "secret", "INBOX"); len(got) != 1 || slices.Contains(got[0].Flags, "\\Seen") {
		t.Fatalf("messages=%+v, want one, not seen", got)
	}
	if got := srv.Messages("team@example.com", "secret", "Sent"); len(got) != 0 {
		t.Errorf("sent=%d messages, want 0", len(got))
	}
	before := srv.UIDValidity("team@example.com", "secret", "INBOX")
	srv.ChangeUIDValidity("team@example.com", "INBOX")
	if got := srv.Messages("team@example.com", "secret", "INBOX"); len(got) != 1 {
		t.Fatalf("after the change: %d messages, want 1", len(got))
	}
	if after := srv.UIDValidity("team@example.com", "secret", "INBOX"); after == before {
		t.Errorf("uidvalidity=%d, unchanged", after)
	}
}
