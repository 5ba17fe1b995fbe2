package app

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// Connected mailboxes (E1): a mailbox of an inbox connected to an existing
// mail account. Each has a goroutine of its own that imports new mail from
// the account's IMAP folder into the inbox, through the same path as mail
// that the SMTP receiver takes (receiveMail), and replies from its address
// leave through the account's SMTP server, by the outbox, and are stored
// in its Sent folder.
//
// Imported once: per mailbox the app keeps the folder's UIDVALIDITY and
// the highest UID it has dealt with (MetaStore, mailboxSyncKey), written
// after each message is stored; a message stored whose UID was not yet
// written (a crash between the two) is stored again and recognised by its
// Message-ID, which an inbox stores once. When the folder's UIDVALIDITY
// changes, its UIDs mean nothing any more: the mail the server received
// since the connection is read again and only what no Message-ID matches
// is stored.

// Defaults of connected mailboxes.
const (
	defaultMailboxPoll     = time.Minute     // servers without IDLE
	mailboxRecheck         = 5 * time.Minute // an IDLE is interrupted to see the connection is alive
	defaultMailboxRetryMax = 5 * time.Minute // reconnect backoff, doubling from a second
	sentAppendAttempts     = 3
)

// States of a connected mailbox (MailboxState.Status).
const (
	MailboxConnecting = "connecting" // logging in, or waiting to try again
	MailboxConnected  = "connected"  // logged in, watching the folder
	MailboxFailing    = "error"      // the last attempt failed: see Error
)

// MailboxState is how the connection of a connected mailbox is doing, as
// this process sees it.
type MailboxState struct {
	Status string `json:"status"`
	// Error is the last failure, and ErrorKind its kind (a
	// parley.MailServerError kind, or "key" when the stored password
	// cannot be decrypted), while Status is "error" or "connecting".
	Error     string    `json:"error,omitempty"`
	ErrorKind string    `json:"errorKind,omitempty"`
	Since     time.Time `json:"since"`
	// Idle is whether the server offers IDLE (else it is polled).
	Idle bool `json:"idle"`
	// LastCheckAt is when the folder was last looked at, LastImportAt when
	// a message was last imported.
	LastCheckAt  time.Time `json:"lastCheckAt,omitzero"`
	LastImportAt time.Time `json:"lastImportAt,omitzero"`
}

// mailboxSync is what the app keeps per connected mailbox: the folder's
// UIDVALIDITY and the highest UID dealt with.
type mailboxSync struct {
	UIDValidity uint32 `json:"uidValidity"`
	LastUID     uint32 `json:"lastUid"`
	// Account names the account and folder the UIDs belong to.
	Account string `json:"account"`
}

func mailboxSyncKey(id uint64) string { return "mailbox.sync." + strconv.FormatUint(id, 10) }

func syncAccount(c *parley.MailConnection) string {
	return strings.ToLower(c.IMAP.Host) + ":" + strconv.Itoa(c.IMAP.Port) + "/" + c.IMAP.Username + "/" + c.ImportFolder()
}

// mailboxWorkers are the goroutines of the connected mailboxes.
type mailboxWorkers struct {
	kick chan struct{}

	mu      sync.Mutex
	running map[uint64]*mailboxWorker
	states  map[uint64]MailboxState
}

type mailboxWorker struct {
	key    string
	cancel context.CancelFunc
	done   chan struct{}
}

func (a *App) initMailboxes() {
	a.boxes.kick = make(chan struct{}, 1)
	a.boxes.running = map[uint64]*mailboxWorker{}
	a.boxes.states = map[uint64]MailboxState{}
}

// KickMailboxes makes the app look at the inboxes' connected mailboxes
// again: call it after an inbox's addresses changed or it was deleted.
func (a *App) KickMailboxes() {
	select {
	case a.boxes.kick <- struct{}{}:
	default:
	}
}

// MailboxState returns the state of connected mailbox id, and false if it
// has none (not connected, or not yet looked at).
func (a *App) MailboxState(id uint64) (MailboxState, bool) {
	a.boxes.mu.Lock()
	defer a.boxes.mu.Unlock()
	st, ok := a.boxes.states[id]
	return st, ok
}

func (a *App) setMailboxState(id uint64, fn func(*MailboxState)) {
	a.boxes.mu.Lock()
	defer a.boxes.mu.Unlock()
	st, ok := a.boxes.states[id]
	if !ok {
		st = MailboxState{Status: MailboxConnecting, Since: a.Now()}
	}
	old := st.Status
	fn(&st)
	if st.Status != old {
		st.Since = a.Now()
	}
	a.boxes.states[id] = st
}

// startMailboxes starts the goroutine that runs one goroutine per connected
// mailbox, when mailboxes can be connected (Config.Accounts).
func (a *App) startMailboxes() {
	if a.cfg.Accounts == nil {
		return
	}
	a.wg.Add(1)
	go a.runMailboxes()
}

// runMailboxes keeps one worker running per connected mailbox: at start,
// when kicked and every minute, it starts the workers of new or changed
// connections and stops those of connections gone.
func (a *App) runMailboxes() {
	defer a.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		a.reconcileMailboxes()
		select {
		case <-a.ctx.Done():
			a.boxes.mu.Lock()
			ws := a.boxes.running
			a.boxes.running = map[uint64]*mailboxWorker{}
			a.boxes.mu.Unlock()
			for _, w := range ws {
				w.cancel()
				<-w.done
			}
			return
		case <-a.boxes.kick:
		case <-t.C:
		}
	}
}

func (a *App) reconcileMailboxes() {
	inboxes, err := a.db.Inboxes(a.ctx)
	if err != nil {
		if a.ctx.Err() == nil {
			a.log.Error().Err(err).Msg("connected mailboxes: read inboxes")
		}
		return
	}
	type wanted struct {
		inboxID uint64
		mb      parley.Mailbox
		key     string
	}
	want := map[uint64]wanted{}
	for _, in := range inboxes {
		for _, mb := range in.Mailboxes {
			if mb.Connection == nil {
				continue
			}
			b, _ := json.Marshal(mb.Connection)
			want[mb.ID] = wanted{in.ID, mb, strconv.FormatUint(in.ID, 10) + "/" + mb.Address + "/" + string(b)}
		}
	}
	// Workers of connections gone or changed stop first, outside the lock
	// (they set their state under it), and are waited for, so that no two
	// run for one mailbox and none writes a state after it is gone.
	var stop []*mailboxWorker
	a.boxes.mu.Lock()
	for id, w := range a.boxes.running {
		if wt, ok := want[id]; !ok || wt.key != w.key {
			stop = append(stop, w)
			delete(a.boxes.running, id)
		}
	}
	a.boxes.mu.Unlock()
	for _, w := range stop {
		w.cancel()
		<-w.done
	}
	a.boxes.mu.Lock()
	defer a.boxes.mu.Unlock()
	for id := range a.boxes.states {
		if _, ok := a.boxes.running[id]; !ok {
			delete(a.boxes.states, id)
		}
	}
	for id, wt := range want {
		if a.boxes.running[id] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(a.ctx)
		w := &mailboxWorker{key: wt.key, cancel: cancel, done: make(chan struct{})}
		a.boxes.running[id] = w
		a.boxes.states[id] = MailboxState{Status: MailboxConnecting, Since: a.Now()}
		go func(inboxID uint64, mb parley.Mailbox) {
			defer close(w.done)
			a.runMailbox(ctx, inboxID, mb)
		}(wt.inboxID, wt.mb)
	}
}

// runMailbox imports the mail of connected mailbox mb until ctx ends,
// reconnecting with backoff after failures.
func (a *App) runMailbox(ctx context.Context, inboxID uint64, mb parley.Mailbox) {
	backoff := time.Second
	for {
		connected, err := a.syncMailbox(ctx, inboxID, mb)
		if ctx.Err() != nil {
			return
		}
		kind := "protocol"
		var mse *parley.MailServerError
		if errors.As(err, &mse) {
			kind = mse.Kind
		} else if errors.Is(err, errSecretKey) {
			kind = "key"
		}
		msg := limitString(errMessage(err), 500)
		a.setMailboxState(mb.ID, func(st *MailboxState) { st.Status, st.Error, st.ErrorKind = MailboxFailing, msg, kind })
		if connected {
			backoff = time.Second
		}
		ev := a.log.Warn()
		if kind == "key" {
			ev = a.log.Error() // no retry helps: the operator must act
		}
		ev.Uint64("mailboxId", mb.ID).Str("address", mb.Address).Str("error", msg).Dur("retryIn", backoff).Msg("connected mailbox")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, a.cfg.MailboxRetryMax)
	}
}

func errMessage(err error) string {
	var mse *parley.MailServerError
	if errors.As(err, &mse) {
		return mse.Error()
	}
	if c := parley.ErrorCode(err); c != parley.EINTERNAL {
		return parley.ErrorMessage(err)
	}
	return err.Error()
}

// syncMailbox connects once and imports until the connection fails or ctx
// ends; connected reports whether it got as far as watching the folder.
func (a *App) syncMailbox(ctx context.Context, inboxID uint64, mb parley.Mailbox) (connected bool, err error) {
	conn := mb.Connection
	pass, err := a.openSecret(mb.ID, "imap", conn.IMAP.Password)
	if err != nil {
		return false, err
	}
	c, err := a.cfg.Accounts.DialIMAP(ctx, conn.IMAP, pass)
	if err != nil {
		return false, err
	}
	defer c.Close()
	folder := conn.ImportFolder()
	uv, next, err := c.Select(folder)
	if err != nil {
		return false, err
	}
	st, err := a.loadMailboxSync(ctx, mb.ID)
	if err != nil {
		return false, err
	}
	switch {
	case st == nil || st.Account != syncAccount(conn):
		// No baseline (ConnectMailbox writes one): start from now.
		st = &mailboxSync{UIDValidity: uv, LastUID: next - 1, Account: syncAccount(conn)}
		if err := a.saveMailboxSync(ctx, mb.ID, st); err != nil {
			return false, err
		}
	case st.UIDValidity != uv:
		a.log.Warn().Uint64("mailboxId", mb.ID).Uint32("old", st.UIDValidity).Uint32("new", uv).Msg("connected mailbox: the folder's UIDVALIDITY changed; reading the mail since the connection again, stored once by Message-ID")
		uids, err := c.UIDsSince(conn.ConnectedAt)
		if err != nil {
			return false, err
		}
		for _, uid := range uids {
			if err := a.importUID(ctx, c, inboxID, mb, uid); err != nil {
				return false, err
			}
		}
		st = &mailboxSync{UIDValidity: uv, LastUID: next - 1, Account: syncAccount(conn)}
		if len(uids) > 0 && uids[len(uids)-1] > st.LastUID {
			st.LastUID = uids[len(uids)-1]
		}
		if err := a.saveMailboxSync(ctx, mb.ID, st); err != nil {
			return false, err
		}
	}
	idle := c.CanIdle()
	a.setMailboxState(mb.ID, func(s *MailboxState) {
		s.Status, s.Error, s.ErrorKind, s.Idle = MailboxConnected, "", "", idle
	})
	a.log.Info().Uint64("mailboxId", mb.ID).Str("address", mb.Address).Bool("idle", idle).Msg("connected mailbox: watching " + folder)
	for {
		uids, err := c.UIDsAfter(st.LastUID)
		if err != nil {
			return true, err
		}
		for _, uid := range uids {
			if err := a.importUID(ctx, c, inboxID, mb, uid); err != nil {
				return true, err
			}
			st.LastUID = uid
			if err := a.saveMailboxSync(ctx, mb.ID, st); err != nil {
				return true, err
			}
		}
		a.setMailboxState(mb.ID, func(s *MailboxState) { s.LastCheckAt = a.Now() })
		if err := c.Wait(ctx, a.cfg.MailboxPoll, mailboxRecheck); err != nil {
			return true, err
		}
	}
}

// importUID imports message uid. A message that cannot be imported for
// good (too large, malformed, gone, refused as mail is) is skipped with a
// log line; an error returned means the connection or the store failed and
// the message is to be tried again.
func (a *App) importUID(ctx context.Context, c parley.IMAPSession, inboxID uint64, mb parley.Mailbox, uid uint32) error {
	e, err := c.Fetch(uid)
	switch parley.ErrorCode(err) {
	case "":
	case parley.ETOOLARGE, parley.EINVALID, parley.ENOTFOUND:
		a.log.Warn().Uint64("mailboxId", mb.ID).Uint32("uid", uid).Str("reason", parley.ErrorMessage(err)).Msg("connected mailbox: message skipped")
		return nil
	default:
		return err
	}
	auto := a.automaticMail(ctx, e)
	err = a.receiveMail(ctx, inboxID, mb.ID, e, auto != "")
	switch parley.ErrorCode(err) {
	case "":
		a.setMailboxState(mb.ID, func(s *MailboxState) { s.LastImportAt = a.Now() })
		if auto != "" {
			a.log.Info().Str("from", e.From.Email).Str("messageId", e.MessageID).Str("reason", auto).Msg("automatic mail: stored, not answered")
		}
		return nil
	case parley.ERATELIMIT, parley.EINVALID, parley.ETOOLARGE:
		// The sender's limit protects from floods and loops: what it stops
		// stays in the mailbox, for the team's mail client.
		a.log.Warn().Uint64("mailboxId", mb.ID).Uint32("uid", uid).Str("from", e.From.Email).Str("reason", parley.ErrorMessage(err)).Msg("connected mailbox: message not imported")
		return nil
	}
	return err
}

func (a *App) loadMailboxSync(ctx context.Context, id uint64) (*mailboxSync, error) {
	b, err := a.db.Meta(ctx, mailboxSyncKey(id))
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var st mailboxSync
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil // unreadable: start from now
	}
	return &st, nil
}

func (a *App) saveMailboxSync(ctx context.Context, id uint64, st *mailboxSync) error {
	b, _ := json.Marshal(st)
	// The sync state is bookkeeping: the audit log's entry belongs to the
	// connection's own write.
	return a.db.SetMeta(parley.WithoutAudit(ctx), mailboxSyncKey(id), b)
}

// ----- passwords -----

// errSecretKey is why a stored password cannot be used.
var errSecretKey = errors.New("secret key")

// sealSecret encrypts the password of mailbox id's server which ("imap",
// "smtp") with the secret key (AES-256-GCM; the mailbox and server are
// authenticated with it, so a sealed password cannot be moved to another).
func (a *App) sealSecret(id uint64, which, plain string) (string, error) {
	aead, err := a.secretAEAD()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, []byte(plain), secretAD(id, which))
	return "v1." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// openSecret decrypts what sealSecret sealed; errSecretKey when there is
// no key or it is not the key the password was sealed with.
func (a *App) openSecret(id uint64, which, sealed string) (string, error) {
	aead, err := a.secretAEAD()
	if err != nil {
		return "", err
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1."))
	if err != nil || !strings.HasPrefix(sealed, "v1.") || len(b) < aead.NonceSize() {
		return "", fmt.Errorf("the stored %s password is damaged: connect the mailbox again (%w)", which, errSecretKey)
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], secretAD(id, which))
	if err != nil {
		return "", fmt.Errorf("the stored %s password cannot be decrypted: PARLEY_SECRET_KEY is not the key it was stored with (%w)", which, errSecretKey)
	}
	return string(plain), nil
}

func (a *App) secretAEAD() (cipher.AEAD, error) {
	if len(a.cfg.SecretKey) == 0 {
		return nil, fmt.Errorf("no secret key is configured: set PARLEY_SECRET_KEY (--secret-key) to 32 random bytes, hex or base64 (%w)", errSecretKey)
	}
	block, err := aes.NewCipher(a.cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("the secret key must be 32 bytes (%w)", errSecretKey)
	}
	return cipher.NewGCM(block)
}

func secretAD(id uint64, which string) []byte {
	return []byte("parley mailbox password v1\x00" + strconv.FormatUint(id, 10) + "\x00" + which)
}

// ----- connecting -----

// MailServerInput is one server of a connection as an admin enters it.
// A nil Password keeps the stored one.
type MailServerInput struct {
	Host     string
	Port     int
	TLS      string
	Username string
	Password *string
}

// MailConnectionInput is a connection as an admin enters it.
type MailConnectionInput struct {
	IMAP, SMTP         MailServerInput
	Folder, SentFolder string
}

// MailCheck is how one server of a connection answered a test.
type MailCheck struct {
	OK    bool   `json:"ok"`
	Kind  string `json:"kind,omitempty"`  // a parley.MailServerError kind when not OK
	Error string `json:"error,omitempty"` // why not, never holding a password
	// IMAP only: whether it offers IDLE, and the folder sent mail goes to.
	Idle       bool   `json:"idle,omitempty"`
	SentFolder string `json:"sentFolder,omitempty"`
}

// MailTest is the outcome of testing a connection.
type MailTest struct {
	IMAP MailCheck `json:"imap"`
	SMTP MailCheck `json:"smtp"`
	// baseline of the import folder, for ConnectMailbox.
	uidValidity, uidNext uint32
}

// OK reports whether both servers passed.
func (t *MailTest) OK() bool { return t.IMAP.OK && t.SMTP.OK }

// prepareConnection checks in against mailbox mailboxID of inbox inboxID and
// returns the connection with its passwords in plain text (the stored
// ones where in leaves them out). ENOTFOUND for an unknown inbox or
// mailbox, EINVALID for bad settings.
func (a *App) prepareConnection(ctx context.Context, inboxID, mailboxID uint64, in MailConnectionInput) (*parley.MailConnection, string, string, error) {
	if a.cfg.Accounts == nil {
		return nil, "", "", parley.Errorf(parley.EUNAVAILABLE, "connected mailboxes are not available on this Parley")
	}
	inbox, err := a.db.Inbox(ctx, inboxID)
	if err != nil {
		return nil, "", "", err
	}
	mb := inbox.MailboxByID(mailboxID)
	if mb == nil {
		return nil, "", "", parley.Errorf(parley.ENOTFOUND, "inbox %d has no email address %d", inboxID, mailboxID)
	}
	c := &parley.MailConnection{
		IMAP:   parley.MailServer{Host: in.IMAP.Host, Port: in.IMAP.Port, TLS: in.IMAP.TLS, Username: in.IMAP.Username},
		SMTP:   parley.MailServer{Host: in.SMTP.Host, Port: in.SMTP.Port, TLS: in.SMTP.TLS, Username: in.SMTP.Username},
		Folder: strings.TrimSpace(in.Folder), SentFolder: strings.TrimSpace(in.SentFolder),
	}
	if err := parley.NormalizeMailServer("imap", &c.IMAP, true); err != nil {
		return nil, "", "", err
	}
	if err := parley.NormalizeMailServer("smtp", &c.SMTP, false); err != nil {
		return nil, "", "", err
	}
	if err := parley.ValidateMailFolder("folder", c.Folder); err != nil {
		return nil, "", "", err
	}
	if err := parley.ValidateMailFolder("sentFolder", c.SentFolder); err != nil {
		return nil, "", "", err
	}
	password := func(which string, given *string, stored *parley.MailServer) (string, error) {
		if given != nil && *given != "" {
			if len(*given) > 1024 || strings.ContainsAny(*given, "\r\n\x00") {
				return "", parley.Errorf(parley.EINVALID, "%s.password must be one line of at most 1024 bytes", which)
			}
			return *given, nil
		}
		if stored == nil || stored.Password == "" {
			return "", parley.Errorf(parley.EINVALID, "%s.password is required", which)
		}
		p, err := a.openSecret(mb.ID, which, stored.Password)
		if err != nil {
			return "", parley.Errorf(parley.EINVALID, "%s.password: %v; enter the password again", which, err)
		}
		return p, nil
	}
	var oldIMAP, oldSMTP *parley.MailServer
	if mb.Connection != nil {
		oldIMAP, oldSMTP = &mb.Connection.IMAP, &mb.Connection.SMTP
	}
	ip, err := password("imap", in.IMAP.Password, oldIMAP)
	if err != nil {
		return nil, "", "", err
	}
	sp, err := password("smtp", in.SMTP.Password, oldSMTP)
	if err != nil {
		return nil, "", "", err
	}
	return c, ip, sp, nil
}

// TestMailConnection logs in to the IMAP and SMTP servers of in, as they
// would be for mailbox mailboxID of inbox inboxID, and reports how each
// answered; nothing is stored or sent. Bad settings are EINVALID.
func (a *App) TestMailConnection(ctx context.Context, inboxID, mailboxID uint64, in MailConnectionInput) (*MailTest, error) {
	c, ip, sp, err := a.prepareConnection(ctx, inboxID, mailboxID, in)
	if err != nil {
		return nil, err
	}
	return a.testConnection(ctx, c, ip, sp), nil
}

func (a *App) testConnection(ctx context.Context, c *parley.MailConnection, imapPass, smtpPass string) *MailTest {
	t := &MailTest{}
	check := func(mc *MailCheck, err error) bool {
		if err == nil {
			return true
		}
		mc.Kind, mc.Error = parley.MailErrProtocol, limitString(errMessage(err), 500)
		var mse *parley.MailServerError
		if errors.As(err, &mse) {
			mc.Kind, mc.Error = mse.Kind, mse.Msg
		}
		return false
	}
	t.IMAP.OK = check(&t.IMAP, a.cfg.Accounts.CheckServer(ctx, "imap", c.IMAP)) && func() bool {
		s, err := a.cfg.Accounts.DialIMAP(ctx, c.IMAP, imapPass)
		if !check(&t.IMAP, err) {
			return false
		}
		defer s.Close()
		t.uidValidity, t.uidNext, err = s.Select(c.ImportFolder())
		if !check(&t.IMAP, err) {
			return false
		}
		t.IMAP.Idle = s.CanIdle()
		t.IMAP.SentFolder, err = s.SentFolder(c.SentFolder)
		return check(&t.IMAP, err)
	}()
	t.SMTP.OK = check(&t.SMTP, a.cfg.Accounts.CheckServer(ctx, "smtp", c.SMTP)) &&
		check(&t.SMTP, a.cfg.Accounts.CheckSMTP(ctx, c.SMTP, smtpPass))
	return t
}

// ConnectMailbox connects mailbox mailboxID of inbox inboxID to the account
// in (E1), after logging in to both its servers: a failure is EINVALID
// naming the server and why. Passwords are stored encrypted with the
// secret key; without one it is EINVALID. Mail already in the folder is
// not imported, what arrives from now on is. Changing the settings of the
// same account and folder keeps the import where it was.
func (a *App) ConnectMailbox(ctx context.Context, inboxID, mailboxID uint64, in MailConnectionInput) (*parley.Inbox, error) {
	if _, err := a.secretAEAD(); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "connecting a mailbox needs a secret key to store its passwords: set PARLEY_SECRET_KEY (--secret-key) to 32 random bytes, hex or base64, and restart")
	}
	c, ip, sp, err := a.prepareConnection(ctx, inboxID, mailboxID, in)
	if err != nil {
		return nil, err
	}
	t := a.testConnection(ctx, c, ip, sp)
	if !t.IMAP.OK {
		return nil, parley.Errorf(parley.EINVALID, "imap: %s", t.IMAP.Error)
	}
	if !t.SMTP.OK {
		return nil, parley.Errorf(parley.EINVALID, "smtp: %s", t.SMTP.Error)
	}
	if c.IMAP.Password, err = a.sealSecret(mailboxID, "imap", ip); err != nil {
		return nil, err
	}
	if c.SMTP.Password, err = a.sealSecret(mailboxID, "smtp", sp); err != nil {
		return nil, err
	}
	c.ConnectedAt = a.Now()
	st, err := a.loadMailboxSync(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	if st == nil || st.Account != syncAccount(c) {
		st = &mailboxSync{UIDValidity: t.uidValidity, LastUID: t.uidNext - 1, Account: syncAccount(c)}
		if err := a.saveMailboxSync(ctx, mailboxID, st); err != nil {
			return nil, err
		}
	}
	inbox, err := a.db.UpdateInbox(ctx, inboxID, func(in *parley.Inbox) error {
		mb := in.MailboxByID(mailboxID)
		if mb == nil {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d has no email address %d", inboxID, mailboxID)
		}
		if mb.Connection != nil && syncAccount(mb.Connection) == syncAccount(c) {
			c.ConnectedAt = mb.Connection.ConnectedAt
		}
		mb.Connection = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.log.Info().Uint64("inboxId", inboxID).Uint64("mailboxId", mailboxID).Str("imap", c.IMAP.Host).Str("smtp", c.SMTP.Host).Msg("mailbox connected")
	a.KickMailboxes()
	return inbox, nil
}

// DisconnectMailbox disconnects mailbox mailboxID of inbox inboxID: its
// import stops and replies leave through Parley's own sender again. The
// address stays. ENOTFOUND for an unknown inbox or mailbox.
func (a *App) DisconnectMailbox(ctx context.Context, inboxID, mailboxID uint64) (*parley.Inbox, error) {
	inbox, err := a.db.UpdateInbox(ctx, inboxID, func(in *parley.Inbox) error {
		mb := in.MailboxByID(mailboxID)
		if mb == nil {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d has no email address %d", inboxID, mailboxID)
		}
		mb.Connection = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.db.SetMeta(ctx, mailboxSyncKey(mailboxID), nil); err != nil {
		a.log.Warn().Err(err).Uint64("mailboxId", mailboxID).Msg("forget mailbox sync state")
	}
	a.log.Info().Uint64("inboxId", inboxID).Uint64("mailboxId", mailboxID).Msg("mailbox disconnected")
	a.KickMailboxes()
	return inbox, nil
}

// ----- sending -----

// connectionOf returns the connected mailbox that sends reply or forward
// it (from its address), or nil.
func (a *App) connectionOf(ctx context.Context, it *parley.OutboxItem) *parley.Mailbox {
	if it.Kind != parley.OutboxReply && it.Kind != parley.OutboxForward || a.cfg.Accounts == nil {
		return nil
	}
	inboxID, mailboxID, err := a.db.Mailbox(ctx, it.Email.From.Email)
	if err != nil {
		return nil
	}
	in, err := a.db.Inbox(ctx, inboxID)
	if err != nil {
		return nil
	}
	mb := in.MailboxByID(mailboxID)
	if mb == nil || mb.Connection == nil {
		return nil
	}
	return mb
}

// sendOutboxItem sends it: a reply or forward from a connected mailbox through that
// mailbox's SMTP server, returning the bytes sent; anything else through
// the Mailer.
func (a *App) sendOutboxItem(ctx context.Context, it *parley.OutboxItem) (*parley.Mailbox, []byte, error) {
	if mb := a.connectionOf(ctx, it); mb != nil {
		pass, err := a.openSecret(mb.ID, "smtp", mb.Connection.SMTP.Password)
		if err != nil {
			return nil, nil, parley.Errorf(parley.EUNAVAILABLE, "%v", err)
		}
		raw, err := a.cfg.Accounts.Render(&it.Email)
		if err != nil {
			return nil, nil, err
		}
		return mb, raw, a.cfg.Accounts.SendSMTP(ctx, mb.Connection.SMTP, pass, &it.Email, raw)
	}
	if a.cfg.Mailer == nil {
		return nil, nil, errNoMail()
	}
	return nil, nil, a.cfg.Mailer.Send(ctx, &it.Email)
}

// storeSent stores raw, a reply that mb's SMTP server accepted, in the
// account's Sent folder, flagged \Seen, trying sentAppendAttempts times;
// failures are logged and never send the mail again. Close cuts it short.
func (a *App) storeSent(mb *parley.Mailbox, raw []byte, date time.Time, outboxID uint64) {
	defer a.wg.Done()
	delay := 5 * time.Second
	for attempt := 1; ; attempt++ {
		err := func() error {
			ctx, cancel := context.WithTimeout(a.ctx, mailSendTimeout)
			defer cancel()
			pass, err := a.openSecret(mb.ID, "imap", mb.Connection.IMAP.Password)
			if err != nil {
				return err
			}
			s, err := a.cfg.Accounts.DialIMAP(ctx, mb.Connection.IMAP, pass)
			if err != nil {
				return err
			}
			defer s.Close()
			folder, err := s.SentFolder(mb.Connection.SentFolder)
			if err != nil {
				return err
			}
			return s.Append(folder, raw, date)
		}()
		if err == nil {
			return
		}
		if a.ctx.Err() != nil {
			a.log.Warn().Uint64("mailboxId", mb.ID).Uint64("outboxId", outboxID).Msg("sent mail not stored in the Sent folder: shutting down")
			return
		}
		a.log.Warn().Uint64("mailboxId", mb.ID).Uint64("outboxId", outboxID).Int("attempt", attempt).Str("error", errMessage(err)).Msg("store sent mail in the Sent folder")
		if attempt >= sentAppendAttempts {
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-a.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay *= 4
	}
}
