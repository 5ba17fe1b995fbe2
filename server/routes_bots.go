package server

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// routesBots registers the endpoints of bots (I7, B1): a widget's bot flow,
// its preview, and taking a conversation over from the bot.
func (s *Server) routesBots(mux *http.ServeMux) {
	user, admin := s.requireUser, s.requireAdmin
	mux.Handle("GET /api/v1/widgets/{id}/bot", admin(s.handleBotGet()))
	mux.Handle("PUT /api/v1/widgets/{id}/bot", admin(s.handleBotPut()))
	mux.Handle("POST /api/v1/bots/preview", admin(s.handleBotPreview()))
	mux.Handle("POST /api/v1/threads/{threadId}/takeover", user(s.handleTakeOver()))
}

// botStore is what this area needs from the store beyond Store's core.
type botStore interface {
	AppendTurn(ctx context.Context, m *parley.Message, opts store.AppendOptions, turn store.TurnFunc, ro store.RouteOptions) (store.TurnResult, error)
	IdleBotThreads(ctx context.Context, before time.Time, limit int) ([]uint64, error)
	UpdateWidget(ctx context.Context, id uint64, fn func(*parley.Widget) error) (*parley.Widget, error)
}
