package store

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/storetest"
)

// TestContract runs the storage contract's suite over bbolt.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Stores {
		return MustOpen(t, &Options{NoSync: true, Now: now})
	})
}
