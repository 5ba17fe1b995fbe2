// Package server is Parley's HTTP surface: the agent console, the REST API in
// HubSpot's v3 shape, the settings API, the widget's public endpoints and the
// WebSocket endpoints for visitors and agents. It adapts transports to the
// application (package app), the store and the hub: it decodes, checks who
// may do what, calls the app and encodes, and tells the consoles and
// visitors what the app committed (events.go). It owns no business rule of
// its own.
package server

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/argon2"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/widget"
)

// Config is the server's configuration: HTTP and WebSocket settings and
// limits. Zero values take the documented defaults. The clock, email and
// the bots' timeouts are the application's (app.Config); the server reads
// the app's clock.
type Config struct {
	// BaseURL is the public URL of this Parley, e.g. "https://chat.example.com".
	// It is used in snippets and links and defines the console's origin.
	BaseURL string
	// Logger receives structured logs. Defaults to a disabled logger.
	Logger zerolog.Logger
	// SessionTTL is how long a console session lasts. Defaults to 30 days.
	SessionTTL time.Duration
	// PingInterval is how often WebSocket connections are pinged; a pong later
	// than PingTimeout closes the connection. Defaults to 20s and 10s. They
	// bound presence: a console that vanishes without closing counts as gone
	// after at most PingInterval + PingTimeout.
	PingInterval, PingTimeout time.Duration
	// WriteTimeout bounds every WebSocket write. Defaults to 10s.
	WriteTimeout time.Duration
	// HelloTimeout is how long a WebSocket client has to send hello. Defaults to 10s.
	HelloTimeout time.Duration
	// StatusKeepAlive is how often an idle widget status stream gets a
	// comment, so that proxies keep it open; a stream whose peer has gone
	// is released at the next one. Defaults to 25s.
	StatusKeepAlive time.Duration
	// MessageRate and MessageBurst bound messages per second a WebSocket
	// connection may send. Default to 10 and 30.
	MessageRate, MessageBurst float64
	// VisitorQueue and AgentQueue are how many events may wait for one
	// visitor or console connection before it is dropped as too slow (close
	// code 4408; the client resumes). Consoles get bursts: one group commit
	// can announce hundreds of messages at once. Default to 64 and 8192.
	VisitorQueue, AgentQueue int
	// Themes compiles and serves the widgets' theme stylesheets. Defaults to
	// a widget.Themes without Dart Sass: the precompiled default theme and
	// its fallbacks.
	Themes ThemeCompiler

	// MailListen is the inbound SMTP address, for GET /api/v1/mail.
	MailListen string

	// Version is what GET /healthz names as "version".
	Version string
	// Metrics serves the Prometheus metrics at GET /metrics, to a client
	// that sends MetricsToken as its Bearer token (compared in constant
	// time; a wrong or missing one gets 401). Without both, /metrics is
	// 404. Defaults to none.
	Metrics      http.Handler
	MetricsToken string
	// Backup writes an archive of everything Parley stores, a consistent
	// snapshot taken while it serves (docs/operations.md), for GET
	// /api/v1/backup, which admins alone may call. It returns once the
	// archive is written or writing it failed. Defaults to none: the
	// route is 404.
	Backup func(ctx context.Context, w io.Writer) error
	// CheckStorage, when set, tells GET /healthz whether Parley can store
	// what it is sent: nil if it can, else an ESTORAGE error (the disk is
	// full or failing), which /healthz answers with, 507. It may try a
	// small write to find out, so it must bound how often it does.
	// Defaults to none: /healthz does not ask.
	CheckStorage func(ctx context.Context) error
	// ObserveRequest, when set, hears of every finished request: the
	// ServeMux pattern that served it ("GET /api/v1/users/{id}", never the
	// path itself) or "unmatched", its status and how long it took. A
	// WebSocket or status stream finishes when it closes.
	ObserveRequest func(route string, status int, d time.Duration)

	// TrustedProxies are the peers whose X-Forwarded-For header names the
	// client's address (clientaddr.go). Defaults to none: the peer is the
	// client.
	TrustedProxies []netip.Prefix

	// Per client address (the IPv4 address or IPv6 /64 that clientAddr
	// finds), for what anyone may do through the widget's public
	// endpoints. VisitorConnsPerIP bounds the visitor WebSockets and
	// widget status streams it holds open at once: more are refused with
	// close code 4429 or HTTP 429. NewVisitorsPerIP and
	// NewConversationsPerIP bound the new visitors (contacts the widget
	// makes) and new chat conversations it may start a minute, the whole
	// minute's worth at once at most; more get error rate_limited and
	// store nothing. Default to 100, 60 and 30; a negative value switches
	// the limit off (load tests from one address).
	VisitorConnsPerIP     int
	NewVisitorsPerIP      int
	NewConversationsPerIP int

	// BodyTimeout bounds reading a request's body, counted from the end of
	// its headers: a body still arriving then is cut off (400, and the
	// connection is closed) and nothing of it is stored, so that a body
	// trickled a byte at a time cannot hold a connection. Requests without
	// a body, such as WebSocket upgrades and the widget's status stream,
	// are not bounded by it. Defaults to 30s; negative: no bound.
	BodyTimeout time.Duration
	// HeaderTimeout and IdleTimeout are those of HTTPServer: how long a
	// client has to send a request's headers, and how long a kept-alive
	// connection may wait for its next request. Default to 10s and 60s.
	HeaderTimeout, IdleTimeout time.Duration

	// Limits on guessing secrets: passwords, the setup link, invitation
	// links (signin_guard.go). Each is a token bucket, Burst at once and then
	// PerMinute a minute; zero takes the default, a negative value turns
	// the limit off (for load tests). A refused attempt gets 429 with
	// Retry-After and costs no password hashing.
	//
	// LoginAddrBurst and LoginAddrPerMinute count the failed sign-ins,
	// setups and invitation acceptances of one client address (IPv4, or
	// IPv6 /64). Default to 10 and 10: someone who mistypes a few times is
	// never refused; a guesser is refused from the 11th failure in a row
	// on, and then gets one try every 6s.
	//
	// LoginAccountBurst and LoginAccountPerMinute count failed sign-ins per
	// email address tried, from any client and whether or not it has an
	// account, so that a guesser with many addresses is slowed too. Default
	// to 20 and 1. The trade-off: whoever keeps failing for an email keeps
	// it refused, the owner too. That lockout is bounded: a client that
	// signed in to the account within SessionTTL (and since the last
	// restart) is exempt, so it never reaches the places where the owner
	// usually signs in, and elsewhere it ends a minute after the guessing
	// stops.
	//
	// TokenBurst and TokenPerMinute count the API tokens a user creates.
	// Default to 10 and 1.
	LoginAddrBurst, LoginAccountBurst, TokenBurst             int
	LoginAddrPerMinute, LoginAccountPerMinute, TokenPerMinute float64
	// HashConcurrency bounds the argon2id password hashes (19 MiB each)
	// computed at once, for sign-ins, setup and invitations; a request
	// waits up to HashWait for its turn, then gets 503 with Retry-After.
	// Default to GOMAXPROCS but at most 4, and 3s. A negative
	// HashConcurrency sets no bound.
	HashConcurrency int
	HashWait        time.Duration

	// now is the clock: the app's (New sets it). Tests of the server's
	// internals set their own.
	now func() time.Time

	// argon2 computes argon2id for the server's own hashing; tests count
	// the runs through it (CountHashes). Defaults to argon2.IDKey.
	argon2 argon2Func
}

func (c *Config) setDefaults() {
	if c.now == nil {
		c.now = time.Now
	}
	if c.argon2 == nil {
		c.argon2 = argon2.IDKey
	}
	if c.Themes == nil {
		c.Themes = widget.NewThemes(&widget.ThemeOptions{NoSass: true})
	}
	orDefault(&c.SessionTTL, 30*24*time.Hour)
	orDefault(&c.PingInterval, 20*time.Second)
	orDefault(&c.PingTimeout, 10*time.Second)
	orDefault(&c.WriteTimeout, 10*time.Second)
	orDefault(&c.HelloTimeout, 10*time.Second)
	orDefault(&c.StatusKeepAlive, 25*time.Second)
	orDefault(&c.MessageRate, 10)
	orDefault(&c.MessageBurst, 30)
	orDefault(&c.VisitorQueue, 64)
	orDefault(&c.AgentQueue, 8192)
	orDefault(&c.BodyTimeout, 30*time.Second)
	orDefault(&c.HeaderTimeout, 10*time.Second)
	orDefault(&c.IdleTimeout, 60*time.Second)
	orDefault(&c.VisitorConnsPerIP, defaultVisitorConnsPerIP)
	orDefault(&c.NewVisitorsPerIP, defaultNewVisitorsPerIP)
	orDefault(&c.NewConversationsPerIP, defaultNewConversationsPerIP)
	orDefault(&c.LoginAddrBurst, 10)
	orDefault(&c.LoginAddrPerMinute, 10)
	orDefault(&c.LoginAccountBurst, 20)
	orDefault(&c.LoginAccountPerMinute, 1)
	orDefault(&c.TokenBurst, 10)
	orDefault(&c.TokenPerMinute, 1)
	orDefault(&c.HashConcurrency, defaultHashConcurrency())
	orDefault(&c.HashWait, 3*time.Second)
}

// orDefault sets *v to def if *v is its type's zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Server serves Parley over HTTP. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cfg      Config
	log      zerolog.Logger
	app      *app.App
	db       Store
	hub      parley.Broker
	presence parley.Presence
	assets   WidgetFiles
	origin   string // scheme://host of BaseURL
	// crossOrigin refuses cross-site browser writes (auth.go).
	crossOrigin *http.CrossOriginProtection
	handler     http.Handler
	patterns    []string // every route's pattern, in routes() order

	// ctx is cancelled by Close: WebSocket connections end with 1001.
	ctx    context.Context
	cancel context.CancelFunc
	conns  sync.WaitGroup
	// peers watches the hijacked status streams for peers that leave
	// (status_stream.go).
	peers peerWatch
	// frames runs the handling of WebSocket frames (frames.go).
	frames *framePool

	// visitorLocks serialises the first message of a new visitor so that two
	// tabs cannot start two threads.
	mu       sync.Mutex
	lastType map[string]time.Time // typing throttle: "actor/thread" -> last forward

	// agents are the live agent connections per user (ws_agent_conns.go).
	agents agentConns

	// moves orders disassociations against live visitors' messages
	// (credential_moves.go).
	moves credentialMoves
	// sockets finds the live visitor connections of a contact, which its
	// erasure closes (http_contact_erase.go).
	sockets visitorSockets

	// signin bounds password hashing and guessing (signin_guard.go).
	signin *signinGuard
	// auditFails bounds the audit log's entries of failed sign-ins
	// (http_audit.go).
	auditFails auditFails
	// limits are the per-address limits of the widget's public endpoints
	// (visitor_limits.go).
	limits *visitorLimits
	// counts are the live connections and the events written to them
	// (metrics.go).
	counts connCounts
}

// New returns a server for application a over the given store, broker and
// presence tracker. It tells the broker's subscribers what a commits
// (events.go) and takes a's clock; a runs its goroutines itself (Start).
func New(cfg Config, a *app.App, db Store, b parley.Broker, p parley.Presence, assets WidgetFiles) *Server {
	cfg.now = a.Now
	cfg.setDefaults()
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		app:      a,
		db:       db,
		hub:      b,
		presence: p,
		assets:   assets,
		lastType: make(map[string]time.Time),

		frames: newFramePool(framesIdle),
		limits: newVisitorLimits(&cfg),
		signin: newSigninGuard(&cfg),
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		s.origin = strings.ToLower(u.Scheme + "://" + u.Host)
	}
	s.crossOrigin = newCrossOrigin(s.origin)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	a.SetEvents(appEvents{s})
	return s
}

// HTTPServer returns an http.Server that serves s with the timeouts of its
// Config: HeaderTimeout for each request's headers and IdleTimeout between
// requests; s bounds each body itself (BodyTimeout). There is no overall
// read or write timeout, which would cut off WebSockets and the status
// stream: those bound their own writes (WriteTimeout) and ping their peers.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close ends every WebSocket connection with "going away" and waits for
// them to return. HTTP requests are the caller's http.Server's to drain;
// the app's goroutines are the app's to stop (app.App.Close).
func (s *Server) Close() {
	s.cancel()
	s.conns.Wait()
	s.peers.stop()
	s.frames.close()
}

func (s *Server) now() time.Time { return s.cfg.now().UTC() }
