//go:build !unix

package store

import (
	"errors"
	"os"
)

// flock is not offered where bbolt's file lock is not a flock.
func flock(*os.File) error {
	return errors.New("locking a data directory is supported on Unix systems only")
}
