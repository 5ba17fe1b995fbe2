package server

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
)

// prepareTheme is what saving a widget's appearance calls.
func TestPrepareTheme(t *testing.T) {
	th := widget.NewThemes(&widget.ThemeOptions{NoSass: true})
	defer th.Close()
	s := &Server{cfg: Config{Themes: th}, log: zerolog.Nop()}
	ctx := context.Background()
	tests := []struct {
		name string
		a    parley.Appearance
		code string
	}{
		{"valid", parley.Appearance{AccentColor: "#B91C1C", Position: "left", FontSize: "small"}, ""},
		{"default", parley.Appearance{}, ""},
		{"colour name", parley.Appearance{AccentColor: "red"}, parley.EINVALID},
		{"scss in the colour", parley.Appearance{AccentColor: "#000;@debug 1"}, parley.EINVALID},
		{"position", parley.Appearance{Position: "middle"}, parley.EINVALID},
		{"font size", parley.Appearance{FontSize: "xl"}, parley.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.prepareTheme(ctx, tt.a)
			if got := parley.ErrorCode(err); got != tt.code {
				t.Fatalf("code=%q (%v), want %q", got, err, tt.code)
			}
			if err != nil {
				return
			}
			// Ready before the first visitor: the theme is cached.
			a, err := th.CSS(ctx, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := th.Lookup(a.Hash); !ok {
				t.Error("the prepared theme is not cached")
			}
		})
	}
}
