package server

import (
	"net/http"

	"github.com/parley-chat/parley"
)

// botJSON is a widget's bot in the settings API: parley.BotFlow with steps
// always a list.
func botJSON(f *parley.BotFlow) parley.BotFlow {
	out := parley.BotFlow{Steps: []parley.BotStep{}}
	if f != nil {
		out = *f
		if out.Steps == nil {
			out.Steps = []parley.BotStep{}
		}
	}
	return out
}

// handleBotGet answers GET /api/v1/widgets/{id}/bot: the widget's bot, or a
// disabled one without steps.
func (s *Server) handleBotGet() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		wd, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		return s.answerBot(w, r, wd)
	})
}

// handleBotPut answers PUT /api/v1/widgets/{id}/bot with a whole BotFlow:
// it replaces the widget's bot once the flow is valid and every team and
// user its hand-offs name exists. Conversations the bot owns go on with the
// new flow from their current step (a step that is gone hands off).
func (s *Server) handleBotPut() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		wd, err := s.widgetParam(r)
		if err != nil {
			return err
		}
		var flow parley.BotFlow
		if err := decodeJSON(w, r, &flow); err != nil {
			return err
		}
		if err := s.app.ValidateBot(r.Context(), &flow); err != nil {
			return err
		}
		wd, err = s.db.UpdateWidget(r.Context(), wd.ID, func(wd *parley.Widget) error {
			wd.Bot = &flow
			return nil
		})
		if err != nil {
			return err
		}
		return s.answerBot(w, r, wd)
	})
}

// answerBot tells widget wd's visitors what they should show now (a running
// bot keeps the widget available, C4) and answers with its bot.
func (s *Server) answerBot(w http.ResponseWriter, r *http.Request, wd *parley.Widget) error {
	s.publishWidget(r.Context(), wd)
	s.writeJSON(w, http.StatusOK, botJSON(wd.Bot))
	return nil
}

// handleBotPreview answers POST /api/v1/bots/preview
// {"bot":BotFlow,"state":BotState|null,"input":{"text","lang","email"}} with
// {"state","actions"}: one turn of the engine that runs conversations, on a
// flow that need not be saved, so that the console's preview follows
// exactly the rules visitors meet. Nothing is stored.
func (s *Server) handleBotPreview() http.Handler {
	type input struct {
		Text  string `json:"text"`
		Lang  string `json:"lang"`
		Email string `json:"email"`
	}
	type request struct {
		Bot   *parley.BotFlow  `json:"bot"`
		State *parley.BotState `json:"state"`
		Input *input           `json:"input"`
	}
	type response struct {
		State   parley.BotState    `json:"state"`
		Actions []parley.BotAction `json:"actions"`
	}
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Bot == nil {
			return parley.Errorf(parley.EINVALID, "bot is required")
		}
		req.Bot.Enabled = true // a preview runs the flow whether or not it is switched on
		if err := req.Bot.Validate(); err != nil {
			return err
		}
		var st parley.BotState
		if req.State != nil {
			st = *req.State
		}
		in := &parley.BotInput{}
		if req.Input != nil {
			if st.Step != "" {
				if err := parley.ValidateText(req.Input.Text); err != nil {
					return err
				}
			}
			in = &parley.BotInput{Text: req.Input.Text, Lang: req.Input.Lang, Email: req.Input.Email}
		}
		next, acts := req.Bot.Next(st, in)
		if acts == nil {
			acts = []parley.BotAction{}
		}
		s.writeJSON(w, http.StatusOK, response{State: next, Actions: acts})
		return nil
	})
}

// handleTakeOver answers POST /api/v1/threads/{threadId}/takeover: the
// caller takes the conversation over from the bot (B1) and is its assignee.
func (s *Server) handleTakeOver() http.Handler {
	return s.threadOpHandler(http.StatusOK, s.app.TakeOver)
}
