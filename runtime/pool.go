package runtime

import (
	"sync"
	"syscall"
	"time"

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

// purgeDelay is HAProxy's pool-purge-delay default: every 5 s, half of
// the idle connections a server has beyond its estimated need close.
const purgeDelay = 5 * time.Second

// idlePool holds the idle server connections that client connections
// left behind, for the requests of other clients, as HAProxy's idle
// connection lists do (http-reuse).
type idlePool struct {
	mu     sync.Mutex
	conns  map[*backend.Server]*srvIdle
	n      int
	timer  *time.Timer
	closed bool
	// h2 are the backend's HTTP/2 servers, whose shared connections
	// close with the idle ones.
	h2 *srvMap[*h2Server]
	// fcgi is the backend's fcgi-app, whose shared connections close
	// with the idle ones.
	fcgi *fcgiApp
	// limits holds the "pool-max-conn" of the servers that have one.
	limits map[*backend.Server]int
}

// srvIdle is one server's idle connections, newest last, and what
// HAProxy's srv_add_to_idle_list weighs before keeping one more: how
// many are safe (they last served a client's later request), the most
// connections in use since the last purge (maxUsed) and the estimate of
// how many the server needs (estNeed).
type srvIdle struct {
	list             []pooledConn
	safe             int
	maxUsed, estNeed int
}

// room tells whether srv's idle connections are below its pool-max-conn.
func (p *idlePool) room(srv *backend.Server) bool {
	lim, ok := p.limits[srv]
	if !ok {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count(srv) < lim
}

func (p *idlePool) count(srv *backend.Server) int {
	if st := p.conns[srv]; st != nil {
		return len(st.list)
	}
	return 0
}

type pooledConn struct {
	c  netConn
	rc syscall.RawConn
	// uses is how many requests the connection carried; safe says the
	// last of them was not its client's first.
	uses int
	safe bool
}

// put adds an idle connection, or closes it: when the pool is closed,
// when srv has its pool-max-conn idle ones, or when HAProxy would not
// keep it: the server already has an idle connection (a safe one, for
// a safe connection) and the connections in use and idle would exceed
// what it was seen to need. A connection not kept is reset, as HAProxy
// closes those it opened: its port is free again at once, with no
// TIME_WAIT on this side.
func (p *idlePool) put(srv *backend.Server, pc pooledConn) {
	// This connection's stream has released its slot: it counts as used
	// until it is idle.
	used := srv.Sessions() + 1
	p.mu.Lock()
	lim, limited := p.limits[srv]
	if p.closed || limited && p.count(srv) >= lim {
		p.mu.Unlock()
		resetClose(pc.c)
		return
	}
	if p.conns == nil {
		p.conns = map[*backend.Server]*srvIdle{}
	}
	st := p.conns[srv]
	if st == nil {
		st = &srvIdle{}
		p.conns[srv] = st
	}
	st.sawUsed(used)
	idle := len(st.list)
	if !(st.safe == 0 && (pc.safe || idle == 0) || used+idle <= max(used, st.estNeed)) {
		p.mu.Unlock()
		resetClose(pc.c)
		return
	}
	st.list = append(st.list, pc)
	if pc.safe {
		st.safe++
	}
	p.n++
	if p.timer == nil {
		p.timer = time.AfterFunc(purgeDelay, p.purge)
	}
	p.mu.Unlock()
}

// sawUsed records that used connections to the server were in use at
// once (HAProxy's srv_use_conn).
func (st *srvIdle) sawUsed(used int) {
	st.maxUsed = max(st.maxUsed, used)
	st.estNeed = max(st.estNeed, used)
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

// take returns the newest idle connection to srv still open, opened with
// the same SNI (HAProxy keys idle connections by their SNI), one that
// carried more than one request when proven is set.
func (p *idlePool) take(srv *backend.Server, proven bool, sni []byte) (pooledConn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.conns[srv]
	if st == nil || len(st.list) == 0 {
		return pooledConn{}, false
	}
	for i := len(st.list) - 1; i >= 0; i-- {
		pc := st.list[i]
		if proven && pc.uses < 2 || !sameSNI(pc.c, sni) {
			continue
		}
		st.remove(i)
		p.n--
		if alive(pc.rc) {
			return pc, true
		}
		pc.c.Close()
	}
	return pooledConn{}, false
}

// alive peeks at an idle connection: anything to read, an end or an
// error means the server closed it or broke the exchange.
func alive(rc syscall.RawConn) bool {
	ok := false
	var b [1]byte
	rc.Control(func(fd uintptr) {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		ok = err == unix.EAGAIN
	})
	return ok
}

// purge closes, oldest first, half of the idle connections each server
// has beyond what it needs (in use and idle against the most used since
// the last purge or the estimate), and moves the estimate halfway to that
// most used, as HAProxy's srv_cleanup_idle_conns does.
func (p *idlePool) purge() {
	// The servers' counts are read without the pool's lock: a server's
	// state change may hold its backend's lock and drop idle connections.
	p.mu.Lock()
	srvs := make([]*backend.Server, 0, len(p.conns))
	for srv := range p.conns {
		srvs = append(srvs, srv)
	}
	p.mu.Unlock()
	used := make([]int, len(srvs))
	for i, srv := range srvs {
		used[i] = srv.Sessions()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if p.closed {
		return
	}
	for i, srv := range srvs {
		st := p.conns[srv]
		if st == nil {
			continue
		}
		exceed := used[i] + len(st.list) - max(st.maxUsed, st.estNeed)
		st.estNeed = max((st.estNeed+st.maxUsed)/2, st.maxUsed)
		st.maxUsed = used[i]
		if exceed <= 0 {
			continue
		}
		k := min(exceed/2+exceed&1, len(st.list))
		for j := 0; j < k; j++ {
			resetClose(st.remove(0).c)
		}
		p.n -= k
	}
	if p.n > 0 {
		p.timer = time.AfterFunc(purgeDelay, p.purge)
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
		delete(p.conns, s)
	}
}
