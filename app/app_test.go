package app_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/store"
)

// recorder is an app.Events that notes what it hears, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) MessageCreated(_ context.Context, _ *parley.Thread, m *parley.Message) {
	r.add("message " + string(m.Type))
}
func (r *recorder) ThreadCreated(context.Context, *parley.Thread) { r.add("thread created") }
func (r *recorder) ThreadUpdated(_ context.Context, t *parley.Thread, toVisitor bool) {
	if toVisitor {
		r.add("thread updated, to the visitor")
	} else {
		r.add("thread updated")
	}
}
func (r *recorder) ThreadDeleted(context.Context, *parley.Thread)     { r.add("thread deleted") }
func (r *recorder) ContactUpdated(context.Context, *parley.Contact)   { r.add("contact updated") }
func (r *recorder) Delivery(*parley.Thread, uint64, *parley.Delivery) { r.add("delivery") }
func (r *recorder) Presence(context.Context)                          { r.add("presence") }
func (r *recorder) WidgetStatus(uint64, parley.WidgetStatus)          { r.add("status") }
func (r *recorder) Viewers(uint64, app.Viewers)                       { r.add("viewers") }
func (r *recorder) RecordChanged(context.Context, *parley.Record)     { r.add("record") }

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// want checks that the events since the last check are want.
func (r *recorder) want(t *testing.T, what string, want ...string) {
	t.Helper()
	if got := r.list(); !slices.Equal(got, want) {
		t.Errorf("%s: events %q, want %q", what, got, want)
	}
	r.reset()
}

// TestVisitorWritesAgentCloses runs the chat operations without any
// transport: a visitor's first message starts a conversation, an agent
// replies and closes it, and each commit is told to Events after it. The
// app is not started: the operations need none of its goroutines.
func TestVisitorWritesAgentCloses(t *testing.T) {
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	agent := &parley.User{Email: "agent@example.com", Name: "Agent", Role: parley.RoleAgent}
	if err := db.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{agent.ID}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	w.Routing.Mode = parley.RoutingNone
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	a := app.New(app.Config{Now: func() time.Time { return now }}, db, hub.NewPresence())
	ev := &recorder{}
	a.SetEvents(ev) // not started: its goroutines would push availability too

	c, err := a.NewVisitor(ctx, "hash-of-a-visitor-secret")
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.PostVisitorMessage(ctx, w, c.ID, false, "https://example.com/pricing", "en", "c1", "Hello?", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ThreadCreated || res.Thread.Status != parley.StatusOpen || res.Thread.PageURL != "https://example.com/pricing" {
		t.Fatalf("thread=%+v created=%v, want a new open thread from the page", res.Thread, res.ThreadCreated)
	}
	ev.want(t, "the visitor writes", "thread created", "message MESSAGE")

	// The same client id again is the same message: nothing new is told.
	if again, err := a.PostVisitorMessage(ctx, w, c.ID, false, "", "en", "c1", "Hello?", nil, 0); err != nil || !again.Duplicate {
		t.Fatalf("resend: duplicate=%v err=%v", again.Duplicate, err)
	}
	ev.want(t, "the visitor resends")

	if _, _, err := a.PostAgentMessage(ctx, agent, res.Thread.ID, "", "a1", "Hi, how can I help?"); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "the agent replies", "message MESSAGE")

	th, err := a.SetThreadStatus(ctx, agent, res.Thread.ID, parley.StatusClosed)
	if err != nil {
		t.Fatal(err)
	}
	if th.Status != parley.StatusClosed || !th.ClosedAt.Equal(now) {
		t.Errorf("closed thread=%+v, want closed at the app's clock %v", th, now)
	}
	ev.want(t, "the agent closes", "message THREAD_STATUS_CHANGE", "thread updated, to the visitor")

	// Closing again changes nothing and tells no one.
	if _, err := a.SetThreadStatus(ctx, agent, res.Thread.ID, parley.StatusClosed); err != nil {
		t.Fatal(err)
	}
	ev.want(t, "the agent closes again")

	// Someone outside the inbox does not see the thread.
	stranger := &parley.User{ID: agent.ID + 100, Name: "Stranger"}
	if _, err := a.ThreadForUser(ctx, stranger, res.Thread.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("a stranger's ThreadForUser: %v, want ENOTFOUND", err)
	}
}

// TestViewers: two tabs of one user count once, and the list changes only
// when a user comes or goes.
func TestViewers(t *testing.T) {
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	u := &parley.User{Email: "agent@example.com", Name: "Agent", Role: parley.RoleAgent}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{u.ID}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Config{}, db, hub.NewPresence())
	ev := &recorder{}
	a.SetEvents(ev)
	c, err := a.NewVisitor(ctx, "hash")
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.PostVisitorMessage(ctx, w, c.ID, false, "", "en", "c1", "Hi", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev.reset()
	tab1, tab2 := new(int), new(int) // any comparable value stands for a connection
	if v, err := a.View(ctx, tab1, u, res.Thread.ID); err != nil || v != nil {
		t.Fatalf("first tab: %+v, %v; want the list told through Events", v, err)
	}
	ev.want(t, "the first tab", "viewers")
	v, err := a.View(ctx, tab2, u, res.Thread.ID)
	if err != nil || v == nil || len(v.Users) != 1 || v.Users[0].UserID != u.ID {
		t.Fatalf("second tab: %+v, %v; want the list for this tab alone", v, err)
	}
	ev.want(t, "the second tab")
	a.LeaveViewing(tab1)
	ev.want(t, "the first tab leaves")
	a.LeaveViewing(tab2)
	ev.want(t, "the second tab leaves", "viewers")
}
