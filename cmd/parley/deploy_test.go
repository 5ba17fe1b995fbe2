package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is a Dockerfile's instructions: the keyword (upper case) and
// the rest, continuation lines joined.
type instruction struct{ cmd, args string }

// parseDockerfile reads the instructions of a Dockerfile, comments left
// out.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		more := strings.HasSuffix(line, "\\")
		cur.WriteString(strings.TrimSuffix(line, "\\"))
		cur.WriteString(" ")
		if more {
			continue
		}
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDockerfile reads the Dockerfile (no Docker daemon is needed) for what
// the image promises: a build stage that compiles with CGO off through
// deploy/build, and a final stage from a base without a shell that runs as
// a user other than root, keeps its data in a volume that PARLEY_DATA
// names, and checks its health with parley healthcheck in exec form (no
// shell to run a string).
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, filepath.Join(moduleRoot(t), "Dockerfile"))
	var stages [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("%s before FROM", in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	all := func(stage []instruction, cmd string) []string {
		var args []string
		for _, in := range stage {
			if in.cmd == cmd {
				args = append(args, in.args)
			}
		}
		return args
	}
	build, final := stages[0], stages[len(stages)-1]
	joined := strings.Join(append(all(build, "ENV"), all(build, "RUN")...), "\n")
	if !regexp.MustCompile(`CGO_ENABLED=0`).MatchString(joined) || !strings.Contains(joined, "deploy/build") {
		t.Errorf("the build stage does not build with CGO_ENABLED=0 through deploy/build: %s", joined)
	}
	if from := final[0].args; !strings.Contains(from, "distroless/static") && from != "scratch" {
		t.Errorf("final stage FROM %s: want a base without a shell", from)
	}
	if len(all(final, "RUN")) > 0 {
		t.Errorf("the final stage RUNs commands: it has no shell")
	}
	users := all(final, "USER")
	if len(users) == 0 {
		t.Error("no USER: the container would run as root")
	}
	for _, u := range users {
		name, _, _ := strings.Cut(u, ":")
		if name == "root" || name == "0" {
			t.Errorf("USER %s is root", u)
		}
	}
	vols := all(final, "VOLUME")
	env := strings.Join(all(final, "ENV"), " ")
	m := regexp.MustCompile(`PARLEY_DATA=(\S+)`).FindStringSubmatch(env)
	if len(vols) != 1 || m == nil || !strings.Contains(vols[0], `"`+m[1]+`"`) {
		t.Errorf("VOLUME %v and PARLEY_DATA %v: want one volume, the data directory", vols, m)
	}
	if !strings.Contains(env, "PARLEY_ADDR=0.0.0.0:") {
		t.Errorf("ENV %s: Parley must listen beyond the container's loopback", env)
	}
	hc := all(final, "HEALTHCHECK")
	if len(hc) != 1 || !strings.Contains(hc[0], `CMD ["/usr/local/bin/parley", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %v: want parley healthcheck in exec form", hc)
	}
	if ep := all(final, "ENTRYPOINT"); len(ep) != 1 || !strings.HasPrefix(ep[0], "[") {
		t.Errorf("ENTRYPOINT %v: want the exec form", ep)
	}
}

// TestSystemdUnit reads deploy/parley.service for its hardening: its own
// dynamic user, a read-only system but for its state directories, no new
// privileges, no capabilities, a system call filter; and has systemd
// check the unit and rate its exposure, where systemd-analyze is installed.
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(moduleRoot(t), "deploy", "parley.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			set[k] = append(set[k], v)
		}
	}
	for k, want := range map[string]string{
		"DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "StateDirectory": "parley parley-backups",
		"CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes", "UMask": "0077", "KillSignal": "SIGTERM",
	} {
		if !slices.Contains(set[k], want) {
			t.Errorf("%s=%v, want %q", k, set[k], want)
		}
	}
	if !slices.Contains(set["Environment"], "PARLEY_DATA=/var/lib/parley") {
		t.Errorf("Environment=%v: PARLEY_DATA must be the state directory", set["Environment"])
	}
	if !slices.Contains(set["SystemCallFilter"], "@system-service") {
		t.Errorf("SystemCallFilter=%v", set["SystemCallFilter"])
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is not installed; .ci/run installs systemd")
		}
		t.Log("systemd-analyze is missing: the unit's directives were read, not verified by systemd")
		return
	}
	// systemd checks that ExecStart names an executable: point it at a
	// copy of the unit whose binary exists.
	dir := t.TempDir()
	unit := strings.ReplaceAll(string(b), "/usr/local/bin/parley", os.Args[0])
	if err := os.WriteFile(filepath.Join(dir, "parley.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "parley.service")).CombinedOutput()
	if err != nil || strings.Contains(string(out), "parley.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// systemd's own rating of the sandbox: 2.0 or less is "OK" on its
	// scale of 0 (locked down) to 10 (exposed).
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", filepath.Join(dir, "parley.service")).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security rates the unit's exposure above 2.0: %v\n%s", err, out)
	}
}

// TestReproducibleBuild runs deploy/build in two copies of the module at
// different paths and compares the binaries byte for byte. Both use the
// same build cache, so the second compiles little; what it proves is that
// nothing of the build's place or moment goes into the binary.
func TestReproducibleBuild(t *testing.T) {
	root := moduleRoot(t)
	files, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for _, name := range []string{"one", "two-elsewhere"} {
		dir := filepath.Join(t.TempDir(), name)
		for _, f := range strings.Split(strings.TrimSpace(string(files)), "\n") {
			if strings.HasPrefix(f, "node_modules") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(root, f))
			if os.IsNotExist(err) {
				continue // deleted in the work tree
			} else if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(t.TempDir(), "parley")
		cmd := exec.Command("sh", filepath.Join(dir, "deploy", "build"), out)
		cmd.Env = append(os.Environ(), "PARLEY_VERSION=v0.0.0-test")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("deploy/build in %s: %v\n%s", dir, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		sums = append(sums, hex.EncodeToString(sum[:]))
		if v, err := exec.Command(out, "version").Output(); err != nil || !strings.Contains(string(v), "v0.0.0-test") {
			t.Errorf("%s version: %s %v", out, v, err)
		}
	}
	if sums[0] != sums[1] {
		t.Fatalf("two builds of the same sources differ: %s and %s", sums[0], sums[1])
	}
}

// TestHealthcheck: parley healthcheck, the container's health check,
// passes against a running Parley found by PARLEY_ADDR (plain, and HTTPS
// when PARLEY_TLS_CERT is set, even listening on every address), and fails
// where none listens or the URL answers something else.
func TestHealthcheck(t *testing.T) {
	check := func(env map[string]string, args ...string) (string, error) {
		var out strings.Builder
		err := run(t.Context(), append([]string{"healthcheck"}, args...), func(k string) string { return env[k] }, &out, io.Discard)
		return out.String(), err
	}
	base := startInProcess(t)
	addr := strings.TrimPrefix(base, "http://")
	if out, err := check(map[string]string{"PARLEY_ADDR": addr}); err != nil || !strings.HasPrefix(out, "ok ") {
		t.Errorf("healthcheck of %s: %q, %v", addr, out, err)
	}

	certFile, keyFile, _ := testCA(t)
	lines := serveLogs(t, map[string]string{"PARLEY_DATA": t.TempDir(), "PARLEY_TLS_CERT": certFile, "PARLEY_TLS_KEY": keyFile})
	tlsAddr := waitLog(t, lines, "listening")["addr"].(string)
	_, port, _ := net.SplitHostPort(tlsAddr)
	env := map[string]string{"PARLEY_ADDR": "0.0.0.0:" + port, "PARLEY_TLS_CERT": certFile}
	if out, err := check(env); err != nil || !strings.HasPrefix(out, "ok ") {
		t.Errorf("healthcheck over TLS: %q, %v", out, err)
	}

	if _, err := check(map[string]string{"PARLEY_ADDR": freePort(t)}); err == nil {
		t.Error("healthcheck passed where nothing listens")
	}
	if _, err := check(nil, "--url", base+"/embed.js"); err == nil {
		t.Error("healthcheck passed on a URL that is not /healthz")
	}
	if _, err := check(map[string]string{"PARLEY_ADDR": "nonsense"}); err == nil || !strings.Contains(err.Error(), "PARLEY_ADDR") {
		t.Errorf("healthcheck with a bad PARLEY_ADDR: %v", err)
	}
}
