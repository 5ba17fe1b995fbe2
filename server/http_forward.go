package server

import (
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Copies and forwarding of threads (Parley's own API): who the next email
// reply goes to, and forwarding a thread by email.

// addressJSON is an email address with an optional name.
type addressJSON struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

func toAddressesJSON(as []parley.Address) []addressJSON {
	out := make([]addressJSON, len(as))
	for i, a := range as {
		out[i] = addressJSON{Name: a.Name, Email: a.Email}
	}
	return out
}

// addressList is the plain addresses of a list, nil for none; each is
// checked where it is used (parley.CopyAddress).
func addressList(l *[]string) []parley.Address {
	if l == nil {
		return nil
	}
	out := make([]parley.Address, len(*l))
	for i, a := range *l {
		out[i] = parley.Address{Email: a}
	}
	return out
}

// handleReplyRecipients answers who the next email reply on a thread goes
// to by default: {"to":{…},"cc":[…]}. Only members of the inbox (others:
// 404); a chat thread is a 400.
func (s *Server) handleReplyRecipients() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "threadId")
		if err != nil {
			return err
		}
		to, cc, err := s.app.ReplyDefaults(r.Context(), userFrom(r.Context()), id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"to": addressJSON{Name: to.Name, Email: to.Email}, "cc": toAddressesJSON(cc)})
		return nil
	})
}

// handleForward forwards a thread by email: {"to":["…"],"note","clientId"}
// → 201 and the SYSTEM message (event forwarded) that records it, in the
// conversations API's shape, its status the email's delivery.
func (s *Server) handleForward() http.Handler {
	type request struct {
		To       []string `json:"to"`
		Note     string   `json:"note"`
		ClientID string   `json:"clientId"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		t, err := s.threadBody(w, r, &req)
		if err != nil {
			return err
		}
		m, t, err := s.app.ForwardThread(r.Context(), userFrom(r.Context()), t.ID, app.Forward{
			To: addressList(&req.To), Note: req.Note, ClientID: req.ClientID,
		})
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, s.toMessageJSON(r.Context(), t, m, map[string]string{}))
		return nil
	})
}
