package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parley-chat/parley"
)

// handleBackup streams an archive of everything Parley stores
// (Config.Backup) to an admin. Once the first byte is out, a failure can no
// longer change the status: the connection is cut, and the archive lacks
// the manifest it ends with, which every reader of archives requires.
func (s *Server) handleBackup() http.Handler {
	return s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Backup == nil {
			return parley.Errorf(parley.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
		}
		// A backup ends with the server, or a slow client would hold
		// the store's snapshot open through shutdown.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		name := "parley-" + s.now().Format("20060102T150405Z") + ".tar"
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		start := time.Now()
		cw := &countingWriter{w: w}
		if err := s.cfg.Backup(ctx, cw); err != nil {
			if cw.n == 0 && !errors.Is(err, context.Canceled) {
				return err
			}
			s.log.Warn().Err(err).Int64("bytes", cw.n).Msg("backup cut off")
			panic(http.ErrAbortHandler)
		}
		s.log.Info().Int64("bytes", cw.n).Dur("took", time.Since(start)).Msg("backup streamed")
		return nil
	})
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
