package widget

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bep/godartsass/v2"

	"github.com/parley-chat/parley"
)

// SassPackagePath is where "npm install sass-embedded-linux-x64" puts Dart
// Sass's launcher, relative to the directory npm ran in. Parley's
// package.json pins the version; "npm ci" in the repository installs it.
const SassPackagePath = "node_modules/sass-embedded-linux-x64/dart-sass/sass"

// SassInstallHint says what to install when Dart Sass is missing.
const SassInstallHint = "install the npm package sass-embedded-linux-x64 (npm ci in Parley's repository) " +
	"and set --sass or PARLEY_SASS to node_modules/sass-embedded-linux-x64/dart-sass/sass"

// FindSass looks for a Dart Sass that speaks the embedded protocol: first
// SassPackagePath under each of dirs, in order, then "sass" on the PATH. It
// returns the first candidate that answers SassVersion, or an error naming
// what it tried and what to install.
func FindSass(dirs ...string) (string, error) {
	var tried []string
	for _, d := range dirs {
		p := filepath.Join(d, filepath.FromSlash(SassPackagePath))
		if slices.Contains(tried, p) {
			continue
		}
		if _, err := SassVersion(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("sass"); err == nil {
		if _, err := SassVersion(p); err == nil {
			return p, nil
		}
		tried = append(tried, p+" (not the embedded Dart Sass)")
	} else {
		tried = append(tried, "sass on PATH")
	}
	return "", fmt.Errorf("dart sass not found (tried %s): %s", strings.Join(tried, ", "), SassInstallHint)
}

// SassVersion runs the Dart Sass launcher at path with --embedded --version
// and returns the compiler's version. It fails for a missing file and for a
// sass that does not speak the embedded protocol (the JavaScript "sass"
// package, for one).
func SassVersion(path string) (string, error) {
	// As godartsass.Version, but what the launcher writes to its standard
	// error (a JavaScript sass explains at length that it has no embedded
	// mode) stays out of Parley's log: only its first line, in the error.
	bin, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("dart sass %s: %w", path, err)
	}
	var stderr strings.Builder
	cmd := exec.Command(bin, "--embedded", "--version")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if len(first) > 200 {
			first = first[:200]
		}
		return "", fmt.Errorf("dart sass %s: %w: %s", path, err, strings.ToValidUTF8(first, ""))
	}
	var v godartsass.DartSassVersion
	if err := json.Unmarshal(out, &v); err != nil {
		return "", fmt.Errorf("dart sass %s: %w", path, err)
	}
	if v.ImplementationName != "dart-sass" || v.CompilerVersion == "" {
		return "", errors.New("dart sass " + path + ": not the embedded Dart Sass")
	}
	return v.CompilerVersion, nil
}

// Shades of the fallback theme, as percentages of black (hover, active) or
// of the accent (soft) in the mix, like theme.scss for a light accent.
const (
	fallbackHover  = 12
	fallbackActive = 22
	fallbackSoft   = 14
	themeInk       = "#111827"
	themeWhite     = "#ffffff"
)

// fallbackCSS is base (the precompiled default theme) followed by k's
// custom properties and side, computed in Go from k's validated fields.
func (k themeKey) fallbackCSS(base []byte) []byte {
	onAccent := themeWhite
	cw, errW := parley.ContrastRatio(k.accent, themeWhite)
	ci, errI := parley.ContrastRatio(k.accent, themeInk)
	if errW != nil || errI != nil {
		panic(fmt.Sprintf("widget: theme key not normalised: %+v", k))
	}
	if ci > cw {
		onAccent = themeInk
	}
	// The focus ring: the accent, darkened in steps until it has 3:1
	// against white, as theme.scss does it.
	ring := k.accent
	for i := 0; i < 20; i++ {
		if r, _ := parley.ContrastRatio(ring, themeWhite); r >= 3 {
			break
		}
		ring = mixHex("#000000", ring, 10)
	}
	var b strings.Builder
	b.Write(base)
	fmt.Fprintf(&b, "\n.pw{--a: %s !important;--f: %s !important;--a-hover: %s !important;--a-active: %s !important;"+
		"--a-soft: %s !important;--a-ring: %s !important;--fs: %dpx !important}",
		k.accent, onAccent, mixHex("#000000", k.accent, fallbackHover), mixHex("#000000", k.accent, fallbackActive),
		mixHex(k.accent, themeWhite, fallbackSoft), ring, k.fontPx)
	side, other := k.position, parley.PositionLeft
	if side == parley.PositionLeft {
		other = parley.PositionRight
	}
	fmt.Fprintf(&b, ".pw .p{%[1]s:20px;%[2]s:auto;transform-origin:bottom %[1]s}.pw .l{%[1]s:20px;%[2]s:auto}"+
		".pw[dir=rtl] .p{%[2]s:20px;%[1]s:auto;transform-origin:bottom %[2]s}.pw[dir=rtl] .l{%[2]s:20px;%[1]s:auto}"+
		"@media(max-width: 480px){.pw .p,.pw[dir=rtl] .p{left:0;right:0}}", side, other)
	return []byte(b.String())
}

// mixHex mixes pct percent of colour a into colour b, both #rrggbb, per
// channel in sRGB, rounding to the nearest integer (Sass's color.mix in the
// rgb space).
func mixHex(a, b string, pct int) string {
	out := []byte{'#'}
	for i := 1; i < 7; i += 2 {
		ca, _ := strconv.ParseUint(a[i:i+2], 16, 8)
		cb, _ := strconv.ParseUint(b[i:i+2], 16, 8)
		v := (float64(ca)*float64(pct) + float64(cb)*float64(100-pct)) / 100
		out = fmt.Appendf(out, "%02x", int(v+0.5))
	}
	return string(out)
}
