//go:build linux

package server

import (
	"os"
	"sync"
	"syscall"
)

// peerWatch notices at once when the peer of a status stream closes its
// connection, so that the stream's slot (VisitorConnsPerIP) is free again
// as soon as the browser leaves the page, without a goroutine reading each
// stream: one goroutine per server waits on an epoll set of their sockets.
// A socket is armed for one event at a time (EPOLLONESHOT), so that the
// goroutine alone handles it: what a peer sends instead of closing is read
// and discarded (peerGone), and the socket armed again.
type peerWatch struct {
	mu      sync.Mutex
	epfd    int
	wake    *os.File // written by stop
	wakeR   *os.File
	streams map[int32]*statusStream
	done    chan struct{} // closed when the goroutine has returned
	failed  bool          // epoll could not be set up: keep-alives alone
}

// watch adds st to the set, starting the goroutine with the first stream.
// Without epoll, st is found by its keep-alives alone.
func (w *peerWatch) watch(st *statusStream) {
	sc, ok := st.nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if st.s.ctx.Err() != nil {
		return // Close has stopped the goroutine or is about to
	}
	if w.failed || !w.startLocked() {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)}
		if syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) == nil {
			w.streams[int32(fd)] = st
			st.watched = int32(fd)
		}
	})
}

// forget takes st out of the set; call it before closing st's connection,
// whose descriptor may then be reused.
func (w *peerWatch) forget(st *statusStream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if st.watched < 0 {
		return
	}
	if w.streams[st.watched] == st {
		delete(w.streams, st.watched)
		_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(st.watched), nil)
	}
	st.watched = -1
}

func (w *peerWatch) startLocked() bool {
	if w.done != nil {
		return true
	}
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		w.failed = true
		return false
	}
	r, wr, err := os.Pipe()
	if err != nil {
		_ = syscall.Close(epfd)
		w.failed = true
		return false
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(r.Fd())}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(r.Fd()), &ev); err != nil {
		_ = syscall.Close(epfd)
		r.Close()
		wr.Close()
		w.failed = true
		return false
	}
	w.epfd, w.wake, w.wakeR = epfd, wr, r
	w.streams = make(map[int32]*statusStream)
	w.done = make(chan struct{})
	go w.loop(int32(r.Fd()))
	return true
}

func (w *peerWatch) loop(wakeFd int32) {
	defer close(w.done)
	events := make([]syscall.EpollEvent, 64)
	for {
		n, err := syscall.EpollWait(w.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		} else if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == wakeFd {
				return
			}
			w.mu.Lock()
			st := w.streams[ev.Fd]
			w.mu.Unlock()
			if st == nil {
				continue
			}
			if peerGone(st.nc) {
				st.peerLeft()
				continue
			}
			w.mu.Lock()
			if w.streams[ev.Fd] == st { // not forgotten meanwhile
				again := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: ev.Fd}
				_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_MOD, int(ev.Fd), &again)
			}
			w.mu.Unlock()
		}
	}
}

// stop ends the goroutine, once every stream has been released. It waits
// without holding mu, which the goroutine may need to finish an event.
func (w *peerWatch) stop() {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done == nil {
		return
	}
	_, _ = w.wake.Write([]byte{0})
	<-done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done != done {
		return // another stop has closed it
	}
	_ = syscall.Close(w.epfd)
	w.wake.Close()
	w.wakeR.Close()
	w.done = nil
}
