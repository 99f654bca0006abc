package runtime

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/ssl"
)

// serverTLS is how a server's connections are encrypted ("ssl" on the
// server line): the TLS client settings and the "sni" expression.
type serverTLS struct {
	cfg *ssl.ServerTLS
	sni *acl.Sample
	// alpn: the line has "alpn"; alpnH2: it offers h2, spoken when the
	// server picks it; alpnH1: it offers http/1.1.
	alpn, alpnH2, alpnH1 bool
}

// compileServerTLS reads the TLS words of a server line. It returns nil
// when the server's traffic is not encrypted; the health checks get
// their TLS settings either way (check-ssl, or "ssl" without a check
// port or address, as HAProxy's init_srv_check decides).
func compileServerTLS(cfg *parser.Config, gr *Graph, p *parser.Proxy, s *parser.Server, srv *backend.Server, ctx *acl.Context, fail func(parser.Pos, string, ...any)) *serverTLS {
	words := s.Settings.TLSWords
	if len(words) == 0 {
		return nil
	}
	g := sslGlobals(&cfg.Global)
	g.Store = gr.certStore(cfg)
	pname := p.Name
	bad := func(err error) {
		fail(s.Pos, bracketed+"'server %s/%s' : %v", p.Name, s.Name, err)
	}
	opts, err := ssl.ParseServerOptions(words, g)
	if err != nil {
		bad(err)
		return nil
	}
	var sni *acl.Sample
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "sni" {
			if sni, err = acl.CompileSampleWith(words[i+1], ctx); err != nil {
				fail(s.Pos, bracketed+"'server %s/%s' : error detected while parsing sni expression : %v", p.Name, s.Name, err)
				return nil
			}
		}
	}
	st := &s.Settings
	checkSSL := opts.CheckSSL || opts.SSL && st.Port == "" && st.Addr == ""
	// "tcp-check connect ssl" rules speak TLS with the server's settings.
	stepSSL := slices.ContainsFunc(p.TCPChecks, func(r *parser.CheckRule) bool { return r.Action == "connect" && r.SSL })
	if !opts.SSL && !checkSSL && !stepSSL {
		return nil
	}
	alpnH2, alpnH1 := false, false
	if len(opts.ALPN) > 0 && opts.SSL {
		// Any name is offered; HTTP/2 is spoken when the server picks
		// h2, HTTP/1.1 otherwise, as HAProxy falls back to its mode's
		// mux for a protocol it has none for.
		for _, proto := range opts.ALPN {
			alpnH2 = alpnH2 || proto == "h2"
			alpnH1 = alpnH1 || proto == "http/1.1"
		}
	}
	t, err := ssl.LoadServerConfig(opts, g)
	var lim *ssl.Limitation
	if errors.As(err, &lim) && lim.Keyword == "ssl-max-ver" && lim.Value == "SSLv3" || err != nil && err.Error() == "all SSL/TLS versions are disabled" {
		// HAProxy's TLS library has no SSLv3 either.
		fail(s.Pos, bracketed+"'server %s/%s' : backend '%s': all SSL/TLS versions are disabled for server '%s'.", pname, s.Name, pname, s.Name)
		return nil
	}
	if err != nil {
		bad(err)
		return nil
	}
	// Checks too speak TLS 1.3 in the process' order.
	if t.TLS13 != nil {
		gr.wantTLS13(t.TLS13, s.Pos, fail)
	}
	if checkSSL {
		srv.Check.TLS = t.CheckConfig()
	}
	if stepSSL {
		srv.Check.StepTLS = t.CheckConfig()
	}
	if !opts.SSL {
		return nil
	}
	return &serverTLS{cfg: t, sni: sni, alpn: len(opts.ALPN) > 0, alpnH2: alpnH2, alpnH1: alpnH1}
}

// wantTLS13 takes the TLS 1.3 suite order a bind or server asks for. Go
// has one order per process: another one is refused.
func (g *Graph) wantTLS13(order []uint16, pos parser.Pos, fail func(parser.Pos, string, ...any)) {
	switch {
	case g.tls13Order == nil:
		g.tls13Order = order
	case !slices.Equal(g.tls13Order, order):
		fail(pos, "ciphersuites '%s' : Go's TLS 1.3 takes one suite order per process, and '%s' is another line's; it is not supported by the gohap runtime yet.",
			ssl.OrderName(order), ssl.OrderName(g.tls13Order))
	}
}

// TLS13Order is the TLS 1.3 suite order the graph's handshakes use.
func (g *Graph) TLS13Order() []uint16 {
	if g.tls13Order == nil {
		return ssl.OpenSSLTLS13Order
	}
	return g.tls13Order
}

// tlsServerConn is a TLS connection to a server as the engine sees it:
// the engine's end of a socket pair, the other end of which a bridge
// copies to and from the TLS connection. Addresses are the TCP
// connection's.
type tlsServerConn struct {
	*net.UnixConn
	tcp netConn
	tc  *tls.Conn
	// w writes to tc in records as tune.ssl.maxrecord bounds them.
	w net.Conn
	// sni is the name the connection was opened with; idle connections
	// are reused only for the same name.
	sni string
	// info is what the ssl_bc* fetches read.
	info *acl.TLSInfo
	// ssl counts the connection closed in the process' TLS figures.
	ssl *sslProcess
	// closing and flushed order Close and the end of the engine to
	// server copy: whichever comes last closes the TLS connection.
	closing, flushed atomic.Bool
	done             atomic.Int32
	// alert is the library code of an alert the server sent after the
	// handshake, before it closed.
	alert atomic.Uint32
}

func (c *tlsServerConn) RemoteAddr() net.Addr { return c.tcp.RemoteAddr() }
func (c *tlsServerConn) LocalAddr() net.Addr  { return c.tcp.LocalAddr() }

// Close closes the engine's end; the TLS connection closes once what the
// engine wrote has gone out.
func (c *tlsServerConn) Close() error {
	err := c.UnixConn.Close()
	c.closing.Store(true)
	if c.flushed.Load() {
		c.tc.Close()
	}
	return err
}

// connSNI is the SNI an engine connection to a server was opened with.
func connSNI(c netConn) string {
	switch t := c.(type) {
	case *tlsServerConn:
		return t.sni
	case *h2VConn:
		return t.hc.sni
	}
	return ""
}

// sameSNI tells whether an idle connection fits a request that needs sni.
func sameSNI(c netConn, sni []byte) bool {
	return connSNI(c) == string(sni)
}

// backTLS is the TLS layer of an engine connection to a server, nil for
// a cleartext one.
func backTLS(c netConn) *acl.TLSInfo {
	switch t := c.(type) {
	case *tlsServerConn:
		return t.info
	case *h2VConn:
		return t.hc.info
	}
	return nil
}

// tcpOf is the TCP connection under an engine connection to a server.
func tcpOf(c netConn) *net.TCPConn {
	switch t := c.(type) {
	case *net.TCPConn:
		return t
	case *cliConn:
		return t.TCPConn
	case *tlsServerConn:
		tc, _ := t.tcp.(*net.TCPConn)
		return tc
	}
	return nil
}

// evalSNI evaluates the server's "sni" expression on the request into
// the session's buffer; nil when it yields nothing.
func (s *session) evalSNI(be *Backend, srv *backend.Server) []byte {
	t := be.tls.get(srv)
	if t == nil || t.sni == nil {
		return nil
	}
	b, ok := t.sni.Append(s.sniBuf[:0], &s.txn)
	if !ok {
		return nil
	}
	s.sniBuf = b
	return b
}

// startTLS performs the TLS handshake on a new server connection within
// what is left of the connect timeout, then bridges it to a socket pair.
// With keys, it keeps the handshake's randoms and TLS 1.2 master secret
// (ssl_bc_client_random, ssl_bc_server_random, ssl_bc_session_key).
func startTLS(c netConn, t *serverTLS, sni []byte, deadline time.Time, cnt [2]*trafficCounters, g *Graph) (netConn, error) {
	p := g.sslCounters()
	tc, k, err := handshakeTLS(c, t, sni, deadline, nil, cnt, p, g.needs.BackKeys, g.needs.BackFinished)
	if err != nil {
		return nil, err
	}
	return bridgeTLS(c, tc, string(sni), p, k, g)
}

// handshakeTLS runs the TLS handshake of a new server connection,
// offering alpn instead of the server's ALPN when set, and counts it on
// the server and its backend (cnt).
func handshakeTLS(c netConn, t *serverTLS, sni []byte, deadline time.Time, alpn []string, cnt [2]*trafficCounters, p *sslProcess, keys, finished bool) (*tls.Conn, *acl.TLSKeys, error) {
	cfg := t.cfg.Config(string(sni))
	if alpn != nil {
		cfg = cfg.Clone()
		cfg.NextProtos = alpn
	}
	// The records go through rawSock when c is one of net's sockets.
	var conn net.Conn = newRawSock(c)
	var kt *ssl.KeyTap
	if keys {
		kt = ssl.NewKeyTap(conn, false, false, finished)
		conn, cfg = kt, kt.Config(cfg)
	}
	tc := tls.Client(conn, cfg)
	if !deadline.IsZero() {
		c.SetDeadline(deadline)
	}
	p.Open()
	err := tc.Handshake()
	resumed := err == nil && tc.ConnectionState().DidResume
	countHandshake(resumed, err, cnt[0], cnt[1])
	p.handshake(false, resumed, err)
	if err != nil {
		p.Close()
		setLinger0(c)
		c.Close()
		return nil, nil, serverTLSFailure(tc, cfg.MaxVersion, err)
	}
	c.SetDeadline(time.Time{})
	if kt != nil {
		cs := tc.ConnectionState()
		return tc, kt.Keys(&cs), nil
	}
	return tc, nil, nil
}

// tlsFailure is a failed handshake with a server, with what bc_err and
// the ssl_bc* fetches read of it.
type tlsFailure struct {
	err  error
	code uint8
	info *acl.TLSInfo
}

func (f *tlsFailure) Error() string { return f.err.Error() }
func (f *tlsFailure) Unwrap() error { return f.err }

// fatalAlert records on the stream a server connection that ended with
// an alert after its handshake: HAProxy's CO_ERR_SSL_FATAL.
func (s *session) fatalAlert() {
	tc, ok := s.sv.c.(*tlsServerConn)
	if !ok {
		return
	}
	if code := tc.alert.Load(); code != 0 {
		info := *tc.info
		info.Err, info.ErrText = code, ssl.Failure{Code: code}.Text()
		s.txn.BackErr, s.txn.BackTLS = acl.ConnErrSSLFatal, &info
	}
}

// serverTLSFailure describes a failed handshake; before the server
// chose a version, OpenSSL shows the highest the client offered (max).
func serverTLSFailure(tc *tls.Conn, max uint16, err error) error {
	f := ssl.ServerFailure(err)
	cs := tc.ConnectionState()
	if cs.Version == 0 {
		cs.Version = max
	}
	info := &acl.TLSInfo{SNI: cs.ServerName, Err: f.Code, ErrText: f.Text()}
	info.Protocol, info.Cipher, info.Peer = ssl.FailedState(cs, f, 0)
	return &tlsFailure{err: err, code: f.ConnErr, info: info}
}

// serverTLSInfo is what the ssl_bc* fetches read of a server connection.
func serverTLSInfo(tc *tls.Conn, keys *acl.TLSKeys) *acl.TLSInfo {
	cs := tc.ConnectionState()
	ci := ssl.NewConnInfo(cs)
	return &acl.TLSInfo{Protocol: ci.Protocol, Cipher: ci.Cipher, SNI: ci.SNI, ALPN: ci.ALPN,
		SessionReused: ci.SessionReused, UseKeysize: ci.UseKeysize, AlgKeysize: ci.AlgKeysize,
		Peer: cs.PeerCertificates, Keys: keys}
}

// bridgeTLS bridges an established TLS connection to a socket pair.
func bridgeTLS(c netConn, tc *tls.Conn, sni string, p *sslProcess, keys *acl.TLSKeys, g *Graph) (netConn, error) {
	a, b, err := socketPair()
	if err != nil {
		c.Close()
		p.Close()
		return nil, err
	}
	sc := &tlsServerConn{UnixConn: a, tcp: c, tc: tc, w: g.newRecordCap(tc, false), sni: sni, info: serverTLSInfo(tc, keys), ssl: p}
	go sc.toServer(b)
	go sc.fromServer(b)
	return sc, nil
}

// toServer copies what the engine writes to the TLS connection. The
// engine's end of stream is the server's: a close_notify after a
// shutdown, a close after a close.
func (c *tlsServerConn) toServer(b *net.UnixConn) {
	// One TLS record's worth: the most a record carries.
	io.CopyBuffer(c.w, b, make([]byte, 16<<10))
	c.flushed.Store(true)
	if c.closing.Load() {
		c.tc.Close()
	} else {
		c.tc.CloseWrite()
	}
	c.finish(b)
}

// fromServer copies what the server sends to the engine, then ends the
// engine's stream.
func (c *tlsServerConn) fromServer(b *net.UnixConn) {
	_, err := io.CopyBuffer(b, c.tc, make([]byte, 16<<10))
	if code := ssl.AlertCode(err); code != 0 {
		c.alert.Store(code)
	}
	b.CloseWrite()
	c.finish(b)
}

// finish releases the bridge's end and the TLS connection once both
// copies are over.
func (c *tlsServerConn) finish(b *net.UnixConn) {
	if c.done.Add(1) == 2 {
		b.Close()
		c.tc.Close()
		c.ssl.Close()
	}
}
