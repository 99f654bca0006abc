package runtime

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h2"
	"github.com/gohap/gohap/runtime/proxyproto"
	"github.com/gohap/gohap/runtime/ssl"
)

// tlsBindOptions are the bind keywords of TLS and HTTP/2, which
// runtime/ssl reads.
var tlsBindOptions = wordSet(`ssl crt crt-list ca-file ca-verify-file crl-file verify alpn ciphers
	ciphersuites curves ecdhe ssl-min-ver ssl-max-ver no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12
	no-tlsv13 force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 no-tls-tickets
	strict-sni prefer-client-ciphers ca-ignore-err crt-ignore-err no-ca-names allow-0rtt proto
	generate-certificates ca-sign-file ca-sign-pass tls-ticket-keys`)

// wordSet is a set of the words of s.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// sslGlobals maps the global section's TLS settings.
func sslGlobals(g *parser.Global) *ssl.Globals {
	s := &g.SSL
	cache := s.CacheSize
	if s.CacheSizeSet && cache == 0 {
		cache = -1
	}
	return &ssl.Globals{CrtBase: g.CrtBase, CABase: s.CABase,
		BindCiphers: s.BindCiphers, BindCiphersuites: s.BindCiphersuites, BindCurves: s.BindCurves, BindOptions: s.BindOptions,
		ServerCiphers: s.ServerCiphers, ServerCiphersuites: s.ServerCiphersuites, ServerOptions: s.ServerOptions,
		ServerVerify: s.ServerVerify, DefaultDHParam: s.DefaultDHParam, DHParamBits: s.DHParamBits, CacheSize: cache, Lifetime: s.Lifetime}
}

// h2Config maps the tune.h2 settings, tune.bufsize and tune.http.maxhdr.
func h2Config(g *parser.Global) *h2.Config {
	s := &g.SSL
	bufSize, _, maxHdr := msgLimits(*g)
	if bufSize < 1024 || bufSize >= 1<<24 {
		// Out of what a frame can say: the HTTP/2 layer's default.
		bufSize = 0
	}
	return &h2.Config{HeaderTableSize: uint32(s.H2HeaderTableSize), InitialWindowSize: uint32(s.H2InitialWindowSize),
		MaxConcurrentStreams: s.H2MaxConcurrentStreams, MaxFrameSize: uint32(s.H2MaxFrameSize), NoExtConnect: s.H2NoExtConnect,
		BufSize: bufSize, MaxHeaderFields: 2 * (maxHdr + 1)}
}

// h2ConfigFor is g with fe's idle timeouts, as HAProxy's h2c_update_timeout
// sets them on a client connection with no stream: timeout http-request
// before its first stream, timeout http-keep-alive or else http-request
// after one, timeout client when those are not set.
func h2ConfigFor(g *h2.Config, fe *Frontend) *h2.Config {
	var c h2.Config
	if g != nil {
		c = *g
	}
	first := cmp.Or(fe.HTTPRequest, fe.Client)
	c.FirstIdleTimeout, c.IdleTimeout = first, cmp.Or(fe.HTTPKeepAlive, first)
	return &c
}

// compileBindTLS reads a bind line's TLS and HTTP/2 options; ok is false
// when they cannot be used (the reason is reported).
func compileBindTLS(b *parser.Bind, cfg *parser.Config, http bool, store *ssl.Store, fail func(parser.Pos, string, ...any)) (*ssl.BindTLS, bool, bool) {
	useSSL, h2, tlsWords := false, false, false
	for i := 0; i < len(b.Options); i++ {
		switch b.Options[i] {
		case "ssl":
			useSSL = true
		case "proto":
			if i+1 < len(b.Options) {
				switch b.Options[i+1] {
				case "h2":
					h2 = true
				case "h1":
				case "none":
					if http {
						fail(b.Pos, "'bind %s' : 'proto none' on a 'mode http' frontend is not supported by the gohap runtime yet.", b.Address)
						return nil, false, false
					}
				default:
					fail(b.Pos, "'bind %s' : unknown proto '%s'.", b.Address, b.Options[i+1])
					return nil, false, false
				}
			}
			i++
		default:
			if tlsBindOptions[b.Options[i]] {
				tlsWords = true
			}
		}
	}
	if h2 && !http {
		fail(b.Pos, "'bind %s' : 'proto h2' on a 'mode tcp' frontend is not supported by the gohap runtime yet.", b.Address)
		return nil, false, false
	}
	if !useSSL {
		// TLS options without "ssl" have no effect in HAProxy either.
		_ = tlsWords
		return nil, h2, true
	}
	opts, err := ssl.ParseBindOptions(b.Options, sslGlobals(&cfg.Global))
	if err != nil {
		fail(b.Pos, "'bind %s' : %v", b.Address, err)
		return nil, false, false
	}
	g := sslGlobals(&cfg.Global)
	g.Store = store
	t, err := ssl.LoadBindConfig(opts, g)
	if err != nil {
		fail(b.Pos, "'bind %s' : %v", b.Address, err)
		return nil, false, false
	}
	t.Where = b.Pos.File + ":" + strconv.Itoa(b.Pos.Line)
	return t, h2, true
}

// front serves a connection of a TLS or HTTP/2 bind: the handshake, then
// one session per HTTP/2 stream, or one session for the connection
// (serveConn). It holds the connection's slot.
func (e *Engine) front(l *listener, c netConn, b *Listen) {
	parked := false
	defer func() {
		// A parked connection's session ends them.
		if !parked {
			e.connEnd(l)
			e.wg.Done()
		}
	}()
	if b.TLS != nil {
		// ssl_sock_init and listener_accept: before any PROXY header
		// or handshake; connEnd counts it closed.
		p := e.g.sslCounters()
		p.Open()
		p.accepted(time.Now())
	}
	// feconn counts the connection from its accept, through its rules
	// and handshake; then its session or its HTTP/2 connection's scope
	// does.
	e.countConn(l.fe)
	counted := true
	defer func() {
		if counted {
			e.uncountConn(l.fe)
		}
	}()
	src, dst := addrPort(c.RemoteAddr()), addrPort(c.LocalAddr())
	pps := ppState{ns: b.NetNS}
	// The connection rules come first, on the socket's addresses: a
	// rejected client gets no handshake (session_accept_fd).
	var rs *session
	if r := &l.fe.tcp; len(r.conn)+len(r.sess) > 0 {
		var ok bool
		if rs, ok = e.ruleSession(l, c, src, dst); !ok {
			setLinger0(c)
			c.Close()
			return
		}
	}
	header := false
	defer func() {
		if rs != nil {
			// Ended before any stream: the connection failed.
			rs.dropRules()
		}
	}()
	if b.AcceptCIP {
		var ok bool
		if src, dst, ok = readCIPHeader(c, l.fe.Client, b.CIPMagic); !ok {
			setLinger0(c)
			c.Close()
			return
		}
		header = true
	}
	if b.AcceptProxy {
		// The PROXY header comes before the TLS handshake: the bridged
		// session gets its addresses and does not look for one.
		h, ok := readProxyHeader(c, l.fe.Client)
		if !ok {
			setLinger0(c)
			c.Close()
			return
		}
		if h.Src.IsValid() && h.Dst.IsValid() {
			src, dst, header = h.Src, h.Dst, true
		}
		pps.set(&h)
		pps.setNS(&h, e.g.netns)
	}
	// TLS and HTTP/2 read and write the socket through rawSock; the rest
	// (deadlines, parking, closing) goes to c itself.
	conn := newRawSock(c)
	var info *acl.TLSInfo
	speakH2 := b.H2
	if b.TLS != nil {
		accepted := time.Now()
		var tap *ssl.HelloTap
		if e.g.helloCapture > 0 {
			tap = &ssl.HelloTap{Conn: conn}
			conn = tap
		}
		var kt *ssl.KeyTap
		if e.g.needs.FrontKeys {
			kt = ssl.NewKeyTap(conn, true, e.g.keylog, e.g.needs.FrontFinished)
			conn = kt
		}
		tc, hs := b.TLS.ServerTap(conn, kt)
		if t := l.fe.Client; t > 0 {
			c.SetDeadline(time.Now().Add(t))
		}
		err := tc.Handshake()
		e.countBindHandshake(l, tc, err)
		if err != nil {
			e.logHandshakeFailure(l, tc, hs, tap, kt, err, src, dst, accepted)
			setLinger0(c)
			c.Close()
			return
		}
		c.SetDeadline(time.Time{})
		cs := tc.ConnectionState()
		if cs.NegotiatedProtocol == "h2" {
			speakH2 = true
		}
		conn = e.g.newRecordCap(tc, speakH2)
		info = tlsInfo(b.TLS, cs)
		info.Local = hs.Leaf
		if kt != nil {
			info.Keys = kt.Keys(&cs)
		}
		if tap != nil {
			info.Hello = tap.Capture(e.g.helloCapture)
		}
	}
	var scope *connScope
	if rs != nil {
		if !rs.sessRules(src, dst, header, info) {
			rs = nil
			setLinger0(c)
			c.Close()
			return
		}
		scope, rs = newConnScope(rs, src, dst, &pps), nil
	}
	if !speakH2 {
		counted = false
		e.uncountConn(l.fe)
		parked = e.serveConn(l, conn, c, src, dst, info, &pps, scope)
		return
	}
	if scope == nil {
		scope = newConnScope(nil, src, dst, &pps)
	}
	// One session and one connection, whatever its streams.
	e.g.feCounters(l.fe).addFeSession(time.Now())
	scope.counted, counted = true, false
	parked = e.serveH2(l, conn, l.h2cfg, src, dst, info, &pps, scope, func() {
		e.connEnd(l)
		e.wg.Done()
	}, c)
}

// countBindHandshake counts a client handshake on the frontend and, with
// option socket-stats, on its listener.
func (e *Engine) countBindHandshake(l *listener, tc *tls.Conn, err error) {
	resumed := err == nil && tc.ConnectionState().DidResume
	countHandshake(resumed, err, e.g.feCounters(l.fe))
	e.g.sslCounters().handshake(true, resumed, err)
	if l.bind != nil && l.bind.stats != nil {
		l.bind.stats.ssl.handshake(resumed, err)
	}
}

// tlsInfo is what the ssl_* fetches read of a client connection.
func tlsInfo(bt *ssl.BindTLS, cs tls.ConnectionState) *acl.TLSInfo {
	ci := ssl.NewConnInfo(cs)
	info := &acl.TLSInfo{Protocol: ci.Protocol, Cipher: ci.Cipher, SNI: ci.SNI, ALPN: ci.ALPN,
		SessionReused: ci.SessionReused, UseKeysize: ci.UseKeysize, AlgKeysize: ci.AlgKeysize}
	if len(cs.PeerCertificates) > 0 {
		v := bt.ClientVerify(cs)
		setVerify(info, &v)
		info.Peer = cs.PeerCertificates
	}
	return info
}

// serveH2 serves the session's client connection as HTTP/2 once its
// first bytes (pre) showed the preface; it returns when the connection
// ends.
func (s *session) serveH2(pre []byte) {
	cfg := *s.l.h2cfg
	cfg.Preread = pre
	c := s.cl.c
	c.SetDeadline(time.Time{})
	s.e.serveH2(s.l, c, &cfg, s.txn.Src, s.txn.Dst, nil, &s.pps, s.borrowScope(), nil, nil)
}

// h2Park is what an HTTP/2 connection needs to park (h2.SetPark).
type h2Park struct {
	parkState
	sc *h2.ServerConn
	c  net.Conn
	// end ends the connection's work once it is over after a park: that
	// of serveH2 and of its caller.
	end func()
}

// newH2Park lets sc, over c, park on under's descriptor; nil when it
// cannot.
func newH2Park(sc *h2.ServerConn, c net.Conn, under netConn) *h2Park {
	hp := &h2Park{sc: sc, c: c}
	if !hp.enable(under, hp) {
		return nil
	}
	sc.SetPark(parkAfter, hp.park)
	return hp
}

// park is the reader's last step before the connection parks: deadline
// is the idle timeout's, which wakes it.
func (hp *h2Park) park(deadline time.Time) bool {
	hp.setRDL(deadline)
	hp.parking(hp.c)
	return true
}

// resumeParked goes on with the connection in a new goroutine.
func (hp *h2Park) resumeParked() {
	if hp.sc.Resume() == h2.ErrParked {
		hp.pk.arm(&hp.parkState)
		return
	}
	hp.end()
}

// serveH2 runs an HTTP/2 connection, one session per stream,
// and sends GOAWAY when the engine stops. With under, the socket under
// conn, the connection parks when idle: serveH2 then returns true, and
// then is called once the connection is over, by the goroutine that
// resumed it last.
func (e *Engine) serveH2(l *listener, conn net.Conn, cfg *h2.Config, src, dst netip.AddrPort, info *acl.TLSInfo, pps *ppState, scope *connScope, then func(), under netConn) bool {
	sc, err := h2.NewServerConn(conn, cfg)
	if err != nil {
		conn.Close()
		scope.end(e, l.fe)
		return false
	}
	sc.SetCounters(e.g.feCounters(l.fe).h2Counters())
	var hp *h2Park
	if under != nil {
		hp = newH2Park(sc, conn, under)
	}
	// A stop reaches the connection through the engine's list: no
	// goroutine waits for it beside each connection.
	e.addH2(sc, hp)
	end := func() {
		// conn may be the session's own (h2c on a plain bind), recycled
		// once this returns: a Shutdown started meanwhile must be over.
		e.dropH2(sc)
		sc.WaitShutdown()
		conn.Close()
		scope.end(e, l.fe)
		if hp != nil {
			// A wake that did not come through the parker (a deadline, a
			// stop) left the registration behind.
			hp.pk.forget(&hp.parkState)
		}
	}
	if sc.Serve(func(st *h2.Stream) { e.serveConn(l, st, nil, src, dst, info, pps, scope) }) == h2.ErrParked {
		hp.end = func() {
			end()
			then()
		}
		hp.pk.arm(&hp.parkState)
		return true
	}
	end()
	return false
}

// serveConn runs a session on c, a TLS connection (under is its socket)
// or an HTTP/2 stream, in the calling goroutine, and returns once it and
// any tunnel it became have ended, or once the connection parked: it
// then reports true, and the session ends front's work (resumeParked).
func (e *Engine) serveConn(l *listener, c net.Conn, under netConn, src, dst netip.AddrPort, info *acl.TLSInfo, pps *ppState, scope *connScope) bool {
	mc := newMemConn(c, under)
	s := newSession(e, l, mc)
	s.src, s.dst, s.tls, s.scope = src, dst, info, scope
	// A PROXY header was read on the connection: its TLVs are the
	// session's.
	s.bridged = true
	if pps != nil {
		s.pps = *pps
	}
	var start time.Time
	if st, ok := c.(*h2.Stream); ok {
		// Its connection counts the frames it writes.
		s.cl.procOut = nil
		s.h2Stream, s.h2Origin, s.reqPre = true, st.Origin(), st.Head()
		s.h2SchemeHTTP = st.SchemeHTTP()
		s.sv.h2st = st
		start = st.Start()
	}
	s.waitEnd = true
	s.ended.Add(1)
	if start.IsZero() {
		start = time.Now()
	}
	if !e.addSession(s, start) {
		c.Close()
		if !s.h2Stream {
			// The connection's own scope, taken by no session.
			scope.release()
		}
		return false
	}
	if under != nil && l.fe.HTTP {
		mc.enablePark(s)
	}
	handed := s.run()
	if s.parked {
		s.parkConn()
		return true
	}
	if s.endConn(handed) {
		mc.released = true
	}
	return false
}

// endConn ends serveConn's session, and reports whether it was recycled:
// nothing of the engine holds the connection any more.
func (s *session) endConn(handed bool) bool {
	if !handed {
		s.finish()
	}
	s.ended.Wait()
	return !handed && s.recycle()
}

// parkConn leaves a session whose connection parked: the last thing its
// goroutine does with it, since a wake may resume it at once in another.
func (s *session) parkConn() {
	s.parkedTxn = parkedTxn{start: s.lt.start, backTLS: s.txn.BackTLS, sessTrack: s.txn.SessTrack != nil}
	s.dropScratch()
	m := s.cl.c.(*memConn)
	m.raw.pk.arm(&m.raw.parkState)
}

// resumeParked goes on with a session whose connection parked, in a new
// goroutine, and ends the work of run, serveConn and front for it.
func (s *session) resumeParked() {
	s.parked = false
	s.takeScratch()
	s.restoreTxn()
	s.serveHTTP()
	if s.parked {
		s.parkConn()
		return
	}
	e, l := s.e, s.l
	s.endHTTP()
	s.endRun()
	s.uncountConn()
	s.endConn(s.handedOff)
	e.connEnd(l)
	e.wg.Done()
}

// parkedTxn is what of its transaction state a parked connection keeps
// beside its session's own: the rest restoreTxn sets from the session.
// Its next stream started when the last one ended (beginStream): start.
type parkedTxn struct {
	start     time.Time
	backTLS   *acl.TLSInfo
	sessTrack bool
}

// restoreTxn sets again, in the scratch a parked connection took, what
// its transaction state keeps from one transaction to the next: what
// run sets once (linkTxn, the addresses, the mode) and the session's
// tracking, as it was when it parked.
func (s *session) restoreTxn() {
	s.linkTxn()
	t := &s.txn
	t.Src, t.Dst, t.ConnSrc, t.ConnDst = s.sessSrc, s.sessDst, s.sessConnSrc, s.sessConnDst
	t.HTX, t.H2 = s.http, s.h2Stream
	t.Req, t.BackTLS = &s.req, s.parkedTxn.backTLS
	if s.parkedTxn.sessTrack {
		t.SessTrack = &s.stk.sess
	}
	s.lt = logTimes{start: s.parkedTxn.start}
	s.parkedTxn = parkedTxn{}
}

// socketPair returns the two ends of a connected stream socket pair.
func socketPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	conns := [2]*net.UnixConn{}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		fc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			if i == 1 {
				conns[0].Close()
			}
			return nil, nil, err
		}
		uc, ok := fc.(*net.UnixConn)
		if !ok {
			fc.Close()
			return nil, nil, errors.New("socketpair: not a unix socket")
		}
		conns[i] = uc
	}
	return conns[0], conns[1], nil
}

// readProxyHeader reads the PROXY header that starts c, and nothing
// after it: the bytes are peeked until the header is whole, then exactly
// its length is consumed, so the TLS handshake reads what follows.
func readProxyHeader(c netConn, timeout time.Duration) (proxyproto.Header, bool) {
	var h proxyproto.Header
	ok := peekHeader(c, timeout, func(b []byte) (n int, err error) {
		h, n, err = proxyproto.Parse(b)
		return n, err
	})
	return h, ok
}

// readCIPHeader is readProxyHeader for a NetScaler Client IP header.
func readCIPHeader(c netConn, timeout time.Duration, magic uint32) (src, dst netip.AddrPort, ok bool) {
	ok = peekHeader(c, timeout, func(b []byte) (n int, err error) {
		src, dst, n, err = proxyproto.ParseCIP(b, magic)
		return n, err
	})
	return src, dst, ok
}

// peekHeader looks at what c starts with until parse reads a header from
// it, then takes the header's bytes off the socket.
func peekHeader(c netConn, timeout time.Duration, parse func([]byte) (int, error)) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	deadline := time.Now().Add(timeout)
	if timeout <= 0 {
		deadline = time.Now().Add(time.Minute)
	}
	c.SetReadDeadline(deadline)
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 16+65535)
	for time.Now().Before(deadline) {
		var n int
		var rerr error
		err = rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_PEEK)
			return rerr != unix.EAGAIN
		})
		if err != nil || rerr != nil || n == 0 {
			return false
		}
		hl, err := parse(buf[:n])
		if err == proxyproto.ErrIncomplete {
			// The rest is on its way: the socket stays readable with
			// what was peeked, so wait a little before looking again.
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			return false
		}
		err = rc.Read(func(fd uintptr) bool {
			_, rerr = rawRead(int(fd), buf[:hl])
			return rerr != unix.EAGAIN
		})
		return err == nil && rerr == nil
	}
	return false
}

// bindProto is the word after a bind line's "proto", empty without one.
func bindProto(b *parser.Bind) string {
	for i := 0; i+1 < len(b.Options); i++ {
		if b.Options[i] == "proto" {
			return b.Options[i+1]
		}
	}
	return ""
}

// setVerify gives the ssl_c_* fetches a client certificate's
// verification.
func setVerify(info *acl.TLSInfo, v *ssl.VerifyResult) {
	info.CertUsed, info.Verify, info.CrtErr, info.CAErr, info.CAErrDepth = v.Used, v.Verify, v.CrtErr, v.CAErr, v.CAErrDepth
}

// logHandshakeFailure logs a client whose TLS handshake failed, with
// what the handshake had learned for the error-log-format's samples.
func (e *Engine) logHandshakeFailure(l *listener, tc *tls.Conn, hs *ssl.Handshake, tap *ssl.HelloTap, kt *ssl.KeyTap, err error, src, dst netip.AddrPort, accepted time.Time) {
	f := ssl.BindFailure(err, hs.HelloRead)
	t := e.embryonicTxn(l, src, dst, f.ConnErr)
	cs := tc.ConnectionState()
	// The name is known from the ClientHello on, also when picking a
	// certificate for it failed.
	info := &acl.TLSInfo{SNI: hs.ServerName, Err: f.Code, ErrText: f.Text(), Local: hs.Leaf}
	var peer []*x509.Certificate
	info.Protocol, info.Cipher, peer = ssl.FailedState(cs, f, hs.ClientMax)
	if len(peer) > 0 {
		info.Peer, info.CertUsed = peer, true
	}
	if v := f.Verify; v != nil {
		setVerify(info, &v.Result)
	}
	if tap != nil {
		info.Hello = tap.Capture(e.g.helloCapture)
	}
	if kt != nil {
		info.Keys = kt.Keys(nil)
	}
	if !f.NameRead() {
		info.SNI = ""
	}
	t.TLS = info
	em := embryonic{l: l, accepted: accepted, txn: t}
	em.log(e, nil)
}
