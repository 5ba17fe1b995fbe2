package server_test

import (
	"os"
	"testing"
)

// TestMain lets BenchmarkIdleSockets start this test binary as the clients
// of the sockets it measures (idleClients), so that their memory is not
// counted as the server's.
func TestMain(m *testing.M) {
	if kind := os.Getenv("PARLEY_IDLE_CLIENTS"); kind != "" {
		os.Exit(idleClients(kind, os.Getenv("PARLEY_IDLE_URL"), os.Getenv("PARLEY_IDLE_N")))
	}
	os.Exit(m.Run())
}
