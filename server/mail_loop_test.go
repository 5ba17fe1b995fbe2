package server_test

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

// The tests here attack the email channel as a remote mail server would:
// over a real SMTP conversation with Parley's own receiver, wired to the
// server as cmd/parley wires it, with Mailpit as the outgoing SMTP server.

// inboundSMTP runs Parley's SMTP receiver for e's server on a loopback
// port and returns its address.
func inboundSMTP(t *testing.T, e *env) string {
	t.Helper()
	rc, err := mail.NewReceiver(mail.ReceiverOptions{
		Domain: "parley.test", Recipient: e.app.MailRecipient, Deliver: e.app.DeliverMail,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rc.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rc.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

// smtpSend sends raw (line ends \n or \r\n) over one SMTP conversation:
// MAIL FROM envFrom ("" is the null sender <> of bounces), RCPT TO rcpt.
// It returns the first error, whose code smtpCode reads.
func smtpSend(addr, envFrom, rcpt string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(envFrom); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// smtpCode is the SMTP reply code of err, 0 if it has none.
func smtpCode(err error) int {
	var code int
	if err != nil {
		fmt.Sscanf(err.Error(), "%d", &code)
	}
	return code
}

// allThreads returns every thread of e's store, and how many are filtered.
func allThreads(t *testing.T, e *env) (ts []*parley.Thread, filtered int) {
	t.Helper()
	ts, _, err := e.db.Threads(context.Background(), storeAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ts {
		if th.IsFiltered() {
			filtered++
		}
	}
	return ts, filtered
}

// notifications returns the outside notifications Mailpit holds, newest
// first.
func notifications(t *testing.T, mp *mailpit.Server) []mailpit.Summary {
	t.Helper()
	list, err := mp.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var out []mailpit.Summary
	for _, m := range list {
		if len(m.To) == 1 && m.To[0].Address == "admin@example.com" {
			out = append(out, m)
		}
	}
	return out
}

// TestMailLoopThroughForwarder: the admin's mailbox forwards everything to
// the inbox's address, so each outside notification comes back, byte for
// byte, over SMTP. Parley must not answer its own mail: one customer mail
// is one notification and at most one more (Filtered) thread, however
// often the notification returns.
func TestMailLoopThroughForwarder(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	in := inboundSMTP(t, e)

	first := rawMail("Ann Lee <ann@customer.example>", "Order 42", "loop-1@customer.example", "", "Where is my order?")
	if err := smtpSend(in, "ann@customer.example", supportAddr, []byte(first)); err != nil {
		t.Fatal(err)
	}
	mp.Wait(t, 5*time.Second, "the first notification", func(m *mailpit.Message) bool { return m.To[0].Address == "admin@example.com" })

	const rounds = 6
	for round := range rounds {
		ns := notifications(t, mp)
		raw, err := mp.Raw(ns[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		// The forwarder keeps the envelope sender of what it forwards.
		if err := smtpSend(in, "parley@parley.test", supportAddr, raw); err != nil {
			t.Fatalf("round %d: forwarding the notification back: %v", round, err)
		}
		// The outbox sends within milliseconds: a notification caused by
		// the forwarded one would be there by now.
		time.Sleep(300 * time.Millisecond)
	}
	if ns := notifications(t, mp); len(ns) != 1 {
		t.Errorf("%d notifications after %d rounds through the forwarder, want 1", len(ns), rounds)
	}
	ts, filtered := allThreads(t, e)
	if len(ts)-filtered != 1 || len(ts) > 2 {
		t.Errorf("%d threads (%d filtered), want the customer's and at most one filtered one", len(ts), filtered)
	}
	// The notification that came back is there for agents to see, marked.
	var page struct{ Results []map[string]any }
	admin.do("GET", "/conversations/v3/conversations/threads?view=filtered", nil, nil).decode(t, &page)
	if len(page.Results) != 1 || page.Results[0]["automatic"] != true {
		t.Errorf("Filtered view %v, want the one automatic thread", page.Results)
	}
}

// TestMailAutomaticNeverNotifies: mail that a machine sent (RFC 3834
// Auto-Submitted, Precedence, bounces, delivery reports, auto-responders,
// and Parley's own mail) is stored, Filtered, and never notifies or gets
// an automatic answer; "Auto-Submitted: no" is mail like any other.
func TestMailAutomaticNeverNotifies(t *testing.T) {
	mp := mailpit.Start(t)
	e, _ := mailEnv(t, mp.SMTPAddr)
	in := inboundSMTP(t, e)

	// A person's mail, marked so: notifies. Its notification lends the
	// rows below a Message-ID that Parley made.
	normal := "From: Nora <nora@customer.example>\nTo: " + supportAddr + "\nSubject: Normal\nMessage-ID: <auto-no@customer.example>\nAuto-Submitted: no\n\nHello\n"
	if err := smtpSend(in, "nora@customer.example", supportAddr, []byte(normal)); err != nil {
		t.Fatal(err)
	}
	note := mp.Wait(t, 5*time.Second, "the notification of Auto-Submitted: no", func(m *mailpit.Message) bool { return strings.Contains(m.Subject, "from Nora") })
	if th := threadOf(t, e, "nora@customer.example"); th.IsFiltered() {
		t.Errorf("Auto-Submitted: no is filtered: %+v", th)
	}

	report := "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nDelivery failed.\n--b1\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--b1--\n"
	tests := []struct {
		name    string
		envFrom string
		from    string // the From header
		headers string // more header lines, each ending in \n
		body    string // the rest of the header and the body; default a text body
	}{
		{"Auto-Submitted auto-replied", "ooo@customer.example", "ooo@customer.example", "Auto-Submitted: auto-replied\n", ""},
		{"Auto-Submitted auto-generated", "gen@customer.example", "gen@customer.example", "Auto-Submitted: auto-generated\n", ""},
		{"Auto-Submitted with a parameter", "par@customer.example", "par@customer.example", "Auto-Submitted: Auto-Notified; owner-email=\"x@customer.example\"\n", ""},
		{"Precedence bulk", "bulk@customer.example", "bulk@customer.example", "Precedence: bulk\n", ""},
		{"Precedence junk", "junk@customer.example", "junk@customer.example", "Precedence: junk\n", ""},
		{"Precedence list", "lst@customer.example", "lst@customer.example", "Precedence: list\n", ""},
		{"X-Autoreply", "xar@customer.example", "xar@customer.example", "X-Autoreply: yes\n", ""},
		{"X-Autorespond", "xresp@customer.example", "xresp@customer.example", "X-Autorespond: on vacation\n", ""},
		{"empty envelope sender", "", "person@customer.example", "", ""},
		{"mailer-daemon", "", "Mail Delivery Subsystem <MAILER-DAEMON@mx.customer.example>", "", ""},
		{"postmaster", "postmaster@mx.customer.example", "postmaster@mx.customer.example", "", ""},
		{"multipart/report", "dsn@mx.customer.example", "Mail Delivery System <dsn@mx.customer.example>", "", report},
		// Before the next row, which stores the notification's Message-ID.
		{"an answer to a notification", "member@customer.example", "member@customer.example", "In-Reply-To: <" + note.MessageID + ">\n", ""},
		{"Parley's own Message-ID", "own-id@customer.example", "own-id@customer.example", "", ""},
		{"Parley's own sender", "parley@parley.test", "Parley <Parley@parley.test>", "", ""},
		{"an inbox address as sender", "support@parley.test", "support@parley.test", "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgID := fmt.Sprintf("auto-%d@customer.example", i)
			if tt.name == "Parley's own Message-ID" {
				msgID = note.MessageID
			}
			raw := "From: " + tt.from + "\nTo: " + supportAddr + "\nSubject: Automatic " + tt.name + "\nMessage-ID: <" + msgID + ">\n" + tt.headers
			if tt.body != "" {
				raw += tt.body
			} else {
				raw += "Content-Type: text/plain\n\nI am not here.\n"
			}
			if err := smtpSend(in, tt.envFrom, supportAddr, []byte(raw)); err != nil {
				t.Fatalf("send: %v", err)
			}
			ts, _, err := e.db.Threads(context.Background(), storeAll())
			if err != nil {
				t.Fatal(err)
			}
			var th *parley.Thread
			for _, x := range ts {
				if x.Subject == "Automatic "+tt.name {
					th = x
				}
			}
			if th == nil {
				t.Fatal("the mail was not stored")
			}
			if !th.IsFiltered() {
				t.Errorf("thread %+v is not filtered", th)
			}
		})
	}

	// An auto-reply in a closed thread of its own sender is kept there,
	// and neither reopens nor notifies.
	nora := threadOf(t, e, "nora@customer.example")
	if _, err := e.db.UpdateThread(context.Background(), nora.ID, func(t *parley.Thread) error { t.Status = parley.StatusClosed; return nil }); err != nil {
		t.Fatal(err)
	}
	ooo := rawMail("Nora <nora@customer.example>", "Automatic out of office", "auto-ooo@customer.example", "auto-no@customer.example", "I am away.")
	ooo = strings.Replace(ooo, "Subject:", "Auto-Submitted: auto-replied\nSubject:", 1)
	if err := smtpSend(in, "nora@customer.example", supportAddr, []byte(ooo)); err != nil {
		t.Fatal(err)
	}
	if after, _ := e.db.Thread(context.Background(), nora.ID); after.Status != parley.StatusClosed || after.LastSeq != nora.LastSeq+1 {
		t.Errorf("Nora's auto-reply: thread %+v, want it kept in her closed thread", after)
	}

	// An agent's reply from another Parley looks like Parley's own mail
	// but lacks this Parley's keyed hash: it is a person's mail. So is
	// mail that a forwarder passes on with the inbox's own address as the
	// envelope's sender.
	other := rawMail("Otto <otto@other.example>", "From another Parley", "parley-5.abcdef012345.0123456789abcdef@other.example", "", "Hello from us")
	if err := smtpSend(in, supportAddr, supportAddr, []byte(other)); err != nil {
		t.Fatal(err)
	}
	if th := threadOf(t, e, "otto@other.example"); th.IsFiltered() {
		t.Errorf("another Parley's mail is filtered: %+v", th)
	}

	// A last ordinary mail: its notification comes after any that the
	// rows above caused (the outbox sends oldest first).
	last := rawMail("Zoe <zoe@customer.example>", "Last", "auto-last@customer.example", "", "Bye")
	if err := smtpSend(in, "zoe@customer.example", supportAddr, []byte(last)); err != nil {
		t.Fatal(err)
	}
	mp.Wait(t, 5*time.Second, "the last notification", func(m *mailpit.Message) bool { return strings.Contains(m.Subject, "from Zoe") })
	list, _ := mp.Messages()
	for _, m := range list {
		if strings.Contains(m.Subject, "Automatic") {
			t.Errorf("automatic mail was answered or notified: %q to %v", m.Subject, m.To)
		}
		if len(m.To) == 1 && m.To[0].Address != "admin@example.com" {
			t.Errorf("Parley wrote to %v: %q", m.To, m.Subject)
		}
	}
	if n := len(notifications(t, mp)); n != 3 {
		t.Errorf("%d notifications, want 3 (Nora's, Otto's and Zoe's)", n)
	}
}

// TestMailFloodOneSender: one sender that sends a hundred new mails gets
// at most MailNewThreadBurst threads at once; the rest is refused for now
// (451, the sending server retries later). Another sender is not affected.
func TestMailFloodOneSender(t *testing.T) {
	e, _ := mailEnv(t, "")
	in := inboundSMTP(t, e)
	const burst = 10 // server.Config.MailNewThreadBurst's default
	accepted, refused := 0, 0
	for i := range 100 {
		raw := rawMail("flood@attacker.example", fmt.Sprintf("Flood %d", i), fmt.Sprintf("flood-%d@attacker.example", i), "", "again")
		switch err := smtpSend(in, "flood@attacker.example", supportAddr, []byte(raw)); smtpCode(err) {
		case 0:
			if err != nil {
				t.Fatal(err)
			}
			accepted++
		case 451:
			refused++
		default:
			t.Fatalf("mail %d: %v, want accepted or 451", i, err)
		}
	}
	c, err := e.db.ContactByEmail(context.Background(), "flood@attacker.example")
	if err != nil {
		t.Fatal(err)
	}
	ts, _, _ := e.db.Threads(context.Background(), parley.ThreadFilter{ContactID: c.ID, Limit: 500})
	if len(ts) > burst || accepted > burst || accepted+refused != 100 {
		t.Errorf("%d threads, %d accepted, %d refused; want at most %d threads", len(ts), accepted, refused, burst)
	}

	// A reply in one of its threads is no new thread: it still arrives.
	reply := rawMail("flood@attacker.example", "Re: Flood 0", "flood-reply@attacker.example", "flood-0@attacker.example", "a reply")
	if err := smtpSend(in, "flood@attacker.example", supportAddr, []byte(reply)); err != nil {
		t.Errorf("a reply in an existing thread: %v", err)
	}
	// Someone else is not affected.
	other := rawMail("Olga <olga@customer.example>", "Hello", "olga-1@customer.example", "", "Hi")
	if err := smtpSend(in, "olga@customer.example", supportAddr, []byte(other)); err != nil {
		t.Fatalf("another sender: %v", err)
	}
	threadOf(t, e, "olga@customer.example")
}

// TestMailOutgoingAutoSubmitted: what Parley sends by itself says so
// (RFC 3834), so that auto-responders do not answer it; an agent's reply
// does not.
func TestMailOutgoingAutoSubmitted(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailEnv(t, mp.SMTPAddr)
	in := inboundSMTP(t, e)
	if err := smtpSend(in, "ann@customer.example", supportAddr, []byte(rawMail("Ann <ann@customer.example>", "Hi", "out-1@customer.example", "", "Hello"))); err != nil {
		t.Fatal(err)
	}
	n := mp.Wait(t, 5*time.Second, "the notification", func(m *mailpit.Message) bool { return m.To[0].Address == "admin@example.com" })
	th := threadOf(t, e, "ann@customer.example")
	if res := admin.do("POST", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", th.ID), map[string]any{"type": "MESSAGE", "text": "Hello Ann"}, nil); res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	r := mp.Wait(t, 5*time.Second, "the reply", func(m *mailpit.Message) bool { return m.To[0].Address == "ann@customer.example" })
	h, err := mp.Headers(n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h["Auto-Submitted"], ","); got != "auto-generated" {
		t.Errorf("notification Auto-Submitted=%q, want auto-generated", got)
	}
	if h, _ = mp.Headers(r.ID); len(h["Auto-Submitted"]) != 0 {
		t.Errorf("an agent's reply has Auto-Submitted %q", h["Auto-Submitted"])
	}
}

// TestMailStrangerCannotHijack: mail only changes the thread of its own
// sender's contact. A blocked sender citing another customer's thread in
// References gets a Filtered thread of their own; another person replying
// into the thread joins it under their own address and changes nothing
// else of it.
func TestMailStrangerCannotHijack(t *testing.T) {
	e, admin := mailEnv(t, "")
	ctx := context.Background()
	in := inboundSMTP(t, e)
	send := func(from, envFrom, subject, id, inReplyTo string) {
		t.Helper()
		if err := smtpSend(in, envFrom, supportAddr, []byte(rawMail(from, subject, id, inReplyTo, "text of "+id))); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}
	send("Ann Lee <ann@customer.example>", "ann@customer.example", "Order 42", "a1@customer.example", "")
	ta := threadOf(t, e, "ann@customer.example")
	if res := admin.do("PATCH", fmt.Sprintf("/conversations/v3/conversations/threads/%d", ta.ID), map[string]any{"status": "CLOSED"}, nil); res.status != 200 {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	send("Bob <bob@spam.example>", "bob@spam.example", "Buy", "b1@spam.example", "")
	tb := threadOf(t, e, "bob@spam.example")
	if res := admin.do("POST", fmt.Sprintf("/api/v1/threads/%d/block", tb.ID), nil, nil); res.status != 200 {
		t.Fatalf("block: %d %s", res.status, res.body)
	}
	before, err := e.db.Thread(ctx, ta.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Blocked Bob cites Ann's thread.
	send("Bob <bob@spam.example>", "bob@spam.example", "Re: Order 42", "b2@spam.example", "a1@customer.example")
	after, _ := e.db.Thread(ctx, ta.ID)
	if after.Blocked || after.IsFiltered() || after.Status != parley.StatusClosed || after.ContactID != before.ContactID || after.LastSeq != before.LastSeq {
		t.Errorf("Ann's thread changed by blocked Bob: before %+v, after %+v", before, after)
	}
	bob, _ := e.db.ContactByEmail(ctx, "bob@spam.example")
	bts, _, _ := e.db.Threads(ctx, parley.ThreadFilter{ContactID: bob.ID})
	if len(bts) != 2 || !bts[1].Blocked || !bts[1].IsFiltered() || bts[1].ContactID != bob.ID {
		t.Fatalf("Bob's threads %+v, want a second, blocked one of his own", bts)
	}
	msgs, _, _ := e.db.Messages(ctx, bts[1].ID, 0, 0)
	if len(msgs) != 1 || msgs[0].SenderID != bob.ActorID() || msgs[0].Text != "text of b2@spam.example" {
		t.Errorf("Bob's new thread holds %+v", msgs)
	}

	// Carl, not blocked, answers in Ann's thread: he joins it as himself.
	send("Carl <carl@other.example>", "carl@other.example", "Re: Order 42", "c1@other.example", "a1@customer.example")
	after, _ = e.db.Thread(ctx, ta.ID)
	if after.ContactID != before.ContactID || after.Status != parley.StatusClosed || after.IsFiltered() || after.LastSeq != before.LastSeq+1 {
		t.Errorf("Ann's thread after Carl's reply: %+v (before %+v)", after, before)
	}
	carl, _ := e.db.ContactByEmail(ctx, "carl@other.example")
	var page struct{ Results []map[string]any }
	admin.do("GET", fmt.Sprintf("/conversations/v3/conversations/threads/%d/messages", ta.ID), nil, nil).decode(t, &page)
	lastMsg := page.Results[len(page.Results)-1]
	senders := lastMsg["senders"].([]any)
	s0 := senders[0].(map[string]any)
	if s0["actorId"] != carl.ActorID() {
		t.Errorf("Carl's message has senders %v, want %s", senders, carl.ActorID())
	}
	if di, _ := s0["deliveryIdentifier"].(map[string]any); di["value"] != "carl@other.example" || di["type"] != "HS_EMAIL_ADDRESS" {
		t.Errorf("Carl's message sender %v lacks his address", s0)
	}
	for _, r := range lastMsg["recipients"].([]any) {
		if r.(map[string]any)["actorId"] == parley.ContactActorID(before.ContactID) {
			t.Errorf("Carl's incoming message names Ann as its recipient: %v", lastMsg["recipients"])
		}
	}

	// Ann herself still reopens her thread.
	send("Ann Lee <ann@customer.example>", "ann@customer.example", "Re: Order 42", "a2@customer.example", "c1@other.example")
	if after, _ = e.db.Thread(ctx, ta.ID); after.Status != parley.StatusOpen {
		t.Errorf("Ann's own answer: status %s, want OPEN", after.Status)
	}
}
