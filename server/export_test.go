package server

// NotifyWidgetsChanged lets the external tests signal a widget change made
// directly in the store, as the widget settings API does after its commit.
func (s *Server) NotifyWidgetsChanged() { s.notifyWidgetsChanged() }
