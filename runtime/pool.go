package runtime

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gohap/gohap/backend"
	"golang.org/x/sys/unix"
)

// The http-reuse modes, in the order of what they allow.
const (
	reuseNever = iota
	reuseSafe
	reuseAggressive
	reuseAlways
)

// reuseOf is the reuse mode of connections to srv: those to a backend's
// target are the session's own, as HAProxy makes connections without a
// server private.
func (be *Backend) reuseOf(srv *backend.Server) int {
	if srv != nil && srv == be.LB.Target {
		return reuseNever
	}
	return be.reuse
}

var reuseModes = map[string]int{"never": reuseNever, "safe": reuseSafe, "aggressive": reuseAggressive, "always": reuseAlways}

// poolOpts are a server's idle-connection settings.
type poolOpts struct {
	max   int           // pool-max-conn, -1 for no limit
	low   int           // pool-low-conn: kept beyond the estimated need
	purge time.Duration // pool-purge-delay; 0 keeps no idle connection
	// set names the first of them the server line sets.
	set string
}

// defaultPoolOpts are HAProxy's: no limit, purged every 5 s.
var defaultPoolOpts = poolOpts{max: -1, purge: 5 * time.Second}

// idlePool holds the idle server connections that client connections
// left behind, for the requests of other clients, as HAProxy's idle
// connection lists do (http-reuse).
type idlePool struct {
	mu     sync.Mutex
	conns  map[*backend.Server]*srvIdle
	n      int
	timer  *time.Timer
	due    time.Time // when the timer fires, zero when it is not set
	closed bool
	// h2 are the backend's HTTP/2 servers, whose shared connections
	// close with the idle ones.
	h2 *srvMap[*h2Server]
	// fcgi is the backend's fcgi-app, whose shared connections close
	// with the idle ones.
	fcgi *fcgiApp
	// opts holds the settings of the servers whose differ from
	// defaultPoolOpts.
	opts map[*backend.Server]poolOpts
	// perThread: the threads keep their idle connections apart
	// (tune.idle-pool.shared off), and whether a server has one is a
	// question for the thread (srv->per_thr[tid]).
	perThread bool
	// fds is the process's descriptors in use (ha_used_fds); above
	// high (tune.pool-high-fd-ratio of maxsock) no connection is kept
	// idle, above low only those HAProxy keeps without being asked
	// (the first idle one of a server).
	fds       *atomic.Int64
	high, low int64
}

// fdsUsed is the descriptors in use, 0 when unknown.
func (p *idlePool) fdsUsed() int64 {
	if p.fds == nil {
		return 0
	}
	return p.fds.Load()
}

// srvIdle is one server's idle connections, newest last, and what
// HAProxy's srv_add_to_idle_list weighs before keeping one more: how
// many are safe (they last served a client's later request), the most
// connections in use since the last purge (maxUsed) and the estimate of
// how many the server needs (estNeed). used counts its connections in
// use now; due is the server's next purge.
type srvIdle struct {
	list                   []pooledConn
	safe                   int
	used, maxUsed, estNeed int
	due                    time.Time
}

func (p *idlePool) optsOf(srv *backend.Server) poolOpts {
	if o, ok := p.opts[srv]; ok {
		return o
	}
	return defaultPoolOpts
}

// room tells whether srv's idle connections are below its pool-max-conn.
func (p *idlePool) room(srv *backend.Server) bool {
	o := p.optsOf(srv)
	if o.max < 0 {
		return o.purge > 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return o.purge > 0 && p.count(srv) < o.max
}

// stats are srv's connection counts for the statistics: idle ones (all,
// not yet safe, safe), those in use, and the estimate of those needed
// (srv_icur, idle_conn_cur, safe_conn_cur, used_conn_cur, need_conn_est).
func (p *idlePool) stats(srv *backend.Server) (idle, unsafe, safe, used, need int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.conns[srv]
	if st == nil {
		return 0, 0, 0, 0, 0
	}
	idle = len(st.list)
	return idle, idle - st.safe, st.safe, st.used, st.estNeed
}

func (p *idlePool) count(srv *backend.Server) int {
	if st := p.conns[srv]; st != nil {
		return len(st.list)
	}
	return 0
}

// connKey is what, beyond its server and its SNI, a server connection
// must match to carry a request (HAProxy's connection hash): the address
// it was dialled to when the request chooses it (a transparent or
// port-mapped server), and the client addresses its PROXY header gave.
type connKey struct {
	dst          netip.AddrPort
	ppSrc, ppDst netip.AddrPort
	// src is the foreign address of a transparent connection (usesrc).
	src netip.AddrPort
	// tid is the thread of the client connection that left it, with
	// tune.idle-pool.shared off.
	tid int
}

type pooledConn struct {
	c   netConn
	rc  syscall.RawConn
	key connKey
	// counted says the connection counts in its server's connections in
	// use until put takes it.
	counted bool
	// uses is how many requests the connection carried; safe says the
	// last of them was not its client's first.
	uses int
	safe bool
	// private: a session's own connection (session.svPrivate).
	private bool
	// idleAt is when put took it (monoNow).
	idleAt int64
}

// freshIdle is how long a connection back in the pool is taken again
// without asking the kernel whether the server closed it, when the
// close watcher does not watch it. HAProxy learns of such a close from
// its poller, between two of its loops; a peek per reuse costs a system
// call per request under HTTP/2 load, for a window that short. A close
// that falls in it makes the request meet a closed connection, which is
// sent again on a new one when it can be (redial).
const freshIdle = int64(time.Millisecond)

// monoBase is the origin of monoNow.
var monoBase = time.Now()

// monoNow reads the monotonic clock only, in nanoseconds.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// put adds an idle connection, or closes it: when the pool is closed,
// when srv has its pool-max-conn idle ones, or when HAProxy would not
// keep it: the server already has an idle connection (a safe one, for
// a safe connection) and the connections in use and idle would exceed
// what it was seen to need. A connection not kept is reset, as HAProxy
// closes those it opened: its port is free again at once, with no
// TIME_WAIT on this side.
//
// verify says the connection's client stays connected, and its next
// request would need a new connection if put refused this one. A refusal
// is then checked against idle connections their server closed
// meanwhile, which HAProxy's poller would have taken out of the list
// already: the close watcher may not have had its turn yet.
func (p *idlePool) put(srv *backend.Server, pc pooledConn, verify bool) {
	o := p.optsOf(srv)
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stateLocked(srv)
	// The connection counts as used until it is idle, then no longer,
	// under one lock as srv_add_to_idle_list does.
	used := max(st.used, 1)
	if pc.counted && st.used > 0 {
		st.used--
	}
	refused := func() bool {
		idle := len(st.list)
		safe, own := st.safe, idle
		if p.perThread {
			safe, own = st.ofThread(pc.key.tid)
		}
		fds := p.fdsUsed()
		return p.closed || o.purge == 0 || o.max >= 0 && idle >= o.max || p.high > 0 && fds >= p.high ||
			!(safe == 0 && (pc.safe || own == 0) || (p.low == 0 || fds < p.low) && used+idle <= max(used, st.estNeed)+o.low)
	}
	if refused() && (!verify || p.dropClosedLocked(st) == 0 || refused()) {
		resetClose(pc.c)
		return
	}
	if !watchPooled(pc.c, p) {
		pc.idleAt = monoNow()
	}
	st.list = append(st.list, pc)
	if pc.safe {
		st.safe++
	}
	p.n++
	if st.due.IsZero() {
		st.due = time.Now().Add(o.purge)
		p.scheduleLocked(st.due)
	}
}

// ofThread counts the safe and the idle connections thread tid left.
func (st *srvIdle) ofThread(tid int) (safe, idle int) {
	for i := range st.list {
		if pc := &st.list[i]; pc.key.tid == tid {
			idle++
			if pc.safe {
				safe++
			}
		}
	}
	return safe, idle
}

func (p *idlePool) stateLocked(srv *backend.Server) *srvIdle {
	if p.conns == nil {
		p.conns = map[*backend.Server]*srvIdle{}
	}
	st := p.conns[srv]
	if st == nil {
		st = &srvIdle{}
		p.conns[srv] = st
	}
	return st
}

// use records that a connection to srv is now in use, and the most in
// use at once (HAProxy's srv_use_conn); unuse that it no longer is.
func (p *idlePool) use(srv *backend.Server) {
	p.mu.Lock()
	st := p.stateLocked(srv)
	st.used++
	st.maxUsed = max(st.maxUsed, st.used)
	st.estNeed = max(st.estNeed, st.used)
	p.mu.Unlock()
}

// tried records a connection to srv that was in use only while it was
// tried and failed: the most in use at once and the estimated need count
// it (srv_use_conn, then its release).
func (p *idlePool) tried(srv *backend.Server) {
	p.mu.Lock()
	st := p.stateLocked(srv)
	st.maxUsed = max(st.maxUsed, st.used+1)
	st.estNeed = max(st.estNeed, st.used+1)
	p.mu.Unlock()
}

func (p *idlePool) unuse(srv *backend.Server) {
	p.mu.Lock()
	if st := p.conns[srv]; st != nil && st.used > 0 {
		st.used--
	}
	p.mu.Unlock()
}

// remove takes the i-th idle connection out of the list.
func (st *srvIdle) remove(i int) pooledConn {
	pc := st.list[i]
	st.list = append(st.list[:i], st.list[i+1:]...)
	if pc.safe {
		st.safe--
	}
	return pc
}

// scheduleLocked makes the purge timer fire by at; p.mu is held.
func (p *idlePool) scheduleLocked(at time.Time) {
	if !p.due.IsZero() && !p.due.After(at) {
		return
	}
	p.due = at
	d := time.Until(at)
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.purge)
	} else {
		p.timer.Reset(d)
	}
}

// take returns the newest idle connection to srv still open, opened with
// the same SNI and key (HAProxy's connection hash), one that carried more
// than one request when proven is set. It counts it in use (counted), as
// use would.
func (p *idlePool) take(srv *backend.Server, proven bool, sni []byte, key connKey) (pooledConn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.conns[srv]
	if st == nil || len(st.list) == 0 {
		return pooledConn{}, false
	}
	for i := len(st.list) - 1; i >= 0; i-- {
		pc := st.list[i]
		if proven && pc.uses < 2 || pc.key != key || !sameSNI(pc.c, sni) {
			continue
		}
		st.remove(i)
		p.n--
		if ended, known := pooledEnded(pc.c); known && !ended || !known && (monoNow()-pc.idleAt < freshIdle || alive(pc.rc)) {
			st.used++
			st.maxUsed = max(st.maxUsed, st.used)
			st.estNeed = max(st.estNeed, st.used)
			pc.counted = true
			return pc, true
		}
		pc.c.Close()
	}
	return pooledConn{}, false
}

// alive peeks at an idle connection: anything to read, an end or an
// error means the server closed it or broke the exchange.
func alive(rc syscall.RawConn) bool {
	peeks.Add(1)
	var e syscall.Errno
	rc.Control(func(fd uintptr) { e = peek(fd) })
	return e == unix.EAGAIN
}

// peeks counts alive's system calls, which the close watcher saves.
var peeks atomic.Int64

// peek reads a byte of fd without taking it or waiting.
func peek(fd uintptr) syscall.Errno {
	var b [1]byte
	_, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	return e
}

// maxVerify bounds the idle connections a refusal checks.
const maxVerify = 4

// dropClosedLocked closes the oldest of st's idle connections, up to
// maxVerify, that their server closed, and reports how many.
func (p *idlePool) dropClosedLocked(st *srvIdle) int {
	n := 0
	for i, checked := 0, 0; i < len(st.list) && checked < maxVerify; checked++ {
		pc := st.list[i]
		// The watcher's mark may lag: a peek asks the kernel.
		if ended, _ := pooledEnded(pc.c); !ended && alive(pc.rc) {
			i++
			continue
		}
		st.remove(i)
		p.n--
		pc.c.Close()
		n++
	}
	return n
}

// dropEnded takes c, which its server closed, out of the idle lists and
// closes it; it may be in use again, and is then left alone.
func (p *idlePool) dropEnded(c *sockConn) {
	p.mu.Lock()
	for _, st := range p.conns {
		for i := range st.list {
			if pc := st.list[i]; pc.c == netConn(c) {
				st.remove(i)
				p.n--
				p.mu.Unlock()
				pc.c.Close()
				return
			}
		}
	}
	p.mu.Unlock()
}

// purge closes, oldest first, half of the idle connections each server
// due for a purge has beyond what it needs (in use and idle against the
// most used since the last purge or the estimate), and moves the
// estimate halfway to that most used, as HAProxy's srv_cleanup_idle_conns
// does every pool-purge-delay of the server.
func (p *idlePool) purge() {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.due = time.Time{}
	if p.closed {
		return
	}
	for srv, st := range p.conns {
		if st.due.IsZero() || st.due.After(now) {
			continue
		}
		st.due = time.Time{}
		exceed := st.used + len(st.list) - max(st.maxUsed, st.estNeed)
		st.estNeed = max((st.estNeed+st.maxUsed)/2, st.maxUsed)
		st.maxUsed = st.used
		if exceed > 0 {
			k := min(exceed/2+exceed&1, len(st.list))
			for j := 0; j < k; j++ {
				resetClose(st.remove(0).c)
			}
			p.n -= k
		}
		if len(st.list) > 0 {
			st.due = now.Add(p.optsOf(srv).purge)
		}
	}
	for _, st := range p.conns {
		if !st.due.IsZero() {
			p.scheduleLocked(st.due)
		}
	}
}

// drop closes the idle connections to srv, all of them when srv is nil;
// close also refuses later ones.
func (p *idlePool) drop(srv *backend.Server, close bool) {
	if p.fcgi != nil {
		p.fcgi.closeShared(srv)
	}
	if p.h2 != nil {
		if m := p.h2.p.Load(); m != nil {
			for s, h := range *m {
				if srv == nil || s == srv {
					h.closeAll()
				}
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = p.closed || close
	for s, st := range p.conns {
		if srv != nil && s != srv {
			continue
		}
		for _, pc := range st.list {
			resetClose(pc.c)
		}
		p.n -= len(st.list)
		st.list, st.safe = nil, 0
		if st.used == 0 {
			delete(p.conns, s)
		}
	}
}

// shed closes one idle connection of srv when the process holds more
// descriptors than tune.pool-high-fd-ratio allows, before a new one is
// made (connect_server): a connection that served a client's later
// request last, the safe ones, stays.
func (p *idlePool) shed(srv *backend.Server) {
	if p.high == 0 || p.fdsUsed() <= p.high {
		return
	}
	p.mu.Lock()
	st := p.conns[srv]
	var pc pooledConn
	found := false
	if st != nil {
		for i := range st.list {
			if !st.list[i].safe {
				pc, found = st.list[i], true
				st.remove(i)
				p.n--
				break
			}
		}
	}
	p.mu.Unlock()
	if found {
		resetClose(pc.c)
	}
}
