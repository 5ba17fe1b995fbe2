package server

import (
	"context"

	"github.com/parley-chat/parley"
)

// Team email (E1–E4, I4, I9, M3, R2): package app receives mail, replies,
// notifies and runs the outbox; the server reports deliveries.

// messageStatus is a message's status in the v3 API: SENT for what Parley
// stored, and for email replies and transcripts sent by hand the state of
// their delivery (PENDING, SENT or FAILED, with the reason).
func (s *Server) messageStatus(ctx context.Context, t *parley.Thread, m *parley.Message) map[string]string {
	st := map[string]string{"statusType": parley.DeliverySent}
	transcript := m.Type == parley.TypeSystem && m.Event == parley.EventTranscriptSent
	forward := m.Type == parley.TypeSystem && m.Event == parley.EventForwarded
	sent := (t.ChannelID == parley.ChannelEmail || parley.IsCustomChannel(t.ChannelID)) && m.Direction == parley.Outgoing && m.Type == parley.TypeMessage
	if !transcript && !forward && !sent {
		return st
	}
	d, err := s.db.Delivery(ctx, t.ID, m.ID)
	if err != nil {
		s.log.Warn().Err(err).Uint64("messageId", m.ID).Msg("read delivery status")
		return st
	}
	if d != nil {
		st["statusType"] = d.Status
		if d.Error != "" {
			st["failureDetails"] = d.Error
		}
	}
	return st
}

// evDelivery tells consoles how sending a reply went (docs/websocket.md).
type evDelivery struct {
	Type      string `json:"type"` // message.delivery
	ThreadID  string `json:"threadId"`
	MessageID string `json:"messageId"`
	Status    string `json:"status"` // PENDING, SENT or FAILED
	Error     string `json:"error,omitempty"`
}
