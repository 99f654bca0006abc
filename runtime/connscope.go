package runtime

import (
	"net/netip"
	"sync"

	"github.com/gohap/gohap/acl"
)

// connScope is what a client connection's tcp-request connection and
// session rules leave to the streams that run on it as sessions of their
// own: those of an HTTP/2 connection, and the one session of an HTTP/1
// connection over TLS, whose rules ran before the handshake. It holds
// the addresses the rules and the PROXY header set, the sess variables
// and the counters tracked for the connection's life. HTTP/2 streams
// share the variables (under mu) and the counters; HAProxy keeps both
// in the session, one per connection.
type connScope struct {
	src, dst, connSrc, connDst netip.AddrPort
	pps                        ppState
	mu                         sync.Mutex
	vars                       *acl.Vars
	// track is the tracked counters, nil when none; own holds them when
	// the scope does (release ends them), else they are a session's.
	track *acl.TrackSet
	own   acl.TrackSet
	store acl.Vars
	// counted: the scope counts its HTTP/2 connection (countConn).
	counted bool
}

// ruleSession runs a TLS or HTTP/2 bind's tcp-request connection rules
// on the socket, before any PROXY header or handshake, as HAProxy runs
// them at accept. It reports false when they rejected the connection;
// the session is then gone, its tracking ended.
func (e *Engine) ruleSession(l *listener, c netConn, src, dst netip.AddrPort) (*session, bool) {
	s := newSession(e, l, c)
	s.linkTxn()
	s.txn.Src, s.txn.Dst = src, dst
	if s.runTCPRules(s.fe.tcp.conn, nil, false, nil) == tcpReject {
		s.dropRules()
		return nil, false
	}
	return s, true
}

// sessRules runs the tcp-request session rules once the connection's
// headers and handshake are in; false when they rejected it, the
// session then gone.
func (s *session) sessRules(src, dst netip.AddrPort, header bool, info *acl.TLSInfo) bool {
	if header {
		s.txn.Src, s.txn.Dst = src, dst
	}
	s.tls, s.txn.TLS = info, info
	if s.runTCPRules(s.fe.tcp.sess, nil, false, nil) == tcpReject {
		s.dropRules()
		return false
	}
	return true
}

// dropRules ends a rule session that will serve no stream.
func (s *session) dropRules() {
	s.releaseSessTrack()
	s.recycle()
}

// newConnScope takes over what the rule session s (nil without rules)
// left, and ends s.
func newConnScope(s *session, src, dst netip.AddrPort, pps *ppState) *connScope {
	sc := &connScope{src: src, dst: dst, pps: *pps}
	sc.vars = &sc.store
	if s != nil {
		sc.src, sc.dst, sc.connSrc, sc.connDst = s.txn.Src, s.txn.Dst, s.txn.ConnSrc, s.txn.ConnDst
		// The variables move, their counts with them.
		sc.store, s.vars = s.vars.Clone(), acl.Vars{}
		if s.txn.SessTrack != nil {
			sc.own, s.stk.sess, s.txn.SessTrack = s.stk.sess, acl.TrackSet{}, nil
			sc.track = &sc.own
		}
		s.recycle()
	}
	return sc
}

// borrowScope is the scope of an HTTP/2 connection that s, a session of
// a plain bind, upgraded to (h2c): its streams share its variables and
// counters, which s keeps and ends once the connection is over.
func (s *session) borrowScope() *connScope {
	sc := &connScope{src: s.txn.Src, dst: s.txn.Dst, connSrc: s.txn.ConnSrc, connDst: s.txn.ConnDst, pps: s.pps}
	sc.vars, sc.track = &s.vars, s.txn.SessTrack
	return sc
}

// end ends an HTTP/2 connection's scope: its counters, its count.
func (sc *connScope) end(e *Engine, fe *Frontend) {
	if sc == nil {
		return
	}
	if sc.vars == &sc.store {
		sc.mu.Lock()
		acl.ReleaseSessVars(&sc.store, &e.procVars, e.varLimits)
		sc.mu.Unlock()
	}
	if sc.counted {
		sc.counted = false
		e.uncountConn(fe)
	}
	sc.release()
}

// release ends the counters the scope holds, at the connection's end.
func (sc *connScope) release() {
	if sc != nil && sc.track == &sc.own {
		sc.own.Release()
		sc.track = nil
	}
}

// adoptScope starts the session from its connection's scope instead of
// running the connection's rules: an HTTP/2 stream shares the variables
// and counters, the one session of an HTTP/1 connection takes them.
func (s *session) adoptScope() {
	sc := s.scope
	s.txn.Src, s.txn.Dst, s.txn.ConnSrc, s.txn.ConnDst = sc.src, sc.dst, sc.connSrc, sc.connDst
	s.pps = sc.pps
	if s.h2Stream {
		s.txn.Sess, s.txn.SessMu = sc.vars, &sc.mu
		s.txn.SessTrack = sc.track
		return
	}
	s.vars, sc.store = sc.store, acl.Vars{}
	if sc.track != nil {
		s.stk.sess, s.txn.SessTrack = sc.own, &s.stk.sess
		sc.own, sc.track = acl.TrackSet{}, nil
	}
	s.scope = nil
}
