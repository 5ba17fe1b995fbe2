//go:build !linux

package server

// peerWatch has no epoll here: a status stream whose peer has gone is
// found by its next keep-alive.
type peerWatch struct{}

func (*peerWatch) watch(*statusStream)  {}
func (*peerWatch) forget(*statusStream) {}
func (*peerWatch) stop()                {}
