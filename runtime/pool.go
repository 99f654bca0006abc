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
// the idle connections of each server are closed.
const purgeDelay = 5 * time.Second

// idlePool holds the idle server connections that client connections
// left behind, for the requests of other clients, as HAProxy's idle
// connection lists do (http-reuse).
type idlePool struct {
	mu     sync.Mutex
	conns  map[*backend.Server][]pooledConn
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

// room tells whether srv's idle connections are below its pool-max-conn.
func (p *idlePool) room(srv *backend.Server) bool {
	lim, ok := p.limits[srv]
	if !ok {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns[srv]) < lim
}

type pooledConn struct {
	c  netConn
	rc syscall.RawConn
	// uses is how many requests the connection carried.
	uses int
}

// put adds an idle connection, or closes it when the pool is closed or
// srv has its pool-max-conn idle ones.
func (p *idlePool) put(srv *backend.Server, pc pooledConn) {
	p.mu.Lock()
	if lim, ok := p.limits[srv]; p.closed || ok && len(p.conns[srv]) >= lim {
		p.mu.Unlock()
		pc.c.Close()
		return
	}
	if p.conns == nil {
		p.conns = map[*backend.Server][]pooledConn{}
	}
	p.conns[srv] = append(p.conns[srv], pc)
	p.n++
	if p.timer == nil {
		p.timer = time.AfterFunc(purgeDelay, p.purge)
	}
	p.mu.Unlock()
}

// take returns the newest idle connection to srv still open, opened with
// the same SNI (HAProxy keys idle connections by their SNI), one that
// carried more than one request when proven is set.
func (p *idlePool) take(srv *backend.Server, proven bool, sni []byte) (pooledConn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.conns[srv]
	if len(list) == 0 {
		return pooledConn{}, false
	}
	for i := len(list) - 1; i >= 0; i-- {
		pc := list[i]
		if proven && pc.uses < 2 || !sameSNI(pc.c, sni) {
			continue
		}
		list = append(list[:i], list[i+1:]...)
		p.n--
		if alive(pc.rc) {
			p.conns[srv] = list
			return pc, true
		}
		pc.c.Close()
	}
	p.conns[srv] = list
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

// purge closes the older half of each server's idle connections.
func (p *idlePool) purge() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.timer = nil
	if p.closed {
		return
	}
	for srv, list := range p.conns {
		k := (len(list) + 1) / 2
		for _, pc := range list[:k] {
			pc.c.Close()
		}
		p.n -= k
		p.conns[srv] = append(list[:0], list[k:]...)
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
	for s, list := range p.conns {
		if srv != nil && s != srv {
			continue
		}
		for _, pc := range list {
			pc.c.Close()
		}
		p.n -= len(list)
		delete(p.conns, s)
	}
}
