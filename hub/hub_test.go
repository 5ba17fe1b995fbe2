package hub

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/parley-chat/parley"
)

// drain returns the events queued in s without waiting.
func drain(s parley.Subscription) []string {
	var got []string
	evs, _ := s.Take(nil, 0)
	for _, ev := range evs {
		got = append(got, string(ev))
	}
	return got
}

func pub(h *Hub, data string, topics ...string) { h.Publish([]byte(data), topics...) }

func TestTopicNames(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"thread", parley.ThreadTopic(42), "thread:42"},
		{"inbox", parley.InboxTopic(7), "inbox:7"},
		{"max id", parley.ThreadTopic(1<<64 - 1), "thread:18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("topic=%q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"slow", parley.ErrSlow},
		{"closed", parley.ErrClosed},
		{"unsubscribed", parley.ErrUnsubscribed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := parley.ErrorCode(tt.err), parley.EUNAVAILABLE; got != want {
				t.Errorf("code=%q, want %q", got, want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts *Options
		want int
	}{
		{"nil", nil, 256},
		{"zero", &Options{}, 256},
		{"negative", &Options{BufferSize: -1}, 256},
		{"set", &Options{BufferSize: 4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(tt.opts)
			defer h.Close()
			s := h.Subscribe("a")
			for range tt.want {
				h.Publish([]byte("x"), "a")
			}
			if err := s.Err(); err != nil {
				t.Fatalf("Err()=%v with %d queued, want nil", err, tt.want)
			}
			h.Publish([]byte("x"), "a")
			if got := s.Err(); got != parley.ErrSlow {
				t.Errorf("Err()=%v with %d queued, want parley.ErrSlow", got, tt.want+1)
			}
		})
	}
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name      string
		subs      [][]string // topics of each subscription, subscribed in order
		run       func(h *Hub, s []parley.Subscription)
		want      [][]string // events queued for each subscription afterwards
		wantErr   []error    // Err of each subscription; nil means all live
		wantStats Stats
	}{
		{
			name: "one topic",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				pub(h, "2", "b")
				pub(h, "3", "a")
			},
			want:      [][]string{{"1", "3"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "several subscribers",
			subs: [][]string{{"a"}, {"a"}, {"b"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				pub(h, "2", "b")
			},
			want:      [][]string{{"1"}, {"1"}, {"2"}},
			wantStats: Stats{Subscriptions: 3, Topics: 2},
		},
		{
			name: "publish to several topics",
			subs: [][]string{{"a"}, {"b"}, {"c"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a", "b")
				pub(h, "2", "c", "x")
			},
			want:      [][]string{{"1"}, {"1"}, {"2"}},
			wantStats: Stats{Subscriptions: 3, Topics: 3},
		},
		{
			name: "subscriber on several topics receives once",
			subs: [][]string{{"a", "b", "c"}, {"b"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a", "b", "c")
				pub(h, "2", "b")
				pub(h, "3", "c", "a")
				pub(h, "4", "a", "b", "c")
			},
			want:      [][]string{{"1", "2", "3", "4"}, {"1", "2", "4"}},
			wantStats: Stats{Subscriptions: 2, Topics: 3},
		},
		{
			name: "topic repeated in publish",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a", "a")
			},
			want:      [][]string{{"1"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "topic repeated in subscribe",
			subs: [][]string{{"a", "a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
			},
			want:      [][]string{{"1"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "publish to no topic",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1")
			},
			want:      [][]string{nil},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "subscribe to no topic, then add",
			subs: [][]string{{}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				s[0].Add("a")
				pub(h, "2", "a")
			},
			want:      [][]string{{"2"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "add",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Add("b", "c")
				pub(h, "1", "b")
				pub(h, "2", "a", "b", "c")
			},
			want:      [][]string{{"1", "2"}},
			wantStats: Stats{Subscriptions: 1, Topics: 3},
		},
		{
			name: "add a topic already on",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Add("a")
				pub(h, "1", "a")
			},
			want:      [][]string{{"1"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "remove",
			subs: [][]string{{"a", "b"}, {"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				s[0].Remove("a")
				pub(h, "2", "a")
				pub(h, "3", "b")
				pub(h, "4", "a", "b")
			},
			want:      [][]string{{"1", "3", "4"}, {"1", "2", "4"}},
			wantStats: Stats{Subscriptions: 2, Topics: 2},
		},
		{
			name: "remove every topic keeps the subscription",
			subs: [][]string{{"a", "b"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Remove("a", "b")
				pub(h, "1", "a", "b")
			},
			want:      [][]string{nil},
			wantStats: Stats{Subscriptions: 1, Topics: 0},
		},
		{
			name: "remove a topic not on",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Remove("b")
				pub(h, "1", "a")
			},
			want:      [][]string{{"1"}},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "close",
			subs: [][]string{{"a", "b"}, {"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				s[0].Close()
				pub(h, "2", "a", "b")
			},
			want:      [][]string{{"1"}, {"1", "2"}},
			wantErr:   []error{parley.ErrUnsubscribed, nil},
			wantStats: Stats{Subscriptions: 1, Topics: 1},
		},
		{
			name: "close twice",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Close()
				s[0].Close()
			},
			want:      [][]string{nil},
			wantErr:   []error{parley.ErrUnsubscribed},
			wantStats: Stats{},
		},
		{
			name: "add and remove after close",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				s[0].Close()
				s[0].Add("b")
				s[0].Remove("a")
				pub(h, "1", "a", "b")
			},
			want:      [][]string{nil},
			wantErr:   []error{parley.ErrUnsubscribed},
			wantStats: Stats{},
		},
		{
			name: "hub close",
			subs: [][]string{{"a"}, {"b"}, {}},
			run: func(h *Hub, s []parley.Subscription) {
				pub(h, "1", "a")
				h.Close()
				pub(h, "2", "a", "b")
			},
			want:      [][]string{{"1"}, nil, nil},
			wantErr:   []error{parley.ErrClosed, parley.ErrClosed, parley.ErrClosed},
			wantStats: Stats{},
		},
		{
			name: "hub close twice, then close and add",
			subs: [][]string{{"a"}},
			run: func(h *Hub, s []parley.Subscription) {
				h.Close()
				h.Close()
				s[0].Close()
				s[0].Add("a")
			},
			want:      [][]string{nil},
			wantErr:   []error{parley.ErrClosed},
			wantStats: Stats{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(nil)
			defer h.Close()
			subs := make([]parley.Subscription, len(tt.subs))
			for i, topics := range tt.subs {
				subs[i] = h.Subscribe(topics...)
				if err := subs[i].Err(); err != nil {
					t.Fatalf("sub %d: new subscription Err=%v, want nil", i, err)
				}
			}
			tt.run(h, subs)
			for i, s := range subs {
				if got := drain(s); !slices.Equal(got, tt.want[i]) {
					t.Errorf("sub %d got %q, want %q", i, got, tt.want[i])
				}
				var want error
				if tt.wantErr != nil {
					want = tt.wantErr[i]
				}
				if got := s.Err(); got != want {
					t.Errorf("sub %d Err=%v, want %v", i, got, want)
				}
				select {
				case <-s.Done():
					if want == nil {
						t.Errorf("sub %d Done closed while live", i)
					}
				default:
					if want != nil {
						t.Errorf("sub %d Done open after end", i)
					}
				}
			}
			if got := h.Stats(); got != tt.wantStats {
				t.Errorf("stats=%+v, want %+v", got, tt.wantStats)
			}
		})
	}
}

// TestSlowSubscriber publishes from the test goroutine itself: if Publish
// blocked on the subscriber that never reads, the test would deadlock.
func TestSlowSubscriber(t *testing.T) {
	const bufSize, events = 4, 10
	h := New(&Options{BufferSize: bufSize})
	defer h.Close()
	slow := h.Subscribe("a", "x")
	fast := []parley.Subscription{h.Subscribe("a"), h.Subscribe("a", "b"), h.Subscribe("b")}

	var want []string
	got := make([][]string, len(fast))
	for i := range events {
		ev := fmt.Sprint(i)
		want = append(want, ev)
		h.Publish([]byte(ev), "a", "b")
		for j, s := range fast {
			got[j] = append(got[j], drain(s)...)
		}
	}

	for j := range fast {
		if !slices.Equal(got[j], want) {
			t.Errorf("fast sub %d got %q, want %q", j, got[j], want)
		}
		if err := fast[j].Err(); err != nil {
			t.Errorf("fast sub %d Err=%v, want nil", j, err)
		}
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscription's Done is open, want closed")
	}
	if got, want := slow.Err(), parley.ErrSlow; got != want {
		t.Errorf("slow Err=%v, want %v", got, want)
	}
	// What the slow subscriber did get is a gap-free prefix.
	if got, want := drain(slow), want[:bufSize]; !slices.Equal(got, want) {
		t.Errorf("slow sub got %q, want %q", got, want)
	}
	// Dropped means removed from every topic: "x" is gone with it.
	if got, want := h.Stats(), (Stats{Subscriptions: 3, Topics: 2, Dropped: 1}); got != want {
		t.Errorf("stats=%+v, want %+v", got, want)
	}
	h.Publish([]byte("late"), "a", "x")
	if got := drain(slow); got != nil {
		t.Errorf("slow sub got %q after drop, want nothing", got)
	}
	slow.Close()
	if got, want := slow.Err(), parley.ErrSlow; got != want {
		t.Errorf("slow Err after Close=%v, want %v", got, want)
	}
}

// TestChurn subscribes, adds, removes and closes while others publish, for
// the race detector; the hub must end empty.
func TestChurn(t *testing.T) {
	h := New(&Options{BufferSize: 8})
	defer h.Close()
	topics := []string{"a", "b", "c", "d", "e"}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				h.Publish([]byte("x"), topics[(p+n)%len(topics)], topics[(p+2*n)%len(topics)])
				_ = h.Stats()
			}
		})
	}
	var churners sync.WaitGroup
	for c := range 8 {
		churners.Go(func() {
			for n := range 500 {
				s := h.Subscribe(topics[(c+n)%len(topics)])
				s.Add(topics[(c+n+1)%len(topics)], topics[(c+n+2)%len(topics)])
				drain(s)
				s.Remove(topics[(c+n)%len(topics)])
				_ = s.Err()
				s.Close()
				if err := s.Err(); err != parley.ErrUnsubscribed && err != parley.ErrSlow {
					t.Errorf("Err after Close=%v, want %v or %v", err, parley.ErrUnsubscribed, parley.ErrSlow)
				}
			}
		})
	}
	churners.Wait()
	close(stop)
	wg.Wait()

	got := h.Stats()
	if got.Subscriptions != 0 || got.Topics != 0 {
		t.Errorf("stats=%+v, want no subscriptions and no topics", got)
	}
}

func TestSubscribeAfterClose(t *testing.T) {
	h := New(nil)
	h.Close()
	s := h.Subscribe("a")
	s.Add("b")
	h.Publish([]byte("1"), "a", "b")

	if got := s.Err(); !errors.Is(got, parley.ErrClosed) {
		t.Errorf("Err=%v, want %v", got, parley.ErrClosed)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done is open, want closed")
	}
	if got := drain(s); got != nil {
		t.Errorf("got %q, want nothing", got)
	}
	if got, want := h.Stats(), (Stats{}); got != want {
		t.Errorf("stats=%+v, want %+v", got, want)
	}
}
