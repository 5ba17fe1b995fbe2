package server_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// listFixture is an env with a second inbox and conversations in both,
// written straight to the store so that each has the state a test needs.
type listFixture struct {
	*env
	inboxB  *parley.Inbox
	amy     *parley.User // agent, member of the default inbox (A)
	bert    *parley.User // agent, member of inbox B only
	threads map[string]*parley.Thread
	at      time.Time
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	e := newEnv(t, nil)
	f := &listFixture{env: e, threads: map[string]*parley.Thread{}, at: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
	f.amy = e.addAgent("amy@example.com", true)
	f.bert = e.addAgent("bert@example.com", false)
	ctx := context.Background()
	f.inboxB = &parley.Inbox{Name: "Sales", MemberIDs: []uint64{f.bert.ID}}
	if err := e.db.CreateInbox(ctx, f.inboxB); err != nil {
		t.Fatal(err)
	}
	return f
}

// thread adds a conversation: a contact, its first message, and changes.
func (f *listFixture) thread(name string, inbox uint64, channel int, contactName, email, subject, text string, change func(*parley.Thread)) *parley.Thread {
	f.t.Helper()
	ctx := context.Background()
	c := &parley.Contact{FirstName: contactName, Email: email}
	if err := f.db.CreateContact(ctx, c); err != nil {
		f.t.Fatal(err)
	}
	f.at = f.at.Add(time.Minute)
	res, err := f.db.AppendMessage(ctx, &parley.Message{Type: parley.TypeMessage, Text: text, SenderID: c.ActorID(), Direction: parley.Incoming, CreatedAt: f.at},
		parley.AppendOptions{NewThread: &parley.Thread{InboxID: inbox, ChannelID: channel, ChannelAccountID: f.widget.ID, ContactID: c.ID, Subject: subject}})
	if err != nil {
		f.t.Fatal(err)
	}
	th := res.Thread
	if change != nil {
		if th, err = f.db.UpdateThread(ctx, th.ID, func(t *parley.Thread) error { change(t); return nil }); err != nil {
			f.t.Fatal(err)
		}
	}
	f.threads[name] = th
	return th
}

func (f *listFixture) indexed() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.db.WaitIndexed(ctx, 0); err != nil {
		f.t.Fatal(err)
	}
}

// names maps thread ids of a results list to fixture names.
func (f *listFixture) names(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		for name, th := range f.threads {
			if fmt.Sprint(th.ID) == id {
				out = append(out, name)
			}
		}
	}
	return out
}

type searchPage struct {
	Results []struct {
		Thread struct {
			ID          string
			InboxID     string
			Status      string
			ContactName string
		}
		Field      string
		MessageID  string
		Snippet    string
		Highlights [][2]int
	}
	Paging *struct{ Next struct{ After string } }
}

func (p searchPage) ids() []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, r.Thread.ID)
	}
	return out
}

func TestSearchAPI(t *testing.T) {
	f := newListFixture(t)
	a := f.inbox.ID
	f.thread("alice", a, parley.ChannelChat, "Alice", "alice@example.com", "", "Where is my order #1042?", nil)
	f.thread("bob", a, parley.ChannelEmail, "Bob", "bob@example.com", "Refund", "Please refund my order.", func(t *parley.Thread) { t.Status = parley.StatusClosed })
	f.thread("trash", a, parley.ChannelChat, "Trudy", "", "", "An old order.", func(t *parley.Thread) { t.Archived = true })
	f.thread("sales", f.inboxB.ID, parley.ChannelEmail, "Sam", "sam@example.com", "Order", "Big order for the sales team.", nil)
	f.indexed()
	amy, bert := f.login("amy@example.com"), f.login("bert@example.com")

	for _, tt := range []struct {
		name  string
		who   *client
		query string
		want  []string
	}{
		{"newest first, closed found, archived not", amy, "q=order", []string{"bob", "alice"}},
		{"prefix", amy, "q=ord", []string{"bob", "alice"}},
		{"all words", amy, "q=" + url.QueryEscape("alice 1042"), []string{"alice"}},
		{"contact email", amy, "q=" + url.QueryEscape("bob@example.com"), []string{"bob"}},
		{"own inbox", amy, fmt.Sprintf("q=order&inboxId=%d", a), []string{"bob", "alice"}},
		{"never another inbox's threads", amy, "q=sales", []string{}},
		{"never another inbox, asked by id", amy, fmt.Sprintf("q=order&inboxId=%d", f.inboxB.ID), []string{}},
		{"the other member", bert, "q=order", []string{"sales"}},
		{"the other member, not A's", bert, "q=alice", []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.who.do("GET", "/api/v1/search?"+tt.query, nil, nil)
			if res.status != 200 {
				t.Fatalf("status=%d body=%s", res.status, res.body)
			}
			var p searchPage
			res.decode(t, &p)
			if got := f.names(p.ids()); !slices.Equal(got, tt.want) {
				t.Errorf("hits=%v, want %v", got, tt.want)
			}
		})
	}

	t.Run("hit", func(t *testing.T) {
		var p searchPage
		amy.do("GET", "/api/v1/search?q=1042", nil, nil).decode(t, &p)
		if len(p.Results) != 1 {
			t.Fatalf("results=%+v", p.Results)
		}
		h := p.Results[0]
		if h.Field != "message" || h.MessageID == "" || h.Snippet != "Where is my order #1042?" || !slices.Equal(h.Highlights, [][2]int{{19, 23}}) {
			t.Errorf("hit=%+v", h)
		}
		if h.Thread.ContactName != "Alice" || h.Thread.Status != "OPEN" {
			t.Errorf("thread=%+v", h.Thread)
		}
	})

	t.Run("paging", func(t *testing.T) {
		var got []string
		after := ""
		for i := 0; i < 5; i++ {
			var p searchPage
			res := amy.do("GET", "/api/v1/search?q=order&limit=1&after="+after, nil, nil)
			if res.status != 200 {
				t.Fatalf("status=%d body=%s", res.status, res.body)
			}
			res.decode(t, &p)
			got = append(got, f.names(p.ids())...)
			if p.Paging == nil {
				break
			}
			after = p.Paging.Next.After
		}
		if !slices.Equal(got, []string{"bob", "alice"}) {
			t.Errorf("pages=%v", got)
		}
	})

	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"no text", "", 400},
		{"no words", "q=" + url.QueryEscape("?!"), 400},
		{"too long", "", 413},
		{"limit 0", "q=order&limit=0", 400},
		{"limit too big", "q=order&limit=101", 400},
		{"bad inbox", "q=order&inboxId=x", 400},
		{"bad cursor", "q=order&after=x", 400},
		{"another inbox's thread as cursor", fmt.Sprintf("q=order&after=%d", f.threads["sales"].ID), 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.query
			if tt.name == "too long" {
				q = "q=" + url.QueryEscape(string(slices.Repeat([]byte("a"), 300)))
			}
			if res := amy.do("GET", "/api/v1/search?"+q, nil, nil); res.status != tt.status {
				t.Errorf("status=%d body=%s, want %d", res.status, res.body, tt.status)
			}
		})
	}
	t.Run("signed out", func(t *testing.T) {
		c := &client{e: f.env, hc: f.ts.Client()}
		if res := c.do("GET", "/api/v1/search?q=order", nil, nil); res.status != 401 {
			t.Errorf("status=%d, want 401", res.status)
		}
	})
}

type threadsPage struct {
	Results []struct{ ID string }
	Paging  *struct{ Next struct{ After string } }
}

func (p threadsPage) ids() []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

// viewsFixture has conversations in every state in inbox A and one in B.
func viewsFixture(t *testing.T) *listFixture {
	f := newListFixture(t)
	a, amy, admin := f.inbox.ID, f.amy.ID, f.admin.ID
	f.thread("chatOpen", a, parley.ChannelChat, "Cleo", "", "", "hi", nil)
	f.thread("emailMine", a, parley.ChannelEmail, "Emil", "emil@example.com", "Invoice", "invoice please", func(t *parley.Thread) { t.AssigneeID = amy })
	f.thread("chatOther", a, parley.ChannelChat, "Olga", "", "", "hello", func(t *parley.Thread) { t.AssigneeID = admin })
	f.thread("spam", a, parley.ChannelChat, "Sp", "", "", "buy now", func(t *parley.Thread) { t.Spam = true })
	f.thread("blocked", a, parley.ChannelEmail, "Bl", "bl@example.com", "Offer", "offer", func(t *parley.Thread) { t.Blocked = true })
	f.thread("closed", a, parley.ChannelChat, "Cl", "", "", "bye", func(t *parley.Thread) { t.Status = parley.StatusClosed })
	f.thread("closedMine", a, parley.ChannelEmail, "Cm", "cm@example.com", "Done", "done", func(t *parley.Thread) {
		t.Status, t.AssigneeID = parley.StatusClosed, amy
	})
	f.thread("trash", a, parley.ChannelChat, "Tr", "", "", "old", func(t *parley.Thread) { t.Archived = true })
	f.thread("salesB", f.inboxB.ID, parley.ChannelEmail, "Sal", "sal@example.com", "Deal", "deal", nil)
	return f
}

func TestThreadListViews(t *testing.T) {
	f := viewsFixture(t)
	amy, bert := f.login("amy@example.com"), f.login("bert@example.com")
	at := func(name string) string {
		return url.QueryEscape(f.threads[name].LatestMessageAt.Format(time.RFC3339Nano))
	}
	base := v3 + "/threads?sort=-latestMessageTimestamp&"
	for _, tt := range []struct {
		name  string
		who   *client
		query string
		want  []string
	}{
		{"all: open, not filtered", amy, "threadStatus=OPEN&view=all", []string{"chatOther", "emailMine", "chatOpen"}},
		{"mine", amy, "threadStatus=OPEN&view=mine", []string{"emailMine"}},
		{"unassigned", amy, "threadStatus=OPEN&view=unassigned", []string{"chatOpen"}},
		{"email", amy, "threadStatus=OPEN&view=email", []string{"emailMine"}},
		{"chat", amy, "threadStatus=OPEN&view=chat", []string{"chatOther", "chatOpen"}},
		{"bots: none yet", amy, "threadStatus=OPEN&view=bots", []string{}},
		{"filtered: spam and blocked", amy, "threadStatus=OPEN&view=filtered", []string{"blocked", "spam"}},
		{"no view lists as HubSpot does", amy, "threadStatus=OPEN", []string{"blocked", "spam", "chatOther", "emailMine", "chatOpen"}},
		{"closed", amy, "threadStatus=CLOSED&view=all", []string{"closedMine", "closed"}},
		{"closed and mine", amy, "threadStatus=CLOSED&view=mine", []string{"closedMine"}},
		{"any status", amy, "view=unassigned", []string{"closed", "chatOpen"}},
		{"assignee filter", amy, fmt.Sprintf("threadStatus=OPEN&assignee=A-%d", f.amy.ID), []string{"emailMine"}},
		{"assignee none", amy, "threadStatus=OPEN&view=all&assignee=none", []string{"chatOpen"}},
		{"channel filter", amy, "threadStatus=OPEN&channelId=1002", []string{"blocked", "emailMine"}},
		{"view and channel", amy, "threadStatus=OPEN&view=unassigned&channelId=1000", []string{"chatOpen"}},
		{"view contradicting channel", amy, "threadStatus=OPEN&view=email&channelId=1000", []string{}},
		{"mine and another assignee", amy, fmt.Sprintf("threadStatus=OPEN&view=mine&assignee=A-%d", f.admin.ID), []string{}},
		{"date range", amy, "view=all&latestMessageTimestampAfter=" + at("chatOpen") + "&latestMessageTimestampBefore=" + at("chatOther"), []string{"emailMine"}},
		{"date from", amy, "view=all&latestMessageTimestampAfter=" + at("chatOther"), []string{"closedMine", "closed"}},
		{"date until", amy, "view=all&latestMessageTimestampBefore=" + at("emailMine"), []string{"chatOpen"}},
		{"archived with a view", amy, "view=all&archived=true", []string{"trash"}},
		{"another inbox by id: nothing", amy, fmt.Sprintf("view=all&inboxId=%d", f.inboxB.ID), []string{}},
		{"the other inbox's member", bert, "threadStatus=OPEN&view=all", []string{"salesB"}},
		{"the other inbox's member, email", bert, "threadStatus=OPEN&view=email", []string{"salesB"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.who.do("GET", base+tt.query, nil, nil)
			if res.status != 200 {
				t.Fatalf("status=%d body=%s", res.status, res.body)
			}
			var p threadsPage
			res.decode(t, &p)
			if got := f.names(p.ids()); !slices.Equal(got, tt.want) {
				t.Errorf("threads=%v, want %v", got, tt.want)
			}
		})
	}

	t.Run("paging through a view", func(t *testing.T) {
		var got []string
		after := ""
		for i := 0; i < 10; i++ {
			var p threadsPage
			res := amy.do("GET", base+"threadStatus=OPEN&view=all&limit=1&after="+after, nil, nil)
			if res.status != 200 {
				t.Fatalf("status=%d body=%s", res.status, res.body)
			}
			res.decode(t, &p)
			got = append(got, f.names(p.ids())...)
			if p.Paging == nil {
				break
			}
			after = p.Paging.Next.After
		}
		if want := []string{"chatOther", "emailMine", "chatOpen"}; !slices.Equal(got, want) {
			t.Errorf("pages=%v, want %v", got, want)
		}
	})

	for _, tt := range []struct{ name, query string }{
		{"unknown view", "view=everything"},
		{"contact as assignee", "assignee=V-1"},
		{"bad assignee", "assignee=A-x"},
		{"unknown channel", "channelId=5"},
		{"bad before", "latestMessageTimestampBefore=yesterday"},
		{"bad after", "latestMessageTimestampAfter=2025-13-01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res := amy.do("GET", base+tt.query, nil, nil); res.status != 400 {
				t.Errorf("status=%d body=%s, want 400", res.status, res.body)
			}
		})
	}
}

func TestViewCounts(t *testing.T) {
	f := viewsFixture(t)
	amy, bert := f.login("amy@example.com"), f.login("bert@example.com")
	counts := func(c *client, query string) map[string]int {
		t.Helper()
		res := c.do("GET", "/api/v1/views/counts"+query, nil, nil)
		if res.status != 200 {
			t.Fatalf("status=%d body=%s", res.status, res.body)
		}
		var m map[string]int
		res.decode(t, &m)
		return m
	}
	want := func(all, mine, unassigned, email, chat, filtered int) map[string]int {
		return map[string]int{"all": all, "mine": mine, "unassigned": unassigned, "email": email, "chat": chat, "bots": 0, "filtered": filtered}
	}
	check := func(name string, got, want map[string]int) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: counts=%v, want %v", name, got, want)
		}
	}
	check("amy", counts(amy, ""), want(3, 1, 1, 1, 2, 2))
	check("amy, her inbox", counts(amy, fmt.Sprintf("?inboxId=%d", f.inbox.ID)), want(3, 1, 1, 1, 2, 2))
	check("amy, another inbox", counts(amy, fmt.Sprintf("?inboxId=%d", f.inboxB.ID)), want(0, 0, 0, 0, 0, 0))
	check("bert", counts(bert, ""), want(1, 0, 1, 1, 0, 0))
	if res := amy.do("GET", "/api/v1/views/counts?inboxId=x", nil, nil); res.status != 400 {
		t.Errorf("bad inboxId: status=%d", res.status)
	}

	// Actions move threads between the counts at once.
	chatOpen := fmt.Sprint(f.threads["chatOpen"].ID)
	if res := amy.do("PUT", v3+"/threads/"+chatOpen+"/assignee", map[string]string{"actorId": fmt.Sprintf("A-%d", f.amy.ID)}, nil); res.status != 200 {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	check("after assigning", counts(amy, ""), want(3, 2, 0, 1, 2, 2))
	if res := amy.do("PATCH", v3+"/threads/"+chatOpen, map[string]string{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	check("after closing", counts(amy, ""), want(2, 1, 0, 1, 1, 2))
	emailMine := fmt.Sprint(f.threads["emailMine"].ID)
	if res := amy.do("DELETE", v3+"/threads/"+emailMine, nil, nil); res.status != 204 {
		t.Fatalf("archive: %d %s", res.status, res.body)
	}
	check("after archiving", counts(amy, ""), want(1, 0, 0, 0, 1, 2))
	if res := amy.do("PATCH", v3+"/threads/"+chatOpen, map[string]string{"status": "OPEN"}, nil); res.status != 200 {
		t.Fatalf("reopen: %d %s", res.status, res.body)
	}
	check("after reopening", counts(amy, ""), want(2, 1, 0, 0, 2, 2))
}
