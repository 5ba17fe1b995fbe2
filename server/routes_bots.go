package server

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// botStore is what this area needs from the store beyond Store's core.
type botStore interface {
	AppendTurn(ctx context.Context, m *parley.Message, opts store.AppendOptions, turn store.TurnFunc, ro store.RouteOptions) (store.TurnResult, error)
	IdleBotThreads(ctx context.Context, before time.Time, limit int) ([]uint64, error)
	UpdateWidget(ctx context.Context, id uint64, fn func(*parley.Widget) error) (*parley.Widget, error)
}
