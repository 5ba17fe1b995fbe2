package server

import (
	"slices"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// CountHashes counts the argon2id runs of a server made with cfg: how many
// ran, and the most at once. Each run calls hold first, if set, so a test
// can keep runs going.
func CountHashes(cfg *Config, hold func()) (runs, peak *atomic.Int64) {
	runs, peak = new(atomic.Int64), new(atomic.Int64)
	var now atomic.Int64
	orig := argon2.IDKey
	cfg.argon2 = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		runs.Add(1)
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if hold != nil {
			hold()
		}
		return orig(password, salt, time, memory, threads, keyLen)
	}
	return runs, peak
}

// RoutePatterns returns the pattern of every route s serves.
func RoutePatterns(s *Server) []string { return s.patterns }

// OpenAPIDocument is the OpenAPI document the server embeds and serves.
var OpenAPIDocument = openAPIDocument

// QueryParams returns the query parameters the route of pattern reads, and
// whether it reads any parameter at all (a console page).
func QueryParams(pattern string) (names []string, listed, any bool) {
	names, listed = queryParams[pattern]
	return names, listed, slices.Equal(names, anyQuery)
}

// QueryRoutes returns the patterns queryParams names.
func QueryRoutes() []string {
	out := make([]string, 0, len(queryParams))
	for p := range queryParams {
		out = append(out, p)
	}
	return out
}
