package server

import (
	"context"
	"net/http"
	"slices"

	"github.com/parley-chat/parley"
)

// Teams in the settings API.

func toTeamJSON(t *parley.Team) groupJSON {
	return toGroupJSON(t.ID, t.Name, t.MemberIDs, t.CreatedAt, t.UpdatedAt)
}

func (s *Server) handleTeams() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		teams, err := s.db.Teams(r.Context())
		if err != nil {
			return err
		}
		out := make([]groupJSON, len(teams))
		for i, t := range teams {
			out[i] = toTeamJSON(t)
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": out})
		return nil
	})
}

func teamNames(teams []*parley.Team) func(yield func(uint64, string) bool) {
	return func(yield func(uint64, string) bool) {
		for _, t := range teams {
			if !yield(t.ID, t.Name) {
				return
			}
		}
	}
}

// teamNameFree returns ECONFLICT if a team other than id (0 for a new one)
// is called name, in any case.
func (s *Server) teamNameFree(ctx context.Context, name string, id uint64) error {
	teams, err := s.db.Teams(ctx)
	if err == nil && nameTaken(name, id, teamNames(teams)) {
		err = parley.Errorf(parley.ECONFLICT, "a team named %q already exists", name)
	}
	return err
}

func (s *Server) handleTeamCreate() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		var req groupRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req, true)
		if err != nil {
			return err
		}
		if err := s.teamNameFree(ctx, *name, 0); err != nil {
			return err
		}
		t := &parley.Team{Name: *name, MemberIDs: members, CreatedAt: s.now()}
		if err := s.db.CreateTeam(ctx, t); err != nil {
			return err
		}
		s.writeJSON(w, http.StatusCreated, toTeamJSON(t))
		return nil
	})
}

func (s *Server) handleTeamPatch() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req groupRequest
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		name, members, err := s.checkGroup(ctx, req, false)
		if err != nil {
			return err
		}
		if name != nil {
			if err := s.teamNameFree(ctx, *name, id); err != nil {
				return err
			}
		}
		t, err := s.db.UpdateTeam(ctx, id, func(t *parley.Team) error {
			if name != nil {
				t.Name = *name
			}
			if members != nil {
				t.MemberIDs = slices.Clone(members)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if members != nil {
			s.app.PeopleChanged() // routing to teams and availability follow members
		}
		s.writeJSON(w, http.StatusOK, toTeamJSON(t))
		return nil
	})
}

func (s *Server) handleTeamDelete() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := s.db.DeleteTeam(r.Context(), id); err != nil {
			return err
		}
		s.app.PeopleChanged()
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
