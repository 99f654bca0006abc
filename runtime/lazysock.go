package runtime

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lazyFD is an accepted client socket that the runtime's poller takes
// only once a read or a write has to wait, as HAProxy's speculative I/O
// does: a connection whose request is there when it is accepted and
// whose answer fits in the socket's buffer is served without being
// registered with the poller and removed from it, two epoll_ctl calls
// per connection.
//
// Until then, system calls go to the descriptor directly; the state
// counts those in progress, and a Close from another goroutine closes
// the descriptor only after them. Once registered, the poller works on
// the same descriptor through a pollFD, which counts as one call in
// progress until it is destroyed: closing it wakes its waiters, and
// the descriptor is closed once the pollFD and every call begun
// before it are done (no duplicate, which cost an fcntl and a close).
type lazyFD struct {
	fd    int
	state fdCalls
	mu    sync.Mutex             // registration
	reg   atomic.Pointer[pollFD] // the poller's registration (pfd), once made
	pfd   *pollFD                // the registration's storage, in the sockConn
	// rdl and wdl are the deadlines set before registration, under mu;
	// past has a bit set for each that was set already passed.
	rdl, wdl time.Time
	past     atomic.Uint32
}

const (
	fdClosing = 1 << 31
	fdClosed  = 1 << 30
)

// fdCalls counts the calls in progress on a descriptor and marks its
// close, so that the descriptor is closed once, after them: by the last
// call out after the close, or by the close itself when none is in.
type fdCalls struct{ v atomic.Uint32 }

// acquire counts a call, unless the descriptor is closing.
func (c *fdCalls) acquire() bool {
	for {
		v := c.v.Load()
		if v&fdClosing != 0 {
			return false
		}
		if c.v.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// release ends a call; true when the caller is to close the descriptor.
func (c *fdCalls) release() bool { return c.v.Add(^uint32(0)) == fdClosing && c.last() }

// close marks the descriptor closing; false when it already was.
func (c *fdCalls) close() bool {
	for {
		v := c.v.Load()
		if v&fdClosing != 0 {
			return false
		}
		if c.v.CompareAndSwap(v, v|fdClosing) {
			return true
		}
	}
}

// closeHeld marks the descriptor closing and counts the caller as a call
// in progress, which it ends with release; false when it already was
// closing.
func (c *fdCalls) closeHeld() bool {
	for {
		v := c.v.Load()
		if v&fdClosing != 0 {
			return false
		}
		if c.v.CompareAndSwap(v, (v+1)|fdClosing) {
			return true
		}
	}
}

// last reports, once, that the descriptor is closing with no call in
// progress: the caller is to close it.
func (c *fdCalls) last() bool { return c.v.CompareAndSwap(fdClosing, fdClosing|fdClosed) }

func (c *fdCalls) closing() bool { return c.v.Load()&fdClosing != 0 }

func (l *lazyFD) acquire() bool { return l.state.acquire() }

// release ends a call; the last one after a Close closes the descriptor.
func (l *lazyFD) release() {
	if l.state.release() {
		closeFD(l.fd)
	}
}

// register hands the descriptor to the poller, with the deadlines set
// meanwhile. The registration holds a call on the descriptor until the
// pollFD is destroyed, which releases it (pollFD.lazy).
func (l *lazyFD) register() (*pollFD, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.reg.Load(); r != nil {
		return r, nil
	}
	if !l.acquire() {
		return nil, os.ErrClosed
	}
	f := l.pfd
	if f == nil {
		f = new(pollFD)
	}
	if err := f.open(l.fd); err != nil {
		l.release()
		return nil, err
	}
	f.lazy = l
	if !l.rdl.IsZero() {
		f.SetReadDeadline(l.rdl)
	}
	if !l.wdl.IsZero() {
		f.SetWriteDeadline(l.wdl)
	}
	l.reg.Store(f)
	return f, nil
}

func (l *lazyFD) Control(fn func(fd uintptr)) error {
	if r := l.reg.Load(); r != nil {
		return r.Control(fn)
	}
	if !l.acquire() {
		return os.ErrClosed
	}
	fn(uintptr(l.fd))
	l.release()
	return nil
}

func (l *lazyFD) Read(fn func(fd uintptr) bool) error {
	return l.wait(fn, syscall.RawConn.Read)
}

func (l *lazyFD) Write(fn func(fd uintptr) bool) error {
	return l.wait(fn, syscall.RawConn.Write)
}

// wait calls fn once on the descriptor and, when it is not done,
// registers it and waits for readiness with op.
func (l *lazyFD) wait(fn func(fd uintptr) bool, op func(syscall.RawConn, func(uintptr) bool) error) error {
	if r := l.reg.Load(); r != nil {
		return op(r, fn)
	}
	// A deadline already passed fails the call, as the poller's: the
	// poller tells.
	if !l.expired() {
		if !l.acquire() {
			return os.ErrClosed
		}
		done := fn(uintptr(l.fd))
		l.release()
		if done {
			return nil
		}
	}
	r, err := l.register()
	if err != nil {
		return err
	}
	// The poller calls fn once more before it waits: it forgets the
	// readiness it saw before (the registration reports the present
	// one), and only a call that fails makes a wait safe.
	return op(r, fn)
}

// expired tells whether a deadline was set, before registration, that
// had passed already: a wake-up (a kill sets one in the past) that the
// next call must see. One that passes later fails only a wait, which
// needs registration first.
func (l *lazyFD) expired() bool { return l.past.Load() != 0 }

func (l *lazyFD) SetReadDeadline(t time.Time) error  { return l.setDeadline(t, true) }
func (l *lazyFD) SetWriteDeadline(t time.Time) error { return l.setDeadline(t, false) }

func (l *lazyFD) setDeadline(t time.Time, read bool) error {
	l.mu.Lock()
	r := l.reg.Load()
	if r == nil {
		if l.state.closing() {
			l.mu.Unlock()
			return os.ErrClosed
		}
		bit := uint32(2)
		if read {
			l.rdl, bit = t, 1
		} else {
			l.wdl = t
		}
		if !t.IsZero() && !t.After(time.Now()) {
			l.past.Or(bit)
		} else {
			l.past.And(^bit)
		}
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	if read {
		return r.SetReadDeadline(t)
	}
	return r.SetWriteDeadline(t)
}

// Close closes the poller's registration, which wakes its waiters, and
// the descriptor once no call is on it (the registration's included).
func (l *lazyFD) Close() error {
	if !l.state.close() {
		return os.ErrClosed
	}
	// Registration checks the state under mu: none starts from here.
	l.mu.Lock()
	r := l.reg.Load()
	l.mu.Unlock()
	var err error
	if r != nil {
		err = r.Close()
	}
	if l.state.last() {
		closeFD(l.fd)
	}
	return err
}

// newLazySock makes the client connection of an accepted descriptor.
func newLazySock(fd int, raddr netip.AddrPort) *sockConn {
	c := &sockConn{raddr: raddr}
	c.lazy.fd, c.lazy.pfd = fd, &c.pfd
	c.f, c.rc = &c.lazy, &c.lazy
	c.raw = lazyRaw{rc: &c.lazy, dl: &c.dl, f: &c.lazy}
	return c
}

// rawAcceptor takes a TCP listener's connections with accept4 on its
// descriptor: net's Accept also asks for the local address, registers
// the socket with the poller (which lazyFD leaves to when it is needed)
// and enters the scheduler's system-call state for each call. net gives
// no wait on a listener's descriptor: the accept loop waits on a
// registration of its own (acceptWait, take).
type rawAcceptor struct {
	rc syscall.RawConn
	// local is every accepted connection's local address when the
	// listener has one of its own (not a wildcard, not transparent):
	// what getsockname would answer, which it need not be asked.
	local *net.TCPAddr
	// nodelay: the listener has TCP_NODELAY, which Linux copies to the
	// sockets it accepts (bindSockopts sets it before listen), so they
	// need no setsockopt of their own.
	nodelay bool
	// step is waitStep, bound once; waited says a take had to wait.
	step   func(fd uintptr) bool
	waited bool
	nfd    int
	errno  syscall.Errno
	rsa    unix.RawSockaddrAny
}

func newRawAcceptor(ln net.Listener, transparent bool) *rawAcceptor {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil
	}
	a := &rawAcceptor{rc: rc}
	if la, ok := tl.Addr().(*net.TCPAddr); ok && !transparent && fixedLocal(la.AddrPort()) {
		a.local = la
	}
	rc.Control(func(fd uintptr) {
		v, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY)
		a.nodelay = err == nil && v != 0
	})
	a.step = a.waitStep
	return a
}

func (a *rawAcceptor) accept(fd uintptr) {
	for {
		l := uint32(unsafe.Sizeof(a.rsa))
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, fd, uintptr(unsafe.Pointer(&a.rsa)), uintptr(unsafe.Pointer(&l)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e == unix.EINTR || e == unix.ECONNABORTED {
			// As net's accept: the client left before; the next one.
			continue
		}
		a.nfd, a.errno = int(r), e
		return
	}
}

// acceptWait is an accept loop's registration of its listening socket
// with the runtime's poller: a duplicate of the descriptor, since net
// registered the socket itself but waits on it only inside its own
// Accept (a listener's RawConn cannot wait). The duplicate keeps the
// socket open, so it is closed with the listener (closeLn), which wakes
// the loop.
type acceptWait struct {
	mu     sync.Mutex
	closed bool
	fd     *pollFD
}

// open registers a duplicate of the listener's descriptor; nil when
// the listener is closed or the duplicate cannot be had (the loop then
// accepts through net).
func (w *acceptWait) open(rc syscall.RawConn) *pollFD {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	var nfd int
	var err error
	if cerr := rc.Control(func(fd uintptr) { nfd, err = dupFD(int(fd)) }); cerr != nil || err != nil {
		return nil
	}
	p := new(pollFD)
	if p.open(nfd) != nil {
		closeFD(nfd)
		return nil
	}
	w.fd = p
	return p
}

func (w *acceptWait) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// close ends the wait and closes the duplicate.
func (w *acceptWait) close() {
	w.mu.Lock()
	p := w.fd
	w.closed, w.fd = true, nil
	w.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

// closeLn closes a listener's socket and its accept loop's wait on it,
// the wait first: no connection is taken once the close began.
func (l *listener) closeLn() {
	if l.acc != nil {
		l.acc.close()
	}
	l.ln.Close()
}

// take accepts the next connection, waiting on w for one when none is
// pending; waited says it had to. A closed listener gives net.ErrClosed.
func (a *rawAcceptor) take(w *pollFD, keepAlive tcpKeepAlive) (c *sockConn, waited bool, err error) {
	a.waited = false
	if err := w.Read(a.step); err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = net.ErrClosed
		}
		return nil, a.waited, err
	}
	c, err = a.setUp(keepAlive)
	return c, a.waited, err
}

// waitStep is take's step in the poller's wait: an accept4, done
// unless none is pending.
func (a *rawAcceptor) waitStep(fd uintptr) bool {
	a.accept(fd)
	if a.errno == unix.EAGAIN {
		a.waited = true
		return false
	}
	return true
}

// setUp makes the connection of the descriptor accept4 gave, set up
// as net's Accept sets it (TCP_NODELAY), keep-alive as the frontend
// asks, or the error accept4 failed with.
func (a *rawAcceptor) setUp(keepAlive tcpKeepAlive) (*sockConn, error) {
	if a.errno != 0 {
		return nil, os.NewSyscallError("accept4", a.errno)
	}
	fd := a.nfd
	if !a.nodelay {
		setTCPOpts(fd, keepAlive)
	} else if keepAlive.on {
		keepAlive.set(fd)
	}
	ap := rsaAddrPort(&a.rsa)
	if !ap.IsValid() {
		closeFD(fd)
		return nil, errors.New("accept4: not an IP address")
	}
	c := newLazySock(fd, ap)
	if a.local != nil {
		c.laddr.Store(a.local)
	}
	return c, nil
}

// fixedLocal says whether a listener bound to ap accepts connections to
// ap only: a unicast address and port of its own. A wildcard one takes
// them to any local address, a transparent one to foreign ones.
func fixedLocal(ap netip.AddrPort) bool {
	a := ap.Addr()
	return ap.Port() != 0 && a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && !a.Is4In6()
}

// zoneName is an IPv6 scope's interface name, or its number.
func zoneName(id uint32) string {
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(id))
}
