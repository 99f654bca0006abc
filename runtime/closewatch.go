package runtime

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// closeWatcher learns, as HAProxy's poller does, when a server ends a
// connection that waits in the idle pool, so that taking it again needs
// no peek: a system call per reuse, that is per request for an HTTP/2
// client's streams. A pooled connection is registered once in a
// process-wide epoll instance for the peer's close only (EPOLLRDHUP,
// one-shot; errors and hang-ups are always reported), and a goroutine
// blocked on it marks the connection ended. Data coming in does not
// wake it: the mask filters it out in the kernel.
type closeWatcher struct {
	epfd int
	mu   sync.Mutex
	byFD map[int32]*sockConn
	gen  int32 // the last registration's; under mu
}

// closeWatch is a sockConn's registration with the watcher.
type closeWatch struct {
	// gen identifies the registration (0: none): an event read for a
	// descriptor that was closed and reused meanwhile is not the new
	// connection's. Set under the watcher's mu, before the connection
	// enters the pool; atomic, as a kill may close the connection from
	// another goroutine meanwhile.
	gen atomic.Int32
	fd  atomic.Int32
	// ended: the server closed or reset the connection.
	ended atomic.Bool
	// pool is the idle pool the connection goes back to, which drops
	// it once ended, as HAProxy takes a connection its server closed
	// out of the idle list: it counts no longer against what the pool
	// keeps.
	pool atomic.Pointer[idlePool]
}

// getCloseWatcher starts the watcher once; nil when the system has none
// to give, and pooled connections are then peeked at.
var getCloseWatcher = sync.OnceValue(func() *closeWatcher {
	w := &closeWatcher{byFD: make(map[int32]*sockConn)}
	if w.epfd = startEpoll(w.handle); w.epfd < 0 {
		return nil
	}
	return w
})

func (w *closeWatcher) handle(evs []unix.EpollEvent) {
	var ended [64]*sockConn
	n := 0
	w.mu.Lock()
	for i := range evs {
		fd := evs[i].Fd
		if c := w.byFD[fd]; c != nil && c.watch.gen.Load() == evs[i].Pad {
			delete(w.byFD, fd)
			c.watch.ended.Store(true)
			if n < len(ended) {
				ended[n] = c
				n++
			}
		}
	}
	w.mu.Unlock()
	// Outside w.mu: put holds its pool's lock while it registers.
	for _, c := range ended[:n] {
		if p := c.watch.pool.Load(); p != nil {
			p.dropEnded(c)
		}
	}
}

// watch registers c the first time it enters the pool; it reports
// whether c is watched.
func (w *closeWatcher) watch(c *sockConn) bool {
	if c.watch.gen.Load() != 0 {
		return true
	}
	var fd int32 = -1
	c.rc.Control(func(f uintptr) { fd = int32(f) })
	if fd < 0 {
		return false
	}
	w.mu.Lock()
	w.gen++
	if w.gen <= 0 {
		w.gen = 1
	}
	gen := w.gen
	w.byFD[fd] = c
	c.watch.fd.Store(fd)
	c.watch.gen.Store(gen)
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: fd, Pad: gen}
	if unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev) != nil {
		w.mu.Lock()
		if w.byFD[fd] == c {
			delete(w.byFD, fd)
		}
		c.watch.gen.Store(0)
		w.mu.Unlock()
		return false
	}
	return true
}

// forget drops c's registration as it closes; the kernel drops its own
// with the descriptor.
func (w *closeWatcher) forget(c *sockConn) {
	w.mu.Lock()
	if fd := c.watch.fd.Load(); w.byFD[fd] == c {
		delete(w.byFD, fd)
	}
	w.mu.Unlock()
}

// watchPooled registers a connection entering pool p, when it is one
// the watcher can watch; it reports whether the connection is watched.
func watchPooled(c netConn, p *idlePool) bool {
	if sc, ok := c.(*sockConn); ok {
		if w := getCloseWatcher(); w != nil {
			if sc.watch.pool.Load() != p {
				sc.watch.pool.Store(p)
			}
			return w.watch(sc)
		}
	}
	return false
}

// pooledEnded reports whether a connection taken from the pool is known
// ended (ended) or known open (known); neither when it is not watched.
func pooledEnded(c netConn) (ended, known bool) {
	sc, ok := c.(*sockConn)
	if !ok || sc.watch.gen.Load() == 0 {
		return false, false
	}
	return sc.watch.ended.Load(), true
}
