package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestSecretSealing: a stored password opens only with the key it was
// sealed with, for the mailbox and server it was sealed for.
func TestSecretSealing(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a := New(Config{SecretKey: key}, nil, nil)
	sealed, err := a.sealSecret(3, "imap", "pw-Secret-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "pw-Secret-1") || !strings.HasPrefix(sealed, "v1.") {
		t.Fatalf("sealed=%q", sealed)
	}
	if again, _ := a.sealSecret(3, "imap", "pw-Secret-1"); again == sealed {
		t.Error("sealing twice gave the same text: no fresh nonce")
	}
	if got, err := a.openSecret(3, "imap", sealed); err != nil || got != "pw-Secret-1" {
		t.Fatalf("open=%q %v", got, err)
	}
	other := New(Config{SecretKey: bytes.Repeat([]byte{8}, 32)}, nil, nil)
	none := New(Config{}, nil, nil)
	tests := []struct {
		name string
		app  *App
		id   uint64
		srv  string
		text string
	}{
		{"another key", other, 3, "imap", sealed},
		{"no key", none, 3, "imap", sealed},
		{"another mailbox", a, 4, "imap", sealed},
		{"another server", a, 3, "smtp", sealed},
		{"damaged", a, 3, "imap", sealed[:len(sealed)-2]},
		{"not sealed", a, 3, "imap", "pw-Secret-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.app.openSecret(tc.id, tc.srv, tc.text)
			if !errors.Is(err, errSecretKey) || got != "" {
				t.Errorf("open=%q %v, want errSecretKey", got, err)
			}
			if err != nil && strings.Contains(err.Error(), "pw-Secret-1") {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
}
