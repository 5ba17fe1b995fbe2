package server

import (
	"context"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// "Also viewing" (I6): package app keeps who views which thread; consoles
// say what they show and hear who else views it.

// viewerJSON is one user viewing a thread.
type viewerJSON struct {
	ID      string `json:"id"`
	ActorID string `json:"actorId"`
	Name    string `json:"name"`
}

// evViewers lists everyone viewing a thread now (each user once).
type evViewers struct {
	Type     string       `json:"type"` // viewers
	ThreadID string       `json:"threadId"`
	Users    []viewerJSON `json:"users"`
}

func toEvViewers(v app.Viewers) evViewers {
	users := make([]viewerJSON, len(v.Users))
	for i, u := range v.Users {
		users[i] = viewerJSON{ID: idString(u.UserID), ActorID: u.ActorID, Name: u.Name}
	}
	return evViewers{Type: "viewers", ThreadID: idString(v.ThreadID), Users: users}
}

// setViewing handles the agent event {"type":"viewing","threadId":…}: an
// empty threadId means the console shows no thread. A thread the user may not
// see is ENOTFOUND, and leaves what the connection views as it was.
func (s *Server) setViewing(ctx context.Context, cn *wsConn, u *parley.User, threadID string) error {
	var id uint64
	if threadID != "" {
		var err error
		if id, err = parseID(threadID); err != nil {
			return parley.Errorf(parley.ENOTFOUND, "thread not found")
		}
	}
	v, err := s.app.View(ctx, cn, u, id)
	if err != nil {
		return err
	}
	if v != nil {
		cn.reply(toEvViewers(*v)) // outside the lock: reply waits while cn's queue is full
	}
	return nil
}

// trackViewing makes connection cn drop out of the viewers as soon as it
// starts closing, not only once its close handshake is over (which can take
// seconds when the browser has gone). Defer the function it returns: it
// removes cn for good once cn's handler is done, in case a viewing frame
// raced with the close.
func (s *Server) trackViewing(cn *wsConn) (leave func()) {
	context.AfterFunc(cn.ctx, func() { s.app.LeaveViewing(cn) })
	return func() { s.app.LeaveViewing(cn) }
}
