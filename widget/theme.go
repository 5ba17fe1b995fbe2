package widget

import (
	"container/list"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bep/godartsass/v2"

	"github.com/parley-chat/parley"
)

// themeSource is the theme's SCSS, compiled at run time for each appearance.
//
//go:embed src/theme.scss
var themeSource string

// themeDefaultCSS is themeSource compiled for the default appearance by
// "go generate ./widget", so that Parley runs without Dart Sass.
//
//go:embed dist/theme.css
var themeDefaultCSS []byte

// themeRetryAfter is how long CSS answers with Fallback for an appearance
// whose compile failed before it tries again, so that a broken Dart Sass is
// not restarted on every page view.
const themeRetryAfter = 30 * time.Second

// themeURL is the one module the theme's compile may load: the embedded
// theme.scss. Nothing is read from disk.
const themeURL = "parley:theme"

// Font sizes of the theme, in px, per parley.Appearance.FontSize.
var themeFontPx = map[string]int{
	parley.FontSmall:  13,
	parley.FontMedium: 15,
	parley.FontLarge:  17,
}

// ThemeOptions configure Themes. A nil *ThemeOptions means the defaults.
type ThemeOptions struct {
	// Sass is the path of Dart Sass's launcher, which must speak the embedded
	// protocol: the npm package sass-embedded-linux-x64 ships it as
	// node_modules/sass-embedded-linux-x64/dart-sass/sass. Defaults to what
	// FindSass finds from the working directory and the executable's
	// directory; if it finds nothing, compiling is off (see SassError).
	Sass string
	// NoSass turns compiling off whatever Sass says: every appearance gets
	// Fallback's stylesheet.
	NoSass bool
	// Timeout bounds one compile, including the start of Dart Sass.
	// Defaults to 10s.
	Timeout time.Duration
	// CacheSize is how many compiled themes are kept; the least recently used
	// goes first. The default theme is always kept on top of these. Defaults
	// to 256.
	CacheSize int
	// Now is the clock that times the wait before a theme that failed to
	// compile is tried again. It must be safe for concurrent use. Defaults to
	// time.Now.
	Now func() time.Time
	// Compiled, when set, hears of every compile Dart Sass finished: how
	// long it took and its error (nil for success). It is called on the
	// compiling goroutine and must be cheap.
	Compiled func(d time.Duration, err error)
	// Warn, when set, hears what Dart Sass reports besides the CSS: its
	// warnings and deprecation notices (deprecation true) and anything it
	// writes to its standard error, each shortened to its first line. It
	// must be safe for concurrent use. When nil these are dropped (they are
	// still counted in ThemeStats.Warnings).
	Warn func(msg string, deprecation bool)
}

// ThemeStats are counters of a Themes since NewThemes.
type ThemeStats struct {
	Compiles int // compiles Dart Sass finished, successful or not
	Starts   int // Dart Sass processes started
	Hits     int // CSS answers served from the cache
	Cached   int // themes in the cache now, the default not counted
	Warnings int // @warn and deprecation messages Dart Sass gave
}

// Themes turns a widget's appearance into its theme stylesheet, the layer
// that sets the accent, its derived shades, the font size and the side on
// top of chat.css (see src/theme.scss). It compiles theme.scss with Dart Sass
// through godartsass, one process kept running and restarted when it dies,
// and keeps the results in a bounded cache by normalised appearance. The
// default appearance needs no compile: its theme is precompiled into the
// binary.
//
// A Themes is safe for concurrent use. Close it to stop Dart Sass.
type Themes struct {
	opts    ThemeOptions
	sassErr error // why compiling is off; nil when it is on
	def     Asset // the precompiled default theme
	defKey  themeKey

	// trMu guards the Dart Sass process. It is held while a process starts,
	// never while a compile runs (godartsass multiplexes compiles).
	trMu   sync.Mutex
	tr     *godartsass.Transpiler
	closed bool

	mu       sync.Mutex // guards everything below
	lru      *list.List // of *themeEntry, most recently used first
	byKey    map[themeKey]*list.Element
	byHash   map[string]*list.Element
	inflight map[themeKey]*themeFlight
	failed   map[themeKey]time.Time // when a compile of the key last failed
	stats    ThemeStats
	wg       sync.WaitGroup // compiles running
}

// themeKey is a normalised appearance: only what the theme depends on.
type themeKey struct {
	accent   string // #rrggbb, lower case
	position string // left or right
	fontPx   int    // 13, 15 or 17
	fallback bool   // Fallback's stylesheet rather than a compiled one
}

type themeEntry struct {
	key   themeKey
	asset Asset
}

// themeFlight is a compile in progress; done is closed when it has ended.
type themeFlight struct {
	done  chan struct{}
	asset Asset
	err   error
}

// NewThemes returns a Themes with the given options. It does not start Dart
// Sass; the first compile does. When Dart Sass cannot be found, the Themes
// still works, with Fallback's stylesheets, and SassError says why.
func NewThemes(opts *ThemeOptions) *Themes {
	var o ThemeOptions
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := &Themes{
		opts:     o,
		lru:      list.New(),
		byKey:    make(map[themeKey]*list.Element),
		byHash:   make(map[string]*list.Element),
		inflight: make(map[themeKey]*themeFlight),
		failed:   make(map[themeKey]time.Time),
	}
	t.defKey, _ = normalise(parley.DefaultWidget(0).Appearance)
	t.def = makeAsset("theme.css", themeDefaultCSS)
	switch {
	case o.NoSass:
		t.sassErr = errors.New("compiling themes is turned off")
	case o.Sass == "":
		var dirs []string
		if wd, err := os.Getwd(); err == nil {
			dirs = append(dirs, wd)
		}
		if exe, err := os.Executable(); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
		t.opts.Sass, t.sassErr = FindSass(dirs...)
	default:
		if _, err := os.Stat(o.Sass); err != nil {
			t.sassErr = fmt.Errorf("dart sass %s: %w", o.Sass, err)
		}
	}
	return t
}

// SassError returns nil when t compiles themes with Dart Sass, and otherwise
// an error that says why not and what to install. Without Dart Sass, CSS
// answers with Fallback.
func (t *Themes) SassError() error { return t.sassErr }

// Sass returns the path of the Dart Sass launcher t uses ("" if none).
func (t *Themes) Sass() string {
	if t.sassErr != nil {
		return ""
	}
	return t.opts.Sass
}

// Default returns the precompiled theme of the default appearance.
func (t *Themes) Default() Asset { return t.def }

// Lookup returns the theme with the given Hash if it is the default or still
// in the cache.
func (t *Themes) Lookup(hash string) (Asset, bool) {
	if hash == t.def.Hash {
		return t.def, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byHash[hash]; ok {
		return e.Value.(*themeEntry).asset, true
	}
	return Asset{}, false
}

// Stats returns t's counters.
func (t *Themes) Stats() ThemeStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Cached = t.lru.Len()
	return s
}

// CSS returns the theme stylesheet for appearance a: the precompiled default,
// a cached compile, or a new compile that it waits for (concurrent callers
// for one appearance share one compile). Without Dart Sass it returns
// Fallback(a). It returns EINVALID when a does not pass
// parley.ValidateAppearance, ctx's error when ctx ends first, and an error
// when the compile fails or takes longer than the Timeout; a compile that a
// caller stopped waiting for still finishes and is cached. For 30 seconds
// after a failed compile, CSS answers with Fallback for that appearance
// rather than try again.
func (t *Themes) CSS(ctx context.Context, a parley.Appearance) (Asset, error) {
	k, err := normalise(a)
	if err != nil {
		return Asset{}, err
	}
	if k == t.defKey {
		return t.def, nil
	}
	if t.sassErr != nil || t.isClosed() {
		return t.Fallback(a)
	}
	t.mu.Lock()
	if e, ok := t.byKey[k]; ok {
		t.lru.MoveToFront(e)
		t.stats.Hits++
		t.mu.Unlock()
		return e.Value.(*themeEntry).asset, nil
	}
	if when, ok := t.failed[k]; ok && t.opts.Now().Sub(when) < themeRetryAfter {
		t.mu.Unlock()
		return t.Fallback(a)
	}
	f, ok := t.inflight[k]
	if !ok {
		f = &themeFlight{done: make(chan struct{})}
		t.inflight[k] = f
		t.wg.Add(1)
		go t.run(k, f)
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		return f.asset, f.err
	case <-ctx.Done():
		return Asset{}, ctx.Err()
	}
}

// run compiles k for the callers waiting on f, and caches the result.
func (t *Themes) run(k themeKey, f *themeFlight) {
	defer t.wg.Done()
	body, err := t.Compile(k.appearance())
	t.mu.Lock()
	delete(t.inflight, k)
	if err == nil {
		delete(t.failed, k)
		f.asset = t.add(k, body)
	} else {
		t.failed[k] = t.opts.Now()
		f.err = err
	}
	t.mu.Unlock()
	close(f.done)
}

// add caches body under k and evicts the least recently used theme beyond
// the CacheSize. t.mu must be held.
func (t *Themes) add(k themeKey, body []byte) Asset {
	if e, ok := t.byKey[k]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*themeEntry).asset
	}
	a := makeAsset("theme.css", body)
	e := t.lru.PushFront(&themeEntry{key: k, asset: a})
	t.byKey[k] = e
	t.byHash[a.Hash] = e
	for t.lru.Len() > t.opts.CacheSize {
		old := t.lru.Back()
		ent := old.Value.(*themeEntry)
		t.lru.Remove(old)
		delete(t.byKey, ent.key)
		if t.byHash[ent.asset.Hash] == old {
			delete(t.byHash, ent.asset.Hash)
		}
	}
	return a
}

// Compile compiles the theme for appearance a with Dart Sass, bypassing the
// cache, and returns the compressed CSS. "go generate" and the tests use it;
// serve with CSS. It returns EINVALID for an invalid appearance and an error
// when Dart Sass is missing, fails, or exceeds the Timeout. A Dart Sass
// process that died or stopped answering is replaced by a new one, and a
// compile that failed because the process had died is tried once more.
func (t *Themes) Compile(a parley.Appearance) ([]byte, error) {
	k, err := normalise(a)
	if err != nil {
		return nil, err
	}
	if t.sassErr != nil {
		return nil, t.sassErr
	}
	args := godartsass.Args{
		Source:         k.source(),
		OutputStyle:    godartsass.OutputStyleCompressed,
		ImportResolver: themeImporter{},
	}
	for attempt := 0; ; attempt++ {
		tr, err := t.transpiler()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		res, err := tr.Execute(args)
		t.mu.Lock()
		t.stats.Compiles++
		t.mu.Unlock()
		if t.opts.Compiled != nil {
			t.opts.Compiled(time.Since(start), err)
		}
		if err == nil {
			return []byte(res.CSS), nil
		}
		var serr godartsass.SassError
		if errors.As(err, &serr) {
			return nil, fmt.Errorf("compile theme: %w", err)
		}
		// Any other error means the process is gone (godartsass never
		// restarts it), or stuck past the Timeout. Transpiler.IsShutDown is
		// no help here: it is also true for a healthy idle process, and it
		// reads godartsass's state without its lock.
		t.discard(tr)
		if attempt > 0 || time.Since(start) >= t.opts.Timeout {
			return nil, fmt.Errorf("compile theme: dart sass: %w", err)
		}
	}
}

// transpiler returns the running Dart Sass process, starting one if there is
// none.
func (t *Themes) transpiler() (*godartsass.Transpiler, error) {
	t.trMu.Lock()
	defer t.trMu.Unlock()
	if t.closed {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "themes are closed")
	}
	if t.tr != nil {
		return t.tr, nil
	}
	tr, err := godartsass.Start(godartsass.Options{
		DartSassEmbeddedFilename: t.opts.Sass,
		Timeout:                  t.opts.Timeout,
		LogEventHandler: func(e godartsass.LogEvent) {
			t.mu.Lock()
			t.stats.Warnings++
			t.mu.Unlock()
			t.warn(e.Message, e.Type == godartsass.LogEventTypeDeprecated)
		},
		Stderr: sassStderr{t},
	})
	if err != nil {
		return nil, fmt.Errorf("start dart sass %s: %w", t.opts.Sass, err)
	}
	t.mu.Lock()
	t.stats.Starts++
	t.mu.Unlock()
	t.tr = tr
	return tr, nil
}

// warn hands the first line of msg, at most 200 bytes of it, to
// ThemeOptions.Warn: a Dart Sass notice spans many lines of source excerpt
// and advice that would bury the log.
func (t *Themes) warn(msg string, deprecation bool) {
	if t.opts.Warn == nil {
		return
	}
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	if msg != "" {
		t.opts.Warn(msg, deprecation)
	}
}

// sassStderr passes what Dart Sass writes to its standard error to
// ThemeOptions.Warn instead of Parley's own standard error.
type sassStderr struct{ t *Themes }

func (w sassStderr) Write(p []byte) (int, error) {
	w.t.warn(string(p), false)
	return len(p), nil
}

func (t *Themes) isClosed() bool {
	t.trMu.Lock()
	defer t.trMu.Unlock()
	return t.closed
}

// discard stops tr and forgets it if it is still the current process.
func (t *Themes) discard(tr *godartsass.Transpiler) {
	t.trMu.Lock()
	if t.tr == tr {
		t.tr = nil
	}
	t.trMu.Unlock()
	_ = tr.Close()
}

// Close stops Dart Sass and waits for compiles in progress to end (they fail
// with EUNAVAILABLE or a shutdown error). CSS still serves the default and
// cached themes after Close, and Fallback for the rest. Close is idempotent.
func (t *Themes) Close() error {
	t.trMu.Lock()
	t.closed = true
	tr := t.tr
	t.tr = nil
	t.trMu.Unlock()
	var err error
	if tr != nil {
		if cerr := tr.Close(); cerr != nil && !errors.Is(cerr, godartsass.ErrShutdown) {
			err = fmt.Errorf("close dart sass: %w", cerr)
		}
	}
	t.wg.Wait()
	return err
}

// Fallback returns a theme for appearance a made without Dart Sass: the
// precompiled default theme followed by a's custom properties and side,
// computed in Go. Its colours approximate the compiled theme's (the text
// colour on the accent is the same WCAG choice); it is what visitors get
// while Dart Sass is missing or failing. It returns EINVALID when a is not
// valid.
func (t *Themes) Fallback(a parley.Appearance) (Asset, error) {
	k, err := normalise(a)
	if err != nil {
		return Asset{}, err
	}
	if k == t.defKey {
		return t.def, nil
	}
	k.fallback = true
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byKey[k]; ok {
		t.lru.MoveToFront(e)
		return e.Value.(*themeEntry).asset, nil
	}
	return t.add(k, k.fallbackCSS(t.def.Body)), nil
}

// normalise validates a and reduces it to what the theme depends on, with
// the defaults filled in.
func normalise(a parley.Appearance) (themeKey, error) {
	if err := parley.ValidateAppearance(a); err != nil {
		return themeKey{}, err
	}
	k := themeKey{accent: strings.ToLower(a.AccentColor), position: a.Position, fontPx: themeFontPx[a.FontSize]}
	if k.accent == "" {
		k.accent = strings.ToLower(parley.DefaultWidget(0).Appearance.AccentColor)
	}
	if k.position == "" {
		k.position = parley.PositionRight
	}
	if a.FontSize == "" {
		k.fontPx = themeFontPx[parley.FontMedium]
	}
	return k, nil
}

// appearance is the appearance k stands for.
func (k themeKey) appearance() parley.Appearance {
	a := parley.Appearance{AccentColor: k.accent, Position: k.position}
	for name, px := range themeFontPx {
		if px == k.fontPx {
			a.FontSize = name
		}
	}
	return a
}

// source is the entry stylesheet of k's compile: it configures the theme
// module with Sass values made from k's validated fields, never from text an
// admin typed. normalise guarantees the forms; source checks them again so
// that a future caller cannot slip text into Sass.
func (k themeKey) source() string {
	if !parley.IsHexColor(k.accent) || (k.position != parley.PositionLeft && k.position != parley.PositionRight) {
		panic(fmt.Sprintf("widget: theme key not normalised: %+v", k))
	}
	return fmt.Sprintf("@use %q with ($accent: %s, $position: %s, $font-size: %dpx);\n",
		themeURL, k.accent, k.position, k.fontPx)
}

// themeImporter lets the compile load the embedded theme.scss and nothing
// else: no file system, no other URL.
type themeImporter struct{}

func (themeImporter) CanonicalizeURL(url string) (string, error) {
	if url == themeURL {
		return themeURL, nil
	}
	return "", nil
}

func (themeImporter) Load(url string) (godartsass.Import, error) {
	if url != themeURL {
		return godartsass.Import{}, fmt.Errorf("no such module %q", url)
	}
	return godartsass.Import{Content: themeSource, SourceSyntax: godartsass.SourceSyntaxSCSS}, nil
}

// makeAsset hashes and compresses a stylesheet.
func makeAsset(name string, body []byte) Asset {
	gz, err := gzipBytes(body)
	if err != nil {
		// gzip into memory fails only on invalid levels: a programming error.
		panic(err)
	}
	sum := sha256.Sum256(body)
	return Asset{
		Name:        name,
		ContentType: "text/css; charset=utf-8",
		Body:        body,
		Gzip:        gz,
		Hash:        hex.EncodeToString(sum[:])[:16],
	}
}
