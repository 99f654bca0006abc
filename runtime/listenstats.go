package runtime

import (
	"net"
	"strconv"
	"sync/atomic"

	"github.com/gohap/gohap/runtime/stats"
)

// listenerStats are a listener's counters, kept with option socket-stats
// (HAProxy's li->counters): its connections and what they carried.
type listenerStats struct {
	cur, max                       atomic.Int64
	conns, bytesIn, bytesOut, ereq atomic.Uint64
	deniedReq, deniedResp          atomic.Uint64
	ssl                            sslCounters
}

func (c *listenerStats) accept() {
	if c == nil {
		return
	}
	n := c.cur.Add(1)
	c.conns.Add(1)
	for m := c.max.Load(); n > m && !c.max.CompareAndSwap(m, n); m = c.max.Load() {
	}
}

func (c *listenerStats) closed() {
	if c != nil {
		c.cur.Add(-1)
	}
}

// connEnd ends an accepted connection: its listener's count and the
// frontend's and process' slots.
func (e *Engine) connEnd(l *listener) {
	if l.bind != nil {
		l.bind.stats.closed()
		if l.bind.TLS != nil {
			e.g.sslCounters().Close()
		}
	}
	e.release(l)
}

// listenerRows are the stats of a frontend's listeners with option
// socket-stats, in bind order.
func (e *Engine) listenerRows(fe *Frontend) []stats.ListenerStats {
	var out []stats.ListenerStats
	for i := range fe.Binds {
		b := &fe.Binds[i]
		c := b.stats
		if c == nil {
			continue
		}
		name := b.Name
		if name == "" {
			name = "sock-" + strconv.Itoa(b.ID)
		}
		// get_li_status: full at its frontend's maxconn, else open.
		st := "OPEN"
		if fe.Maxconn > 0 && int(c.cur.Load()) >= fe.Maxconn {
			st = "FULL"
		}
		out = append(out, stats.ListenerStats{Name: name, ID: b.ID, Cur: int(c.cur.Load()), Max: int(c.max.Load()),
			Conns: c.conns.Load(), BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(), FailedReq: c.ereq.Load(),
			DeniedReq: c.deniedReq.Load(), DeniedResp: c.deniedResp.Load(), SSL: c.ssl.load(),
			Status: st, Addr: e.listenerAddr(b)})
	}
	return out
}

// listenerAddr is how the stats show a listener's address.
func (e *Engine) listenerAddr(b *Listen) string {
	for _, l := range e.listeners {
		if l.bind != b {
			continue
		}
		switch a := l.ln.Addr().(type) {
		case *net.TCPAddr:
			return a.String()
		case *net.UnixAddr:
			return "unix"
		}
	}
	return ""
}

// countDenied counts a request (or, with resp, a response) a rule
// denied: on the frontend, on the backend once the stream has one
// (HAProxy's SF_BE_ASSIGNED; always for a response), on the server for
// a response, and on the listener, as HAProxy's deny paths count them.
func (s *session) countDenied(resp bool) { s.countDeniedBy(resp, s.beAssigned || resp) }

// countDeniedBy is countDenied, with be saying whether the backend
// counts it too (a tcp-request content rule's never does).
func (s *session) countDeniedBy(resp, be bool) {
	g := s.e.g
	if g.stats == nil {
		return
	}
	g.feCounters(s.fe).addDenied(resp)
	if be {
		g.beCounters(s.be).addDenied(resp)
	}
	if resp {
		g.srvCounters(s.svSrv).addDenied(true)
	}
	if s.l != nil && s.l.bind != nil && s.l.bind.stats != nil {
		if resp {
			s.l.bind.stats.deniedResp.Add(1)
		} else {
			s.l.bind.stats.deniedReq.Add(1)
		}
	}
}
