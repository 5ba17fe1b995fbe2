package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// TestVisitorWireHasNoRecipients: what a visitor's socket gets of a
// message never names its recipients, Bcc above all.
func TestVisitorWireHasNoRecipients(t *testing.T) {
	m := &parley.Message{ID: 1, ThreadID: 2, Type: parley.TypeMessage, Text: "Hi", Direction: parley.Outgoing, SenderID: "A-1",
		ChannelID: parley.ChannelEmail, Recipients: []parley.Recipient{
			{Field: parley.RecipientTo, Email: "ann@customer.example"},
			{Field: parley.RecipientBcc, Email: "eve@audit.example"},
		}}
	b, err := json.Marshal((&Server{}).toWireMessage(context.Background(), m, "Ada"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "eve@audit.example") || strings.Contains(s, "recipients") {
		t.Errorf("visitor wire message: %s", s)
	}
}
