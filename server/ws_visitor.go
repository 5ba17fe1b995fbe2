package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/store"
)

type evReady struct {
	Type      string              `json:"type"`
	VisitorID string              `json:"visitorId"`
	Thread    *visitorThread      `json:"thread"`
	Status    parley.WidgetStatus `json:"status"`
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

// handleVisitorWS serves the visitor endpoint (docs/websocket.md).
func (s *Server) handleVisitorWS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := parseID(r.URL.Query().Get("widgetId"))
		var wd *parley.Widget
		if err == nil {
			wd, err = s.db.Widget(r.Context(), id)
		}
		if err == nil && !wd.Enabled {
			err = parley.Errorf(parley.ENOTFOUND, "widget not found")
		}
		opts := &websocket.AcceptOptions{}
		if err == nil {
			opts.OriginPatterns, opts.InsecureSkipVerify = widgetOriginPatterns(wd)
		} else {
			opts.InsecureSkipVerify = true // only to say "not found" in-band
		}
		c, aerr := websocket.Accept(w, r, opts)
		if aerr != nil {
			return // Accept has answered
		}
		if err != nil {
			_ = c.Close(closeNotFound, "widget not found")
			return
		}
		s.conns.Add(1)
		defer s.conns.Done()
		s.serveVisitor(s.newConn(c), wd)
	})
}

func (s *Server) serveVisitor(cn *wsConn, wd *parley.Widget) {
	cn.sub = s.hub.SubscribeBuffer(s.cfg.VisitorQueue, widgetTopic(wd.ID))
	hello, ok := cn.readHello()
	if !ok {
		cn.finish()
		return
	}
	ctx := cn.ctx
	var contactID uint64
	var thread *parley.Thread
	// cred lets a disassociation move this visitor to another contact while
	// it is connected (asVisitor); gen is read before the credential.
	cred := visitorCred{gen: s.moves.gen.Load()}
	if hello.VisitorToken != "" {
		v, err := s.db.Visitor(ctx, hashSecret(hello.VisitorToken))
		if err == nil {
			contactID, cred.hash = v.ContactID, hashSecret(hello.VisitorToken)
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			cn.fail(closeInternal, "internal error")
			cn.finish()
			return
		}
	}
	if contactID != 0 {
		t, err := s.db.ChatThread(ctx, contactID, wd.ID)
		if err == nil {
			thread = t
			cn.sub.Add(hub.ThreadTopic(t.ID))
		}
	}
	ready := evReady{Type: "ready", Status: s.widgetStatus(ctx, wd)}
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
	cn.run([]string{"message.send", "typing"}, func(f *frame) error {
		switch f.Type {
		case "message.send":
			if contactID == 0 {
				token, c, err := s.newVisitor(ctx)
				if err != nil {
					return err
				}
				contactID, cred.hash = c.ID, hashSecret(token)
				cn.reply(evIdentity{Type: "identity", VisitorToken: token, VisitorID: c.ActorID()})
			}
			var res store.TurnResult
			err := s.asVisitor(ctx, &cred, &contactID, func() (err error) {
				res, err = s.postVisitorMessage(ctx, wd, contactID, pageURL, hello.Lang, f.ClientID, f.Text)
				return err
			})
			if err != nil {
				return err
			}
			joined := typingThread != res.Thread.ID
			if joined {
				typingThread = res.Thread.ID
				cn.sub.Add(hub.ThreadTopic(res.Thread.ID))
			}
			cn.reply(evMessage{Type: "message.ack", ClientID: f.ClientID,
				Message: toWireMessage(res.Message, s.actorName(ctx, res.Message.SenderID))})
			if joined {
				// The bot's answer was published before this connection
				// followed the thread (bot.go): send it here.
				cn.replyTurn(ctx, res)
			}
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
					ActorID: parley.ContactActorID(contactID), Name: s.actorName(ctx, parley.ContactActorID(contactID))}),
					hub.InboxTopic(t.InboxID))
			}
		}
		return nil
	})
}
