// Command parley runs Parley, a self-hosted live chat and shared team inbox:
// one binary with an embedded store.
//
//	parley [serve] [flags]
//	parley backup [--url URL --token TOKEN | --data DIR] FILE
//	parley restore --data DIR [--force] FILE
//	parley compact --data DIR
//	parley healthcheck [--url URL]
//	parley loadtest --url URL [--visitors N] [--agents M] [--rate R] [--duration D]
//	parley version
//
// Every flag has an environment twin (PARLEY_ADDR for --addr, …); a flag
// given on the command line wins over the environment.
package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	// A widget's time zone must resolve even where the system has no
	// zoneinfo (a scratch container): the binary embeds the IANA database.
	_ "time/tzdata"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/mail"
	"github.com/parley-chat/parley/metrics"
	"github.com/parley-chat/parley/server"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/widget"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

// config is everything the flags and environment set.
type config struct {
	Addr           string
	Data           string
	BaseURL        string
	LogLevel       string
	LogFormat      string
	MessageRate    float64
	AdminEmail     string
	AdminPassword  string
	Sass           string
	SMTPURL        string // outbound mail; "" for none
	MailFrom       string // sender of notifications and transcripts
	SMTPListen     string // inbound SMTP receiver address; "" for none
	TrustedProxies string // CIDRs whose X-Forwarded-For is believed
	Version        bool   // print the version and exit

	// Prometheus metrics: on a listener of their own, or on the main one
	// for the holder of the token; "" for neither.
	MetricsListen string
	MetricsToken  string

	// Connected mailboxes.
	SecretKey         string        // encrypts stored mail account passwords: 32 bytes, hex or base64
	AllowPrivateHosts bool          // mail accounts on loopback and private addresses
	MailAllowInsecure bool          // mail accounts without TLS
	WebhookAllowPriv  bool          // webhook targets on loopback and private addresses
	IMAPPollInterval  time.Duration // folders of servers without IDLE

	// Per client address limits; 0 turns one off.
	VisitorConnsPerIP     int // visitor sockets and status streams at once
	NewVisitorsPerIP      int // new visitors a minute
	NewConversationsPerIP int // new conversations a minute

	// Scheduled backups: every BackupEvery into BackupDir, the newest
	// BackupKeep kept; "" for none.
	BackupDir   string
	BackupEvery time.Duration
	BackupKeep  int

	// GCHeadroom is how many MiB beyond the live heap the heap may grow
	// between garbage collections (gc.go); 0 leaves Go's default.
	GCHeadroom int

	// HTTPS: certificate files, or automatic certificates by ACME for the
	// base URL's host; a plain-HTTP listener that redirects to it.
	TLSCert, TLSKey    string
	ACME               bool
	ACMEEmail          string
	ACMEDirectory      string
	HTTPRedirectListen string
}

// parseConfig reads flags, falling back to their PARLEY_* environment twins.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if args[0] != "serve" {
			return nil, fmt.Errorf("unknown command %q (the commands are serve, backup, restore, compact, healthcheck, loadtest and version)", args[0])
		}
		args = args[1:]
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &config{}
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", env("PARLEY_ADDR", "127.0.0.1:8080"), "listen address (env PARLEY_ADDR)")
	fs.StringVar(&c.Data, "data", env("PARLEY_DATA", "parley-data"), "data directory (env PARLEY_DATA)")
	fs.StringVar(&c.BaseURL, "base-url", env("PARLEY_BASE_URL", ""), "public URL used in snippets, links and emails; defaults to http:// + addr (env PARLEY_BASE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (env PARLEY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("PARLEY_LOG_FORMAT", "auto"), "json, console, or auto: console on a terminal (env PARLEY_LOG_FORMAT)")
	rate, err := strconv.ParseFloat(env("PARLEY_MESSAGE_RATE", "10"), 64)
	if err != nil || rate <= 0 {
		return nil, fmt.Errorf("PARLEY_MESSAGE_RATE must be a positive number")
	}
	fs.Float64Var(&c.MessageRate, "message-rate", rate, "messages per second one chat connection may send, bursts up to 3x (env PARLEY_MESSAGE_RATE)")
	fs.StringVar(&c.Sass, "sass", env("PARLEY_SASS", ""), "Dart Sass launcher that compiles widget themes; defaults to "+widget.SassPackagePath+" under the working or the binary's directory, then sass on PATH (env PARLEY_SASS)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("PARLEY_SMTP_URL", ""), "outbound mail server, smtp://user:pass@host:587?tls=starttls (tls=tls, opportunistic, or none for loopback); empty: no outbound mail (env PARLEY_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", env("PARLEY_MAIL_FROM", ""), "sender address of notifications and transcripts (env PARLEY_MAIL_FROM)")
	fs.StringVar(&c.SMTPListen, "smtp-listen", env("PARLEY_SMTP_LISTEN", ""), "address of the inbound SMTP receiver for the inboxes' email addresses, e.g. 127.0.0.1:2525; empty: none (env PARLEY_SMTP_LISTEN)")
	limits := []struct {
		p         *int
		flag, env string
		def       int
		usage     string
	}{
		{&c.VisitorConnsPerIP, "visitor-conns-per-ip", "PARLEY_VISITOR_CONNS_PER_IP", 100, "visitor WebSockets and widget status streams one client address may hold open at once"},
		{&c.NewVisitorsPerIP, "new-visitors-per-ip", "PARLEY_NEW_VISITORS_PER_IP", 60, "new visitors (contacts made by the widget) one client address may start a minute"},
		{&c.NewConversationsPerIP, "new-conversations-per-ip", "PARLEY_NEW_CONVERSATIONS_PER_IP", 30, "new chat conversations one client address may start a minute"},
	}
	for _, l := range limits {
		def := l.def
		if v := getenv(l.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s must be a whole number, 0 for no limit", l.env)
			}
			def = n
		}
		fs.IntVar(l.p, l.flag, def, l.usage+"; 0: no limit (env "+l.env+")")
	}
	headroom, err := strconv.Atoi(env("PARLEY_GC_HEADROOM", "64"))
	if err != nil || headroom < 0 {
		return nil, errors.New("PARLEY_GC_HEADROOM must be a whole number of MiB, 0 for Go's default")
	}
	fs.IntVar(&c.GCHeadroom, "gc-headroom", headroom, "MiB beyond the live heap that the heap may grow by between garbage collections, where that is more than Go's default (the live heap again): fewer collections under load for bounded memory; ignored when GOGC is set; 0: Go's default (env PARLEY_GC_HEADROOM)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("PARLEY_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client's address, e.g. 127.0.0.1/32; empty: the peer is the client (env PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&c.SecretKey, "secret-key", env("PARLEY_SECRET_KEY", ""), "32 random bytes, hex or base64 (openssl rand -hex 32), that encrypt the passwords of connected mailboxes; prefer the environment variable; empty: mailboxes cannot be connected (env PARLEY_SECRET_KEY)")
	boolEnv := func(name string) (bool, error) {
		v := getenv(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s must be true or false", name)
		}
		return b, nil
	}
	allowPrivate, err := boolEnv("PARLEY_ALLOW_PRIVATE_MAIL_HOSTS")
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&c.AllowPrivateHosts, "allow-private-mail-hosts", allowPrivate, "let connected mailboxes use IMAP and SMTP servers on loopback and private addresses (env PARLEY_ALLOW_PRIVATE_MAIL_HOSTS)")
	allowInsecure, err := boolEnv("PARLEY_MAIL_ALLOW_INSECURE")
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&c.MailAllowInsecure, "mail-allow-insecure", allowInsecure, "let connected mailboxes use TLS mode none: IMAP and SMTP logins in plain text (env PARLEY_MAIL_ALLOW_INSECURE)")
	webhookPrivate, err := boolEnv("PARLEY_WEBHOOK_ALLOW_PRIVATE")
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&c.WebhookAllowPriv, "webhook-allow-private", webhookPrivate, "let webhook targets be on loopback and private addresses (env PARLEY_WEBHOOK_ALLOW_PRIVATE)")
	poll, err := time.ParseDuration(env("PARLEY_IMAP_POLL_INTERVAL", "1m"))
	if err != nil || poll <= 0 {
		return nil, fmt.Errorf("PARLEY_IMAP_POLL_INTERVAL must be a positive duration such as 30s")
	}
	fs.DurationVar(&c.IMAPPollInterval, "imap-poll-interval", poll, "how often a connected mailbox's folder is looked at when its server offers no IDLE (env PARLEY_IMAP_POLL_INTERVAL)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", env("PARLEY_METRICS_LISTEN", ""), "address of a listener of its own for the Prometheus metrics (GET /metrics), e.g. 127.0.0.1:9090; empty: none (env PARLEY_METRICS_LISTEN)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("PARLEY_METRICS_TOKEN", ""), "serve GET /metrics on the main listener to clients that send this Bearer token (at least 16 characters); prefer the environment variable; empty: /metrics there is 404 (env PARLEY_METRICS_TOKEN)")
	fs.StringVar(&c.BackupDir, "backup-dir", env("PARLEY_BACKUP_DIR", ""), "write a backup archive into this directory every --backup-every; empty: no scheduled backups (env PARLEY_BACKUP_DIR)")
	every, err := time.ParseDuration(env("PARLEY_BACKUP_EVERY", "24h"))
	if err != nil || every <= 0 {
		return nil, fmt.Errorf("PARLEY_BACKUP_EVERY must be a positive duration such as 6h")
	}
	fs.DurationVar(&c.BackupEvery, "backup-every", every, "how often a scheduled backup is written (env PARLEY_BACKUP_EVERY)")
	keep, err := strconv.Atoi(env("PARLEY_BACKUP_KEEP", "7"))
	if err != nil || keep < 1 {
		return nil, fmt.Errorf("PARLEY_BACKUP_KEEP must be a whole number of at least 1")
	}
	fs.IntVar(&c.BackupKeep, "backup-keep", keep, "how many scheduled backups to keep; older ones are deleted (env PARLEY_BACKUP_KEEP)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("PARLEY_TLS_CERT", ""), "serve HTTPS with this certificate chain (PEM file); with --tls-key (env PARLEY_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("PARLEY_TLS_KEY", ""), "the private key (PEM file) of --tls-cert (env PARLEY_TLS_KEY)")
	acmeOn, err := boolEnv("PARLEY_ACME")
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&c.ACME, "acme", acmeOn, "serve HTTPS with certificates obtained automatically by ACME (Let's Encrypt) for the host of --base-url, which must be https://; they are kept in the data directory's acme folder (env PARLEY_ACME)")
	fs.StringVar(&c.ACMEEmail, "acme-email", env("PARLEY_ACME_EMAIL", ""), "contact address given to the ACME certificate authority, for expiry and problem notices (env PARLEY_ACME_EMAIL)")
	fs.StringVar(&c.ACMEDirectory, "acme-directory", env("PARLEY_ACME_DIRECTORY", ""), "directory URL of another ACME certificate authority, e.g. Let's Encrypt's staging; empty: Let's Encrypt (env PARLEY_ACME_DIRECTORY)")
	fs.StringVar(&c.HTTPRedirectListen, "http-redirect-listen", env("PARLEY_HTTP_REDIRECT_LISTEN", ""), "address of a plain-HTTP listener, e.g. :80, that redirects to the HTTPS base URL and answers ACME's HTTP challenges; empty: none (env PARLEY_HTTP_REDIRECT_LISTEN)")
	fs.BoolVar(&c.Version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := checkMetricsToken(c.MetricsToken); err != nil {
		return nil, err
	}
	if c.BackupEvery <= 0 {
		return nil, fmt.Errorf("--backup-every must be positive")
	}
	if c.GCHeadroom < 0 {
		return nil, fmt.Errorf("--gc-headroom must be a whole number of MiB, 0 for Go's default")
	}
	if c.BackupKeep < 1 {
		return nil, fmt.Errorf("--backup-keep must be at least 1")
	}
	if c.IMAPPollInterval <= 0 {
		return nil, fmt.Errorf("--imap-poll-interval must be positive")
	}
	if _, err := parseSecretKey(c.SecretKey); err != nil {
		return nil, err
	}
	if _, err := server.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.MessageRate <= 0 {
		return nil, fmt.Errorf("--message-rate must be positive")
	}
	for _, l := range limits {
		if *l.p < 0 {
			return nil, fmt.Errorf("--%s must be a whole number, 0 for no limit", l.flag)
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c.AdminEmail, c.AdminPassword = getenv("PARLEY_ADMIN_EMAIL"), getenv("PARLEY_ADMIN_PASSWORD")
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if err := checkTLSConfig(c); err != nil {
		return nil, err
	}
	return c, nil
}

// perIPLimit maps a per-address limit flag to server.Config, where 0
// means the default: the flag's 0 (no limit) is negative there.
func perIPLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func newLogger(c *config, w io.Writer) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(c.LogLevel)
	if err != nil || c.LogLevel == "" {
		return zerolog.Logger{}, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	case "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
			}
		}
	default:
		return zerolog.Logger{}, fmt.Errorf("log format %q: want json, console or auto", c.LogFormat)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

// run is the whole program; main only adds the process's signals, args and
// environment, so tests can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	build := readBuild()
	if len(args) > 0 && args[0] == "version" {
		if len(args) > 1 {
			return fmt.Errorf("version takes no arguments")
		}
		fmt.Fprintln(stdout, build)
		return nil
	}
	if len(args) > 0 {
		switch args[0] {
		case "backup":
			return runBackup(ctx, args[1:], getenv, stdout, stderr)
		case "restore":
			return runRestore(args[1:], stdout, stderr)
		case "compact":
			return runCompact(args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, args[1:], getenv, stdout, stderr)
		case "loadtest":
			return runLoadtest(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	c, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if c.Version {
		fmt.Fprintln(stdout, build)
		return nil
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	if c.GCHeadroom > 0 && getenv("GOGC") == "" {
		g := &gcHeadroom{headroom: uint64(c.GCHeadroom) << 20}
		gcCtx, stopGC := context.WithCancel(ctx)
		defer stopGC()
		go g.run(gcCtx, time.Second)
	}
	// Metrics cost nothing unless asked for: without them every hook
	// stays nil.
	var met *metrics.Metrics
	if c.MetricsListen != "" || c.MetricsToken != "" {
		met = metrics.New(&metrics.Options{Build: build, Logger: log})
	}
	themes, err := newThemes(c, log, met)
	if err != nil {
		return err
	}
	defer themes.Close()
	dataDir, _ := filepath.Abs(c.Data)
	tlsCfg, acmeMgr, err := newTLS(c, dataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	scheme := "http://"
	if tlsCfg != nil {
		scheme = "https://"
		ln = tls.NewListener(ln, tlsCfg)
	}
	if c.BaseURL == "" {
		c.BaseURL = scheme + ln.Addr().String()
	}
	var redirectLn net.Listener
	if c.HTTPRedirectListen != "" {
		if redirectLn, err = net.Listen("tcp", c.HTTPRedirectListen); err != nil {
			return fmt.Errorf("--http-redirect-listen: %w", err)
		}
		defer redirectLn.Close()
	}

	var sopts store.Options
	if met != nil {
		sopts.ObserveCommit = met.ObserveCommit
	}
	// Once per burst of failed commits, not once per refused write
	// (docs/operations.md, "When the disk fills").
	sopts.ObserveStorage = func(err error, refused int) {
		if err != nil {
			log.Error().Err(err).Str("data", dataDir).Msg("storage failing: writes are refused until the disk has room and works again")
		} else {
			log.Warn().Int("refused", refused).Msg("storage works again")
		}
	}
	// An upgrade to schema version 13 converts the messages before Parley
	// serves, 15 to 30s per million: say why the start waits, and how far
	// it has come.
	var convertStart time.Time
	const convertReport = 250_000
	nextReport := convertReport
	sopts.ObserveConversion = func(converted int, done bool) {
		if convertStart.IsZero() {
			convertStart = time.Now()
			log.Info().Str("data", dataDir).Msg("converting the messages to the form of schema version 13 before serving (15 to 30s per million; if stopped, it goes on at the next start)")
		}
		switch {
		case done:
			log.Info().Int("messages", converted).Dur("took", time.Since(convertStart)).Msg("messages converted")
		case converted >= nextReport:
			log.Info().Int("messages", converted).Msg("converting messages")
			nextReport = converted + convertReport
		}
	}
	db, err := store.Open(dataDir, &sopts)
	if err != nil {
		return err
	}
	defer db.Close()

	first, err := bootstrap(ctx, db, c, log)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	assets, err := widget.Load()
	if err != nil {
		return err
	}
	proxies, _ := server.ParseTrustedProxies(c.TrustedProxies) // checked by parseConfig
	scfg := server.Config{BaseURL: c.BaseURL, Logger: log, MessageRate: c.MessageRate, MessageBurst: 3 * c.MessageRate, Themes: themes,
		TrustedProxies:        proxies,
		VisitorConnsPerIP:     perIPLimit(c.VisitorConnsPerIP),
		NewVisitorsPerIP:      perIPLimit(c.NewVisitorsPerIP),
		NewConversationsPerIP: perIPLimit(c.NewConversationsPerIP),
		Version:               build.Version}
	// Files' bytes live beside the database, in the data directory.
	blobs, err := blob.Open(filepath.Join(dataDir, filesDir), nil)
	if err != nil {
		return err
	}
	acfg := app.Config{BaseURL: c.BaseURL, Logger: log, Blobs: blobs}
	writeBackup := func(ctx context.Context, w io.Writer) error {
		return db.Backup(func(s *store.Snapshot) error {
			_, err := writeArchive(ctx, w, s, filepath.Join(dataDir, filesDir), build.Version, time.Now())
			return err
		})
	}
	scfg.Backup = writeBackup
	scfg.CheckStorage = db.CheckStorage
	if met != nil {
		acfg.CountMessage, acfg.MailSent = met.CountMessage, met.MailSent
		acfg.WebhookFailed = met.Webhooks(db.WebhookQueueLen)
		scfg.ObserveRequest = met.ObserveRequest
		if c.MetricsToken != "" {
			scfg.Metrics, scfg.MetricsToken = met.Handler(), c.MetricsToken
		}
	}
	smtpLn, err := mailConfig(c, &scfg, &acfg, log)
	if err != nil {
		return err
	}
	if smtpLn != nil {
		defer smtpLn.Close()
	}
	h := hub.New(nil)
	defer h.Close()
	presence := hub.NewPresence()
	a := app.New(acfg, db, presence)
	srv := server.New(scfg, a, db, h, presence, assets)
	var metricsSrv *http.Server
	if met != nil {
		watch(met, srv, h, db)
		if metricsSrv, err = serveMetrics(c, met, log); err != nil {
			srv.Close()
			a.Close()
			return err
		}
		if c.MetricsToken != "" {
			log.Info().Msg("serving metrics at /metrics of the main listener to holders of the metrics token")
		}
	}
	a.Start()
	backupsDone := make(chan struct{})
	if c.BackupDir != "" {
		if err := os.MkdirAll(c.BackupDir, 0o700); err != nil {
			srv.Close()
			a.Close()
			return fmt.Errorf("--backup-dir: %w", err)
		}
		sched := &backupSchedule{dir: c.BackupDir, every: c.BackupEvery, keep: c.BackupKeep, log: log,
			write: func(w io.Writer) error { return writeBackup(ctx, w) }}
		go sched.run(ctx, backupsDone)
		log.Info().Str("dir", c.BackupDir).Dur("every", c.BackupEvery).Int("keep", c.BackupKeep).Msg("scheduled backups")
	} else {
		close(backupsDone)
	}
	var receiver *mail.Receiver
	receiverDone := make(chan error, 1)
	if smtpLn != nil {
		receiver, err = mail.NewReceiver(mail.ReceiverOptions{
			Domain:    domainOf(c.MailFrom, c.BaseURL),
			Recipient: a.MailRecipient,
			Deliver:   a.DeliverMail,
			ErrorLog:  func(msg string, err error) { log.Warn().Err(err).Msg(msg) },
		})
		if err != nil {
			srv.Close()
			a.Close()
			return err
		}
		go func() { receiverDone <- receiver.Serve(smtpLn) }()
		log.Info().Str("addr", smtpLn.Addr().String()).Msg("receiving mail")
	}
	httpSrv := srv.HTTPServer()
	if tlsCfg != nil {
		httpSrv.Handler = withHSTS(httpSrv.Handler)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	var redirectSrv *http.Server
	if redirectLn != nil {
		redirectSrv = redirectServer(c.BaseURL, acmeMgr)
		go func() {
			if err := redirectSrv.Serve(redirectLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error().Err(err).Msg("HTTP redirect listener")
			}
		}()
		log.Info().Str("addr", redirectLn.Addr().String()).Str("to", c.BaseURL).Msg("redirecting plain HTTP to HTTPS")
	}
	if acmeMgr != nil {
		log.Info().Str("host", hostOf(c.BaseURL)).Str("cache", filepath.Join(dataDir, acmeCacheDir)).Msg("certificates by ACME")
	}
	log.Info().Str("addr", ln.Addr().String()).Str("baseURL", c.BaseURL).Str("data", dataDir).Bool("tls", tlsCfg != nil).Msg("listening")
	first.banner(log, c.BaseURL)

	select {
	case err := <-serveErr:
		if metricsSrv != nil {
			_ = metricsSrv.Close()
		}
		if redirectSrv != nil {
			_ = redirectSrv.Close()
		}
		srv.Close()
		a.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- httpSrv.Shutdown(shutCtx) }()
	if receiver != nil {
		if err := receiver.Shutdown(shutCtx); err != nil {
			log.Warn().Err(err).Msg("stop mail receiver")
		}
		if err := <-receiverDone; err != nil {
			log.Warn().Err(err).Msg("mail receiver")
		}
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutCtx); err != nil {
			log.Warn().Err(err).Msg("stop metrics listener")
		}
	}
	if redirectSrv != nil {
		if err := redirectSrv.Shutdown(shutCtx); err != nil {
			log.Warn().Err(err).Msg("stop HTTP redirect listener")
		}
	}
	srv.Close() // WebSockets end with "going away"; hijacked, so Shutdown doesn't wait for them
	a.Close()   // the outbox, routing, live pushes and the bots' sweeper stop
	<-backupsDone
	if err := <-done; err != nil {
		log.Warn().Err(err).Msg("shutdown")
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// newThemes sets up the widget themes' compiler. A Dart Sass named with
// --sass must work; without --sass, one is looked for, and if none is found
// Parley runs with the precompiled default theme and its fallbacks, saying
// once what to install.
func newThemes(c *config, log zerolog.Logger, met *metrics.Metrics) (*widget.Themes, error) {
	var compiled func(time.Duration, error)
	if met != nil {
		compiled = met.ThemeCompiled
	}
	path := c.Sass
	if path != "" {
		if _, err := widget.SassVersion(path); err != nil {
			return nil, fmt.Errorf("--sass: %w", err)
		}
	} else {
		var dirs []string
		if wd, err := os.Getwd(); err == nil {
			dirs = append(dirs, wd)
		}
		if exe, err := os.Executable(); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
		var err error
		if path, err = widget.FindSass(dirs...); err != nil {
			log.Warn().Err(err).Msg("Dart Sass is missing: widgets with their own appearance get an approximate theme until it is installed")
			return widget.NewThemes(&widget.ThemeOptions{NoSass: true, Compiled: compiled}), nil
		}
	}
	v, _ := widget.SassVersion(path)
	log.Info().Str("sass", path).Str("version", v).Msg("widget themes compile with Dart Sass")
	warn := func(msg string, deprecation bool) {
		ev := log.Warn()
		if deprecation {
			ev = log.Debug() // for whoever changes theme.scss, not for whoever runs Parley
		}
		ev.Str("sass", msg).Msg("dart sass reported a problem with the widget theme")
	}
	return widget.NewThemes(&widget.ThemeOptions{Sass: path, Compiled: compiled, Warn: warn}), nil
}

// firstRun is what a start found to tell whoever started Parley: nothing
// for a data directory that has users already; else the admin it created
// from the environment, or the one-time setup link.
type firstRun struct {
	adminEmail string // created from PARLEY_ADMIN_EMAIL
	setupURL   string // no users: the one-time setup link
}

// The first-start banners' messages.
const (
	firstRunSetupMessage = "first start: open the setup link in a browser to create the first admin and begin"
	firstRunAdminMessage = "first start: open this URL in a browser and sign in to begin"
)

// banner logs, at info once Parley listens, where to begin after a first
// start: the URL to open and, without an admin yet, the setup link.
func (f firstRun) banner(log zerolog.Logger, baseURL string) {
	switch {
	case f.setupURL != "":
		log.Info().Str("url", baseURL+"/").Str("setupLink", f.setupURL).Msg(firstRunSetupMessage)
	case f.adminEmail != "":
		log.Info().Str("url", baseURL+"/").Str("email", f.adminEmail).Msg(firstRunAdminMessage)
	}
}

// bootstrap gives a fresh data directory what a first start needs: a default
// inbox, a default chat widget, and the first admin (from the environment, or
// a one-time setup link that the banner shows).
func bootstrap(ctx context.Context, db *store.DB, c *config, log zerolog.Logger) (firstRun, error) {
	now := time.Now().UTC()
	inboxes, err := db.Inboxes(ctx)
	if err != nil {
		return firstRun{}, err
	}
	if len(inboxes) == 0 {
		in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateInbox(ctx, in); err != nil {
			return firstRun{}, err
		}
		inboxes = append(inboxes, in)
		log.Info().Uint64("inboxId", in.ID).Msg("created the default inbox")
	}
	widgets, err := db.Widgets(ctx)
	if err != nil {
		return firstRun{}, err
	}
	if len(widgets) == 0 {
		w := parley.DefaultWidget(inboxes[0].ID)
		w.CreatedAt, w.UpdatedAt = now, now
		if err := db.CreateWidget(ctx, w); err != nil {
			return firstRun{}, err
		}
		log.Info().Uint64("widgetId", w.ID).Msg("created the default chat widget")
	}
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return firstRun{}, err
	}
	if c.AdminEmail != "" && c.AdminPassword != "" {
		u, err := server.CreateAdmin(ctx, db, c.AdminEmail, "", c.AdminPassword, now)
		if err != nil {
			return firstRun{}, fmt.Errorf("PARLEY_ADMIN_EMAIL/PARLEY_ADMIN_PASSWORD: %w", err)
		}
		log.Info().Str("email", u.Email).Msg("created the first admin")
		return firstRun{adminEmail: u.Email}, nil
	}
	token, err := server.NewSetupToken(ctx, db)
	if err != nil {
		return firstRun{}, err
	}
	return firstRun{setupURL: c.BaseURL + "/setup?token=" + token}, nil
}

// mailConfig sets up email from the configuration: the outbound Sender and
// sender address in acfg, the inbound address in cfg, and the inbound
// receiver's listener (nil when
// PARLEY_SMTP_LISTEN is empty). Without PARLEY_SMTP_URL Parley runs without
// outbound mail.
func mailConfig(c *config, cfg *server.Config, acfg *app.Config, log zerolog.Logger) (net.Listener, error) {
	if c.MailFrom != "" {
		from, err := parley.NormalizeEmail(c.MailFrom)
		if err != nil {
			return nil, fmt.Errorf("PARLEY_MAIL_FROM: %s", parley.ErrorMessage(err))
		}
		acfg.MailFrom = from
	}
	if c.SMTPURL != "" {
		sender, err := mail.NewSender(c.SMTPURL, &mail.SenderOptions{Blobs: acfg.Blobs}) // acfg.Blobs is set by now
		if err != nil {
			return nil, fmt.Errorf("PARLEY_SMTP_URL: %w", err)
		}
		acfg.Mailer = sender
		if acfg.MailFrom == "" {
			log.Warn().Msg("PARLEY_MAIL_FROM is not set: replies to email threads are sent, but no notifications or transcripts")
		}
		log.Info().Str("server", sender.String()).Msg("sending mail")
	}
	key, err := parseSecretKey(c.SecretKey)
	if err != nil {
		return nil, err
	}
	acfg.SecretKey = key
	acfg.Accounts = mail.NewAccounts(&mail.AccountOptions{AllowPrivate: c.AllowPrivateHosts, AllowInsecure: c.MailAllowInsecure, Blobs: acfg.Blobs})
	acfg.MailboxPoll = c.IMAPPollInterval
	acfg.WebhookAllowPrivate = c.WebhookAllowPriv
	if key == nil {
		log.Info().Msg("PARLEY_SECRET_KEY is not set: mailboxes cannot be connected")
	}
	if c.SMTPListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.SMTPListen)
	if err != nil {
		return nil, fmt.Errorf("smtp listen: %w", err)
	}
	cfg.MailListen = ln.Addr().String()
	return ln, nil
}

// parseSecretKey reads PARLEY_SECRET_KEY: 32 bytes as 64 hex digits or in
// base64 (standard or URL alphabet, padded or not); "" is no key.
func parseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("PARLEY_SECRET_KEY (--secret-key) must be 32 bytes as 64 hex digits or base64, e.g. from openssl rand -hex 32")
}

// domainOf is the name the SMTP receiver greets with: the domain of the
// mail sender, or the host of the base URL.
func domainOf(mailFrom, baseURL string) string {
	if i := strings.LastIndexByte(mailFrom, '@'); i >= 0 {
		return mailFrom[i+1:]
	}
	if h := hostOf(baseURL); h != "" {
		return h
	}
	return "localhost"
}

// hostOf is the host name of a URL, "" if it has none.
func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Hostname()
	}
	return ""
}
