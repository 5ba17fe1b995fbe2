// Package console holds Parley's agent console: a single-page app of plain
// HTML, CSS and ES modules, with no build step and no external assets.
//
// The server serves index.html for the base URL and for deep links
// (/threads/{id}), and every other file under /console/, so index.html
// refers to /console/app.js and /console/app.css. The console speaks only the
// public REST API, the session endpoints and the agent WebSocket
// (docs/websocket.md).
package console

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files returns the console's files: index.html, app.js and the modules it
// imports, app.css and icon.svg, at the root of the returned file system.
// It is read-only and safe for concurrent use.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// Unreachable: "static" is a valid path and embedded at build time.
		panic("console: " + err.Error())
	}
	return sub
}
