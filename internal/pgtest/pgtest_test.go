package pgtest

import (
	"os"
	"strings"
	"testing"
)

// TestStartMissingBinaries: without the server's binaries Start fails and
// says what to install; it never lets the tests pass without a server.
func TestStartMissingBinaries(t *testing.T) {
	t.Setenv("PARLEY_PG_BIN", t.TempDir())
	s, err := Start()
	if err == nil {
		s.Stop()
		t.Fatal("Start without binaries succeeded")
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("error %q does not say what to install", err)
	}
}

// TestStartStop: a server starts, serves a new database, and stops on
// SIGINT with its directory removed.
func TestStartStop(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.CreateDatabase(t.Context())
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	if !strings.Contains(url, "127.0.0.1") {
		t.Errorf("url %q is not on 127.0.0.1", url)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.cmd.ProcessState == nil {
		t.Error("Stop returned before postgres exited")
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("the server's directory is still there: %v", err)
	}
}
