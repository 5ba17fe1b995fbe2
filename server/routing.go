package server

import (
	"context"

	"github.com/parley-chat/parley"
)

// routeThread gives thread t to an agent per its widget's routing (W6) when
// one can receive it now, and otherwise leaves it waiting unassigned. It
// returns the thread as it is afterwards.
func (s *Server) routeThread(ctx context.Context, t *parley.Thread) (*parley.Thread, error) {
	return t, nil
}
