package server

import (
	"net/http"

	"github.com/parley-chat/parley"
)

// widgetJSON is a widget in the settings API (CONTRACT §5).
type widgetJSON struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	InboxID      string               `json:"inboxId"`
	Enabled      bool                 `json:"enabled"`
	Targeting    parley.Targeting     `json:"targeting"`
	Availability parley.Availability  `json:"availability"`
	Message      parley.WidgetMessage `json:"message"`
	Appearance   parley.Appearance    `json:"appearance"`
	Snippet      string               `json:"snippet"`
}

func (s *Server) toWidgetJSON(r *http.Request, w *parley.Widget) widgetJSON {
	rules := w.Targeting.Rules
	if rules == nil {
		rules = []parley.TargetRule{}
	}
	return widgetJSON{
		ID: idString(w.ID), Name: w.Name, InboxID: idString(w.InboxID), Enabled: w.Enabled,
		Targeting: parley.Targeting{Rules: rules}, Availability: w.Availability, Message: w.Message,
		Appearance: w.Appearance,
		Snippet:    `<script async src="` + s.baseURL(r) + `/embed.js"></script>`,
	}
}

func (s *Server) handleWidgets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		widgets, err := s.db.Widgets(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := make([]widgetJSON, len(widgets))
		for i, wd := range widgets {
			out[i] = s.toWidgetJSON(r, wd)
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
	})
}

func (s *Server) handleWidgetGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseID(r.PathValue("id"))
		var wd *parley.Widget
		if err == nil {
			wd, err = s.db.Widget(r.Context(), id)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, s.toWidgetJSON(r, wd))
	})
}
