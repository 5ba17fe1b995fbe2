// Command gen rebuilds widget/dist from widget/src. Run it through
// "go generate ./widget" (it expects the widget directory as its working
// directory).
//
// It bundles the loader, the chat UI and chat.css with esbuild, and compiles
// the default theme (src/theme.scss for the default appearance) to
// dist/theme.css with Dart Sass: PARLEY_SASS, or the npm package under the
// repository (see widget.FindSass). Without Dart Sass it keeps the committed
// dist/theme.css and says so; a test compares that file with a real compile.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/widget"
	"github.com/parley-chat/parley/widget/internal/bundle"
)

func main() {
	if err := run("src", "dist"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, dist string) error {
	files, err := bundle.Build(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	for _, name := range bundle.Names {
		if err := write(filepath.Join(dist, name), files[name]); err != nil {
			return err
		}
	}
	return theme(filepath.Join(dist, "theme.css"))
}

// theme compiles the default theme into path.
func theme(path string) error {
	sass := os.Getenv("PARLEY_SASS")
	if sass == "" {
		var err error
		if sass, err = widget.FindSass("..", "."); err != nil {
			fmt.Printf("gen: %s kept as it is: %v\n", path, err)
			return nil
		}
	}
	t := widget.NewThemes(&widget.ThemeOptions{Sass: sass})
	defer t.Close()
	css, err := t.Compile(parley.DefaultWidget(0).Appearance)
	if err != nil {
		return err
	}
	if n := t.Stats().Warnings; n > 0 {
		return fmt.Errorf("theme.scss: dart sass gave %d warnings; fix them", n)
	}
	return write(path, css)
}

func write(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: %s %d bytes\n", path, len(b))
	return nil
}
