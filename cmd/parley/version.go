package main

import (
	"runtime"
	"runtime/debug"

	"github.com/parley-chat/parley"
)

// A release build may name itself, whatever the build information says:
//
//	go build -ldflags "-X main.version=v1.4.0 -X main.revision=$(git rev-parse HEAD)" ./cmd/parley
//
// These are set by the linker only; nothing writes them at run time.
var (
	version   string // module version, e.g. "v1.4.0"
	revision  string // VCS commit
	buildTime string // the commit's time, RFC 3339
)

// readBuild returns what the binary knows of its build: the module
// version, VCS revision and time, and Go version from the build
// information, each overridden by its -ldflags -X variable when set.
func readBuild() parley.Build {
	b := parley.Build{Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	for _, o := range []struct {
		to *string
		v  string
	}{{&b.Version, version}, {&b.Revision, revision}, {&b.Time, buildTime}} {
		if o.v != "" {
			*o.to = o.v
		}
	}
	return b
}
