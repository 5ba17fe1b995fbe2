package parley

import "strings"

// Build identifies a Parley binary: what `parley version` prints, what
// /healthz names and what the parley_build_info metric carries. cmd/parley
// reads it from the binary's build information; a release build may set
// its fields with -ldflags -X.
type Build struct {
	// Version is the module version, such as "v1.4.0", or "(devel)" for a
	// build from a checkout.
	Version string
	// Revision is the VCS commit the binary was built from, "" when
	// unknown; Time is that commit's time (RFC 3339), "" when unknown.
	Revision, Time string
	// Modified is true when the checkout had uncommitted changes.
	Modified bool
	// GoVersion is the Go toolchain that built the binary, e.g. "go1.26.11".
	GoVersion string
}

// String is the one line that `parley version` prints: the version, then
// the revision (with "+dirty" when Modified), its time and the Go version,
// leaving out what is unknown.
func (b Build) String() string {
	parts := []string{"parley", b.Version}
	if b.Revision != "" {
		rev := b.Revision
		if b.Modified {
			rev += "+dirty"
		}
		parts = append(parts, rev)
	}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	if b.GoVersion != "" {
		parts = append(parts, b.GoVersion)
	}
	return strings.Join(parts, " ")
}
