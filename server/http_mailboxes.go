package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Connected mailboxes (E1): an inbox address connected to an existing mail
// account, under /api/v1/inboxes/{id}/mailboxes/{mailboxId}/connection.
// Admins only. Passwords are write-only: answers say passwordSet.

// mailConnectionJSON is a connection in the settings API.
type mailConnectionJSON struct {
	IMAP        mailServerJSON    `json:"imap"`
	SMTP        mailServerJSON    `json:"smtp"`
	Folder      string            `json:"folder"`
	SentFolder  string            `json:"sentFolder"`
	ConnectedAt time.Time         `json:"connectedAt"`
	State       *app.MailboxState `json:"state"`
}

type mailServerJSON struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	TLS         string `json:"tls"`
	Username    string `json:"username"`
	PasswordSet bool   `json:"passwordSet"`
}

func toMailServerJSON(s parley.MailServer) mailServerJSON {
	return mailServerJSON{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, PasswordSet: s.Password != ""}
}

func (s *Server) toMailConnectionJSON(mb *parley.Mailbox) *mailConnectionJSON {
	c := mb.Connection
	if c == nil {
		return nil
	}
	j := &mailConnectionJSON{IMAP: toMailServerJSON(c.IMAP), SMTP: toMailServerJSON(c.SMTP),
		Folder: c.ImportFolder(), SentFolder: c.SentFolder, ConnectedAt: c.ConnectedAt.UTC()}
	st, ok := s.app.MailboxState(mb.ID)
	if !ok {
		st = app.MailboxState{Status: app.MailboxConnecting}
	}
	j.State = &st
	return j
}

// mailConnectionRequest is the body of PUT …/connection and POST
// …/connection/test.
type mailConnectionRequest struct {
	IMAP       mailServerRequest `json:"imap"`
	SMTP       mailServerRequest `json:"smtp"`
	Folder     string            `json:"folder"`
	SentFolder string            `json:"sentFolder"`
}

type mailServerRequest struct {
	Host     string  `json:"host"`
	Port     int     `json:"port"`
	TLS      string  `json:"tls"`
	Username string  `json:"username"`
	Password *string `json:"password"` // absent or "": keep the stored one
}

func (r mailConnectionRequest) input() app.MailConnectionInput {
	srv := func(s mailServerRequest) app.MailServerInput {
		return app.MailServerInput{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Password: s.Password}
	}
	return app.MailConnectionInput{IMAP: srv(r.IMAP), SMTP: srv(r.SMTP), Folder: r.Folder, SentFolder: r.SentFolder}
}

// mailboxPath reads the inbox and mailbox ids of the path.
func mailboxPath(r *http.Request) (inboxID, mailboxID uint64, err error) {
	if inboxID, err = pathID(r, "id"); err != nil {
		return 0, 0, err
	}
	if mailboxID, err = pathID(r, "mailboxId"); err != nil {
		return 0, 0, err
	}
	return inboxID, mailboxID, nil
}

// handleMailConnectionPut connects an inbox address to a mail account, or
// changes its connection, once both servers accept the login; it answers
// with the inbox.
func (s *Server) handleMailConnectionPut() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		inboxID, mailboxID, err := mailboxPath(r)
		if err != nil {
			return err
		}
		var req mailConnectionRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		in, err := s.app.ConnectMailbox(r.Context(), inboxID, mailboxID, req.input())
		if err != nil {
			return err
		}
		s.publishInbox("inbox.updated", in)
		s.writeJSON(w, http.StatusOK, s.toSettingsInboxJSON(in))
		return nil
	})
}

// handleMailConnectionTest logs in to the servers of a connection as the
// request gives it (stored passwords where it leaves them out) and reports
// how each answered, storing nothing.
func (s *Server) handleMailConnectionTest() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		inboxID, mailboxID, err := mailboxPath(r)
		if err != nil {
			return err
		}
		var req mailConnectionRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		t, err := s.app.TestMailConnection(r.Context(), inboxID, mailboxID, req.input())
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"ok": t.OK(), "imap": t.IMAP, "smtp": t.SMTP})
		return nil
	})
}

// handleMailConnectionDelete disconnects an inbox address from its mail
// account; the address stays.
func (s *Server) handleMailConnectionDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		inboxID, mailboxID, err := mailboxPath(r)
		if err != nil {
			return err
		}
		in, err := s.app.DisconnectMailbox(r.Context(), inboxID, mailboxID)
		if err != nil {
			return err
		}
		s.publishInbox("inbox.updated", in)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
