package main

import (
	"context"
	"github.com/parley-chat/parley/locale"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

// widgetStatus is a JS expression for the chat panel's status line.
const widgetStatus = `((` + widgetRoot + ` && ` + widgetRoot + `.querySelector('.st')) || {}).textContent`

// signInConsole signs the admin in to the console in tab and waits for the
// console to be connected.
func signInConsole(t *testing.T, tab context.Context, base string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, byName("document", "input", "Email")+" !== null || document.querySelector('.me.state-online') !== null", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if ok, _ := chromedp.Run(tab, chromedp.Evaluate[bool](byName("document", "input", "Email")+" !== null")); ok {
		if err := typeInto(tab, byName("document", "input", "Email"), "admin@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := typeInto(tab, byName("document", "input", "Password"), "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		if err := click(tab, byName("document", "button", "Sign in")); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitJS(tab, `document.querySelector('.me.state-online') !== null`, 10*time.Second); err != nil {
		t.Fatalf("the console did not connect: %v", err)
	}
}

// TestBrowserAvailability: the visitor's open chat follows the only agent's
// console live: it says away while nobody is there, "online" once the
// console connects, the away message once the console's tab closes, and
// online again when the agent comes back (the test logs how soon).
func TestBrowserAvailability(t *testing.T) {
	browser := newBrowser(t)
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")

	visitor, cancelV := chromedp.NewContext(browser)
	defer cancelV()
	if err := chromedp.Do(visitor, chromedp.Navigate(host.URL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	away := locale.WidgetCatalog("en")["awayMessage"] // the default: the widget has none of its own
	if err := waitJS(visitor, widgetStatus+" === "+jsString(away), 10*time.Second); err != nil {
		t.Fatalf("nobody online: %v", err)
	}

	agent, cancelA := chromedp.NewContext(browser)
	signInConsole(t, agent, base)
	if err := waitJS(visitor, widgetStatus+" === "+jsString(locale.WidgetCatalog("en")["online"]), liveWait); err != nil {
		t.Fatalf("console connected: %v", err)
	}

	cancelA() // closes the console's tab
	closed := time.Now()
	// The server pushes within milliseconds of the socket closing
	// (server/presence_test.go); the browser's tearing down the tab comes on
	// top.
	if err := waitJS(visitor, widgetStatus+" === "+jsString(away), liveWait); err != nil {
		t.Fatalf("console closed: %v", err)
	}
	t.Logf("the widget showed the away message %v after the console's tab closed", time.Since(closed).Round(time.Millisecond))

	again, cancelAgain := chromedp.NewContext(browser)
	defer cancelAgain()
	signInConsole(t, again, base) // the session cookie signs it in
	back := time.Now()
	if err := waitJS(visitor, widgetStatus+" === "+jsString(locale.WidgetCatalog("en")["online"]), liveWait); err != nil {
		t.Fatalf("agent back: %v", err)
	}
	t.Logf("online again %v after the console connected", time.Since(back).Round(time.Millisecond))
}

// e2eClock is a clock the test moves, for server.Config.Now and Timer.
type e2eClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[chan time.Time]time.Time
}

func (c *e2eClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *e2eClock) Timer(at time.Time) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if !at.After(c.now) {
		// Already due, as a time.Timer for a duration of zero or less.
		ch <- c.now
		return ch, func() bool { return false }
	}
	c.timers[ch] = at
	return ch, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[ch]
		delete(c.timers, ch)
		return ok
	}
}

func (c *e2eClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for ch, at := range c.timers {
		if !at.After(now) {
			ch <- now
			delete(c.timers, ch)
		}
	}
}

// TestBrowserBusinessHours: under a controlled clock, a widget with
// business hours in Berlin (available inside them even with nobody there)
// closes at 17:00 on a Friday without a reload, says when it is back in the
// visitor's own time zone (New York), hides its launcher once the visitor
// closes the panel, and opens again on Monday at 09:00.
func TestBrowserBusinessHours(t *testing.T) {
	browser := newBrowser(t)
	clk := &e2eClock{now: time.Date(2027, 10, 29, 14, 59, 30, 0, time.UTC), timers: map[chan time.Time]time.Time{}} // Fri 16:59:30 CEST
	base := startWithClock(t, clk, func(w *parley.Widget) {
		w.Availability = parley.Availability{
			Mode: parley.AvailabilityHours, Timezone: "Europe/Berlin", AwayMessage: "We're closed.",
			Hours:               []parley.HoursRange{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "17:00"}},
			InsideHoursWhenAway: parley.WhenAvailable, OutsideHours: parley.WhenHideLauncher,
		}
	})
	host := hostSite(t, base, "host.html")
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, widgetStatus+" === "+jsString(locale.WidgetCatalog("en")["online"]), 10*time.Second); err != nil {
		t.Fatalf("inside hours: %v", err)
	}

	clk.Set(time.Date(2027, 10, 29, 15, 0, 0, 0, time.UTC)) // 17:00 in Berlin
	// Monday 09:00 in Berlin (CET, after the clocks went back) is 04:00 in
	// New York, still on EDT until 7 November. How the day is named depends
	// on the browser's real date ("tomorrow", "on Monday", a date).
	back := `/^We're closed\. Back (at|tomorrow at|on [A-Za-z]+(, [A-Za-z]+ \d+)? at) 04:00$/.test(` + widgetStatus + `)`
	if err := waitJS(tab, back, liveWait); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string](widgetStatus))
		t.Fatalf("at closing the status is %q: %v", got, err)
	}
	launcherHidden := `(function(){ const w = ` + widgetRoot + `.querySelector('.pw'); return !!w && getComputedStyle(w).display === 'none' || (w && w.classList.contains('hide')); })()`
	if err := click(tab, byName(widgetRoot, "button", "Close chat")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, launcherHidden, liveWait); err != nil {
		t.Fatalf("outside hours the launcher stays: %v", err)
	}

	clk.Set(time.Date(2027, 11, 1, 8, 0, 0, 0, time.UTC)) // Monday 09:00 in Berlin
	if err := waitJS(tab, "!"+launcherHidden+" && "+byName(widgetRoot, "button", "Open chat")+" !== null", liveWait); err != nil {
		t.Fatalf("at opening the launcher is still hidden: %v", err)
	}
	if err := click(tab, byName(widgetRoot, "button", "Open chat")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, widgetStatus+" === "+jsString(locale.WidgetCatalog("en")["online"]), liveWait); err != nil {
		t.Fatalf("at opening: %v", err)
	}
}

// startWithClock serves Parley with clock clk (nil: the real one) on a free port, with a fresh
// store holding one inbox, the admin and the default widget changed by
// configure. It returns the base URL.
func startWithClock(t *testing.T, clk *e2eClock, configure func(*parley.Widget), more ...func(*store.DB)) string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := parley.DefaultWidget(in.ID)
	configure(w)
	if err := db.CreateWidget(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := server.CreateAdmin(ctx, db, "admin@example.com", "Ada", "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		f(db)
	}
	assets, err := widget.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(nil)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	acfg := app.Config{BaseURL: base}
	if clk != nil {
		acfg.Now, acfg.Timer = clk.Now, clk.Timer
	}
	p := hub.NewPresence()
	a := app.New(acfg, db, p)
	srv := server.New(server.Config{BaseURL: base}, a, db, h, p, assets)
	a.Start()
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.CloseClientConnections()
		srv.Close()
		a.Close()
		ts.Close()
		h.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return base
}

// TestBrowserLauncherComesBack: a widget that hides its launcher while
// nobody is there shows none to a visitor who arrives then, and shows it,
// without a reload, as soon as the agent's console connects.
func TestBrowserLauncherComesBack(t *testing.T) {
	browser := newBrowser(t)
	base := startWithClock(t, nil, func(w *parley.Widget) { w.Availability.HideLauncherWhenAway = true })
	host := hostSite(t, base, "host.html")
	visitor, cancelV := chromedp.NewContext(browser)
	defer cancelV()
	if err := chromedp.Do(visitor, chromedp.Navigate(host.URL+"/pricing")); err != nil {
		t.Fatal(err)
	}
	wrap := widgetRoot + ` && ` + widgetRoot + `.querySelector('.pw')`
	hidden := `!!(` + wrap + `) && (` + wrap + `).classList.contains('hide')`
	if err := waitJS(visitor, `window.parleyEvents.some(e => e.name === 'widgetLoaded') && `+hidden, 10*time.Second); err != nil {
		t.Fatalf("nobody online: the launcher shows: %v", err)
	}
	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	signInConsole(t, agent, base)
	shown := time.Now()
	if err := waitJS(visitor, `!!(`+wrap+`) && !(`+wrap+`).classList.contains('hide') && `+byName(widgetRoot, "button", "Open chat")+` !== null`, liveWait); err != nil {
		t.Fatalf("the launcher did not come back: %v", err)
	}
	t.Logf("the launcher came back %v after the console connected", time.Since(shown).Round(time.Millisecond))

	// The visitor never opened the chat; when the agent goes, the launcher
	// hides again, live.
	cancelA()
	gone := time.Now()
	if err := waitJS(visitor, hidden, liveWait); err != nil {
		t.Fatalf("the launcher did not hide when the agent left: %v", err)
	}
	t.Logf("the launcher hid %v after the console tab closed", time.Since(gone).Round(time.Millisecond))
}

// TestBrowserTeamPanel: the admin's console lists a teammate's state live
// (offline, online once their console connects) and sets them away and
// available again from the Team panel, with real buttons.
func TestBrowserTeamPanel(t *testing.T) {
	browser := newBrowser(t)
	var db *store.DB
	base := startWithClock(t, nil, func(*parley.Widget) {}, func(d *store.DB) { db = d })
	ctx := context.Background()
	hash, err := server.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	bo := &parley.User{Email: "bo@example.com", Name: "Bo", Role: parley.RoleAgent, PasswordHash: hash, RoutingSeat: true}
	if err := db.CreateUser(ctx, bo); err != nil {
		t.Fatal(err)
	}

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	signInConsole(t, tab, base)
	row := `[...document.querySelectorAll('.team-member')].find(li => li.textContent.includes('Bo'))`
	state := func(s string) string { return `(` + row + `)?.dataset.state === '` + s + `'` }
	if err := waitJS(tab, state("offline")+` && (`+row+`).textContent.includes('Offline')`, 5*time.Second); err != nil {
		t.Fatalf("Bo offline: %v", err)
	}

	// Bo's console: a plain WebSocket client with Bo's session.
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	conn := dialConsole(t, wctx, base, "bo@example.com")
	defer conn.CloseNow()
	go func() { // reading answers pings; the events are not needed
		for {
			if _, _, err := conn.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := conn.Write(wctx, websocket.MessageText, []byte(`{"type":"hello","resume":[]}`)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, state("online"), liveWait); err != nil {
		t.Fatalf("Bo online: %v", err)
	}

	if err := click(tab, byName("document", "button", "Set away: Bo")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, state("away")+` && `+byName("document", "button", "Set available: Bo")+` !== null`, liveWait); err != nil {
		t.Fatalf("Bo away: %v", err)
	}
	if got, _ := db.User(ctx, bo.ID); !got.Away {
		t.Error("Bo's away mode was not stored")
	}
	if shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
		dir := filepath.Join("..", "..", "testdata", "artifacts")
		if os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, "console-team.png"), shot, 0o644)
		}
	}
	if err := click(tab, byName("document", "button", "Set available: Bo")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, state("online"), liveWait); err != nil {
		t.Fatalf("Bo available again: %v", err)
	}
}
