// Package pgtest runs a real PostgreSQL 15 server for a package's tests: one
// server per test binary, started by Main from TestMain, and a fresh database
// per test from URL, so that tests are independent and may run in parallel.
//
// PostgreSQL refuses to run as root, so as root the server runs as the
// package's postgres user in a directory handed to that user. Missing
// binaries fail the tests: they are part of what the tests need.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian's postgresql-15 package installs the server;
// PARLEY_PG_BIN overrides it.
const BinDir = "/usr/lib/postgresql/15/bin"

// server is the one server of this test binary, set by Main.
var server *Server

// Server is a running PostgreSQL server in a temporary directory.
type Server struct {
	dir  string // removed by Stop
	port int
	cmd  *exec.Cmd
	done chan error // the server's exit
	n    atomic.Int64
}

// Main starts the server, runs the tests and stops the server; TestMain
// passes its result to os.Exit. A server that does not start fails the run.
func Main(m *testing.M) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	server = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// URL creates a new empty database on the server that Main started and
// returns its connection URL. Databases go with the server's directory.
func URL(t testing.TB) string {
	t.Helper()
	if server == nil {
		t.Fatal("pgtest: no server: the package's TestMain must call pgtest.Main")
	}
	u, err := server.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Start initialises a data directory and starts a server on a free port of
// 127.0.0.1, waiting until it accepts connections.
func Start() (*Server, error) {
	bin := os.Getenv("PARLEY_PG_BIN")
	if bin == "" {
		bin = BinDir
	}
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("PostgreSQL 15 is needed (apt-get install postgresql): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "parley-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, done: make(chan error, 1)}
	if err := s.start(bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) start(bin string) error {
	data, sock := filepath.Join(s.dir, "data"), filepath.Join(s.dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return err
	}
	as, err := runAs(s.dir, sock)
	if err != nil {
		return err
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "--auth=trust", "-U", "parley", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = as
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if s.port, err = freePort(); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.port), "-k", sock,
		"-c", "fsync=on", "-c", "max_connections=200")
	s.cmd.SysProcAttr = as
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()

	// Generous: a loaded machine may take long to start a server.
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(context.Background(), s.url("postgres"))
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case werr := <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("postgres exited: %v\n%s", werr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres did not accept connections within 60s: %w", err)
		}
	}
}

// runAs returns how to run the server's processes: as root, as the
// postgres user, which is given dir and sock first.
func runAs(dir, sock string) (*syscall.SysProcAttr, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user (apt-get install postgresql): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range []string{dir, sock} {
		if err := os.Chown(p, uid, gid); err != nil {
			return nil, err
		}
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://parley@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// CreateDatabase creates a new empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.url(name), nil
}

// Stop stops the server with SIGINT (a fast shutdown), waits for it and
// removes its directory.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.dir)
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && strings.Contains(exit.String(), "interrupt")) {
			return fmt.Errorf("postgres: %w", err)
		}
		return nil
	case <-time.After(2 * time.Minute):
		s.cmd.Process.Kill()
		return errors.New("postgres did not stop within 2 minutes of SIGINT")
	}
}
