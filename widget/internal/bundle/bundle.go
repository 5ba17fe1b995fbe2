// Package bundle turns the widget's sources (widget/src) into the files its
// browser loads (widget/dist) with esbuild's Go API. It is the one place the
// esbuild options live: the generator writes its output, and a test rebuilds
// in memory to prove the committed dist/ is fresh.
package bundle

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Files are the built widget files, by name: "embed.js" (the loader, an IIFE
// for ES2019 browsers), "chat.js" (the chat UI, an ES module) and "chat.css".
type Files map[string][]byte

// Names lists the files Build returns, in a stable order.
var Names = []string{"embed.js", "chat.js", "chat.css"}

// Build bundles and minifies the sources in srcDir. It returns an error naming
// every esbuild error; warnings are errors too, so that a questionable
// construct never ships silently. Build writes nothing to disk.
func Build(srcDir string) (Files, error) {
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	out := Files{}
	for _, e := range []struct {
		entry, name string
		opts        api.BuildOptions
	}{
		{"loader.js", "embed.js", api.BuildOptions{
			Format: api.FormatIIFE,
			// The loader must run on old browsers' pages without a syntax
			// error; import() is only reached on browsers that have it.
			Target:    api.ES2019,
			Supported: map[string]bool{"dynamic-import": true},
		}},
		{"chat.js", "chat.js", api.BuildOptions{
			Format: api.FormatESModule,
			Target: api.ES2019,
		}},
		{"chat.css", "chat.css", api.BuildOptions{
			Engines: []api.Engine{
				{Name: api.EngineChrome, Version: "90"},
				{Name: api.EngineFirefox, Version: "90"},
				{Name: api.EngineSafari, Version: "14"},
			},
		}},
	} {
		o := e.opts
		o.EntryPoints = []string{filepath.Join(abs, e.entry)}
		o.AbsWorkingDir = abs
		o.Outfile = filepath.Join(abs, "out", e.name)
		o.Bundle = true
		o.Write = false
		o.MinifyWhitespace = true
		o.MinifyIdentifiers = true
		o.MinifySyntax = true
		o.LegalComments = api.LegalCommentsNone
		o.Platform = api.PlatformBrowser
		o.LogLevel = api.LogLevelSilent
		res := api.Build(o)
		if msgs := append(res.Errors, res.Warnings...); len(msgs) > 0 {
			return nil, fmt.Errorf("bundle %s: %s", e.entry, format(msgs))
		}
		if len(res.OutputFiles) != 1 {
			return nil, fmt.Errorf("bundle %s: %d output files, want 1", e.entry, len(res.OutputFiles))
		}
		out[e.name] = res.OutputFiles[0].Contents
	}
	return out, nil
}

func format(msgs []api.Message) string {
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("; ")
		}
		if m.Location != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column)
		}
		b.WriteString(m.Text)
	}
	return b.String()
}
