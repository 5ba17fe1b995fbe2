package server

import (
	"net/http"

	"github.com/parley-chat/parley"
)

// Chat transcripts sent by hand (R3): what the console offers, and sending.

// handleTranscriptDraft answers GET /api/v1/threads/{threadId}/transcript:
// the addresses the transcript may go to and its default subject, or the
// error that sending would meet (the chat is open, a bot's, not the
// caller's to read, or mail is not configured).
func (s *Server) handleTranscriptDraft() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "threadId")
		if err != nil {
			return err
		}
		d, err := s.app.TranscriptDraft(r.Context(), userFrom(r.Context()), id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, d)
		return nil
	})
}

// transcriptRequest is the body of POST /api/v1/threads/{threadId}/transcript.
type transcriptRequest struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
}

// handleTranscriptSend answers POST /api/v1/threads/{threadId}/transcript:
// it queues the transcript and answers 201 with the SYSTEM message that
// records it, in the v3 message shape (its status the delivery's).
func (s *Server) handleTranscriptSend() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "threadId")
		if err != nil {
			return err
		}
		var req transcriptRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.To == "" {
			return parley.Errorf(parley.EINVALID, "to is required: one of the contact's email addresses")
		}
		m, t, err := s.app.SendTranscript(ctx, userFrom(ctx), id, req.To, req.Subject)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, s.toMessageJSON(ctx, t, m, map[string]string{}))
		return nil
	})
}
