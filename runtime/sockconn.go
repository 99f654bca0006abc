package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
)

// sockConn is a TCP connection to a server that the engine opened on its
// own socket rather than through net.Dialer, which on each connection
// builds a context with a deadline timer, resolves the literal address
// into a list, and asks the kernel for both addresses (getpeername,
// getsockname) that a proxied request does not need. It makes the system
// calls HAProxy makes (socket, TCP_NODELAY, connect, registration with
// the poller) and one getpeername that finds the connection made, as it
// is on loopback once connect returns; otherwise it waits for the socket
// to be writable and reads SO_ERROR. The local address is asked for when
// used.
type sockConn struct {
	f     sockFile
	rc    syscall.RawConn
	raddr netip.AddrPort
	laddr atomic.Pointer[net.TCPAddr]
	// src is the port of a source range the socket holds, if any.
	src srcPort
	// raw is rc with the read deadline armed lazily (see readDL).
	raw lazyRaw
	dl  readDL
	// watch is the connection's registration with the close watcher,
	// from its first time in the idle pool.
	watch closeWatch
	// lazy is f and rc for an accepted client socket (newLazySock),
	// pfd for a server socket (dialSock).
	lazy lazyFD
	pfd  pollFD
	// steps are Read's and Write's callbacks (crypto/tls, HTTP/2 and
	// tunnels read and write through them), made at the first call;
	// rmu and wmu keep one Read and one Write at a time on them.
	rmu, wmu sync.Mutex
	steps    atomic.Pointer[rawSteps]
}

// sockFile is the file of a sockConn: a pollFD, or a lazyFD.
type sockFile interface {
	Close() error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// readDL arms a socket's read deadline lazily. A keep-alive exchange
// asks for a later one on every request; re-arming the poller's timer
// each time reads the clock three times and moves the timer. A deadline
// already armed that falls before the one asked for is kept instead:
// when it fires, a wait finds the deadline asked for still ahead and
// arms that one. A deadline asked for that is earlier (a wake-up, a
// shorter timeout) is armed at once.
type readDL struct {
	mu          sync.Mutex
	want, armed time.Time // zero: none
}

// deadliner is the connection under a readDL.
type deadliner interface{ SetReadDeadline(time.Time) error }

// set asks for t as the read deadline.
func (d *readDL) set(f deadliner, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.want = t
	if !d.armed.IsZero() && (t.IsZero() || !d.armed.After(t)) {
		return nil
	}
	d.armed = t
	return f.SetReadDeadline(t)
}

// early reports, after a read failed on its deadline, whether the
// deadline that fired came before the one asked for, which it then
// arms: the read is to be tried again.
//
// When the deadline that fired was an earlier one and the one asked for
// has passed too, once is set instead: the read is to be tried once
// without waiting, as a read right after the deadline was asked for
// would have been, before its timer fired.
func (d *readDL) early(f deadliner) (retry, once bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed.Equal(d.want) {
		return false, false
	}
	passed := !d.want.IsZero() && !time.Now().Before(d.want)
	d.armed = d.want
	f.SetReadDeadline(d.want)
	return !passed, passed
}

// settle arms the deadline asked for if another is armed, for a reader
// that will not go through early.
func (d *readDL) settle(f deadliner) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed.Equal(d.want) {
		d.armed = d.want
		f.SetReadDeadline(d.want)
	}
}

// lazyRaw is the RawConn of a connection under a readDL: a read that
// fails on a deadline armed early goes on under the one asked for.
type lazyRaw struct {
	rc syscall.RawConn
	dl *readDL
	f  deadliner
}

func (r *lazyRaw) Control(fn func(fd uintptr)) error    { return r.rc.Control(fn) }
func (r *lazyRaw) Write(fn func(fd uintptr) bool) error { return r.rc.Write(fn) }
func (r *lazyRaw) Read(fn func(fd uintptr) bool) error {
	for {
		err := r.rc.Read(fn)
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		retry, once := r.dl.early(r.f)
		if once {
			done := false
			r.rc.Control(func(fd uintptr) { done = fn(fd) })
			if done {
				return nil
			}
		}
		if !retry {
			return err
		}
	}
}

// lazyRead is a Read under a readDL; rc reads once without waiting.
func lazyRead(read func([]byte) (int, error), dl *readDL, f deadliner, rc syscall.RawConn, b []byte) (int, error) {
	for {
		n, err := read(b)
		if n > 0 || err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		retry, once := dl.early(f)
		if once {
			if n, ok := readNow(rc, b); ok {
				if n == 0 && len(b) > 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			n = 0
		}
		if !retry {
			return n, err
		}
	}
}

// readNow reads b from rc without waiting; ok says the read succeeded.
// A function of its own: inside lazyRead, the closure moved lazyRead's n
// to the heap, one allocation per read.
func readNow(rc syscall.RawConn, b []byte) (n int, ok bool) {
	var rerr error
	rc.Control(func(fd uintptr) { n, rerr = rawRead(int(fd), b) })
	return n, rerr == nil
}

// cliConn is a client's TCP connection with its read deadline armed
// lazily (readDL); it lives in its session.
type cliConn struct {
	*net.TCPConn
	dl  readDL
	raw lazyRaw
}

func (c *cliConn) init(tc *net.TCPConn) error {
	rc, err := tc.SyscallConn()
	c.TCPConn, c.raw = tc, lazyRaw{rc: rc, dl: &c.dl, f: tc}
	return err
}

// release gives the connection to a reader that knows nothing of the
// lazy deadline (a tunnel), with the deadline asked for armed.
func (c *cliConn) release() *net.TCPConn {
	c.dl.settle(c.TCPConn)
	return c.TCPConn
}

func (c *cliConn) Read(b []byte) (int, error) {
	return lazyRead(c.recv, &c.dl, c.TCPConn, c.raw.rc, b)
}

// recv and Write are net's Read and Write with raw system calls (sockRead).
func (c *cliConn) recv(b []byte) (int, error) {
	n, err, errno := sockRead(c.raw.rc, b)
	return n, netErr(c.TCPConn, "read", err, errno)
}

func (c *cliConn) Write(b []byte) (int, error) {
	n, err, errno := sockWrite(c.raw.rc, b)
	return n, netErr(c.TCPConn, "write", err, errno)
}
func (c *cliConn) SetDeadline(t time.Time) error {
	if err := c.TCPConn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.dl.set(c.TCPConn, t)
}
func (c *cliConn) SetReadDeadline(t time.Time) error     { return c.dl.set(c.TCPConn, t) }
func (c *cliConn) SyscallConn() (syscall.RawConn, error) { return &c.raw, nil }
func (c *cliConn) WriteTo(w io.Writer) (int64, error)    { return io.Copy(w, readerOnly{c}) }

// rawSock is a client's TCP socket under TLS or HTTP/2, read and written
// with raw system calls inside the poller's readiness waits. Go's own
// Read and Write tell the scheduler of each call (entersyscall), which
// wakes its monitor thread whenever that sleeps, as it does once the
// process has been idle: on a connection between requests, a futex wake
// and two more context switches per read and per write. The socket does
// not block; the calls only copy.
type rawSock struct {
	*net.TCPConn
	rc    syscall.RawConn
	steps rawSteps
}

// rawSteps are the readiness callbacks of a socket's reads and writes,
// made once: a closure made per call escapes to the heap, one
// allocation per read and per write. crypto/tls and the HTTP/2
// connection read from one goroutine at a time and write from one at a
// time.
type rawSteps struct {
	rd, wr   func(fd uintptr) bool
	rb, wb   []byte
	rn, wn   int
	rerr, we error
}

func (s *rawSteps) init() {
	s.rd = func(fd uintptr) bool { return readStep(fd, s.rb, &s.rn, &s.rerr) }
	s.wr = func(fd uintptr) bool { return writeStep(fd, s.wb, &s.wn, &s.we) }
}

// read reads b from rc as sockRead does.
func (s *rawSteps) read(rc syscall.RawConn, b []byte) (n int, err, errno error) {
	s.rb, s.rn, s.rerr = b, 0, nil
	err = rc.Read(s.rd)
	n, errno = s.rn, s.rerr
	s.rb, s.rerr = nil, nil
	return n, readEnd(n, err, errno), errno
}

// write writes b to rc as sockWrite does.
func (s *rawSteps) write(rc syscall.RawConn, b []byte) (done int, err, errno error) {
	s.wb, s.wn, s.we = b, 0, nil
	err = writeWaits(rc, s.wr, b, &s.wn, &s.we)
	done, errno = s.wn, s.we
	s.wb, s.we = nil, nil
	return done, err, errno
}

// newRawSock wraps c when it is one of net's TCP sockets, else returns
// it: a sockConn's Read and Write are raw already.
func newRawSock(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawSock{TCPConn: tc, rc: rc}
	r.steps.init()
	return r
}

func (r *rawSock) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, err, errno := r.steps.read(r.rc, b)
	return n, netErr(r.TCPConn, "read", err, errno)
}

func (r *rawSock) Write(b []byte) (int, error) {
	done, err, errno := r.steps.write(r.rc, b)
	return done, netErr(r.TCPConn, "write", err, errno)
}

// sockRead reads a non-blocking socket with a raw recvfrom inside rc's
// readiness wait, which Go's own reads would announce to the scheduler:
// err is the wait's (a deadline, a closed socket), errno the call's, and
// the end of the stream is io.EOF.
func sockRead(rc syscall.RawConn, b []byte) (n int, err, errno error) {
	if len(b) == 0 {
		return 0, nil, nil
	}
	err = rc.Read(func(fd uintptr) bool { return readStep(fd, b, &n, &errno) })
	return n, readEnd(n, err, errno), errno
}

// sockWrite writes all of b to a non-blocking socket as sockRead reads.
func sockWrite(rc syscall.RawConn, b []byte) (done int, err, errno error) {
	err = writeWaits(rc, func(fd uintptr) bool { return writeStep(fd, b, &done, &errno) }, b, &done, &errno)
	return done, err, errno
}

// readStep is a readiness wait's read into b: n and errno take its
// result; it ends the wait unless the socket had nothing (EAGAIN).
func readStep(fd uintptr, b []byte, n *int, errno *error) bool {
	*n, *errno = rawRead(int(fd), b)
	return *errno != unix.EAGAIN
}

// readEnd is a read's error: the wait's, or io.EOF for nothing read
// with neither failing.
func readEnd(n int, err, errno error) error {
	if err == nil && errno == nil && n == 0 {
		return io.EOF
	}
	return err
}

// writeStep is a readiness wait's write of b from *done: it ends the
// wait once all is written or a call failed (errno), and waits again
// when the socket is full.
func writeStep(fd uintptr, b []byte, done *int, errno *error) bool {
	for *done < len(b) {
		n, e := sendOne(fd, b[*done:])
		switch e {
		case 0:
			*done += n
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			*errno = e
			return true
		}
	}
	return true
}

// writeWaits runs step in rc's write waits until b is written, a call
// failed or a wait did.
func writeWaits(rc syscall.RawConn, step func(fd uintptr) bool, b []byte, done *int, errno *error) (err error) {
	for *done < len(b) && err == nil && *errno == nil {
		err = rc.Write(step)
	}
	return err
}

// netErr is the error net's own Read and Write return for the results of
// sockRead and sockWrite on c.
func netErr(c net.Conn, op string, err, errno error) error {
	switch {
	case err == io.EOF:
		return err
	case err != nil:
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
	case errno != nil:
		err = os.NewSyscallError(op, errno)
	default:
		return nil
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// fileErr is the error os.File's Read and Write return for them, but
// for a deadline's: net's, which is temporary. crypto/tls keeps any
// other error for good, and a TLS connection that parks (park.go) times
// out its idle wait first and reads again when it wakes.
func fileErr(op string, err, errno error) error {
	switch {
	case err == io.EOF:
		return err
	case err != nil:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &net.OpError{Op: op, Net: "tcp", Err: os.ErrDeadlineExceeded}
		}
		// The poller's only other answer: the file is closing.
		err = os.ErrClosed
	case errno != nil:
		err = errno
	default:
		return nil
	}
	return &os.PathError{Op: op, Err: err}
}

// readerOnly hides a reader's other methods from io.Copy.
type readerOnly struct{ io.Reader }

// dial connects to a server address with d's timeout, keep-alive and
// Control (which binds a "source"): a literal IP and port on the
// engine's own socket (sockConn), anything else (names, unix sockets,
// socket pairs) through backend.Dial; in ns, the server's network
// namespace, when set.
func dial(d *net.Dialer, addr string, ns *backend.NetNS) (c net.Conn, err error) {
	ap, err := netip.ParseAddrPort(addr)
	return dialParsed(d, addr, ap, err, ns)
}

// dialParsed is dial with addr parsed already (ap, or the parse's err).
func dialParsed(d *net.Dialer, addr string, ap netip.AddrPort, err error, ns *backend.NetNS) (net.Conn, error) {
	if err != nil || ap.Addr().Zone() != "" {
		return backend.DialIn(context.Background(), ns, d, addr)
	}
	return dialSock(ap, d.Timeout, tcpKeepAliveFrom(d.KeepAliveConfig), d.Control, ns)
}

func dialSock(ap netip.AddrPort, timeout time.Duration, keepAlive tcpKeepAlive, control func(network, address string, rc syscall.RawConn) error, ns *backend.NetNS) (net.Conn, error) {
	a := ap.Addr().Unmap()
	ap = netip.AddrPortFrom(a, ap.Port())
	// The calls before the poller takes the socket do not block: made
	// raw, they spare the scheduler's system call hand-off, which the
	// collector's monitor would otherwise take during a loopback connect
	// (the whole handshake runs inside it).
	var rsa unix.RawSockaddrAny
	var salen uintptr
	var raw *fdRaw
	// A port of a source range goes back when the connection fails.
	defer func() { raw.release() }()
	family := unix.AF_INET
	if a.Is4() {
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		p.Family, p.Port, p.Addr = unix.AF_INET, ntohs(ap.Port()), a.As4()
		salen = unsafe.Sizeof(*p)
	} else {
		family = unix.AF_INET6
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		p.Family, p.Port, p.Addr = unix.AF_INET6, ntohs(ap.Port()), a.As16()
		salen = unsafe.Sizeof(*p)
	}
	var fd int
	var e syscall.Errno
	if ns != nil {
		var err error
		if fd, err = ns.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC); err != nil {
			return nil, dialErr(ap, os.NewSyscallError("socket", err))
		}
	} else {
		var r uintptr
		r, _, e = unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if e != 0 {
			return nil, dialErr(ap, os.NewSyscallError("socket", e))
		}
		fd = int(r)
	}
	setTCPOpts(fd, keepAlive)
	if control != nil {
		// "source": bound before connecting (tcp_connect_server).
		network := "tcp6"
		if a.Is4() {
			network = "tcp4"
		}
		raw = &fdRaw{fd: fd}
		if err := control(network, "", raw); err != nil {
			closeFD(fd)
			return nil, dialErr(ap, err)
		}
	}
	for {
		_, _, e = unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), salen)
		if e != unix.EINTR {
			break
		}
	}
	if e != 0 && e != unix.EINPROGRESS && e != unix.EALREADY && e != unix.EISCONN {
		closeFD(fd)
		return nil, dialErr(ap, os.NewSyscallError("connect", e))
	}
	// A non-blocking descriptor: the runtime's poller watches it.
	c := &sockConn{raddr: ap}
	err := c.pfd.open(fd)
	if err != nil {
		closeFD(fd)
		return nil, dialErr(ap, err)
	}
	f, rc := &c.pfd, &c.pfd
	c.f, c.rc = f, rc
	c.raw = lazyRaw{rc: rc, dl: &c.dl, f: f}
	raw.handTo(&c.src)
	// On loopback the handshake completes within connect: asked first,
	// the connection needs no deadline armed and cleared.
	connected := false
	rc.Control(func(fd uintptr) { connected = sockName(unix.SYS_GETPEERNAME, fd) == nil })
	if connected {
		return c, nil
	}
	if timeout > 0 {
		f.SetWriteDeadline(time.Now().Add(timeout))
	}
	var cerr error
	err = rc.Write(func(fd uintptr) bool {
		// The wait takes only the readiness that comes after it began:
		// a connection already made (on loopback, within connect) or
		// failed is found by asking.
		if sockName(unix.SYS_GETPEERNAME, fd) == nil {
			return true
		}
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && n != 0 {
			err = unix.Errno(n)
		}
		switch err {
		case nil, unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		}
		cerr = os.NewSyscallError("connect", err)
		return true
	})
	if timeout > 0 {
		f.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		f.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = os.ErrDeadlineExceeded
		}
		return nil, dialErr(ap, err)
	}
	if cerr != nil {
		f.Close()
		return nil, dialErr(ap, cerr)
	}
	return c, nil
}

// setTCPOpts sets TCP_NODELAY on a new socket, as net does, and
// keep-alive when asked.
func setTCPOpts(fd int, ka tcpKeepAlive) {
	one := int32(1)
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY, uintptr(unsafe.Pointer(&one)), 4, 0)
	if ka.on {
		ka.set(fd)
	}
}

// tcpKeepAlive is a side's TCP keep-alive: on with option tcpka,
// clitcpka or srvtcpka, probing as clitcpka-* or srvtcpka-* say (0
// leaves the system's setting).
type tcpKeepAlive struct {
	on               bool
	cnt, idle, intvl int32
}

func tcpKeepAliveOf(on bool, ka parser.TCPKeepAlive) tcpKeepAlive {
	return tcpKeepAlive{on: on, cnt: int32(ka.Cnt), idle: int32(ka.Idle), intvl: int32(ka.Intvl)}
}

// set turns keep-alive on for fd with the probe settings, as HAProxy's
// session_accept_fd and tcp_connect_server do.
func (ka tcpKeepAlive) set(fd int) {
	opt := func(level, name int, v int32) {
		unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(unsafe.Pointer(&v)), 4, 0)
	}
	opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
	if ka.cnt != 0 {
		opt(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, ka.cnt)
	}
	if ka.idle != 0 {
		opt(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, ka.idle)
	}
	if ka.intvl != 0 {
		opt(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, ka.intvl)
	}
}

// config is ka for net's sockets: Go would otherwise probe every 15
// seconds where HAProxy leaves the system's timings.
func (ka tcpKeepAlive) config() net.KeepAliveConfig {
	c := net.KeepAliveConfig{Enable: ka.on, Idle: -1, Interval: -1, Count: -1}
	if ka.idle != 0 {
		c.Idle = time.Duration(ka.idle) * time.Second
	}
	if ka.intvl != 0 {
		c.Interval = time.Duration(ka.intvl) * time.Second
	}
	if ka.cnt != 0 {
		c.Count = int(ka.cnt)
	}
	return c
}

// tcpKeepAliveFrom reads back what config gave a dialer.
func tcpKeepAliveFrom(c net.KeepAliveConfig) tcpKeepAlive {
	ka := tcpKeepAlive{on: c.Enable}
	if c.Idle > 0 {
		ka.idle = int32(c.Idle / time.Second)
	}
	if c.Interval > 0 {
		ka.intvl = int32(c.Interval / time.Second)
	}
	if c.Count > 0 {
		ka.cnt = int32(c.Count)
	}
	return ka
}

// fdRaw is a socket not yet handed to the poller, as a net.Dialer's
// Control sees it; it keeps the port of a source range it is bound to.
type fdRaw struct {
	fd  int
	src srcPort
}

func (f *fdRaw) Control(fn func(fd uintptr)) error { fn(uintptr(f.fd)); return nil }
func (*fdRaw) Read(func(fd uintptr) bool) error    { return errors.ErrUnsupported }
func (*fdRaw) Write(func(fd uintptr) bool) error   { return errors.ErrUnsupported }

func dialErr(ap netip.AddrPort, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(ap), Err: err}
}

func (c *sockConn) Read(b []byte) (int, error) { return lazyRead(c.recv, &c.dl, c.f, c.rc, b) }

// recv and Write are os.File's Read and Write with raw system calls.
func (c *sockConn) recv(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	n, err, errno := c.rawSteps().read(c.rc, b)
	c.rmu.Unlock()
	return n, fileErr("read", err, errno)
}

func (c *sockConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	n, err, errno := c.rawSteps().write(c.rc, b)
	c.wmu.Unlock()
	return n, fileErr("write", err, errno)
}

// rawSteps makes the callbacks at the first call; a reader and a writer
// use apart fields of them.
func (c *sockConn) rawSteps() *rawSteps {
	if s := c.steps.Load(); s != nil {
		return s
	}
	s := new(rawSteps)
	s.init()
	if !c.steps.CompareAndSwap(nil, s) {
		return c.steps.Load()
	}
	return s
}
func (c *sockConn) Close() error {
	err := c.src.closeWith(c.f.Close)
	if c.watch.gen.Load() != 0 {
		getCloseWatcher().forget(c)
	}
	return err
}

func (c *sockConn) SetDeadline(t time.Time) error {
	if err := c.f.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.dl.set(c.f, t)
}
func (c *sockConn) SetReadDeadline(t time.Time) error  { return c.dl.set(c.f, t) }
func (c *sockConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

func (c *sockConn) SyscallConn() (syscall.RawConn, error) { return &c.raw, nil }

func (c *sockConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.raddr) }

// LocalAddr asks the kernel once, on first use (logs, fetches).
func (c *sockConn) LocalAddr() net.Addr {
	if a := c.laddr.Load(); a != nil {
		return a
	}
	var ap netip.AddrPort
	c.rc.Control(func(fd uintptr) { ap = fdAddrPort(fd) })
	a := net.TCPAddrFromAddrPort(ap)
	c.laddr.Store(a)
	return a
}

// addrs are the peer's address and the local one, as RemoteAddr and
// LocalAddr give them, without making net.Addrs of them.
func (c *sockConn) addrs() (remote, local netip.AddrPort) {
	if a := c.laddr.Load(); a != nil {
		return c.raddr, a.AddrPort()
	}
	if c.f == sockFile(&c.lazy) && c.lazy.acquire() {
		local = fdAddrPort(uintptr(c.lazy.fd))
		c.lazy.release()
		return c.raddr, local
	}
	return c.raddr, addrPort(c.LocalAddr())
}

// fdAddrPort is the local address of socket fd, invalid on failure.
func fdAddrPort(fd uintptr) netip.AddrPort {
	var rsa unix.RawSockaddrAny
	l := uint32(unsafe.Sizeof(rsa))
	_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, fd, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return netip.AddrPort{}
	}
	return rsaAddrPort(&rsa)
}

// rsaAddrPort is a socket address as net gives it (an IPv6 scope as its
// interface's name), invalid when it is not an IP one.
func rsaAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), ntohs(p.Port))
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		a := netip.AddrFrom16(p.Addr)
		if p.Scope_id != 0 {
			a = a.WithZone(zoneName(p.Scope_id))
		}
		return netip.AddrPortFrom(a, ntohs(p.Port))
	}
	return netip.AddrPort{}
}

// ntohs reads a port in network order.
func ntohs(p uint16) uint16 { return p>>8 | p<<8 }

// sockName calls getpeername or getsockname on fd without converting
// the address (x/sys/unix's would also ask for SO_PROTOCOL).
func sockName(trap, fd uintptr) error {
	var rsa unix.RawSockaddrAny
	l := uint32(unsafe.Sizeof(rsa))
	_, _, e := unix.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return e
	}
	return nil
}

func (c *sockConn) CloseWrite() error { return c.shutdown(unix.SHUT_WR) }
func (c *sockConn) CloseRead() error  { return c.shutdown(unix.SHUT_RD) }

func (c *sockConn) shutdown(how int) error {
	var err error
	if cerr := c.rc.Control(func(fd uintptr) { err = unix.Shutdown(int(fd), how) }); cerr != nil {
		return cerr
	}
	return err
}

// setLinger0 makes Close reset the connection.
func (c *sockConn) setLinger0() { linger0(c.rc) }

// linger0 sets SO_LINGER to a zero delay (a reset on close) with a raw
// system call: it does not block.
func linger0(rc syscall.RawConn) { rc.Control(setLinger0FD) }

// lingerZero is the option linger0 sets, which the kernel only reads:
// neither it nor setLinger0FD is made per call (a closure over a local
// option escaped, two allocations per connection closed).
var lingerZero = unix.Linger{Onoff: 1}

func setLinger0FD(fd uintptr) {
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&lingerZero)), unsafe.Sizeof(lingerZero), 0)
}

// sockOf is the sockConn under an engine connection to a server.
func sockOf(c netConn) *sockConn {
	switch t := c.(type) {
	case *sockConn:
		return t
	case *tlsServerConn:
		sc, _ := t.tcp.(*sockConn)
		return sc
	}
	return nil
}
