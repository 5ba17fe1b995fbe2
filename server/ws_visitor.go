package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
)

type evReady struct {
	Type      string              `json:"type"`
	VisitorID string              `json:"visitorId"`
	Thread    *visitorThread      `json:"thread"`
	Status    parley.WidgetStatus `json:"status"`
	// Identified: the hello's identification was valid; this is that contact.
	Identified bool `json:"identified"`
	// Known: the contact has an email, so the widget does not ask for one.
	Known bool `json:"known"`
	// ConsentRequired: the widget must get "I agree" (consent.give) before
	// anything is sent.
	ConsentRequired bool `json:"consentRequired"`
}

type evConsent struct {
	Type    string `json:"type"` // consent.recorded
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type evContactEmail struct {
	Type      string `json:"type"` // contact.email
	Email     string `json:"email"`
	VisitorID string `json:"visitorId"`
}

type evIdentity struct {
	Type         string `json:"type"`
	VisitorToken string `json:"visitorToken"`
	VisitorID    string `json:"visitorId"`
}

// widgetOriginPatterns returns the page origins a widget's visitor socket
// accepts: the hosts its URL targeting rules name. A widget shown on every
// page accepts every origin; that is safe because the visitor endpoint uses
// no cookie — its credential travels inside the protocol.
func widgetOriginPatterns(w *parley.Widget) (patterns []string, anyOrigin bool) {
	for _, r := range w.Targeting.Rules {
		if r.Kind != "url" {
			return nil, true
		}
		switch r.Op {
		case "is", "startsWith":
		default:
			return nil, true // negative or loose rules can match any host
		}
		u, err := url.Parse(strings.TrimSuffix(r.Value, "/*"))
		if err != nil || u.Host == "" {
			return nil, true
		}
		patterns = append(patterns, u.Scheme+"://"+u.Host)
	}
	if len(patterns) == 0 {
		return nil, true
	}
	return patterns, false
}

// handleVisitorWS serves the visitor endpoint (docs/websocket.md). It
// answers no error over HTTP: an unknown widget and a socket over the
// limit are refused in-band, after the upgrade.
func (s *Server) handleVisitorWS() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		wd, err := s.queryWidget(r)
		opts := &websocket.AcceptOptions{}
		if err == nil {
			opts.OriginPatterns, opts.InsecureSkipVerify = widgetOriginPatterns(wd)
		} else {
			opts.InsecureSkipVerify = true // only to say "not found" in-band
		}
		// A socket over the address's limit is refused after the upgrade,
		// so that the widget reads 4429 and waits before it tries again
		// (a refused upgrade looks like a network failure to a browser).
		key := clientKey(s.clientAddr(r))
		release, allowed := func() {}, true
		if err == nil {
			release, allowed = s.limits.conns.acquire(key)
		}
		c, aerr := websocket.Accept(w, r, opts)
		if aerr != nil {
			if allowed {
				release()
			}
			return nil // Accept has answered
		}
		if err != nil {
			_ = c.Close(kindOf(parley.ENOTFOUND).close, "widget not found")
			return nil
		}
		if !allowed {
			_ = c.Close(kindOf(parley.ERATELIMIT).close, tooManyConns)
			return nil
		}
		defer release()
		s.conns.Add(1)
		defer s.conns.Done()
		defer s.opened(connVisitor)()
		s.serveVisitor(s.newConn(c, connVisitor), wd, key)
		return nil
	})
}

// serveVisitor serves a visitor's connection to widget wd from client
// address key (clientKey).
func (s *Server) serveVisitor(cn *wsConn, wd *parley.Widget, key string) {
	cn.sub = s.hub.SubscribeBuffer(s.cfg.VisitorQueue, widgetTopic(wd.ID))
	hello, ok := cn.readHello()
	if !ok {
		cn.finish()
		return
	}
	v := &visitorConn{s: s, cn: cn, ctx: cn.ctx, wd: wd, key: key, hello: hello,
		pageURL: hello.PageURL, cred: visitorCred{gen: s.moves.gen.Load()}}
	if !v.start() {
		cn.finish()
		return
	}
	// The contact may change with any frame: the sockets index follows,
	// so that an erasure finds the connection.
	s.sockets.track(v, v.contactID)
	defer s.sockets.forget(v)
	cn.run([]string{"message.send", "typing", "consent.give", "contact.email", "upload.grant"}, func(f *frame) error {
		err := v.handle(f)
		s.sockets.track(v, v.contactID)
		return err
	})
}

// visitorConn is a visitor's connection after its hello: who the visitor
// is, and the thread it follows.
type visitorConn struct {
	s     *Server
	cn    *wsConn
	ctx   context.Context
	wd    *parley.Widget // as it was at connect; frames read it again
	key   string         // the client address (clientKey)
	hello *frame

	// cred lets a disassociation move this visitor to another contact while
	// it is connected (asVisitor); gen is read before the credential. An
	// identified visitor has no credential of its own: the site vouches for
	// it at every hello.
	cred      visitorCred
	contactID uint64 // 0 until the visitor has a contact
	pageURL   string
	// typingThread is the visitor's thread on the widget, 0 before it has
	// one.
	typingThread uint64
}

// start identifies the visitor, answers its hello with ready and replays
// what it missed of its thread. It reports false when the connection has
// failed.
func (v *visitorConn) start() bool {
	contact, thread, identified, err := v.identify()
	if parley.ErrorCode(err) == parley.ESTORAGE {
		// A new identified contact could not be stored: the disk is full
		// or failing (4507); the store has logged it.
		v.cn.failCode(parley.ESTORAGE, parley.ErrorMessage(err))
		return false
	} else if err != nil {
		v.cn.failCode(parley.EINTERNAL, "internal error")
		return false
	}
	if err := v.cn.writeNow(mustJSON(v.ready(contact, thread, identified))); err != nil {
		v.cn.fail(websocket.StatusGoingAway, "")
		return false
	}
	if thread != nil {
		if err := v.cn.replay(thread, v.hello.LastSeq, true); err != nil {
			v.cn.fail(websocket.StatusGoingAway, "")
			return false
		}
		v.typingThread = thread.ID
	}
	return true
}

// identify finds the visitor's contact, from the site's identification in
// the hello or else from the visitor's own credential, and the contact's
// thread on the widget, which the connection then follows. A new visitor
// has neither.
func (v *visitorConn) identify() (contact *parley.Contact, thread *parley.Thread, identified bool, err error) {
	s, ctx, hello := v.s, v.ctx, v.hello
	if hello.IdentificationEmail != "" || hello.IdentificationToken != "" {
		c, err := s.app.IdentifiedContact(ctx, hello.IdentificationEmail, hello.IdentificationToken)
		if err != nil {
			if parley.ErrorCode(err) != parley.ESTORAGE {
				s.log.Error().Err(err).Msg("visitor identification")
			}
			return nil, nil, false, err
		}
		if c != nil {
			v.contactID, identified = c.ID, true
		}
	}
	if v.contactID == 0 && hello.VisitorToken != "" {
		vis, err := s.db.Visitor(ctx, hashSecret(hello.VisitorToken))
		if err == nil {
			v.contactID, v.cred.hash = vis.ContactID, hashSecret(hello.VisitorToken)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, nil, false, err
		}
	}
	if v.contactID == 0 {
		return nil, nil, identified, nil
	}
	c, err := s.db.Contact(ctx, v.contactID)
	if err == nil {
		contact = c
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return nil, nil, false, err
	}
	t, err := s.db.ChatThread(ctx, v.contactID, v.wd.ID)
	if err == nil {
		thread = t
		v.cn.sub.Add(parley.ThreadTopic(t.ID))
	}
	return contact, thread, identified, nil
}

// ready is the answer to the visitor's hello.
func (v *visitorConn) ready(contact *parley.Contact, thread *parley.Thread, identified bool) evReady {
	ready := evReady{Type: "ready", Status: v.s.app.WidgetStatus(v.ctx, v.wd), Identified: identified,
		Known: contactKnown(contact), ConsentRequired: v.wd.NeedsProcessConsent(contact)}
	if v.contactID != 0 {
		ready.VisitorID = parley.ContactActorID(v.contactID)
	}
	if thread != nil {
		vt := toVisitorThread(thread)
		ready.Thread = &vt
	}
	return ready
}

// handle serves one frame from the visitor.
func (v *visitorConn) handle(f *frame) error {
	switch f.Type {
	case "message.send":
		return v.sendMessage(f)
	case "consent.give":
		return v.giveConsent(f)
	case "contact.email":
		return v.leaveEmail(f)
	case "typing":
		return v.typing()
	case "upload.grant":
		return v.grantUpload()
	}
	return nil
}

// grantUpload answers upload.grant with upload.granted: the URL where the
// visitor may upload files for its next messages on this widget for the
// next few minutes (POST /widget/v1/files). A visitor without a contact
// gets one first, as when it writes; a widget that takes no files, or
// whose consent or email the visitor still owes, refuses.
func (v *visitorConn) grantUpload() error {
	s, ctx := v.s, v.ctx
	if !v.cn.allow() {
		return parley.Errorf(parley.ERATELIMIT, "too many requests; slow down")
	}
	cur, err := s.db.Widget(ctx, v.wd.ID)
	if err != nil {
		return err
	}
	if !cur.Enabled {
		return parley.Errorf(parley.ENOTFOUND, "this chat is switched off")
	}
	if !cur.AttachmentsAllowed() {
		return parley.Errorf(parley.EINVALID, "this chat takes no files")
	}
	if v.contactID == 0 && cur.NeedsProcessConsent(nil) {
		return errConsentRequired()
	}
	if err := s.requireEmailFirst(ctx, cur, v.contactID); err != nil {
		return err
	}
	if err := s.limits.takeNew(v.key, v.contactID == 0, false); err != nil {
		return err
	}
	if err := v.ensureContact(); err != nil {
		return err
	}
	grant, err := s.app.UploadGrant(ctx, v.contactID, cur.ID)
	if err != nil {
		return err
	}
	v.cn.reply(evUploadGranted{Type: "upload.granted", URL: strings.TrimRight(s.cfg.BaseURL, "/") + "/widget/v1/files?g=" + url.QueryEscape(grant)})
	return nil
}

// evUploadGranted answers upload.grant.
type evUploadGranted struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ensureContact gives a new visitor its contact and credential, the first
// time it does something that needs one.
func (v *visitorConn) ensureContact() error {
	if v.contactID != 0 {
		return nil
	}
	token, hash := newSecret("pv_")
	c, err := v.s.app.NewVisitor(v.ctx, hash)
	if err != nil {
		return err
	}
	v.contactID, v.cred.hash = c.ID, hash
	v.cn.reply(evIdentity{Type: "identity", VisitorToken: token, VisitorID: c.ActorID()})
	return nil
}

// sendMessage serves message.send: the visitor's message, which starts a
// conversation when the visitor has no thread on the widget.
func (v *visitorConn) sendMessage(f *frame) error {
	s, ctx := v.s, v.ctx
	// Check what can be checked before anything is stored.
	files, err := frameFiles(f.Attachments)
	if err != nil {
		return err
	}
	if len(files) == 0 || f.Text != "" {
		if err := parley.ValidateText(f.Text); err != nil {
			return err
		}
	}
	if f.ClientID == "" {
		return parley.Errorf(parley.EINVALID, "clientId is required")
	}
	if err := parley.ValidateClientID(f.ClientID); err != nil {
		return err
	}
	cur, err := s.db.SharedWidget(ctx, v.wd.ID)
	if err != nil {
		return err
	}
	if !cur.Enabled {
		return parley.Errorf(parley.ENOTFOUND, "this chat is switched off")
	}
	if v.contactID == 0 && cur.NeedsProcessConsent(nil) {
		return errConsentRequired()
	}
	if err := s.requireEmailFirst(ctx, cur, v.contactID); err != nil {
		return err
	}
	var leave uint64
	if f.Leave != "" {
		if leave, err = parseID(f.Leave); err != nil {
			return parley.Errorf(parley.EINVALID, "leave must be a thread id")
		}
	}
	// A visitor without a thread on this widget, or leaving the one it
	// follows, starts a conversation (a closed one is reopened, which is
	// not new).
	if err := s.limits.takeNew(v.key, v.contactID == 0, v.contactID == 0 || v.typingThread == 0 || leave == v.typingThread); err != nil {
		return err
	}
	if err := v.ensureContact(); err != nil {
		return err
	}
	var res parley.TurnResult
	err = s.asVisitor(ctx, &v.cred, &v.contactID, func() (err error) {
		c, err := s.db.SharedContact(ctx, v.contactID)
		if err != nil {
			return err
		}
		if cur.NeedsProcessConsent(c) {
			return errConsentRequired()
		}
		implied, err := s.recordImpliedConsents(ctx, cur, v.contactID, v.pageURL)
		if err != nil {
			return err
		}
		res, err = s.app.PostVisitorMessage(ctx, cur, v.contactID, c.Blocked, v.pageURL, v.hello.Lang, f.ClientID, f.Text, files, leave)
		if err == nil && implied {
			s.publishContact(ctx, c)
		}
		return err
	})
	if err != nil {
		return err
	}
	joined := v.typingThread != res.Thread.ID
	if joined {
		v.typingThread = res.Thread.ID
		v.cn.sub.Add(parley.ThreadTopic(res.Thread.ID))
	}
	v.cn.reply(evMessage{Type: "message.ack", ClientID: f.ClientID,
		Message: s.toWireMessage(ctx, res.Message, s.app.ActorName(ctx, res.Message.SenderID))})
	if joined {
		// The bot's answer was published before this connection
		// followed the thread (app/bot.go): send it here.
		v.cn.replyTurn(ctx, res)
	}
	return nil
}

// giveConsent serves consent.give: the visitor agreed to the widget's
// privacy text in the version f names.
func (v *visitorConn) giveConsent(f *frame) error {
	s, ctx := v.s, v.ctx
	if !v.cn.allow() {
		return parley.Errorf(parley.ERATELIMIT, "too many requests; slow down")
	}
	cur, err := s.db.Widget(ctx, v.wd.ID)
	if err != nil {
		return err
	}
	if cur.Consent.Process == parley.ConsentNone {
		return parley.Errorf(parley.EINVALID, "this widget asks for no consent")
	}
	if want := parley.ConsentVersion(cur.Consent.ProcessText); f.Version != want {
		return parley.Errorf(parley.ECONFLICT, "the consent text has changed since it was shown (version %q, now %q); show the new text", truncateForError(f.Version), want)
	}
	if err := s.limits.takeNew(v.key, v.contactID == 0, false); err != nil {
		return err
	}
	if err := v.ensureContact(); err != nil {
		return err
	}
	err = s.asVisitor(ctx, &v.cred, &v.contactID, func() error {
		wrote, err := s.recordConsent(ctx, v.contactID, cur, parley.ConsentKindProcess, v.pageURL)
		if err == nil && wrote {
			if c, err := s.db.Contact(ctx, v.contactID); err == nil {
				s.publishContact(ctx, c)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	v.cn.reply(evConsent{Type: "consent.recorded", Kind: parley.ConsentKindProcess, Version: f.Version})
	return nil
}

// leaveEmail serves contact.email: the email the visitor typed into the
// widget (captureEmail).
func (v *visitorConn) leaveEmail(f *frame) error {
	s, ctx := v.s, v.ctx
	if !v.cn.allow() {
		return parley.Errorf(parley.ERATELIMIT, "too many requests; slow down")
	}
	email, err := parley.ValidateVisitorEmail(f.Email)
	if err != nil {
		return err
	}
	cur, err := s.db.Widget(ctx, v.wd.ID)
	if err != nil {
		return err
	}
	if v.contactID == 0 && cur.NeedsProcessConsent(nil) {
		return errConsentRequired()
	}
	if err := s.limits.takeNew(v.key, v.contactID == 0, false); err != nil {
		return err
	}
	if err := v.ensureContact(); err != nil {
		return err
	}
	err = s.asVisitor(ctx, &v.cred, &v.contactID, func() error {
		c, err := s.db.Contact(ctx, v.contactID)
		if err != nil {
			return err
		}
		if cur.NeedsProcessConsent(c) {
			return errConsentRequired()
		}
		return s.captureEmail(ctx, c, email)
	})
	if err != nil {
		return err
	}
	v.cn.reply(evContactEmail{Type: "contact.email", Email: email, VisitorID: parley.ContactActorID(v.contactID)})
	return nil
}

// typing serves typing: agents following the visitor's thread are told
// the visitor is typing.
func (v *visitorConn) typing() error {
	s, ctx := v.s, v.ctx
	if err := s.asVisitor(ctx, &v.cred, &v.contactID, func() error { return nil }); err != nil {
		return err
	}
	if v.typingThread != 0 && s.typingAllowed(parley.ContactActorID(v.contactID), v.typingThread) {
		t, err := s.db.Thread(ctx, v.typingThread)
		if err != nil {
			return err
		}
		s.hub.Publish(mustJSON(evTyping{Type: "typing", ThreadID: idString(t.ID),
			ActorID: parley.ContactActorID(v.contactID), Name: s.app.ActorName(ctx, parley.ContactActorID(v.contactID))}),
			parley.InboxTopic(t.InboxID))
	}
	return nil
}

func errConsentRequired() error {
	return parley.Errorf(parley.ECONSENT, "agree to the privacy text (\"I agree\") before sending anything")
}

// contactKnown reports whether the widget should not ask c for an email:
// it has one, verified or typed.
func contactKnown(c *parley.Contact) bool {
	return c != nil && c.HasEmail()
}

// recordImpliedConsents records what chatting in widget wd implies, before
// the visitor's message is stored: consent to process data under legitimate
// interest (G1) and the subscription of consent to communicate (G2). It
// reports whether it recorded anything.
func (s *Server) recordImpliedConsents(ctx context.Context, wd *parley.Widget, contactID uint64, pageURL string) (bool, error) {
	wrote := false
	if wd.Consent.Process == parley.ConsentLegitimate {
		w, err := s.recordConsent(ctx, contactID, wd, parley.ConsentKindProcess, pageURL)
		if err != nil {
			return wrote, err
		}
		wrote = wrote || w
	}
	if wd.Consent.Communicate {
		w, err := s.recordConsent(ctx, contactID, wd, parley.ConsentKindCommunicate, pageURL)
		if err != nil {
			return wrote, err
		}
		wrote = wrote || w
	}
	return wrote, nil
}

// captureEmail stores the email visitor c typed into the widget (W4).
//
// Typing an address proves nothing about owning it, so it is kept as c's
// unverified email (Contact.UnverifiedEmail): agents see it marked as
// unverified, but it gets no transcripts, is never looked up and never
// joins the visitor to another contact, now or when the address's owner is
// identified later. Only identification (a token from the site) makes a
// visitor a contact with an email. A visitor may correct what it typed; an
// identified contact (with a verified email) typing another gets ECONFLICT.
func (s *Server) captureEmail(ctx context.Context, c *parley.Contact, email string) error {
	if c.Email != "" {
		if strings.EqualFold(c.Email, email) {
			return nil
		}
		return parley.Errorf(parley.ECONFLICT, "this visitor already has an email")
	}
	if c.UnverifiedEmail == email {
		return nil
	}
	updated, err := s.db.UpdateContact(ctx, c.ID, func(c *parley.Contact) error {
		c.UnverifiedEmail = email
		return nil
	})
	if err != nil {
		return err
	}
	s.publishContact(ctx, updated)
	return nil
}

// requireEmailFirst refuses a visitor's message on widget w whose email
// capture asks before the first message (W4) while the visitor has left no
// email: the widget shows the form, and the server holds the rule too. A
// running bot asks for the email in its own flow, so it is exempt; an
// identified visitor's contact has its email.
func (s *Server) requireEmailFirst(ctx context.Context, w *parley.Widget, contactID uint64) error {
	if w.Message.EmailCapture.When != parley.EmailCaptureBefore || w.Bot.Running() {
		return nil
	}
	if contactID != 0 {
		c, err := s.db.SharedContact(ctx, contactID)
		if err != nil {
			return err
		}
		if c.HasEmail() {
			return nil
		}
	}
	return parley.Errorf(parley.EINVALID, "leave an email first: this chat asks for one before the first message")
}

// replyTurn sends a visitor's own connection what a bot turn said and did,
// for a connection that began to follow the thread only after the turn was
// published.
func (cn *wsConn) replyTurn(ctx context.Context, res parley.TurnResult) {
	closed := false
	for _, m := range res.Replies {
		if !m.Type.VisibleToVisitor() {
			continue
		}
		cn.reply(evMessage{Type: "message.created", Message: cn.s.toWireMessage(ctx, m, cn.s.app.ActorName(ctx, m.SenderID))})
		closed = closed || m.Type == parley.TypeStatusChange
	}
	if closed {
		cn.reply(evThread{Type: "thread.updated", Thread: toVisitorThread(res.Thread)})
	}
}

// recordConsent adds a consent of kind given in widget wd to contact id,
// unless the contact already gave it for the same text. It reports whether
// it wrote anything.
func (s *Server) recordConsent(ctx context.Context, contactID uint64, wd *parley.Widget, kind, pageURL string) (bool, error) {
	rec := parley.ConsentRecord{Kind: kind, WidgetID: wd.ID, PageURL: limitString(pageURL, 2000), At: s.now()}
	switch kind {
	case parley.ConsentKindProcess:
		rec.Mode, rec.Text = wd.Consent.Process, wd.Consent.ProcessText
	case parley.ConsentKindCommunicate:
		rec.SubscriptionType, rec.Text = wd.Consent.SubscriptionType, wd.Consent.CommunicateText
	}
	rec.Version = parley.ConsentVersion(rec.Text)
	wrote := false
	_, err := s.db.UpdateContact(ctx, contactID, func(c *parley.Contact) error {
		wrote = false
		if c.HasConsent(kind, wd.ID, rec.Version) {
			return errUnchanged
		}
		c.Consents = append(c.Consents, rec)
		wrote = true
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return wrote, err
}
