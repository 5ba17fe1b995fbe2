//go:build unix

package store

import (
	"os"
	"syscall"
)

// flock takes the exclusive lock bbolt takes on its file, without waiting.
func flock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
