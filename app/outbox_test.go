package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
	"github.com/parley-chat/parley/store"
)

// heldMailer sends through a real sender and then holds its answer until
// released: an SMTP server that has accepted the email while the dialogue
// has not ended yet.
type heldMailer struct {
	next     app.Mailer
	accepted chan struct{}
	release  chan struct{}
}

func (m *heldMailer) Send(ctx context.Context, e *parley.Email) error {
	err := m.next.Send(ctx, e)
	close(m.accepted)
	<-m.release
	return err
}

// hangingMailer never answers until its context ends.
type hangingMailer struct{ started chan struct{} }

func (m *hangingMailer) Send(ctx context.Context, e *parley.Email) error {
	close(m.started)
	<-ctx.Done()
	return ctx.Err()
}

func queueTestMail(t *testing.T, db *store.DB) {
	t.Helper()
	err := db.QueueMail(context.Background(), &parley.OutboxItem{Kind: parley.OutboxNotification, Email: parley.Email{
		From: parley.Address{Email: "parley@parley.test"}, To: []parley.Address{{Email: "someone@example.com"}},
		Subject: "Once only", Text: "hello", MessageID: "once@parley.test", Date: time.Now(),
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func outboxLen(t *testing.T, db *store.DB) int {
	t.Helper()
	due, next, err := db.DueMail(context.Background(), time.Now().Add(1000*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if !next.IsZero() {
		t.Fatalf("outbox has items beyond the horizon")
	}
	return len(due)
}

// TestOutboxGracefulStopSendsOnce stops the app while an email is being
// sent, after the SMTP server accepted it, and starts a new app over the
// same database: the email arrives once, not again after the restart.
func TestOutboxGracefulStopSendsOnce(t *testing.T) {
	mp := mailpit.Start(t)
	sender, err := mail.NewSender("smtp://"+mp.SMTPAddr+"?tls=none", &mail.SenderOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := store.Open(dir, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	queueTestMail(t, db)
	held := &heldMailer{next: sender, accepted: make(chan struct{}), release: make(chan struct{})}
	a := app.New(app.Config{Mailer: held, MailFrom: "parley@parley.test"}, db, hub.NewPresence())
	a.Start()
	select {
	case <-held.accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbox did not send")
	}
	closed := make(chan struct{})
	go func() {
		a.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while an email was being sent")
	case <-time.After(200 * time.Millisecond):
	}
	close(held.release)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the send finished")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(dir, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	a = app.New(app.Config{Mailer: sender, MailFrom: "parley@parley.test"}, db, hub.NewPresence())
	a.Start()
	deadline := time.Now().Add(5 * time.Second)
	for outboxLen(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a send the restart began
	a.Close()
	if n := outboxLen(t, db); n != 0 {
		t.Errorf("outbox holds %d items after the restart", n)
	}
	msgs, err := mp.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Errorf("Mailpit received %d emails, want exactly 1", len(msgs))
	}
}

// TestOutboxStopIsBounded stops the app while a send hangs: Close cuts it
// short after MailStopGrace, and the email stays in the outbox for the
// next start.
func TestOutboxStopIsBounded(t *testing.T) {
	db, err := store.Open(t.TempDir(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	queueTestMail(t, db)
	hang := &hangingMailer{started: make(chan struct{})}
	a := app.New(app.Config{Mailer: hang, MailFrom: "parley@parley.test", MailStopGrace: 100 * time.Millisecond}, db, hub.NewPresence())
	a.Start()
	select {
	case <-hang.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbox did not send")
	}
	start := time.Now()
	a.Close()
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("Close took %s with a hanging send, want about MailStopGrace (100ms)", d)
	}
	if n := outboxLen(t, db); n != 1 {
		t.Errorf("outbox holds %d items, want the cut-short email kept", n)
	}
}
