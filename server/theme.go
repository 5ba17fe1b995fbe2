package server

import (
	"context"
	"net/http"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// ThemeCompiler turns a widget's appearance into its theme stylesheet and
// finds compiled themes by hash. *widget.Themes implements it.
type ThemeCompiler interface {
	CSS(ctx context.Context, a parley.Appearance) (widget.Asset, error)
	Fallback(a parley.Appearance) (widget.Asset, error)
	Lookup(hash string) (widget.Asset, bool)
}

// themePath is where theme stylesheets are served, followed by {hash}.css.
const themePath = "/widget/v1/theme/"

// prepareTheme checks appearance a as an admin saves it and compiles its
// theme, so that the first visitor after the change finds it ready. It
// returns EINVALID (naming the field) for an appearance that
// parley.ValidateAppearance refuses. A compile that fails is logged, not
// returned: the settings are valid, and visitors get the fallback theme
// until a compile succeeds.
func (s *Server) prepareTheme(ctx context.Context, a parley.Appearance) error {
	if err := parley.ValidateAppearance(a); err != nil {
		return err
	}
	if _, err := s.cfg.Themes.CSS(ctx, a); err != nil {
		s.log.Warn().Err(err).Msg("compile widget theme")
	}
	return nil
}

// themeURL returns the absolute URL of the theme stylesheet of widget wd,
// compiling it if it is not cached (after a restart, for one). A failed
// compile is logged and answered with the fallback theme; a stored
// appearance that no longer validates gets the default theme.
func (s *Server) themeURL(r *http.Request, wd *parley.Widget) string {
	a, err := s.cfg.Themes.CSS(r.Context(), wd.Appearance)
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Warn().Err(err).Uint64("widgetId", wd.ID).Msg("widget theme: using the fallback")
		}
		if a, err = s.cfg.Themes.Fallback(wd.Appearance); err != nil {
			a, _ = s.cfg.Themes.Fallback(parley.Appearance{})
		}
	}
	return s.baseURL(r) + themePath + a.Hash + ".css"
}
