package main

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

// switchMailer sends through the Mailer it holds now.
type switchMailer struct{ cur atomic.Pointer[app.Mailer] }

func (m *switchMailer) set(to app.Mailer) { m.cur.Store(&to) }

func (m *switchMailer) Send(ctx context.Context, e *parley.Email) error {
	return (*m.cur.Load()).Send(ctx, e)
}

func smtpSender(t *testing.T, addr string) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender("smtp://"+addr+"?tls=none", &mail.SenderOptions{Timeout: 5 * time.Second, Blobs: testBlobs(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// blobStores holds each test's file store, shared by its Parley and its
// mail sender as in cmd/parley's wiring.
var blobStores sync.Map // *testing.T → *blob.Dir

// testBlobs returns t's file store, opening it on first use.
func testBlobs(t *testing.T) *blob.Dir {
	t.Helper()
	if b, ok := blobStores.Load(t); ok {
		return b.(*blob.Dir)
	}
	b, err := blob.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	blobStores.Store(t, b)
	t.Cleanup(func() { blobStores.Delete(t) })
	return b
}

// startWithMailer runs Parley in process with outbound mail through
// mailer, retried fast and given up after two tries; it returns the base
// URL and the app.
func startWithMailer(t *testing.T, mailer app.Mailer) (string, *app.App) {
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
	if err := db.CreateWidget(ctx, parley.DefaultWidget(in.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := server.CreateAdmin(ctx, db, "admin@example.com", "Ada", "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	assets, err := widget.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(nil)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	p := hub.NewPresence()
	a := app.New(app.Config{BaseURL: base, MailFrom: "parley@parley.test", Mailer: mailer,
		MailRetry: 20 * time.Millisecond, MailAttempts: 2, Blobs: testBlobs(t)}, db, p)
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
	return base, a
}

// TestBrowserDelivery: an email thread shows each sender's address and
// marks a sender who is not the conversation's contact; a reply while
// the SMTP server refuses shows "Failed" with the reason and a Retry
// button, the list marks the thread; once the server is back, Retry
// makes it "Sent".
func TestBrowserDelivery(t *testing.T) {
	browser := newBrowser(t)
	mp := mailpit.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	sw := &switchMailer{}
	sw.set(smtpSender(t, closed))
	base, a := startWithMailer(t, sw)

	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxes.Results[0]["id"].(string), map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	deliver := func(raw string) {
		t.Helper()
		m, err := mail.Parse(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		m.Recipients = []string{"support@parley.test"}
		if err := a.DeliverMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	deliver("From: Vera Muster <vera@customer.example>\nTo: support@parley.test\nSubject: Invoice 7\nMessage-ID: <dv-1@customer.example>\n\nWhere is invoice 7?\n")
	deliver("From: Sam Other <sam@elsewhere.example>\nTo: support@parley.test\nSubject: Re: Invoice 7\nMessage-ID: <dv-2@elsewhere.example>\nIn-Reply-To: <dv-1@customer.example>\nReferences: <dv-1@customer.example>\n\nPlease send it to me instead.\n")

	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('.msg-delivery, .toast, [role=alert]')].map(e => e.textContent).join(' | ')`))
			t.Logf("delivery states: %s", state)
			t.Fatalf("%s: %v", what, err)
		}
	}
	listSignIn(t, tab, base)
	must("the thread is listed", waitJS(tab, "!!"+actRow("Invoice 7"), 10*time.Second))
	must("open the thread", click(tab, actRow("Invoice 7")))

	msg := func(text string) string {
		return `[...document.querySelectorAll('li.msg')].find(li => li.textContent.includes(` + jsString(text) + `))`
	}
	must("Vera's address", waitJS(tab, `(`+msg("Where is invoice 7?")+`)?.querySelector('.msg-address')?.textContent === '<vera@customer.example>'`, 10*time.Second))
	must("Vera is the contact", waitJS(tab, `!(`+msg("Where is invoice 7?")+`).querySelector('.msg-stranger-note')`, time.Second))
	must("Sam's address and the note", waitJS(tab, `(() => { const li = `+msg("send it to me instead")+`; return !!li &&
		li.querySelector('.msg-address')?.textContent === '<sam@elsewhere.example>' &&
		li.querySelector('.msg-stranger-note')?.textContent === "not the conversation's contact"; })()`, 5*time.Second))

	reply := byName("document", "textarea", "Reply")
	must("reply box", waitJS(tab, reply+" !== null", 5*time.Second))
	must("type the reply", typeInto(tab, reply, "Invoice 7 is attached."))
	must("send", pressEnter(tab))
	sent := msg("Invoice 7 is attached.")
	must("failed with the reason", waitJS(tab, `(() => { const li = `+sent+`; const st = li?.querySelector('.msg-delivery.msg-failed');
		return !!st && st.textContent.includes('Failed: ') && st.textContent.includes('connection refused') && !!`+byName("st", "button", "Retry")+`; })()`, 15*time.Second))
	must("the list marks the thread", waitJS(tab, `!!document.querySelector('.chip-reply-failed[role=img][aria-label="Latest reply failed to send"]')`, 5*time.Second))
	actScreenshot(tab, "console-delivery-failed.png")

	// The SMTP server is back: Retry sends it.
	sw.set(smtpSender(t, mp.SMTPAddr))
	must("retry", click(tab, byName(sent+`.querySelector('.msg-delivery')`, "button", "Retry")))
	must("sent", waitJS(tab, `(`+sent+`)?.querySelector('.msg-delivery')?.textContent === 'Sent'`, 15*time.Second))
	must("the marker is gone", waitJS(tab, `!document.querySelector('.chip-reply-failed')`, 5*time.Second))
	got := mp.Wait(t, 10*time.Second, "the retried reply", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "Invoice 7 is attached.") })
	if got.To[0].Address != "vera@customer.example" {
		t.Errorf("the reply went to %v, want the contact", got.To)
	}
}
