package logging

import (
	"unsafe"

	"github.com/gohap/gohap/runtime/ring"

	"context"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options are the process-level settings of a Logger.
type Options struct {
	// Hostname is sent in rfc3164/rfc5424 headers when not empty
	// ("log-send-hostname").
	Hostname string
	// Tag is "log-tag"; "haproxy" when empty.
	Tag string
	// PID is the pid in headers; os.Getpid() when 0.
	PID int
	// QueueLen bounds the lines waiting for each target (default 1024);
	// lines beyond are dropped and counted.
	QueueLen int
	// CloseTimeout bounds how long Close waits for queues to drain
	// (default 2s).
	CloseTimeout time.Duration
	// WriteTimeout bounds one write to a target (default 1s).
	WriteTimeout time.Duration
	// Now returns the header time; time.Now when nil.
	Now func() time.Time
	// Resolve resolves the Host of a target; net.DefaultResolver when nil.
	Resolve func(host string) (netip.Addr, error)
	// Sinks are the event sinks "ring@<name>" targets name.
	Sinks map[string]*ring.Sink
}

// Logger sends lines to a list of targets (one proxy's "log" lines).
type Logger struct {
	targets []*target
	// sendMu keeps Close from closing a socket a direct send uses; bufs
	// holds the frames of direct sends.
	sendMu  sync.RWMutex
	bufs    sync.Pool
	meta    meta
	now     func() time.Time
	dropped atomic.Uint64
	closed  atomic.Bool
	wg      sync.WaitGroup
	opts    Options
}

type target struct {
	cfg TargetConfig
	mu  sync.Mutex // sampling state
	rg  uint32
	idx uint32
	rgI []uint32

	// bufs are the line slots: an index is either in free, in q, or being
	// written. Slots keep their capacity, so a warm target does not
	// allocate; no free slot means the queue is full.
	bufs [][]byte
	free chan int
	q    chan int
	done chan struct{}
	w    writer
	// direct is set for UDP targets: lines go out at once from the
	// caller, with a send that never waits, as HAProxy's sendmsg().
	direct *packetWriter
	// sink is set for ring@ targets: lines go into the ring from the
	// caller (sendRing).
	sink *ring.Sink
}

// writer sends one framed line.
type writer interface {
	write(b []byte, deadline time.Time) error
	close()
}

// New opens the targets. A UDP or unix datagram socket is created per
// target; stream targets connect lazily and reconnect after failures.
// Ring targets write into Options.Sinks.
func New(targets []TargetConfig, opts Options) (*Logger, error) {
	if opts.Tag == "" {
		opts.Tag = "haproxy"
	}
	if opts.PID == 0 {
		opts.PID = os.Getpid()
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 1024
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 2 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = time.Second
	}
	l := &Logger{now: opts.Now, opts: opts}
	if l.now == nil {
		l.now = time.Now
	}
	l.meta = meta{host: []byte(opts.Hostname), tag: []byte(opts.Tag), pid: []byte(strconv.Itoa(opts.PID))}
	for _, c := range targets {
		if c.Global {
			continue
		}
		if name := c.Path; c.Kind == Ring || c.Kind == Stream && opts.Sinks[c.Ring] != nil {
			if c.Kind == Stream {
				name = c.Ring
			}
			s := opts.Sinks[name]
			if s == nil || s.Ring == nil {
				l.Close()
				return nil, fmt.Errorf("log target '%s': no ring named '%s'", c.Raw, name)
			}
			if c.MaxLen <= 0 {
				c.MaxLen = MaxLenDefault
			}
			l.targets = append(l.targets, &target{cfg: c, sink: s, done: make(chan struct{}), rgI: make([]uint32, len(c.Ranges))})
			continue
		}
		w, err := openWriter(c, opts)
		if err != nil {
			l.Close()
			return nil, err
		}
		if c.MaxLen <= 0 {
			c.MaxLen = MaxLenDefault
		}
		t := &target{cfg: c, w: w, bufs: make([][]byte, opts.QueueLen), free: make(chan int, opts.QueueLen),
			q: make(chan int, opts.QueueLen), done: make(chan struct{}), rgI: make([]uint32, len(c.Ranges))}
		for i := range opts.QueueLen {
			t.free <- i
		}
		if pw, ok := w.(*packetWriter); ok && pw.udp != nil {
			if err := pw.prepareDirect(); err == nil {
				t.direct = pw
			}
		}
		l.targets = append(l.targets, t)
		l.wg.Add(1)
		go l.drain(t)
	}
	return l, nil
}

// Dropped is the number of lines lost: queue full, write failed or logger
// closed.
func (l *Logger) Dropped() uint64 { return l.dropped.Load() }

// Emit sends msg at level to every target whose level filter and sampling
// let it through. facility < 0 means each target's own facility. sd is the
// rendered structured data (log-format-sd) for rfc5424 targets; nil means
// "-". Emit never blocks and does not allocate once buffers are warm.
func (l *Logger) Emit(level Level, facility int, msg, sd []byte) {
	l.EmitAt(level, facility, msg, sd, time.Time{})
}

// EmitAt is Emit with the line dated now, a clock reading the caller
// already has; a zero now reads the logger's clock.
func (l *Logger) EmitAt(level Level, facility int, msg, sd []byte, now time.Time) {
	for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == 0) {
		msg = msg[:len(msg)-1]
	}
	for len(sd) > 0 && sd[len(sd)-1] == ' ' {
		sd = sd[:len(sd)-1]
	}
	for _, t := range l.targets {
		if level > t.cfg.Level || !t.sample() {
			continue
		}
		if l.closed.Load() {
			l.dropped.Add(1)
			continue
		}
		if now.IsZero() {
			now = l.now()
		}
		fac := facility
		if fac < 0 {
			fac = t.cfg.Facility
		}
		m := l.meta
		m.sd = sd
		if t.direct != nil {
			l.sendDirect(t, max(level, t.cfg.MinLevel), fac, &m, msg, now)
			continue
		}
		if t.sink != nil {
			l.sendRing(t, max(level, t.cfg.MinLevel), &m, msg, now)
			continue
		}
		var slot int
		select {
		case slot = <-t.free:
		default:
			l.dropped.Add(1)
			continue
		}
		t.bufs[slot] = t.frame(t.bufs[slot][:0], max(level, t.cfg.MinLevel), fac, &m, msg, now)
		t.q <- slot // never blocks: q holds every slot
	}
}

// sample applies the "sample" ranges exactly as process_send_log().
func (t *target) sample() bool {
	if len(t.cfg.Ranges) == 0 {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rg := t.cfg.Ranges[t.rg]
	in := t.idx+1 <= rg.High && t.idx+1 >= rg.Low
	if in {
		t.rgI[t.rg] = (t.rgI[t.rg] + 1) % (rg.High - rg.Low + 1)
		if t.rgI[t.rg] == 0 {
			t.rg = (t.rg + 1) % uint32(len(t.cfg.Ranges))
		}
	}
	t.idx = (t.idx + 1) % t.cfg.SampleSize
	return in
}

// frame builds the bytes HAProxy writes for one line on this target.
// Datagrams hold header and message cut to "len" then LF, except that a
// cut inside the header drops the header element it falls in (the LF
// takes its iovec slot in __do_send_log()). File descriptors keep one byte
// of "len" for the LF; streams cut the message alone, as the ring does.
func (t *target) frame(dst []byte, level Level, facility int, m *meta, msg []byte, now time.Time) []byte {
	var e elems
	dst = appendHeader(dst, t.cfg.Format, level, facility, m, now, &e)
	switch t.cfg.Kind {
	case FD:
		dst = append(dst, msg[:min(len(msg), t.cfg.MaxLen)]...)
		dst = dst[:min(len(dst), t.cfg.MaxLen-1)]
	case Stream:
		dst = append(dst, msg[:min(len(msg), t.cfg.MaxLen)]...)
		dst = dst[:min(len(dst), ringMaxLen)]
	default:
		if len(dst) >= t.cfg.MaxLen {
			start := 0
			for _, end := range e.ends[:e.n] {
				if end >= t.cfg.MaxLen {
					break
				}
				start = end
			}
			dst = dst[:start]
		} else {
			dst = append(dst, msg[:min(len(msg), t.cfg.MaxLen-len(dst))]...)
		}
	}
	return append(dst, '\n')
}

// ringMaxLen is the maxlen of the implicit ring HAProxy puts in front of a
// stream target (BUFSIZE).
const ringMaxLen = 16384

func (l *Logger) drain(t *target) {
	defer l.wg.Done()
	defer t.w.close()
	for {
		select {
		case slot := <-t.q:
			l.send(t, slot)
		case <-t.done:
			for {
				select {
				case slot := <-t.q:
					l.send(t, slot)
				default:
					return
				}
			}
		}
	}
}

func (l *Logger) send(t *target, slot int) {
	if err := t.w.write(t.bufs[slot], time.Now().Add(l.opts.WriteTimeout)); err != nil {
		l.dropped.Add(1)
	}
	t.free <- slot
}

// Close stops accepting lines, lets the queues drain for at most
// Options.CloseTimeout and closes the sockets. Lines still queued after
// that are counted as dropped.
func (l *Logger) Close() error {
	l.sendMu.Lock()
	was := l.closed.Swap(true)
	l.sendMu.Unlock()
	if was {
		return nil
	}
	for _, t := range l.targets {
		close(t.done)
	}
	ch := make(chan struct{})
	go func() { l.wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-time.After(l.opts.CloseTimeout):
		n := 0
		for _, t := range l.targets {
			n += len(t.q)
		}
		l.dropped.Add(uint64(n))
		return fmt.Errorf("logging: %d line(s) not sent within %v", n, l.opts.CloseTimeout)
	}
}

func openWriter(c TargetConfig, opts Options) (writer, error) {
	switch c.Kind {
	case UDP:
		addr, err := resolve(c, opts)
		if err != nil {
			return nil, err
		}
		network := "udp4"
		if addr.Addr().Is6() {
			network = "udp6"
		}
		conn, err := net.ListenUDP(network, nil)
		if err != nil {
			return nil, err
		}
		return &packetWriter{conn: conn, udp: conn, ap: addr}, nil
	case UnixDgram:
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "log-unixgram")
		pc, err := net.FilePacketConn(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		name := c.Path
		if c.Abstract {
			name = "@" + name
		}
		return &packetWriter{conn: pc, addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
	case FD:
		switch c.FD {
		case 1:
			return &fileWriter{w: os.Stdout}, nil
		case 2:
			return &fileWriter{w: os.Stderr}, nil
		}
		// the descriptor is inherited, not ours: it is never closed here
		return &fileWriter{w: fdFile{c.FD}}, nil
	case Stream:
		sw := &streamWriter{network: c.Network, timeout: opts.WriteTimeout}
		if c.Network == "unix" {
			sw.addr = c.Path
			if c.Abstract {
				sw.addr = "@" + c.Path
			}
		} else {
			addr, err := resolve(c, opts)
			if err != nil {
				return nil, err
			}
			sw.addr = addr.String()
		}
		return sw, nil
	}
	return nil, fmt.Errorf("log target '%s': ring targets need a ring section, not supported", c.Raw)
}

func resolve(c TargetConfig, opts Options) (netip.AddrPort, error) {
	if c.Host == "" {
		return c.Addr, nil
	}
	if opts.Resolve != nil {
		a, err := opts.Resolve(c.Host)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("invalid address: '%s' in '%s'", c.Host, c.Raw)
		}
		return netip.AddrPortFrom(a, c.Port), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", c.Host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("invalid address: '%s' in '%s'", c.Host, c.Raw)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), c.Port), nil
}

// packetWriter sends datagrams from an unconnected socket, as HAProxy's
// sendmsg() with a destination does.
type packetWriter struct {
	conn net.PacketConn
	addr net.Addr
	// udp and ap avoid the per-call sockaddr allocation of WriteTo.
	udp *net.UDPConn
	ap  netip.AddrPort
	// fd and raw serve direct sends: raw is the destination as sendto(2)
	// reads it, built once, which concurrent sends only read (x/sys's
	// Sockaddr rewrites its buffer on every call).
	fd     int
	raw    [unix.SizeofSockaddrInet6]byte
	rawLen uintptr
}

func (w *packetWriter) write(b []byte, deadline time.Time) error {
	w.conn.SetWriteDeadline(deadline)
	var err error
	if w.udp != nil {
		_, err = w.udp.WriteToUDPAddrPort(b, w.ap)
	} else {
		_, err = w.conn.WriteTo(b, w.addr)
	}
	return err
}

func (w *packetWriter) close() { w.conn.Close() }

type fileWriter struct{ w io.Writer }

func (w *fileWriter) write(b []byte, _ time.Time) error {
	_, err := w.w.Write(b)
	return err
}

func (w *fileWriter) close() {}

// fdFile writes to a raw descriptor without an *os.File, whose finalizer
// would close a descriptor the process does not own.
type fdFile struct{ fd int }

func (f fdFile) Write(b []byte) (int, error) {
	for n := 0; n < len(b); {
		m, err := syscall.Write(f.fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return len(b), nil
}

// streamWriter keeps one connection and redials at most once a second
// after a failure; lines sent while it is down are dropped.
type streamWriter struct {
	network, addr string
	timeout       time.Duration
	conn          net.Conn
	lastDial      time.Time
}

var errDown = errors.New("log stream target down")

func (w *streamWriter) write(b []byte, deadline time.Time) error {
	if w.conn == nil {
		if time.Since(w.lastDial) < time.Second && !w.lastDial.IsZero() {
			return errDown
		}
		w.lastDial = time.Now()
		c, err := net.DialTimeout(w.network, w.addr, w.timeout)
		if err != nil {
			return err
		}
		w.conn = c
	}
	w.conn.SetWriteDeadline(deadline)
	if _, err := w.conn.Write(b); err != nil {
		w.conn.Close()
		w.conn = nil
		return err
	}
	return nil
}

func (w *streamWriter) close() {
	if w.conn != nil {
		w.conn.Close()
	}
}

// prepareDirect finds the socket's descriptor and destination for sends
// that bypass Go's poller: such a send never waits for room.
func (w *packetWriter) prepareDirect() error {
	rc, err := w.udp.SyscallConn()
	if err != nil {
		return err
	}
	rc.Control(func(fd uintptr) { w.fd = int(fd) })
	a, port := w.ap.Addr(), w.ap.Port()
	if a.Is4() {
		r := (*unix.RawSockaddrInet4)(unsafe.Pointer(&w.raw[0]))
		r.Family, r.Addr = unix.AF_INET, a.As4()
		pb := (*[2]byte)(unsafe.Pointer(&r.Port))
		pb[0], pb[1] = byte(port>>8), byte(port)
		w.rawLen = unix.SizeofSockaddrInet4
	} else {
		r := (*unix.RawSockaddrInet6)(unsafe.Pointer(&w.raw[0]))
		r.Family, r.Addr = unix.AF_INET6, a.As16()
		pb := (*[2]byte)(unsafe.Pointer(&r.Port))
		pb[0], pb[1] = byte(port>>8), byte(port)
		w.rawLen = unix.SizeofSockaddrInet6
	}
	return nil
}

// sendto sends b to the prepared destination without waiting for room;
// the socket never blocks, so the scheduler need not hear of the call.
func (w *packetWriter) sendto(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(w.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&w.raw[0])), w.rawLen)
	if e != 0 {
		return e
	}
	return nil
}

// sendDirect frames and sends one line from the caller; a line the socket
// cannot take at once is dropped and counted.
func (l *Logger) sendDirect(t *target, level Level, facility int, m *meta, msg []byte, now time.Time) {
	bp, _ := l.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, t.cfg.MaxLen+64)
		bp = &b
	}
	b := t.frame((*bp)[:0], level, facility, m, msg, now)
	l.sendMu.RLock()
	if l.closed.Load() {
		l.dropped.Add(1)
	} else if err := t.direct.sendto(b); err != nil {
		l.dropped.Add(1)
	}
	l.sendMu.RUnlock()
	*bp = b
	l.bufs.Put(bp)
}
