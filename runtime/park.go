package runtime

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An idle TLS connection waiting for its client's next request parks:
// its goroutine ends, and with it the stack, which the frames of the TLS
// read keep at 8 KiB, more than the connection's TLS state. The socket
// waits in the parker's own epoll instance instead, and the session goes
// on in a new goroutine once the socket is readable, its idle deadline
// passes, or another goroutine wakes it (a stop, a kill). A wake that
// finds nothing to do is harmless: the session reads again, as after any
// readiness event, and parks again.

// parkAfter is how long an idle connection waits in its goroutine before
// it parks: a client that sends its requests back to back keeps its
// goroutine, and its wait costs one clock reading more.
const parkAfter = 200 * time.Millisecond

// errParked ends a session's readiness wait when its connection parked.
var errParked = errors.New("connection parked")

// A connection's park states: its session runs; it parks (its
// goroutine unwinds); it parked; a wake came while it parked, which
// arm answers at once.
const (
	parkRunning int32 = iota
	parkParking
	parkParked
	parkWoken
)

// parker is the epoll instance parked connections wait in, and the
// connection each registered descriptor belongs to.
type parker struct {
	epfd int
	mu   sync.Mutex
	byFD map[int32]*parkState
}

// getParker starts the parker once; nil when the system has none to
// give, and connections then wait in their goroutines.
var getParker = sync.OnceValue(func() *parker {
	p := &parker{byFD: make(map[int32]*parkState)}
	if p.epfd = startEpoll(p.handle); p.epfd < 0 {
		return nil
	}
	return p
})

func (p *parker) handle(evs []unix.EpollEvent) {
	for i := range evs {
		fd := evs[i].Fd
		p.mu.Lock()
		m := p.byFD[fd]
		delete(p.byFD, fd)
		p.mu.Unlock()
		if m != nil {
			m.wake()
		}
	}
}

// startEpoll makes an epoll instance and hands its events to handle,
// batch by batch, in a goroutine of its own; -1 when the system gives
// none.
func startEpoll(handle func([]unix.EpollEvent)) int {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1
	}
	go epollLoop(fd, handle)
	return fd
}

// epollLoop hands the events of the epoll instance epfd to handle until
// the instance fails.
func epollLoop(epfd int, handle func([]unix.EpollEvent)) {
	var evs [64]unix.EpollEvent
	for {
		n, err := unix.EpollWait(epfd, evs[:], -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		handle(evs[:n])
	}
}

// arm registers m's socket, one-shot, and its deadline: the last thing
// the parking goroutine does, since a wake may start the session at
// once in another.
func (p *parker) arm(m *parkState) {
	fd := int32(m.fd)
	p.mu.Lock()
	p.byFD[fd] = m
	p.mu.Unlock()
	if d := m.rdl.Load(); d != 0 && m.tm != nil {
		// Without a timer, the deadline came after parkNow, with a wake.
		m.tm.Reset(time.Until(time.Unix(0, d)))
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: fd}
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, m.fd, &ev)
	if err == unix.ENOENT {
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, m.fd, &ev)
	}
	if err != nil {
		// The socket is gone (a kill closed it): nothing will come.
		m.state.Store(parkWoken)
	}
	if !m.state.CompareAndSwap(parkParking, parkParked) {
		m.state.Store(parkRunning)
		go m.resume.resumeParked()
	}
}

// forget drops m's registration once its connection closes.
func (p *parker) forget(m *parkState) {
	p.mu.Lock()
	if p.byFD[int32(m.fd)] == m {
		delete(p.byFD, int32(m.fd))
	}
	p.mu.Unlock()
}

// parkState is what a memRaw needs to park: set up for a TLS
// connection's socket (enablePark).
type parkState struct {
	pk *parker
	fd int
	// rdl is the read deadline last set, in Unix nanoseconds (0: none);
	// idleArm says the coming wait is an idle one, which may park.
	rdl     atomic.Int64
	idleArm bool
	state   atomic.Int32
	tm      *time.Timer
	// resume goes on with the session, in a new goroutine.
	resume resumer
	// parked says the connection parked at least once.
	parked bool
}

// resumer is a session that parks (resumeParked).
type resumer interface{ resumeParked() }

// enablePark lets the connection park, on under's descriptor.
func (m *memConn) enablePark(resume resumer) {
	if m.under != nil {
		m.raw.enable(m.under, resume)
	}
}

// enable lets a connection park on under's descriptor, resume taking it
// up again; false when it cannot.
func (m *parkState) enable(under netConn, resume resumer) bool {
	p := getParker()
	if p == nil {
		return false
	}
	rc, err := under.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return false
	}
	m.pk, m.fd, m.resume = p, fd, resume
	return true
}

// setIdleDeadline sets the read deadline of a wait for the next request:
// a connection that can park wakes at parkAfter to do so.
func setIdleDeadline(c netConn, t time.Time) {
	m, ok := c.(*memConn)
	if !ok || m.raw.pk == nil {
		c.SetReadDeadline(t)
		return
	}
	m.raw.setRDL(t)
	m.raw.idleArm = true
	if p := time.Now().Add(parkAfter); t.IsZero() || t.After(p) {
		t = p
	}
	m.Conn.SetReadDeadline(t)
}

func (m *parkState) setRDL(t time.Time) {
	if t.IsZero() {
		m.rdl.Store(0)
	} else {
		m.rdl.Store(t.UnixNano())
	}
}

// parkNow says whether an idle wait that timed out parks: its own
// deadline has not passed.
func (m *memRaw) parkNow() bool {
	d := m.rdl.Load()
	if d != 0 && time.Now().UnixNano() >= d {
		return false
	}
	m.parking(m.c)
	return true
}

// parking readies the connection, over c, to park: arm then registers
// it. The timer of its deadline is made once.
func (m *parkState) parking(c net.Conn) {
	if m.rdl.Load() != 0 && m.tm == nil {
		m.tm = time.AfterFunc(time.Hour, m.wake)
		m.tm.Stop()
	}
	trimTLS(c)
	m.parked = true
	m.state.Store(parkParking)
}

// wake starts the parked session again, once; one parking now does so
// when it has parked.
func (m *parkState) wake() {
	for {
		switch m.state.Load() {
		case parkParked:
			if m.state.CompareAndSwap(parkParked, parkRunning) {
				if m.tm != nil {
					m.tm.Stop()
				}
				go m.resume.resumeParked()
				return
			}
		case parkParking:
			if m.state.CompareAndSwap(parkParking, parkWoken) {
				return
			}
		default:
			return
		}
	}
}

// crypto/tls keeps the buffers its handshake grew (the raw input, the
// handshake messages) for the connection's life: a few KiB that a parked
// connection gives up while they are empty, as OpenSSL's
// SSL_MODE_RELEASE_BUFFERS does for HAProxy. The fields are found by name
// and type once; where they are not as expected, nothing is trimmed.
var tlsBufs = func() (o struct {
	ok                    bool
	rawInput, input, hand uintptr
}) {
	t := reflect.TypeOf(tls.Conn{})
	buf, rd := reflect.TypeOf(bytes.Buffer{}), reflect.TypeOf(bytes.Reader{})
	ri, ok1 := t.FieldByName("rawInput")
	in, ok2 := t.FieldByName("input")
	h, ok3 := t.FieldByName("hand")
	if !ok1 || !ok2 || !ok3 || ri.Type != buf || in.Type != rd || h.Type != buf {
		return
	}
	o.ok, o.rawInput, o.input, o.hand = true, ri.Offset, in.Offset, h.Offset
	return
}()

// trimTLS drops c's empty input buffers. Only the goroutine that reads c
// calls it, between two reads.
func trimTLS(c net.Conn) {
	tc := tlsConnOf(c)
	if tc == nil || !tlsBufs.ok {
		return
	}
	p := unsafe.Pointer(tc)
	ri := (*bytes.Buffer)(unsafe.Add(p, tlsBufs.rawInput))
	in := (*bytes.Reader)(unsafe.Add(p, tlsBufs.input))
	h := (*bytes.Buffer)(unsafe.Add(p, tlsBufs.hand))
	if ri.Len() == 0 && in.Len() == 0 && h.Len() == 0 {
		*ri, *in, *h = bytes.Buffer{}, bytes.Reader{}, bytes.Buffer{}
	}
}
