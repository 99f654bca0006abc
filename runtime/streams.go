package runtime

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime/stats"
)

// streamMark is what "show sess" knows of a session: its id in the
// engine's creation order, when it began, the stream epoch then, and
// its connection retries, which the session's goroutine updates.
type streamMark struct {
	id      uint64
	start   time.Time
	epoch   uint32
	retries atomic.Int32
	// nice is the stream's scheduling priority (set-nice), which the
	// session's goroutine sets and readyOrder and "show sess" read.
	nice atomic.Int32
}

// tunnelStream is the stream a tunnel carries on: the session's mark
// and listener.
type tunnelStream struct {
	id      uint64
	start   time.Time
	epoch   uint32
	retries int32
	nice    int32
	l       *listener
	src     netip.AddrPort
}

// tunnelKilled in a tunnel's timedOut says the CLI killed it: its log
// line then ends with "K" (SF_ERR_KILLED), as HAProxy's.
const tunnelKilled = 3

// markStream numbers a session that begins; called under e.mu.
func (e *Engine) markStream(s *session, now time.Time) {
	s.strm.id = e.strmSeq.Add(1)
	s.strm.epoch = e.strmEpoch.Load()
	s.strm.start = now
}

// tunnelStream carries a session's mark over to the tunnel that
// replaces it.
func (s *session) tunnelStream() tunnelStream {
	return tunnelStream{id: s.strm.id, start: s.strm.start, epoch: s.strm.epoch, retries: s.strm.retries.Load(), nice: s.strm.nice.Load(), l: s.l, src: s.src}
}

var _ stats.StreamSource = cliSource{}

// NewStream numbers a CLI connection's stream among the engine's.
func (s cliSource) NewStream() (uint64, uint32) {
	return s.e.strmSeq.Add(1), s.e.strmEpoch.Load()
}

// BumpEpoch is stream_epoch's fetch-and-add.
func (s cliSource) BumpEpoch() uint32 { return s.e.strmEpoch.Add(1) - 1 }

// Streams lists the sessions and tunnels. HAProxy makes an HTTP stream
// per request once its head is in: an HTTP session is listed while its
// request is on a server.
func (s cliSource) Streams() []stats.Stream {
	e := s.e
	e.mu.Lock()
	out := make([]stats.Stream, 0, e.sessions.n+len(e.tunnels))
	for ss := range e.sessions.all {
		// An HTTP connection has a stream from its request to its
		// answer: none before, none while it waits for the next one.
		if ss.fe.HTTP && (ss.onServer.Load() == nil || ss.idle.Load()) {
			continue
		}
		out = append(out, s.sessionStream(ss))
	}
	for t, ts := range e.tunnels {
		out = append(out, s.tunnelStream(t, ts))
	}
	e.mu.Unlock()
	return out
}

// listenerStream fills what a stream's listener says.
func (s cliSource) listenerStream(st *stats.Stream, l *listener, c netConn, src netip.AddrPort) {
	st.Frontend, st.FrontendID, st.FrontendMode = l.fe.Name, s.c.proxyIDs[l.fe.Name], mode(l.fe.HTTP)
	if b := l.bind; b != nil {
		st.ListenerID, st.ListenerName = b.ID, b.Name
	}
	switch a := l.ln.Addr().(type) {
	case *net.TCPAddr:
		st.Proto = "tcpv6"
		if a.IP.To4() != nil {
			st.Proto = "tcpv4"
		}
		st.Dst = a
		st.Src = c.RemoteAddr()
		if src.IsValid() {
			st.Src = net.TCPAddrFromAddrPort(src)
		}
	default:
		st.Proto = "unix_stream"
	}
	st.CliFD = stats.ConnFD(c)
}

func mode(http bool) string {
	if http {
		return "http"
	}
	return "tcp"
}

// serverStream fills the backend and server of a stream on srv.
func (s cliSource) serverStream(st *stats.Stream, srv *backend.Server, c net.Conn) {
	if srv == nil {
		return
	}
	name := srv.Backend.Name
	st.Backend, st.BackendID, st.Server, st.ServerID = name, s.c.proxyIDs[name], srv.Name, srv.ID
	st.BackendMode = "tcp"
	if be := s.e.g.byName[name]; be != nil {
		st.BackendMode = mode(be.HTTP)
	}
	if c != nil {
		st.SrvLocal, st.SrvAddr, st.SrvFD = c.LocalAddr(), c.RemoteAddr(), stats.ConnFD(c)
	}
}

func (s cliSource) sessionStream(ss *session) stats.Stream {
	st := stats.Stream{ID: ss.strm.id, Start: ss.strm.start, Epoch: ss.strm.epoch, Retries: int(ss.strm.retries.Load()), Nice: int(ss.strm.nice.Load()), SrvFD: -1}
	s.listenerStream(&st, ss.l, ss.cl.c, ss.src)
	var c net.Conn
	if x := ss.svConn.Load(); x != nil {
		c = x
	} else if x := ss.svSock.Load(); x != nil {
		c = x
	} else if x := ss.svUnix.Load(); x != nil {
		c = x
	}
	s.serverStream(&st, ss.onServer.Load(), c)
	return st
}

func (s cliSource) tunnelStream(t *tunnel, ts tunnelStream) stats.Stream {
	st := stats.Stream{ID: ts.id, Start: ts.start, Epoch: ts.epoch, Retries: int(ts.retries), Nice: int(ts.nice), SrvFD: -1}
	s.listenerStream(&st, ts.l, t.c, ts.src)
	s.serverStream(&st, t.srv, t.s)
	// The read timeouts run from each side's last read.
	for i, fromClient := range []bool{true, false} {
		d := t.readTimeout(fromClient)
		if d <= 0 || fromClient && t.cDone.Load() || !fromClient && t.sDone.Load() {
			continue
		}
		last := t.lastC.Load()
		if !fromClient {
			last = t.lastS.Load()
		}
		if t.cfg.shared {
			last = max(t.lastC.Load(), t.lastS.Load())
		}
		at := time.Unix(0, last).Add(d)
		if i == 0 {
			st.ReqRx = at
		} else {
			st.RspRx = at
		}
	}
	return st
}

// KillStream is "shutdown session": the stream's connections close, a
// tunnel's log line says it was killed.
func (s cliSource) KillStream(id uint64) bool {
	e := s.e
	e.mu.Lock()
	var hit *session
	for ss := range e.sessions.all {
		if ss.strm.id == id {
			hit = ss
			hit.pins.Add(1)
			break
		}
	}
	var tun *tunnel
	for t, ts := range e.tunnels {
		if ts.id == id {
			tun = t
			break
		}
	}
	e.mu.Unlock()
	switch {
	case hit != nil:
		hit.shutdownStream()
		hit.pins.Add(-1)
	case tun != nil:
		killTunnel(tun)
	default:
		return false
	}
	return true
}

func killTunnel(t *tunnel) {
	t.timedOut.CompareAndSwap(0, tunnelKilled)
	t.abort()
}

// KillServer is "shutdown sessions server": HAProxy's
// srv_shutdown_streams, which leaves idle connections alone.
func (s cliSource) KillServer(bname, sname string) {
	e := s.e
	be := e.g.byName[bname]
	if be == nil {
		return
	}
	var srv *backend.Server
	for _, x := range be.LB.ServerList() {
		if x.Name == sname {
			srv = x
		}
	}
	if srv == nil {
		return
	}
	e.mu.Lock()
	var list []*session
	for ss := range e.sessions.all {
		if ss.onServer.Load() == srv {
			ss.pins.Add(1)
			list = append(list, ss)
		}
	}
	var tuns []*tunnel
	for t := range e.tunnels {
		if t.srv == srv {
			tuns = append(tuns, t)
		}
	}
	e.mu.Unlock()
	for _, ss := range list {
		ss.shutdownStream()
		ss.pins.Add(-1)
	}
	for _, t := range tuns {
		killTunnel(t)
	}
}

// setNice is set-nice: the stream's priority, already within
// -1024..1024.
func (s *session) setNice(n int) { s.strm.nice.Store(int32(n)) }

// resetNice gives a new stream its listener's priority.
func (s *session) resetNice() {
	n := 0
	if s.l != nil && s.l.bind != nil {
		n = s.l.bind.Nice
	}
	s.strm.nice.Store(int32(n))
}
