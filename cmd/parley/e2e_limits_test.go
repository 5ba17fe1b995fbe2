package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley/server"
)

// TestBrowserWidgetOverConnLimit: a page whose address already holds its
// visitor connections (--visitor-conns-per-ip) degrades gracefully: the
// launcher is drawn, the refused status stream (429) and the refused chat
// socket (4429) are not retried in a loop, the chat says it is
// reconnecting, and once a slot is free the visitor chats.
func TestBrowserWidgetOverConnLimit(t *testing.T) {
	browser := newBrowser(t)
	var streams, sockets atomic.Int32
	e := startWidgetEnvWith(t, server.Config{VisitorConnsPerIP: 1}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/widget/v1/status":
				streams.Add(1)
			case "/widget/v1/ws":
				sockets.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	// Another tab of the same address holds the only slot.
	ctx := context.Background()
	held, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.base, "http")+"/widget/v1/ws?widgetId="+fmt.Sprint(e.widget.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.CloseNow()
	if err := held.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := held.Read(ctx); err != nil { // ready
		t.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := held.Read(ctx); err != nil {
				return
			}
		}
	}()
	sockets.Store(0)

	host := hostPages(t, e.base, map[string]string{"*": sdkPage(`lang="en"`, `{}`, ``)})
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "launcher drawn", ``, byName(widgetRoot, "button", "Open chat")+` !== null`)
	deadline := time.Now().Add(5 * time.Second)
	for streams.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	step(t, tab, "open", `window.HubSpotConversations.widget.open()`,
		wopen+` && `+widgetRoot+`.querySelector('.nt').textContent === 'Connection lost. Reconnecting…'`)
	time.Sleep(3 * time.Second)
	if n, m := streams.Load(), sockets.Load(); n != 1 || m != 1 {
		t.Fatalf("over 3 s: %d status streams and %d sockets tried, want 1 each", n, m)
	}

	// The other tab goes; the chat connects (at once when the browser
	// says it is online again, rather than after its pause) and works.
	if err := held.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	connected := widgetRoot + `.querySelector('.nt').textContent === ''`
	for try := 0; ; try++ {
		// The server lets go of the slot just after the close handshake.
		time.Sleep(100 * time.Millisecond)
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event('online'))`)); err != nil {
			t.Fatal(err)
		}
		if waitJS(tab, connected, 2*time.Second) == nil {
			break
		}
		if try == 4 {
			t.Fatal("the chat did not connect once the slot was free")
		}
	}
	actVisitorSay(t, tab, "Finally in")
}
