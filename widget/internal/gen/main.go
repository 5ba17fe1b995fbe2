// Command gen rebuilds widget/dist from widget/src. Run it through
// "go generate ./widget" (it expects the widget directory as its working
// directory).
package main

import (
	"fmt"
	"os"
	"path/filepath"

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
		if err := os.WriteFile(filepath.Join(dist, name), files[name], 0o644); err != nil {
			return err
		}
		fmt.Printf("gen: %s/%s %d bytes\n", dist, name, len(files[name]))
	}
	return nil
}
