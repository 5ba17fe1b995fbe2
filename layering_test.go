package parley_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layers says which packages of this module each package may import (not
// counting its tests): the root and locale (the message catalogs) are pure;
// each dependency package implements the root's contract and knows no other;
// app holds the use cases over the root's interfaces; server adapts app and
// the root's interfaces to HTTP, calling only widget's functions directly;
// only cmd/parley wires everything. A package missing here fails the test,
// so a new one takes its place in the layering on purpose.
// docs/architecture.md describes the layers.
var layers = map[string][]string{
	"":                               {},
	"locale":                         {},
	"hub":                            {"", "internal/evqueue"},
	"store":                          {""},
	"pgstore":                        {""},
	"natsbus":                        {"", "internal/evqueue"},
	"mail":                           {"", "richtext"},
	"blob":                           {""},
	"richtext":                       {""},
	"widget":                         {""},
	"widget/internal/bundle":         {},
	"widget/internal/gen":            {"", "widget", "widget/internal/bundle"},
	"app":                            {"", "locale", "richtext"},
	"server/console":                 {},
	"server/console/internal/bundle": {},
	"server/console/internal/gen":    {"server/console/internal/bundle"},
	"server":                         {"", "app", "locale", "richtext", "widget", "server/console"},
	"metrics":                        {""},
	"cmd/parley":                     {"", "app", "blob", "hub", "mail", "metrics", "server", "store", "widget"},
	"internal/mailpit":               {},
	"internal/imaptest":              {},
	"internal/benchhub":              {},
	"internal/pgtest":                {},
	"internal/evqueue":               {},
	"internal/storetest":             {""},
	"internal/brokertest":            {""},
}

// TestLayering runs go list over the module and checks every package's
// imports against layers.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Module", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Module     struct{ Path string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		mod := p.Module.Path
		rel := func(path string) (string, bool) {
			if path == mod {
				return "", true
			}
			r, ok := strings.CutPrefix(path, mod+"/")
			return r, ok
		}
		name, _ := rel(p.ImportPath)
		allowed, ok := layers[name]
		if !ok {
			t.Errorf("package %q has no place in the layering: add it to layers", p.ImportPath)
			continue
		}
		seen++
		for _, imp := range p.Imports {
			if r, ours := rel(imp); ours && !slices.Contains(allowed, r) {
				t.Errorf("%s imports %s, which the layering forbids", p.ImportPath, imp)
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list reported %d of this module's packages; want them all", seen)
	}
}
