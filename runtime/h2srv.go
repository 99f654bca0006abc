package runtime

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h2"
)

// h2Server is how a server's connections speak HTTP/2: always ("proto
// h2", prior knowledge), when TLS negotiates it by ALPN, or for
// WebSocket streams only ("ws h2"). The engine sees each connection as
// an HTTP/1.1 one (h2VConn) whose requests go out as streams of an
// HTTP/2 connection (h2Conn), as HAProxy's H2 mux carries the HTX
// streams.
type h2Server struct {
	cfg *h2.Config
	// main: "proto h2"; alpn: HTTP/2 when TLS negotiates "h2" (an
	// "alpn" offering it, no "proto").
	main, alpn bool
	// ws is the "ws" option; alpnH1: the server's "alpn" offers
	// http/1.1, which "ws auto" narrows WebSocket streams to.
	ws     string
	alpnH1 bool
	// reuse is the backend's http-reuse mode: with aggressive and always,
	// connections with free streams are shared by all clients
	// (HAProxy's avail_conns); with safe and never each belongs to the
	// engine connection that opened it.
	reuse int
	// timeout is timeout server: an idle shared connection closes then.
	timeout time.Duration
	// maxReuse is the server's max-reuse: a connection carries at most
	// maxReuse+1 streams (h2_avail_streams), -1 for no limit.
	maxReuse int

	mu    sync.Mutex
	avail []*h2Conn
}

// h2Conn is one HTTP/2 connection to a server.
type h2Conn struct {
	h   *h2Server
	cc  *h2.ClientConn
	sni string
	// tid is the thread it is shared within (session.thread).
	tid    int
	info   *acl.TLSInfo
	local  net.Addr
	remote net.Addr
	// refs counts the engine connections using it, used the streams
	// it completed, streams those opened; all under h.mu.
	refs    int
	used    bool
	streams int
	shared  bool
	idle    *time.Timer
}

// compileServerConns reads how a server's connections are made and
// kept: "pool-max-conn", "pool-low-conn", "pool-purge-delay", then "proto", "ws" and an "alpn" naming h2.
func compileServerConns(cfg *parser.Config, p *parser.Proxy, s *parser.Server, be *Backend, srv *backend.Server, fail func(parser.Pos, string, ...any)) {
	st := &s.Settings
	compileSockOpts(&cfg.Global, st, srv)
	o := poolOpts{max: st.PoolMaxConn, low: int(st.PoolLowConn), purge: st.PoolPurgeDelay}
	switch {
	case o.max != defaultPoolOpts.max:
		o.set = "pool-max-conn"
	case o.low != defaultPoolOpts.low:
		o.set = "pool-low-conn"
	case o.purge != defaultPoolOpts.purge:
		o.set = "pool-purge-delay"
	}
	if o.set != "" {
		if be.idle.opts == nil {
			be.idle.opts = map[*backend.Server]poolOpts{}
		}
		be.idle.opts[srv] = o
	}
	proto := st.Proto
	http := be.HTTP
	switch {
	case proto == "h2" && http, proto == "h1" && http, proto == "none" && !http:
	case proto == "fcgi" && http:
		if st.MaxReuse >= 0 {
			fail(s.Pos, "server option 'max-reuse' on a FastCGI server is not supported by the gohap runtime yet.")
		}
		if f := be.fcgi; f != nil {
			f.addServer(be, srv)
		}
		return
	case proto != "":
		fail(parser.Pos{}, "%s '%s' : MUX protocol '%s' is not usable for server '%s' at [%s:%d].",
			p.Kind, p.Name, proto, s.Name, s.Pos.File, s.Pos.Line)
		return
	}
	if !http {
		return
	}
	t := be.tls.get(srv)
	h := &h2Server{main: proto == "h2", alpn: proto == "" && t != nil && t.alpnH2, ws: st.WS,
		alpnH1: t != nil && t.alpnH1, reuse: be.reuse, timeout: be.Server, maxReuse: st.MaxReuse}
	if !h.main && !h.alpn && h.ws != "h2" && !(h.ws == "h1" && t != nil && t.alpn) {
		return
	}
	h.cfg = h2Config(&cfg.Global)
	be.h2.put(srv, h)
}

var (
	alpnHTTP11 = []string{"http/1.1"}
	alpnH2     = []string{"h2"}
)

// mode is how a request goes to the server: prior is HTTP/2 without
// asking, byALPN HTTP/2 if TLS negotiates it, alpn the ALPN offered
// instead of the server's (HAProxy's conn_update_alpn for WebSocket
// streams).
func (h *h2Server) mode(ws, tls bool) (prior, byALPN bool, alpn []string) {
	prior, byALPN = h.main, h.alpn
	if !ws {
		return
	}
	switch h.ws {
	case "h1":
		prior, byALPN = false, false
		if tls {
			alpn = alpnHTTP11
		}
	case "h2":
		prior = true
		if tls {
			alpn = alpnH2
		}
	default:
		if h.alpnH1 {
			alpn, byALPN = alpnHTTP11, false
		}
	}
	return
}

// dialH2 opens an engine connection to a server h names: on a shared
// HTTP/2 connection with a free stream when http-reuse allows, else on
// a new one (TCP, PROXY header, TLS within the connect timeout). A TLS
// server that did not negotiate h2 gets its HTTP/1.1 connection back.
// handled is false when the request goes as HTTP/1.1 the usual way.
func (s *session) dialH2(d *net.Dialer, be *Backend, srv *backend.Server, h *h2Server) (c netConn, handled bool, err error) {
	ws := s.txn.Req != nil && s.txn.Req.IsWebSocket(s.txn.Buf)
	t := be.tls.get(srv)
	prior, byALPN, alpn := h.mode(ws, t != nil)
	if !prior && !byALPN && alpn == nil {
		return nil, false, nil
	}
	sni := s.evalSNI(be, srv)
	shared := !ws && h.reuse >= reuseAggressive && be.pp.get(srv) == nil
	if shared {
		if hc, st := h.take(sni, s.thread()); hc != nil {
			c, err = newH2VConn(hc, st)
			return c, true, err
		}
	}
	start := time.Now()
	var nc net.Conn
	if srv.Socks4 != "" {
		nc, err = dialSocks4(d, srv, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
	} else {
		nc, err = netDial(d, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
	}
	if err != nil {
		return nil, true, err
	}
	tc := nc.(netConn)
	if s.sendProxyHeader(be, srv, tc) != nil {
		return nil, true, errProxyHeader
	}
	conn := newRawSock(tc)
	var info *acl.TLSInfo
	if t != nil {
		var deadline time.Time
		if be.Connect > 0 {
			deadline = start.Add(be.Connect)
		}
		p := s.e.g.sslCounters()
		sc, keys, err := handshakeTLS(tc, t, sni, deadline, alpn, [2]*trafficCounters{s.e.g.srvCounters(srv), s.e.g.beCounters(be)}, p, s.e.g.needs.BackKeys, s.e.g.needs.BackFinished)
		if err != nil {
			return nil, true, err
		}
		if !prior && !(byALPN && sc.ConnectionState().NegotiatedProtocol == "h2") {
			c, err = bridgeTLS(tc, sc, string(sni), p, keys, s.e.g)
			return c, true, err
		}
		conn, info = &countedTLS{Conn: s.e.g.newRecordCap(sc, true), p: p}, serverTLSInfo(sc, keys)
	}
	cfg := *h.cfg
	cfg.Counters = s.e.g.beCounters(be).h2Counters()
	cfg.BytesOut = &s.e.g.bytesOut
	cc, err := h2.NewClientConn(conn, &cfg)
	if err != nil {
		return nil, true, err
	}
	hc := &h2Conn{h: h, cc: cc, sni: string(sni), info: info, local: tc.LocalAddr(), remote: tc.RemoteAddr(), refs: 1, shared: shared, streams: 1, tid: s.thread()}
	st, err := cc.Open()
	if err != nil {
		cc.Close()
		return nil, true, err
	}
	if shared && !hc.spent() {
		h.mu.Lock()
		h.avail = append(h.avail, hc)
		h.mu.Unlock()
	}
	c, err = newH2VConn(hc, st)
	return c, true, err
}

// take returns a shared connection for sni with a stream opened on it,
// as HAProxy's avail_conns lookup; aggressive only shares connections
// that completed a stream.
func (h *h2Server) take(sni []byte, tid int) (*h2Conn, *h2.ClientStream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 0; i < len(h.avail); i++ {
		hc := h.avail[i]
		select {
		case <-hc.cc.Done():
			h.avail = append(h.avail[:i], h.avail[i+1:]...)
			i--
			continue
		default:
		}
		if hc.sni != string(sni) || hc.tid != tid || h.reuse == reuseAggressive && !hc.used {
			continue
		}
		st, err := hc.cc.Open()
		if err != nil {
			continue
		}
		hc.refs++
		if hc.streams++; hc.spent() {
			h.avail = append(h.avail[:i], h.avail[i+1:]...)
		}
		if hc.idle != nil {
			hc.idle.Stop()
			hc.idle = nil
		}
		return hc, st
	}
	return nil, nil
}

// spent says hc carried the streams max-reuse allows. h.mu held.
func (hc *h2Conn) spent() bool {
	return hc.h.maxReuse >= 0 && hc.streams > hc.h.maxReuse
}

// release drops an engine connection's use of hc: a private connection
// closes, a shared one stays available until timeout server passes
// without use.
func (hc *h2Conn) release() {
	h := hc.h
	h.mu.Lock()
	hc.refs--
	last := hc.refs == 0
	if last && hc.shared && h.timeout > 0 && !hc.spent() {
		hc.idle = time.AfterFunc(h.timeout, func() {
			h.mu.Lock()
			idle := hc.refs == 0
			if idle {
				h.drop(hc)
			}
			h.mu.Unlock()
			if idle {
				hc.cc.Close()
			}
		})
		last = false
	}
	if last {
		h.drop(hc)
	}
	h.mu.Unlock()
	if last {
		hc.cc.Close()
	}
}

// drop removes hc from the shared ones. h.mu held.
func (h *h2Server) drop(hc *h2Conn) {
	for i, a := range h.avail {
		if a == hc {
			h.avail = append(h.avail[:i], h.avail[i+1:]...)
			return
		}
	}
}

// closeAll closes the shared connections (the engine stops).
func (h *h2Server) closeAll() {
	h.mu.Lock()
	list := h.avail
	h.avail = nil
	h.mu.Unlock()
	for _, hc := range list {
		hc.cc.Close()
	}
}

// h2VConn is an engine connection to an HTTP/2 server: the engine's end
// of a socket pair. Its pump writes each HTTP/1.1 request the engine
// sends into a new stream, and its copier writes the stream's response
// back, so that the engine keeps, pools and reuses it as it does an
// HTTP/1.1 connection.
type h2VConn struct {
	*net.UnixConn
	peer *net.UnixConn
	hc   *h2Conn

	// next hands the copier each stream; respDone tells the pump a
	// response ended.
	next     chan *h2.ClientStream
	respDone chan bool
	// quit ends the watch when the pump ends.
	quit chan struct{}

	mu sync.Mutex
	// active: a stream is under way; dead: the HTTP/2 connection
	// ended, the engine connection closes once no stream is.
	active, dead bool
	// reset: the last stream failed before any response; refused: the
	// server cannot take an upgrade.
	reset, refused atomic.Bool
}

func (v *h2VConn) RemoteAddr() net.Addr { return v.hc.remote }
func (v *h2VConn) LocalAddr() net.Addr  { return v.hc.local }

func newH2VConn(hc *h2Conn, first *h2.ClientStream) (netConn, error) {
	a, b, err := socketPair()
	if err != nil {
		first.Close()
		hc.release()
		return nil, err
	}
	v := &h2VConn{UnixConn: a, peer: b, hc: hc, next: make(chan *h2.ClientStream), respDone: make(chan bool), quit: make(chan struct{})}
	go v.pump(first)
	go v.copier()
	go v.watch()
	return v, nil
}

// watch closes an idle engine connection whose HTTP/2 connection ended,
// so that the engine's liveness check drops it.
func (v *h2VConn) watch() {
	select {
	case <-v.hc.cc.Done():
	case <-v.quit:
		return
	}
	v.mu.Lock()
	v.dead = true
	idle := !v.active
	v.mu.Unlock()
	if idle {
		v.peer.Close()
	}
}

// errorMark is what the engine reads from a stream that failed before
// its response: not HTTP, so the engine answers 502 without retrying
// the request, as HAProxy does on a reset stream.
var errorMark = []byte("\x00\r\n\r\n")

// pump reads the engine's requests and writes each into a stream.
func (v *h2VConn) pump(first *h2.ClientStream) {
	defer func() {
		close(v.quit)
		close(v.next)
		v.peer.Close()
		v.hc.release()
	}()
	buf := make([]byte, h2BufSize(v.hc.h.cfg))
	st := first
	var pending []byte
	started := false
	for {
		if len(pending) == 0 {
			n, err := v.peer.Read(buf)
			if n == 0 || err != nil {
				if st != nil && started {
					if st.RequestDone() {
						// The engine left before the response ended.
						st.Close()
					} else {
						// A tunnel's or request's end of data.
						st.CloseWrite()
					}
					<-v.respDone
				}
				if st != nil {
					st.Close()
				}
				return
			}
			pending = buf[:n]
		}
		if st != nil && started && st.RequestDone() {
			// The next request: the previous response must have ended.
			ok := <-v.respDone
			st.Close()
			st, started = nil, false
			if !ok {
				return
			}
		}
		if st == nil {
			v.mu.Lock()
			dead := v.dead
			v.mu.Unlock()
			if dead {
				return
			}
			var err error
			if st, err = v.hc.cc.Open(); err != nil {
				// The engine retries on a new connection.
				return
			}
			v.hc.h.mu.Lock()
			if v.hc.streams++; v.hc.spent() {
				v.hc.h.drop(v.hc)
			}
			v.hc.h.mu.Unlock()
		}
		if !started {
			v.mu.Lock()
			v.active = true
			v.mu.Unlock()
			v.next <- st
			started = true
		}
		if t := v.hc.h.timeout; t > 0 {
			// A server that takes nothing (no SETTINGS, no window)
			// frees the pump within timeout server.
			st.SetWriteDeadline(time.Now().Add(t))
		}
		n, err := st.WriteRequest(pending)
		pending = pending[n:]
		if err != nil {
			if !st.HeadSent() {
				// No answer can come to a request that never went:
				// the copier stops reading, as HAProxy aborts it.
				st.Close()
			}
			<-v.respDone
			st.Close()
			return
		}
	}
}

// copier writes each stream's response to the engine; it reports false
// when the engine connection cannot carry another request.
func (v *h2VConn) copier() {
	buf := make([]byte, h2BufSize(v.hc.h.cfg))
	for st := range v.next {
		v.reset.Store(false)
		wrote := false
		ok := true
		for {
			n, err := st.Read(buf)
			if n > 0 {
				wrote = true
				if _, werr := v.peer.Write(buf[:n]); werr != nil {
					ok = false
					st.Close()
					break
				}
			}
			if err == nil {
				continue
			}
			if err != io.EOF {
				ok = false
				if !wrote && !retryable(err) {
					v.refused.Store(errors.Is(err, h2.ErrNoExtConnect))
					v.reset.Store(true)
					v.peer.Write(errorMark)
				}
				v.peer.Close()
			}
			break
		}
		if ok && st.RequestDone() {
			// Both ends done: the stream's slot is free for others.
			st.Close()
		}
		if ok && !st.RequestDone() {
			// Answered before the request ended: the rest of it has no
			// stream to go to.
			ok = false
			st.Close()
			v.peer.Close()
		}
		v.hc.h.mu.Lock()
		v.hc.used = v.hc.used || ok
		// A connection that carried its max-reuse streams takes no
		// more: the engine connection closes, the next request opens
		// another.
		spent := v.hc.spent()
		v.hc.h.mu.Unlock()
		v.mu.Lock()
		v.active = false
		if (v.dead || spent) && ok {
			ok = false
			v.peer.Close()
		}
		v.mu.Unlock()
		v.respDone <- ok
	}
}

// h2Failed tells how a request whose HTTP/2 stream failed ends. A
// request that is not the client's first, whose stream the server reset
// before responding, ends without an answer nor a log (abort), as
// HAProxy's abort_keep_alive: the client may retry it. An upgrade the
// server cannot take (no extended CONNECT) is refused as HAProxy does:
// an HTTP/2 client's stream is reset (REFUSED_STREAM), with no log; an
// HTTP/1 client gets a 502, logged as the server's close before its
// answer (SH), and the connection stays (HAProxy's may close when the
// server's connection error reaches it first).
func (s *session) h2Failed() (abort bool) {
	v, ok := s.sv.c.(*h2VConn)
	switch {
	case !ok:
		return false
	case v.refused.Load():
		if s.h2Stream {
			s.closeServer()
			s.noLog = true
			return true
		}
		s.rspFail = rspClosed
		return false
	case !v.reset.Load() || s.FirstRequest():
		return false
	}
	s.closeServer()
	s.noLog = true
	return true
}

// limitIdle closes the session's kept server connection when the
// server's idle connections reached its pool-max-conn: HAProxy puts a
// connection in the server's idle list between two requests and kills
// it when the list is full; the next request then takes an idle one. A
// private connection (http-reuse never) is the session's own, and goes
// when the session already has max-session-srv-conns idle ones.
func (s *session) limitIdle() {
	be := s.svBe
	if !s.svClean || be == nil {
		return
	}
	if be.reuseOf(s.svSrv) == reuseNever {
		s.mu.Lock()
		full := len(s.idleConns) >= s.fe.maxSessSrv
		s.mu.Unlock()
		if full {
			s.resetServer()
		}
		return
	}
	if !be.idle.room(s.svSrv) {
		s.resetServer()
	}
}

// retryable tells a stream the server refused before processing it: the
// engine may send the request again on a new connection.
func retryable(err error) bool {
	var se *h2.StreamError
	if errors.As(err, &se) {
		return se.Remote && se.Code == http2.ErrCodeRefusedStream
	}
	var ge *h2.GoAwayError
	return errors.As(err, &ge) && ge.Retryable
}

func h2BufSize(cfg *h2.Config) int {
	if cfg != nil && cfg.BufSize > 0 {
		return cfg.BufSize
	}
	return h2.DefaultBufSize
}
