package brokertest

import (
	"maps"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

// OpenPresence returns a new, empty Presence, released when the test ends.
type OpenPresence func(t *testing.T) parley.Presence

// RunPresence runs the presence contract against presences from open.
func RunPresence(t *testing.T, open OpenPresence) {
	t.Run("Presence", func(t *testing.T) { runPresence(t, open) })
	t.Run("PresenceSnapshotIsACopy", func(t *testing.T) { runPresenceSnapshotIsACopy(t, open) })
	t.Run("PresenceWatch", func(t *testing.T) { runPresenceWatch(t, open) })
	t.Run("PresenceWatchCoalesces", func(t *testing.T) { runPresenceWatchCoalesces(t, open) })
	t.Run("PresenceWatchCancel", func(t *testing.T) { runPresenceWatchCancel(t, open) })
	t.Run("PresenceConcurrent", func(t *testing.T) { runPresenceConcurrent(t, open) })
}

// signaled reports whether ch holds a signal, consuming it.
func signaled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func runPresence(t *testing.T, open OpenPresence) {
	tests := []struct {
		name string
		run  func(p parley.Presence)
		want map[uint64]parley.UserState // Snapshot afterwards
	}{
		{
			name: "never seen",
			run:  func(p parley.Presence) {},
			want: map[uint64]parley.UserState{},
		},
		{
			name: "connect",
			run:  func(p parley.Presence) { p.Connect(1) },
			want: map[uint64]parley.UserState{1: {Online: true, Connections: 1}},
		},
		{
			name: "connect twice, release once",
			run: func(p parley.Presence) {
				release := p.Connect(1)
				p.Connect(1)
				release()
			},
			want: map[uint64]parley.UserState{1: {Online: true, Connections: 1}},
		},
		{
			name: "connect twice, release twice",
			run: func(p parley.Presence) {
				r1, r2 := p.Connect(1), p.Connect(1)
				r1()
				r2()
			},
			want: map[uint64]parley.UserState{},
		},
		{
			name: "release is idempotent",
			run: func(p parley.Presence) {
				release := p.Connect(1)
				p.Connect(1)
				release()
				release()
			},
			want: map[uint64]parley.UserState{1: {Online: true, Connections: 1}},
		},
		{
			name: "away while online",
			run: func(p parley.Presence) {
				p.Connect(1)
				p.SetAway(1, true)
			},
			want: map[uint64]parley.UserState{1: {Online: true, Away: true, Connections: 1}},
		},
		{
			name: "away while offline",
			run:  func(p parley.Presence) { p.SetAway(1, true) },
			want: map[uint64]parley.UserState{1: {Away: true}},
		},
		{
			name: "away stays after the last release",
			run: func(p parley.Presence) {
				release := p.Connect(1)
				p.SetAway(1, true)
				release()
			},
			want: map[uint64]parley.UserState{1: {Away: true}},
		},
		{
			name: "away off",
			run: func(p parley.Presence) {
				p.Connect(1)
				p.SetAway(1, true)
				p.SetAway(1, false)
			},
			want: map[uint64]parley.UserState{1: {Online: true, Connections: 1}},
		},
		{
			name: "away off while offline forgets the user",
			run: func(p parley.Presence) {
				p.SetAway(1, true)
				p.SetAway(1, false)
			},
			want: map[uint64]parley.UserState{},
		},
		{
			name: "several users",
			run: func(p parley.Presence) {
				p.Connect(1)
				p.Connect(2)
				p.Connect(2)
				p.Connect(3)()
				p.SetAway(4, true)
			},
			want: map[uint64]parley.UserState{
				1: {Online: true, Connections: 1},
				2: {Online: true, Connections: 2},
				4: {Away: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := open(t)
			tt.run(p)
			if got := p.Snapshot(); !maps.Equal(got, tt.want) {
				t.Errorf("snapshot=%v, want %v", got, tt.want)
			}
			for _, id := range []uint64{1, 2, 3, 4} {
				if got, want := p.State(id), tt.want[id]; got != want {
					t.Errorf("state(%d)=%+v, want %+v", id, got, want)
				}
			}
		})
	}
}

func runPresenceSnapshotIsACopy(t *testing.T, open OpenPresence) {
	p := open(t)
	p.Connect(1)
	snap := p.Snapshot()
	snap[2] = parley.UserState{Online: true}
	delete(snap, 1)
	if got, want := p.State(1), (parley.UserState{Online: true, Connections: 1}); got != want {
		t.Errorf("state(1)=%+v, want %+v", got, want)
	}
	if got, want := p.State(2), (parley.UserState{}); got != want {
		t.Errorf("state(2)=%+v, want %+v", got, want)
	}
}

func runPresenceWatch(t *testing.T, open OpenPresence) {
	tests := []struct {
		name    string
		prepare func(p parley.Presence) (act func()) // runs before Watch; act after
		want    bool                                 // whether act signals
	}{
		{
			name:    "first connection",
			prepare: func(p parley.Presence) func() { return func() { p.Connect(1) } },
			want:    true,
		},
		{
			name: "second connection",
			prepare: func(p parley.Presence) func() {
				p.Connect(1)
				return func() { p.Connect(1) }
			},
			want: false,
		},
		{
			name: "release one of two",
			prepare: func(p parley.Presence) func() {
				release := p.Connect(1)
				p.Connect(1)
				return release
			},
			want: false,
		},
		{
			name: "release the last",
			prepare: func(p parley.Presence) func() {
				return p.Connect(1)
			},
			want: true,
		},
		{
			name: "release again",
			prepare: func(p parley.Presence) func() {
				release := p.Connect(1)
				p.Connect(1)
				release()
				return release
			},
			want: false,
		},
		{
			name: "another user connects",
			prepare: func(p parley.Presence) func() {
				p.Connect(1)
				return func() { p.Connect(2) }
			},
			want: true,
		},
		{
			name:    "away on",
			prepare: func(p parley.Presence) func() { return func() { p.SetAway(1, true) } },
			want:    true,
		},
		{
			name: "away on again",
			prepare: func(p parley.Presence) func() {
				p.SetAway(1, true)
				return func() { p.SetAway(1, true) }
			},
			want: false,
		},
		{
			name: "away off",
			prepare: func(p parley.Presence) func() {
				p.SetAway(1, true)
				return func() { p.SetAway(1, false) }
			},
			want: true,
		},
		{
			name:    "away off when not away",
			prepare: func(p parley.Presence) func() { return func() { p.SetAway(1, false) } },
			want:    false,
		},
		{
			name: "reads",
			prepare: func(p parley.Presence) func() {
				p.Connect(1)
				return func() {
					p.State(1)
					p.Snapshot()
				}
			},
			want: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := open(t)
			act := tt.prepare(p)
			ch, cancel := p.Watch()
			defer cancel()
			act()
			if got := signaled(ch); got != tt.want {
				t.Errorf("signaled=%t, want %t", got, tt.want)
			}
		})
	}
}

func runPresenceWatchCoalesces(t *testing.T, open OpenPresence) {
	p := open(t)
	ch, cancel := p.Watch()
	defer cancel()
	p.Connect(1)
	p.SetAway(1, true)
	p.Connect(2)
	if !signaled(ch) {
		t.Fatal("no signal after three changes, want one")
	}
	if signaled(ch) {
		t.Fatal("second signal after three unread changes, want one")
	}
	p.SetAway(1, false)
	if !signaled(ch) {
		t.Error("no signal after a change following a read, want one")
	}
}

func runPresenceWatchCancel(t *testing.T, open OpenPresence) {
	p := open(t)
	ch1, cancel1 := p.Watch()
	ch2, cancel2 := p.Watch()
	defer cancel2()
	cancel1()
	cancel1()
	p.Connect(1)
	if signaled(ch1) {
		t.Error("cancelled watcher signaled")
	}
	if !signaled(ch2) {
		t.Error("other watcher not signaled after a cancel")
	}
}

// runPresenceConcurrent is for the race detector: the counts must balance.
func runPresenceConcurrent(t *testing.T, open OpenPresence) {
	p := open(t)
	ch, cancel := p.Watch()
	stop := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for {
			select {
			case <-ch:
				p.Snapshot()
			case <-stop:
				return
			}
		}
	})

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 1000 {
				id := uint64(n % 4)
				release := p.Connect(id)
				p.SetAway(id, (g+n)%2 == 0)
				p.State(id)
				release()
				release()
			}
		})
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	cancel()

	for id := range uint64(4) {
		p.SetAway(id, false)
	}
	if got := p.Snapshot(); len(got) != 0 {
		t.Errorf("snapshot=%v, want empty", got)
	}
}
