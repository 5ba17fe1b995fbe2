package server

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

// botStore is what this area needs from the store beyond Store's core.
type botStore interface {
	AppendTurn(ctx context.Context, m *parley.Message, opts parley.AppendOptions, turn parley.TurnFunc, ro parley.RouteOptions) (parley.TurnResult, error)
	IdleBotThreads(ctx context.Context, before time.Time, limit int) ([]uint64, error)
	UpdateWidget(ctx context.Context, id uint64, fn func(*parley.Widget) error) (*parley.Widget, error)
}
