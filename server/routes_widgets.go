package server

import (
	"context"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// widgetRefs loads what a widget's settings may refer to.
func (s *Server) widgetRefs(ctx context.Context) (parley.WidgetRefs, error) {
	var refs parley.WidgetRefs
	var err error
	if refs.Inboxes, err = s.db.Inboxes(ctx); err != nil {
		return refs, err
	}
	if refs.Users, err = s.db.Users(ctx); err != nil {
		return refs, err
	}
	if refs.Teams, err = s.db.Teams(ctx); err != nil {
		return refs, err
	}
	refs.Lists, err = s.db.ContactLists(ctx)
	return refs, err
}

// checkWidget validates w completely: its own settings, then what it refers
// to. It also compiles w's theme, so that an admin's change of appearance is
// compiled once, here, and not on a visitor's page view (a failed compile is
// logged; visitors then get the fallback theme).
func (s *Server) checkWidget(ctx context.Context, w *parley.Widget) error {
	if err := w.Validate(); err != nil {
		return err
	}
	refs, err := s.widgetRefs(ctx)
	if err != nil {
		return err
	}
	if err := w.ValidateRefs(refs); err != nil {
		return err
	}
	return s.prepareTheme(ctx, w.Appearance)
}

// newWidgetBase is what POST /widgets merges its body into: the default
// widget's settings without a name or an inbox.
func newWidgetBase() *parley.Widget {
	w := parley.DefaultWidget(0)
	w.Name = ""
	return w
}

func (s *Server) handleWidgets() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		widgets, err := s.db.Widgets(r.Context())
		if err != nil {
			return err
		}
		out := make([]widgetJSON, len(widgets))
		for i, wd := range widgets {
			out[i] = s.toWidgetJSON(r, wd)
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

func (s *Server) handleWidgetGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		wd, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toWidgetJSON(r, wd))
		return nil
	})
}

func (s *Server) handleWidgetCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		patch, err := readWidgetPatch(w, r)
		if err != nil {
			return err
		}
		wd := newWidgetBase()
		if err := patch.applyTo(wd); err != nil {
			return err
		}
		if err := s.checkWidget(ctx, wd); err != nil {
			return err
		}
		if err := s.db.CreateWidget(ctx, wd); err != nil {
			return err
		}
		s.app.WidgetsChanged()
		s.writeJSON(w, http.StatusCreated, s.toWidgetJSON(r, wd))
		return nil
	})
}

// handleWidgetPatch merges the body into the widget (RFC 7386), validates
// the result and stores it, then tells the widget's connected visitors.
func (s *Server) handleWidgetPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		cur, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		id := cur.ID
		patch, err := readWidgetPatch(w, r)
		if err != nil {
			return err
		}
		// A dry run on what was read checks the references too; the write
		// merges into the widget as stored then, in its transaction.
		if err := patch.applyTo(cur); err != nil {
			return err
		}
		if err := s.checkWidget(ctx, cur); err != nil {
			return err
		}
		wd, err := s.db.UpdateWidget(ctx, id, func(wd *parley.Widget) error {
			if err := patch.applyTo(wd); err != nil {
				return err
			}
			return wd.Validate()
		})
		if err != nil {
			return err
		}
		s.publishWidget(ctx, wd)
		s.writeJSON(w, http.StatusOK, s.toWidgetJSON(r, wd))
		return nil
	})
}

// handleWidgetDelete deletes a widget; its threads stay in the inbox, and
// its connected visitors' launchers hide.
func (s *Server) handleWidgetDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteWidget(r.Context(), id); err != nil {
			return err
		}
		s.hub.Publish(mustJSON(evStatus{Type: "status", Status: parley.WidgetStatus{}}), widgetTopic(id))
		s.app.WidgetsChanged()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// evWidget tells a widget's visitors its new public settings.
type evWidget struct {
	Type   string             `json:"type"` // widget.updated
	Widget *widget.BootWidget `json:"widget"`
}

// publishWidget tells the visitors connected to a committed widget what
// they should show now: its status (a disabled widget's hides the launcher)
// and its public settings.
func (s *Server) publishWidget(ctx context.Context, wd *parley.Widget) {
	st := s.app.WidgetStatus(ctx, wd) // hidden for a switched-off widget
	boot := widget.NewBoot(wd, st, "", "", "")
	s.hub.Publish(mustJSON(evStatus{Type: "status", Status: st}), widgetTopic(wd.ID))
	s.hub.Publish(mustJSON(evWidget{Type: "widget.updated", Widget: boot.Widget}), widgetTopic(wd.ID))
	// Availability and routing depend on the settings too: business-hours
	// timers, routing targets, a bot's override.
	s.app.WidgetsChanged()
}

// ----- contact lists -----

func (s *Server) handleLists() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		lists, err := s.db.ContactLists(ctx)
		if err != nil {
			return err
		}
		widgets, err := s.db.Widgets(ctx)
		if err != nil {
			return err
		}
		out := make([]listJSON, len(lists))
		for i, l := range lists {
			out[i] = toListJSON(l, widgets)
		}
		s.writeJSON(w, http.StatusOK, page{Results: out})
		return nil
	})
}

// writeList answers with list l and the widgets that use it.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, status int, l *parley.ContactList) error {
	widgets, err := s.db.Widgets(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, status, toListJSON(l, widgets))
	return nil
}

func (s *Server) handleListGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		l, err := s.db.ContactList(r.Context(), id)
		if err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusOK, l)
	})
}

func (s *Server) handleListCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req listRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		l := &parley.ContactList{Match: parley.MatchAll}
		req.apply(l)
		if err := l.Validate(); err != nil {
			return err
		}
		if err := s.db.CreateContactList(r.Context(), l); err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusCreated, l)
	})
}

func (s *Server) handleListPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req listRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Name == nil && req.Match == nil && req.Criteria == nil {
			return parley.Errorf(parley.EINVALID, "nothing to change: send name, match or criteria")
		}
		l, err := s.db.UpdateContactList(r.Context(), id, func(l *parley.ContactList) error {
			req.apply(l)
			return l.Validate()
		})
		if err != nil {
			return err
		}
		return s.writeList(w, r, http.StatusOK, l)
	})
}

// handleListDelete deletes a list that no widget's audience uses (else 409
// naming the widget).
func (s *Server) handleListDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteContactList(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
