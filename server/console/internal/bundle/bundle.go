// Package bundle turns the console's sources (server/console/src) into the
// files the browser loads (server/console/dist) with esbuild's Go API, as
// widget/internal/bundle does for the widget. It is the one place the
// esbuild options live: the generator writes its output, and a test rebuilds
// in memory to prove the committed dist/ is fresh.
//
// Every file but index.html and manifest.json is named after its content
// ("app.QGSAPH3C.js"), so that the server can let browsers cache it for good;
// index.html refers to those names, and manifest.json maps each source name
// ("app.js") to the name it is served under, for the server's other pages.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Result is a build of the console.
type Result struct {
	// Files are the built files by the name they are served under, with
	// "index.html" and "manifest.json" among them.
	Files map[string][]byte
	// Names maps each source name ("app.js", "app.css", "setup.js",
	// "invite.js", "icon.svg", and the split-off chunks such as "de.js") to
	// the name it is served under.
	Names map[string]string
}

// The browsers the console supports: those of the last few years, which
// have ES modules, top-level await and the CSS the console uses.
var engines = []api.Engine{
	{Name: api.EngineChrome, Version: "100"},
	{Name: api.EngineEdge, Version: "100"},
	{Name: api.EngineFirefox, Version: "100"},
	{Name: api.EngineSafari, Version: "15.4"},
}

// Build bundles and minifies the sources in srcDir. It returns an error naming
// every esbuild error; warnings are errors too, so that a questionable
// construct never ships silently. Build writes nothing to disk.
func Build(srcDir string) (*Result, error) {
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	res := &Result{Files: map[string][]byte{}, Names: map[string]string{}}
	for _, b := range []struct {
		entries []string
		opts    api.BuildOptions
	}{
		// The console: one ES module, with each catalog but English split
		// off into a chunk that only its readers load.
		{[]string{"app.js"}, api.BuildOptions{Format: api.FormatESModule, Splitting: true}},
		// The setup and invitation pages' classic scripts.
		{[]string{"setup.js", "invite.js"}, api.BuildOptions{Format: api.FormatIIFE}},
		// All the styles, for the console and those pages.
		{[]string{"app.css"}, api.BuildOptions{}},
	} {
		o := b.opts
		for _, e := range b.entries {
			o.EntryPoints = append(o.EntryPoints, filepath.Join(abs, e))
		}
		o.AbsWorkingDir = abs
		o.Outdir = filepath.Join(abs, "out")
		o.EntryNames = "[name].[hash]"
		o.ChunkNames = "[name].[hash]"
		o.Bundle = true
		o.Write = false
		o.MinifyWhitespace = true
		o.MinifyIdentifiers = true
		o.MinifySyntax = true
		o.Charset = api.CharsetUTF8
		o.LegalComments = api.LegalCommentsNone
		o.Platform = api.PlatformBrowser
		o.Engines = engines
		o.LogLevel = api.LogLevelSilent
		out := api.Build(o)
		if msgs := append(out.Errors, out.Warnings...); len(msgs) > 0 {
			return nil, fmt.Errorf("bundle %s: %s", strings.Join(b.entries, ", "), format(msgs))
		}
		for _, f := range out.OutputFiles {
			res.add(filepath.Base(f.Path), f.Contents)
		}
	}
	icon, err := os.ReadFile(filepath.Join(abs, "icon.svg"))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	sum := sha256.Sum256(icon)
	res.add("icon."+base32.StdEncoding.EncodeToString(sum[:])[:8]+".svg", icon)

	index, err := os.ReadFile(filepath.Join(abs, "index.html"))
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if res.Files["index.html"], err = res.rewrite(index); err != nil {
		return nil, err
	}
	manifest, err := json.MarshalIndent(res.Names, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	res.Files["manifest.json"] = append(manifest, '\n')
	return res, nil
}

// add records a built file, served as name ("app.QGSAPH3C.js"), under its
// source name ("app.js").
func (r *Result) add(name string, b []byte) {
	r.Files[name] = b
	parts := strings.Split(name, ".")
	src := strings.Join(append(parts[:len(parts)-2:len(parts)-2], parts[len(parts)-1]), ".")
	r.Names[src] = name
}

var ref = regexp.MustCompile(`(?:src|href)="/console/([^"]+)"`)

// rewrite replaces each /console/<source name> in index.html with the name
// the file is served under; a reference to no built file is an error.
func (r *Result) rewrite(index []byte) ([]byte, error) {
	var missing []string
	out := ref.ReplaceAllFunc(index, func(m []byte) []byte {
		src := string(ref.FindSubmatch(m)[1])
		name, ok := r.Names[src]
		if !ok {
			missing = append(missing, src)
			return m
		}
		return bytes.Replace(m, []byte("/console/"+src), []byte("/console/"+name), 1)
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("bundle: index.html refers to files the build does not make: %s", strings.Join(missing, ", "))
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
