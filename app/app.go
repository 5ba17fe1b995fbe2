// Package app is Parley's application layer: the use cases, their
// goroutines and their clock.
//
// What happens when a visitor writes, an agent replies, assigns or closes,
// mail arrives, a bot answers, a conversation is routed or an agent comes
// and goes is decided here, the same for every transport: package server
// decodes requests and frames, checks who may do what, calls an App and
// encodes the answer. An App runs over narrow interfaces (Store, made of the
// root's storage contract, parley.Presence and Mailer) and tells the
// transports what changed through Events; it imports no transport and no
// implementation.
package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/locale"
)

// Config is the application's configuration. Zero values take the
// documented defaults.
type Config struct {
	// BaseURL is the public URL of this Parley, e.g.
	// "https://chat.example.com", for the links in notifications.
	BaseURL string
	// Logger receives structured logs. Defaults to a disabled logger.
	Logger zerolog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Timer, if set, makes the timer for the next business-hours boundary:
	// it returns a channel that receives once the clock (Now) reaches at,
	// and a function that stops it. Tests that control Now pair it with a
	// clock they advance. Defaults to a time.Timer for the time until at.
	Timer func(at time.Time) (c <-chan time.Time, stop func() bool)

	// Email (mail.go). Mailer sends outgoing mail; nil means none: email
	// threads cannot be replied to and nothing is emailed. MailFrom is the
	// sender of notifications and transcripts (PARLEY_MAIL_FROM); without
	// it they are not sent. MailRetry is the outbox's first retry delay,
	// doubling up to an hour (default 30s); MailAttempts how often it tries
	// in all (default 10). MailStopGrace is how long Close lets an email
	// being sent finish before it cuts the send short (default 30s).
	Mailer        Mailer
	MailFrom      string
	MailRetry     time.Duration
	MailAttempts  int
	MailStopGrace time.Duration
	// MailNewThreadsPerHour and MailNewThreadBurst bound the new email
	// threads that one sender address (the From header) may start: that
	// many per hour on average, and MailNewThreadBurst at once. Mail that
	// would start another is refused for now (SMTP 451), so that a real
	// sending server tries again later while a flood or a mail loop stays
	// small; mail that joins an existing thread is not limited. At most
	// 10,000 senders are remembered, those idle longest forgotten first.
	// Default to 20 and 10; a negative MailNewThreadsPerHour turns the
	// limit off.
	MailNewThreadsPerHour float64
	MailNewThreadBurst    int

	// Connected mailboxes (mailbox.go). Accounts reaches their IMAP and
	// SMTP servers; nil means mailboxes cannot be connected. SecretKey, 32
	// bytes, encrypts their stored passwords (AES-256-GCM); without it
	// none can be connected, and with another key than the one they were
	// stored with, their passwords cannot be read (the mailbox shows the
	// error). MailboxPoll is how often a folder is looked at on a server
	// without IDLE (default 1 minute); MailboxRetryMax bounds the wait
	// before reconnecting, which doubles from a second (default 5
	// minutes).
	Accounts        parley.MailAccounts
	SecretKey       []byte
	MailboxPoll     time.Duration
	MailboxRetryMax time.Duration

	// Blobs keeps the bytes of files (attachments, files.go); nil means
	// none: uploads are refused and nothing is swept.
	Blobs parley.BlobStore

	// Webhooks (webhooks.go). WebhookAllowPrivate lets subscribers'
	// targets be loopback or private addresses
	// (PARLEY_WEBHOOK_ALLOW_PRIVATE); WebhookRetry is the first retry's
	// delay, doubling with each retry (default 80s, so that ten retries
	// span about a day).
	WebhookAllowPrivate bool
	WebhookRetry        time.Duration

	// BotIdleTimeout is how long a bot conversation waits for its visitor
	// before it closes itself (I7); BotSweepInterval is how often the
	// app looks for such conversations, by the clock Now. Default to 30
	// minutes and 15 seconds.
	BotIdleTimeout, BotSweepInterval time.Duration

	// Counting, for metrics; nil hooks count nothing. CountMessage hears
	// of every message the app commits and announces (Events.MessageCreated),
	// system events and notes included, on the announcing goroutine: it
	// must be cheap (a counter's atomic add). MailSent hears of every
	// attempt of the outbox to send an email: err is nil when the mail
	// server accepted it.
	CountMessage func(m *parley.Message)
	MailSent     func(err error)
	// WebhookFailed hears of each webhook delivery attempt that failed.
	WebhookFailed func()
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MailRetry <= 0 {
		c.MailRetry = defaultMailRetry
	}
	if c.MailAttempts <= 0 {
		c.MailAttempts = defaultMailAttempts
	}
	if c.MailStopGrace <= 0 {
		c.MailStopGrace = defaultMailStopGrace
	}
	if c.MailNewThreadsPerHour == 0 {
		c.MailNewThreadsPerHour = defaultMailNewThreadsPerHour
	}
	if c.MailNewThreadBurst <= 0 {
		c.MailNewThreadBurst = defaultMailNewThreadBurst
	}
	if c.MailboxPoll <= 0 {
		c.MailboxPoll = defaultMailboxPoll
	}
	if c.MailboxRetryMax <= 0 {
		c.MailboxRetryMax = defaultMailboxRetryMax
	}
	if c.WebhookRetry <= 0 {
		c.WebhookRetry = defaultWebhookRetry
	}
	if c.BotIdleTimeout == 0 {
		c.BotIdleTimeout = 30 * time.Minute
	}
	if c.BotSweepInterval == 0 {
		c.BotSweepInterval = 15 * time.Second
	}
}

// App is Parley's application: the chat operations, routing, the bots,
// email, live availability, visitor identification and "also viewing".
// Create it with New, connect its Events, then Start it; it is safe for
// concurrent use.
type App struct {
	cfg      Config
	log      zerolog.Logger
	db       Store
	presence parley.Presence
	events   Events

	// ctx is cancelled by Close, which waits for the goroutines (wg).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	viewers *viewerSet // who views which thread ("also viewing")
	// peopleChanged asks watchPresence to announce users and availability
	// again after users or inbox members changed.
	peopleChanged chan struct{}

	mail mailState // the outbox and notification throttle (mail.go)
	// boxes are the connected mailboxes' goroutines (mailbox.go).
	boxes mailboxWorkers
	// ident is the visitor identification tokens' key (identify.go).
	ident identKey
	// live and routing push availability and route conversations
	// (presence.go, routing.go).
	live    *livePush
	routing *router
	// sweepNow asks the file sweep to run (files.go).
	sweepNow chan struct{}
	// hooks sends the webhooks' events (webhooks.go).
	hooks webhookState
	// retainNow asks the retention sweep to run (retention.go).
	retainNow chan struct{}
}

// New returns an application over the given store and presence tracker.
// It tells nobody what changes until SetEvents, and runs nothing until
// Start.
func New(cfg Config, db Store, p parley.Presence) *App {
	cfg.setDefaults()
	a := &App{
		cfg:      cfg,
		log:      cfg.Logger,
		db:       db,
		presence: p,
		events:   noEvents{},
		viewers:  newViewerSet(),

		peopleChanged: make(chan struct{}, 1),
		sweepNow:      make(chan struct{}, 1),
		retainNow:     make(chan struct{}, 1),
		live:          newLivePush(),
		routing:       newRouter(),
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.initMail()
	a.initMailboxes()
	a.initWebhooks()
	return a
}

// SetEvents makes ev hear of every change the app commits. Call it before
// Start.
func (a *App) SetEvents(ev Events) {
	if a.cfg.CountMessage != nil {
		ev = countedEvents{Events: ev, count: a.cfg.CountMessage}
	}
	a.events = ev
}

// countedEvents are Events whose messages Config.CountMessage counts on
// their way.
type countedEvents struct {
	Events
	count func(*parley.Message)
}

func (e countedEvents) MessageCreated(ctx context.Context, t *parley.Thread, m *parley.Message) {
	e.count(m)
	e.Events.MessageCreated(ctx, t, m)
}

// Start starts the app's goroutines: the outbox (when a Mailer is
// configured), the webhooks' sender, the pushes of availability and
// presence, routing of waiting conversations and the bots' sweeper. Close
// stops them.
func (a *App) Start() {
	a.startMail()
	a.startMailboxes()
	a.startLive()
	a.startWebhooks()
	a.wg.Add(3)
	go a.sweepBots()
	go a.sweepFiles(a.Now())
	go a.retain()
}

// Close stops the goroutines that Start started and waits for them to
// return; an email being sent gets Config.MailStopGrace to finish and
// have its outcome recorded.
func (a *App) Close() {
	a.cancel()
	a.wg.Wait()
}

// Now is the app's clock, in UTC.
func (a *App) Now() time.Time { return a.cfg.Now().UTC() }

// Mail reports whether outbound mail is configured (Config.Mailer), and
// whether Parley sends mail of its own too: notifications and transcripts
// need PARLEY_MAIL_FROM as well.
func (a *App) Mail() (outbound, system bool) { return a.cfg.Mailer != nil, a.canSendSystemMail() }

// ActorName returns a display name for an actor id, for event payloads.
func (a *App) ActorName(ctx context.Context, actorID string) string {
	return a.actorNameIn(ctx, actorID, locale.Fallback)
}

// actorNameIn is ActorName for a text in language lang: a contact known by
// neither name nor email is "Visitor #id" in that language.
func (a *App) actorNameIn(ctx context.Context, actorID, lang string) string {
	prefix, id, err := parley.ParseActorID(actorID)
	if err != nil {
		return ""
	}
	switch prefix {
	case parley.ActorUser:
		if u, err := a.db.SharedUser(ctx, id); err == nil {
			return u.Name
		}
	case parley.ActorVisitor:
		c, err := a.db.SharedContact(ctx, id)
		if err == nil {
			return contactName(c, lang)
		}
		// Contacts are deleted only by an erasure (EraseContact): what
		// others keep of the contact's words names it so.
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return locale.Lookup(lang, "contact.erased")
		}
	case parley.ActorSystem:
		return "Parley"
	case parley.ActorBot:
		if w, err := a.db.SharedWidget(ctx, id); err == nil {
			return w.Bot.DisplayName()
		}
	}
	return ""
}

// contactName is what a text in language lang calls contact c: its
// KnownName, or "Visitor #id" in lang.
func contactName(c *parley.Contact, lang string) string {
	if n := c.KnownName(); n != "" {
		return n
	}
	return locale.Lookup(lang, "contact.visitorN", "id", c.ID)
}

func idString(id uint64) string { return strconv.FormatUint(id, 10) }
