package server

import (
	"net/http"
	"time"
)

// A contact's recorded consents (G1, G2).

type consentJSON struct {
	Kind             string    `json:"kind"`
	Mode             string    `json:"mode,omitempty"`
	SubscriptionType string    `json:"subscriptionType,omitempty"`
	Text             string    `json:"text"`
	Version          string    `json:"version"`
	WidgetID         string    `json:"widgetId"`
	WidgetName       string    `json:"widgetName,omitempty"`
	PageURL          string    `json:"pageUrl,omitempty"`
	At               time.Time `json:"at"`
}

// handleContactConsents is GET /api/v1/contacts/{contactId}/consents: the
// consents the contact gave, newest first, for a user who may see the
// contact.
func (s *Server) handleContactConsents() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, c, err := s.contactParam(r)
		if err != nil {
			return err
		}
		names := map[uint64]string{}
		out := make([]consentJSON, 0, len(c.Consents))
		for i := len(c.Consents) - 1; i >= 0; i-- {
			rec := c.Consents[i]
			name, seen := names[rec.WidgetID]
			if !seen {
				if wd, err := s.db.Widget(r.Context(), rec.WidgetID); err == nil {
					name = wd.Name
				}
				names[rec.WidgetID] = name
			}
			out = append(out, consentJSON{
				Kind: rec.Kind, Mode: rec.Mode, SubscriptionType: rec.SubscriptionType, Text: rec.Text, Version: rec.Version,
				WidgetID: idString(rec.WidgetID), WidgetName: name, PageURL: rec.PageURL, At: rec.At.UTC(),
			})
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}
