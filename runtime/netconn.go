package runtime

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/h2"
)

// netConn is a socket the engine reads and writes through its file
// descriptor: a TCP connection, or the engine's end of a socket pair
// whose other end a TLS or HTTP/2 layer drives.
type netConn interface {
	net.Conn
	SyscallConn() (syscall.RawConn, error)
	CloseWrite() error
	CloseRead() error
}

// setLinger0 makes Close reset a TCP connection instead of draining it.
func setLinger0(c netConn) {
	if t := tcpOf(c); t != nil {
		if rc, err := t.SyscallConn(); err == nil {
			linger0(rc)
		}
	} else if t := sockOf(c); t != nil {
		t.setLinger0()
	} else if m, ok := c.(*memConn); ok && m.under != nil {
		setLinger0(m.under)
	}
}

// resetClose closes a server connection whose exchange is over with a
// reset, as HAProxy closes the connections it opened (FD_LINGER_RISK):
// the local port is free again at once instead of spending a minute in
// TIME_WAIT, which under a stream of new connections fills the port
// range and makes every connect() search it.
func resetClose(c netConn) {
	setLinger0(c)
	c.Close()
}

// memConn is a client connection the engine reads and writes through Go
// calls rather than a descriptor of its own: a TLS connection, or an
// HTTP/2 stream. The session drives it as it drives a socket, through
// raw, whose readiness wait is a blocking read (memRaw).
type memConn struct {
	net.Conn
	raw memRaw
	// under is the socket under a TLS connection, nil under a stream,
	// which shares its connection with others.
	under netConn
	// head is the parsed response head the next write to a stream
	// starts with (session.handHead).
	head *parsedHead
	// released says the session that ran on the connection was recycled:
	// an HTTP/2 stream's memConn may then serve the next stream, unless
	// a close still runs on it (aborted).
	released bool
	aborted  atomic.Bool
	// sm is the stream the memConn is part of.
	sm *streamConn
}

// parsedHead is a response head the session has parsed: p[:n] of the
// write it comes with renders m, the fields of buf (h2.Stream.WriteParsed).
type parsedHead struct {
	n      int
	buf    []byte
	m      *h1.Msg
	dropCL bool
}

// Write passes a parsed head to the stream along with its rendering.
func (m *memConn) Write(p []byte) (int, error) {
	if h := m.head; h != nil {
		m.head = nil
		if m.raw.st != nil {
			return m.raw.st.WriteParsed(p, h.n, h.buf, h.m, h.dropCL)
		}
	}
	return m.Conn.Write(p)
}

func newMemConn(c net.Conn, under netConn) *memConn {
	st, _ := c.(*h2.Stream)
	var m *memConn
	if st != nil {
		if sm, ok := st.Owner.(*streamConn); ok {
			m = &sm.mc
			m.sm = sm
		}
	}
	if m == nil {
		m = new(memConn)
	}
	m.Conn, m.under = c, under
	m.raw.c, m.raw.st = c, st
	return m
}

// streamConn is an HTTP/2 stream and the memConn the engine reads it
// through, allocated together and reused together: a stream whose
// session was recycled (memConn.released) serves a later one, so that
// HTTP/2 requests allocate nothing of their own and do not drive the
// collector. One the engine may still hold (a pinned session, a tunnel)
// is left to the collector.
type streamConn struct {
	st h2.Stream
	mc memConn
	// sess is the session the last stream ran, recycled, for the next.
	sess *session
}

var streamConnPool sync.Pool

func init() {
	h2.NewStream = func() *h2.Stream {
		sm, _ := streamConnPool.Get().(*streamConn)
		if sm == nil {
			sm = new(streamConn)
		}
		sm.mc = memConn{}
		sm.st.Owner = sm
		return &sm.st
	}
	h2.FreeStream = func(st *h2.Stream) bool {
		sm, ok := st.Owner.(*streamConn)
		if !ok || !sm.mc.released || sm.mc.aborted.Load() {
			return false
		}
		streamConnPool.Put(sm)
		return true
	}
}

func (m *memConn) SyscallConn() (syscall.RawConn, error) { return &m.raw, nil }

// SetReadDeadline also wakes the connection if it parked: the deadline
// may come before the one it parked with (a stop).
func (m *memConn) SetReadDeadline(t time.Time) error { return m.setDeadline(t, true) }

func (m *memConn) SetDeadline(t time.Time) error { return m.setDeadline(t, false) }

func (m *memConn) setDeadline(t time.Time, readOnly bool) error {
	if m.raw.pk != nil {
		m.raw.setRDL(t)
		defer m.raw.wake()
	}
	if readOnly {
		return m.Conn.SetReadDeadline(t)
	}
	return m.Conn.SetDeadline(t)
}

func (m *memConn) Close() error {
	if m.raw.parked {
		m.raw.pk.forget(&m.raw.parkState)
	}
	return m.Conn.Close()
}

func (m *memConn) CloseWrite() error {
	if cw, ok := m.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// abort ends the connection without waiting: the socket under a TLS
// connection is closed at once, which fails a read or write in
// progress; the connection or stream itself is closed meanwhile.
func (m *memConn) abort() {
	if m.under != nil {
		m.under.Close()
	}
	// Set before the killer lets the session go (its pin): the stream is
	// then never reused under the close.
	m.aborted.Store(true)
	go m.Conn.Close()
	if m.raw.pk != nil {
		m.raw.wake()
	}
}

// CloseRead does nothing: what is not read is dropped with the
// connection or the stream.
func (m *memConn) CloseRead() error { return nil }

// memFD is the descriptor a memRaw hands its callbacks: none, so that a
// system call made on it by code that expects a socket fails (EBADF)
// instead of touching another file.
const memFD = ^uintptr(0)

var errNoFD = errors.New("connection has no descriptor of its own")

// memRaw is a memConn's syscall.RawConn. A read that finds nothing
// (read) records where its bytes were to go; the wait then reads into
// that very place, blocking, and the next read finds them there: no
// copy and no buffer of its own.
type memRaw struct {
	c    net.Conn
	want []byte
	got  int
	// end is the read error that ended the input: io.EOF or the
	// connection's failure.
	end error
	// st is c when it is an HTTP/2 stream, read without waiting first.
	st *h2.Stream
	// small takes a wait's bytes when no read said where: a session
	// waiting for a request has given its buffer back (shedBuffers). It
	// comes from smallPool for the wait and goes back once read, so that
	// a parked connection or a stream holds none.
	small *[256]byte
	parkState
}

func (m *memRaw) Control(func(fd uintptr)) error { return errNoFD }

func (m *memRaw) Read(f func(fd uintptr) bool) error {
	for {
		if m.got == 0 {
			// Only a read f makes tells the wait where to read.
			m.want = nil
			m.dropSmall()
		}
		if f(memFD) {
			return nil
		}
		if err := m.wait(); err != nil {
			return err
		}
	}
}

// Write runs f once: a memConn's writes block until done (side.memWritev).
func (m *memRaw) Write(f func(fd uintptr) bool) error {
	f(memFD)
	return nil
}

// wait is the readiness wait: it returns a deadline's error, and
// otherwise nil once bytes or the end of the input came.
func (m *memRaw) wait() error {
	if m.got > 0 || m.end != nil {
		return nil
	}
	if len(m.want) == 0 {
		m.small = smallPool.Get().(*[256]byte)
		m.want = m.small[:]
	}
	idle := m.idleArm
	m.idleArm = false
	n, err := m.c.Read(m.want)
	m.got = n
	switch {
	case err == nil:
	case isTimeout(err):
		if n == 0 {
			if idle && m.parkNow() {
				m.want = nil
				m.dropSmall()
				return errParked
			}
			return err
		}
	default:
		m.end = err
	}
	return nil
}

var smallPool = sync.Pool{New: func() any { return new([256]byte) }}

func (m *memRaw) dropSmall() {
	if m.small != nil {
		smallPool.Put(m.small)
		m.small = nil
	}
}

// read is a non-blocking read: unix.EAGAIN when nothing came, (0, nil)
// at the end of the input, as recv.
func (m *memRaw) read(p []byte) (int, error) {
	if n := m.got; n > 0 {
		if unsafe.SliceData(p) == unsafe.SliceData(m.want) {
			m.got, m.want = 0, nil
			return n, nil
		}
		// The bytes came into small: what p cannot take stays there.
		n = copy(p, m.want[:n])
		m.want, m.got = m.want[n:], m.got-n
		if m.got == 0 {
			m.want = nil
			m.dropSmall()
		}
		return n, nil
	}
	m.want = nil
	switch {
	case m.end == io.EOF:
		return 0, nil
	case m.end != nil:
		return 0, m.end
	}
	if m.st != nil {
		// An HTTP/2 stream's request is there when its session starts:
		// no wait to find it.
		if n, ok := m.st.TryRead(p); ok {
			return n, nil
		}
	}
	m.want = p
	return 0, unix.EAGAIN
}
