package server

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Custom channels in the shape of HubSpot's custom channels API
// (/conversations/v3/custom-channels/…), for admins (an admin API token,
// also as hapikey): registering channels and their accounts, publishing
// what a channel's users send, and the status of the agents' replies,
// which Parley sends to the channel's webhook URL. docs/api.md describes
// them.

const customChannels = "/conversations/v3/custom-channels"

type customChannelJSON struct {
	ID                    string                     `json:"id"`
	Name                  string                     `json:"name"`
	WebhookURL            string                     `json:"webhookUrl,omitempty"`
	Description           string                     `json:"channelDescription,omitempty"`
	LogoURL               string                     `json:"channelLogoUrl,omitempty"`
	ConnectionRedirectURL string                     `json:"channelAccountConnectionRedirectUrl,omitempty"`
	Capabilities          parley.ChannelCapabilities `json:"capabilities"`
	CreatedAt             msTime                     `json:"createdAt"`
	// AppID is Parley's extension: the app whose secret signs the
	// channel's webhooks.
	AppID string `json:"appId"`
}

func toCustomChannelJSON(c *parley.CustomChannel) customChannelJSON {
	caps := c.Capabilities
	caps.ThreadingModel = c.ThreadingModel()
	for _, l := range []*[]string{&caps.DeliveryIdentifierTypes, &caps.RichText, &caps.OutgoingAttachmentTypes, &caps.AllowedFileAttachmentMimeTypes} {
		if *l == nil {
			*l = []string{}
		}
	}
	return customChannelJSON{ID: idString(c.ID), Name: c.Name, WebhookURL: c.WebhookURL, Description: c.Description,
		LogoURL: c.LogoURL, ConnectionRedirectURL: c.ConnectionRedirectURL, Capabilities: caps,
		CreatedAt: msTime(c.CreatedAt), AppID: idString(c.AppID)}
}

// customChannelRequest is POST and PATCH of a channel.
type customChannelRequest struct {
	Name                  *string                     `json:"name"`
	WebhookURL            *string                     `json:"webhookUrl"`
	Description           *string                     `json:"channelDescription"`
	LogoURL               *string                     `json:"channelLogoUrl"`
	ConnectionRedirectURL *string                     `json:"channelAccountConnectionRedirectUrl"`
	Capabilities          *parley.ChannelCapabilities `json:"capabilities"`
}

func (req *customChannelRequest) input() app.CustomChannelInput {
	return app.CustomChannelInput{Name: req.Name, WebhookURL: req.WebhookURL, Description: req.Description,
		LogoURL: req.LogoURL, ConnectionRedirectURL: req.ConnectionRedirectURL, Capabilities: req.Capabilities}
}

// customChannelID reads the path's channelId: a channel that does not
// exist is ENOTFOUND.
func (s *Server) customChannelID(r *http.Request) (uint64, error) {
	id, err := pathID(r, "channelId")
	if err != nil || !parley.IsCustomChannel(int(min(id, parley.CustomChannelEnd))) {
		return 0, parley.Errorf(parley.ENOTFOUND, "custom channel %s not found", limitString(r.PathValue("channelId"), 40))
	}
	return id, nil
}

// handleCustomChannelCreate registers a channel of the app that ?appId=
// names, as HubSpot's developer API does.
func (s *Server) handleCustomChannelCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := queryID(r, "appId")
		if err != nil {
			return err
		}
		if appID == 0 {
			return parley.Errorf(parley.EINVALID, "appId is required: the app (webhook subscriber) whose secret signs the channel's webhooks")
		}
		var req customChannelRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		c, err := s.app.RegisterCustomChannel(r.Context(), appID, req.input())
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toCustomChannelJSON(c))
		return nil
	})
}

// handleCustomChannels lists the channels, those of ?appId= if given.
func (s *Server) handleCustomChannels() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := queryID(r, "appId")
		if err != nil {
			return err
		}
		all, err := s.db.CustomChannels(r.Context())
		if err != nil {
			return err
		}
		out := []customChannelJSON{}
		for _, c := range all {
			if appID == 0 || c.AppID == appID {
				out = append(out, toCustomChannelJSON(c))
			}
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out, "total": len(out)})
		return nil
	})
}

func (s *Server) handleCustomChannelGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		c, err := s.db.CustomChannel(r.Context(), id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toCustomChannelJSON(c))
		return nil
	})
}

func (s *Server) handleCustomChannelPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		var req customChannelRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		c, err := s.app.UpdateCustomChannel(r.Context(), id, req.input())
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toCustomChannelJSON(c))
		return nil
	})
}

func (s *Server) handleCustomChannelDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		if err := s.db.DeleteCustomChannel(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// ----- channel accounts -----

type customAccountJSON struct {
	ID                 string                     `json:"id"`
	ChannelID          string                     `json:"channelId"`
	InboxID            string                     `json:"inboxId"`
	Name               string                     `json:"name"`
	DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier,omitempty"`
	Authorized         bool                       `json:"authorized"`
	Active             bool                       `json:"active"`
	Archived           bool                       `json:"archived"`
	ArchivedAt         *msTime                    `json:"archivedAt,omitempty"`
	CreatedAt          msTime                     `json:"createdAt"`
}

func toCustomAccountJSON(a *parley.ChannelAccount) customAccountJSON {
	return customAccountJSON{ID: idString(a.ID), ChannelID: idString(a.ChannelID), InboxID: idString(a.InboxID), Name: a.Name,
		DeliveryIdentifier: a.DeliveryIdentifier, Authorized: a.Authorized, Active: a.Authorized && !a.Archived,
		Archived: a.Archived, ArchivedAt: msTimeOrNil(a.ArchivedAt), CreatedAt: msTime(a.CreatedAt)}
}

// customAccountRequest is POST and PATCH of a channel account; inboxId
// is a string, as HubSpot sends it (a number is taken too).
type customAccountRequest struct {
	InboxID            *flexID                    `json:"inboxId"`
	Name               *string                    `json:"name"`
	DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier"`
	Authorized         *bool                      `json:"authorized"`
	Archived           *bool                      `json:"archived"`
}

func (req *customAccountRequest) input() (app.ChannelAccountInput, error) {
	in := app.ChannelAccountInput{Name: req.Name, DeliveryIdentifier: req.DeliveryIdentifier, Authorized: req.Authorized, Archived: req.Archived}
	if req.InboxID != nil {
		id, err := positiveID("inboxId", req.InboxID)
		if err != nil {
			return in, err
		}
		in.InboxID = &id
	}
	return in, nil
}

func (s *Server) handleCustomAccountCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		var req customAccountRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Archived != nil {
			return parley.Errorf(parley.EINVALID, "archived: a new account is not archived; archive it with PATCH")
		}
		in, err := req.input()
		if err != nil {
			return err
		}
		a, err := s.app.CreateChannelAccount(r.Context(), id, in)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toCustomAccountJSON(a))
		return nil
	})
}

func (s *Server) handleCustomAccounts() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		if _, err := s.db.CustomChannel(r.Context(), id); err != nil {
			return err
		}
		all, err := s.db.ChannelAccounts(r.Context(), id)
		if err != nil {
			return err
		}
		out := make([]customAccountJSON, len(all))
		for i, a := range all {
			out[i] = toCustomAccountJSON(a)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out, "total": len(out)})
		return nil
	})
}

func (s *Server) handleCustomAccountGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		accID, err := pathID(r, "channelAccountId")
		if err != nil {
			return err
		}
		a, err := s.app.ChannelAccountOf(r.Context(), id, accID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toCustomAccountJSON(a))
		return nil
	})
}

func (s *Server) handleCustomAccountPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		accID, err := pathID(r, "channelAccountId")
		if err != nil {
			return err
		}
		var req customAccountRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		in, err := req.input()
		if err != nil {
			return err
		}
		a, err := s.app.UpdateChannelAccount(r.Context(), id, accID, in)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toCustomAccountJSON(a))
		return nil
	})
}

// ----- messages -----

type channelActorRequest struct {
	Name               string                     `json:"name"`
	DeliveryIdentifier *parley.DeliveryIdentifier `json:"deliveryIdentifier"`
	SenderActorID      string                     `json:"senderActorId"`
}

// channelMessageRequest is a message published on a channel. What
// Parley does not offer is refused by name (see handleChannelMessageCreate).
type channelMessageRequest struct {
	Text                     string                 `json:"text"`
	RichText                 string                 `json:"richText"`
	MessageDirection         string                 `json:"messageDirection"`
	ChannelAccountID         *flexID                `json:"channelAccountId"`
	Senders                  []channelActorRequest  `json:"senders"`
	Recipients               []channelActorRequest  `json:"recipients"`
	IntegrationThreadID      string                 `json:"integrationThreadId"`
	IntegrationIdempotencyID string                 `json:"integrationIdempotencyId"`
	Timestamp                *time.Time             `json:"timestamp"`
	AssociateWithContactID   *flexID                `json:"associateWithContactId"`
	InReplyToID              *string                `json:"inReplyToId"`
	Attachments              []map[string]any       `json:"attachments"`
	PreResolvedContacts      map[string]interface{} `json:"preResolvedContacts"`
}

// handleChannelMessageCreate publishes what a channel's user sent: 201
// with the message, 200 with the first copy for a repeated
// integrationIdempotencyId.
func (s *Server) handleChannelMessageCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		var req channelMessageRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		switch {
		case req.MessageDirection == "OUTGOING":
			return parley.Errorf(parley.EINVALID, "messageDirection OUTGOING (a message sent outside Parley) is not offered: publish INCOMING messages; agents' replies come to the channel's webhook")
		case req.MessageDirection != "INCOMING":
			return parley.Errorf(parley.EINVALID, "messageDirection must be INCOMING")
		case req.ChannelAccountID == nil:
			return parley.Errorf(parley.EINVALID, "channelAccountId is required")
		case len(req.Senders) != 1:
			return parley.Errorf(parley.EINVALID, "senders must name exactly one sender, not %d", len(req.Senders))
		case req.Senders[0].DeliveryIdentifier == nil:
			return parley.Errorf(parley.EINVALID, "senders[0].deliveryIdentifier is required")
		case req.Senders[0].SenderActorID != "":
			return parley.Errorf(parley.EINVALID, "senders[0].senderActorId is not offered: an INCOMING message is from the channel's user")
		case req.Attachments != nil:
			return parley.Errorf(parley.EINVALID, "attachments are not offered on published messages: send links in the text")
		case req.PreResolvedContacts != nil:
			return parley.Errorf(parley.EINVALID, "preResolvedContacts is not offered: use associateWithContactId")
		case req.InReplyToID != nil:
			return parley.Errorf(parley.EINVALID, "inReplyToId is not offered: a conversation's messages follow one another")
		}
		accID, err := positiveID("channelAccountId", req.ChannelAccountID)
		if err != nil {
			return err
		}
		acc, err := s.app.ChannelAccountOf(r.Context(), id, accID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Errorf(parley.EINVALID, "channelAccountId %d names no account of channel %d", accID, id)
		} else if err != nil {
			return err
		}
		for i, rc := range req.Recipients {
			// The recipient is the account: one that names another is
			// refused rather than forgotten.
			if rc.SenderActorID != "" || rc.DeliveryIdentifier == nil || acc.DeliveryIdentifier == nil || *rc.DeliveryIdentifier != *acc.DeliveryIdentifier {
				return parley.Errorf(parley.EINVALID, "recipients[%d] must be the channel account's deliveryIdentifier (or leave recipients out)", i)
			}
		}
		in := app.ChannelMessageInput{
			AccountID: accID, Text: req.Text, RichText: req.RichText,
			Sender:              app.ChannelSender{Name: req.Senders[0].Name, DeliveryIdentifier: *req.Senders[0].DeliveryIdentifier},
			IntegrationThreadID: req.IntegrationThreadID, IdempotencyID: req.IntegrationIdempotencyID,
		}
		if req.Timestamp != nil {
			in.Timestamp = *req.Timestamp
		}
		if req.AssociateWithContactID != nil {
			if in.ContactID, err = positiveID("associateWithContactId", req.AssociateWithContactID); err != nil {
				return err
			}
		}
		m, t, dup, err := s.app.PublishChannelMessage(r.Context(), id, in)
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if dup {
			status = http.StatusOK
		}
		s.writeJSON(w, status, s.toChannelMessageJSON(r, t, m))
		return nil
	})
}

func (s *Server) handleChannelMessageGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		msgID, err := pathID(r, "messageId")
		if err != nil {
			return err
		}
		m, t, err := s.app.ChannelMessage(r.Context(), id, msgID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toChannelMessageJSON(r, t, m))
		return nil
	})
}

// handleChannelMessagePatch records the status of an agent's reply as
// the integration reports it.
func (s *Server) handleChannelMessagePatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.customChannelID(r)
		if err != nil {
			return err
		}
		msgID, err := pathID(r, "messageId")
		if err != nil {
			return err
		}
		var req struct {
			StatusType   string `json:"statusType"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		m, t, err := s.app.SetChannelMessageStatus(r.Context(), id, msgID, req.StatusType, req.ErrorMessage)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, s.toChannelMessageJSON(r, t, m))
		return nil
	})
}

// toChannelMessageJSON is m in the conversations API's shape, with the
// integration's fields.
func (s *Server) toChannelMessageJSON(r *http.Request, t *parley.Thread, m *parley.Message) messageJSON {
	return s.toMessageJSON(r.Context(), t, m, map[string]string{})
}

// positiveID returns id, or EINVALID naming field when it is 0.
func positiveID(field string, id *flexID) (uint64, error) {
	if *id == 0 {
		return 0, parley.Errorf(parley.EINVALID, "%s must be a positive integer", field)
	}
	return uint64(*id), nil
}
