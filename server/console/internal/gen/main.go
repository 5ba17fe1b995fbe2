// Command gen rebuilds server/console/dist from server/console/src and the
// message catalogs in locale/. Run it through "go generate ./server/console"
// (it expects the console directory as its working directory).
//
// It empties dist/ first, so that no file of an earlier build stays behind.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parley-chat/parley/server/console/internal/bundle"
)

func main() {
	if err := run("src", "dist"); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, dist string) error {
	res, err := bundle.Build(src)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dist); err != nil {
		return err
	}
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	var names []string
	for name := range res.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		path := filepath.Join(dist, name)
		if err := os.WriteFile(path, res.Files[name], 0o644); err != nil {
			return err
		}
		fmt.Printf("gen: %s %d bytes\n", strings.ReplaceAll(path, `\`, "/"), len(res.Files[name]))
	}
	return nil
}
