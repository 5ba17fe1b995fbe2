package server

import (
	"context"
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
		s.serveVisitor(s.newConn(c), wd, key)
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
	ctx := cn.ctx
	internal := func() {
		cn.failCode(parley.EINTERNAL, "internal error")
		cn.finish()
	}
	var contactID uint64
	var thread *parley.Thread
	// cred lets a disassociation move this visitor to another contact while
	// it is connected (asVisitor); gen is read before the credential. An
	// identified visitor has no credential of its own: the site vouches for
	// it at every hello.
	cred := visitorCred{gen: s.moves.gen.Load()}
	identified := false
	if hello.IdentificationEmail != "" || hello.IdentificationToken != "" {
		c, err := s.app.IdentifiedContact(ctx, hello.IdentificationEmail, hello.IdentificationToken)
		if err != nil {
			s.log.Error().Err(err).Msg("visitor identification")
			internal()
			return
		}
		if c != nil {
			contactID, identified = c.ID, true
		}
	}
	if contactID == 0 && hello.VisitorToken != "" {
		v, err := s.db.Visitor(ctx, hashSecret(hello.VisitorToken))
		if err == nil {
			contactID, cred.hash = v.ContactID, hashSecret(hello.VisitorToken)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			internal()
			return
		}
	}
	var contact *parley.Contact
	if contactID != 0 {
		c, err := s.db.Contact(ctx, contactID)
		if err == nil {
			contact = c
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			internal()
			return
		}
		t, err := s.db.ChatThread(ctx, contactID, wd.ID)
		if err == nil {
			thread = t
			cn.sub.Add(parley.ThreadTopic(t.ID))
		}
	}
	ready := evReady{Type: "ready", Status: s.app.WidgetStatus(ctx, wd), Identified: identified,
		Known: contactKnown(contact), ConsentRequired: wd.NeedsProcessConsent(contact)}
	if contactID != 0 {
		ready.VisitorID = parley.ContactActorID(contactID)
	}
	if thread != nil {
		ready.Thread = &visitorThread{ID: idString(thread.ID), Status: string(thread.Status)}
	}
	if err := cn.writeNow(mustJSON(ready)); err != nil {
		cn.fail(websocket.StatusGoingAway, "")
		cn.finish()
		return
	}
	if thread != nil {
		if err := cn.replay(thread, hello.LastSeq, true); err != nil {
			cn.fail(websocket.StatusGoingAway, "")
			cn.finish()
			return
		}
	}
	pageURL := hello.PageURL
	var typingThread uint64
	if thread != nil {
		typingThread = thread.ID
	}
	// ensureContact gives a new visitor its contact and credential, the
	// first time it does something that needs one.
	ensureContact := func() error {
		if contactID != 0 {
			return nil
		}
		token, hash := newSecret("pv_")
		c, err := s.app.NewVisitor(ctx, hash)
		if err != nil {
			return err
		}
		contactID, cred.hash = c.ID, hash
		cn.reply(evIdentity{Type: "identity", VisitorToken: token, VisitorID: c.ActorID()})
		return nil
	}
	cn.run([]string{"message.send", "typing", "consent.give", "contact.email"}, func(f *frame) error {
		switch f.Type {
		case "message.send":
			// Check what can be checked before anything is stored.
			if err := parley.ValidateText(f.Text); err != nil {
				return err
			}
			if f.ClientID == "" {
				return parley.Errorf(parley.EINVALID, "clientId is required")
			}
			if err := parley.ValidateClientID(f.ClientID); err != nil {
				return err
			}
			cur, err := s.db.Widget(ctx, wd.ID)
			if err != nil {
				return err
			}
			if !cur.Enabled {
				return parley.Errorf(parley.ENOTFOUND, "this chat is switched off")
			}
			if contactID == 0 && cur.NeedsProcessConsent(nil) {
				return errConsentRequired()
			}
			if err := s.requireEmailFirst(ctx, cur, contactID); err != nil {
				return err
			}
			// A visitor without a thread on this widget starts a
			// conversation (a closed one is reopened, which is not new).
			if err := s.limits.takeNew(key, contactID == 0, contactID == 0 || typingThread == 0); err != nil {
				return err
			}
			if err := ensureContact(); err != nil {
				return err
			}
			var res parley.TurnResult
			err = s.asVisitor(ctx, &cred, &contactID, func() (err error) {
				c, err := s.db.Contact(ctx, contactID)
				if err != nil {
					return err
				}
				if cur.NeedsProcessConsent(c) {
					return errConsentRequired()
				}
				implied, err := s.recordImpliedConsents(ctx, cur, contactID, pageURL)
				if err != nil {
					return err
				}
				res, err = s.app.PostVisitorMessage(ctx, cur, contactID, c.Blocked, pageURL, hello.Lang, f.ClientID, f.Text)
				if err == nil && implied {
					s.publishContact(ctx, c)
				}
				return err
			})
			if err != nil {
				return err
			}
			joined := typingThread != res.Thread.ID
			if joined {
				typingThread = res.Thread.ID
				cn.sub.Add(parley.ThreadTopic(res.Thread.ID))
			}
			cn.reply(evMessage{Type: "message.ack", ClientID: f.ClientID,
				Message: toWireMessage(res.Message, s.app.ActorName(ctx, res.Message.SenderID))})
			if joined {
				// The bot's answer was published before this connection
				// followed the thread (app/bot.go): send it here.
				cn.replyTurn(ctx, res)
			}
		case "consent.give":
			if !cn.allow() {
				return parley.Errorf(parley.ERATELIMIT, "too many requests; slow down")
			}
			cur, err := s.db.Widget(ctx, wd.ID)
			if err != nil {
				return err
			}
			if cur.Consent.Process == parley.ConsentNone {
				return parley.Errorf(parley.EINVALID, "this widget asks for no consent")
			}
			if want := parley.ConsentVersion(cur.Consent.ProcessText); f.Version != want {
				return parley.Errorf(parley.ECONFLICT, "the consent text has changed since it was shown (version %q, now %q); show the new text", truncateForError(f.Version), want)
			}
			if err := s.limits.takeNew(key, contactID == 0, false); err != nil {
				return err
			}
			if err := ensureContact(); err != nil {
				return err
			}
			err = s.asVisitor(ctx, &cred, &contactID, func() error {
				wrote, err := s.recordConsent(ctx, contactID, cur, parley.ConsentKindProcess, pageURL)
				if err == nil && wrote {
					if c, err := s.db.Contact(ctx, contactID); err == nil {
						s.publishContact(ctx, c)
					}
				}
				return err
			})
			if err != nil {
				return err
			}
			cn.reply(evConsent{Type: "consent.recorded", Kind: parley.ConsentKindProcess, Version: f.Version})
		case "contact.email":
			if !cn.allow() {
				return parley.Errorf(parley.ERATELIMIT, "too many requests; slow down")
			}
			email, err := parley.ValidateVisitorEmail(f.Email)
			if err != nil {
				return err
			}
			cur, err := s.db.Widget(ctx, wd.ID)
			if err != nil {
				return err
			}
			if contactID == 0 && cur.NeedsProcessConsent(nil) {
				return errConsentRequired()
			}
			if err := s.limits.takeNew(key, contactID == 0, false); err != nil {
				return err
			}
			if err := ensureContact(); err != nil {
				return err
			}
			err = s.asVisitor(ctx, &cred, &contactID, func() error {
				c, err := s.db.Contact(ctx, contactID)
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
			cn.reply(evContactEmail{Type: "contact.email", Email: email, VisitorID: parley.ContactActorID(contactID)})
		case "typing":
			if err := s.asVisitor(ctx, &cred, &contactID, func() error { return nil }); err != nil {
				return err
			}
			if typingThread != 0 && s.typingAllowed(parley.ContactActorID(contactID), typingThread) {
				t, err := s.db.Thread(ctx, typingThread)
				if err != nil {
					return err
				}
				s.hub.Publish(mustJSON(evTyping{Type: "typing", ThreadID: idString(t.ID),
					ActorID: parley.ContactActorID(contactID), Name: s.app.ActorName(ctx, parley.ContactActorID(contactID))}),
					parley.InboxTopic(t.InboxID))
			}
		}
		return nil
	})
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
		c, err := s.db.Contact(ctx, contactID)
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
		cn.reply(evMessage{Type: "message.created", Message: toWireMessage(m, cn.s.app.ActorName(ctx, m.SenderID))})
		closed = closed || m.Type == parley.TypeStatusChange
	}
	if closed {
		cn.reply(evThread{Type: "thread.updated", Thread: visitorThread{ID: idString(res.Thread.ID), Status: string(res.Thread.Status)}})
	}
}
