package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
)

// Webhooks in HubSpot's Webhooks v3 shape (/webhooks/v3/{appId}/…), for
// admins, and Parley's extensions for the console: the list of
// subscribers, the delivery log and a test event. docs/webhooks.md
// describes them.

// webhookAppID reads the path's appId: a positive integer, else EINVALID
// naming it.
func webhookAppID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("appId"), 10, 64)
	if err != nil || id == 0 {
		return 0, parley.Errorf(parley.EINVALID, "appId must be a positive integer")
	}
	return id, nil
}

type webhookThrottlingJSON struct {
	MaxConcurrentRequests *int    `json:"maxConcurrentRequests"`
	Period                *string `json:"period,omitempty"`
}

// webhookSettingsRequest is PUT …/settings; clientSecret is Parley's
// write-only extension.
type webhookSettingsRequest struct {
	TargetURL    *string                `json:"targetUrl"`
	Throttling   *webhookThrottlingJSON `json:"throttling"`
	ClientSecret *string                `json:"clientSecret"`
}

type webhookSettingsJSON struct {
	AppID      string                   `json:"appId"`
	TargetURL  string                   `json:"targetUrl"`
	Throttling parley.WebhookThrottling `json:"throttling"`
	CreatedAt  time.Time                `json:"createdAt"`
	UpdatedAt  time.Time                `json:"updatedAt"`
	// ClientSecret is only in the answer that generated it.
	ClientSecret string `json:"clientSecret,omitempty"`
}

func toWebhookSettingsJSON(s *parley.WebhookSettings) webhookSettingsJSON {
	return webhookSettingsJSON{AppID: idString(s.AppID), TargetURL: s.TargetURL, Throttling: s.Throttling, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// handleWebhookSettingsPut creates or replaces a subscriber's settings;
// 200 either way, as HubSpot answers (its clients take nothing else).
func (s *Server) handleWebhookSettingsPut() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		var req webhookSettingsRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.TargetURL == nil {
			return parley.Errorf(parley.EINVALID, "targetUrl is required")
		}
		in := app.WebhookSettingsInput{TargetURL: *req.TargetURL, Secret: req.ClientSecret}
		if t := req.Throttling; t != nil {
			in.MaxConcurrentRequests, in.Period = t.MaxConcurrentRequests, t.Period
		}
		settings, secret, err := s.app.PutWebhookSettings(r.Context(), appID, in)
		if err != nil {
			return err
		}
		out := toWebhookSettingsJSON(settings)
		out.ClientSecret = secret
		s.writeJSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleWebhookSettingsGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		settings, err := s.db.WebhookSettings(r.Context(), appID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toWebhookSettingsJSON(settings))
		return nil
	})
}

func (s *Server) handleWebhookSettingsDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		if err := s.db.DeleteWebhookSettings(r.Context(), appID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleWebhookApps lists every subscriber (Parley's extension, for the
// console).
func (s *Server) handleWebhookApps() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		all, err := s.db.AllWebhookSettings(r.Context())
		if err != nil {
			return err
		}
		out := make([]webhookSettingsJSON, len(all))
		for i, st := range all {
			out[i] = toWebhookSettingsJSON(st)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// ----- subscriptions -----

type webhookSubscriptionJSON struct {
	ID           string    `json:"id"`
	EventType    string    `json:"eventType"`
	PropertyName string    `json:"propertyName,omitempty"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

func toWebhookSubscriptionJSON(sub *parley.WebhookSubscription) webhookSubscriptionJSON {
	return webhookSubscriptionJSON{ID: idString(sub.ID), EventType: sub.EventType, PropertyName: sub.PropertyName,
		Active: sub.Active, CreatedAt: sub.CreatedAt, UpdatedAt: sub.UpdatedAt}
}

// webhookSubscriptionRequest is POST …/subscriptions; as in HubSpot, a
// subscription is paused unless active is true.
type webhookSubscriptionRequest struct {
	EventType    *string `json:"eventType"`
	PropertyName string  `json:"propertyName"`
	Active       bool    `json:"active"`
}

func (s *Server) handleWebhookSubscriptionCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		var req webhookSubscriptionRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.EventType == nil {
			return parley.Errorf(parley.EINVALID, "eventType is required")
		}
		sub := &parley.WebhookSubscription{EventType: *req.EventType, PropertyName: req.PropertyName, Active: req.Active}
		if err := s.app.CreateWebhookSubscription(r.Context(), appID, sub); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toWebhookSubscriptionJSON(sub))
		return nil
	})
}

func (s *Server) handleWebhookSubscriptions() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		subs, err := s.db.WebhookSubscriptions(r.Context(), appID)
		if err != nil {
			return err
		}
		out := make([]webhookSubscriptionJSON, len(subs))
		for i, sub := range subs {
			out[i] = toWebhookSubscriptionJSON(sub)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// webhookSubscriptionPath reads appId and subscriptionId.
func webhookSubscriptionPath(r *http.Request) (appID, id uint64, err error) {
	if appID, err = webhookAppID(r); err != nil {
		return 0, 0, err
	}
	if id, err = pathID(r, "subscriptionId"); err != nil {
		return 0, 0, err
	}
	return appID, id, nil
}

func (s *Server) handleWebhookSubscriptionGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, id, err := webhookSubscriptionPath(r)
		if err != nil {
			return err
		}
		sub, err := s.db.WebhookSubscription(r.Context(), appID, id)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toWebhookSubscriptionJSON(sub))
		return nil
	})
}

// handleWebhookSubscriptionPatch pauses or resumes a subscription: active
// is the one field HubSpot lets change.
func (s *Server) handleWebhookSubscriptionPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, id, err := webhookSubscriptionPath(r)
		if err != nil {
			return err
		}
		var req struct {
			Active *bool `json:"active"`
		}
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Active == nil {
			return parley.Errorf(parley.EINVALID, "active is required")
		}
		sub, err := s.app.UpdateWebhookSubscription(r.Context(), appID, id, func(sub *parley.WebhookSubscription) { sub.Active = *req.Active })
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toWebhookSubscriptionJSON(sub))
		return nil
	})
}

func (s *Server) handleWebhookSubscriptionDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, id, err := webhookSubscriptionPath(r)
		if err != nil {
			return err
		}
		if err := s.db.DeleteWebhookSubscription(r.Context(), appID, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleWebhookSubscriptionsBatch pauses and resumes several
// subscriptions ({"inputs":[{"id","active"}]}), each on its own; it
// answers with the subscriptions as written. An unknown id fails the
// request before anything is changed.
func (s *Server) handleWebhookSubscriptionsBatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		var req struct {
			Inputs []struct {
				ID     *uint64 `json:"id"`
				Active *bool   `json:"active"`
			} `json:"inputs"`
		}
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if len(req.Inputs) == 0 || len(req.Inputs) > parley.WebhookBatchSize {
			return parley.Errorf(parley.EINVALID, "inputs must hold 1 to %d subscriptions", parley.WebhookBatchSize)
		}
		ctx := r.Context()
		for i, in := range req.Inputs {
			if in.ID == nil || in.Active == nil {
				return parley.Errorf(parley.EINVALID, "inputs[%d] needs id and active", i)
			}
			if _, err := s.db.WebhookSubscription(ctx, appID, *in.ID); err != nil {
				return err
			}
		}
		started := s.now()
		out := make([]webhookSubscriptionJSON, 0, len(req.Inputs))
		for _, in := range req.Inputs {
			sub, err := s.app.UpdateWebhookSubscription(ctx, appID, *in.ID, func(sub *parley.WebhookSubscription) { sub.Active = *in.Active })
			if err != nil {
				return err
			}
			out = append(out, toWebhookSubscriptionJSON(sub))
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": out, "startedAt": started, "completedAt": s.now()})
		return nil
	})
}

// ----- the delivery log and test events (Parley's extensions) -----

type webhookAttemptJSON struct {
	At        time.Time `json:"at"`
	Events    int       `json:"events"`
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error,omitempty"`
	LatencyMs int64     `json:"latencyMs"`
	Outcome   string    `json:"outcome"`
	Attempt   int       `json:"attemptNumber"`
	Test      bool      `json:"test"`
}

func toWebhookAttemptJSON(a parley.WebhookAttempt) webhookAttemptJSON {
	return webhookAttemptJSON{At: a.At, Events: a.Events, Status: a.Status, Error: a.Error, LatencyMs: a.Latency.Milliseconds(),
		Outcome: a.Outcome, Attempt: a.Attempt, Test: a.Test}
}

func (s *Server) handleWebhookLog() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		ctx := r.Context()
		if _, err := s.db.WebhookSettings(ctx, appID); err != nil {
			return err
		}
		log, err := s.db.WebhookLog(ctx, appID)
		if err != nil {
			return err
		}
		out := make([]webhookAttemptJSON, len(log))
		for i, a := range log {
			out[i] = toWebhookAttemptJSON(a)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

// handleWebhookTest sends one signed test event and answers with how it
// went (200 whatever the target answered: the attempt says it).
func (s *Server) handleWebhookTest() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		appID, err := webhookAppID(r)
		if err != nil {
			return err
		}
		if r.ContentLength > 0 {
			var req struct{}
			if err := decodeJSON(w, r, &req); err != nil {
				return err
			}
		}
		att, err := s.app.SendTestWebhook(r.Context(), appID)
		if err != nil {
			return err
		}
		s.writeJSON(w, http.StatusOK, toWebhookAttemptJSON(att))
		return nil
	})
}
