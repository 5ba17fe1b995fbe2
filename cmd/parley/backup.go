package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-chat/parley/store"
)

// backupStats is what writing one archive to a file did.
type backupStats struct {
	m     *manifest
	bytes int64
	took  time.Duration
}

func (s backupStats) String() string {
	mbs := float64(s.bytes) / 1e6 / max(s.took.Seconds(), 1e-9)
	return fmt.Sprintf("%d bytes (database %d bytes, %d files of %d bytes, schema version %d) in %s, %.1f MB/s",
		s.bytes, s.m.Database.Size, s.m.Files, s.m.FileBytes, s.m.SchemaVersion, s.took.Round(time.Millisecond), mbs)
}

// backupTo writes an archive to path: first to path.partial, synced, then
// checked in full as a restore would check it (readArchive), and only
// then renamed to path. An existing path is refused; on failure nothing is
// left behind.
func backupTo(path string, write func(io.Writer) error) (backupStats, error) {
	start := time.Now()
	if _, err := os.Lstat(path); err == nil {
		return backupStats{}, fmt.Errorf("backup: %s exists already", path)
	}
	partial := path + ".partial"
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return backupStats{}, fmt.Errorf("backup: %w", err)
	}
	fail := func(err error) (backupStats, error) {
		f.Close()
		os.Remove(partial)
		return backupStats{}, err
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	n, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	m, err := readArchive(f, "")
	if err != nil {
		return fail(fmt.Errorf("backup: the written copy failed its check: %w", err))
	}
	if err := f.Close(); err != nil {
		os.Remove(partial)
		return backupStats{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(partial, path); err != nil {
		os.Remove(partial)
		return backupStats{}, fmt.Errorf("backup: %w", err)
	}
	if err := store.SyncDir(filepath.Dir(path)); err != nil {
		return backupStats{}, fmt.Errorf("backup: %w", err)
	}
	return backupStats{m: m, bytes: n, took: time.Since(start)}, nil
}

// runBackup is parley backup FILE: from the running Parley's admin API, or
// with --data from a data directory no Parley runs on.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley backup [--url URL --token TOKEN | --data DIR] FILE")
		fs.PrintDefaults()
	}
	defURL := getenv("PARLEY_BASE_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:8080"
	}
	url := fs.String("url", defURL, "base URL of the running Parley (env PARLEY_BASE_URL)")
	token := fs.String("token", getenv("PARLEY_TOKEN"), "an admin's API token with the admin scope; prefer the environment variable (env PARLEY_TOKEN)")
	data := fs.String("data", "", "back up this data directory directly instead; no Parley may run on it")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	var write func(io.Writer) error
	if *data != "" {
		dir := *data
		write = func(w io.Writer) error {
			return store.BackupDir(dir, func(s *store.Snapshot) error {
				_, err := writeArchive(ctx, w, s, filepath.Join(dir, filesDir), readBuild().Version, time.Now())
				return err
			})
		}
	} else {
		if *token == "" {
			return errors.New("backup: --token (PARLEY_TOKEN) is needed to back up a running Parley; or --data DIR when it is stopped")
		}
		write = func(w io.Writer) error { return downloadBackup(ctx, strings.TrimRight(*url, "/"), *token, w) }
	}
	st, err := backupTo(file, write)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s\n", file, st)
	return nil
}

// downloadBackup streams GET /api/v1/backup into w.
func downloadBackup(ctx context.Context, base, token string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/backup", nil)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("backup: %s answered %s: %s", base, res.Status, strings.TrimSpace(string(b)))
	}
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("backup: download: %w", err)
	}
	return nil
}

// parseWithFile parses fs's flags around exactly one file argument.
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return "", fmt.Errorf("%s takes one file, got %d", fs.Name(), len(rest))
	}
	return rest[0], nil
}

// runRestore is parley restore FILE --data DIR [--force].
func runRestore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley restore --data DIR [--force] FILE")
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "the data directory to restore into: empty or missing, or with --force one to replace")
	force := fs.Bool("force", false, "replace the database and files of a data directory that has them; no Parley may run on it")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *data == "" {
		return errors.New("restore: --data DIR is required")
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	m, err := restore(f, *data, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s: schema version %d, %d files, taken %s by Parley %s\n",
		file, *data, m.SchemaVersion, m.Files, m.CreatedAt.Format(time.RFC3339), m.ParleyVersion)
	return nil
}

// restoreStage is the directory, inside the data directory, where an
// archive is unpacked and checked before it takes the place of the data.
const restoreStage = ".restore"

// restore checks the archive r in full while unpacking it into dir's
// staging directory, then moves it into place. dir must be empty unless
// force; no Parley may run on it (its lock is held throughout). What else
// dir holds (the ACME certificates, say) stays.
func restore(r io.Reader, dir string, force bool) (*manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if len(entries) > 0 && !force {
		return nil, fmt.Errorf("restore: %s is not empty: restore into an empty directory, or add --force to replace its data", dir)
	}
	release, err := store.Lock(dir)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer release()
	stage := filepath.Join(dir, restoreStage)
	if err := os.RemoveAll(stage); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.Mkdir(stage, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	m, err := readArchive(r, stage)
	if err != nil {
		os.RemoveAll(stage)
		return nil, fmt.Errorf("restore: nothing changed: %w", err)
	}
	// Into place: the old files aside, the new ones in, the database last
	// (a rename over the old one), then the old files go.
	files, old := filepath.Join(dir, filesDir), filepath.Join(stage, "old-files")
	if err := os.Rename(files, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(stage, filesDir), 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(filepath.Join(stage, filesDir), files); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(filepath.Join(stage, store.FileName), filepath.Join(dir, store.FileName)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := store.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.RemoveAll(stage); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return m, nil
}

// runCompact is parley compact --data DIR.
func runCompact(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley compact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the data directory whose database to compact; no Parley may run on it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("compact: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *data == "" {
		return errors.New("compact: --data DIR is required")
	}
	start := time.Now()
	before, after, err := store.Compact(*data)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compacted %s: %d bytes before, %d after (%.0f%%), in %s\n",
		filepath.Join(*data, store.FileName), before, after, 100*float64(after)/float64(max(before, 1)), time.Since(start).Round(time.Millisecond))
	return nil
}

// backupSchedule is the --backup-* configuration of a running Parley.
type backupSchedule struct {
	dir   string
	every time.Duration
	keep  int
	write func(w io.Writer) error // an archive of the running store
	log   zerolog.Logger
}

// scheduledPrefix and scheduledSuffix frame the names of scheduled
// backups; pruning touches no other file.
const (
	scheduledPrefix = "parley-"
	scheduledSuffix = ".tar"
	scheduledTime   = "20060102T150405Z"
)

// run writes a backup every s.every until ctx ends, keeping the newest
// s.keep.
func (s *backupSchedule) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.once(now)
		}
	}
}

// once writes one scheduled backup and prunes the old ones.
func (s *backupSchedule) once(now time.Time) {
	path := filepath.Join(s.dir, scheduledPrefix+now.UTC().Format(scheduledTime)+scheduledSuffix)
	st, err := backupTo(path, s.write)
	if err != nil {
		s.log.Error().Err(err).Str("file", path).Msg("scheduled backup failed")
		return
	}
	// Pruned before the log line, so a reader of the log finds the
	// directory as the line says.
	if err := pruneBackups(s.dir, s.keep); err != nil {
		s.log.Error().Err(err).Msg("prune scheduled backups")
	}
	s.log.Info().Str("file", path).Int64("bytes", st.bytes).Int("files", st.m.Files).
		Dur("took", st.took).Msg("scheduled backup written")
}

// pruneBackups deletes all but the newest keep scheduled backups in dir,
// judged by the time in their names.
func pruneBackups(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		stamp, ok := strings.CutPrefix(name, scheduledPrefix)
		stamp, ok2 := strings.CutSuffix(stamp, scheduledSuffix)
		if !ok || !ok2 || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse(scheduledTime, stamp); err == nil {
			names = append(names, name)
		}
	}
	slices.Sort(names) // the stamps sort as the times do
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}
