//go:build unix

package server

import (
	"errors"
	"net"
	"syscall"
)

// peerJunkBytes is the most a status stream's peer may send after its
// request: a browser sends nothing, so more is dropped as hostile.
const peerJunkBytes = 64 << 10

// peerGone reports whether the peer of a status stream has closed or
// reset the connection, without waiting. Nothing the peer sends after its
// request means anything, so it reads and discards what has arrived, to
// see the end of the stream behind it; a peer that sends more than
// peerJunkBytes counts as gone. A peer that is merely quiet is not gone.
func peerGone(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf  [4096]byte
		gone bool
	)
	err = raw.Read(func(fd uintptr) bool {
		for read := 0; ; {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_DONTWAIT)
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return true // quiet
			case err != nil || n == 0:
				gone = true // reset, or the end of the stream
				return true
			}
			if read += n; read > peerJunkBytes {
				gone = true
				return true
			}
		}
	})
	return gone || err != nil
}
