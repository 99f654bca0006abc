package runtime

import (
	"io"

	"github.com/gohap/gohap/backend"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tunnelCfg holds a tunnel's timeouts. With shared set, idle is the
// tunnel timeout and activity in either direction keeps both alive;
// otherwise each side's own inactivity timeout applies to its reads, as
// HAProxy does without "timeout tunnel".
type tunnelCfg struct {
	shared bool
	// indepC and indepS are "option independent-streams" on the
	// frontend and the backend: data written to the client (the
	// server) no longer refreshes that side's read timeout.
	indepC, indepS    bool
	idle              time.Duration
	client, server    time.Duration
	clientFin, srvFin time.Duration
	// spliceUp and spliceDown splice the data to the server and to the
	// client through kernel pipes (option splice-request and
	// splice-response: a TCP-mode stream, an HTTP/1 tunnel after an
	// upgrade); fe and be count the spliced bytes for the h1 module
	// statistics, nil in TCP mode, which has none.
	spliceUp, spliceDown bool
	fe, be               *trafficCounters
	// total counts all spliced bytes out (the engine's).
	total *atomic.Uint64
	// srvEnds ends the tunnel once the server's side ended, as
	// HAProxy's HTTP/1 side closes its client's connection then (a
	// tunnel after an upgrade or a CONNECT); a mode tcp stream waits
	// for the client's end.
	srvEnds bool
}

// An idle tunnel must cost next to nothing: no goroutine, no buffer. Its
// sockets wait in one process-wide epoll set; a readable socket gets a
// worker goroutine and a pooled buffer for as long as data flows.

type poller struct {
	epfd int
	mu   sync.Mutex
	m    map[uint64]*pipe
	next uint64
}

var getPoller = sync.OnceValues(func() (*poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &poller{epfd: fd, m: map[uint64]*pipe{}}
	go p.loop()
	return p, nil
})

func (p *poller) loop() {
	evs := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, evs, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		p.mu.Lock()
		for i := 0; i < n; i++ {
			id := uint64(uint32(evs[i].Fd)) | uint64(uint32(evs[i].Pad))<<32
			if pp := p.m[id]; pp != nil {
				p.dispatch(pp)
			}
		}
		p.mu.Unlock()
	}
}

// A readable pipe is served by a waiting worker when one is free, by a
// new goroutine otherwise: a goroutine started per event costs its
// closure's allocation and, once the relay grows its stack, a stack copy
// each time. At most maxIdleWorkers wait between events; the rest end,
// so that idle tunnels still hold no goroutine beyond those.
const maxIdleWorkers = 32

var (
	tunnelWork  = make(chan *pipe)
	idleWorkers atomic.Int32
)

func (p *poller) dispatch(pp *pipe) {
	select {
	case tunnelWork <- pp:
	default:
		go tunnelWorker(pp)
	}
}

func tunnelWorker(pp *pipe) {
	for {
		pp.ready()
		if idleWorkers.Add(1) > maxIdleWorkers {
			idleWorkers.Add(-1)
			return
		}
		pp = <-tunnelWork
		idleWorkers.Add(-1)
	}
}

func (p *poller) newID() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next
}

func (p *poller) add(pp *pipe) {
	p.mu.Lock()
	p.m[pp.id] = pp
	p.mu.Unlock()
}

func (p *poller) remove(pp *pipe) {
	p.mu.Lock()
	delete(p.m, pp.id)
	p.mu.Unlock()
}

// pipe is one direction of a tunnel.
type pipe struct {
	t          *tunnel
	src, dst   netConn
	rc         syscall.RawConn
	id         uint64
	fromClient bool
	registered bool
	// mem is set when the source is a memConn, read by one goroutine
	// that blocks in its Read (started by the first arm).
	mem     bool
	started bool
	// over is set once the direction has ended, by its end of stream or
	// by its read timeout.
	over atomic.Bool
	// mu orders one wake-up's work before the next one's: the epoll
	// one-shot guarantees it, but only the kernel knows that.
	mu sync.Mutex
	// work is held by a wake-up of a socket source while it reads and
	// relays: the timer ends an idle side only between wake-ups, so
	// that what a wake-up read still reaches the other side.
	work sync.Mutex
	// Work areas of the syscall callbacks, set up once so that re-arming
	// and reading allocate nothing.
	ev     unix.EpollEvent
	ctlErr error
	armFn  func(fd uintptr)
	buf    []byte
	n      int
	rdErr  error
	readFn func(fd uintptr) bool
	// splice: the direction goes through kp, a kernel pipe held while
	// data flows (dstRC, outFn, wrErr: its writes); in and out count
	// the spliced bytes.
	splice  bool
	kp      *kpipe
	dstRC   syscall.RawConn
	outFn   func(fd uintptr) bool
	wrErr   error
	in, out *trafficCounters
	total   *atomic.Uint64
}

type tunnel struct {
	// srv is the server the tunnel goes to (nil in tests).
	srv *backend.Server
	// out counts the process's bytes written (nil in tests).
	out          *atomic.Uint64
	cfg          tunnelCfg
	c, s         netConn
	p            *poller
	pipes        [2]*pipe
	lastC, lastS atomic.Int64 // unix nanos of the last read from or write to each side
	cDone, sDone atomic.Bool
	closed       atomic.Bool
	finished     atomic.Int32
	endOnce      sync.Once
	timerMu      sync.Mutex
	timer        *time.Timer
	done         func()
	// up and down count the bytes relayed to the server and to the
	// client, for the log line.
	up, down atomic.Int64
	// timedOut tells which side's timeout ended the tunnel: 1 the
	// client's, 2 the server's (the log's cD and sD).
	timedOut atomic.Uint32
	// failed tells which side failed first, by an error rather than a
	// timeout: 1 the client's, 2 the server's (CD, SD).
	failed atomic.Uint32
	// tr, when set, is the TCP stream's trace filters (trace.go);
	// srvFirst: the server's side ended before the client's.
	tr       *traceStream
	srvFirst atomic.Bool
}

// A tunnel relays bytes both ways until both directions end or a
// timeout expires, then closes both connections and calls done. toServer
// and toClient are bytes already read and not yet forwarded; they are
// written before start returns, so the caller may reuse their
// buffers.
func newTunnel(c, s netConn, cfg tunnelCfg, done func()) *tunnel {
	return &tunnel{cfg: cfg, c: c, s: s, done: done}
}

func (t *tunnel) start(toServer, toClient []byte) {
	c, s := t.c, t.s
	now := time.Now().UnixNano()
	t.lastC.Store(now)
	t.lastS.Store(now)
	p, err := getPoller()
	if err != nil {
		t.abort()
		return
	}
	if len(toServer) > 0 {
		if err := t.write(true, s, toServer); err != nil {
			t.fail(false, err)
			t.abort()
			return
		}
		t.up.Add(int64(len(toServer)))
		t.wrote(len(toServer))
	}

	if len(toClient) > 0 {
		if err := t.write(false, c, toClient); err != nil {
			t.fail(true, err)
			t.abort()
			return
		}
		t.down.Add(int64(len(toClient)))
		t.wrote(len(toClient))
	}
	// Deadlines left by the HTTP exchange would fail the raw reads; the
	// tunnel's own timer replaces them.
	c.SetDeadline(time.Time{})
	s.SetDeadline(time.Time{})
	// A CLI "shutdown session" may end the tunnel from now on: the
	// poller and pipes are published under timerMu, which end reads
	// them under, and a tunnel that ended meanwhile takes its pipes
	// back out of the poller.
	t.timerMu.Lock()
	t.p = p
	t.pipes[0] = t.newPipe(c, s, true)
	t.pipes[1] = t.newPipe(s, c, false)
	if t.tr == nil && plainTCP(c) && plainTCP(s) {
		t.pipes[0].setSplice(t.cfg.spliceUp, t.cfg.fe, t.cfg.be, t.cfg.total)
		t.pipes[1].setSplice(t.cfg.spliceDown, t.cfg.be, t.cfg.fe, t.cfg.total)
	}
	if t.closed.Load() {
		t.dropPipes()
		t.timerMu.Unlock()
		return
	}
	t.timerMu.Unlock()
	for _, pp := range t.pipes {
		if pp == nil {
			t.abort()
			return
		}
	}
	t.schedule()
	for _, pp := range t.pipes {
		if !pp.arm() {
			t.abort()
			return
		}
	}
	return
}

func (t *tunnel) newPipe(src, dst netConn, fromClient bool) *pipe {
	rc, err := src.SyscallConn()
	if err != nil {
		return nil
	}
	pp := &pipe{t: t, src: src, dst: dst, rc: rc, fromClient: fromClient}
	if _, ok := src.(*memConn); ok {
		pp.mem = true
		return pp
	}
	pp.id = t.p.newID()
	pp.ev = unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT,
		Fd: int32(uint32(pp.id)), Pad: int32(uint32(pp.id >> 32))}
	pp.armFn = func(fd uintptr) {
		op := unix.EPOLL_CTL_MOD
		if !pp.registered {
			op = unix.EPOLL_CTL_ADD
		}
		pp.ctlErr = unix.EpollCtl(t.p.epfd, op, int(fd), &pp.ev)
		if pp.ctlErr == nil {
			pp.registered = true
		}
	}
	pp.readFn = func(fd uintptr) bool {
		if pp.kp != nil {
			pp.spliceIn(fd)
			return true
		}
		// Raw: the scheduler need not hear of a call that never blocks.
		pp.n, pp.rdErr = rawRead(int(fd), pp.buf)
		return true
	}
	t.p.add(pp)
	return pp
}

// arm waits for the next readable event of the pipe's source.
func (pp *pipe) arm() bool {
	if pp.t.closed.Load() {
		return false
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.mem {
		if !pp.started {
			pp.started = true
			go pp.ready()
		}
		return true
	}
	if err := pp.rc.Control(pp.armFn); err != nil {
		return false
	}
	return pp.ctlErr == nil
}

// ready moves what the source has to the destination, then waits again.
func (pp *pipe) ready() {
	t := pp.t
	pp.mu.Lock()
	pp.mu.Unlock()
	if !pp.mem {
		pp.work.Lock()
		defer pp.work.Unlock()
		if pp.over.Load() {
			// Its read timeout ended the direction: read no more.
			return
		}
	}
	bp := pp.take()
	for {
		pp.n = 0
		if pp.mem {
			pp.memRead()
		} else if err := pp.rc.Read(pp.readFn); err != nil {
			pp.rdErr = err
		}
		n, err := pp.n, pp.rdErr
		if pp.over.Load() {
			// Its read timeout ended the direction meanwhile.
			break
		}
		if n > 0 {
			now := time.Now().UnixNano()
			if pp.fromClient {
				t.lastC.Store(now)
			} else {
				t.lastS.Store(now)
			}
			if wto := t.writeTimeout(pp.fromClient); wto > 0 {
				pp.dst.SetWriteDeadline(time.Now().Add(wto))
			}
			if werr := pp.forward(n); werr != nil {
				// The destination's side failed.
				t.fail(!pp.fromClient, werr)
				break
			}
			// As in HAProxy, data sent to a side refreshes that side's
			// read timeout too: a server talking to a silent client
			// keeps the client's timeout from expiring.
			t.wrote(n)
			if pp.fromClient {
				t.up.Add(int64(n))
				if !t.cfg.indepS {
					t.lastS.Store(now)
				}
			} else {
				t.down.Add(int64(n))
				if !t.cfg.indepC {
					t.lastC.Store(now)
				}
			}
			continue
		}
		pp.release(bp)
		switch {
		case err == syscall.EAGAIN:
			if !pp.arm() {
				t.abort()
			}
		case err == nil:
			// End of the stream on this side: pass the FIN on.
			if t.finish(pp) {
				break
			}
			if !pp.fromClient && t.cfg.srvEnds {
				t.endClient()
				break
			}
			t.schedule()
		default:
			t.fail(pp.fromClient, err)
			t.abort()
		}
		return
	}
	pp.release(bp)
	if !pp.over.Load() {
		t.abort()
	}
}

// memRead is the read of a memConn source, blocking: its end of stream
// reads as the socket's, (0, nil).
func (pp *pipe) memRead() {
	pp.n, pp.rdErr = pp.src.Read(pp.buf)
	if pp.n > 0 || pp.rdErr == io.EOF {
		pp.rdErr = nil
	}
}

// finish ends one direction and passes its FIN on; the second one to end
// ends the tunnel, and finish then returns true.
func (t *tunnel) finish(pp *pipe) bool {
	if pp.over.Swap(true) {
		return false
	}
	if pp.fromClient {
		t.cDone.Store(true)
	} else {
		t.sDone.Store(true)
		t.srvFirst.Store(!t.cDone.Load())
	}
	pp.dst.CloseWrite()
	if t.finished.Add(1) == 2 {
		t.end()
		return true
	}
	return false
}

// fail records the first side to fail, the client's or the server's:
// its timeout (a write's) or its error.
func (t *tunnel) fail(client bool, err error) {
	if t.closed.Load() {
		// The error of a socket the tunnel's end closed.
		return
	}
	side := uint32(2)
	if client {
		side = 1
	}
	if isTimeout(err) {
		t.timedOut.CompareAndSwap(0, side)
	} else {
		t.failed.CompareAndSwap(0, side)
	}
}

// endClient ends the client's direction, and with it the tunnel.
func (t *tunnel) endClient() {
	pp := t.pipes[0]
	if pp == nil {
		t.abort()
		return
	}
	t.p.remove(pp)
	t.finish(pp)
}

func (t *tunnel) writeTimeout(fromClient bool) time.Duration {
	if t.cfg.shared {
		return t.cfg.idle
	}
	if fromClient {
		return t.cfg.server
	}
	return t.cfg.client
}

// readTimeout is the inactivity timeout of one direction, or 0.
func (t *tunnel) readTimeout(fromClient bool) time.Duration {
	d := t.cfg.server
	if fromClient {
		d = t.cfg.client
	}
	if t.cfg.shared {
		d = t.cfg.idle
	}
	// Once the other side has closed, its fin timeout applies.
	if fromClient && t.sDone.Load() && t.cfg.srvFin > 0 {
		d = t.cfg.srvFin
	}
	if !fromClient && t.cDone.Load() && t.cfg.clientFin > 0 {
		d = t.cfg.clientFin
	}
	return d
}

// expiry returns how long until the next read timeout, and which sides'
// read timeouts expired: bit 0 the client's, bit 1 the server's.
func (t *tunnel) expiry() (wait time.Duration, any bool, expired int) {
	now := time.Now().UnixNano()
	for i, fromClient := range []bool{true, false} {
		if fromClient && t.cDone.Load() || !fromClient && t.sDone.Load() {
			continue
		}
		d := t.readTimeout(fromClient)
		if d <= 0 {
			continue
		}
		// Without independent streams a write to a side refreshes its
		// read timeout, so "timeout tunnel" sees activity either way.
		last := t.lastC.Load()
		if i == 1 {
			last = t.lastS.Load()
		}
		left := time.Duration(last+int64(d)-now) + time.Millisecond
		if left <= time.Millisecond {
			expired |= 1 << i
			continue
		}
		if !any || left < wait {
			wait = left
		}
		any = true
	}
	return wait, any, expired
}

// schedule handles the read timeouts that expired and (re)arms the
// timer for the next one. As in HAProxy, a side whose read timeout
// expires is read no more and its direction ends with a FIN to the other
// side; the tunnel goes on the other way. When "timeout tunnel" expires
// both ways at once, the server gets a reset and the client a FIN.
func (t *tunnel) schedule() {
	wait, any, expired := t.expiry()
	var recheck time.Duration
	if expired != 0 {
		var locked int
		expired, recheck, locked = t.unread(expired)
		defer t.unlockWork(locked)
	}
	if expired != 0 {
		// HAProxy looks at the request side first.
		side := uint32(1)
		if expired&1 == 0 {
			side = 2
		}
		t.timedOut.CompareAndSwap(0, side)
		if t.cfg.shared && expired == 3 {
			if !t.closed.Swap(true) {
				setLinger0(t.s)
				t.end()
			}
			return
		}
		for i, pp := range t.pipes {
			if expired&(1<<i) == 0 {
				continue
			}
			if pp == nil {
				t.abort()
				return
			}
			t.p.remove(pp)
			if t.finish(pp) {
				return
			}
		}
		wait, any, _ = t.expiry()
	}
	if recheck > 0 && (!any || recheck < wait) {
		// A side spared for what it has to read is looked at again.
		wait, any = recheck, true
	}
	if !any {
		return
	}
	t.timerMu.Lock()
	defer t.timerMu.Unlock()
	if t.closed.Load() {
		return
	}
	if t.timer == nil {
		t.timer = time.AfterFunc(wait, t.schedule)
	} else {
		t.timer.Reset(wait)
	}
}

// unread clears from expired the sides whose socket has bytes, or its
// end, waiting to be read, and those a wake-up is relaying from:
// HAProxy handles what arrived before it looks at its timeouts, and a
// side blocked on a full destination is not reading. It returns what is
// left of expired, when to look again, and the sides whose work it
// holds (locked) until the caller has ended them.
func (t *tunnel) unread(expired int) (left int, recheck time.Duration, locked int) {
	for i, pp := range t.pipes {
		if expired&(1<<i) == 0 || pp == nil || pp.mem || pp.rc == nil {
			continue
		}
		if pp.work.TryLock() {
			var e syscall.Errno
			if pp.rc.Control(func(fd uintptr) { e = peek(fd) }) != nil || e == unix.EAGAIN {
				locked |= 1 << i
				continue
			}
			pp.work.Unlock()
		}
		expired &^= 1 << i
		if d := t.readTimeout(pp.fromClient); recheck == 0 || d < recheck {
			recheck = max(d, time.Millisecond)
		}
	}
	return expired, recheck, locked
}

// unlockWork gives back the work of the pipes unread locked.
func (t *tunnel) unlockWork(locked int) {
	for i, pp := range t.pipes {
		if locked&(1<<i) != 0 {
			pp.work.Unlock()
		}
	}
}

// abort closes both connections, with a reset towards the client as
// HAProxy does on a tunnel timeout.
func (t *tunnel) abort() {
	if t.closed.Swap(true) {
		return
	}
	setLinger0(t.c)
	t.end()
}

// dropPipes takes the pipes out of the poller; called under timerMu.
func (t *tunnel) dropPipes() {
	for _, pp := range t.pipes {
		if pp != nil && t.p != nil {
			t.p.remove(pp)
		}
	}
}

// write relays b to dst, through the trace filters when there are.
func (t *tunnel) write(fromClient bool, dst netConn, b []byte) error {
	if t.tr != nil {
		return t.tr.write(fromClient, dst, b)
	}
	_, err := dst.Write(b)
	return err
}

func (t *tunnel) end() {
	t.endOnce.Do(func() {
		if t.tr != nil {
			t.tr.tcpStop(t.srvFirst.Load())
		}
		t.closed.Store(true)
		t.timerMu.Lock()
		if t.timer != nil {
			t.timer.Stop()
		}
		t.dropPipes()
		t.timerMu.Unlock()
		t.c.Close()
		t.s.Close()
		if t.done != nil {
			t.done()
		}
	})
}

// wrote counts n bytes written to a side in the process's bytes out.
func (t *tunnel) wrote(n int) {
	if t.out != nil {
		t.out.Add(uint64(n))
	}
}
