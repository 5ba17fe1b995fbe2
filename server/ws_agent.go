package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

type evAgentReady struct {
	Type     string     `json:"type"`
	User     userJSON   `json:"user"`
	InboxIDs []flexID   `json:"inboxIds"`
	Presence []userJSON `json:"presence"`
}

// handleAgentWS serves the agent endpoint (docs/websocket.md). Only
// Parley's own origin may open it from a browser.
func (s *Server) handleAgentWS() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if !a.can(parley.ScopeRead) {
			return parley.Errorf(parley.EFORBIDDEN, "this API token lacks the read scope")
		}
		opts := &websocket.AcceptOptions{}
		if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Host != "" {
			opts.OriginPatterns = []string{strings.ToLower(u.Host)}
		}
		c, err := websocket.Accept(wsHijacker{w}, r, opts)
		if err != nil {
			return nil // Accept has answered
		}
		s.detachConn(r, c, connAgent, func() {}, func(cn *wsConn) { s.serveAgent(cn, a) })
		return nil
	})
}

// serveAgent serves the connection that credential a opened. The
// connection lives only as long as the credential and the user's rights:
// signing out, revoking the token, deactivating the user or changing their
// role closes it (ws_agent_conns.go). A credential without the write scope
// receives events but may not send messages or typing.
func (s *Server) serveAgent(cn *wsConn, a *auth) {
	ctx := cn.ctx
	// The inbox topics follow the user's memberships for as long as the
	// connection lives: registerAgent subscribes them (ws_agent_conns.go).
	cn.sub = s.hub.SubscribeBuffer(s.cfg.AgentQueue, presenceTopic, userTopic(a.user.ID))
	u, rights, inboxIDs, unregister, err := s.registerAgent(ctx, cn, a.hash)
	if err != nil {
		if parley.ErrorCode(err) == parley.EUNAUTHORIZED {
			cn.failCode(parley.EUNAUTHORIZED, parley.ErrorMessage(err))
		} else {
			cn.failCode(parley.EINTERNAL, "internal error")
		}
		cn.finish()
		return
	}
	defer unregister()
	hello, ok := cn.readHello()
	if !ok {
		cn.finish()
		return
	}
	// The user stops counting as online the moment the connection starts
	// closing (a ping timed out, the tab went away), not only once the close
	// handshake has run its course.
	release := s.presence.Connect(u.ID)
	defer release()
	context.AfterFunc(cn.ctx, release)
	defer s.trackViewing(cn)()
	ready := evAgentReady{Type: "ready", User: s.toUserJSON(u, true), InboxIDs: flexIDs(inboxIDs), Presence: s.presenceList(ctx)}
	if err := cn.writeNow(mustJSON(ready)); err != nil {
		cn.fail(websocket.StatusGoingAway, "")
		cn.finish()
		return
	}
	for _, r := range hello.Resume {
		id, err := parseID(r.ThreadID)
		if err != nil {
			continue
		}
		t, err := s.app.ThreadForUser(ctx, u, id)
		if err != nil {
			cn.replyError(err, "")
			continue
		}
		if err := cn.replay(t, r.LastSeq, false); err != nil {
			cn.fail(websocket.StatusGoingAway, "")
			break
		}
	}
	cn.run([]string{"message.send", "typing", "viewing"}, func(f *frame) error {
		if f.Type == "viewing" {
			return s.setViewing(ctx, cn, u, f.ThreadID)
		}
		if !rights.Has(parley.ScopeWrite) {
			return parley.Errorf(parley.EFORBIDDEN, "this API token lacks the write scope")
		}
		id, err := parseID(f.ThreadID)
		if err != nil {
			return parley.Errorf(parley.ENOTFOUND, "thread not found")
		}
		switch f.Type {
		case "message.send":
			var copies *app.ReplyCopies
			if f.Cc != nil || f.Bcc != nil {
				copies = &app.ReplyCopies{Cc: addressList(f.Cc), Bcc: addressList(f.Bcc)}
			}
			files, err := frameFiles(f.Attachments)
			if err != nil {
				return err
			}
			m, t, err := s.app.PostReply(ctx, u, id, parley.MessageType(f.MessageType), f.ClientID, f.Text, f.RichText, copies, files)
			if err != nil {
				return err
			}
			cn.reply(evMessage{Type: "message.ack", ClientID: f.ClientID, Message: s.agentWireMessage(ctx, t, m, u.Name, nil)})
		case "typing":
			t, err := s.app.ThreadForUser(ctx, u, id)
			if err != nil {
				return err
			}
			if s.typingAllowed(u.ActorID(), t.ID) {
				s.hub.Publish(mustJSON(evTyping{Type: "typing", ThreadID: idString(t.ID), ActorID: u.ActorID(), Name: u.Name}),
					parley.InboxTopic(t.InboxID), parley.ThreadTopic(t.ID))
			}
		}
		return nil
	})
}
