package store

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// botThread starts a chat thread owned by a bot with a visitor's message.
func botThread(t *testing.T, db *DB, contactID uint64, at time.Time) *parley.Thread {
	t.Helper()
	res, err := db.AppendMessage(t.Context(), &parley.Message{
		Type: parley.TypeMessage, Text: "hi", SenderID: parley.ContactActorID(contactID), Direction: parley.Incoming, CreatedAt: at,
	}, parley.AppendOptions{NewThread: &parley.Thread{
		InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: contactID, Owner: parley.OwnerBot,
		Bot: &parley.BotState{LastVisitorAt: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Thread
}

func TestAppendTurn(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	other := &parley.Contact{Email: "taken@example.com"}
	visitor := &parley.Contact{}
	for _, c := range []*parley.Contact{other, visitor} {
		if err := db.CreateContact(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	bot := parley.BotActorID(5)
	visitorMsg := func(clientID, text string) *parley.Message {
		return &parley.Message{Type: parley.TypeMessage, Text: text, SenderID: visitor.ActorID(), Direction: parley.Incoming, ClientID: clientID}
	}
	newThread := parley.AppendOptions{NewThread: &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ChannelAccountID: 5, ContactID: visitor.ID, Owner: parley.OwnerBot}}
	calls := 0
	turn := func(th *parley.Thread, c *parley.Contact) ([]*parley.Message, error) {
		calls++
		if c == nil || c.ID != visitor.ID {
			t.Errorf("turn got contact %+v, want %d", c, visitor.ID)
		}
		th.Bot = &parley.BotState{Step: "need", Answers: map[string]string{"x": "y"}}
		c.Properties["need"] = "Sales"
		c.Email = "taken@example.com" // another contact's: kept as a property
		return []*parley.Message{
			{Type: parley.TypeSystem, Event: parley.EventBotStarted, SenderID: bot, Direction: parley.Outgoing},
			{Type: parley.TypeMessage, Text: "What do you need?", QuickReplies: []string{"Sales", "Support"}, SenderID: bot, Direction: parley.Outgoing},
		}, nil
	}

	res, err := db.AppendTurn(ctx, visitorMsg("c1", "hello"), newThread, turn, parley.RouteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.ThreadCreated || res.Message.Seq != 1 || len(res.Replies) != 2 {
		t.Fatalf("created=%v seq=%d replies=%d, want a new thread, seq 1, 2 replies", res.ThreadCreated, res.Message.Seq, len(res.Replies))
	}
	th := res.Thread
	if th.LastSeq != 3 || th.Preview != "What do you need?" || th.Bot == nil || th.Bot.Step != "need" || th.Owner != parley.OwnerBot {
		t.Errorf("thread=%+v, want lastSeq 3, the bot's preview, step need", th)
	}
	msgs, _, err := db.Messages(ctx, th.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[1].Event != parley.EventBotStarted || !slices.Equal(msgs[2].QuickReplies, []string{"Sales", "Support"}) {
		t.Errorf("messages=%+v, want the visitor's, bot_started and the question with its quick replies", msgs)
	}
	c, err := db.Contact(ctx, visitor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "" || c.Properties["need"] != "Sales" || c.Properties["email"] != "taken@example.com" {
		t.Errorf("contact=%+v, want no email, need=Sales, email kept as a property", c)
	}
	if res.Contact == nil || res.Contact.Properties["need"] != "Sales" {
		t.Errorf("result contact=%+v", res.Contact)
	}

	t.Run("a duplicate runs no turn", func(t *testing.T) {
		calls = 0
		dup, err := db.AppendTurn(ctx, visitorMsg("c1", "hello"), newThread, turn, parley.RouteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !dup.Duplicate || calls != 0 || len(dup.Replies) != 0 {
			t.Errorf("duplicate=%v calls=%d replies=%d, want a duplicate and no turn", dup.Duplicate, calls, len(dup.Replies))
		}
	})

	t.Run("a free email is taken", func(t *testing.T) {
		res, err := db.AppendTurn(ctx, visitorMsg("c2", "ada@example.com"), newThread, func(th *parley.Thread, c *parley.Contact) ([]*parley.Message, error) {
			c.Email = "ada@example.com"
			return nil, nil
		}, parley.RouteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Contact == nil || res.Contact.Email != "ada@example.com" {
			t.Fatalf("contact=%+v", res.Contact)
		}
		if got, err := db.ContactByEmail(ctx, "ADA@example.com"); err != nil || got.ID != visitor.ID {
			t.Errorf("ContactByEmail=%v, %v, want contact %d", got, err, visitor.ID)
		}
	})

	t.Run("a turn without messages still changes the thread", func(t *testing.T) {
		res, err := db.AppendTurn(ctx, visitorMsg("c3", "again"), newThread, func(th *parley.Thread, c *parley.Contact) ([]*parley.Message, error) {
			th.Bot.Step = "other"
			return nil, nil
		}, parley.RouteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Thread(ctx, res.Thread.ID)
		if err != nil || got.Bot.Step != "other" || got.LastSeq != 5 {
			t.Errorf("thread=%+v, %v, want step other, lastSeq 5", got, err)
		}
	})

	t.Run("a failing turn writes nothing", func(t *testing.T) {
		before, _ := db.Thread(ctx, th.ID)
		_, err := db.AppendTurn(ctx, visitorMsg("c4", "boom"), newThread, func(*parley.Thread, *parley.Contact) ([]*parley.Message, error) {
			return nil, errTest
		}, parley.RouteOptions{})
		if err != errTest {
			t.Fatalf("err=%v, want the turn's", err)
		}
		after, _ := db.Thread(ctx, th.ID)
		if after.LastSeq != before.LastSeq {
			t.Errorf("lastSeq=%d, want %d: the visitor's message must not stay", after.LastSeq, before.LastSeq)
		}
	})
}

func TestBotViewsAndCounts(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	bot := botThread(t, db, 1, t0)
	agent := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ContactID: 2, LatestMessageAt: t0}
	spamBot := &parley.Thread{InboxID: 1, ChannelID: parley.ChannelChat, ContactID: 3, Owner: parley.OwnerBot, Spam: true, LatestMessageAt: t0}
	for _, th := range []*parley.Thread{agent, spamBot} {
		if err := db.CreateThread(ctx, th); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() parley.ViewCounts {
		t.Helper()
		vc, err := db.CountThreads(ctx, nil, 7)
		if err != nil {
			t.Fatal(err)
		}
		return vc
	}
	ids := func(f parley.ThreadFilter) []uint64 {
		t.Helper()
		ts, _, err := db.Threads(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []uint64{}
		for _, th := range ts {
			out = append(out, th.ID)
		}
		return out
	}
	yes, no := true, false
	if got, want := counts(), (parley.ViewCounts{All: 1, Unassigned: 1, Chat: 1, Bots: 1, Filtered: 1}); got != want {
		t.Errorf("counts=%+v, want %+v", got, want)
	}
	if got := ids(parley.ThreadFilter{Filtered: &no, Bot: &yes}); !slices.Equal(got, []uint64{bot.ID}) {
		t.Errorf("Bots view=%v, want [%d]", got, bot.ID)
	}
	if got := ids(parley.ThreadFilter{Filtered: &no, Bot: &no}); !slices.Equal(got, []uint64{agent.ID}) {
		t.Errorf("All view=%v, want [%d]", got, agent.ID)
	}
	if got := ids(parley.ThreadFilter{Filtered: &yes}); !slices.Equal(got, []uint64{spamBot.ID}) {
		t.Errorf("Filtered view=%v, want [%d]", got, spamBot.ID)
	}

	// Hand-off: the thread leaves Bots for All and Unassigned; an
	// assignment then makes it the agent's.
	if _, err := db.UpdateThread(ctx, bot.ID, func(th *parley.Thread) error {
		th.Owner = parley.OwnerWaiting
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), (parley.ViewCounts{All: 2, Unassigned: 2, Chat: 2, Filtered: 1}); got != want {
		t.Errorf("after hand-off counts=%+v, want %+v", got, want)
	}
	th, err := db.UpdateThread(ctx, bot.ID, func(th *parley.Thread) error {
		th.AssigneeID = 7
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if th.Owner != parley.OwnerAgent {
		t.Errorf("owner after assignment=%q, want the agent's", th.Owner)
	}
	if got, want := counts(), (parley.ViewCounts{All: 2, Mine: 1, Unassigned: 1, Chat: 2, Filtered: 1}); got != want {
		t.Errorf("after assignment counts=%+v, want %+v", got, want)
	}
}

func TestIdleBotThreads(t *testing.T) {
	db := MustOpen(t, nil)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	a := botThread(t, db, 1, t0.Add(2*time.Minute))
	b := botThread(t, db, 2, t0)
	c := botThread(t, db, 3, t0.Add(time.Hour))
	idle := func(before time.Time, limit int) []uint64 {
		t.Helper()
		ids, err := db.IdleBotThreads(ctx, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for _, tt := range []struct {
		name   string
		before time.Time
		limit  int
		want   []uint64
	}{
		{"none yet", t0.Add(-time.Second), 10, []uint64{}},
		{"exactly at the time", t0, 10, []uint64{b.ID}},
		{"oldest first", t0.Add(30 * time.Minute), 10, []uint64{b.ID, a.ID}},
		{"limit", t0.Add(2 * time.Hour), 2, []uint64{b.ID, a.ID}},
		{"all", t0.Add(2 * time.Hour), 10, []uint64{b.ID, a.ID, c.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := idle(tt.before, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("idle=%v, want %v", got, tt.want)
			}
		})
	}

	// The visitor writes again: b moves to the end. a is handed off, c
	// closed: both leave the index.
	change := func(id uint64, fn func(*parley.Thread)) {
		t.Helper()
		if _, err := db.UpdateThread(ctx, id, func(th *parley.Thread) error { fn(th); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	change(b.ID, func(th *parley.Thread) { th.Bot = &parley.BotState{LastVisitorAt: t0.Add(3 * time.Hour)} })
	change(a.ID, func(th *parley.Thread) { th.Owner, th.Bot = parley.OwnerWaiting, nil })
	change(c.ID, func(th *parley.Thread) { th.Status = parley.StatusClosed })
	if got, want := idle(t0.Add(4*time.Hour), 10), []uint64{b.ID}; !slices.Equal(got, want) {
		t.Errorf("after changes idle=%v, want %v", got, want)
	}
	// Reopened, c is indexed again.
	change(c.ID, func(th *parley.Thread) { th.Status = parley.StatusOpen })
	if got, want := idle(t0.Add(4*time.Hour), 10), []uint64{c.ID, b.ID}; !slices.Equal(got, want) {
		t.Errorf("after reopening idle=%v, want %v", got, want)
	}
}
